import Foundation
import Testing
@testable import Text

/// CLIP's merges file as Scripts/setup.sh leaves it in `.deps/clip` of the
/// package root, plain and gzipped; nil when set-up has not run.
enum MergesFiles {
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".deps/clip")
    static let plain = existing("bpe_simple_vocab_16e6.txt")
    static let gzipped = existing("bpe_simple_vocab_16e6.txt.gz")

    private static func existing(_ name: String) -> URL? {
        let url = folder.appendingPathComponent(name)
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    static let tokenizer: CLIPTokenizer? = plain.flatMap { try? CLIPTokenizer(mergesFile: $0) }
}

/// One prompt and the reference tokenizer's ids for it.
struct GoldenCase: Decodable, Sendable, CustomTestStringConvertible {
    let text: String
    let ids: [Int32]
    /// The padded context; absent from the fuzz file, whose prompts are short.
    let context: [Int32]?

    var testDescription: String {
        let escaped = text.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 ? String($0) : $0.escaped(asASCII: true) }.joined()
        return escaped.count > 60 ? String(escaped.prefix(57)) + "..." : escaped
    }
}

struct GoldenFile: Decodable, Sendable {
    let reference: String
    let contextLength: Int
    let cases: [GoldenCase]

    /// Both written by Scripts/make-tokenizer-goldens.py from CLIP's SimpleTokenizer.
    static let loaded = load("tokenizer-goldens")
    static let fuzz = load("tokenizer-fuzz-goldens")

    private static func load(_ name: String) -> GoldenFile? {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"),
              let data = try? Data(contentsOf: url)
        else { return nil }
        return try? JSONDecoder().decode(GoldenFile.self, from: data)
    }
}

@Test func goldenFilesLoad() throws {
    let file = try #require(GoldenFile.loaded, "Fixtures/tokenizer-goldens.json is missing or unreadable")
    #expect(file.cases.count >= 30)
    #expect(file.contextLength == CLIPTokenizer.defaultContextLength)
    let fuzz = try #require(GoldenFile.fuzz, "Fixtures/tokenizer-fuzz-goldens.json is missing or unreadable")
    #expect(fuzz.cases.count >= 500)
}

// Needs the merges file that Scripts/setup.sh fetches into .deps/clip.
@Suite(.enabled(if: MergesFiles.tokenizer != nil, "CLIP merges file not found in .deps/clip: run Scripts/setup.sh"))
struct CLIPTokenizerGoldenTests {
    @Test(arguments: GoldenFile.loaded?.cases ?? [])
    func encodeMatchesReference(_ golden: GoldenCase) throws {
        let tokenizer = try #require(MergesFiles.tokenizer)
        #expect(tokenizer.encode(golden.text) == golden.ids)
    }

    @Test(arguments: GoldenFile.loaded?.cases ?? [])
    func tokenizeMatchesReferenceContext(_ golden: GoldenCase) throws {
        let tokenizer = try #require(MergesFiles.tokenizer)
        let context = tokenizer.tokenize(golden.text)
        #expect(context == golden.context)
        #expect(context.count == CLIPTokenizer.defaultContextLength)
    }

    /// 600 seeded random mixes, half mojibake: one test, listing mismatches.
    @Test func fuzzPromptsMatchReference() throws {
        let tokenizer = try #require(MergesFiles.tokenizer)
        let cases = try #require(GoldenFile.fuzz).cases
        let mismatches = cases.filter { tokenizer.encode($0.text) != $0.ids }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(cases.count) differ, first: \(mismatches.prefix(3).map(\.testDescription))")
    }

    @Test func overlongTextKeepsEndTokenLast() throws {
        let tokenizer = try #require(MergesFiles.tokenizer)
        let text = String(repeating: "thermal ", count: 200)
        #expect(tokenizer.encode(text).count == 202)
        let context = tokenizer.tokenize(text)
        #expect(context.first == CLIPTokenizer.startOfText)
        #expect(context.last == CLIPTokenizer.endOfText)
        #expect(tokenizer.tokenize(text, contextLength: 10).count == 10)
    }

    @Test func gzippedMergesFileGivesTheSameTokens() throws {
        let plain = try #require(MergesFiles.tokenizer)
        let gzipped = try CLIPTokenizer(mergesFile: try #require(MergesFiles.gzipped, "no .gz merges file"))
        for golden in GoldenFile.loaded?.cases ?? [] {
            #expect(gzipped.encode(golden.text) == plain.encode(golden.text))
        }
    }
}

@Test func missingMergesFileIsAOneLineError() {
    let url = URL(fileURLWithPath: "/nonexistent/merges.txt")
    #expect {
        try CLIPTokenizer(mergesFile: url)
    } throws: { error in
        let message = String(describing: error)
        return message.contains("/nonexistent/merges.txt") && !message.contains("\n")
    }
}

@Test func malformedMergesFileIsAnError() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("not-merges-\(UUID().uuidString).txt")
    try Data("#version: 0.2\ni n\nt h\n".utf8).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    #expect {
        try CLIPTokenizer(mergesFile: url)
    } throws: { error in
        String(describing: error).contains("not a CLIP BPE merges file")
    }
}

@Test func corruptGzipIsAnError() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("corrupt-\(UUID().uuidString).txt.gz")
    try Data([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0]).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    #expect(throws: CLIPTokenizerError.self) { try CLIPTokenizer(mergesFile: url) }
}

@Suite("gzip through zlib")
struct GzipTests {
    /// `gzip -c` of `bytes`, from the system's gzip: an independent writer.
    func gzip(_ bytes: Data) throws -> Data {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gzip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let plain = folder.appendingPathComponent("plain")
        try bytes.write(to: plain)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-9", plain.path]
        try process.run()
        process.waitUntilExit()
        return try Data(contentsOf: folder.appendingPathComponent("plain.gz"))
    }

    @Test func roundTripsConcatenatedMembers() throws {
        let first = Data((0..<70_000).map { UInt8(truncatingIfNeeded: $0 * 7 / 3) })
        let second = Data("a second member, as cat a.gz b.gz makes\n".utf8)
        let joined = try gzip(first) + gzip(second)
        #expect(try Gzip.decompress(joined) == first + second)
    }

    @Test func truncatedAndCorruptDataAreErrors() throws {
        let packed = try gzip(Data(repeating: 65, count: 10_000) + Data("tail".utf8))
        #expect(throws: Gzip.Failure.self) { try Gzip.decompress(packed.prefix(packed.count - 9)) }
        var flipped = packed
        flipped[flipped.count - 6] ^= 0xFF
        #expect(throws: Gzip.Failure.self) { try Gzip.decompress(flipped) }
        #expect(throws: Gzip.Failure.self) { try Gzip.decompress(Data("plain".utf8)) }
    }

    @Test func crcMatchesTheStandardCheckValue() {
        // CRC-32's check value: the ASCII digits 1 to 9.
        #expect(Gzip.crc32(Array("123456789".utf8)[...]) == 0xCBF4_3926)
    }
}
