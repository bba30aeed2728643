import Foundation
import TestSupport
import Testing

@Suite("thermocolor run")
struct RunCommandTests {
    @Test("A file played as a live source; SIGTERM finishes the output cleanly")
    func sigtermFinishesOutput() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let output = folder.file("live.mp4")
        let run = try BackgroundProcess(thermocolorBinary, [
            "run", "--input", packageRoot + "/Samples/thermal-sample.mkv", "--realtime", "--loop",
            "--output", output, "--stats",
        ])
        defer { run.stop(signal: SIGKILL) }
        // Let it write a few fragments, then ask it to stop.
        let deadline = Date(timeIntervalSinceNow: 60)
        while Date() < deadline, ((try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0) < 20_000 {
            usleep(50_000)
        }
        kill(run.processIdentifier, SIGTERM)
        #expect(run.waitForExit(timeout: 30), "run did not stop on SIGTERM")
        #expect(run.exitStatus == 0, "\(run.log)")
        #expect(run.log.contains("latency (capture → encoded)"))
        let probed = try ffprobe(output)
        #expect(probed.codec == "h264")
        #expect(probed.frameCount > 0)
        #expect(try runProcess("ffmpeg", ["-v", "error", "-i", output, "-f", "null", "-"]).status == 0)
    }

    @Test("Keyframes come once a second at the source's own rate, not an assumed 30 fps")
    func keyframesFollowSourceRate() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let input = folder.file("ten-fps.mkv")
        #expect(try runProcess(thermocolorBinary, ["synth", input, "--frames", "40", "--size", "64x48", "--fps", "10"]).status == 0)
        let output = folder.file("live.mkv")
        // Paced, so no frame is dropped; the file's end ends the run.
        let run = try runProcess(thermocolorBinary, ["run", "--input", input, "--realtime", "--output", output], timeout: 60)
        #expect(run.status == 0, "\(run.error)")
        let packets = try runProcess("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=flags",
                                                 "-of", "csv=p=0", output])
        let flags = packets.output.split(separator: "\n")
        #expect(flags.count == 40)
        let keyframes = flags.enumerated().filter { $0.element.hasPrefix("K") }.map(\.offset)
        #expect(keyframes == [0, 10, 20, 30])
    }

    @Test("A refused stream is retried with one line per attempt until stopped")
    func refusedStreamRetries() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let run = try BackgroundProcess(thermocolorBinary, [
            "run", "--input", "rtsp://127.0.0.1:\(freePort())/none", "--output", folder.file("never.mp4"),
        ])
        defer { run.stop(signal: SIGKILL) }
        #expect(run.waitForLog("reconnecting in", timeout: 30))
        kill(run.processIdentifier, SIGTERM)
        #expect(run.waitForExit(timeout: 20))
        #expect(run.exitStatus == 0)
        #expect(!run.log.contains("Fatal error"))
    }

    @Test("Live fusion: when the visible input stalls, output continues from thermal alone and says so")
    func visibleStallKeepsGoing() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let visible = folder.file("visible.mkv")
        #expect(try runProcess("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x256:rate=30", "-t", "0.5",
                                          "-c:v", "ffv1", visible]).status == 0)
        let output = folder.file("live.mkv")
        let run = try BackgroundProcess(thermocolorBinary, [
            "run", "--input", packageRoot + "/Samples/thermal-sample.mkv", "--realtime", "--loop",
            "--visible", visible, "--output", output, "--codec", "ffv1", "--stats",
        ])
        defer { run.stop(signal: SIGKILL) }
        #expect(run.waitForLog("colouring thermal only", timeout: 60), "\(run.log)")
        // Frames keep arriving in the output after the stall.
        func size() -> Int { (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0 }
        let sizeAtStall = size()
        let deadline = Date(timeIntervalSinceNow: 60)
        while Date() < deadline, size() < sizeAtStall + 200_000 { usleep(50_000) }
        #expect(size() >= sizeAtStall + 200_000, "the output stopped growing after the visible input stalled")
        kill(run.processIdentifier, SIGTERM)
        #expect(run.waitForExit(timeout: 30))
        #expect(run.exitStatus == 0, "\(run.log)")
        #expect(try ffprobe(output).frameCount > 0)
    }

    @Test("Live to an RTSP listener and a segmented recording at once; SIGTERM leaves every segment decodable")
    func streamAndRecord() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let port = freePort()
        let received = folder.file("received.ts")
        let listener = try BackgroundProcess("ffmpeg", ["-v", "error", "-rtsp_flags", "listen", "-timeout", "60",
                                                        "-i", "rtsp://127.0.0.1:\(port)/live", "-c", "copy", "-f", "mpegts", received])
        defer { listener.stop(signal: SIGKILL) }
        usleep(500_000)
        let recordings = folder.file("recordings") + "/"
        let run = try BackgroundProcess(thermocolorBinary, [
            "run", "--input", packageRoot + "/Samples/thermal-sample.mkv", "--realtime", "--loop",
            "--output", "rtsp://127.0.0.1:\(port)/live", "--output", recordings, "--segment", "1s", "--encoder", "software",
        ])
        defer { run.stop(signal: SIGKILL) }
        let deadline = Date(timeIntervalSinceNow: 60)
        while Date() < deadline, ((try? FileManager.default.contentsOfDirectory(atPath: recordings))?.count ?? 0) < 3 {
            usleep(100_000)
        }
        kill(run.processIdentifier, SIGTERM)
        #expect(run.waitForExit(timeout: 30))
        #expect(run.exitStatus == 0, "\(run.log)")
        #expect(listener.waitForExit(timeout: 20))

        let segments = try FileManager.default.contentsOfDirectory(atPath: recordings).sorted()
        #expect(segments.count >= 3)
        for segment in segments {
            let probed = try ffprobe(recordings + segment)
            #expect(probed.frameCount > 0, "\(segment) holds no frames")
            #expect(try runProcess("ffmpeg", ["-v", "error", "-i", recordings + segment, "-f", "null", "-"]).status == 0)
        }
        let streamed = try ffprobe(received)
        #expect(streamed.codec == "h264")
        #expect(streamed.frameCount > 30)
    }
}
