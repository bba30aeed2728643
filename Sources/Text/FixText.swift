/// `ftfy.fix_text` with its default configuration (ftfy 6.3.1, the version
/// `clip-anytorch` pulls in).
///
/// Like ftfy, the text is fixed line by line; each line goes through the
/// fixers in ftfy's order until nothing changes: HTML entities (only while no
/// line so far contained '<'), mojibake (`FixEncoding`), C1 controls as
/// Windows-1252, Latin ligatures, character width, curly quotes, line
/// breaks, terminal escapes, control characters, NFC. `fix_surrogates` has
/// nothing to do in Swift, whose strings cannot hold surrogates.
enum FixText {
    static func fixText(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        var unescapeHTML = true
        var start = 0
        while start < text.count {
            var end = start
            while end < text.count && text[end] != "\n" { end += 1 }
            if end < text.count { end += 1 }  // the line keeps its "\n"
            let segment = Array(text[start..<end])
            // ftfy's "auto": a '<' means real HTML, so entities stay from here on.
            if unescapeHTML && segment.contains("<") { unescapeHTML = false }
            out.append(contentsOf: fixSegment(segment, unescapeHTML: unescapeHTML))
            start = end
        }
        return out
    }

    static func fixSegment(_ segment: [Unicode.Scalar], unescapeHTML: Bool) -> [Unicode.Scalar] {
        var text = segment
        while true {
            let original = text
            if unescapeHTML { text = unescapeEntities(text) }
            text = FixEncoding.fixEncoding(text)
            text = fixC1Controls(text)
            text = text.flatMap { latinLigatures[$0] ?? [$0] }
            text = text.flatMap { characterWidth[$0.value] ?? [$0] }
            text = uncurlQuotes(text)
            text = fixLineBreaks(text)
            text = removeTerminalEscapes(text)
            text.removeAll(where: isUnwantedControl)
            text = PythonText.nfc(text)
            if text == original { return text }
        }
    }

    // MARK: - The fixers

    /// ftfy's `unescape_html`: only `&name;` and `&#...;` forms of at most 24
    /// ASCII letters or digits; HTML5 names ending in ';' plus all-caps
    /// spellings, and numeric references unless they decode to a ';'.
    static func unescapeEntities(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard text.contains("&") else { return text }
        var out: [Unicode.Scalar] = []
        var index = 0
        while index < text.count {
            guard text[index] == "&" else {
                out.append(text[index])
                index += 1
                continue
            }
            var bodyStart = index + 1
            let numeric = bodyStart < text.count && text[bodyStart] == "#"
            if numeric { bodyStart += 1 }
            var bodyEnd = bodyStart
            while bodyEnd < text.count && text[bodyEnd].isASCIIAlphanumeric { bodyEnd += 1 }
            let length = bodyEnd - bodyStart
            guard (1...24).contains(length), bodyEnd < text.count, text[bodyEnd] == ";" else {
                out.append(text[index])
                index += 1
                continue
            }
            let match = Array(text[index...bodyEnd])
            out.append(contentsOf: entityReplacement(match, numeric: numeric))
            index = bodyEnd + 1
        }
        return out
    }

    private static func entityReplacement(_ match: [Unicode.Scalar], numeric: Bool) -> [Unicode.Scalar] {
        let name = match.dropFirst()
        if !numeric {
            if name.last == ";", let value = HTMLUnescape.entity(name) { return value }
            if let value = uppercaseEntities[String(String.UnicodeScalarView(name))] { return value }
            return match
        }
        let decoded = HTMLUnescape.unescape(match)
        return decoded.contains(";") ? match : decoded
    }

    /// C1 controls read as the Windows-1252 characters they most likely were.
    static func fixC1Controls(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        text.map { (0x80...0x9F).contains($0.value) ? windows1252C1($0.value) : $0 }
    }

    static func uncurlQuotes(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        text.map { scalar in
            switch scalar.value {
            case 0x2BC, 0x2018...0x201B: "'"
            case 0x201C...0x201F: "\""
            default: scalar
            }
        }
    }

    /// CRLF, CR, U+2028, U+2029 and U+0085 all become "\n".
    static func fixLineBreaks(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            switch text[index].value {
            case 0x0D:
                out.append("\n")
                if index + 1 < text.count && text[index + 1] == "\n" { index += 1 }
            case 0x2028, 0x2029, 0x85:
                out.append("\n")
            default:
                out.append(text[index])
            }
            index += 1
        }
        return out
    }

    /// Removes `ESC [ (digit|;)* letter`, where a digit is any Unicode
    /// decimal digit, as Python's `\d` is.
    static func removeTerminalEscapes(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard text.contains("\u{1B}") else { return text }
        var out: [Unicode.Scalar] = []
        var index = 0
        while index < text.count {
            if text[index] == "\u{1B}", index + 1 < text.count, text[index + 1] == "[" {
                var end = index + 2
                while end < text.count,
                      text[end] == ";" || text[end].properties.generalCategory == .decimalNumber {
                    end += 1
                }
                if end < text.count, ("a"..."z").contains(text[end]) || ("A"..."Z").contains(text[end]) {
                    index = end + 1
                    continue
                }
            }
            out.append(text[index])
            index += 1
        }
        return out
    }

    /// ftfy's `remove_control_chars` set: C0 controls other than tab, line
    /// feed, form feed and carriage return; DEL; deprecated Arabic format
    /// controls; the BOM; interlinear annotation and object replacement.
    static func isUnwantedControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x08, 0x0B, 0x0E...0x1F, 0x7F, 0x206A...0x206F, 0xFEFF, 0xFFF9...0xFFFC: true
        default: false
        }
    }

    // MARK: - Tables

    static let latinLigatures: [Unicode.Scalar: [Unicode.Scalar]] = [
        "\u{132}": ["I", "J"], "\u{133}": ["i", "j"], "\u{149}": ["\u{2BC}", "n"],
        "\u{1F1}": ["D", "Z"], "\u{1F2}": ["D", "z"], "\u{1F3}": ["d", "z"],
        "\u{1C4}": ["D", "\u{17D}"], "\u{1C5}": ["D", "\u{17E}"], "\u{1C6}": ["d", "\u{17E}"],
        "\u{1C7}": ["L", "J"], "\u{1C8}": ["L", "j"], "\u{1C9}": ["l", "j"],
        "\u{1CA}": ["N", "J"], "\u{1CB}": ["N", "j"], "\u{1CC}": ["n", "j"],
        "\u{FB00}": ["f", "f"], "\u{FB01}": ["f", "i"], "\u{FB02}": ["f", "l"],
        "\u{FB03}": ["f", "f", "i"], "\u{FB04}": ["f", "f", "l"],
        "\u{FB05}": ["\u{17F}", "t"], "\u{FB06}": ["s", "t"],
    ]

    static let characterWidth: [UInt32: [Unicode.Scalar]] = {
        var table: [UInt32: [Unicode.Scalar]] = [:]
        for (key, value) in parseScalarTable(characterWidthLines) {
            if let code = UInt32(key, radix: 16) { table[code] = value }
        }
        return table
    }()

    static let uppercaseEntities: [String: [Unicode.Scalar]] = parseScalarTable(ftfyUppercaseEntityLines)
}
