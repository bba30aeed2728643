import Capture
import Imaging
import Logging
import MediaIO
import Outputs
import Pipeline

/// Everything a live run needs: one source, how to colourise it, where the
/// result goes, and how the service reports itself.
///
/// `thermocolor run --config FILE` gets it from `ConfigurationLoader` (see
/// docs/SERVICE.md for every key); `run --input …` builds it from its flags.
/// Values here are already validated.
package struct ServiceConfiguration: Sendable {
    package var source: SourceConfiguration
    package var processing: ProcessingConfiguration
    package var outputs: [OutputConfiguration]
    package var service: ServiceSettings

    package init(source: SourceConfiguration, processing: ProcessingConfiguration = ProcessingConfiguration(),
                outputs: [OutputConfiguration], service: ServiceSettings = ServiceSettings()) {
        self.source = source
        self.processing = processing
        self.outputs = outputs
        self.service = service
    }
}

/// The `[source]` table: the one camera, file or stream this service reads.
package struct SourceConfiguration: Sendable {
    /// A V4L2 device (`/dev/video0`), a file, or a stream URL (`rtsp://…`).
    package var input: String
    /// FFmpeg input format and options (`video_size`, `pixel_format`, `framerate`…).
    package var inputOptions: InputOptions
    /// A camera profile name (`boson`, `lepton`, `p2pro`, `generic`); nil detects it.
    package var cameraProfile: String?
    /// The frame size to ask a V4L2 camera for (`camera_size`); nil lets capture choose.
    package var cameraSize: FrameSize?
    /// The pixel format to ask a V4L2 camera for (`camera_format`); nil lets capture choose.
    package var cameraFormat: PixelFormat?
    /// The frame rate to ask a V4L2 camera for (`camera_fps`); nil takes the
    /// fastest at the chosen size.
    package var framesPerSecond: Double?
    /// Plays a file at its own frame rate, as if it were a camera.
    package var realtime: Bool
    /// Starts a file again at its end (demos, soak tests) instead of ending the run.
    package var loop: Bool
    /// Seconds to wait before opening the source again after it fails; doubles on each failure up to 8 s.
    package var reconnectDelay: Double
    /// Seconds without data before a network input is reopened; nil: `io_timeout`, else 5.
    /// The file has no key of its own for it (`run --read-timeout` sets it).
    package var readTimeout: Double?
    /// Waits for a V4L2 camera that is not plugged in yet instead of failing. A
    /// service always waits (failing would only restart it in a loop); `run`
    /// waits with `--wait-for-device`.
    package var waitForDevice: Bool

    package init(input: String, inputOptions: InputOptions = InputOptions(ioTimeout: 5), cameraProfile: String? = nil,
                cameraSize: FrameSize? = nil, cameraFormat: PixelFormat? = nil,
                framesPerSecond: Double? = nil, realtime: Bool = false, loop: Bool = false, reconnectDelay: Double = 0.5,
                readTimeout: Double? = nil, waitForDevice: Bool = true) {
        self.input = input
        self.inputOptions = inputOptions
        self.cameraProfile = cameraProfile
        self.cameraSize = cameraSize
        self.cameraFormat = cameraFormat
        self.framesPerSecond = framesPerSecond
        self.realtime = realtime
        self.loop = loop
        self.reconnectDelay = reconnectDelay
        self.readTimeout = readTimeout
        self.waitForDevice = waitForDevice
    }
}

/// The `[processing]` table: the classic colouriser's settings, and the
/// neural model that replaces it when `model` is set.
package struct ProcessingConfiguration: Sendable, Equatable {
    /// Gain control and palette; applied live on SIGHUP.
    package var classic: ClassicSettings
    /// A model bundle folder; nil colourises with `classic` alone.
    package var model: String?
    /// A text prompt for models that take one; applied live on SIGHUP.
    package var prompt: String?
    /// A CLIP text-encoder bundle for prompts the model bundle has no baked embedding for.
    package var clip: String?
    /// A text-encoder bundle (folder, or a name on the model search path)
    /// for such prompts; nil picks one of the model's text space.
    package var textEncoder: String?
    /// A colour picture of the scene: the reference of a `reference-colorizer`
    /// model, or, without a model, of the classic Lab colour transfer. A new
    /// path or a new picture at the same path applies live on SIGHUP.
    package var reference: String?
    /// The reference file's size and modification time when it was read, so a
    /// picture replaced in place counts as a change.
    package var referenceStamp: String?
    /// Frames per inference call.
    package var batch: Int
    /// OpenVINO device: `CPU`, `GPU`, `GPU.1`, `NPU`, `AUTO`…
    package var device: String

    // Settings of the stage recipe and the pipeline that only the command
    // line sets (`run --input …`); the file has no keys for them, so a
    // service runs with these defaults.

    /// A file holding the prompt's embedding, instead of `prompt` (`--embedding`).
    package var embeddingFile: String?
    /// OpenVINO's inference precision hint (`--precision`).
    package var precision: String?
    /// Infer requests in flight (`--requests`).
    package var requests = 2
    /// Chroma kept from the previous frame where the picture is still; nil: the bundle's (`--temporal-smoothing`).
    package var temporalSmoothing: Double?
    /// Luminance regions of the classic reference transfer (`--reference-regions`).
    package var referenceRegions = 3
    /// A visible camera or video to fuse with (`--visible` and its options).
    package var visible: VisibleRecipe?
    /// Most frames waiting between capture and processing (`--queue`); at least `batch` are kept.
    package var queue = PipelineOptions.live.queueCapacity
    /// Seconds a frame may wait for processing before it is dropped for a newer one (`--latency-budget`).
    package var latencyBudget = PipelineOptions.defaultLatencyBudget
    /// The longest a batch waits to fill up, in seconds (`--batch-wait`).
    package var batchWait = 0.01

    package init(classic: ClassicSettings = ClassicSettings(), model: String? = nil, prompt: String? = nil,
                batch: Int = 1, device: String = "CPU") {
        self.classic = classic
        self.model = model
        self.prompt = prompt
        self.batch = batch
        self.device = device
    }
}

