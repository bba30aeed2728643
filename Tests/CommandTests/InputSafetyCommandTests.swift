import Foundation
import TestSupport
import Testing

@Suite("Inputs are never written over, and odd inputs are explained")
struct InputSafetyCommandTests {
    private func synthClip(in folder: TemporaryFolder, name: String = "same.mkv", frames: Int = 12) throws -> String {
        let clip = folder.file(name)
        try runProcess(thermocolorBinary, ["synth", clip, "--frames", String(frames), "--size", "64x48"])
        return clip
    }

    private func fileBytes(_ path: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: path))
    }

    private func expectRefusal(_ result: ProcessResult, naming path: String) {
        #expect(result.status != 0)
        #expect(!result.crashed, "the process crashed: \(result.error)")
        let lines = result.error.split(separator: "\n").filter { !$0.isEmpty }
        #expect(lines.count == 1, "expected one error line, got: \(result.error)")
        #expect(result.error.contains("refusing to write '\(path)'"), "\(result.error)")
        #expect(result.error.contains("it is the input"), "\(result.error)")
    }

    @Test("The same path as input and output, by any name, is refused and the input kept byte for byte",
          arguments: ["same", "dot-slash", "absolute", "symlink", "hardlink", "--output", "--preview"])
    func sameFileRefused(spelling: String) throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let clip = try synthClip(in: folder)
        let before = try fileBytes(clip)
        var arguments = ["convert", "same.mkv"]
        let written: String
        switch spelling {
        case "same": written = "same.mkv"
        case "dot-slash": written = "./same.mkv"
        case "absolute": written = clip
        case "symlink":
            try FileManager.default.createSymbolicLink(atPath: folder.file("link.mkv"), withDestinationPath: clip)
            written = "link.mkv"
        case "hardlink":
            try FileManager.default.linkItem(atPath: clip, toPath: folder.file("hard.mkv"))
            written = "hard.mkv"
        default: written = "./same.mkv"
        }
        switch spelling {
        case "--output": arguments += ["other.mp4", "--output", written]
        case "--preview": arguments += ["other.mp4", "--preview", written]
        default: arguments += [written]
        }
        let result = try runProcess(thermocolorBinary, arguments, currentDirectory: folder.path, timeout: 60)
        expectRefusal(result, naming: written)
        #expect(try fileBytes(clip) == before, "the input changed")
        #expect(!FileManager.default.fileExists(atPath: folder.file("other.mp4")), "an output was opened before the refusal")
    }

    @Test("A still picture written over itself is refused")
    func sameStillRefused() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let picture = folder.file("ir.png")
        try runProcess("/usr/bin/ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc=s=32x24", "-frames:v", "1", "-pix_fmt", "gray", picture])
        let before = try fileBytes(picture)
        let result = try runProcess(thermocolorBinary, ["convert", picture, picture], timeout: 60)
        expectRefusal(result, naming: picture)
        #expect(try fileBytes(picture) == before)
    }

    @Test("run refuses to record over the file it plays")
    func liveSameFileRefused() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let clip = try synthClip(in: folder)
        let before = try fileBytes(clip)
        let result = try runProcess(thermocolorBinary, ["run", "--input", clip, "--output", "./same.mkv"],
                                    currentDirectory: folder.path, timeout: 60)
        #expect(result.status != 0)
        #expect(result.error.contains("refusing to write './same.mkv'"), "\(result.error)")
        #expect(try fileBytes(clip) == before)
    }

    @Test("An odd picture size is cropped to even with one line saying so")
    func oddSizeSaysSo() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let clip = folder.file("odd.mkv")
        try runProcess("/usr/bin/ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc=s=65x49:d=0.4:r=25",
                                           "-pix_fmt", "gray", "-c:v", "ffv1", clip])
        let output = folder.file("odd.mp4")
        let result = try runProcess(thermocolorBinary, ["convert", clip, output], timeout: 60)
        #expect(result.status == 0, "\(result.error)")
        #expect(result.error.contains("the input is 65×49; h264 needs even sizes, so the output is 64×48"), "\(result.error)")
        let probed = try ffprobe(output)
        #expect(probed.width == 64 && probed.height == 48)
        #expect(probed.frameCount == 10)
    }

    @Test("A 1×1 input says the picture is too small for the codec")
    func tinyPicture() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let clip = folder.file("tiny.mkv")
        try runProcess("/usr/bin/ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc=s=1x1:d=0.2", "-pix_fmt", "gray", "-c:v", "ffv1", clip])
        let result = try runProcess(thermocolorBinary, ["convert", clip, folder.file("tiny.mp4")], timeout: 60)
        #expect(result.status != 0)
        #expect(!result.crashed)
        #expect(result.error.contains("1×1, too small for h264"), "\(result.error)")
    }

    @Test("Out-of-range --crf, --preset and --read-timeout are refused before any work",
          arguments: [["--crf", "99"], ["--crf", "-1"], ["--preset", "warp"], ["--read-timeout", "0"], ["--read-timeout=-3"]])
    func rangesChecked(option: [String]) throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let clip = try synthClip(in: folder, name: "in.mkv", frames: 2)
        let result = try runProcess(thermocolorBinary, ["convert", clip, folder.file("out.mp4")] + option, timeout: 60)
        #expect(result.status != 0)
        #expect(result.error.contains(option[0].split(separator: "=")[0]), "\(result.error)")
        #expect(!FileManager.default.fileExists(atPath: folder.file("out.mp4")))
    }

    @Test("probe reports the bits a 14-bit clip really uses")
    func probeMeasuresBits() throws {
        let result = try runProcess(thermocolorBinary, ["probe", packageRoot + "/Samples/thermal-sample.mkv", "--json"])
        #expect(result.status == 0, "\(result.error)")
        let fields = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: String])
        #expect(fields["significant_bits"] == "14")
    }

    @Test("check-config on a folder says it is a folder")
    func configFolder() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let result = try runProcess(thermocolorBinary, ["check-config", folder.path], timeout: 60)
        #expect(result.status != 0)
        #expect(result.error.contains("is a directory"), "\(result.error)")
    }
}
