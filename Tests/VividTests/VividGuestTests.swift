import Foundation
import Imaging
import TestSupport
import Testing
@testable import Capture
import CaptureTesting

/// Capture against a real kernel driver: Linux's vivid, inside the QEMU
/// guest that `VividVMTests` boots, with the host's binaries. Everything
/// here runs as root in the guest, one test at a time, on /dev/video0.
@Suite("Capture from Linux's vivid driver (inside the VM)", .serialized,
       .enabled(if: Vivid.isGuest, "runs inside the vivid VM, which VividVMTests boots"))
struct VividGuestTests {
    static let quickReconnect = ReconnectPolicy(initialDelay: .milliseconds(100), maximumDelay: .milliseconds(500))

    /// Captures `count` frames with `settings`; the frames and the stream.
    func capture(_ settings: CaptureSettings, count: Int) throws -> (frames: [CapturedFrame], stream: CaptureStream) {
        let recorder = CaptureRecorder()
        let capture = V4L2Capture(settings: settings, onEvent: { recorder.record($0) }, onFrame: { recorder.record($0) })
        try capture.start()
        defer { capture.stop() }
        guard recorder.waitForFrames(count) else {
            throw TestFailure("\(recorder.frames.count) of \(count) frames arrived; events: \(recorder.events)")
        }
        capture.stop()
        return (Array(recorder.frames.prefix(count)), try #require(capture.stream))
    }

    // MARK: Formats, sizes and pixels

    static let formats: [PixelFormat] = [.grey, .y16, .yuyv, .nv12]
    static let sizes = [FrameSize(width: 320, height: 180), FrameSize(width: 640, height: 360)]

    /// White and black as each format carries them: GREY and Y16 full
    /// range, the YUV formats' luma limited range (16-235).
    static func levels(_ format: PixelFormat) -> (black: ClosedRange<Int>, white: ClosedRange<Int>) {
        switch format {
        case .y16: (0...0x0100, 0xFD00...0xFFFF)
        case .grey: (0...1, 253...255)
        default: (15...17, 233...236)
        }
    }

    /// Every format at every size, under one pattern (each change of
    /// pattern is a v4l2-ctl run, seconds under emulation).
    func forEachMode(showing pattern: Vivid.Pattern, _ check: (PixelFormat, FrameSize, [CapturedFrame], CaptureStream) throws -> Void) throws {
        try Vivid.show(pattern)
        for format in Self.formats {
            for size in Self.sizes {
                let settings = CaptureSettings(devicePath: Vivid.device, pixelFormat: format, frameSize: size, framesPerSecond: 25)
                let (frames, stream) = try capture(settings, count: 3)
                try check(format, size, frames, stream)
            }
        }
    }

    @Test("GREY, Y16, YUYV and NV12 at two sizes: the mode asked for, every frame, vivid's white")
    func formatsAndSizes() throws {
        try forEachMode(showing: .white) { format, size, frames, stream in
            let mode = "\(format) \(size)"
            #expect(stream.format.pixelFormat == format, "\(mode)")
            #expect(stream.format.size == size, "\(mode)")
            #expect(stream.frameInterval == FrameInterval(numerator: 1, denominator: 25), "\(mode)")
            #expect(stream.significantBits == (format == .y16 ? 16 : 8), "\(mode)")
            #expect(frames.map(\.sequence) == Array(0..<UInt64(frames.count)), "\(mode)")
            #expect(zip(frames, frames.dropFirst()).allSatisfy {
                $0.deviceSequence < $1.deviceSequence && $0.timestampNanoseconds < $1.timestampNanoseconds
            }, "\(mode)")
            // Every pixel of every frame white, at the white of the format's range.
            for frame in frames {
                #expect(frame.image.width == size.width && frame.image.height == size.height, "\(mode)")
                let values = Set(frame.image.samples)
                #expect(values.count == 1 && Self.levels(format).white.contains(Int(values.first ?? 0)),
                        "\(mode) white: \(values.sorted().prefix(8).map { String($0, radix: 16) })")
            }
        }
    }

    @Test("GREY, Y16, YUYV and NV12 at two sizes: vivid's grey ramp, the same in every row and rising")
    func grayRamp() throws {
        try forEachMode(showing: .grayRamp) { format, size, frames, _ in
            let mode = "\(format) \(size)"
            let levels = Self.levels(format)
            let image = try #require(frames.last).image
            let firstRow = Array(image.samples[0..<image.width])
            // A wrong stride shears the ramp; a wrong byte order or sample
            // offset breaks its rise.
            let rowsAlike = (1..<image.height).allSatisfy { Array(image.samples[($0 * image.width)..<(($0 + 1) * image.width)]) == firstRow }
            #expect(rowsAlike, "\(mode): rows of the ramp differ")
            #expect(zip(firstRow, firstRow.dropFirst()).allSatisfy { $0 <= $1 }, "\(mode) ramp: \(firstRow.prefix(12))…")
            #expect(levels.black.contains(Int(firstRow.first ?? 0xFFFF)), "\(mode) ramp starts at \(firstRow.first ?? 0)")
            #expect(levels.white.lowerBound - Int(firstRow.last ?? 0) < (format == .y16 ? 0x0400 : 4), "\(mode) ramp ends at \(firstRow.last ?? 0)")
            #expect(Set(firstRow).count >= min(200, size.width / 2), "\(mode) ramp has \(Set(firstRow).count) levels")
        }
    }

    @Test("with no mode asked for: 16-bit grey at the largest size that runs at 25 fps")
    func defaultMode() throws {
        let (frames, stream) = try capture(CaptureSettings(devicePath: Vivid.device), count: 3)
        #expect(stream.mode == "Y16 640×480 at 25 fps")
        #expect(stream.profile == .generic)
        #expect(frames.allSatisfy { $0.image.width == 640 && $0.image.height == 480 && $0.significantBits == 16 })
    }

    // MARK: Unplug and return

    @Test("unplugged mid-stream and back: disconnect, retries, reconnect, frames again, counted")
    func unplugAndReturn() throws {
        defer { Vivid.ensurePlugged() }
        let recorder = CaptureRecorder()
        let settings = CaptureSettings(devicePath: Vivid.device, pixelFormat: .yuyv, frameSize: FrameSize(width: 320, height: 180),
                                       framesPerSecond: 25, reconnect: Self.quickReconnect)
        let capture = V4L2Capture(settings: settings, onEvent: { recorder.record($0) }, onFrame: { recorder.record($0) })
        try capture.start()
        defer { capture.stop() }
        #expect(recorder.waitForFrames(5))

        try Vivid.unplug()
        #expect(recorder.waitUntil { $1.contains { if case .disconnected = $0 { true } else { false } } })
        #expect(recorder.waitUntil { $1.filter { if case .reconnecting = $0 { true } else { false } }.count >= 2 })
        let reason = recorder.events.compactMap { if case .disconnected(let reason) = $0 { reason } else { nil } }.first ?? ""
        // The kernel's answer after an unbind: POLLERR|POLLHUP, then ENODEV.
        #expect(reason == "no such device (ENODEV)" || reason.contains("POLLHUP"), "\(reason)")
        let framesWhileAway = recorder.frames.count

        try Vivid.plug()
        #expect(recorder.waitUntil { frames, events in
            events.contains { if case .reconnected = $0 { true } else { false } } && frames.count >= framesWhileAway + 5
        }, "\(recorder.events)")
        capture.stop()
        let statistics = capture.statistics
        #expect(statistics.disconnects == 1)
        #expect(statistics.reconnects == 1)
        #expect(capture.stream?.mode == "YUYV 320×180 at 25 fps")
        let sequences = recorder.frames.map(\.sequence)
        #expect(sequences == Array(0..<UInt64(sequences.count)))
    }

    // MARK: The command line

    static func startRun(_ arguments: [String], output: String) throws -> BackgroundProcess {
        try BackgroundProcess(thermocolorBinary, ["run", "--input", Vivid.device] + arguments + ["--output", output, "--stats"])
    }

    @Test("run: camera events as sentences, the reconnect counted in --stats, no libv4l2 noise")
    func runCountsTheReconnect() throws {
        defer { Vivid.ensurePlugged() }
        let folder = try TemporaryFolder("vivid-run")
        defer { folder.cleanup() }
        let output = folder.file("run.mkv")
        let run = try Self.startRun(["--camera-size", "320x180", "--camera-format", "GREY", "--camera-fps", "25"], output: output)
        defer { run.stop(signal: SIGKILL) }
        #expect(run.waitForLog("camera /dev/video0 streaming: GREY 320×180 at 25 fps (\"vivid\", vivid driver, profile generic)", timeout: 60), "\(run.log)")
        usleep(1_000_000)
        try Vivid.unplug()
        #expect(run.waitForLog("camera /dev/video0 lost: "), "\(run.log)")
        try Vivid.plug()
        #expect(run.waitForLog("camera /dev/video0 back: GREY 320×180 at 25 fps"), "\(run.log)")
        usleep(1_000_000)
        kill(run.processIdentifier, SIGINT)
        #expect(run.waitForExit(timeout: 30), "\(run.log)")
        let log = run.log
        #expect(run.exitStatus == 0, "\(log)")
        #expect(log.contains("reconnects 1"), "\(log)")
        #expect(!log.contains("libv4l2"), "\(log)")
        let video = try ffprobe(output)
        #expect(video.width == 320 && video.height == 180)
        #expect(video.frameCount > 0)
    }

    /// SIGTERM here; the service test below stops with SIGINT while waiting,
    /// and the test above with SIGINT while streaming.
    @Test("run: SIGTERM while waiting for the camera to come back ends the run and finishes the output")
    func aStopWhileWaitingForTheCamera() throws {
        defer { Vivid.ensurePlugged() }
        let folder = try TemporaryFolder("vivid-stop")
        defer { folder.cleanup() }
        let output = folder.file("stop.mkv")
        let run = try Self.startRun(["--camera-size", "320x180", "--camera-format", "YUYV", "--camera-fps", "25"], output: output)
        defer { run.stop(signal: SIGKILL) }
        #expect(run.waitForLog("camera /dev/video0 streaming: YUYV 320×180 at 25 fps", timeout: 60), "\(run.log)")
        usleep(1_000_000)
        try Vivid.unplug()
        #expect(run.waitForLog("camera /dev/video0 lost: "), "\(run.log)")
        #expect(run.waitForLog("camera /dev/video0 still away: "), "\(run.log)")
        kill(run.processIdentifier, SIGTERM)
        #expect(run.waitForExit(timeout: 20), "still running after the signal: \(run.log)")
        #expect(run.exitStatus == 0, "\(run.log)")
        #expect(!run.log.contains("libv4l2"), "\(run.log)")
        // Finished properly: a file every frame of which decodes.
        let video = try ffprobe(output)
        #expect(video.frameCount > 0 && video.width == 320, "\(run.log)")
        #expect(run.log.contains("reconnects 0"), "\(run.log)")
    }

    @Test("a mode the camera does not offer: one line naming what it offers")
    func aModeNotOffered() throws {
        // The command line: one line on stderr, a failure status, no output file.
        let result = try runProcess(thermocolorBinary, ["run", "--input", Vivid.device, "--camera-size", "800x600",
                                                        "--output", "/tmp/never.mkv"], timeout: 60)
        #expect(result.status != 0)
        #expect(result.error.split(separator: "\n").count == 1, "\(result.error)")
        #expect(result.error.contains("/dev/video0: does not offer 800x600 in any format capture reads (Y16 comes in 320x180, 640x360, 640x480, 1280x720, 1920x1080, 3840x2160)"),
                "\(result.error)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/never.mkv"))

        // A format and a rate vivid lacks, through capture itself.
        func failure(_ settings: CaptureSettings) -> String {
            do {
                let capture = V4L2Capture(settings: settings, onFrame: { _ in })
                try capture.start()
                capture.stop()
                return "started"
            } catch {
                return error.description
            }
        }
        let mjpeg = failure(CaptureSettings(devicePath: Vivid.device, pixelFormat: .mjpeg))
        #expect(mjpeg.hasPrefix("/dev/video0: does not offer MJPG (it offers Y16, GREY, YUYV, UYVY, NV12, YU12, YV12, "), "\(mjpeg)")
        #expect(mjpeg.hasSuffix("formats capture cannot read)"), "\(mjpeg)")
        #expect(failure(CaptureSettings(devicePath: Vivid.device, frameSize: FrameSize(width: 640, height: 480), framesPerSecond: 60))
            == "/dev/video0: does not offer 60 fps in any format capture reads (Y16 640x480 runs at 25, 15, 12.5, 10, 5, 4, 2, 1 fps)")
        #expect(failure(CaptureSettings(devicePath: Vivid.device, pixelFormat: .grey, frameSize: FrameSize(width: 640, height: 480), framesPerSecond: 60))
            == "/dev/video0: does not offer 60 fps for GREY 640x480 (it offers 25, 15, 12.5, 10, 5, 4, 2, 1 fps)")
    }

    @Test("devices: one line per format capture reads, sizes and rates condensed; --all for the rest")
    func devicesListing() throws {
        // What `thermocolor devices` prints, made in process (each command
        // run costs seconds under emulation).
        let listing = videoDeviceListing(listVideoDevices())
        let lines = listing.split(separator: "\n").map(String.init)
        #expect(lines.first == "/dev/video0: vivid (vivid, platform:vivid-000)")
        #expect(lines.contains("  capture takes Y16 640x480 at 25 fps unless told otherwise"), "\(listing)")
        #expect(lines.contains("  Y16  16-bit Greyscale: 320x180 (60 fps), 640x360 (40), 640x480 (25), 1280x720 (12.5), 1920x1080 (5), 3840x2160 (2)"),
                "\(listing)")
        #expect(lines.count <= 14, "\(listing)")
        #expect(lines.last?.hasSuffix("formats capture cannot read (--all lists them)") == true, "\(listing)")
        #expect(!listing.contains("[not readable by capture]"))

        let everything = try runProcess(thermocolorBinary, ["devices", "--all", Vivid.device], timeout: 60)
        #expect(everything.status == 0)
        #expect(everything.output.split(separator: "\n").count > 60)
        #expect(everything.output.hasPrefix(lines.prefix(10).joined(separator: "\n")), "\(everything.output)")
        #expect(everything.output.contains("BA81 8-bit Bayer BGBG/GRGR [not readable by capture]"), "\(everything.output)")
    }

    // MARK: The service

    @Test("run --config with a camera: the mode configured, /metrics counting the reconnect, SIGINT while it waits")
    func serviceCountsTheReconnect() throws {
        defer { Vivid.ensurePlugged() }
        let folder = try TemporaryFolder("vivid-service")
        defer { folder.cleanup() }
        let port = freePort()
        let configuration = """
            [source]
            input = "/dev/video0"
            camera_size = "320x180"
            camera_format = "YUYV"
            camera_fps = 25
            reconnect_delay = 0.2

            [[outputs]]
            type = "recording"
            directory = "\(folder.file("recordings"))"
            container = "matroska"

            [service]
            metrics_address = "127.0.0.1:\(port)"
            status_interval = 0.5
            stop_timeout = 10
            """
        try configuration.write(toFile: folder.file("cam0.toml"), atomically: true, encoding: .utf8)
        let service = try BackgroundProcess(thermocolorBinary, ["run", "--config", folder.file("cam0.toml")])
        defer { service.stop(signal: SIGKILL) }
        #expect(service.waitForLog("camera /dev/video0 streaming: YUYV 320×180 at 25 fps", timeout: 60), "\(service.log)")
        func metrics() -> [String: Double] { httpGet(port: port, "/metrics").map(metricValues) ?? [:] }
        #expect(eventually { metrics()["thermocolor_ready"] == 1 }, "\(service.log)")
        #expect(metrics()["thermocolor_input_reconnects_total"] == 0)

        try Vivid.unplug()
        #expect(service.waitForLog("camera /dev/video0 lost: "), "\(service.log)")
        try Vivid.plug()
        #expect(service.waitForLog("camera /dev/video0 back: YUYV 320×180 at 25 fps"), "\(service.log)")
        #expect(eventually { metrics()["thermocolor_input_reconnects_total"] == 1 }, "\(metrics())")
        #expect(metrics()["thermocolor_input_losses_total"] == 1)
        let written = metrics()["thermocolor_frames_written_total"] ?? 0
        #expect(eventually { (metrics()["thermocolor_frames_written_total"] ?? 0) > written + 5 }, "frames stopped after the return: \(service.log)")

        // Gone again, and stopped (SIGINT this time) while the service waits for it.
        try Vivid.unplug()
        #expect(service.waitForLog("camera /dev/video0 still away: "), "\(service.log)")
        kill(service.processIdentifier, SIGINT)
        #expect(service.waitForExit(timeout: 30), "still running after SIGINT: \(service.log)")
        #expect(service.exitStatus == 0, "\(service.log)")
        #expect(service.log.contains("stopped on SIGINT: ") && service.log.contains(" 1 reconnect; outputs finished"), "\(service.log)")
        #expect(!service.log.contains("libv4l2"), "\(service.log)")
        let recordings = try FileManager.default.contentsOfDirectory(atPath: folder.file("recordings")).sorted()
        #expect(!recordings.isEmpty)
        for name in recordings {
            #expect(try ffprobe(folder.file("recordings/\(name)")).frameCount > 0, "\(name)")
        }
    }
}
