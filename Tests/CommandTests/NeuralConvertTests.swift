import Foundation
import TestSupport
import Testing

@Suite("thermocolor convert --model (real OpenVINO)")
struct NeuralConvertTests {
    let fixtures = packageRoot + "/Tests/InferenceTests/Fixtures"

    func convert(_ arguments: [String]) throws -> ProcessResult {
        try runProcess(thermocolorBinary, ["convert"] + arguments + ["--precision", "f32", "-q"])
    }

    @Test("Batch 1 and batch 8 give the same frames, and every frame arrives in order")
    func batchesAgree() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let clip = folder.file("clip.mkv")
        try runProcess(thermocolorBinary, ["synth", clip, "--frames", "19", "--size", "96x64"])
        var decoded: [[[UInt8]]] = []
        for batch in ["1", "8"] {
            let output = folder.file("b\(batch).mkv")
            let result = try convert([clip, output, "--model", fixtures + "/colorizer-rgb", "--batch", batch, "--codec", "ffv1"])
            #expect(result.status == 0, "\(result.error)")
            decoded.append(try #require(try ffmpegDecodeRGB(output, width: 96, height: 64)))
        }
        #expect(decoded[0].count == 19)
        #expect(decoded[0] == decoded[1])
    }

    @Test("The prompt changes the colours")
    func promptMatters() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let clip = folder.file("clip.mkv")
        try runProcess(thermocolorBinary, ["synth", clip, "--frames", "3", "--size", "64x48"])
        var frames: [[UInt8]] = []
        for prompt in ["warm", "cold"] {
            let output = folder.file("\(prompt).mkv")
            let result = try convert([clip, output, "--model", fixtures + "/colorizer-rgb", "--prompt", prompt, "--codec", "ffv1"])
            #expect(result.status == 0, "\(result.error)")
            frames.append(try #require(try ffmpegDecodeRGB(output, width: 64, height: 48)?.first))
        }
        #expect(frames[0] != frames[1])
    }

    @Test("A broken bundle is one clear line and a non-zero exit", arguments: ["missing-model", "wrong-tensor-name", "wrong-text-dimension"])
    func brokenBundle(name: String) throws {
        let result = try convert([packageRoot + "/Samples/thermal-sample.mkv", "/tmp/never.mp4", "--model", fixtures + "/broken/" + name])
        #expect(result.status != 0)
        #expect(!result.crashed)
        #expect(result.error.split(separator: "\n").count == 1, "\(result.error)")
        #expect(result.error.contains("broken/\(name)"))
    }

    @Test("--temporal-smoothing leaves the first frame alone, steadies the rest, and refuses values outside 0–1")
    func temporalSmoothing() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let clip = folder.file("clip.mkv")
        try runProcess(thermocolorBinary, ["synth", clip, "--frames", "6", "--size", "64x48"])
        let embedding = folder.file("prompt.json")
        try "[0.5, -0.25, 0.75, 0.1]".write(toFile: embedding, atomically: true, encoding: .utf8)
        var decoded: [[[UInt8]]] = []
        for strength in ["0", "0.8"] {
            let output = folder.file("s\(strength).mkv")
            let result = try convert([clip, output, "--model", fixtures + "/colorizer-ab", "--codec", "ffv1",
                                      "--embedding", embedding, "--temporal-smoothing", strength])
            #expect(result.status == 0, "\(result.error)")
            decoded.append(try #require(try ffmpegDecodeRGB(output, width: 64, height: 48)))
        }
        #expect(decoded[0].count == 6 && decoded[1].count == 6)
        #expect(decoded[0][0] == decoded[1][0])
        #expect(decoded[0] != decoded[1])
        let refused = try convert([clip, folder.file("x.mkv"), "--model", fixtures + "/colorizer-ab", "--temporal-smoothing", "1.5"])
        #expect(refused.status != 0)
        #expect(refused.error.contains("--temporal-smoothing must be from 0 (off) to 1"), "\(refused.error)")
    }
}
