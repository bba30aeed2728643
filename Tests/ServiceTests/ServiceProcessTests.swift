import Foundation
import Imaging
import MediaIO
@testable import Service
import TestSupport
import Testing

/// The real `thermocolor run --config` process under a stand-in for systemd:
/// a notification socket from the test, signals from the test, scrapes of
/// its metrics endpoint, and ffprobe/ffmpeg on what it wrote.
@Suite("thermocolor run --config as a service", .serialized)
struct ServiceProcessTests {
    static let sample = packageRoot + "/Samples/thermal-sample.mkv"

    /// A configuration playing the sample clip as a camera, looping.
    static func configuration(input: String = sample, extraSource: String = "realtime = true\nloop = true",
                              palette: String = "white-hot", outputs: String, port: Int) -> String {
        """
        [source]
        input = "\(input)"
        \(extraSource)

        [processing]
        palette = "\(palette)"

        \(outputs)

        [service]
        metrics_address = "127.0.0.1:\(port)"
        status_interval = 0.5
        stop_timeout = 10
        """
    }

    static func recording(_ directory: String, container: String = "mp4") -> String {
        "[[outputs]]\ntype = \"recording\"\ndirectory = \"\(directory)\"\ncontainer = \"\(container)\"\n"
    }

    static func onlyFile(in directory: String) throws -> String {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        guard names.count == 1 else { throw TestFailure("expected one file in \(directory), found \(names)") }
        return directory + "/" + names[0]
    }