extension ProcessingConfiguration {
    /// The stage the command line's flags describe, as the table would hold it.
    package init(recipe: StageRecipe) {
        let neural = recipe.neural
        // Without a model nothing is batched.
        self.init(classic: recipe.classic, model: neural.model, prompt: neural.prompt,
                  batch: neural.model == nil ? 1 : neural.framesPerInference, device: neural.device)
        clip = neural.clip
        textEncoder = neural.textEncoder
        embeddingFile = neural.embeddingFile
        precision = neural.precision
        requests = neural.requests
        temporalSmoothing = neural.temporalSmoothing
        visible = recipe.visible
        reference = recipe.reference?.image
        referenceRegions = recipe.reference?.regions ?? referenceRegions
    }

    /// The table as the stage recipe the command line's flags also map onto.
    package var recipe: StageRecipe {
        StageRecipe(classic: classic,
                    neural: NeuralRecipe(model: model, prompt: prompt, embeddingFile: embeddingFile, textEncoder: textEncoder,
                                         clip: clip, batch: batch, device: device, precision: precision, requests: requests,
                                         temporalSmoothing: temporalSmoothing),
                    visible: visible,
                    reference: reference.map { ReferenceRecipe(image: $0, regions: referenceRegions) })
    }
}

/// One `[[outputs]]` entry.
package enum OutputConfiguration: Sendable, Equatable {
    case recording(RecordingOutput)
    case stream(StreamOutput)
    /// An output as the command line names it (`run --output`); not from a file.
    case target(TargetOutput)

    package var encoder: EncoderSettings {
        switch self {
        case .recording(let recording): recording.encoder
        case .stream(let stream): stream.encoder
        case .target(let target): target.encoder
        }
    }
}

/// An output of `run --input … --output TEXT`: a file, a `folder/` of segments,
/// a stream URL or `hls:FOLDER`, parsed as `OutputTarget` (with its segment
/// policy, and any `?bitrate=`/`?crf=`/`?preset=` of its own).
package struct TargetOutput: Sendable, Equatable {
    package var target: OutputTarget
    /// The run's encoder settings, before the target's own overrides; a nil
    /// `keyframeInterval` means one keyframe a second at the source's rate.
    package var encoder: EncoderSettings

    package init(target: OutputTarget, encoder: EncoderSettings) {
        self.target = target
        self.encoder = encoder
    }
}

/// Segmented files in a folder, oldest removed first when a limit is reached.
package struct RecordingOutput: Sendable, Equatable {
    package var directory: String
    /// Length of each file, in seconds.
    package var segmentSeconds: Double
    /// Keep at most this many segments (nil: no count limit).
    package var maxSegments: Int?
    /// Keep at most this many bytes of segments (nil: no size limit).
    package var maxBytes: Int64?
    /// FFmpeg muxer: `mp4` (fragmented), `matroska` or `mpegts`.
    package var container: String
    package var encoder: EncoderSettings

    package init(directory: String, segmentSeconds: Double = 300, maxSegments: Int? = nil, maxBytes: Int64? = nil,
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
package struct StreamOutput: Sendable, Equatable {
    package var url: String
    /// FFmpeg muxer; nil picks it from the URL's scheme.
    package var format: String?
    package var encoder: EncoderSettings

    package init(url: String, format: String? = nil, encoder: EncoderSettings = .lowLatency(frameRate: 30)) {
        self.url = url
        self.format = format
        self.encoder = encoder
    }
}

/// The `[service]` table: how the process reports itself.
package struct ServiceSettings: Sendable, Equatable {
    /// Where `/metrics` and `/healthz` listen; nil turns the endpoint off.
    package var metricsAddress: SocketAddressText?
    package var logLevel: Logger.Level
    /// Seconds between STATUS= updates to systemd (and status log lines at debug level).
    package var statusInterval: Double
    /// Seconds the outputs get to drain and close on SIGTERM; keep below the unit's TimeoutStopSec.
    package var stopTimeout: Double
    /// Seconds without a written frame before `/healthz` answers 503.
    package var healthTimeout: Double

    package init(metricsAddress: SocketAddressText? = SocketAddressText(host: "127.0.0.1", port: 9464),
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
package struct SocketAddressText: Sendable, Hashable, CustomStringConvertible {
    /// A literal IPv4 or IPv6 address (`localhost` is read as 127.0.0.1).
    package var host: String
    /// 0 lets the system choose (tests).
    package var port: UInt16

    package init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`; nil when it is not one.
    package init?(parsing text: String) {
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

    package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
