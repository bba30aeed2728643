import Foundation
import TestSupport
import Testing

@Suite("Bad input: one clear line and a non-zero exit")
struct BadInputCommandTests {
    private func expectCleanFailure(_ result: ProcessResult, mentioning words: [String]) {
        #expect(result.status != 0)
        #expect(!result.crashed, "the process crashed: \(result.error)")
        let lines = result.error.split(separator: "\n").filter { !$0.isEmpty }
        #expect(lines.count == 1, "expected one error line, got: \(result.error)")
        for word in words { #expect(result.error.contains(word), "'\(word)' not in: \(result.error)") }
    }

    @Test("A missing input file")
    func missingInput() throws {
        let result = try runProcess(thermocolorBinary, ["convert", "/nonexistent/in.mkv", "/tmp/out.mp4"], timeout: 60)
        expectCleanFailure(result, mentioning: ["/nonexistent/in.mkv", "no such file"])
    }

    @Test("A file that is not video")
    func notVideo() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let path = folder.file("words.mkv")
        try "not a video".write(toFile: path, atomically: true, encoding: .utf8)
        expectCleanFailure(try runProcess(thermocolorBinary, ["convert", path, folder.file("out.mp4")], timeout: 60), mentioning: [path])
    }

    @Test("An output that cannot be written")
    func unwritableOutput() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let clip = folder.file("clip.mkv")
        try runProcess(thermocolorBinary, ["synth", clip, "--frames", "3", "--size", "32x32"])
        let result = try runProcess(thermocolorBinary, ["convert", clip, "/nonexistent-dir/out.mp4"], timeout: 60)
        expectCleanFailure(result, mentioning: ["/nonexistent-dir/out.mp4"])
    }

    @Test("A refused stream and a silent one: one line each, no hang")
    func networkInputs() throws {
        let refused = try runProcess(thermocolorBinary, ["convert", "rtsp://127.0.0.1:\(freePort())/none", "/tmp/never.mp4"], timeout: 60)
        expectCleanFailure(refused, mentioning: ["rtsp://127.0.0.1", "Connection refused"])

        // A peer that accepts the connection and then says nothing.
        let port = freePort()
        let silent = try BackgroundProcess("/usr/bin/python3", ["-c", """
            import socket, time
            server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind(("127.0.0.1", \(port))); server.listen(1); print("listening", flush=True)
            connection, _ = server.accept(); time.sleep(60)
            """])
        defer { silent.stop(signal: SIGKILL) }
        #expect(silent.waitForLog("listening"))
        let result = try runProcess(thermocolorBinary, ["convert", "http://127.0.0.1:\(port)/thermal.ts", "/tmp/never.mp4",
                                                        "--read-timeout", "2"], timeout: 60)
        expectCleanFailure(result, mentioning: ["http://127.0.0.1:\(port)/thermal.ts", "no data within 2 s"])
    }

    @Test("An unknown palette lists the known ones")
    func unknownPalette() throws {
        let result = try runProcess(thermocolorBinary, ["convert", "in.mkv", "out.mp4", "--palette", "sepia"], timeout: 60)
        #expect(result.status != 0)
        #expect(result.error.contains("ironbow"))
    }
}

@Suite("Crash safety")
struct CrashSafetyTests {
    @Test("A conversion killed with SIGKILL halfway leaves an MP4 that still decodes")
    func sigkillHalfway() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let clip = folder.file("long.mkv")
        #expect(try runProcess(thermocolorBinary, ["synth", clip, "--frames", "600", "--size", "320x256", "--fps", "30"]).status == 0)
        let output = folder.file("cut.mp4")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: thermocolorBinary)
        process.arguments = ["convert", clip, output, "--preset", "medium", "-q"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Kill once a few fragments (about a second each) are on disk.
        let deadline = Date(timeIntervalSinceNow: 120)
        while process.isRunning, Date() < deadline {
            let size = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
            if size > 60_000 { break }
            usleep(20_000)
        }
        let killedWhileRunning = process.isRunning
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(killedWhileRunning, "the conversion finished before it could be killed; make the clip longer")

        let probed = try ffprobe(output)
        #expect(probed.codec == "h264")
        #expect(probed.frameCount > 0)
        #expect(probed.frameCount < 600)
        let decode = try runProcess("ffmpeg", ["-v", "error", "-i", output, "-f", "null", "-"])
        #expect(decode.status == 0)
    }
}
