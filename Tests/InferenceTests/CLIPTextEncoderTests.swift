import Foundation
import Testing
import Inference
import Text

/// The tiny CLIP bundle made by Scripts/make-tiny-clip.py, and the merges
/// file Scripts/setup.sh leaves in .deps/clip (the bundle does not carry one).
enum TinyCLIP {
    static let bundle = Bundle.module.url(forResource: "tiny-clip", withExtension: nil, subdirectory: "Fixtures")
    static let mergesFile: URL? = {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".deps/clip/bpe_simple_vocab_16e6.txt")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }()
    static var available: Bool { bundle != nil && mergesFile != nil }

    struct Reference: Decodable {
        struct Case: Decodable {
            let text: String
            let ids: [Int32]
            let embedding: [Float]
        }
        let cases: [Case]
    }

    static func reference() throws -> Reference {
        let url = try #require(bundle).appendingPathComponent("reference-embeddings.json")
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    static func encoder() throws -> CLIPTextEncoder {
        let folder = try #require(bundle)
        let merges = try #require(mergesFile)
        return try CLIPTextEncoder(bundle: folder, mergesFile: merges)
    }
}

private func cosine(_ a: [Float], _ b: [Float]) -> Double {
    var dot = 0.0, aa = 0.0, bb = 0.0
    for (x, y) in zip(a, b) {
        dot += Double(x) * Double(y)
        aa += Double(x) * Double(x)
        bb += Double(y) * Double(y)
    }
    return dot / (aa.squareRoot() * bb.squareRoot())
}

// Needs CLIP's merges file from Scripts/setup.sh (.deps/clip).
@Suite(.enabled(if: TinyCLIP.available, "tiny-clip fixture or .deps/clip merges file missing: run Scripts/setup.sh"))
struct CLIPTextEncoderTests {
    /// The tiny fixture, plus any bundle named by THERMOCOLOR_CLIP_BUNDLE
    /// (for example one written by Scripts/export-clip.py, whose
    /// reference-embeddings.json holds torch's embeddings).
    static let bundlesToCheck: [URL] = [TinyCLIP.bundle].compactMap { $0 }
        + (ProcessInfo.processInfo.environment["THERMOCOLOR_CLIP_BUNDLE"].map { [URL(fileURLWithPath: $0)] } ?? [])

    @Test(arguments: bundlesToCheck)
    func embeddingsMatchTheReference(bundle: URL) throws {
        let merges = try #require(TinyCLIP.mergesFile)
        let encoder = try CLIPTextEncoder(bundle: bundle, mergesFile: merges)
        let referenceURL = bundle.appendingPathComponent("reference-embeddings.json")
        let reference = try JSONDecoder().decode(TinyCLIP.Reference.self, from: Data(contentsOf: referenceURL))
        let embeddings = try encoder.embed(reference.cases.map(\.text))
        #expect(embeddings.count == reference.cases.count)
        for (golden, embedding) in zip(reference.cases, embeddings) {
            // The ids the engine feeds are the reference tokenizer's.
            #expect(encoder.clipTokenizer?.tokenize(golden.text) == golden.ids, "\(golden.text)")
            #expect(embedding.count == encoder.embeddingDimension)
            let similarity = cosine(embedding, golden.embedding)
            let maxError = zip(embedding, golden.embedding).map { abs($0 - $1) }.max() ?? .infinity
            #expect(similarity >= 0.9999, "\(golden.text): cosine \(similarity)")
            #expect(maxError < 1e-3, "\(golden.text): max abs error \(maxError)")
            let norm = embedding.reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(abs(norm - 1) < 1e-5)
        }
    }

    @Test func tinyModelIsCloseToItsReference() throws {
        let encoder = try TinyCLIP.encoder()
        let reference = try TinyCLIP.reference()
        #expect(encoder.embeddingDimension == 16)
        let embeddings = try encoder.embed(reference.cases.map(\.text))
        let maxError = zip(embeddings, reference.cases).flatMap { zip($0, $1.embedding).map { abs($0 - $1) } }.max() ?? .infinity
        #expect(maxError < 1e-5, "max abs error \(maxError)")
    }

