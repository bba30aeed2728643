import Foundation
import TestSupport
import Testing

@Suite("thermocolor tokenize and embed")
struct TextCommandTests {
    let tinyClip = packageRoot + "/Tests/InferenceTests/Fixtures/tiny-clip"

    @Test("tokenize prints the ids with start and end tokens, no padding")
    func tokenize() throws {
        let result = try runProcess(thermocolorBinary, ["tokenize", "a night road"])
        #expect(result.status == 0, "\(result.error)")
        let ids = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [Int])
        #expect(ids.first == 49406 && ids.last == 49407)
        #expect(ids.count == 5)
    }

    @Test("embed writes unit-length vectors through the on-disk cache, and a second run hits it")
    func embedThroughCache() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        for round in 0..<2 {
            let out = folder.file("e\(round).json")
            let result = try runProcess(thermocolorBinary, ["embed", "--clip", tinyClip, "--cache", folder.file("cache"),
                                                            "--out", out, "a warm night road", "snow"])
            #expect(result.status == 0, "\(result.error)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: [Double]])
            let vector = try #require(object["snow"])
            #expect(vector.count == 16)
            #expect(abs(vector.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4)
        }
        let cached = try FileManager.default.contentsOfDirectory(atPath: folder.file("cache"))
        #expect(cached.count >= 2)
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder.file("e0.json"))) == Data(contentsOf: URL(fileURLWithPath: folder.file("e1.json"))))
    }

    @Test("A CLIP bundle whose width does not match the model's text input is a clear error")
    func dimensionMismatch() throws {
        let result = try runProcess(thermocolorBinary, [
            "convert", packageRoot + "/Samples/thermal-sample.mkv", "/tmp/never.mp4",
            "--model", packageRoot + "/Tests/InferenceTests/Fixtures/colorizer-rgb", "--clip", tinyClip,
            "--prompt", "an unbaked prompt",
        ])
        #expect(result.status != 0)
        #expect(result.error.contains("16 values per prompt, the model takes 4"), "\(result.error)")
    }

    @Test("embed --into-bundle bakes the vectors into model.json, checking the width")
    func bakeIntoBundle() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let bundle = folder.file("bundle")
        try FileManager.default.copyItem(atPath: packageRoot + "/Tests/InferenceTests/Fixtures/colorizer-rgb", toPath: bundle)
        let refused = try runProcess(thermocolorBinary, ["embed", "--clip", tinyClip, "--no-cache", "--into-bundle", bundle, "fog"])
        #expect(refused.status != 0)
        #expect(refused.error.contains("16 values per prompt"))

        // A bundle whose text input is as wide as the CLIP model's.
        let manifestPath = bundle + "/model.json"
        var manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: manifestPath))) as? [String: Any])
        manifest["textDimension"] = 16
        manifest["embeddings"] = [String: Any]()
        manifest["defaultPrompt"] = nil
        try JSONSerialization.data(withJSONObject: manifest).write(to: URL(fileURLWithPath: manifestPath))
        let baked = try runProcess(thermocolorBinary, ["embed", "--clip", tinyClip, "--no-cache", "--into-bundle", bundle, "fog", "rain"])
        #expect(baked.status == 0, "\(baked.error)")
        let updated = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: manifestPath))) as? [String: Any])
        let table = try #require(updated["embeddings"] as? [String: [Double]])
        #expect(table.keys.sorted() == ["fog", "rain"])
        #expect(table["fog"]?.count == 16)
        #expect(updated["defaultPrompt"] as? String == "fog")
    }
}
