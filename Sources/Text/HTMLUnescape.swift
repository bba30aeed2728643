/// Python's `html.unescape`, scalar for scalar: named references from the
/// HTML5 table (the longest known prefix wins when there is no ';'),
/// decimal and hex references with the HTML5 replacements for invalid
/// numbers.
enum HTMLUnescape {
    /// Entity names are ASCII; the table is keyed by their exact spelling.
    static let html5: [String: [Unicode.Scalar]] = parseScalarTable(html5EntityLines)

    /// The text of an HTML5 entity name (without '&'), if it is one.
    static func entity(_ name: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar]? {
        // Non-ASCII names are never entities; checking first also keeps
        // String's canonical equivalence (KELVIN SIGN == "K") out of the lookup.
        guard name.allSatisfy(\.isASCII) else { return nil }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: name)
        return html5[String(view)]
    }

    static func unescape(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard text.contains("&") else { return text }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            if text[index] == "&", let (replacement, end) = reference(in: text, at: index) {
                out.append(contentsOf: replacement)
                index = end
            } else {
                out.append(text[index])
                index += 1
            }
        }
        return out
    }

    /// Matches `&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)` at
    /// `start` and returns the replacement and the index after the match.
    private static func reference(in text: [Unicode.Scalar], at start: Int) -> ([Unicode.Scalar], Int)? {
        var index = start + 1
        guard index < text.count else { return nil }
        if text[index] == "#" {
            index += 1
            var radix: UInt32 = 10
            if index < text.count, text[index] == "x" || text[index] == "X" {
                radix = 16
                index += 1
            }
            let digitsStart = index
            while index < text.count,
                  radix == 16 ? text[index].isASCIIHexDigit : text[index].isASCIIDigit {
                index += 1
            }
            guard index > digitsStart else { return nil }
            let number = parseNumber(text[digitsStart..<index], radix: radix)
            if index < text.count, text[index] == ";" { index += 1 }
            return (numericReference(number), index)
        }
        let nameStart = index
        while index < text.count, index - nameStart < 32, !excludedFromName(text[index]) {
            index += 1
        }
        guard index > nameStart else { return nil }
        if index < text.count, text[index] == ";" { index += 1 }
        let name = text[nameStart..<index]
        if let value = entity(name) { return (value, index) }
        // The longest prefix of at least two characters that is an entity.
        var length = name.count - 1
        while length > 1 {
            let prefix = name.prefix(length)
            if let value = entity(prefix) {
                return (value + name.dropFirst(length), index)
            }
            length -= 1
        }
        return (["&"] + name, index)
    }

    private static func excludedFromName(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "\t", "\n", "\u{0C}", " ", "<", "&", "#", ";": true
        default: false
        }
    }

    /// Digits to a number, saturating above the Unicode range (Python's
    /// integers never overflow; anything that large decodes the same way).
    private static func parseNumber(_ digits: ArraySlice<Unicode.Scalar>, radix: UInt32) -> UInt32 {
        var value: UInt32 = 0
        for digit in digits {
            let d: UInt32 = switch digit {
            case "0"..."9": digit.value - 0x30
            case "a"..."f": digit.value - 0x61 + 10
            default: digit.value - 0x41 + 10
            }
            value = value * radix + d
            if value > 0x110000 { return 0x110000 }
        }
        return value
    }

    /// `html._replace_charref` for a number.
    static func numericReference(_ number: UInt32) -> [Unicode.Scalar] {
        if number == 0 { return ["\u{FFFD}"] }
        if number == 0x0D { return ["\r"] }
        if (0x80...0x9F).contains(number) { return [windows1252C1(number)] }
        if (0xD800...0xDFFF).contains(number) || number > 0x10FFFF { return ["\u{FFFD}"] }
        if isInvalidCodePoint(number) { return [] }
        return Unicode.Scalar(number).map { [$0] } ?? ["\u{FFFD}"]
    }

    /// `html._invalid_codepoints`.
    private static func isInvalidCodePoint(_ number: UInt32) -> Bool {
        (0x1...0x8).contains(number) || number == 0xB || (0xE...0x1F).contains(number)
            || (0x7F...0x9F).contains(number) || (0xFDD0...0xFDEF).contains(number)
            || (number & 0xFFFE) == 0xFFFE
    }
}

/// What a C1 control (U+0080...U+009F) stands for in Windows-1252, with the
/// five unassigned bytes kept as they are. HTML5's numeric-reference table
/// and ftfy's "sloppy-windows-1252" agree on this (the table generator checks).
func windows1252C1(_ value: UInt32) -> Unicode.Scalar {
    let table: [UInt32] = [
        0x20AC, 0x81, 0x201A, 0x192, 0x201E, 0x2026, 0x2020, 0x2021,
        0x2C6, 0x2030, 0x160, 0x2039, 0x152, 0x8D, 0x17D, 0x8F,
        0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
        0x2DC, 0x2122, 0x161, 0x203A, 0x153, 0x9D, 0x17E, 0x178,
    ]
    return Unicode.Scalar(table[Int(value - 0x80)]) ?? "\u{FFFD}"
}
