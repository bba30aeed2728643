import Foundation
import Testing
@testable import Text

/// A stand-in text encoder that counts its calls, so tests can tell a hit
/// (no call) from a miss. Its vectors depend only on the prompt and are not
/// unit length, so the cache's normalising shows.
final class CountingEncoder: TextEncoding, @unchecked Sendable {
    let identity: String
    private let delay: TimeInterval
    private let failure: (any Error)?
    private let lock = NSLock()
    private var calls: [[String]] = []

    init(identity: String = "counting-encoder-v1", delay: TimeInterval = 0, failure: (any Error)? = nil) {
        self.identity = identity
        self.delay = delay
        self.failure = failure
    }

    var callCount: Int { lock.withLock { calls.count } }
    var encodedPrompts: [String] { lock.withLock { calls.flatMap { $0 } } }

    func embed(_ prompts: [String]) throws -> [[Float]] {
        lock.withLock { calls.append(prompts) }
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        if let failure { throw failure }
        return prompts.map(Self.rawVector)
    }

    static func rawVector(_ prompt: String) -> [Float] {
        let digest = SHA256.hexDigest(of: Array(prompt.utf8)).utf8.prefix(8)
        return digest.map { Float($0) - 60 }
    }
}

/// Collects warnings from the cache.
final class WarningLog: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []
    var all: [String] { lock.withLock { messages } }
    var sink: @Sendable (String) -> Void { { [self] message in lock.withLock { messages.append(message) } } }
}

struct TemporaryFolder: ~Copyable {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("thermocolor-cache-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
}

private func norm(_ vector: [Float]) -> Float { vector.reduce(0) { $0 + $1 * $1 }.squareRoot() }

@Suite struct EmbeddingCacheTests {
    @Test func missRunsEncoderAndHitDoesNot() throws {
        let folder = try TemporaryFolder()
        let encoder = CountingEncoder()
        let cache = EmbeddingCache(encoder: encoder, directory: folder.url)
        let first = try cache.embedding(for: "a hot engine")
        #expect(encoder.callCount == 1)
        #expect(abs(norm(first) - 1) < 1e-5)
        #expect(first == l2Normalized(CountingEncoder.rawVector("a hot engine")))
        let second = try cache.embedding(for: "a hot engine")
        #expect(encoder.callCount == 1)
        #expect(second == first)
    }

    @Test func promptsAreExactKeys() throws {
        let cache = EmbeddingCache(encoder: CountingEncoder(), directory: nil)
        let lower = try cache.embedding(for: "warm road")
        let upper = try cache.embedding(for: "Warm road")
        let spaced = try cache.embedding(for: "warm road ")
        #expect(lower != upper && lower != spaced)
    }

    @Test func batchSendsOnlyMissesInOneCall() throws {
        let encoder = CountingEncoder()
        let cache = EmbeddingCache(encoder: encoder, directory: nil)
        _ = try cache.embedding(for: "sky")
        let vectors = try cache.embeddings(for: ["tree", "sky", "road", "tree"])
        #expect(encoder.callCount == 2)
        #expect(Set(encoder.encodedPrompts) == ["sky", "tree", "road"])
        #expect(encoder.encodedPrompts.count == 3)
        #expect(vectors[0] == vectors[3])
        #expect(vectors[1] == l2Normalized(CountingEncoder.rawVector("sky")))
    }

    @Test func entriesPersistAcrossInstances() throws {
        let folder = try TemporaryFolder()
        let first = try EmbeddingCache(encoder: CountingEncoder(), directory: folder.url).embedding(for: "a cyclist at night")
        let encoder = CountingEncoder()
        let warnings = WarningLog()
        let reopened = EmbeddingCache(encoder: encoder, directory: folder.url, warn: warnings.sink)
        #expect(try reopened.embedding(for: "a cyclist at night") == first)
        #expect(encoder.callCount == 0)
        #expect(warnings.all.isEmpty)
    }

    @Test func anotherModelDoesNotShareEntries() throws {
        let folder = try TemporaryFolder()
        _ = try EmbeddingCache(encoder: CountingEncoder(identity: "model-a"), directory: folder.url).embedding(for: "sky")
        let other = CountingEncoder(identity: "model-b")
        _ = try EmbeddingCache(encoder: other, directory: folder.url).embedding(for: "sky")
        #expect(other.callCount == 1)
    }

