import Foundation
import Testing
@testable import Text

/// all-MiniLM-L6-v2's vocab.txt in the minilm bundle Scripts/setup.sh makes
/// in `.deps/models/minilm`; nil when set-up has not run. (The Inference
/// tests find the same bundle by name, as the command does.)
enum MiniLMVocabulary {
    static let file: URL? = {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".deps/models/minilm/vocab.txt")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }()
    static let tokenizer: WordPieceTokenizer? = file.flatMap { try? WordPieceTokenizer(vocabularyFile: $0) }
}

/// Hugging Face tokenizers' ids, from Scripts/make-wordpiece-goldens.py.
struct WordPieceGoldens: Decodable, Sendable {
    struct Case: Decodable, Sendable, CustomTestStringConvertible {
        let kind: String
        let text: String
        let maxLength: Int
        let ids: [Int32]

        var testDescription: String {
            let escaped = text.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 ? String($0) : $0.escaped(asASCII: true) }.joined()
            return (escaped.count > 60 ? String(escaped.prefix(57)) + "..." : escaped) + " @\(maxLength)"
        }
    }
    let reference: String
    let cases: [Case]

    static let loaded: WordPieceGoldens? = {
        guard let url = Bundle.module.url(forResource: "wordpiece-goldens", withExtension: "json", subdirectory: "Fixtures"),
              let data = try? Data(contentsOf: url)
        else { return nil }
        return try? JSONDecoder().decode(WordPieceGoldens.self, from: data)
    }()
    static var hard: [Case] { (loaded?.cases ?? []).filter { $0.kind == "hard" } }
    static var random: [Case] { (loaded?.cases ?? []).filter { $0.kind == "random" } }
}

@Test func wordPieceGoldensLoad() throws {
    let file = try #require(WordPieceGoldens.loaded, "Fixtures/wordpiece-goldens.json is missing or unreadable")
    #expect(file.cases.filter { $0.kind == "hard" }.count >= 30)
    #expect(file.cases.filter { $0.kind == "random" }.count >= 500)
    #expect(file.reference.hasPrefix("tokenizers "))
}

@Suite(.enabled(if: MiniLMVocabulary.tokenizer != nil, "no .deps/models/minilm/vocab.txt: run Scripts/setup.sh"))
struct WordPieceTokenizerTests {
    @Test(arguments: WordPieceGoldens.hard)
    func matchesTheReferenceOnHardPrompts(_ golden: WordPieceGoldens.Case) throws {
        let tokenizer = try #require(MiniLMVocabulary.tokenizer)
        #expect(tokenizer.encode(golden.text, maxLength: golden.maxLength) == golden.ids)
    }

    @Test func matchesTheReferenceOnRandomMixes() throws {
        let tokenizer = try #require(MiniLMVocabulary.tokenizer)
        var mismatches: [String] = []
        for golden in WordPieceGoldens.random where tokenizer.encode(golden.text, maxLength: golden.maxLength) != golden.ids {
            mismatches.append(golden.testDescription)
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(WordPieceGoldens.random.count): \(mismatches.prefix(5))")
    }

    @Test func specialsAndUnknownWords() throws {
        let tokenizer = try #require(MiniLMVocabulary.tokenizer)
        #expect(tokenizer.encode("") == [tokenizer.classifierToken, tokenizer.separatorToken])
        #expect(tokenizer.classifierToken == 101 && tokenizer.separatorToken == 102 && tokenizer.unknownToken == 100)
        #expect(tokenizer.encode("[SEP]") == [101, 102, 102])
        #expect(tokenizer.encode(String(repeating: "a", count: 101)) == [101, 100, 102])
        // The cut keeps [SEP] last.
        let cut = tokenizer.encode("a photo of a dog on a wet road at night", maxLength: 5)
        #expect(cut.count == 5 && cut.first == 101 && cut.last == 102)
    }

    @Test func vocabularyNeedsBERTSpecials() {
        #expect(throws: WordPieceError.self) { try WordPieceTokenizer(vocabularyText: "a\nb\n") }
        let tiny = try? WordPieceTokenizer(vocabularyText: "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nun\n##aff\n##able\n")
        #expect(tiny?.encode("Unaffable unknown") == [2, 5, 6, 7, 1, 3])
    }
}