    @Test func batchAndSinglePromptsAgree() throws {
        let encoder = try TinyCLIP.encoder()
        let prompts = ["a photo of a cat", "ironbow palette, hot engine", "a photo of a cat"]
        let batched = try encoder.embed(prompts)
        for (prompt, vector) in zip(prompts, batched) {
            let single = try encoder.embed([prompt])[0]
            #expect(zip(single, vector).allSatisfy { abs($0 - $1) < 1e-5 })
        }
        #expect(try encoder.embed([]).isEmpty)
    }

    @Test func identityNamesTheModelContent() throws {
        let first = try TinyCLIP.encoder()
        let second = try TinyCLIP.encoder()
        #expect(first.identity == second.identity)
        #expect(first.identity.hasPrefix("clip-text-") && first.identity.count == 10 + 64)

        // The same bundle with one weight byte changed is another model.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tiny-clip-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(at: try #require(TinyCLIP.bundle), to: folder)
        let model = folder.appendingPathComponent("text.onnx")
        var bytes = try [UInt8](Data(contentsOf: model))
        // Most of the file is the float16 token table; flip one mantissa bit there.
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: model)
        let merges = try #require(TinyCLIP.mergesFile)
        let changed = try CLIPTextEncoder(bundle: folder, mergesFile: merges)
        #expect(changed.identity != first.identity)
    }

    @Test func cacheServesRepeatsWithoutInference() throws {
        let encoder = try TinyCLIP.encoder()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clip-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = EmbeddingCache(encoder: encoder, directory: folder)
        let first = try cache.embedding(for: "a thermal image of a person walking at night")
        let reference = try TinyCLIP.reference().cases[0].embedding
        #expect(cosine(first, reference) >= 0.9999)
        let reopened = EmbeddingCache(encoder: try TinyCLIP.encoder(), directory: folder)
        #expect(try reopened.embedding(for: "a thermal image of a person walking at night") == first)
    }

    @Test func badBundlesAreOneLineErrors() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("bad-clip-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let merges = try #require(TinyCLIP.mergesFile)
        let source = try #require(TinyCLIP.bundle)
        let manifest = try String(contentsOf: source.appendingPathComponent("clip.json"), encoding: .utf8)

        func bundle(_ name: String, manifest: String?, model: Bool) throws -> URL {
            let folder = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            if let manifest { try Data(manifest.utf8).write(to: folder.appendingPathComponent("clip.json")) }
            if model {
                try FileManager.default.copyItem(at: source.appendingPathComponent("text.onnx"),
                                                 to: folder.appendingPathComponent("text.onnx"))
            }
            return folder
        }
        let cases: [(URL, String)] = [
            (try bundle("empty", manifest: nil, model: false), "no readable encoder.json (or clip.json)"),
            (try bundle("garbage", manifest: "{ nope", model: true), "clip.json is not a text-encoder description"),
            (try bundle("incomplete", manifest: "{\"format\": \"thermocolor-clip-text\", \"version\": 1}", model: true), "missing"),
            (try bundle("no-model", manifest: manifest, model: false), "text.onnx is missing"),
            (try bundle("wrong-dim", manifest: manifest.replacingOccurrences(of: "\"embeddingDim\": 16", with: "\"embeddingDim\": 32"), model: true),
             "is not [batch, 32]"),
            (try bundle("wrong-context", manifest: manifest.replacingOccurrences(of: "\"contextLength\": 77", with: "\"contextLength\": 64"), model: true),
             "contextLength 64"),
        ]
        for (folder, expected) in cases {
            #expect {
                try CLIPTextEncoder(bundle: folder, mergesFile: merges)
            } throws: { error in
                let message = String(describing: error)
                return message.contains(folder.path) && message.contains(expected) && !message.contains("\n")
            }
        }
        // Without a merges file in the bundle or given, the error says so.
        #expect {
            try CLIPTextEncoder(bundle: source)
        } throws: { error in
            String(describing: error).contains("merges file")
        }
    }
}
