import Foundation

/// BERT's uncased WordPiece tokenizer, id for id as Hugging Face `tokenizers`
/// runs a `BertNormalizer` + `BertPreTokenizer` + `WordPiece` tokenizer.json
/// (all-MiniLM-L6-v2's and most uncased BERT sentence encoders'):
///
/// 1. special-token strings typed in the text (`[CLS]`, `[SEP]`, ...; exact,
///    case-sensitive, leftmost-longest) are cut out first and become their ids;
/// 2. each remaining piece is normalised character by character: control and
///    format characters, U+FFFD and private-use characters removed,
///    whitespace made a space, CJK ideographs set apart, NFD with the
///    nonspacing marks (accents) removed, lower-cased;
/// 3. split on spaces, every punctuation character a word of its own;
/// 4. each word becomes the longest vocabulary entries that cover it from the
///    left, continuations prefixed `##`; a word that cannot be covered, or
///    longer than 100 characters, is one `[UNK]`;
/// 5. `[CLS]` first and `[SEP]` last; a cut to a maximum length keeps `[SEP]`.
///
/// The character classes come from the reference itself, code point by code
/// point (`WordPieceTables.generated.swift`, made by
/// `Scripts/make-wordpiece-tables.py`), because its Unicode tables are not
/// Swift's.
package struct WordPieceTokenizer: Sendable {
    /// The specials BERT's vocabularies carry, in vocab.txt's usual order.
    package static let bertSpecialTokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    /// Words longer than this (in characters) are `[UNK]`, as in the reference.
    package static let maxCharactersPerWord = 100

    package let paddingToken: Int32
    package let unknownToken: Int32
    package let classifierToken: Int32
    package let separatorToken: Int32
    /// Vocabulary entries by their UTF-8 bytes: a String key would merge
    /// canonically equivalent spellings that the reference keeps apart.
    private let vocabulary: [[UInt8]: Int32]
    /// Special-token strings with their ids, longest first.
    private let specials: [(text: [Unicode.Scalar], id: Int32)]

    /// Reads a vocab.txt (one entry per line; the line number is the id).
    /// - Parameter specialTokens: strings never split when typed in a text;
    ///   `[PAD]`, `[UNK]`, `[CLS]` and `[SEP]` must be among the entries.
    package init(vocabularyFile: URL, specialTokens: [String] = WordPieceTokenizer.bertSpecialTokens) throws {
        let data: Data
        do {
            data = try Data(contentsOf: vocabularyFile)
        } catch {
            throw WordPieceError.unreadable(vocabularyFile.path, reason: error.localizedDescription)
        }
        try self.init(vocabularyText: String(decoding: data, as: UTF8.self), specialTokens: specialTokens,
                      source: vocabularyFile.path)
    }

    package init(vocabularyText: String, specialTokens: [String] = WordPieceTokenizer.bertSpecialTokens,
                source: String = "vocabulary") throws {
        var vocabulary: [[UInt8]: Int32] = [:]
        // Lines as the reference reads vocab.txt: the line number is the id,
        // trailing whitespace is dropped, a later duplicate wins.
        var lines = vocabularyText.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        for (id, line) in lines.enumerated() {
            var bytes = Array(line)
            while let last = bytes.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\r") || last == UInt8(ascii: "\t") {
                bytes.removeLast()
            }
            vocabulary[bytes] = Int32(id)
        }
        func lookup(_ token: String) throws -> Int32 {
            guard let id = vocabulary[Array(token.utf8)] else {
                throw WordPieceError.malformed(source, reason: "no \(token) entry")
            }
            return id
        }
        paddingToken = try lookup("[PAD]")
        unknownToken = try lookup("[UNK]")
        classifierToken = try lookup("[CLS]")
        separatorToken = try lookup("[SEP]")
        specials = try specialTokens.map { (Array($0.unicodeScalars), try lookup($0)) }
            .sorted { $0.text.count > $1.text.count }
        self.vocabulary = vocabulary
    }

    /// `[CLS]`, the text's word pieces, `[SEP]`: the whole text, unpadded.
    package func encode(_ text: String) -> [Int32] {
        [classifierToken] + pieces(text) + [separatorToken]
    }

    /// As `encode`, cut to at most `maxLength` ids with `[SEP]` kept last
    /// (the reference's truncation to `max_length`).
    package func encode(_ text: String, maxLength: Int) -> [Int32] {
        let body = pieces(text)
        return [classifierToken] + body.prefix(max(0, maxLength - 2)) + [separatorToken]
    }

    /// The text's ids without `[CLS]` and `[SEP]`.
    package func pieces(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        var segment: [Unicode.Scalar] = []
        let scalars = Array(text.unicodeScalars)
        var index = 0
        while index < scalars.count {
            if let special = specials.first(where: { matches($0.text, in: scalars, at: index) }) {
                tokenize(segment, into: &ids)
                segment.removeAll(keepingCapacity: true)
                ids.append(special.id)
                index += special.text.count
            } else {
                segment.append(scalars[index])
                index += 1
            }
        }
        tokenize(segment, into: &ids)
        return ids
    }

    private func matches(_ token: [Unicode.Scalar], in scalars: [Unicode.Scalar], at index: Int) -> Bool {
        guard !token.isEmpty, index + token.count <= scalars.count else { return false }
        for offset in token.indices where scalars[index + offset] != token[offset] { return false }
        return true
    }

    /// Normalise, split into words, and append each word's pieces.
    private func tokenize(_ text: [Unicode.Scalar], into ids: inout [Int32]) {
        guard !text.isEmpty else { return }
        var word: [Unicode.Scalar] = []
        func flush() {
            if !word.isEmpty { wordPieces(word, into: &ids) }
            word.removeAll(keepingCapacity: true)
        }
        for scalar in WordPieceNormalizer.normalize(text) {
            if scalar == " " {
                flush()
            } else if WordPieceNormalizer.isPunctuation(scalar) {
                flush()
                wordPieces([scalar], into: &ids)
            } else {
                word.append(scalar)
            }
        }
        flush()
    }

    /// Greedy longest-match-first over the word's characters.
    private func wordPieces(_ word: [Unicode.Scalar], into ids: inout [Int32]) {
        guard word.count <= Self.maxCharactersPerWord else {
            ids.append(unknownToken)
            return
        }
        let utf8 = word.map { Array(String($0).utf8) }
        var found: [Int32] = []
        var start = 0
        while start < word.count {
            var end = word.count
            var match: Int32?
            while start < end {
                var key: [UInt8] = start > 0 ? [UInt8(ascii: "#"), UInt8(ascii: "#")] : []
                for bytes in utf8[start..<end] { key += bytes }
                if let id = vocabulary[key] {
                    match = id
                    break
                }
                end -= 1
            }
            guard let match else {
                ids.append(unknownToken)
                return
            }
            found.append(match)
            start = end
        }
        ids += found
    }
}

