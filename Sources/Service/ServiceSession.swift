import Capture
import Foundation
import Imaging
import MediaIO
import Outputs
import Pipeline
import Synchronization

/// What the service runs and supervises: a `LiveSession` in production, a
/// stand-in in tests.
package protocol ServiceSession: AnyObject, Sendable {
    /// Runs until the source ends, `stop()` is called, or a stage fails.
    func run() throws
    /// Ends the run from any thread; outputs are finished properly.
    func stop()
    /// The running pipeline's counters; nil before the input is open.
    var statistics: PipelineStatistics? { get }
    /// Times the input was reopened after a loss.
    var reconnectCount: Int { get }
    /// Called once, on the sink thread, when the first frame reached every output.
    var onFirstFrameWritten: (@Sendable () -> Void)? { get set }
    /// Palette and gain control from the next batch on.
    func updateClassic(_ settings: ClassicSettings) throws
    /// A new prompt for a prompt-steered model, from the next batch on.
    func applyPrompt(_ prompt: String) throws
    /// A new colour reference picture, from the next batch on.
    func applyReference(_ path: String) throws
}

extension ServiceSession {
    package func applyReference(_ path: String) throws {
        throw PipelineError("this session takes no colour reference")
    }
}

extension LiveSession: ServiceSession {
    package func applyPrompt(_ prompt: String) throws {
        try updatePrompt(prompt)
    }

    package func applyReference(_ path: String) throws {
        try updateReference(try ImageFile.readRGB(path))
    }
}

/// A live session fed by a V4L2 camera: the camera starts (and waits for its
/// first frame) inside `run`, so a stop during that wait ends it too.
package final class CameraServiceSession: ServiceSession, @unchecked Sendable {
    package let session: LiveSession
    package let camera: CameraSource
    private let stopped = Atomic<Bool>(false)

    package init(session: LiveSession, camera: CameraSource) {
        self.session = session
        self.camera = camera
    }

    package func run() throws {
        do {
            try camera.start()
        } catch {
            // Stopped while waiting for the camera: a clean stop, not a failure.
            if stopped.load(ordering: .relaxed) { return }
            throw error
        }
        try session.run()
    }

    package func stop() {
        stopped.store(true, ordering: .relaxed)
        session.stop()
    }
    package var statistics: PipelineStatistics? { session.statistics }
    /// Times the camera came back after going away.
    package var reconnectCount: Int { camera.captureStatistics.reconnects }

    package var onFirstFrameWritten: (@Sendable () -> Void)? {
        get { session.onFirstFrameWritten }
        set { session.onFirstFrameWritten = newValue }
    }

    package func updateClassic(_ settings: ClassicSettings) throws { try session.updateClassic(settings) }
    package func applyPrompt(_ prompt: String) throws { try session.updatePrompt(prompt) }
    package func applyReference(_ path: String) throws { try session.applyReference(path) }
}

/// What the runner hands a session factory: where to report input and
/// output events, the meters its outputs should feed, and who wants the
/// outputs once they are open.
package struct ServiceContext: Sendable {
    /// Connects, losses and retries of the input (file, stream or camera) and of a visible input.
    package var onInputEvent: @Sendable (InputEvent) -> Void
    /// Creates the meter for one output; the runner exposes them on /metrics.
    package var meter: @Sendable (_ kind: String, _ name: String) -> OutputMeter
    /// Connections, segments and disk events of the outputs, for the log.
    package var onOutputEvent: @Sendable (OutputEvent) -> Void
    /// Receives the outputs once the input's format is known and they are open (their `statuses`).
    package var onOutputsOpened: @Sendable (OutputSet) -> Void

    package init(onInputEvent: @escaping @Sendable (InputEvent) -> Void,
                onOutputEvent: @escaping @Sendable (OutputEvent) -> Void = { _ in },
                meter: @escaping @Sendable (String, String) -> OutputMeter,
                onOutputsOpened: @escaping @Sendable (OutputSet) -> Void = { _ in }) {
        self.onInputEvent = onInputEvent
        self.onOutputEvent = onOutputEvent
        self.meter = meter
        self.onOutputsOpened = onOutputsOpened
    }
}

extension LiveConfiguration {
    /// The live run a service configuration describes, but for its outputs:
    /// `ServiceOutputs.sinkFactory` builds those from the configuration.
    package init(_ configuration: ServiceConfiguration) {
        let source = configuration.source
        let processing = configuration.processing
        self.init(input: source.input,
                  inputOptions: source.inputOptions,
                  source: LiveSourceOptions(readTimeout: source.readTimeout ?? source.inputOptions.ioTimeout ?? 5,
                                            initialBackoff: source.reconnectDelay,
                                            maximumBackoff: max(8, source.reconnectDelay), realtime: source.realtime,
                                            loop: source.loop),
                  classic: processing.classic,
                  pipeline: PipelineOptions(queueCapacity: max(processing.queue, processing.batch),
                                            capturePolicy: .dropLate(after: processing.latencyBudget),
                                            batchWait: processing.batchWait))
    }
}