    @Test(arguments: ["garbage", "truncated", "flipped", "empty"])
    func corruptEntryIsReportedAndRecomputed(_ damage: String) throws {
        let folder = try TemporaryFolder()
        let original = EmbeddingCache(encoder: CountingEncoder(), directory: folder.url)
        let expected = try original.embedding(for: "cold sky")
        let entry = try #require(original.entryURL(for: "cold sky"))
        var bytes = try [UInt8](Data(contentsOf: entry))
        switch damage {
        case "garbage": bytes = Array("definitely not an embedding".utf8)
        case "truncated": bytes.removeLast(7)
        case "flipped": bytes[bytes.count / 2] ^= 0x40
        default: bytes = []
        }
        try Data(bytes).write(to: entry)

        let encoder = CountingEncoder()
        let warnings = WarningLog()
        let cache = EmbeddingCache(encoder: encoder, directory: folder.url, warn: warnings.sink)
        #expect(try cache.embedding(for: "cold sky") == expected)
        #expect(encoder.callCount == 1)
        #expect(warnings.all.count == 1)
        #expect(warnings.all.first?.contains(entry.path) == true)

        // The recomputed entry replaced the damaged file.
        let healed = CountingEncoder()
        _ = try EmbeddingCache(encoder: healed, directory: folder.url, warn: warnings.sink).embedding(for: "cold sky")
        #expect(healed.callCount == 0)
        #expect(warnings.all.count == 1)
    }

    @Test func concurrentRequestsForOnePromptRunTheEncoderOnce() throws {
        let folder = try TemporaryFolder()
        let encoder = CountingEncoder(delay: 0.2)
        let cache = EmbeddingCache(encoder: encoder, directory: folder.url)
        let results = ResultBox()
        let threads = (0..<16).map { _ in
            Thread {
                results.append(try? cache.embedding(for: "thermal portrait"))
            }
        }
        threads.forEach { $0.start() }
        results.waitForCount(16)
        #expect(encoder.callCount == 1)
        let values = results.values
        #expect(values.count == 16)
        #expect(values.allSatisfy { $0 != nil && $0 == values[0] })
    }

    @Test func encoderFailureIsThrownAndNotCached() throws {
        struct Broken: Error {}
        let encoder = CountingEncoder(failure: Broken())
        let cache = EmbeddingCache(encoder: encoder, directory: nil)
        #expect(throws: Broken.self) { try cache.embedding(for: "x") }
        #expect(throws: Broken.self) { try cache.embedding(for: "x") }
        #expect(encoder.callCount == 2)
    }

    @Test func wrongEncoderOutputIsAnError() throws {
        struct Short: TextEncoding {
            let identity = "short"
            func embed(_ prompts: [String]) throws -> [[Float]] { [] }
        }
        struct Zero: TextEncoding {
            let identity = "zero"
            func embed(_ prompts: [String]) throws -> [[Float]] { prompts.map { _ in [0, 0, 0] } }
        }
        #expect(throws: EmbeddingError.self) { try EmbeddingCache(encoder: Short(), directory: nil).embedding(for: "a") }
        #expect(throws: EmbeddingError.self) { try EmbeddingCache(encoder: Zero(), directory: nil).embedding(for: "a") }
    }

    @Test func unwritableDirectoryWarnsAndStillAnswers() throws {
        let folder = try TemporaryFolder()
        let blocker = folder.url.appendingPathComponent("file")
        try Data("x".utf8).write(to: blocker)
        let warnings = WarningLog()
        let cache = EmbeddingCache(encoder: CountingEncoder(), directory: blocker.appendingPathComponent("sub"), warn: warnings.sink)
        #expect(try cache.embedding(for: "sky").count == 8)
        #expect(warnings.all.count == 1)
    }

    @Test func exportedEmbeddingsReadBackAndServeWithoutAModel() throws {
        let folder = try TemporaryFolder()
        let encoder = CountingEncoder()
        let cache = EmbeddingCache(encoder: encoder, directory: nil)
        let prompts = ["ironbow palette", "natural colours, dusk", "\"quoted\" & ünïcödé 🔥"]
        let file = folder.url.appendingPathComponent("prompts.json")
        try cache.export(prompts, to: file)
        let read = try EmbeddingFile.read(file)
        #expect(read.count == 3)
        for prompt in prompts { #expect(read[prompt] == (try cache.embedding(for: prompt))) }

        let baked = try PrecomputedEmbeddings(contentsOf: file)
        #expect(baked.identity.hasPrefix("precomputed-"))
        let served = EmbeddingCache(encoder: baked, directory: nil)
        #expect(try served.embedding(for: prompts[1]) == read[prompts[1]])
        #expect(throws: EmbeddingError.self) { try served.embedding(for: "not baked") }

        // Importing into a model's cache makes them hits.
        let fresh = CountingEncoder()
        let importing = EmbeddingCache(encoder: fresh, directory: folder.url.appendingPathComponent("cache"))
        try importing.insert(read)
        #expect(try importing.embedding(for: prompts[2]) == read[prompts[2]])
        #expect(fresh.callCount == 0)
    }

    @Test func malformedEmbeddingFileIsAOneLineError() throws {
        let folder = try TemporaryFolder()
        let file = folder.url.appendingPathComponent("bad.json")
        for content in ["[1, 2]", "{\"a\": [1, 2], \"b\": [1]}", "{\"a\": []}", "not json"] {
            try Data(content.utf8).write(to: file)
            #expect {
                try EmbeddingFile.read(file)
            } throws: { error in
                let message = String(describing: error)
                return message.contains(file.path) && !message.contains("\n")
            }
        }
    }

