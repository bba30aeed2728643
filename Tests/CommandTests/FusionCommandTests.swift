import Foundation
import Imaging
import MediaIO
import TestSupport
import Testing

@Suite("thermocolor convert --visible / --reference")
struct FusionCommandTests {
    /// A cool thermal picture with one hot square, and a visible picture with coloured stripes.
    func writePair(in folder: TemporaryFolder, width: Int = 96, height: Int = 64) throws -> (thermal: String, visible: String) {
        var thermal = Gray16Image(width: width, height: height, repeating: 9000)
        for y in 20..<40 { for x in 30..<50 { thermal[x, y] = 14000 } }
        for i in thermal.samples.indices { thermal.samples[i] &+= UInt16(i % 7) }
        var visible = RGBImage(width: width, height: height, channels: 3, repeating: 0)
        for y in 0..<height {
            for x in 0..<width {
                let stripe = (x / 8) % 2 == 0
                visible[x, y, 0] = stripe ? 200 : 40
                visible[x, y, 1] = 90
                visible[x, y, 2] = stripe ? 40 : 190
            }
        }
        let thermalPath = folder.file("thermal.png"), visiblePath = folder.file("visible.png")
        try ImageFile.writePNG(thermal, to: thermalPath)
        try ImageFile.writePNG(visible, to: visiblePath)
        return (thermalPath, visiblePath)
    }

