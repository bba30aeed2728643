import Foundation
import TestSupport
import Testing

/// Frames a receiver got, as ffmpeg counts them in what it wrote: decoded
/// frames, or (`packets`) the packets it copied. ffmpeg's own RTSP demuxer
/// loses the last B-frames of a stream when it decodes (it does so with ffmpeg
/// as the sender too), so RTSP is counted in packets.
func receivedCount(_ path: String, packets: Bool = false) throws -> Int {
    if packets {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.count
    }
    return FileManager.default.fileExists(atPath: path) ? try ffprobe(path).frameCount : 0
}

/// An ffmpeg receiver on 127.0.0.1 that writes what it gets to `path`:
/// decoded to raw video in NUT, or packet checksums (`packets`).
func startReceiver(_ input: [String], writingTo path: String, packets: Bool = false) throws -> BackgroundProcess {
    let output = packets ? ["-c", "copy", "-f", "framecrc", path] : ["-c:v", "rawvideo", "-f", "nut", path]
    return try BackgroundProcess("ffmpeg", ["-nostdin", "-v", "error", "-y"] + input + output)
}

/// A thermal clip written by ffmpeg (8-bit grey FFV1 in Matroska), `frames` long.
func makeClip(_ path: String, frames: Int, size: String = "160x128", rate: Int = 30) throws {
    let made = try runProcess("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=\(size):rate=\(rate)",
                                         "-frames:v", String(frames), "-pix_fmt", "gray", "-c:v", "ffv1", path])
    guard made.status == 0 else { throw TestFailure("ffmpeg could not make \(path): \(made.error)") }
}

/// Offline, every output gets every frame or the run says which did not and
/// exits non-zero; live, drops are counted and said. Real ffmpeg peers on
/// 127.0.0.1 count what arrived.
@Suite("Delivery and exit status, against real ffmpeg peers", .serialized, .timeLimit(.minutes(5)))
struct DeliveryCommandTests {
    // MARK: Offline network outputs

    @Test("Offline RTMP push of a short clip to an ffmpeg -listen 1 receiver: 90 of 90 frames arrive")
    func offlineRTMP() throws {
        let folder = try TemporaryFolder("rtmp")
        defer { folder.cleanup() }
        let clip = folder.file("in.mkv")
        try makeClip(clip, frames: 90)
        let port = freePort()
        let received = folder.file("received.nut")
        let receiver = try startReceiver(["-listen", "1", "-i", "rtmp://127.0.0.1:\(port)/live/thermal"], writingTo: received)
        defer { receiver.stop(signal: SIGKILL) }
        let url = "rtmp://127.0.0.1:\(port)/live/thermal"
        let convert = try runProcess(thermocolorBinary, ["convert", clip, url], timeout: 120)
        #expect(convert.status == 0, "\(convert.error)")
        #expect(convert.output.contains("wrote \(url): 90 of 90 frames"), "\(convert.output)")
        #expect(receiver.waitForExit(timeout: 30), "the receiver did not end with the stream")
        #expect(try receivedCount(received) == 90)
    }

    @Test("Offline RTSP push (B-frames, offline GOP) to an ffmpeg listener: 90 of 90 packets arrive")
    func offlineRTSP() throws {
        let folder = try TemporaryFolder("rtsp-offline")
        defer { folder.cleanup() }
        let clip = folder.file("in.mkv")
        try makeClip(clip, frames: 90)
        let port = freePort()
        let received = folder.file("received.crc")
        let receiver = try startReceiver(["-rtsp_flags", "listen", "-i", "rtsp://127.0.0.1:\(port)/live"], writingTo: received,
                                         packets: true)
        defer { receiver.stop(signal: SIGKILL) }
        let url = "rtsp://127.0.0.1:\(port)/live"
        let convert = try runProcess(thermocolorBinary, ["convert", clip, url], timeout: 120)
        #expect(convert.status == 0, "\(convert.error)")
        #expect(convert.output.contains("wrote \(url): 90 of 90 frames"), "\(convert.output)")
        #expect(receiver.waitForExit(timeout: 30), "the receiver did not end with the session")
        #expect(try receivedCount(received, packets: true) == 90)
    }

