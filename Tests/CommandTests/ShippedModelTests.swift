import Foundation
import TestSupport
import Testing

/// The shipped bundle through the real engine, against pixels PyTorch made
/// for the same frame (`python -m thermocolor_training reference`): the
/// sample clip's first frame after gain control, default prompt, f32.
@Suite("The shipped road-colorizer bundle (real OpenVINO, f32)")
struct ShippedModelTests {
    let bundle = packageRoot + "/models/road-colorizer"
    let reference = packageRoot + "/models/road-colorizer/validation/reference"

    @Test("The engine's picture is within 2/255 of PyTorch's on the reference frame")
    func matchesReferencePixels() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let output = folder.file("out.png")
        let result = try runProcess(thermocolorBinary, ["convert", reference + "/input.png", output,
                                                        "--model", bundle, "--precision", "f32", "-q"])
        #expect(result.status == 0, "\(result.error)")
        let got = try #require(try ffmpegDecodeRGB(output, width: 320, height: 256)?.first)
        let want = try #require(try ffmpegDecodeRGB(reference + "/output.png", width: 320, height: 256)?.first)
        #expect(got.count == want.count)
        let worst = zip(got, want).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(worst <= 2, "largest difference \(worst)/255")
    }

    @Test("A baked prompt changes the picture")
    func promptSteers() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        var pictures: [[UInt8]] = []
        for prompt in ["a road under a grey overcast sky", "a road on a bright sunny day under a clear blue sky"] {
            let output = folder.file("\(pictures.count).png")
            let result = try runProcess(thermocolorBinary, ["convert", reference + "/input.png", output, "--model", bundle,
                                                            "--prompt", prompt, "--precision", "f32", "-q"])
            #expect(result.status == 0, "\(result.error)")
            pictures.append(try #require(try ffmpegDecodeRGB(output, width: 320, height: 256)?.first))
        }
        #expect(pictures[0] != pictures[1])
    }

    @Test("The summary names the default prompt when none was given, and not otherwise")
    func summaryNamesTheDefaultPrompt() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let without = try runProcess(thermocolorBinary, ["convert", reference + "/input.png", folder.file("a.png"),
                                                         "--model", bundle])
        #expect(without.status == 0, "\(without.error)")
        #expect(without.output.contains("prompt: the model's default, \"a road in daylight\""), "\(without.output)")
        let with = try runProcess(thermocolorBinary, ["convert", reference + "/input.png", folder.file("b.png"),
                                                      "--model", bundle, "--prompt", "a city street at night"])
        #expect(with.status == 0, "\(with.error)")
        #expect(!with.output.contains("prompt:"), "\(with.output)")
    }
}