    @Test("An image pair fuses: the hot target shows and the visible colours stay", arguments: ["pyramid", "guided", "weighted", "max"])
    func imagePair(method: String) throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let (thermal, visible) = try writePair(in: folder)
        let output = folder.file("fused.png")
        let result = try runProcess(thermocolorBinary, ["convert", thermal, output, "--visible", visible, "--fuse", method])
        #expect(result.status == 0, "\(result.error)")
        let fused = try ImageFile.readRGB(output)
        #expect(fused.width == 96 && fused.height == 64)
        func luma(_ x: Int, _ y: Int) -> Double { 0.299 * Double(fused[x, y, 0]) + 0.587 * Double(fused[x, y, 1]) + 0.114 * Double(fused[x, y, 2]) }
        // Inside the hot square (a red stripe) against the same stripe outside it.
        #expect(luma(33, 30) > luma(33, 55) + 15)
        // Chroma of the stripes survives: red stripes stay redder than blue ones.
        #expect(Int(fused[4, 5, 0]) - Int(fused[4, 5, 2]) > 60)
        #expect(Int(fused[12, 5, 2]) - Int(fused[12, 5, 0]) > 60)
    }

    @Test("Videos at different frame rates pair by time; when the visible clip ends, thermal goes on alone and says so")
    func videoPairingAndStall() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let (thermal, visible) = try stallingPair(in: folder)
        let output = folder.file("fused.mkv")
        let result = try runProcess(thermocolorBinary, ["convert", thermal, output, "--visible", visible, "--codec", "ffv1",
                                                        "--pair-tolerance", "0.04"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.error.contains("colouring thermal only"))
        let frames = try #require(try ffmpegDecodeRGB(output, width: 96, height: 64))
        #expect(frames.count == 30)
        // Fused frames carry testsrc's colours; the late ones only the ironbow palette's.
        func saturation(_ frame: [UInt8]) -> Int {
            stride(from: 0, to: frame.count, by: 3).map { Int(max(frame[$0], frame[$0 + 1], frame[$0 + 2])) - Int(min(frame[$0], frame[$0 + 1], frame[$0 + 2])) }.max() ?? 0
        }
        #expect(saturation(frames[2]) > 100)
        #expect(frames[25] != frames[2])
    }

    /// A 30 fps thermal clip of one second, and a 15 fps visible clip that stops after half a second.
    func stallingPair(in folder: TemporaryFolder) throws -> (thermal: String, visible: String) {
        let thermal = folder.file("thermal.mkv")
        #expect(try runProcess(thermocolorBinary, ["synth", thermal, "--frames", "30", "--size", "96x64", "--fps", "30"]).status == 0)
        // Visible: 15 fps, only half a second long, then it stops.
        let visible = folder.file("visible.mkv")
        #expect(try runProcess("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc=size=96x64:rate=15", "-t", "0.5",
                                          "-c:v", "ffv1", visible]).status == 0)
        return (thermal, visible)
    }

    /// The test fixture fuser (a few nodes, Scripts/make-test-models.py) and an embedding file for its 4-value text input.
    func fixtureFuser(in folder: TemporaryFolder) throws -> [String] {
        let embedding = folder.file("embedding.json")
        try "[0.5, -0.25, 0.125, 1.0]".write(toFile: embedding, atomically: true, encoding: .utf8)
        return ["--model", packageRoot + "/Tests/InferenceTests/Fixtures/fuser", "--embedding", embedding]
    }

    @Test("A neural fuser pairs by time too; when the visible clip ends, the run goes on with the thermal frame and says so")
    func neuralFuserStall() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let (thermal, visible) = try stallingPair(in: folder)
        let output = folder.file("fused.mkv")
        let result = try runProcess(thermocolorBinary, ["convert", thermal, output, "--visible", visible, "--codec", "ffv1",
                                                        "--pair-tolerance", "0.04", "--precision", "f32"] + (try fixtureFuser(in: folder)))
        #expect(result.status == 0, "\(result.error)")
        #expect(result.error.contains("colouring thermal only"))
        let frames = try #require(try ffmpegDecodeRGB(output, width: 96, height: 64))
        #expect(frames.count == 30)
        #expect(frames[25] != frames[2])
    }

    @Test("A still pair goes through a neural fuser when --model names one")
    func neuralStillPair() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let (thermal, visible) = try writePair(in: folder)
        let classic = folder.file("classic.png"), neural = folder.file("neural.png")
        #expect(try runProcess(thermocolorBinary, ["convert", thermal, classic, "--visible", visible]).status == 0)
        let result = try runProcess(thermocolorBinary, ["convert", thermal, neural, "--visible", visible, "--precision", "f32"]
                                    + (try fixtureFuser(in: folder)))
        #expect(result.status == 0, "\(result.error)")
        let picture = try ImageFile.readRGB(neural)
        #expect(picture.width == 96 && picture.height == 64)
        #expect(picture.samples != (try ImageFile.readRGB(classic)).samples)
    }

    @Test("A registration file is applied to the visible picture")
    func homographyFile() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let (thermal, visible) = try writePair(in: folder)
        let registration = folder.file("h.json")
        try Homography.translation(dx: 8, dy: 0).write(to: URL(fileURLWithPath: registration))
        let plain = folder.file("plain.png"), shifted = folder.file("shifted.png")
        #expect(try runProcess(thermocolorBinary, ["convert", thermal, plain, "--visible", visible]).status == 0)
        #expect(try runProcess(thermocolorBinary, ["convert", thermal, shifted, "--visible", visible, "--homography", registration]).status == 0)
        let a = try ImageFile.readRGB(plain), b = try ImageFile.readRGB(shifted)
        // Shifting by one stripe width swaps red and blue away from the hot square.
        #expect(Int(a[4, 5, 0]) - Int(a[4, 5, 2]) > 60)
        #expect(Int(b[12, 5, 0]) - Int(b[12, 5, 2]) > 60)
        let broken = try runProcess(thermocolorBinary, ["convert", thermal, shifted, "--visible", visible, "--homography", "/nonexistent.json"])
        #expect(broken.status != 0)
        #expect(broken.error.contains("/nonexistent.json"))
    }

    @Test("A reference image lends its colours to a thermal video")
    func referenceTransfer() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let (_, visible) = try writePair(in: folder)
        let thermal = folder.file("thermal.mkv")
        try runProcess(thermocolorBinary, ["synth", thermal, "--frames", "5", "--size", "96x64"])
        let output = folder.file("ref.mkv")
        let result = try runProcess(thermocolorBinary, ["convert", thermal, output, "--reference", visible, "--codec", "ffv1"])
        #expect(result.status == 0, "\(result.error)")
        #expect(try ffprobe(output).frameCount == 5)
    }
}
