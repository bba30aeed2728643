import Foundation
import Imaging
import MediaIO
import Pipeline

/// An offline conversion: one input file or stream, one colourised output.
public struct ConversionRequest: Sendable {
    public var input: String
    public var inputOptions: InputOptions
    public var output: String
    public var outputOptions: OutputOptions
    public var encoder: EncoderSettings
    public var classic: ClassicSettings
    /// Writes one colourised frame as PNG here (the middle of the clip, or the first frame when the length is unknown).
    public var previewPath: String?
    /// Outputs beside `output` (files, folders of segments, streams), fed from the same encode.
    public var moreOutputs: [OutputTarget]
    /// Segment length and limits of segmented outputs (folders, or files made `segmented()`).
    public var recording: SegmentPolicy?
    /// Cut file outputs, the main one included, into segments (`--segment`).
    public var segmentFiles = false
    /// Other files the conversion reads (a visible video, a reference image), which no output may overwrite.
    public var otherInputs: [String] = []

    public init(input: String, output: String, inputOptions: InputOptions = InputOptions(),
                outputOptions: OutputOptions = OutputOptions(), encoder: EncoderSettings = .quality,
                classic: ClassicSettings = ClassicSettings(), previewPath: String? = nil,
                moreOutputs: [OutputTarget] = [], recording: SegmentPolicy? = nil) {
        self.input = input
        self.output = output
        self.inputOptions = inputOptions
        self.outputOptions = outputOptions
        self.encoder = encoder
        self.classic = classic
        self.previewPath = previewPath
        self.moreOutputs = moreOutputs
        self.recording = recording
    }

    /// The main output and the others, as targets.
    public func targets() throws -> [OutputTarget] {
        var main = try OutputTarget(parsing: output, format: outputOptions.format)
        main.output.fragmented = outputOptions.fragmented
        main.output.muxerOptions.merge(outputOptions.muxerOptions) { _, given in given }
        let targets = [main] + moreOutputs
        return segmentFiles ? targets.map { $0.segmented() } : targets
    }
}

/// What a finished conversion did.
public struct ConversionSummary: Sendable {
    public var input: VideoStreamInfo
    public var framesWritten: Int
    public var bytesWritten: Int64
    public var seconds: Double
    /// Packets the decoder skipped as corrupt.
    public var corruptPackets: Int
    public var stageSummary: String

    public var framesPerSecond: Double { seconds > 0 ? Double(framesWritten) / seconds : 0 }
}

/// Opens the input and output, runs the pipeline, and always closes the
/// output so what was written stays playable.
public final class Conversion: @unchecked Sendable {
    public let request: ConversionRequest
    public let reader: VideoReader
    public let pipeline: FramePipeline
    /// Every output; `statuses` says how each fared.
    public let outputs: OutputSet

    /// Opens both ends; throws a `MediaError` naming the file that failed, or an
    /// `OutputTargetError` for an output that cannot be understood.
    /// - Parameter onOutputEvent: connection, segment and disk events, from output threads.
    public init(_ request: ConversionRequest, colorizer: FrameColorizer? = nil,
                onOutputEvent: (@Sendable (OutputEvent) -> Void)? = nil) throws {
        self.request = request
        let targets = try request.targets()
        try InputOverwriteGuard.check(inputs: [request.input] + request.otherInputs,
                                      outputs: InputOverwriteGuard.filePaths(of: targets) + [request.previewPath].compactMap { $0 })
        reader = try VideoReader(request.input, options: request.inputOptions)
        let info = reader.info
        outputs = try OutputSet(targets: targets, width: info.width, height: info.height, timeBase: info.timeBase,
                                frameRate: info.frameRate, encoder: request.encoder, recording: request.recording,
                                network: .offline, onEvent: onOutputEvent)
        var sinks: [FrameSink] = [outputs]
        if let previewPath = request.previewPath {
            sinks.append(PreviewSink(path: previewPath, frameIndex: (info.frameCount ?? 0) / 2))
        }
        let stage = try colorizer ?? ClassicColorizer(settings: request.classic)
        pipeline = FramePipeline(source: reader, colorizer: stage, sinks: sinks, options: .offline)
    }

    /// Runs to the end of the input (or `stop()`); throws the first stage error.
    public func run() throws -> ConversionSummary {
        let start = monotonicNanoseconds()
        try pipeline.run()
        return ConversionSummary(
            input: reader.info, framesWritten: pipeline.statistics.framesWritten,
            bytesWritten: outputs.statuses.first?.bytesWritten ?? 0,
            seconds: Double(monotonicNanoseconds() - start) / 1e9, corruptPackets: reader.corruptPacketCount,
            stageSummary: pipeline.statistics.stageSummary)
    }

    /// Stops early (Ctrl-C); frames already decoded are still written.
    public func stop() { pipeline.stop() }
}

/// Writes one chosen frame as a PNG, for a quick look at the result.
final class PreviewSink: FrameSink {
    private let path: String
    private let frameIndex: Int
    private var written = false
    private var lastPicture: EncoderPicture?

    init(path: String, frameIndex: Int) {
        self.path = path
        self.frameIndex = frameIndex
    }

    func write(_ picture: EncoderPicture, for frame: ThermalFrame) throws {
        guard !written else { return }
        lastPicture = picture
        if frame.index >= frameIndex {
            try ImageFile.writePNG(picture.rgbImage, to: path)
            written = true
        }
    }

    func finish() throws {
        // A clip shorter than announced still gets a preview: its last frame.
        if !written, let lastPicture { try ImageFile.writePNG(lastPicture.rgbImage, to: path) }
    }
}

extension EncoderPicture {
    /// The picture as interleaved RGB (for previews and contact sheets).
    public var rgbImage: RGBImage {
        switch self {
        case .rgb(let image): image
        case .yuv420(let image): image.rgb()
        case .gray16(let image):
            RGBImage(width: image.width, height: image.height, channels: 3,
                     samples: image.samples.flatMap { value -> [UInt8] in let level = UInt8(value >> 8); return [level, level, level] })
        }
    }
}
