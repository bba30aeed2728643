import Foundation
import Imaging
import MediaIO

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

    public init(input: String, output: String, inputOptions: InputOptions = InputOptions(),
                outputOptions: OutputOptions = OutputOptions(), encoder: EncoderSettings = .quality,
                classic: ClassicSettings = ClassicSettings(), previewPath: String? = nil) {
        self.input = input
        self.output = output
        self.inputOptions = inputOptions
        self.outputOptions = outputOptions
        self.encoder = encoder
        self.classic = classic
        self.previewPath = previewPath
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
    private let writer: VideoWriter

    /// Opens both ends; throws a `MediaError` naming the file that failed.
    public init(_ request: ConversionRequest, colorizer: FrameColorizer? = nil) throws {
        self.request = request
        reader = try VideoReader(request.input, options: request.inputOptions)
        let info = reader.info
        writer = try VideoWriter(request.output, width: info.width, height: info.height, timeBase: info.timeBase,
                                 frameRate: info.frameRate, settings: request.encoder, output: request.outputOptions)
        var sinks: [FrameSink] = [writer]
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
            input: reader.info, framesWritten: pipeline.statistics.framesWritten, bytesWritten: writer.bytesWritten,
            seconds: Double(monotonicNanoseconds() - start) / 1e9, corruptPackets: reader.corruptPacketCount,
            stageSummary: pipeline.statistics.stageSummary.replacingOccurrences(of: "capture", with: "decode"))
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
