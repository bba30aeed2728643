import Capture
import Foundation
import Imaging
import Logging
import MediaIO
import Pipeline
@testable import Service
import TestSupport
import Testing

@Suite("Service configuration file")
struct ConfigurationTests {
    /// A small valid file the other tests change one line of.
    static let minimal = """
    [source]
    input = "rtsp://127.0.0.1:8554/camera"

    [[outputs]]
    type = "recording"
    directory = "/var/lib/thermocolor/recordings"
    """

    func problems(_ text: String) -> [String] {
        do {
            _ = try ConfigurationLoader.parse(text)
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    @Test("The annotated sample in Samples/ validates and says what it should")
    func sampleValidates() throws {
        let configuration = try ConfigurationLoader.load(path: packageRoot + "/Samples/thermocolor.toml")
        #expect(configuration.source.input.hasPrefix("/dev/v4l/by-id/"))
        #expect(configuration.source.cameraProfile == "boson")
        #expect(configuration.source.inputOptions.ioTimeout == 5)
        #expect(configuration.processing.classic.palette.name == "ironbow")
        #expect(configuration.processing.classic.gainControl == .plateau)
        #expect(configuration.outputs.count == 2)
        guard case .recording(let recording) = configuration.outputs[0],
              case .stream(let stream) = configuration.outputs[1] else {
            Issue.record("outputs should be a recording then a stream")
            return
        }
        #expect(recording.segmentSeconds == 300)
        #expect(recording.maxSegments == 288)
        #expect(recording.maxBytes.map { $0 == 21_474_836_480 } == true)
        #expect(recording.encoder.bitrate == 4_000_000)
        #expect(stream.format == "rtsp")
        #expect(stream.encoder.keyframeInterval == 30)
        #expect(configuration.service.metricsAddress?.description == "127.0.0.1:9464")
        #expect(configuration.service.logLevel == .info)
    }

    @Test("Defaults fill what a minimal file leaves out")
    func defaults() throws {
        let configuration = try ConfigurationLoader.parse(Self.minimal)
        #expect(configuration.processing.classic == ClassicSettings())
        #expect(configuration.processing.model == nil)
        #expect(configuration.service.metricsAddress == SocketAddressText(host: "127.0.0.1", port: 9464))
        #expect(configuration.service.logLevel == .info)
        #expect(configuration.source.realtime == false)
    }

    @Test("A bad value names its key and says what is wrong", arguments: [
        ("[processing]\npalette = \"sepia\"", "processing.palette: unknown palette 'sepia' (choose one of"),
        ("[processing]\nagc = \"auto\"", "processing.agc: unknown gain control 'auto'"),
        ("[processing]\nsmoothing = 1.5", "processing.smoothing: 1.5 is out of range (0–0.99)"),
        ("[processing]\nbatch = \"four\"", "processing.batch: expected a whole number, found the string \"four\""),
        ("[processing]\ndevice = \"TPU\"", "processing.device: unknown OpenVINO device 'TPU'"),
        ("[processing]\nclip = \"/nonexistent/clip\"", "processing.clip: no CLIP bundle folder at '/nonexistent/clip'"),
        ("[processing]\nprompt = \"a road at night\"", "processing.prompt: needs processing.model"),
        ("[processing]\ntext_encoder = \"no-such-encoder\"", "processing.text_encoder: no text encoder named 'no-such-encoder'"),
        ("[processing]\ntext_encoder = \"/nonexistent/encoder\"", "processing.text_encoder: no text encoder folder at '/nonexistent/encoder'"),
        ("[processing]\nmodel = \"no-such-model\"", "processing.model: no model bundle named 'no-such-model'"),
        ("[processing]\nmodel = \"/nonexistent/bundle\"", "processing.model: no model bundle folder at '/nonexistent/bundle'"),
        ("[processing]\nreference = \"/nonexistent/day.png\"", "processing.reference: no reference picture at '/nonexistent/day.png'"),
        ("[[outputs]]\ntype = \"stream\"\nurl = \"http://example.invalid/x\"", "outputs[1].url: 'http://example.invalid/x' is not a stream URL"),
        ("[[outputs]]\ntype = \"stream\"\nurl = \"udp://127.0.0.1\"", "outputs[1].url: 'udp://127.0.0.1' needs a port"),
        ("[[outputs]]\ntype = \"stream\"", "outputs[1].url: missing"),
        ("[[outputs]]\ntype = \"archive\"", "outputs[1].type: unknown output type 'archive'"),
        ("[[outputs]]\ntype = \"recording\"\ndirectory = \"/r\"\nmax_size = \"lots\"", "outputs[1].max_size: 'lots' is not a size"),
        ("[[outputs]]\ntype = \"recording\"\ndirectory = \"/r\"\ncodec = \"vp9\"", "outputs[1].codec: unknown codec 'vp9'"),
        ("[[outputs]]\ntype = \"recording\"\ndirectory = \"/r\"\nbitrate = \"fast\"", "outputs[1].bitrate: 'fast' is not a bitrate"),
        ("[service]\nmetrics_address = \"9464\"", "service.metrics_address: '9464' is not HOST:PORT"),
        ("[service]\nlog_level = \"loud\"", "service.log_level: unknown level 'loud'"),
    ])
    func badValue(addition: String, expected: String) {
        let found = problems(Self.minimal + "\n" + addition)
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.hasPrefix(expected) == true, "\(found)")
    }

    @Test("Options for FFmpeg inputs take numbers as text; camera profiles are checked by name")
    func sourceDetails() throws {
        let configuration = try ConfigurationLoader.parse(Self.minimal.replacingOccurrences(
            of: "[source]", with: "[source]\nformat = \"rawvideo\"\noptions = { video_size = \"64x48\", framerate = 30, fast = true }\nfps = 9"))
        #expect(configuration.source.inputOptions.format == "rawvideo")
        #expect(configuration.source.inputOptions.options == ["video_size": "64x48", "framerate": "30", "fast": "1"])
        #expect(configuration.source.framesPerSecond == 9)
        let found = problems(Self.minimal.replacingOccurrences(of: "[source]", with: "[source]\ncamera_profile = \"seek\""))
        #expect(found == ["source.camera_profile: unknown camera profile 'seek' (choose one of generic, boson, lepton, p2pro)"])
    }

    @Test("A camera's mode: size, format and rate, checked for form; fps is the older name of camera_fps")
    func cameraMode() throws {
        let camera = Self.minimal.replacingOccurrences(of: "input = \"rtsp://127.0.0.1:8554/camera\"", with: "input = \"/dev/video0\"")
        let configuration = try ConfigurationLoader.parse(camera.replacingOccurrences(
            of: "[source]", with: "[source]\ncamera_size = \"640x480\"\ncamera_format = \"y16\"\ncamera_fps = 25"))
        #expect(configuration.source.cameraSize == FrameSize(width: 640, height: 480))
        #expect(configuration.source.cameraFormat == .y16)
        #expect(configuration.source.framesPerSecond == 25)
        #expect(try ConfigurationLoader.parse(camera.replacingOccurrences(of: "[source]", with: "[source]\nfps = 9"))
            .source.framesPerSecond == 9)

        func found(_ lines: String, in text: String = camera) -> [String] {
            problems(text.replacingOccurrences(of: "[source]", with: "[source]\n" + lines))
        }
        #expect(found("camera_size = \"640\"") == ["source.camera_size: '640' is not WIDTHxHEIGHT, such as \"640x480\""])
        #expect(found("camera_format = \"RGB3\"")
            == ["source.camera_format: unknown camera format 'RGB3' (choose one of Y16, GREY, YUYV, UYVY, NV12, YU12, YV12, MJPG)"])
        #expect(found("camera_fps = 25\nfps = 25") == ["source.fps: is the older name of camera_fps; give only camera_fps"])
        #expect(found("camera_size = \"640x480\"", in: Self.minimal)
            == ["source.camera_size: applies to V4L2 cameras (/dev/video…, /dev/v4l/…); input is not one"])

        // A changed mode needs a restart.
        let changed = try ConfigurationLoader.parse(camera.replacingOccurrences(of: "[source]", with: "[source]\ncamera_size = \"320x240\""))
        let changes = ConfigurationChanges(from: try ConfigurationLoader.parse(camera), to: changed)
        #expect(changes.needRestart == ["source.camera_size"])
    }

    @Test("Unknown keys are errors, with the likely key when it is a typo")
    func unknownKeys() {
        let found = problems(Self.minimal.replacingOccurrences(of: "[source]", with: "[source]\nrealtme = true")
            + "\n[processing]\npallete = \"ironbow\"\n[extras]\nx = 1")
        #expect(found.contains("source.realtme: unknown key (did you mean 'realtime'?)"), "\(found)")
        #expect(found.contains("processing.pallete: unknown key (did you mean 'palette'?)"), "\(found)")
        #expect(found.contains("extras: unknown key"), "\(found)")
    }

    @Test("Missing sections and every problem at once")
    func missingAndMany() {
        let found = problems("[processing]\npalette = \"sepia\"\nagc = 3")
        #expect(found.contains { $0.hasPrefix("source: missing") }, "\(found)")
        #expect(found.contains { $0.hasPrefix("outputs: missing") }, "\(found)")
        #expect(found.contains { $0.hasPrefix("processing.palette:") }, "\(found)")
        #expect(found.contains("processing.agc: expected a string, found the number 3"), "\(found)")
    }

    @Test("TOML syntax errors give the line and column")
    func syntaxError() {
        let found = problems("[source\ninput = 1")
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("line 1, column") == true, "\(found)")
    }

    @Test("Relative paths are taken from the file's folder")
    func relativePaths() throws {
        let folder = try TemporaryFolder("config")
        defer { folder.cleanup() }
        try (Self.minimal.replacingOccurrences(of: "/var/lib/thermocolor/recordings", with: "recordings")
            .replacingOccurrences(of: "rtsp://127.0.0.1:8554/camera", with: "clips/flight.mkv"))
            .write(toFile: folder.file("cam0.toml"), atomically: true, encoding: .utf8)
        let configuration = try ConfigurationLoader.load(path: folder.file("cam0.toml"))
        #expect(configuration.source.input == URL(fileURLWithPath: folder.file("clips/flight.mkv")).standardized.path)
        guard case .recording(let recording) = configuration.outputs[0] else { Issue.record("not a recording"); return }
        #expect(recording.directory == URL(fileURLWithPath: folder.file("recordings")).standardized.path)
    }

    @Test("A missing file is one clear problem")
    func missingFile() {
        #expect(throws: ConfigurationError.self) { try ConfigurationLoader.load(path: "/nonexistent/thermocolor.toml") }
        do {
            _ = try ConfigurationLoader.load(path: "/nonexistent/thermocolor.toml")
        } catch {
            #expect(error.description == "/nonexistent/thermocolor.toml: no such file")
        }
    }

    @Test("Metrics addresses: IPv4, IPv6, localhost, off")
    func addresses() {
        #expect(SocketAddressText(parsing: "127.0.0.1:9464") == SocketAddressText(host: "127.0.0.1", port: 9464))
        #expect(SocketAddressText(parsing: "[::1]:9100")?.description == "[::1]:9100")
        #expect(SocketAddressText(parsing: "localhost:9464")?.host == "127.0.0.1")
        #expect(SocketAddressText(parsing: "example.com:80") == nil)
        #expect(SocketAddressText(parsing: "127.0.0.1:99999") == nil)
        #expect(SocketAddressText(parsing: "::1:9464") == nil)
    }

    @Test("Reload sorts changes into live and needs-a-restart")
    func changes() throws {
        let old = try ConfigurationLoader.parse(ConfigurationTests.minimal)
        let new = try ConfigurationLoader.parse(
            ConfigurationTests.minimal.replacingOccurrences(of: "camera", with: "other")
                + "\n[processing]\npalette = \"rainbow\"\nagc = \"plateau\"\n[service]\nlog_level = \"debug\"")
        let changes = ConfigurationChanges(from: old, to: new)
        #expect(changes.live == ["processing.palette", "processing.agc", "service.log_level"])
        #expect(changes.needRestart == ["source.input"])
        #expect(ConfigurationChanges(from: old, to: old).isEmpty)
    }

    @Test("A reference picture is a live key: a new path, or a new picture at the same path, is a change")
    func referenceChanges() throws {
        let folder = try TemporaryFolder("config")
        defer { folder.cleanup() }
        let picture = folder.file("day.png")
        try ImageFile.writePNG(RGBImage(width: 4, height: 4, channels: 3, repeating: 90), to: picture)
        let text = Self.minimal + "\n[processing]\nreference = \"\(picture)\""
        let old = try ConfigurationLoader.parse(text)
        #expect(old.processing.reference == picture)
        #expect(ConfigurationChanges(from: old, to: try ConfigurationLoader.parse(text)).isEmpty)
        // The same path, another (larger) picture.
        try ImageFile.writePNG(RGBImage(width: 16, height: 16, channels: 3, repeating: 200), to: picture)
        let replaced = ConfigurationChanges(from: old, to: try ConfigurationLoader.parse(text))
        #expect(replaced.live == ["processing.reference"])
        #expect(replaced.needRestart.isEmpty)
        let dropped = ConfigurationChanges(from: old, to: try ConfigurationLoader.parse(Self.minimal))
        #expect(dropped.live == ["processing.reference"])
    }
}
