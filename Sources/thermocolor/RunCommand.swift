import ArgumentParser
import Capture
import Foundation
import MediaIO
import Outputs
import Pipeline
import Synchronization

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Colourise a live source until stopped (SIGINT/SIGTERM finish the outputs cleanly).",
        discussion: """
        INPUT is a network stream (rtsp://, http(s)://, udp://, srt://) or a file; with \
        --realtime a file is paced at its own frame rate, as a camera would deliver it. \
        A lost or silent input is reopened with backoff and the output timeline runs on. \
        Frames that arrive together wait their turn; a frame that has waited longer than \
        --latency-budget for processing is dropped while a newer one waits, so latency \
        stays bounded when processing is slower than the source. At the end each output \
        says what it got and dropped; a stop by SIGINT or SIGTERM exits 0.
        """
    )

    @Option(help: "Run as a service from this TOML file (see docs/SERVICE.md) instead of the options below.")
    var config: String?

    @Option(help: "The live source: a V4L2 camera (/dev/videoN, /dev/v4l/by-id/…), a stream URL or a file.")
    var input: String?

    @Option(help: "Camera profile: boson, lepton, p2pro or generic (default: recognised by USB id or name).")
    var cameraProfile: String?

    @Option(help: ArgumentHelp("Camera frame size, such as 640x480 (default: a known camera's own, else the largest that runs at 25 fps or more; see `thermocolor devices`).",
                               valueName: "WxH"))
    var cameraSize: String?

    @Option(help: ArgumentHelp("Camera pixel format: \(PixelFormat.cameraFormats.map(\.description).joined(separator: ", ")) (default: 16-bit grey, then 8-bit grey, then YUV).",
                               valueName: "FOURCC"))
    var cameraFormat: String?

    @Option(name: [.customLong("camera-fps"), .customLong("fps")],
            help: ArgumentHelp("Camera frame rate to ask for (default: the fastest at the chosen size).", valueName: "N"))
    var cameraFPS: Double?

    @Flag(help: "Wait for a camera that is not plugged in yet instead of failing.")
    var waitForDevice = false

    @Option(help: "A file or stream URL to write (repeatable).")
    var output: [String] = []

    @OptionGroup(title: "Colour") var color: ColorOptions
    @OptionGroup(title: "Input") var inputFormat: InputFormatOptions
    @OptionGroup(title: "Fusion and reference colour") var fusion: FusionOptions
    @OptionGroup(title: "Neural models") var neural: NeuralOptions
    @OptionGroup(title: "Segmented recording") var recording: RecordingOptions

    @Option(help: "Video codec for the outputs.")
    var codec: VideoCodec = .h264

    @Option(help: "Target bitrate, e.g. 4M (default: constant quality).")
    var bitrate: String?

    @Option(help: "H.264 encoder: auto (hardware if present, else libx264; the default), software, vaapi, v4l2m2m or nvenc.")
    var encoder: EncoderAcceleration = .auto

    @Flag(help: "Pace a file input at its own frame rate.")
    var realtime = false

    @Flag(help: "Start a file input again when it ends.")
    var loop = false

    @Option(help: "Seconds without data before a network input is reopened.")
    var readTimeout = 5.0

    @Option(help: "Most frames waiting between capture and processing (room for bursts); beyond it the oldest is dropped.")
    var queue = 64

    @Option(help: "Seconds a frame may wait for processing; an older one is dropped while a newer one waits.")
    var latencyBudget = PipelineOptions.defaultLatencyBudget

    @Flag(help: "Print counters, per-stage times and the latency histogram at the end.")
    var stats = false

    func validate() throws {
        try validateReadTimeout(readTimeout)
        _ = try stageRecipe(color: color, neural: neural, fusion: fusion)
        if config != nil {
            guard input == nil, output.isEmpty else { throw ValidationError("--config describes input and outputs; leave out --input and --output") }
            return
        }
        guard input != nil else { throw ValidationError("give --input (or --config FILE)") }
        guard !output.isEmpty else { throw ValidationError("give at least one --output") }
        guard queue > 0 else { throw ValidationError("--queue must be at least 1") }
        guard latencyBudget > 0, latencyBudget.isFinite else { throw ValidationError("--latency-budget must be more than 0 seconds") }
        if let input, !V4L2Capture.isDevicePath(input),
           cameraSize != nil || cameraFormat != nil || cameraFPS != nil || cameraProfile != nil {
            throw ValidationError("--camera-size, --camera-format, --camera-fps and --camera-profile apply to V4L2 cameras (/dev/video…); \(input) is not one")
        }
        _ = try cameraMode()
    }

    /// The camera mode asked for on the command line, checked for form (the
    /// camera itself says whether it offers it).
    private func cameraMode() throws -> (size: FrameSize?, format: PixelFormat?, fps: Double?) {
        var size: FrameSize?
        if let cameraSize {
            guard let parsed = FrameSize(parsing: cameraSize) else {
                throw ValidationError("--camera-size must be WIDTHxHEIGHT, such as 640x480 (got '\(cameraSize)')")
            }
            size = parsed
        }
        var format: PixelFormat?
        if let cameraFormat {
            guard let parsed = PixelFormat(cameraFormat: cameraFormat) else {
                throw ValidationError("--camera-format must be one of \(PixelFormat.cameraFormats.map(\.description).joined(separator: ", ")) (got '\(cameraFormat)')")
            }
            format = parsed
        }
        if let cameraFPS, !(cameraFPS > 0 && cameraFPS <= 1000) {
            throw ValidationError("--camera-fps must be above 0 and at most 1000 (got \(cameraFPS))")
        }
        return (size, format, cameraFPS)
    }

    func run() throws {
        if let config { return try runService(configurationPath: config) }
        guard let input else { return }
        let bitsPerSecond = try bitrate.map(parseBitrate)
        let policy = try recording.policy()
        do {
            _ = try recording.apply(to: output.map { try OutputTarget(parsing: $0) })
        } catch let error as OutputTargetError {
            throw ValidationError(error.description)
        }
        let configuration = LiveConfiguration(
            input: input, outputs: output, inputOptions: try inputFormat.options(),
            source: LiveSourceOptions(readTimeout: readTimeout, realtime: realtime, loop: loop),
            classic: try color.settings(),
            pipeline: PipelineOptions(queueCapacity: max(queue, neural.model == nil ? 1 : neural.framesPerInference),
                                      capturePolicy: .dropLate(after: latencyBudget), batchWait: neural.batchWait / 1000))
        let camera = try cameraSource(input: input)
        let colorizer = try liveStage(classic: configuration.classic)
        let openedOutputs = Mutex<OutputSet?>(nil)
        let shared = LiveSession.sharedOutputs(recording: policy, segmentFiles: recording.segment != nil, onEvent: reportOutputEvent,
                                               opened: { set in openedOutputs.withLock { $0 = set } })
        // The low-latency profile with a keyframe every second at the rate the
        // source turned out to have (not an assumed 30 fps: a Lepton runs at 9).
        let (codec, encoder) = (codec, encoder)
        let outputs: LiveSession.SinkFactory = { format, configuration in
            var settings = EncoderSettings.lowLatency(frameRate: format.frameRate?.doubleValue ?? 30)
            settings.codec = codec
            settings.bitrate = bitsPerSecond
            settings.acceleration = codec == .h264 ? encoder : .software
            var configuration = configuration
            configuration.encoder = settings
            return try shared(format, configuration)
        }
        let session = try LiveSession(configuration, source: camera, colorizer: colorizer, sinkFactory: outputs, onEvent: { event in
            switch event {
            case .connected(let info):
                printError("input \(input): \(info.width)×\(info.height) \(info.codec) \(info.pixelFormat)")
            case .disconnected(let reason):
                printError("input lost: \(reason)")
            case .retrying(let attempt, let delay, let reason):
                printError("reconnecting in \(String(format: "%.1f", delay)) s (attempt \(attempt)): \(reason)")
            }
        })
        let signals = StopSignals { _ in session.stop() }
        defer { withExtendedLifetime(signals) {} }
        do {
            try camera?.start()
        } catch where signals.wasReceived {
            return  // Ctrl-C while waiting for the camera's first frame
        }
        try session.run()
        // Live outputs may drop; each says what it got.
        for status in openedOutputs.withLock({ $0 })?.statuses ?? [] { print("wrote " + describe(status)) }
        guard let statistics = session.statistics else { return }
        // Frames processing could not keep up with are dropped before any output: say how many.
        print("frames: captured \(statistics.framesCaptured) · written \(statistics.framesWritten) · "
            + "dropped \(statistics.framesDropped) · reconnects \(session.reconnectCount)")
        guard stats else { return }
        print("stages: \(statistics.stageSummary)")
        print("latency (capture → encoded): \(statistics.latency.summary)")
    }

    /// The colouring stage for a live run: neural, fusion with a live visible
    /// camera, reference colour, or nil for the palette.
    private func liveStage(classic: ClassicSettings) throws -> FrameColorizer? {
        var recipe = try stageRecipe(color: color, neural: neural, fusion: fusion)
        recipe.classic = classic
        let visible = fusion.visible ?? ""
        let reading = StageRecipe.VisibleReading.live { event in
            if case .disconnected(let reason) = event { printError("visible input lost: \(reason)") }
        }
        return try recipe.makeStage(reading: reading) { available in
            printError(available ? "visible input \(visible) is back; fusing" : "visible input \(visible) stalled; colouring thermal only")
        }
    }

    /// A V4L2 camera when `--input` names one, else nil (FFmpeg opens the input).
    private func cameraSource(input: String) throws -> CameraSource? {
        guard V4L2Capture.isDevicePath(input) else { return nil }
        var profile: CameraProfile? = nil
        if let cameraProfile {
            guard let named = CameraProfile.named(cameraProfile) else {
                throw ValidationError("--camera-profile must be one of \(CameraProfile.names.joined(separator: ", "))")
            }
            profile = named
        }
        let mode = try cameraMode()
        let settings = CaptureSettings(devicePath: input, profile: profile, pixelFormat: mode.format, frameSize: mode.size,
                                       framesPerSecond: mode.fps, waitForDevice: waitForDevice)
        let narrator = CaptureNarrator(devicePath: input)
        return CameraSource(settings: settings, onEvent: { event in
            for line in narrator.lines(for: event) where line.level != .debug { printError(line.text) }
        })
    }
}