    static func metrics(port: Int) throws -> [String: Double] {
        let page = try get(SocketAddressText(host: "127.0.0.1", port: UInt16(port)), "/metrics")
        guard page.status == 200 else { throw TestFailure("metrics answered \(page.status)") }
        var values: [String: Double] = [:]
        for line in page.body.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = Double(parts[1]) { values[String(parts[0])] = value }
        }
        return values
    }

    @Test("READY once frames flow, WATCHDOG while they do, STOPPING on SIGTERM, in that order")
    func notifySequence() throws {
        let folder = try TemporaryFolder("service")
        defer { folder.cleanup() }
        let socket = try NotifySocket()
        defer { socket.close() }
        let port = freePort()
        try Self.configuration(outputs: Self.recording(folder.file("recordings")), port: port)
            .write(toFile: folder.file("cam0.toml"), atomically: true, encoding: .utf8)
        let service = try BackgroundProcess(thermocolorBinary, ["run", "--config", folder.file("cam0.toml")],
                                            environment: ["NOTIFY_SOCKET": socket.address, "WATCHDOG_USEC": "1000000"])
        defer { service.stop(signal: SIGKILL) }
        #expect(socket.wait(for: "READY=1"), "\(service.log)")
        #expect(socket.wait(for: "WATCHDOG=1"), "\(service.log)")
        #expect(socket.wait(for: "fps"), "no STATUS line with the frame rate: \(socket.messages)")
        kill(service.processIdentifier, SIGTERM)
        #expect(service.waitForExit(timeout: 30))
        #expect(service.exitStatus == 0, "\(service.log)")
        let states = socket.states
        let ready = states.firstIndex(of: "READY=1")
        let watchdog = states.firstIndex(of: "WATCHDOG=1")
        let stopping = states.firstIndex(of: "STOPPING=1")
        #expect(ready != nil && watchdog != nil && stopping != nil, "\(states)")
        if let ready, let watchdog, let stopping {
            #expect(ready < watchdog && watchdog < stopping, "\(states)")
            #expect(!states[(stopping + 1)...].contains("WATCHDOG=1"), "a ping after STOPPING: \(states)")
        }
        #expect(service.log.contains("stopped on SIGTERM"))
        #expect(try ffprobe(Self.onlyFile(in: folder.file("recordings"))).frameCount > 0)
    }

    @Test("SIGHUP changes the palette of later frames and names what needs a restart")
    func reloadChangesPalette() throws {
        let folder = try TemporaryFolder("service")
        defer { folder.cleanup() }
        let socket = try NotifySocket()
        defer { socket.close() }
        let port = freePort()
        let file = folder.file("cam0.toml")
        try Self.configuration(palette: "white-hot", outputs: Self.recording(folder.file("recordings")), port: port)
            .write(toFile: file, atomically: true, encoding: .utf8)
        let service = try BackgroundProcess(thermocolorBinary, ["run", "--config", file],
                                            environment: ["NOTIFY_SOCKET": socket.address])
        defer { service.stop(signal: SIGKILL) }
        #expect(socket.wait(for: "READY=1"), "\(service.log)")
        usleep(500_000)
        // A live change and one that needs a restart.
        try Self.configuration(palette: "ironbow", outputs: Self.recording(folder.file("recordings")), port: port)
            .replacingOccurrences(of: "stop_timeout = 10", with: "stop_timeout = 12")
            .write(toFile: file, atomically: true, encoding: .utf8)
        kill(service.processIdentifier, SIGHUP)
        #expect(service.waitForLog("reloaded: applied processing.palette"), "\(service.log)")
        #expect(service.log.contains("needs a restart to take effect (systemctl restart): service.stop_timeout"))
        #expect(socket.wait(for: "RELOADING=1"))
        let writtenAtReload = try Self.metrics(port: port)["thermocolor_frames_written_total"] ?? 0
        // Frames keep coming after the reload.
        let deadline = Date(timeIntervalSinceNow: 30)
        while Date() < deadline, (try Self.metrics(port: port)["thermocolor_frames_written_total"] ?? 0) < writtenAtReload + 20 {
            usleep(100_000)
        }
        kill(service.processIdentifier, SIGTERM)
        #expect(service.waitForExit(timeout: 30))
        #expect(service.exitStatus == 0, "\(service.log)")
        let states = socket.states
        if let reloading = states.firstIndex(of: "RELOADING=1") {
            #expect(states[(reloading + 1)...].first == "READY=1", "\(states)")
        }

        let recording = try Self.onlyFile(in: folder.file("recordings"))
        let frames = try ffmpegDecodeRGB(recording, width: 320, height: 256) ?? []
        #expect(frames.count > 30)
        guard let first = frames.first, let last = frames.last else { return }
        #expect(Self.colourfulness(first) < 3, "white-hot frames are grey")
        #expect(Self.colourfulness(last) > 20, "ironbow frames are coloured")
    }

    @Test("A reference picture colours the camera; a new picture on SIGHUP applies live",
          arguments: [nil, packageRoot + "/Tests/InferenceTests/Fixtures/reference-colorizer"] as [String?])
    func referenceReload(model: String?) throws {
        let folder = try TemporaryFolder("service")
        defer { folder.cleanup() }
        let port = freePort()
        let file = folder.file("cam0.toml")
        let picture = folder.file("day.png")
        func reference(red: UInt8, blue: UInt8) throws {
            // A daylight picture: a smooth lightness ramp in one hue.
            var samples: [UInt8] = []
            for y in 0..<32 {
                for _ in 0..<32 {
                    let light = Double(40 + 5 * y) / 200
                    let pixel: [UInt8] = [UInt8(Double(red) * light), UInt8(80 * light), UInt8(Double(blue) * light)]
                    samples += pixel
                }
            }
            try ImageFile.writePNG(RGBImage(width: 32, height: 32, channels: 3, samples: samples), to: picture)
        }
        try reference(red: 230, blue: 30)
        try Self.configuration(outputs: Self.recording(folder.file("recordings")), port: port)
            .replacingOccurrences(of: "[processing]", with: "[processing]\nreference = \"\(picture)\""
                                      + (model.map { "\nmodel = \"\($0)\"" } ?? ""))
            .write(toFile: file, atomically: true, encoding: .utf8)
        let service = try BackgroundProcess(thermocolorBinary, ["run", "--config", file])
        defer { service.stop(signal: SIGKILL) }
        #expect(service.waitForLog("ready", timeout: 60), "\(service.log)")
        usleep(500_000)
        // Another picture at the same path, with a later modification time.
        sleep(1)
        try reference(red: 30, blue: 230)
        kill(service.processIdentifier, SIGHUP)
        #expect(service.waitForLog("reloaded: applied processing.reference"), "\(service.log)")
        let writtenAtReload = try Self.metrics(port: port)["thermocolor_frames_written_total"] ?? 0
        let deadline = Date(timeIntervalSinceNow: 30)
        while Date() < deadline, (try Self.metrics(port: port)["thermocolor_frames_written_total"] ?? 0) < writtenAtReload + 20 {
            usleep(100_000)
        }
        kill(service.processIdentifier, SIGTERM)
        #expect(service.waitForExit(timeout: 30))
        #expect(service.exitStatus == 0, "\(service.log)")
        let frames = try ffmpegDecodeRGB(try Self.onlyFile(in: folder.file("recordings")), width: 320, height: 256) ?? []
        guard let first = frames.first, let last = frames.last else {
            Issue.record("no frames recorded")
            return
        }
        // Red minus blue, over the frame: the first picture's colours, then the second's.
        func warmth(_ rgb: [UInt8]) -> Double {
            var total = 0.0
            for pixel in stride(from: 0, to: rgb.count, by: 3) {
                total += Double(rgb[pixel]) - Double(rgb[pixel + 2])
            }
            return total / Double(rgb.count / 3)
        }
        #expect(warmth(first) - warmth(last) > 20, "red reference first, then blue")
        if model == nil {
            #expect(warmth(first) > 20, "the first reference is red")
            #expect(warmth(last) < -20, "the new reference is blue")
        }
    }

    @Test("A neural model runs as the service's colouriser; SIGHUP changes its prompt live")
    func neuralPromptReload() throws {
        let folder = try TemporaryFolder("service")
        defer { folder.cleanup() }
        let port = freePort()
        let file = folder.file("cam0.toml")
        let bundle = packageRoot + "/Tests/InferenceTests/Fixtures/colorizer-rgb"
        func write(prompt: String) throws {
            try Self.configuration(outputs: Self.recording(folder.file("recordings")), port: port)
                .replacingOccurrences(of: "[processing]", with: "[processing]\nmodel = \"\(bundle)\"\nprompt = \"\(prompt)\"\nbatch = 2")
                .write(toFile: file, atomically: true, encoding: .utf8)
        }
        try write(prompt: "warm")
        let service = try BackgroundProcess(thermocolorBinary, ["run", "--config", file])
        defer { service.stop(signal: SIGKILL) }
        #expect(service.waitForLog("ready", timeout: 60), "\(service.log)")
        try write(prompt: "cold")
        kill(service.processIdentifier, SIGHUP)
        #expect(service.waitForLog("reloaded: applied processing.prompt"), "\(service.log)")
        // A prompt with no baked embedding and no CLIP bundle cannot apply; the service runs on.
        try write(prompt: "a harbour in fog")
        kill(service.processIdentifier, SIGHUP)
        #expect(service.waitForLog("reload could not apply processing.prompt"), "\(service.log)")
        #expect(service.isRunning)
        kill(service.processIdentifier, SIGTERM)
        #expect(service.waitForExit(timeout: 30))
        #expect(service.exitStatus == 0, "\(service.log)")
        let probed = try ffprobe(Self.onlyFile(in: folder.file("recordings")))
        #expect(probed.frameCount > 0 && probed.width == 320)
    }

    @Test("A camera that is not plugged in is waited for: not ready, /healthz 503, and SIGTERM still stops cleanly")
    func waitsForCamera() throws {
        let folder = try TemporaryFolder("service")
        defer { folder.cleanup() }
        let socket = try NotifySocket()
        defer { socket.close() }
        let port = freePort()
        try Self.configuration(input: "/dev/v4l/by-id/usb-none-video-index0", extraSource: "camera_profile = \"boson\"",
                               outputs: Self.recording(folder.file("recordings")), port: port)
            .write(toFile: folder.file("cam0.toml"), atomically: true, encoding: .utf8)
        let service = try BackgroundProcess(thermocolorBinary, ["run", "--config", folder.file("cam0.toml")],
                                            environment: ["NOTIFY_SOCKET": socket.address])
        defer { service.stop(signal: SIGKILL) }
        #expect(service.waitForLog("metrics on"), "\(service.log)")
        usleep(500_000)
        let health = try get(SocketAddressText(host: "127.0.0.1", port: UInt16(port)), "/healthz")
        #expect(health.status == 503 && health.body.hasPrefix("starting"), "\(health.body)")
        #expect(try Self.metrics(port: port)["thermocolor_ready"] == 0)
        #expect(service.isRunning, "\(service.log)")
        kill(service.processIdentifier, SIGTERM)
        #expect(service.waitForExit(timeout: 30))
        #expect(service.exitStatus == 0, "\(service.log)")
        #expect(!socket.states.contains("READY=1"))
        #expect(socket.states.contains("STOPPING=1"))
    }

    @Test("An invalid file on SIGHUP keeps the running configuration")
    func invalidReload() throws {
        let folder = try TemporaryFolder("service")
        defer { folder.cleanup() }
        let port = freePort()
        let file = folder.file("cam0.toml")
        try Self.configuration(outputs: Self.recording(folder.file("recordings")), port: port)
            .write(toFile: file, atomically: true, encoding: .utf8)
        let service = try BackgroundProcess(thermocolorBinary, ["run", "--config", file])
        defer { service.stop(signal: SIGKILL) }
        #expect(service.waitForLog("ready"), "\(service.log)")
        try "[processing]\npalette = \"sepia\"\n".write(toFile: file, atomically: true, encoding: .utf8)
        kill(service.processIdentifier, SIGHUP)
        #expect(service.waitForLog("reload failed, the running configuration stays"), "\(service.log)")
        #expect(service.log.contains("processing.palette: unknown palette 'sepia'"))
        #expect(try Self.metrics(port: port)["thermocolor_config_reloads_total{result=\"invalid\"}"] == 1)
        #expect(service.isRunning)
        kill(service.processIdentifier, SIGTERM)
        #expect(service.waitForExit(timeout: 30))
        #expect(service.exitStatus == 0, "\(service.log)")
    }

    @Test("SIGTERM leaves every output decodable: MP4 and Matroska recordings, a UDP stream")
    func sigtermFinishesEveryOutput() throws {
        let folder = try TemporaryFolder("service")
        defer { folder.cleanup() }
        let port = freePort()
        let streamPort = freePort(udp: true)
        let received = folder.file("received.ts")
        // A real receiver: it starts copying after a short probe and ends by
        // itself five seconds after the stream stops.
        let listener = try BackgroundProcess("ffmpeg", ["-nostdin", "-v", "error", "-analyzeduration", "500000", "-probesize", "50000",
                                                        "-i", "udp://127.0.0.1:\(streamPort)?timeout=5000000",
                                                        "-c", "copy", "-f", "mpegts", received])
        defer { listener.stop(signal: SIGKILL) }
        usleep(300_000)
        let outputs = Self.recording(folder.file("mp4")) + "\n" + Self.recording(folder.file("mkv"), container: "mkv")
            + "\n[[outputs]]\ntype = \"stream\"\nurl = \"udp://127.0.0.1:\(streamPort)?pkt_size=1316\"\nkeyframe_interval = 10\n"
        try Self.configuration(outputs: outputs, port: port).write(toFile: folder.file("cam0.toml"), atomically: true, encoding: .utf8)
        let service = try BackgroundProcess(thermocolorBinary, ["run", "--config", folder.file("cam0.toml")])
        defer { service.stop(signal: SIGKILL) }
        let deadline = Date(timeIntervalSinceNow: 30)
        while Date() < deadline, ((try? Self.metrics(port: port)["thermocolor_frames_written_total"]) ?? 0) < 60 { usleep(100_000) }
        kill(service.processIdentifier, SIGTERM)
        #expect(service.waitForExit(timeout: 30))
        #expect(service.exitStatus == 0, "\(service.log)")
        #expect(listener.waitForExit(timeout: 30), "the receiver did not end: \(listener.log)")

        for path in [try Self.onlyFile(in: folder.file("mp4")), try Self.onlyFile(in: folder.file("mkv")), received] {
            let decoded = try runProcess("ffmpeg", ["-v", "error", "-i", path, "-f", "null", "-"])
            #expect(decoded.status == 0 && decoded.error.isEmpty, "\(path): \(decoded.error)")
            let probed = try ffprobe(path)
            #expect(probed.codec == "h264" && probed.frameCount >= 30, "\(path): \(probed)")
        }
    }

    @Test("A recording is cut into one-second segments, the oldest deleted past max_segments, each decodable")
    func segmentedRecording() throws {
        let folder = try TemporaryFolder("service")
        defer { folder.cleanup() }
        let port = freePort()
        let directory = folder.file("segments")
        let outputs = "[[outputs]]\ntype = \"recording\"\ndirectory = \"\(directory)\"\nsegment_seconds = 1\nmax_segments = 3\n"
        try Self.configuration(outputs: outputs, port: port).write(toFile: folder.file("cam0.toml"), atomically: true, encoding: .utf8)
        let service = try BackgroundProcess(thermocolorBinary, ["run", "--config", folder.file("cam0.toml")])
        defer { service.stop(signal: SIGKILL) }
        // Five seconds of video at 30 fps make five segments, of which three stay.
        let deadline = Date(timeIntervalSinceNow: 60)
        while Date() < deadline, ((try? Self.metrics(port: port)["thermocolor_frames_written_total"]) ?? 0) < 150 { usleep(100_000) }
        kill(service.processIdentifier, SIGTERM)
        #expect(service.waitForExit(timeout: 30))
        #expect(service.exitStatus == 0, "\(service.log)")
        let segments = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(segments.count == 3, "\(segments)")
        #expect(segments.allSatisfy { $0.hasPrefix("thermocolor-") && $0.hasSuffix(".mp4") })
        for segment in segments {
            let decoded = try runProcess("ffmpeg", ["-v", "error", "-i", directory + "/" + segment, "-f", "null", "-"])
            #expect(decoded.status == 0 && decoded.error.isEmpty, "\(segment): \(decoded.error)")
        }
    }

    @Test("A stalled source stops the watchdog pings; the metrics add up: frames in = out + dropped")
    func stalledSource() throws {
        let folder = try TemporaryFolder("service")
        defer { folder.cleanup() }
        let socket = try NotifySocket()
        defer { socket.close() }
        let port = freePort()
        // A FIFO the test feeds with raw 16-bit frames, then leaves open and silent.
        let fifo = folder.file("camera.y16")
        guard mkfifo(fifo, 0o600) == 0 else { throw TestFailure("mkfifo failed") }
        var feed = open(fifo, O_RDWR)
        defer { if feed >= 0 { close(feed) } }
        let source = """
        format = "rawvideo"
        options = { video_size = "64x48", pixel_format = "gray16le", framerate = 20 }
        """
        try Self.configuration(input: fifo, extraSource: source, outputs: Self.recording(folder.file("recordings")), port: port)
            .replacingOccurrences(of: "stop_timeout = 10", with: "stop_timeout = 10\nhealth_timeout = 1")
            .write(toFile: folder.file("cam0.toml"), atomically: true, encoding: .utf8)
        let service = try BackgroundProcess(thermocolorBinary, ["run", "--config", folder.file("cam0.toml")],
                                            environment: ["NOTIFY_SOCKET": socket.address, "WATCHDOG_USEC": "400000"])
        defer { service.stop(signal: SIGKILL) }

        var frame = [UInt16](repeating: 0, count: 64 * 48)
        let framesFed = 40
        for index in 0..<framesFed {
            for pixel in frame.indices { frame[pixel] = UInt16((pixel * 37 + index * 500) % 16384) }
            _ = frame.withUnsafeBytes { write(feed, $0.baseAddress, $0.count) }
            usleep(50_000)
        }
        #expect(socket.wait(for: "WATCHDOG=1"), "\(service.log)")
        // Silence: the pipeline drains, then no more pings however long we wait.
        #expect(service.waitForLog("withholding the watchdog ping"), "\(service.log)")
        let pingsAtStall = socket.messages.filter { $0 == "WATCHDOG=1" }.count
        usleep(1_200_000)
        #expect(socket.messages.filter { $0 == "WATCHDOG=1" }.count == pingsAtStall)

        let health = try get(SocketAddressText(host: "127.0.0.1", port: UInt16(port)), "/healthz")
        let metrics = try Self.metrics(port: port)
        let captured = metrics["thermocolor_frames_captured_total"] ?? -1
        let written = metrics["thermocolor_frames_written_total"] ?? -1
        let dropped = metrics["thermocolor_frames_dropped_total"] ?? -1
        #expect(captured == Double(framesFed), "\(metrics)")
        #expect(captured == written + dropped, "\(metrics)")
        #expect(metrics["thermocolor_frame_latency_seconds_count"] == written)
        #expect(metrics["thermocolor_output_frames_total{kind=\"recording\",output=\"\(folder.file("recordings"))\"}"] == written)
        #expect(metrics["thermocolor_watchdog_withheld_total"] ?? 0 >= 1)
        #expect(health.status == 503 && health.body.hasPrefix("stalled: no frame written for"), "\(health.body)")

        // The camera comes back: pings resume.
        for index in 0..<20 {
            for pixel in frame.indices { frame[pixel] = UInt16((pixel * 11 + index * 300) % 16384) }
            _ = frame.withUnsafeBytes { write(feed, $0.baseAddress, $0.count) }
            usleep(50_000)
        }
        let deadline = Date(timeIntervalSinceNow: 10)
        while Date() < deadline, socket.messages.filter({ $0 == "WATCHDOG=1" }).count == pingsAtStall { usleep(50_000) }
        #expect(socket.messages.filter { $0 == "WATCHDOG=1" }.count > pingsAtStall)
        // The feed closes: the source ends and so does the run, cleanly.
        close(feed)
        feed = -1
        #expect(service.waitForExit(timeout: 30))
        #expect(service.exitStatus == 0, "\(service.log)")
        #expect(service.log.contains("the source ended"))
        // Every frame fed was written or (if processing fell behind) dropped, and the file holds the written ones.
        let summary = service.log.range(of: #"(\d+) frames written, (\d+) dropped"#, options: .regularExpression).map { String(service.log[$0]) }
        let numbers = summary?.split(separator: " ").compactMap { Int($0) } ?? []
        #expect(numbers.count == 2 && numbers[0] + numbers[1] == framesFed + 20, "\(summary ?? service.log)")
        #expect(try ffprobe(Self.onlyFile(in: folder.file("recordings"))).frameCount == numbers.first)
    }

    @Test("check-config: exit 0 for the sample, 1 with one line per problem otherwise; run exits 78 on a bad file")
    func checkConfig() throws {
        let good = try runProcess(thermocolorBinary, ["check-config", packageRoot + "/Samples/thermocolor.toml"])
        #expect(good.status == 0, "\(good.error)")
        #expect(good.output.contains(": ok"))
        let folder = try TemporaryFolder("service")
        defer { folder.cleanup() }
        try "[source]\ninput = \"/dev/video0\"\nrealtme = true\n[processing]\npalette = \"sepia\"\n[[outputs]]\ntype = \"stream\"\nurl = \"ftp://x\"\n"
            .write(toFile: folder.file("bad.toml"), atomically: true, encoding: .utf8)
        let bad = try runProcess(thermocolorBinary, ["check-config", folder.file("bad.toml")])
        #expect(bad.status == 1)
        let lines = bad.error.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(lines)")
        #expect(lines.contains("source.realtme: unknown key (did you mean 'realtime'?)"))
        #expect(lines.contains { $0.hasPrefix("processing.palette: unknown palette 'sepia' (choose one of ") })
        #expect(lines.contains { $0.hasPrefix("outputs[0].url: 'ftp://x' is not a stream URL") })
        let run = try runProcess(thermocolorBinary, ["run", "--config", folder.file("bad.toml")], timeout: 30)
        #expect(run.status == 78)
        #expect(run.error.contains("processing.palette: unknown palette 'sepia'"))
        // A problem with the whole file names the file.
        let missing = try runProcess(thermocolorBinary, ["check-config", folder.file("missing.toml")])
        #expect(missing.status == 1)
        #expect(missing.error == folder.file("missing.toml") + ": no such file\n")
    }

    /// Mean |R−B| + |G−B|/2 over the frame: 0 for grey, tens for a palette in colour.
    static func colourfulness(_ rgb: [UInt8]) -> Double {
        var total = 0
        for index in stride(from: 0, to: rgb.count, by: 3) {
            let red = Int(rgb[index]), green = Int(rgb[index + 1]), blue = Int(rgb[index + 2])
            total += abs(red - blue) + abs(green - blue) / 2
        }
        return Double(total) / Double(rgb.count / 3)
    }
}