    @Test("Offline SRT and UDP beside a file, a long clip: 300 of 300 frames reach each receiver")
    func offlineSRTAndUDP() throws {
        let folder = try TemporaryFolder("srt-offline")
        defer { folder.cleanup() }
        let clip = folder.file("in.mkv")
        try makeClip(clip, frames: 300)
        let srtPort = freePort(udp: true)
        let udpPort = freePort(udp: true)
        let srtReceived = folder.file("srt.nut")
        let udpReceived = folder.file("udp.nut")
        let srt = try startReceiver(["-i", "srt://127.0.0.1:\(srtPort)?mode=listener"], writingTo: srtReceived)
        defer { srt.stop(signal: SIGKILL) }
        let udp = try startReceiver(["-i", "udp://127.0.0.1:\(udpPort)?timeout=3000000&fifo_size=100000"], writingTo: udpReceived)
        defer { udp.stop(signal: SIGKILL) }
        usleep(500_000)  // the UDP receiver binds its port; datagrams before that are nobody's
        let file = folder.file("out.mp4")
        let convert = try runProcess(thermocolorBinary, ["convert", clip, file, "--output", "srt://127.0.0.1:\(srtPort)",
                                                         "--output", "udp://127.0.0.1:\(udpPort)"], timeout: 120)
        #expect(convert.status == 0, "\(convert.error)")
        #expect(convert.output.contains("wrote \(file): 300 of 300 frames"), "\(convert.output)")
        #expect(convert.output.contains("also wrote srt://127.0.0.1:\(srtPort): 300 of 300 frames"), "\(convert.output)")
        #expect(srt.waitForExit(timeout: 30))
        #expect(udp.waitForExit(timeout: 30))
        #expect(try ffprobe(file).frameCount == 300)
        #expect(try receivedCount(srtReceived) == 300)
        #expect(try receivedCount(udpReceived) == 300)
    }

    @Test("Offline to an RTSP server that is not there: the file still gets every frame, the exit is 3 and says why")
    func unreachableOutputFails() throws {
        let folder = try TemporaryFolder("unreachable")
        defer { folder.cleanup() }
        let clip = folder.file("in.mkv")
        try makeClip(clip, frames: 90)
        let file = folder.file("out.mkv")
        let url = "rtsp://127.0.0.1:\(freePort())/live"
        let convert = try runProcess(thermocolorBinary, ["convert", clip, file, "--output", url, "--connect-timeout", "2"],
                                     timeout: 120)
        #expect(convert.status == 3, "\(convert.output)\(convert.error)")
        #expect(convert.output.contains("wrote \(file): 90 of 90 frames"), "\(convert.output)")
        #expect(convert.output.contains("also wrote \(url): 0 of 90 frames"), "\(convert.output)")
        #expect(convert.error.contains("\(url) got 0 of 90 frames"), "\(convert.error)")
        #expect(convert.error.contains("refused"), "\(convert.error)")
        #expect(try ffprobe(file).frameCount == 90)
    }

    // MARK: Interrupted and truncated

