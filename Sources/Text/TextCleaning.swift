import Foundation

/// The clean-up CLIP's reference tokenizer runs before splitting text:
/// `whitespace_clean(basic_clean(text)).lower()`, where `basic_clean` is
/// `ftfy.fix_text`, then `html.unescape` twice, then `strip()`.
///
/// Everything works on Unicode scalars, as Python's `str` does; Swift's
/// `Character` and `String ==` would merge canonically equivalent text and
/// give different tokens.
enum CLIPTextCleaning {
    /// The reference's full clean-up, ready for pre-tokenising.
    static func clean(_ text: String) -> [Unicode.Scalar] {
        var scalars = Array(text.unicodeScalars)
        scalars = FixText.fixText(scalars)
        scalars = HTMLUnescape.unescape(HTMLUnescape.unescape(scalars))
        scalars = PythonText.strip(scalars)
        scalars = collapseWhitespace(scalars)
        scalars = PythonText.strip(scalars)
        return PythonText.lower(scalars)
    }

    /// `regex.sub(r'\s+', ' ', text)`: the `regex` module's `\s` is the
    /// Unicode White_Space property.
    static func collapseWhitespace(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(scalars.count)
        var inRun = false
        for scalar in scalars {
            if scalar.properties.isWhitespace {
                if !inRun { out.append(" ") }
                inRun = true
            } else {
                out.append(scalar)
                inRun = false
            }
        }
        return out
    }
}

/// Python `str` behaviour the reference relies on.
enum PythonText {
    /// `str.isspace()`: Unicode White_Space plus the information separators
    /// U+001C...U+001F, which Python counts as whitespace and `regex` does not.
    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value)
    }

    /// `str.strip()` with no argument.
    static func strip(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard let first = scalars.firstIndex(where: { !isSpace($0) }),
              let last = scalars.lastIndex(where: { !isSpace($0) })
        else { return [] }
        return Array(scalars[first...last])
    }

    /// `str.lower()`: full lowercase mappings (so U+0130 becomes "i̇"), and
    /// capital sigma becomes final sigma where Unicode's Final_Sigma context
    /// holds, as CPython does. Swift's `lowercased()` skips the sigma rule.
    static func lower(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(scalars.count)
        for (index, scalar) in scalars.enumerated() {
            if scalar.value == 0x3A3 {
                out.append(isFinalSigma(at: index, in: scalars) ? "\u{3C2}" : "\u{3C3}")
            } else if scalar.isASCII {
                out.append(Unicode.Scalar(UInt8(ascii: scalar).lowercasedASCII))
            } else {
                out.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return out
    }

    /// CPython's `handle_capital_sigma`: a cased letter before (skipping
    /// case-ignorable ones) and no cased letter after.
    private static func isFinalSigma(at index: Int, in scalars: [Unicode.Scalar]) -> Bool {
        var before = index - 1
        while before >= 0 && scalars[before].properties.isCaseIgnorable { before -= 1 }
        guard before >= 0 && scalars[before].properties.isCased else { return false }
        var after = index + 1
        while after < scalars.count && scalars[after].properties.isCaseIgnorable { after += 1 }
        return after == scalars.count || !scalars[after].properties.isCased
    }

    /// Unicode NFC, as `unicodedata.normalize("NFC", text)`.
    static func nfc(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        // Pure ASCII is already NFC; skipping Foundation keeps the common case cheap.
        if scalars.allSatisfy(\.isASCII) { return scalars }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return Array(String(view).precomposedStringWithCanonicalMapping.unicodeScalars)
    }
}

extension UInt8 {
    fileprivate var lowercasedASCII: UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self) ? self + 32 : self
    }
}

extension Unicode.Scalar {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
    var isASCIIHexDigit: Bool {
        isASCIIDigit || ("a"..."f").contains(self) || ("A"..."F").contains(self)
    }
    var isASCIIAlphanumeric: Bool {
        isASCIIDigit || ("a"..."z").contains(self) || ("A"..."Z").contains(self)
    }
}

/// Parses the generated tables: lines of "key<TAB>hex hex ...".
func parseScalarTable(_ lines: String) -> [String: [Unicode.Scalar]] {
    var table: [String: [Unicode.Scalar]] = [:]
    for line in lines.split(separator: "\n") {
        let parts = line.split(separator: "\t")
        guard parts.count == 2 else { continue }
        let scalars = parts[1].split(separator: " ").compactMap { UInt32($0, radix: 16).flatMap(Unicode.Scalar.init) }
        table[String(parts[0])] = scalars
    }
    return table
}
