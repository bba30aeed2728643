import Foundation
import Imaging
import TestSupport
import Testing

@Suite("thermocolor convert --segment, --output", .timeLimit(.minutes(3)))
struct SegmentedConvertTests {
    @Test("SIGKILL while recording segments from a live feed: every segment on disk still decodes")
    func sigkillSegments() throws {
        let folder = try TemporaryFolder("killed")
        defer { folder.cleanup() }
        // A named pipe stands in for a camera: frames arrive only as fast as the test writes them.
        let fifo = folder.file("camera.y16")
        #expect(mkfifo(fifo, 0o600) == 0)
        let recordings = folder.file("recordings")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: thermocolorBinary)
        process.arguments = ["convert", fifo, recordings + "/", "--segment", "3s", "-q",
                             "--input-format", "rawvideo", "--input-option", "video_size=160x128",
                             "--input-option", "pixel_format=gray16le", "--input-option", "framerate=25"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        // Opening for writing waits for the reader; poll so a failed start cannot hang the test.
        var pipe: Int32 = -1
        let deadline = Date(timeIntervalSinceNow: 60)
        while pipe < 0, process.isRunning, Date() < deadline {
            pipe = open(fifo, O_WRONLY | O_NONBLOCK)
            if pipe < 0 { usleep(20_000) }
        }
        try #require(pipe >= 0, "thermocolor never opened the feed")
        defer { close(pipe) }
        _ = fcntl(pipe, F_SETFL, fcntl(pipe, F_GETFL) & ~O_NONBLOCK)

        let fed = 200
        var scene = try ThermalSceneSynthesizer(width: 160, height: 128, significantBits: 14, seed: 3)
        for _ in 0..<fed {
            let frame = scene.nextFrame()
            let written = frame.samples.withUnsafeBytes { write(pipe, $0.baseAddress, $0.count) }
            try #require(written == 160 * 128 * 2)
        }
        // Everything fed has gone through by the time the files stop growing; then the power goes.
        var lastTotal: Int64 = -1
        var stableSince = Date()
        while Date() < deadline {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: recordings)) ?? []
            let total = names.map { fileSize(recordings + "/" + $0) }.reduce(0, +)
            if total != lastTotal {
                lastTotal = total
                stableSince = Date()
            } else if names.count >= 3, Date().timeIntervalSince(stableSince) > 1.5 {
                break
            }
            usleep(50_000)
        }
        #expect(process.isRunning, "the conversion ended before it was killed")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)

        let names = try FileManager.default.contentsOfDirectory(atPath: recordings).sorted()
        #expect(names.count == 3, "\(names)")
        var decoded = 0
        for (index, name) in names.enumerated() {
            let path = recordings + "/" + name
            #expect(name.range(of: "^thermocolor-[0-9]{8}-[0-9]{6}\\.mp4$", options: .regularExpression) != nil)
            let check = try runProcess("ffmpeg", ["-v", "error", "-i", path, "-f", "null", "-"])
            #expect(check.status == 0 && check.error.isEmpty, "\(name): \(check.error)")
            let frames = try ffprobe(path).frameCount
            if index < 2 { #expect(frames == 75, "\(name) was closed, so it holds its whole three seconds") }
            decoded += frames
        }
        // Lost: the fragment being filled (up to a second) and what the encoder still held.
        let lost = fed - decoded
        print("SIGKILL lost \(lost) of \(fed) frames")
        #expect(lost >= 0)
        #expect(lost <= 25 + 20, "lost \(lost) frames: more than a one-second fragment and the encoder's look-ahead")
    }

    @Test("One conversion, three outputs: a file, a folder of segments and MPEG-TS, all from one encode")
    func moreOutputs() throws {
        let folder = try TemporaryFolder("more")
        defer { folder.cleanup() }
        let clip = folder.file("clip.mkv")
        #expect(try runProcess(thermocolorBinary, ["synth", clip, "--frames", "60", "--size", "96x64", "--fps", "20"]).status == 0)
        let main = folder.file("main.mp4")
        let transport = folder.file("copy.ts")
        let segments = folder.file("segments")
        let result = try runProcess(thermocolorBinary, ["convert", clip, main, "--output", transport, "--output", segments + "/",
                                                        "--max-total", "10M"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("also wrote \(transport): 60 of 60 frames"), "\(result.output)")
        #expect(try ffprobe(main).frameCount == 60)
        #expect(try ffprobe(transport).frameCount == 60)
        let files = try FileManager.default.contentsOfDirectory(atPath: segments)
        #expect(files.count == 1, "60 frames fit one default one-minute segment: \(files)")
        #expect(try ffprobe(segments + "/" + files[0]).frameCount == 60)
    }

    @Test("Recording limits without segments are refused with a hint")
    func limitsNeedSegments() throws {
        let result = try runProcess(thermocolorBinary, ["convert", "in.mkv", "out.mp4", "--max-total", "2G"], timeout: 60)
        #expect(result.status != 0)
        #expect(result.error.contains("--segment"))
    }
}

private func fileSize(_ path: String) -> Int64 {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
}
