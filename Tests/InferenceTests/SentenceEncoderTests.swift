import Foundation
import Testing
import Inference
import Text

/// The minilm bundle Scripts/setup.sh makes, found by name on the model
/// search path as the command finds it; nil when set-up has not run.
enum MiniLM {
    static let folder: URL? = try? ModelSearchPath.standard().resolve("minilm", what: "text encoder")

    /// Loaded once: hashing the 90 MB network for its identity is slow in debug builds.
    static let encoder: TextEncoder? = folder.flatMap { try? TextEncoder(bundle: $0) }

    struct Reference: Decodable {
        struct Case: Decodable {
            let text: String
            let ids: [Int32]
            let embedding: [Float]
        }
        let reference: String
        let textSpace: String
        let cases: [Case]
    }

    /// sentence-transformers' embeddings, from Scripts/sentence-encoder-parity.py --write-fixture.
    static func reference() throws -> Reference {
        let url = try #require(Bundle.module.url(forResource: "minilm-reference", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
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

@Suite(.enabled(if: MiniLM.folder != nil, "no minilm text encoder on the model search path: run Scripts/setup.sh"))
struct SentenceEncoderTests {
    @Test func bundleDescribesItsSpace() throws {
        let encoder = try #require(MiniLM.encoder)
        #expect(encoder.textSpace == "all-minilm-l6-v2")
        #expect(encoder.embeddingDimension == 384)
        #expect(encoder.contextLength == 256)
        #expect(encoder.bundle.tokenizerKind == .wordPiece)
        #expect(encoder.identity.hasPrefix("wordpiece-text-"))
    }

    @Test func matchesSentenceTransformers() throws {
        let encoder = try #require(MiniLM.encoder)
        let reference = try MiniLM.reference()
        #expect(reference.textSpace == encoder.textSpace)
        #expect(reference.cases.count >= 15)
        let embeddings = try encoder.embed(reference.cases.map(\.text))
        var worst = 1.0
        for (golden, embedding) in zip(reference.cases, embeddings) {
            #expect(encoder.bundle.ids(for: golden.text) == golden.ids, "\(golden.text)")
            let similarity = cosine(embedding, golden.embedding)
            worst = min(worst, similarity)
            #expect(similarity >= 0.999, "\(golden.text): cosine \(similarity)")
            #expect(abs(embedding.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4)
        }
        print("minilm vs sentence-transformers: worst cosine \(worst) over \(reference.cases.count) prompts")
    }

    @Test func meaningSurvives() throws {
        let encoder = try #require(MiniLM.encoder)
        let vectors = try encoder.embed(["a photo of a dog", "a photo of a cat", "an airplane"])
        let dogCat = cosine(vectors[0], vectors[1])
        let dogAirplane = cosine(vectors[0], vectors[2])
        print("cos(dog, cat) \(dogCat), cos(dog, airplane) \(dogAirplane)")
        #expect(dogCat > dogAirplane + 0.2, "cos(dog, cat) \(dogCat), cos(dog, airplane) \(dogAirplane)")
    }

    @Test func paddingInABatchChangesNothing() throws {
        let encoder = try #require(MiniLM.encoder)
        let prompts = ["fog", "a long prompt about a wet road at night with cars and street lamps", "fog"]
        let batched = try encoder.embed(prompts)
        for (prompt, vector) in zip(prompts, batched) {
            #expect(cosine(try encoder.embed([prompt])[0], vector) > 0.99999, "\(prompt)")
        }
    }

    @Test func cacheKeysCarryTheSpace() throws {
        let encoder = try #require(MiniLM.encoder)
        let cache = EmbeddingCache(encoder: encoder, directory: nil)
        #expect(cache.key == "all-minilm-l6-v2/" + encoder.identity)
    }
}

struct TextSpaceCheckTests {
    @Test func sameSpaceAndWidthPass() {
        #expect(TextSpaceCheck.problem(modelName: "model bundle road", modelSpace: "all-minilm-l6-v2", modelDimension: 384,
                                       sourceName: "text encoder minilm", sourceSpace: "all-minilm-l6-v2", sourceDimension: 384) == nil)
        // Older bundles record no space: any encoder of the right width serves.
        #expect(TextSpaceCheck.problem(modelName: "m", modelSpace: nil, modelDimension: 512,
                                       sourceName: "e", sourceSpace: "clip-vit-b32-openai", sourceDimension: 512) == nil)
    }

    @Test func anotherSpaceNamesBoth() throws {
        let problem = try #require(TextSpaceCheck.problem(
            modelName: "model bundle road", modelSpace: "all-minilm-l6-v2", modelDimension: 384,
            sourceName: "text encoder clip", sourceSpace: "clip-vit-b32-openai", sourceDimension: 512))
        #expect(problem.contains("'all-minilm-l6-v2'") && problem.contains("'clip-vit-b32-openai'"), "\(problem)")
        #expect(!problem.contains("\n"))
        let unknown = try #require(TextSpaceCheck.problem(
            modelName: "model bundle road", modelSpace: "all-minilm-l6-v2", modelDimension: 384,
            sourceName: "text encoder old-clip", sourceSpace: nil, sourceDimension: 384))
        #expect(unknown.contains("records no text space"), "\(unknown)")
        let narrow = try #require(TextSpaceCheck.problem(
            modelName: "model bundle m", modelSpace: nil, modelDimension: 4,
            sourceName: "text encoder tiny", sourceSpace: nil, sourceDimension: 16))
        #expect(narrow.contains("16 values per prompt, the model takes 4"), "\(narrow)")
    }

    @Test func modelBundleRecordsItsSpace() throws {
        let fixture = try #require(Bundle.module.url(forResource: "colorizer-minilm", withExtension: nil, subdirectory: "Fixtures"))
        let bundle = try ModelBundle(folder: fixture)
        #expect(bundle.textSpace == "all-minilm-l6-v2")
        #expect(bundle.textDimension == 384)
        let legacy = try ModelBundle(folder: try #require(Bundle.module.url(forResource: "colorizer-rgb", withExtension: nil, subdirectory: "Fixtures")))
        #expect(legacy.textSpace == nil)
    }

    @Test func embeddingFileOfAnotherSpaceIsRefused() throws {
        let fixture = try #require(Bundle.module.url(forResource: "colorizer-minilm", withExtension: nil, subdirectory: "Fixtures"))
        let bundle = try ModelBundle(folder: fixture)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("space-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        let vector = [Float](repeating: 1 / Float(384).squareRoot(), count: 384)
        try EmbeddingFile.write(["fog": vector], to: file, textSpace: "clip-vit-b32-openai")
        #expect {
            try bundle.textEmbedding(prompt: nil, file: file)
        } throws: { error in
            let text = String(describing: error)
            return text.contains("'all-minilm-l6-v2'") && text.contains("'clip-vit-b32-openai'") && !text.contains("\n")
        }
        try EmbeddingFile.write(["fog": vector], to: file, textSpace: "all-minilm-l6-v2")
        #expect(try bundle.textEmbedding(prompt: nil, file: file) == vector)
    }
}