    @Test("SIGINT during convert: exit 130, 'interrupted after N of M frames', the output holds those N frames")
    func interruptedConvert() throws {
        let folder = try TemporaryFolder("interrupt")
        defer { folder.cleanup() }
        let clip = folder.file("long.mp4")
        let made = try runProcess("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x256:rate=30",
                                             "-frames:v", "1500", "-pix_fmt", "gray", "-c:v", "libx264", "-preset", "ultrafast", clip])
        #expect(made.status == 0, "\(made.error)")
        let output = folder.file("out.mkv")
        // The slowest preset keeps the run going long enough to be interrupted.
        let convert = try BackgroundProcess(thermocolorBinary, ["convert", clip, output, "--preset", "veryslow"])
        defer { convert.stop(signal: SIGKILL) }
        let deadline = Date(timeIntervalSinceNow: 120)
        while Date() < deadline, fileSizeOf(output) < 20_000, convert.isRunning { usleep(50_000) }
        kill(convert.processIdentifier, SIGINT)
        #expect(convert.waitForExit(timeout: 60))
        #expect(convert.exitStatus == 130, "\(convert.log)")
        let line = try #require(convert.log.split(separator: "\n").first { $0.contains("interrupted after") }, "\(convert.log)")
        let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        #expect(numbers.count >= 2 && numbers[1] == 1500, "\(line)")
        let written = try #require(numbers.first)
        #expect(written > 0 && written < 1500)
        #expect(try ffprobe(output).frameCount == written)
    }

    @Test("A truncated input: what was read is written and closed, 'input ended early at frame N', exit 4")
    func truncatedInput() throws {
        let folder = try TemporaryFolder("truncated")
        defer { folder.cleanup() }
        let whole = folder.file("whole.mkv")
        try makeClip(whole, frames: 300)
        let data = try #require(FileManager.default.contents(atPath: whole))
        let cut = folder.file("cut.mkv")
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: cut))
        let output = folder.file("out.mp4")
        let convert = try runProcess(thermocolorBinary, ["convert", cut, output], timeout: 120)
        #expect(convert.status == 4, "\(convert.output)\(convert.error)")
        let line = try #require(convert.error.split(separator: "\n").first { $0.contains("input ended early at frame") }, "\(convert.error)")
        let frame = try #require(line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }.first)
        #expect(frame > 0 && frame < 300)
        #expect(convert.output.contains("\(frame) of \(frame) frames"), "\(convert.output)")
        #expect(try ffprobe(output).frameCount == frame)

        // The whole file is not mistaken for a cut one.
        let full = try runProcess(thermocolorBinary, ["convert", whole, folder.file("full.mp4"), "-q"], timeout: 120)
        #expect(full.status == 0, "\(full.error)")
    }

    // MARK: HLS

    @Test("Offline HLS: segments follow hls_time (2 s), not the offline GOP of 250 frames")
    func hlsSegmentsFollowSegmentLength() throws {
        let folder = try TemporaryFolder("hls-offline")
        defer { folder.cleanup() }
        let clip = folder.file("in.mkv")
        try makeClip(clip, frames: 300)  // 10 s at 30 fps
        let hls = folder.file("hls")
        let convert = try runProcess(thermocolorBinary, ["convert", clip, folder.file("out.mp4"), "--output", "hls:\(hls)"],
                                     timeout: 120)
        #expect(convert.status == 0, "\(convert.error)")
        let playlist = try String(contentsOfFile: hls + "/index.m3u8", encoding: .utf8)
        let lengths = playlist.split(separator: "\n").filter { $0.hasPrefix("#EXTINF:") }
            .compactMap { Double($0.dropFirst(8).split(separator: ",")[0]) }
        #expect(lengths.count >= 5, "\(playlist)")
        #expect(lengths.allSatisfy { $0 <= 2.1 }, "segment lengths \(lengths)")
    }

    // MARK: Live inputs

    /// Runs `thermocolor run` on `input` until the sender has ended and the
    /// input is reported lost, then stops it with SIGTERM.
    private func runLive(input: String, output: String, sender: () throws -> BackgroundProcess) throws -> (Int32, String) {
        var run: BackgroundProcess? = nil
        var started: BackgroundProcess? = nil
        defer {
            run?.stop(signal: SIGKILL)
            started?.stop(signal: SIGKILL)
        }
        let live = try BackgroundProcess(thermocolorBinary, ["run", "--input", input, "--output", output, "--read-timeout", "2"])
        run = live
        started = try sender()
        #expect(started!.waitForExit(timeout: 120), "the sender did not finish")
        #expect(live.waitForLog("input lost", timeout: 60), "\(live.log)")
        kill(live.processIdentifier, SIGTERM)
        #expect(live.waitForExit(timeout: 30))
        return (live.exitStatus, live.log)
    }

    private func sender(_ arguments: [String], frames: Int, gop: Int?) -> [String] {
        ["-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc=size=160x128:rate=50", "-frames:v", String(frames),
         "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast"] + (gop.map { ["-g", String($0)] } ?? []) + arguments
    }

    @Test("Live HTTP input with ffmpeg's default GOP (250), shorter than one GOP: 150 of 150 frames, none lost to probing")
    func liveHTTPLongGOP() throws {
        let folder = try TemporaryFolder("http-gop")
        defer { folder.cleanup() }
        let port = freePort()
        let output = folder.file("live.mkv")
        let url = "http://127.0.0.1:\(port)/live.ts"
        let (status, log) = try runLive(input: url, output: output) {
            try BackgroundProcess("ffmpeg", sender(["-f", "mpegts", "-listen", "1", url], frames: 150, gop: nil))
        }
        #expect(status == 0, "\(log)")
        #expect(log.contains("wrote \(output): 150 of 150 frames"), "\(log)")
        #expect(log.contains("dropped 0"), "\(log)")
        #expect(try ffprobe(output).frameCount == 150)
    }

    @Test("Live UDP input with the default GOP: 150 of 150 frames")
    func liveUDPLongGOP() throws {
        let folder = try TemporaryFolder("udp-gop")
        defer { folder.cleanup() }
        let port = freePort(udp: true)
        let output = folder.file("live.mkv")
        let (status, log) = try runLive(input: "udp://127.0.0.1:\(port)", output: output) {
            #expect(waitUntilBound(udpPort: port), "run never bound its UDP port")
            return try BackgroundProcess("ffmpeg", sender(["-f", "mpegts", "udp://127.0.0.1:\(port)?pkt_size=1316"], frames: 150, gop: nil))
        }
        #expect(status == 0, "\(log)")
        #expect(log.contains("wrote \(output): 150 of 150 frames"), "\(log)")
        #expect(try ffprobe(output).frameCount == 150, "\(log)")
    }

    @Test("Live HTTP input with a 30-frame GOP arrives in bursts; an idle pipeline drops none: 300 of 300")
    func liveHTTPBursts() throws {
        let folder = try TemporaryFolder("http-burst")
        defer { folder.cleanup() }
        let port = freePort()
        let output = folder.file("live.mkv")
        let url = "http://127.0.0.1:\(port)/live.ts"
        let (status, log) = try runLive(input: url, output: output) {
            try BackgroundProcess("ffmpeg", sender(["-f", "mpegts", "-listen", "1", url], frames: 300, gop: 30))
        }
        #expect(status == 0, "\(log)")
        #expect(log.contains("captured 300 · written 300 · dropped 0"), "\(log)")
        #expect(log.contains("wrote \(output): 300 of 300 frames"), "\(log)")
        #expect(try ffprobe(output).frameCount == 300)
    }

    @Test("run on a file without --realtime blocks rather than drops: 1500 of 1500 frames however fast it decodes")
    func unpacedFileBlocks() throws {
        let folder = try TemporaryFolder("run-file")
        defer { folder.cleanup() }
        let clip = folder.file("in.mkv")
        try makeClip(clip, frames: 1500, size: "320x256")
        let output = folder.file("out.mkv")
        let run = try runProcess(thermocolorBinary, ["run", "--input", clip, "--output", output], timeout: 300)
        #expect(run.status == 0, "\(run.output)\(run.error)")
        #expect(run.output.contains("captured 1500 · written 1500 · dropped 0"), "\(run.output)")
        #expect(run.output.contains("wrote \(output): 1500 of 1500 frames"), "\(run.output)")
        #expect(try ffprobe(output).frameCount == 1500)
    }

    @Test("Live, a stream nobody receives drops and says how many; the recording beside it gets every frame; exit 0")
    func liveOutputSaysItsDrops() throws {
        let folder = try TemporaryFolder("live-drops")
        defer { folder.cleanup() }
        let output = folder.file("live.mkv")
        let url = "rtsp://127.0.0.1:\(freePort())/live"
        // The 60-frame sample, paced; its end ends the run.
        let run = try runProcess(thermocolorBinary, ["run", "--input", packageRoot + "/Samples/thermal-sample.mkv", "--realtime",
                                                     "--output", output, "--output", url], timeout: 120)
        #expect(run.status == 0, "\(run.output)\(run.error)")
        #expect(run.output.contains("wrote \(output): 60 of 60 frames"), "\(run.output)")
        #expect(run.output.contains("wrote \(url): 0 of 60 frames (0 B), 60 dropped"), "\(run.output)")
        #expect(try ffprobe(output).frameCount == 60)
    }

    @Test("run --stats with no frame at all says so instead of a made-up time per frame")
    func statsWithoutFrames() throws {
        let folder = try TemporaryFolder("no-frames")
        defer { folder.cleanup() }
        // An input that opens but never delivers a frame: the wait for one is not a frame's time.
        let empty = folder.file("empty.y16")
        FileManager.default.createFile(atPath: empty, contents: Data())
        let run = try BackgroundProcess(thermocolorBinary, ["run", "--input", empty, "--input-format", "rawvideo",
                                                            "--input-option", "video_size=64x48", "--input-option", "pixel_format=gray16le",
                                                            "--loop", "--output", folder.file("never.mkv"), "--stats"])
        defer { run.stop(signal: SIGKILL) }
        #expect(run.waitForLog("(attempt 2)", timeout: 30), "\(run.log)")
        kill(run.processIdentifier, SIGTERM)
        #expect(run.waitForExit(timeout: 30))
        #expect(run.exitStatus == 0, "\(run.log)")
        #expect(run.log.contains("stages: capture no frames · colorize no frames · encode no frames"), "\(run.log)")
        #expect(run.log.contains("captured 0 · written 0 · dropped 0"), "\(run.log)")
        #expect(!run.log.contains("ms/frame"), "\(run.log)")
    }

    // MARK: Full disk

    @Test("A small disk with --min-free: every kept segment is whole, none is empty, the run says recording stopped and exits 3")
    func fullDisk() throws {
        let folder = try TemporaryFolder("full-disk")
        defer { folder.cleanup() }
        let disk = folder.file("disk")
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        let mounted = try runProcess("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", disk])
        guard mounted.status == 0 else {
            print("skipping: cannot mount a small tmpfs here (needs root): \(mounted.error)")
            return
        }
        defer { _ = try? runProcess("umount", [disk]) }
        // Noise does not compress: about a megabyte per second of H.264, so four fill up fast.
        let clip = folder.file("noise.mkv")
        let made = try runProcess("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "nullsrc=s=320x256:r=30,format=gray,geq=lum='random(1)*255'",
                                             "-frames:v", "120", "-c:v", "ffv1", clip])
        #expect(made.status == 0, "\(made.error)")
        let convert = try runProcess(thermocolorBinary, ["convert", clip, disk + "/cam.mkv", "--segment", "1s",
                                                         "--min-free", "1M", "--on-full", "stop"], timeout: 300)
        #expect(convert.status == 3, "\(convert.output)\(convert.error)")
        #expect(convert.error.contains("recording stopped"), "\(convert.error)")
        let free = Int64(try #require(try FileManager.default.attributesOfFileSystem(forPath: disk)[.systemFreeSize] as? NSNumber).int64Value)
        #expect(free >= 1 << 20, "the guard let free space fall to \(free) bytes")
        let segments = try FileManager.default.contentsOfDirectory(atPath: disk).filter { $0.hasSuffix(".mkv") }.sorted()
        #expect(!segments.isEmpty)
        var frames = 0
        for (index, segment) in segments.enumerated() {
            let path = disk + "/" + segment
            #expect(fileSizeOf(path) > 0, "\(segment) is empty")
            #expect(try decodeErrors(path) == "", "\(segment) does not decode cleanly")
            let probed = try ffprobe(path)
            // Only the segment the guard closed may be shorter; each one before it is whole.
            if index < segments.count - 1 { #expect(probed.frameCount == 30, "\(segment) holds \(probed.frameCount) of 30 frames") }
            #expect(probed.frameCount > 0)
            frames += probed.frameCount
        }
        #expect(frames < 120)
        #expect(convert.output.contains("\(frames) of 120 frames"), "\(convert.output)")

        // Without the guard the disk fills: that is an error of the run, said as such, and no empty file stays.
        for segment in segments { try FileManager.default.removeItem(atPath: disk + "/" + segment) }
        let unguarded = try runProcess(thermocolorBinary, ["convert", clip, disk + "/cam.mkv", "--segment", "1s"], timeout: 300)
        #expect(unguarded.status == 1, "\(unguarded.output)\(unguarded.error)")
        #expect(unguarded.error.contains("No space left on device"), "\(unguarded.error)")
        for name in try FileManager.default.contentsOfDirectory(atPath: disk) {
            #expect(fileSizeOf(disk + "/" + name) > 0, "\(name) is empty")
        }
    }
}

func fileSizeOf(_ path: String) -> Int64 {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
}

/// Waits until something has bound UDP `port` on 127.0.0.1 (our own bind is refused).
func waitUntilBound(udpPort port: Int) -> Bool {
    let deadline = Date(timeIntervalSinceNow: 30)
    while Date() < deadline {
        if udpPortIsBound(port) { return true }
        usleep(50_000)
    }
    return false
}

/// FFmpeg's complaints while decoding every frame of `path`; empty means it decodes cleanly.
func decodeErrors(_ path: String) throws -> String {
    let result = try runProcess("ffmpeg", ["-v", "error", "-i", path, "-f", "null", "-"])
    return result.status == 0 ? result.error : "exit \(result.status): \(result.error)"
}
