import Foundation
import Imaging
import MediaIO
import TestSupport
import Testing

/// The shipped reference colouriser and fuser bundles through the engine, on
/// small generated inputs (Tests/CommandTests/SeedModels, written with the
/// expected pictures by the bundles' make-reference / make-fuser command
/// from the PyTorch model): the engine must give the picture PyTorch gave.
@Suite("Shipped seed models through the engine (real OpenVINO, f32)")
struct SeedModelTests {
    let fixtures = packageRoot + "/Tests/CommandTests/SeedModels"
    let models = packageRoot + "/models"

    func convert(_ arguments: [String]) throws -> RGBImage {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let output = folder.file("out.png")
        let result = try runProcess(thermocolorBinary, ["convert"] + arguments.prefix(1) + [output]
                                    + arguments.dropFirst() + ["--precision", "f32", "-q"])
        guard result.status == 0 else { throw TestFailure("convert \(arguments) failed: \(result.error)") }
        return try ImageFile.readRGB(output)
    }

    /// The largest per-channel difference between two pictures of one size.
    func largestDifference(_ a: RGBImage, _ b: RGBImage) -> Int {
        zip(a.samples, b.samples).map { abs(Int($0) - Int($1)) }.max() ?? 0
    }

    func meanDifference(_ picture: RGBImage, toGray gray: RGBImage) -> Double {
        var total = 0.0
        for pixel in 0..<picture.width * picture.height {
            let luma = 0.299 * Double(picture.samples[3 * pixel]) + 0.587 * Double(picture.samples[3 * pixel + 1])
                + 0.114 * Double(picture.samples[3 * pixel + 2])
            total += abs(luma - Double(gray.samples[3 * pixel]))
        }
        return total / Double(picture.width * picture.height)
    }

    @Test("reference-colorizer: the engine's picture is PyTorch's, within 2/255")
    func referenceColorizer() throws {
        let folder = fixtures + "/reference-colorizer"
        let picture = try convert([folder + "/thermal.png", "--model", models + "/reference-colorizer",
                                   "--reference", folder + "/reference.png"])
        let expected = try ImageFile.readRGB(folder + "/expected.png")
        #expect(picture.width == expected.width && picture.height == expected.height)
        #expect(largestDifference(picture, expected) <= 2)
    }

    @Test("reference-colorizer: another reference gives other colours")
    func referenceMatters() throws {
        let folder = fixtures + "/reference-colorizer"
        let withReference = try convert([folder + "/thermal.png", "--model", models + "/reference-colorizer",
                                         "--reference", folder + "/reference.png"])
        // An orange sunset picture instead of the blue, green and grey daylight one.
        let scratch = try TemporaryFolder()
        defer { scratch.cleanup() }
        var samples: [UInt8] = []
        for y in 0..<48 {
            for _ in 0..<64 {
                let pixel: [UInt8] = [UInt8(120 + 2 * y), UInt8(60 + y), 30]
                samples += pixel
            }
        }
        let sunset = scratch.file("sunset.png")
        try ImageFile.writePNG(RGBImage(width: 64, height: 48, channels: 3, samples: samples), to: sunset)
        let withOther = try convert([folder + "/thermal.png", "--model", models + "/reference-colorizer",
                                     "--reference", sunset])
        #expect(largestDifference(withReference, withOther) > 10)
    }

    @Test("text-fuser: the engine's picture is PyTorch's, within 2/255, for the default and two prompts",
          arguments: [("expected.png", nil), ("expected-thermal-prompt.png", "make warm pedestrians and animals stand out"),
                      ("expected-visible-prompt.png", "keep the daylight colours natural")] as [(String, String?)])
    func textFuser(expectedFile: String, prompt: String?) throws {
        let folder = fixtures + "/text-fuser"
        let picture = try convert([folder + "/thermal.png", "--model", models + "/text-fuser",
                                   "--visible", folder + "/visible.png"] + (prompt.map { ["--prompt", $0] } ?? []))
        let expected = try ImageFile.readRGB(folder + "/\(expectedFile)")
        #expect(picture.width == expected.width && picture.height == expected.height)
        #expect(largestDifference(picture, expected) <= 2)
    }

    @Test("text-fuser: asking for warm things brings the picture nearer the thermal frame than asking for daylight colours")
    func promptsShiftTheBalance() throws {
        let folder = fixtures + "/text-fuser"
        let arguments = [folder + "/thermal.png", "--model", models + "/text-fuser", "--visible", folder + "/visible.png"]
        let warm = try convert(arguments + ["--prompt", "make warm pedestrians and animals stand out"])
        let daylight = try convert(arguments + ["--prompt", "keep the daylight colours natural"])
        let thermal = try ImageFile.readRGB(folder + "/thermal.png")
        #expect(meanDifference(warm, toGray: thermal) < meanDifference(daylight, toGray: thermal))
    }
}
