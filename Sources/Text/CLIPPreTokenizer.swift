/// CLIP's pre-tokenising pattern, applied as `regex.findall` with
/// IGNORECASE to cleaned, lower-cased text:
///
///     <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
///
/// At each position the first alternative that matches wins; positions
/// where none matches (whitespace) are skipped.
enum CLIPPreTokenizer {
    static let startOfTextLiteral = Array("<|startoftext|>".unicodeScalars)
    static let endOfTextLiteral = Array("<|endoftext|>".unicodeScalars)
    private static let contractions: [[Unicode.Scalar]] = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"].map {
        Array($0.unicodeScalars)
    }

    static func split(_ text: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
        var tokens: [[Unicode.Scalar]] = []
        var index = 0
        while index < text.count {
            if let length = literalMatch(in: text, at: index) {
                tokens.append(Array(text[index..<(index + length)]))
                index += length
                continue
            }
            let scalar = text[index]
            var end = index + 1
            switch characterClass(scalar) {
            case .letter:
                while end < text.count && characterClass(text[end]) == .letter { end += 1 }
            case .number:
                break
            case .other:
                while end < text.count && characterClass(text[end]) == .other { end += 1 }
            case .none:
                index += 1
                continue
            }
            tokens.append(Array(text[index..<end]))
            index = end
        }
        return tokens
    }

    /// Length of the special-token or contraction alternative matching at
    /// `index`, tried in the pattern's order.
    private static func literalMatch(in text: [Unicode.Scalar], at index: Int) -> Int? {
        let first = text[index]
        guard first == "<" || first == "'" else { return nil }
        for literal in [startOfTextLiteral, endOfTextLiteral] + contractions
        where matchesIgnoringCase(literal, in: text, at: index) {
            return literal.count
        }
        return nil
    }

    private static func matchesIgnoringCase(_ literal: [Unicode.Scalar], in text: [Unicode.Scalar], at index: Int) -> Bool {
        guard index + literal.count <= text.count else { return false }
        for (offset, expected) in literal.enumerated() {
            let actual = text[index + offset]
            if actual == expected { continue }
            // The pattern's lower-case letters also match their upper-case
            // forms and these case-fold equivalents (LONG S, KELVIN SIGN).
            // Upper-case ASCII cannot occur after lower-casing.
            switch (expected, actual.value) {
            case ("s", 0x17F), ("k", 0x212A): continue
            default: return false
            }
        }
        return true
    }

    enum CharacterClass { case letter, number, other, none }

    /// Which of `[\p{L}]`, `[\p{N}]`, `[^\s\p{L}\p{N}]` a scalar falls in.
    static func characterClass(_ scalar: Unicode.Scalar) -> CharacterClass {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            if scalar.properties.isWhitespace { return .none }
            // COMBINING GREEK YPOGEGRAMMENI: with IGNORECASE, `regex` lets its
            // case partner (a letter) keep it out of the negated class.
            if scalar.value == 0x345 { return .none }
            return .other
        }
    }
}