/// BertNormalizer and BertPreTokenizer's character classes, from the tables
/// generated from the reference.
enum WordPieceNormalizer {
    private static let removed = parseRanges(wordPieceRemovedRanges)
    private static let spaces = parseRanges(wordPieceSpaceRanges)
    private static let cjk = parseRanges(wordPieceCJKRanges)
    private static let punctuation = parseRanges(wordPiecePunctuationRanges)
    private static let mappings: [UInt32: [Unicode.Scalar]] = {
        var table: [UInt32: [Unicode.Scalar]] = [:]
        for (key, scalars) in parseScalarTable(wordPieceMappingLines) {
            if let value = UInt32(key, radix: 16) { table[value] = scalars }
        }
        return table
    }()

    /// The normalised text; words are then separated by U+0020 alone.
    static func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        for scalar in text {
            let value = scalar.value
            if value >= 0x61 && value <= 0x7A || value >= 0x30 && value <= 0x39 {
                out.append(scalar)  // the common case, unchanged
            } else if contains(removed, value) {
                continue
            } else if contains(spaces, value) {
                out.append(" ")
            } else {
                let mapped = mappings[value] ?? hangulDecomposition(value) ?? [scalar]
                if contains(cjk, value) {
                    out.append(" ")
                    out += mapped
                    out.append(" ")
                } else {
                    out += mapped
                }
            }
        }
        return out
    }

    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        contains(punctuation, scalar.value)
    }

    /// Unicode's algorithmic decomposition of a Hangul syllable into jamo.
    private static func hangulDecomposition(_ value: UInt32) -> [Unicode.Scalar]? {
        guard (0xAC00...0xD7A3).contains(value) else { return nil }
        let index = value - 0xAC00
        var jamo = [0x1100 + index / 588, 0x1161 + (index % 588) / 28]
        if index % 28 != 0 { jamo.append(0x11A7 + index % 28) }
        return jamo.compactMap(Unicode.Scalar.init)
    }

    private static func parseRanges(_ lines: String) -> [ClosedRange<UInt32>] {
        lines.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 2, let low = UInt32(parts[0], radix: 16), let high = UInt32(parts[1], radix: 16) else { return nil }
            return low...high
        }
    }

    /// Binary search over sorted, disjoint ranges.
    private static func contains(_ ranges: [ClosedRange<UInt32>], _ value: UInt32) -> Bool {
        var low = 0, high = ranges.count
        while low < high {
            let middle = (low + high) / 2
            if ranges[middle].upperBound < value {
                low = middle + 1
            } else if ranges[middle].lowerBound > value {
                high = middle
            } else {
                return true
            }
        }
        return false
    }
}

/// Why a WordPiece vocabulary could not be used, in one line.
package enum WordPieceError: Error, CustomStringConvertible {
    case unreadable(String, reason: String)
    case malformed(String, reason: String)

    package var description: String {
        switch self {
        case .unreadable(let path, let reason): "WordPiece vocabulary \(path): cannot read it: \(reason)"
        case .malformed(let path, let reason): "WordPiece vocabulary \(path): \(reason)"
        }
    }
}
