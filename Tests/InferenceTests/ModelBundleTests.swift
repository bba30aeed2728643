import Foundation
import Testing
@testable import Inference

@Suite struct ModelBundleTests {
    @Test func readsAManifest() throws {
        let bundle = try Fixtures.bundle("colorizer-rgb")
        #expect(bundle.kind == .colorizer)
        #expect(bundle.workingSize == .fixed(width: 32, height: 24))
        #expect(bundle.tensors.thermal == "thermal" && bundle.tensors.text == "text" && bundle.tensors.output == "rgb")
        #expect(bundle.output == .rgb)
        #expect(bundle.textDimension == 4)
        #expect(bundle.modelFile.lastPathComponent == "model.onnx")
        #expect(bundle.embedding(forPrompt: "cold") == Fixtures.cold)
        #expect(bundle.embedding(forPrompt: "  Warm ") == Fixtures.warm)
        #expect(bundle.embedding(forPrompt: "purple") == nil)
        #expect(bundle.defaultEmbedding == Fixtures.warm)

        let dynamic = try Fixtures.bundle("reference-colorizer")
        #expect(dynamic.kind == .referenceColorizer)
        #expect(dynamic.workingSize == .dynamic(multiple: 8))
        #expect(dynamic.workingSize(forVideoWidth: 44, height: 30) == (40, 24))
        let ab = try Fixtures.bundle("colorizer-ab")
        #expect(ab.output == .ab && ab.abScale == 100)
    }

    /// Each broken bundle fails with one line naming the bundle and the cause.
    @Test(arguments: [
        ("broken/wrong-tensor-name",
         "model.json names the thermal input 'ir', but the network's inputs are thermal: f32[?,1,24,32], text: f32[1,4]"),
        ("broken/wrong-text-dimension", "text input 'text' takes 4 values, but model.json \"textDimension\" is 8"),
        ("broken/missing-model", "no network file: expected model.onnx, or model.xml with model.bin"),
        ("broken/wrong-output-kind", "output 'rgb' has 3 channels; output \"ab\" needs 2"),
        ("broken/wrong-size", "thermal input 'thermal' is 32×24, but model.json \"size\" is [64, 48]"),
        ("broken/missing-role", "a fuser needs a 'visible' tensor name"),
        ("broken/bad-json", "model.json is not valid JSON"),
        ("broken/bad-embedding", "embedding for 'warm' has 2 values, textDimension is 4"),
        ("no-such-bundle", "no such folder"),
    ])
    func brokenBundlesFailClearly(name: String, problem: String) throws {
        let error = #expect(throws: ModelBundleError.self) {
            _ = try NeuralColorizer(bundleAt: Fixtures.path(name), precision: "f32")
        }
        let message = error?.description ?? ""
        #expect(message.hasPrefix("model bundle \(Fixtures.path(name)): "))
        #expect(message.contains(problem), "\(message)")
        #expect(!message.contains("\n"))
    }

    @Test func resolvesPromptsAndEmbeddingFiles() throws {
        let bundle = try Fixtures.bundle("colorizer-rgb")
        #expect(try bundle.textEmbedding(prompt: nil, file: nil) == nil)
        #expect(try bundle.textEmbedding(prompt: "cold", file: nil) == Fixtures.cold)
        let unknown = #expect(throws: ModelBundleError.self) { try bundle.textEmbedding(prompt: "purple", file: nil) }
        #expect(unknown?.description.contains("no embedding for the prompt 'purple' (known: 'cold', 'warm')") == true)

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("thermocolor-text-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let json = folder.appendingPathComponent("prompt.json")
        try Data("[0.25, -0.5, 1, 2]".utf8).write(to: json)
        #expect(try bundle.textEmbedding(prompt: nil, file: json) == [0.25, -0.5, 1, 2])
        let raw = folder.appendingPathComponent("prompt.f32")
        let values: [Float] = [1.5, -2, 0, 3.25]
        try values.withUnsafeBytes { try Data($0).write(to: raw) }
        #expect(try bundle.textEmbedding(prompt: nil, file: raw) == values)
        let short = folder.appendingPathComponent("short.json")
        try Data("[1, 2]".utf8).write(to: short)
        let wrong = #expect(throws: ModelBundleError.self) { try bundle.textEmbedding(prompt: nil, file: short) }
        #expect(wrong?.description.contains("short.json has 2 values, the network takes 4") == true)

        // Sixteen bytes of text would be four "raw f32" values; it is text, so it is refused.
        let words = folder.appendingPathComponent("words.txt")
        try Data("not json at all!".utf8).write(to: words)
        let text = #expect(throws: ModelBundleError.self) { try bundle.textEmbedding(prompt: nil, file: words) }
        #expect(text?.description.contains("words.txt is text but not a JSON array of numbers") == true)
        // Bytes that read as NaN and 1e38 are not an embedding.
        let noise = folder.appendingPathComponent("noise.bin")
        try Data([0xFF, 0xFF, 0xFF, 0x7F, 0x00, 0x01, 0x80, 0x7E, 0x12, 0x00, 0x00, 0x00, 0x33, 0x91, 0xFE, 0xFF]).write(to: noise)
        let garbage = #expect(throws: ModelBundleError.self) { try bundle.textEmbedding(prompt: nil, file: noise) }
        #expect(garbage?.description.contains("NaN, infinite or absurdly large") == true)

        let noText = try Fixtures.bundle("reference-colorizer")
        #expect(throws: ModelBundleError.self) { try noText.textEmbedding(prompt: "warm", file: nil) }
    }

    @Test func anUnreadableNetworkCarriesOpenVINOsMessage() throws {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("thermocolor-bundle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(at: Fixtures.root.appendingPathComponent("colorizer-rgb/model.json"),
                                         to: folder.appendingPathComponent("model.json"))
        try Data("this is not a network".utf8).write(to: folder.appendingPathComponent("model.onnx"))
        let error = #expect(throws: ModelBundleError.self) {
            _ = try NeuralColorizer(bundleAt: folder.path)
        }
        let message = error?.description ?? ""
        #expect(message.contains("OpenVINO cannot read model.onnx (status -1): general error: Unable to read the model"),
                "\(message)")
        #expect(!message.contains("\n"))
    }
}