    @Test func defaultDirectoryFollowsXDG() {
        #expect(EmbeddingCache.defaultDirectory(environment: ["XDG_CACHE_HOME": "/var/cache/me", "HOME": "/home/me"])?.path
            == "/var/cache/me/thermocolor/embeddings")
        #expect(EmbeddingCache.defaultDirectory(environment: ["HOME": "/home/me"])?.path
            == "/home/me/.cache/thermocolor/embeddings")
        #expect(EmbeddingCache.defaultDirectory(environment: ["XDG_CACHE_HOME": "relative", "HOME": "/home/me"])?.path
            == "/home/me/.cache/thermocolor/embeddings")
    }
}

/// Results from the threads of the concurrency test.
final class ResultBox: @unchecked Sendable {
    private let condition = NSCondition()
    private var stored: [[Float]?] = []

    func append(_ value: [Float]?) {
        condition.lock()
        stored.append(value)
        condition.broadcast()
        condition.unlock()
    }

    func waitForCount(_ count: Int) {
        condition.lock()
        while stored.count < count { _ = condition.wait(until: Date().addingTimeInterval(30)) }
        condition.unlock()
    }

    var values: [[Float]?] {
        condition.lock()
        defer { condition.unlock() }
        return stored
    }
}

@Test func sha256MatchesKnownDigests() throws {
    #expect(SHA256.hexDigest(of: [UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(SHA256.hexDigest(of: Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(SHA256.hexDigest(of: Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
        == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    var incremental = SHA256()
    for _ in 0..<1000 { incremental.update(Array(repeating: UInt8(ascii: "a"), count: 1000)) }
    #expect(incremental.hexDigest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    let folder = try TemporaryFolder()
    let file = folder.url.appendingPathComponent("abc")
    try Data("abc".utf8).write(to: file)
    #expect(try SHA256.hexDigest(ofFile: file) == SHA256.hexDigest(of: Array("abc".utf8)))
}

/// An encoder that reports a text space, for the space-keyed cache tests.
private struct SpacedEncoder: TextEncoding {
    let identity: String
    let textSpace: String?
    let value: Float

    func embed(_ prompts: [String]) throws -> [[Float]] {
        prompts.map { _ in [value, 1 - value, 0.5] }
    }
}

@Suite("Embedding cache keyed by text space")
struct EmbeddingCacheSpaceTests {
    @Test func entriesNeverCrossSpaces() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("space-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        // Same identity, different spaces: a file of one must never serve the other.
        let minilm = EmbeddingCache(encoder: SpacedEncoder(identity: "same", textSpace: "all-minilm-l6-v2", value: 0.9), directory: folder)
        let clip = EmbeddingCache(encoder: SpacedEncoder(identity: "same", textSpace: "clip-vit-b32-openai", value: 0.1), directory: folder)
        let legacy = EmbeddingCache(encoder: SpacedEncoder(identity: "same", textSpace: nil, value: 0.5), directory: folder)
        #expect(minilm.key == "all-minilm-l6-v2/same" && clip.key == "clip-vit-b32-openai/same" && legacy.key == "same")
        let a = try minilm.embedding(for: "fog")
        let b = try clip.embedding(for: "fog")
        let c = try legacy.embedding(for: "fog")
        #expect(a != b && b != c && a != c)
        #expect(Set([minilm.entryURL(for: "fog"), clip.entryURL(for: "fog"), legacy.entryURL(for: "fog")]).count == 3)
        // Reopened, each space reads its own entry back.
        let reopened = EmbeddingCache(encoder: SpacedEncoder(identity: "same", textSpace: "clip-vit-b32-openai", value: 0.7), directory: folder)
        #expect(try reopened.embedding(for: "fog") == b)
    }

    @Test func exportRecordsTheSpace() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("space-export-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        let cache = EmbeddingCache(encoder: SpacedEncoder(identity: "e", textSpace: "all-minilm-l6-v2", value: 0.3), directory: nil)
        try cache.export(["fog", "rain"], to: file)
        let (table, space) = try EmbeddingFile.readTagged(file)
        #expect(space == "all-minilm-l6-v2")
        #expect(table.keys.sorted() == ["fog", "rain"])
        #expect(try EmbeddingFile.read(file).count == 2)
        let precomputed = try PrecomputedEmbeddings(contentsOf: file)
        #expect(precomputed.textSpace == "all-minilm-l6-v2")
    }
}