struct TextEncoderBundleTests {
    @Test func badManifestsAreOneLineErrors() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("bad-encoder-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let base: [String: Any] = [
            "format": "thermocolor-text-encoder", "version": 1, "model": "model.onnx", "tokenizer": "wordpiece",
            "vocabulary": "vocab.txt", "contextLength": 16, "embeddingDim": 8, "textSpace": "test-space",
        ]
        let cases: [(String, [String: Any?], String)] = [
            ("no-tokenizer", ["tokenizer": nil], "needs \"tokenizer\""),
            ("sentencepiece", ["tokenizer": "sentencepiece"], "names tokenizer \"sentencepiece\""),
            ("max-pooling", ["pooling": "max"], "names pooling \"max\""),
            ("unnormalised", ["normalize": false], "\"normalize\": false"),
            ("no-vocabulary", ["vocabulary": nil], "names no \"vocabulary\""),
            ("spaced-space", ["textSpace": "all minilm"], "textSpace \"all minilm\""),
            ("no-model", ["model": "missing.onnx"], "model file missing.onnx is missing"),
        ]
        for (name, change, expected) in cases {
            let folder = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n".utf8).write(to: folder.appendingPathComponent("vocab.txt"))
            try Data([0]).write(to: folder.appendingPathComponent("model.onnx"))
            var manifest = base
            for (key, value) in change { manifest[key] = value }
            try JSONSerialization.data(withJSONObject: manifest).write(to: folder.appendingPathComponent("encoder.json"))
            #expect {
                try TextEncoderBundle(folder: folder)
            } throws: { error in
                let text = String(describing: error)
                return text.contains(folder.path) && text.contains(expected) && !text.contains("\n")
            }
        }
        // The good one loads, tokenizer and all, without OpenVINO.
        let good = root.appendingPathComponent("good")
        try FileManager.default.createDirectory(at: good, withIntermediateDirectories: true)
        try Data("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nfog\n".utf8).write(to: good.appendingPathComponent("vocab.txt"))
        try Data([0]).write(to: good.appendingPathComponent("model.onnx"))
        try JSONSerialization.data(withJSONObject: base).write(to: good.appendingPathComponent("encoder.json"))
        let bundle = try TextEncoderBundle(folder: good)
        #expect(bundle.ids(for: "Fog") == [2, 5, 3])
        #expect(bundle.pooling == .mean && bundle.textSpace == "test-space")
        #expect(try bundle.identity().hasPrefix("wordpiece-text-"))
    }
}
