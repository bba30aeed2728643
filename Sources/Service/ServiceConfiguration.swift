import Imaging
import Logging
import MediaIO
import Pipeline

/// Everything `thermocolor run --config FILE` needs: one source, how to
/// colourise it, where the result goes, and how the service reports itself.
///
/// Built by `ConfigurationLoader` from a TOML file (see docs/SERVICE.md for
/// every key); values here are already validated.
public struct ServiceConfiguration: Sendable {
    public var source: SourceConfiguration
    public var processing: ProcessingConfiguration
    public var outputs: [OutputConfiguration]
    public var service: ServiceSettings

    public init(source: SourceConfiguration, processing: ProcessingConfiguration = ProcessingConfiguration(),
                outputs: [OutputConfiguration], service: ServiceSettings = ServiceSettings()) {
        self.source = source
        self.processing = processing
        self.outputs = outputs
        self.service = service
    }
}

/// The `[source]` table: the one camera, file or stream this service reads.
public struct SourceConfiguration: Sendable {
    /// A V4L2 device (`/dev/video0`), a file, or a stream URL (`rtsp://…`).
    public var input: String
    /// FFmpeg input format and options (`video_size`, `pixel_format`, `framerate`…).
    public var inputOptions: InputOptions
    /// A camera profile name (`boson`, `lepton`, `p2pro`, `generic`); nil detects it.
    public var cameraProfile: String?
    /// The frame rate to ask a V4L2 camera for; nil takes its fastest.
    public var framesPerSecond: Double?
    /// Plays a file at its own frame rate, as if it were a camera.
    public var realtime: Bool
    /// Starts a file again at its end (demos, soak tests) instead of ending the run.
    public var loop: Bool
    /// Seconds to wait before opening the source again after it fails; doubles on each failure up to 8 s.
    public var reconnectDelay: Double

    public init(input: String, inputOptions: InputOptions = InputOptions(ioTimeout: 5), cameraProfile: String? = nil,
                framesPerSecond: Double? = nil, realtime: Bool = false, loop: Bool = false, reconnectDelay: Double = 0.5) {
        self.input = input
        self.inputOptions = inputOptions
        self.cameraProfile = cameraProfile
        self.framesPerSecond = framesPerSecond
        self.realtime = realtime
        self.loop = loop
        self.reconnectDelay = reconnectDelay
    }
}

/// The `[processing]` table: the classic colouriser's settings, and the
/// neural model that replaces it when `model` is set.
public struct ProcessingConfiguration: Sendable, Equatable {
    /// Gain control and palette; applied live on SIGHUP.
    public var classic: ClassicSettings
    /// A model bundle folder; nil colourises with `classic` alone.
    public var model: String?
    /// A text prompt for models that take one; applied live on SIGHUP.
    public var prompt: String?
    /// A CLIP text-encoder bundle for prompts the model bundle has no baked embedding for.
    public var clip: String?
    /// A colour picture of the scene: the reference of a `reference-colorizer`
    /// model, or, without a model, of the classic Lab colour transfer. A new
    /// path or a new picture at the same path applies live on SIGHUP.
    public var reference: String?
    /// The reference file's size and modification time when it was read, so a
    /// picture replaced in place counts as a change.
    public var referenceStamp: String?
    /// Frames per inference call.
    public var batch: Int
    /// OpenVINO device: `CPU`, `GPU`, `GPU.1`, `NPU`, `AUTO`…
    public var device: String

    public init(classic: ClassicSettings = ClassicSettings(), model: String? = nil, prompt: String? = nil,
                batch: Int = 1, device: String = "CPU") {
        self.classic = classic
        self.model = model
        self.prompt = prompt
        self.batch = batch
        self.device = device
    }
}

/// One `[[outputs]]` entry.
public enum OutputConfiguration: Sendable, Equatable {
    case recording(RecordingOutput)
    case stream(StreamOutput)

    public var encoder: EncoderSettings {
        switch self {
        case .recording(let recording): recording.encoder
        case .stream(let stream): stream.encoder
        }
    }
}

/// Segmented files in a folder, oldest removed first when a limit is reached.
public struct RecordingOutput: Sendable, Equatable {
    public var directory: String
    /// Length of each file, in seconds.
    public var segmentSeconds: Double
    /// Keep at most this many segments (nil: no count limit).
    public var maxSegments: Int?
    /// Keep at most this many bytes of segments (nil: no size limit).
    public var maxBytes: Int64?
    /// FFmpeg muxer: `mp4` (fragmented), `matroska` or `mpegts`.
    public var container: String
    public var encoder: EncoderSettings

    public init(directory: String, segmentSeconds: Double = 300, maxSegments: Int? = nil, maxBytes: Int64? = nil,
                container: String = "mp4", encoder: EncoderSettings = .lowLatency(frameRate: 30)) {
        self.directory = directory
        self.segmentSeconds = segmentSeconds
        self.maxSegments = maxSegments
        self.maxBytes = maxBytes
        self.container = container
        self.encoder = encoder
    }
}

/// A network stream: RTSP (published to a server), RTMP, SRT or UDP MPEG-TS.
public struct StreamOutput: Sendable, Equatable {
    public var url: String
    /// FFmpeg muxer; nil picks it from the URL's scheme.
    public var format: String?
    public var encoder: EncoderSettings

    public init(url: String, format: String? = nil, encoder: EncoderSettings = .lowLatency(frameRate: 30)) {
        self.url = url
        self.format = format
        self.encoder = encoder
    }
}

/// The `[service]` table: how the process reports itself.
public struct ServiceSettings: Sendable, Equatable {
    /// Where `/metrics` and `/healthz` listen; nil turns the endpoint off.
    public var metricsAddress: SocketAddressText?
    public var logLevel: Logger.Level
    /// Seconds between STATUS= updates to systemd (and status log lines at debug level).
    public var statusInterval: Double
    /// Seconds the outputs get to drain and close on SIGTERM; keep below the unit's TimeoutStopSec.
    public var stopTimeout: Double
    /// Seconds without a written frame before `/healthz` answers 503.
    public var healthTimeout: Double

    public init(metricsAddress: SocketAddressText? = SocketAddressText(host: "127.0.0.1", port: 9464),
                logLevel: Logger.Level = .info, statusInterval: Double = 5, stopTimeout: Double = 20,
                healthTimeout: Double = 5) {
        self.metricsAddress = metricsAddress
        self.logLevel = logLevel
        self.statusInterval = statusInterval
        self.stopTimeout = stopTimeout
        self.healthTimeout = healthTimeout
    }
}

/// A `HOST:PORT` pair as written in the configuration (`127.0.0.1:9464`, `[::1]:9464`).
public struct SocketAddressText: Sendable, Hashable, CustomStringConvertible {
    /// A literal IPv4 or IPv6 address (`localhost` is read as 127.0.0.1).
    public var host: String
    /// 0 lets the system choose (tests).
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`; nil when it is not one.
    public init?(parsing text: String) {
        var host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        if host == "localhost" { host = "127.0.0.1" }
        guard !host.isEmpty, let port = UInt16(portText), IPAddress(String(host)) != nil else { return nil }
        self.host = String(host)
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
