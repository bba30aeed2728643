import Foundation
import Imaging
import MediaIO
import Pipeline

/// What the service runs and supervises: a `LiveSession` in production, a
/// stand-in in tests.
public protocol ServiceSession: AnyObject, Sendable {
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
}

extension LiveSession: ServiceSession {
    public func applyPrompt(_ prompt: String) throws {
        // Wire to the neural colouriser's prompt update once it is part of LiveSession.
        throw PipelineError("this session's colouriser takes no prompt")
    }
}

/// What the runner hands a session factory: where to report input events,
/// and the meters its outputs should feed.
public struct ServiceContext: Sendable {
    /// Connects, losses and retries of the input, for the log and the counters.
    public var onSourceEvent: @Sendable (LiveSourceEvent) -> Void
    /// Creates the meter for one output; the runner exposes them on /metrics.
    public var meter: @Sendable (_ kind: String, _ name: String) -> OutputMeter

    public init(onSourceEvent: @escaping @Sendable (LiveSourceEvent) -> Void,
                meter: @escaping @Sendable (String, String) -> OutputMeter) {
        self.onSourceEvent = onSourceEvent
        self.meter = meter
    }
}

extension LiveConfiguration {
    /// The live run a service configuration describes. Outputs are built by
    /// `ServiceOutputs.sinkFactory`, which needs the configuration too.
    public init(_ configuration: ServiceConfiguration) {
        let source = configuration.source
        self.init(input: source.input,
                  outputs: configuration.outputs.map(\.location),
                  inputOptions: source.inputOptions,
                  source: LiveSourceOptions(readTimeout: source.inputOptions.ioTimeout ?? 5,
                                            initialBackoff: source.reconnectDelay,
                                            maximumBackoff: max(8, source.reconnectDelay), realtime: source.realtime,
                                            loop: source.loop),
                  classic: configuration.processing.classic,
                  pipeline: PipelineOptions(queueCapacity: max(2, configuration.processing.batch), capturePolicy: .dropOldest,
                                            batchWait: 0.01))
    }
}

extension OutputConfiguration {
    /// The folder or URL, for logs and metric labels.
    public var location: String {
        switch self {
        case .recording(let recording): recording.directory
        case .stream(let stream): stream.url
        }
    }

    public var kind: String {
        switch self {
        case .recording: "recording"
        case .stream: "stream"
        }
    }
}

/// Builds the configured outputs once the stream's size is known.
public enum ServiceOutputs {
    /// One encoder per output, each behind a meter.
    ///
    /// A recording is, for now, one fragmented file per run in its folder,
    /// named by the UTC start time; segment length and rotation limits are
    /// validated but wait for the segmenting sink.
    public static func sinkFactory(_ configuration: ServiceConfiguration, context: ServiceContext) -> LiveSession.SinkFactory {
        let outputs = configuration.outputs
        return { format, _ in
            let frameRate = format.frameRate?.doubleValue ?? 30
            return try outputs.map { output -> FrameSink in
                var encoder = output.encoder
                encoder.keyframeInterval = encoder.keyframeInterval ?? max(1, Int(frameRate.rounded()))
                let writer: VideoWriter
                switch output {
                case .recording(let recording):
                    try FileManager.default.createDirectory(atPath: recording.directory, withIntermediateDirectories: true)
                    let path = recording.directory + "/" + recordingFileName(container: recording.container)
                    writer = try VideoWriter(path, width: format.width, height: format.height, timeBase: format.timeBase,
                                             frameRate: format.frameRate, settings: encoder,
                                             output: OutputOptions(format: recording.container, fragmented: true))
                case .stream(let stream):
                    writer = try VideoWriter(stream.url, width: format.width, height: format.height, timeBase: format.timeBase,
                                             frameRate: format.frameRate, settings: encoder,
                                             output: OutputOptions(format: stream.format, ioTimeout: 5))
                }
                return MeteredSink(writer, meter: context.meter(output.kind, output.location))
            }
        }
    }

    /// `thermocolor-20260101T120000Z.mp4`: sorts by time, unique per second.
    static func recordingFileName(container: String, date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let suffix = ["matroska": "mkv", "mpegts": "ts"][container] ?? container
        return "thermocolor-\(formatter.string(from: date)).\(suffix)"
    }

    /// The production session: the configured source through `LiveSession`,
    /// outputs from `sinkFactory`.
    public static func liveSession(_ configuration: ServiceConfiguration, context: ServiceContext) throws -> ServiceSession {
        try LiveSession(LiveConfiguration(configuration), sinkFactory: sinkFactory(configuration, context: context),
                        onEvent: context.onSourceEvent)
    }
}
