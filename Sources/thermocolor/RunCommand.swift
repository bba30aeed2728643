import ArgumentParser
import Capture
import Foundation
import Logging
import MediaIO
import Outputs
import Pipeline
import Service

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
        let configuration = try serviceConfiguration(input: input)
        // The runner's own lines (starting, ready, stopping) are the journal's;
        // on a terminal `run` tells its inputs and outputs, and the summary below.
        let logLevel = LogLevelControl(.critical)
        let logger = Logger(label: "thermocolor") { label in JournalLogHandler(label: label, style: .plain, level: logLevel) }
        let narration = ServiceRunner.Narration(style: .terminal, input: { line in
            if line.level != .debug { printError(line.text) }
        }, output: reportOutputEvent)
        let runner = ServiceRunner(configuration: configuration, configurationPath: nil, logger: logger, logLevel: logLevel,
                                   narration: narration)
        try runner.run()
        // Live outputs may drop; each says what it got.
        for status in runner.outputStatuses { print("wrote " + describe(status)) }
        guard let statistics = runner.statistics else { return }
        // Frames processing could not keep up with are dropped before any output: say how many.
        print("frames: captured \(statistics.framesCaptured) · written \(statistics.framesWritten) · "
            + "dropped \(statistics.framesDropped) · reconnects \(runner.reconnectCount)")
        guard stats else { return }
        print("stages: \(statistics.stageSummary)")
        print("latency (capture → encoded): \(statistics.latency.summary)")
    }

    /// The flags as the configuration a service's file would give, so that
    /// `run --input` and `run --config` go through one runner: metrics off,
    /// nothing to reload, and a stop that waits for the outputs however long
    /// they take.
    func serviceConfiguration(input: String) throws -> ServiceConfiguration {
        // The low-latency profile with a keyframe every second at the rate the
        // source turns out to have (not an assumed 30 fps: a Lepton runs at 9).
        var settings = EncoderSettings.lowLatency(frameRate: 30)
        settings.keyframeInterval = nil
        settings.codec = codec
        settings.bitrate = try bitrate.map(parseBitrate)
        settings.acceleration = codec == .h264 ? encoder : .software
        let policy = try recording.policy()
        var targets: [OutputTarget]
        do {
            targets = try recording.apply(to: output.map { try OutputTarget(parsing: $0) })
        } catch let error as OutputTargetError {
            throw ValidationError(error.description)
        }
        if let policy {
            for index in targets.indices where targets[index].kind == .segments { targets[index].segmentPolicy = policy }
        }
        let mode = try cameraMode()
        if let cameraProfile, CameraProfile.named(cameraProfile) == nil {
            throw ValidationError("--camera-profile must be one of \(CameraProfile.names.joined(separator: ", "))")
        }
        let source = SourceConfiguration(
            input: input, inputOptions: try inputFormat.options(), cameraProfile: cameraProfile,
            cameraSize: mode.size, cameraFormat: mode.format, framesPerSecond: mode.fps, realtime: realtime, loop: loop,
            reconnectDelay: LiveSourceOptions().initialBackoff, readTimeout: readTimeout, waitForDevice: waitForDevice)
        var processing = ProcessingConfiguration(recipe: try stageRecipe(color: color, neural: neural, fusion: fusion))
        processing.queue = queue
        processing.latencyBudget = latencyBudget
        processing.batchWait = neural.batchWait / 1000
        return ServiceConfiguration(source: source, processing: processing,
                                    outputs: targets.map { .target(TargetOutput(target: $0, encoder: settings)) },
                                    service: ServiceSettings(metricsAddress: nil, stopTimeout: .infinity))
    }
}
