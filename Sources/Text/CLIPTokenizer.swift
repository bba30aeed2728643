import Foundation

/// CLIP's byte-level BPE tokenizer, token for token the same as the
/// reference `SimpleTokenizer` of OpenAI CLIP and open_clip.
///
/// Text is cleaned as the reference does (ftfy's `fix_text`, HTML
/// unescaping twice, whitespace collapsed, lower-cased; see `FixText` for
/// the one ftfy step left out), split by CLIP's pre-tokenising pattern,
/// mapped byte by byte onto printable characters and merged with the BPE
/// ranks of `bpe_simple_vocab_16e6.txt`.
package struct CLIPTokenizer: Sendable {
    /// `<|startoftext|>`.
    package static let startOfText: Int32 = 49406
    /// `<|endoftext|>`; the text tower reads its features at this token.
    package static let endOfText: Int32 = 49407
    /// The sequence length every released CLIP model was trained with.
    package static let defaultContextLength = 77
    /// The reference uses the first 49152 - 256 - 2 merges of the file.
    static let mergeCount = 49152 - 256 - 2

    /// Vocabulary id of each byte's printable stand-in, inside a word and at its end.
    private let byteSymbol: [Int32]
    private let byteSymbolAtWordEnd: [Int32]
    /// For a pair of symbol ids: the merge's rank and the id of the merged symbol.
    private let merges: [UInt64: (rank: Int32, merged: Int32)]

    /// Loads the merges file, plain or gzip-compressed (as CLIP ships it).
    package init(mergesFile: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: mergesFile)
        } catch {
            throw CLIPTokenizerError.unreadable(mergesFile.path, reason: error.localizedDescription)
        }
        let text: Data
        if data.starts(with: [0x1F, 0x8B]) {
            do {
                text = try Gzip.decompress(data)
            } catch {
                throw CLIPTokenizerError.unreadable(mergesFile.path, reason: "\(error)")
            }
        } else {
            text = data
        }
        try self.init(mergesText: String(decoding: text, as: UTF8.self), source: mergesFile.path)
    }

    init(mergesText: String, source: String) throws {
        // bytes_to_unicode(): printable Latin-1 bytes stand for themselves,
        // the rest are moved to U+0100 and up, in byte order.
        var printable = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
        var stands = printable
        var shifted = 0
        for byte in 0..<256 where !printable.contains(byte) {
            printable.append(byte)
            stands.append(256 + shifted)
            shifted += 1
        }
        // The vocabulary: the 256 stand-ins, the same with "</w>", one entry
        // per merge, then the two special tokens. Later duplicates win, as in
        // the reference's dict(zip(vocab, range(len(vocab)))).
        var vocabulary: [String] = stands.map { String(Character(Unicode.Scalar(UInt32($0))!)) }
        vocabulary += vocabulary.map { $0 + "</w>" }

        // Python's split('\n') by scalar: a Character split would not cut "\r\n".
        let lines = mergesText.unicodeScalars.split(
            separator: "\n", maxSplits: Self.mergeCount + 1, omittingEmptySubsequences: false)
        guard lines.count > Self.mergeCount else {
            throw CLIPTokenizerError.malformed(source, reason: "\(lines.count) lines, expected a header and \(Self.mergeCount) merges")
        }
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(Self.mergeCount)
        for (offset, line) in lines[1...Self.mergeCount].enumerated() {
            // Python's str.split(): runs of whitespace, by scalar.
            let parts = line.split(whereSeparator: PythonText.isSpace).map { String($0) }
            guard parts.count == 2 else {
                throw CLIPTokenizerError.malformed(source, reason: "line \(offset + 2) is not two symbols: \(String(line).prefix(40))")
            }
            pairs.append((parts[0], parts[1]))
            vocabulary.append(parts[0] + parts[1])
        }
        vocabulary += ["<|startoftext|>", "<|endoftext|>"]
        guard vocabulary.count == Int(Self.endOfText) + 1 else {
            throw CLIPTokenizerError.malformed(source, reason: "vocabulary of \(vocabulary.count) entries")
        }
        var ids: [String: Int32] = [:]
        for (id, symbol) in vocabulary.enumerated() { ids[symbol] = Int32(id) }

        var byteSymbol = [Int32](repeating: 0, count: 256)
        var byteSymbolAtWordEnd = [Int32](repeating: 0, count: 256)
        for (position, byte) in printable.enumerated() {
            byteSymbol[byte] = ids[vocabulary[position]] ?? Int32(position)
            byteSymbolAtWordEnd[byte] = ids[vocabulary[256 + position]] ?? Int32(256 + position)
        }
        var merges: [UInt64: (rank: Int32, merged: Int32)] = [:]
        merges.reserveCapacity(pairs.count)
        for (rank, (first, second)) in pairs.enumerated() {
            guard let a = ids[first], let b = ids[second], let merged = ids[first + second] else {
                throw CLIPTokenizerError.malformed(source, reason: "merge \(rank + 1) uses an unknown symbol: \(first) \(second)")
            }
            merges[Self.key(a, b)] = (Int32(rank), merged)
        }
        self.byteSymbol = byteSymbol
        self.byteSymbolAtWordEnd = byteSymbolAtWordEnd
        self.merges = merges
    }

    /// Token ids of `text` between the start and end tokens, unpadded and of
    /// any length (the reference's `[sot] + encode(text) + [eot]`).
    package func encode(_ text: String) -> [Int32] {
        var ids: [Int32] = [Self.startOfText]
        for word in CLIPPreTokenizer.split(CLIPTextCleaning.clean(text)) {
            ids += bytePairEncode(word)
        }
        ids.append(Self.endOfText)
        return ids
    }

    /// Exactly `contextLength` ids: `encode(text)` cut to length with the
    /// end token kept last (open_clip's truncation), then zero-padded.
    package func tokenize(_ text: String, contextLength: Int = defaultContextLength) -> [Int32] {
        precondition(contextLength >= 2, "a context must hold the start and end tokens")
        var ids = encode(text)
        if ids.count > contextLength {
            ids.removeLast(ids.count - contextLength)
            ids[contextLength - 1] = Self.endOfText
        }
        ids += [Int32](repeating: 0, count: contextLength - ids.count)
        return ids
    }

    // MARK: - Byte-pair encoding of one pre-token

    private static func key(_ first: Int32, _ second: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: first)) << 32 | UInt64(UInt32(bitPattern: second))
    }

    private func bytePairEncode(_ word: [Unicode.Scalar]) -> [Int32] {
        // The reference maps these two pre-tokens straight to their ids.
        if word == CLIPPreTokenizer.startOfTextLiteral { return [Self.startOfText] }
        if word == CLIPPreTokenizer.endOfTextLiteral { return [Self.endOfText] }
        var bytes: [UInt8] = []
        for scalar in word { bytes += Array(String(scalar).utf8) }
        guard let lastByte = bytes.last else { return [] }
        var symbols = bytes.dropLast().map { byteSymbol[Int($0)] }
        symbols.append(byteSymbolAtWordEnd[Int(lastByte)])

        // Repeatedly merge the lowest-ranked adjacent pair, every occurrence
        // left to right, as `SimpleTokenizer.bpe` does.
        while symbols.count > 1 {
            var best: (rank: Int32, first: Int32, second: Int32, merged: Int32)?
            for index in 0..<(symbols.count - 1) {
                if let merge = merges[Self.key(symbols[index], symbols[index + 1])],
                   best == nil || merge.rank < best!.rank {
                    best = (merge.rank, symbols[index], symbols[index + 1], merge.merged)
                }
            }
            guard let best else { break }
            var merged: [Int32] = []
            merged.reserveCapacity(symbols.count)
            var index = 0
            while index < symbols.count {
                if index < symbols.count - 1, symbols[index] == best.first, symbols[index + 1] == best.second {
                    merged.append(best.merged)
                    index += 2
                } else {
                    merged.append(symbols[index])
                    index += 1
                }
            }
            symbols = merged
        }
        return symbols
    }
}

/// Why a merges file could not be used, in one line.
package enum CLIPTokenizerError: Error, CustomStringConvertible {
    case unreadable(String, reason: String)
    case malformed(String, reason: String)

    package var description: String {
        switch self {
        case .unreadable(let path, let reason): "CLIP merges file \(path): cannot read it: \(reason)"
        case .malformed(let path, let reason): "CLIP merges file \(path): not a CLIP BPE merges file: \(reason)"
        }
    }
}