extension OutputConfiguration {
    /// The folder or URL, for logs and metric labels.
    package var location: String {
        switch self {
        case .recording(let recording): recording.directory
        case .stream(let stream): stream.url
        case .target(let target): target.target.text
        }
    }

    package var kind: String {
        switch self {
        case .recording: "recording"
        case .stream: "stream"
        case .target(let target): target.target.kind.isNetwork ? "stream" : "recording"
        }
    }
}

/// Builds the configured outputs once the stream's size is known.
package enum ServiceOutputs {
    /// Every configured output through the live outputs factory
    /// (`LiveSession.outputs`), in one `OutputSet`, so outputs whose encoder
    /// settings agree share one encode: a recording is a folder of
    /// self-contained segments of `segment_seconds`, named by their UTC start
    /// time, with the oldest deleted past `max_segments` or `max_size`; a stream
    /// queues, reconnects with backoff and resumes on a keyframe without holding
    /// up the recording. A command-line target is written as it names itself,
    /// with its own encoder overrides applied. Each output's metrics come from
    /// the set's own counters.
    package static func sinkFactory(_ configuration: ServiceConfiguration, context: ServiceContext) -> LiveSession.SinkFactory {
        let outputs = configuration.outputs
        let meter = context.meter
        return LiveSession.outputs({ format in try targets(outputs, format: format) },
                                   onEvent: context.onOutputEvent, opened: context.onOutputsOpened,
                                   sink: { set in MeteredOutputs(set, meters: outputs.map { meter($0.kind, $0.location) }) })
    }

    /// The configured outputs as targets for a stream of `format`: each with its
    /// own encoder settings (a keyframe a second at the stream's rate unless the
    /// configuration names an interval), a recording as a folder of segments
    /// (created if need be) with its limits.
    private static func targets(_ outputs: [OutputConfiguration], format: StreamFormat) throws -> [OutputTarget] {
        guard !outputs.isEmpty else { throw PipelineError("the configuration names no output") }
        let frameRate = format.frameRate?.doubleValue ?? 30
        return try outputs.map { output -> OutputTarget in
            var encoder = output.encoder
            encoder.keyframeInterval = encoder.keyframeInterval ?? max(1, Int(frameRate.rounded()))
            switch output {
            case .target(let named):
                var target = named.target
                target.encoder = target.encoder ?? target.encoderOverrides.applied(to: encoder)
                return target
            case .recording(let recording):
                try FileManager.default.createDirectory(atPath: recording.directory, withIntermediateDirectories: true)
                var target = OutputTarget(kind: .segments, location: recording.directory,
                                          output: OutputOptions(format: recording.container, fragmented: true))
                target.segmentExtension = ["matroska": "mkv", "mpegts": "ts"][recording.container] ?? recording.container
                target.encoder = encoder
                target.segmentPolicy = SegmentPolicy(duration: recording.segmentSeconds, maxTotalBytes: recording.maxBytes,
                                                     maxSegments: recording.maxSegments)
                return target
            case .stream(let stream):
                var target = try OutputTarget(parsing: stream.url, format: stream.format)
                target.encoder = encoder
                return target
            }
        }
    }

    /// The production session: a V4L2 camera (waited for when it is not
    /// plugged in yet, as a service always does and `run` with
    /// `--wait-for-device`) or a file or stream through `LiveSession`,
    /// coloured by the stage the configuration's recipe describes (the classic
    /// palette when it names none), outputs from `sinkFactory`. A visible
    /// input's events go to `context` too.
    package static func liveSession(_ configuration: ServiceConfiguration, context: ServiceContext) throws -> ServiceSession {
        let onInputEvent = context.onInputEvent
        let colorizer = try configuration.processing.recipe.makeStage(
            reading: .live(onEvent: { onInputEvent(.visible($0)) }),
            onVisibleChange: { onInputEvent(.visiblePairing($0)) })
        let live = LiveConfiguration(configuration)
        let sinks = sinkFactory(configuration, context: context)
        guard V4L2Capture.isDevicePath(configuration.source.input) else {
            return try LiveSession(live, colorizer: colorizer, sinkFactory: sinks, onEvent: { onInputEvent(.stream($0)) })
        }
        var profile: CameraProfile?
        if let name = configuration.source.cameraProfile {
            guard let named = CameraProfile.named(name) else { throw PipelineError("unknown camera profile '\(name)'") }
            profile = named
        }
        let source = configuration.source
        let settings = CaptureSettings(devicePath: source.input, profile: profile, pixelFormat: source.cameraFormat,
                                       frameSize: source.cameraSize, framesPerSecond: source.framesPerSecond,
                                       waitForDevice: source.waitForDevice)
        let camera = CameraSource(settings: settings, onEvent: { onInputEvent(.camera($0)) })
        let session = try LiveSession(live, source: camera, colorizer: colorizer, sinkFactory: sinks,
                                      onEvent: { onInputEvent(.stream($0)) })
        return CameraServiceSession(session: session, camera: camera)
    }
}
