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

/// The minilm bundle set-up makes, where the command finds it by name.
private let miniLMInstalled = FileManager.default.fileExists(atPath: packageRoot + "/.deps/models/minilm/encoder.json")

@Suite("Text encoders by name, and text spaces that cannot mix",
       .enabled(if: miniLMInstalled, "no .deps/models/minilm: run Scripts/setup.sh"))
struct TextSpaceCommandTests {
    let fixtures = packageRoot + "/Tests/InferenceTests/Fixtures"
    var tinyClip: String { fixtures + "/tiny-clip" }

    @Test("tokenize --encoder minilm prints WordPiece ids; --file and '-' read whole texts")
    func tokenizeWordPiece() throws {
        let expected = "[101,1037,6302,1997,1037,3899,1010,15743,7668,102]"
        let direct = try runProcess(thermocolorBinary, ["tokenize", "--encoder", "minilm", "A photo of a DOG, naïve café"])
        #expect(direct.status == 0, "\(direct.error)")
        #expect(direct.output.trimmingCharacters(in: .whitespacesAndNewlines) == expected)
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try "A photo of a DOG, naïve café\n".write(toFile: folder.file("prompt.txt"), atomically: true, encoding: .utf8)
        let fromFile = try runProcess(thermocolorBinary, ["tokenize", "--encoder", "minilm", "--file", folder.file("prompt.txt")])
        #expect(fromFile.output.trimmingCharacters(in: .whitespacesAndNewlines) == expected, "\(fromFile.error)")
        let piped = try runProcess("/bin/sh", ["-c", "\"$0\" tokenize --encoder minilm - < \"$1\"", thermocolorBinary, folder.file("prompt.txt")])
        #expect(piped.output.trimmingCharacters(in: .whitespacesAndNewlines) == expected, "\(piped.error)")
        let unknown = try runProcess(thermocolorBinary, ["tokenize", "--encoder", "no-such-encoder", "x"])
        #expect(unknown.status != 0)
        #expect(unknown.error.contains("no text encoder named 'no-such-encoder'") && unknown.error.contains(".deps/models"), "\(unknown.error)")
    }

    @Test("embed --encoder minilm: unit vectors in all-minilm-l6-v2 space, and meaning survives")
    func embedMiniLM() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let out = folder.file("e.json")
        let result = try runProcess(thermocolorBinary, ["embed", "--encoder", "minilm", "--cache", folder.file("cache"), "--out", out,
                                                        "a photo of a dog", "a photo of a cat", "an airplane"], timeout: 300)
        #expect(result.status == 0, "\(result.error)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
        #expect(object["@textSpace"] as? String == "all-minilm-l6-v2")
        let dog = try #require(object["a photo of a dog"] as? [Double])
        let cat = try #require(object["a photo of a cat"] as? [Double])
        let airplane = try #require(object["an airplane"] as? [Double])
        #expect(dog.count == 384)
        let dot = { (a: [Double], b: [Double]) in zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        #expect(dot(dog, cat) > dot(dog, airplane) + 0.2, "dog-cat \(dot(dog, cat)), dog-airplane \(dot(dog, airplane))")
    }

    @Test("convert computes an unbaked prompt with the model's space's encoder, through a cache keyed by space")
    func convertWithUnbakedPrompt() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let clip = folder.file("clip.mkv")
        try runProcess(thermocolorBinary, ["synth", clip, "--frames", "3", "--size", "64x48"])
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_CACHE_HOME"] = folder.file("xdg-cache")
        var frames: [[UInt8]] = []
        for prompt in ["warm", "a snowy forest under a grey sky"] {
            let output = folder.file("out-\(frames.count).mkv")
            let result = try runProcess(thermocolorBinary, ["convert", clip, output, "--model", fixtures + "/colorizer-minilm",
                                                            "--prompt", prompt, "--codec", "ffv1", "--precision", "f32", "-q"],
                                        environment: environment, timeout: 300)
            #expect(result.status == 0, "\(result.error)")
            frames.append(try #require(try ffmpegDecodeRGB(output, width: 64, height: 48)?.first))
        }
        #expect(frames[0] != frames[1], "the computed prompt must change the colours")
        let entries = try FileManager.default.contentsOfDirectory(atPath: folder.file("xdg-cache/thermocolor/embeddings"))
        #expect(entries.filter { $0.hasSuffix(".embedding") }.count == 1, "\(entries)")
        let entry = try Data(contentsOf: URL(fileURLWithPath: folder.file("xdg-cache/thermocolor/embeddings/" + entries.first { $0.hasSuffix(".embedding") }!)))
        #expect(String(decoding: entry, as: UTF8.self).contains("all-minilm-l6-v2/wordpiece-text-"))
    }

    @Test("An encoder of another space is one line naming both spaces")
    func mismatchedSpace() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        // A CLIP bundle that records its space.
        let spaced = folder.file("clip-spaced")
        try FileManager.default.copyItem(atPath: tinyClip, toPath: spaced)
        let manifest = try String(contentsOfFile: spaced + "/clip.json", encoding: .utf8)
            .replacingOccurrences(of: "\"version\": 1,", with: "\"version\": 1, \"textSpace\": \"clip-tiny-test\",")
        try manifest.write(toFile: spaced + "/clip.json", atomically: true, encoding: .utf8)
        for (encoder, space) in [(spaced, "'clip-tiny-test'"), (tinyClip, "records no text space")] {
            let result = try runProcess(thermocolorBinary, [
                "convert", packageRoot + "/Samples/thermal-sample.mkv", folder.file("never.mp4"),
                "--model", fixtures + "/colorizer-minilm", "--clip", encoder, "--prompt", "an unbaked prompt",
            ])
            #expect(result.status != 0)
            #expect(result.error.split(separator: "\n").count == 1, "\(result.error)")
            #expect(result.error.contains("text space mismatch") && result.error.contains("'all-minilm-l6-v2'") && result.error.contains(space),
                    "\(result.error)")
            #expect(!FileManager.default.fileExists(atPath: folder.file("never.mp4")))
        }
        // Baking: the wrong space is refused; without --encoder the model's space picks minilm.
        let bundle = folder.file("bundle")
        try FileManager.default.copyItem(atPath: fixtures + "/colorizer-minilm", toPath: bundle)
        let refused = try runProcess(thermocolorBinary, ["embed", "--clip", spaced, "--no-cache", "--into-bundle", bundle, "fog"])
        #expect(refused.status != 0)
        #expect(refused.error.contains("'clip-tiny-test'") && refused.error.contains("'all-minilm-l6-v2'"), "\(refused.error)")
        let baked = try runProcess(thermocolorBinary, ["embed", "--no-cache", "--into-bundle", bundle, "fog"], timeout: 300)
        #expect(baked.status == 0, "\(baked.error)")
        let updated = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bundle + "/model.json"))) as? [String: Any])
        #expect((updated["embeddings"] as? [String: [Double]])?["fog"]?.count == 384)
        #expect(updated["textSpace"] as? String == "all-minilm-l6-v2")
    }
}

