import Foundation
import Imaging
import MediaIO
import Pipeline
import Synchronization
import Threading

/// An offline conversion: one input file or stream, one colourised output.
package struct ConversionRequest: Sendable {
    package var input: String
    package var inputOptions: InputOptions
    package var output: String
    package var outputOptions: OutputOptions
    package var encoder: EncoderSettings
    package var classic: ClassicSettings
    /// Writes one colourised frame as PNG here (the middle of the clip, or the first frame when the length is unknown).
    package var previewPath: String?
    /// Outputs beside `output` (files, folders of segments, streams), fed from the same encode.
    package var moreOutputs: [OutputTarget]
    /// Segment length and limits of segmented outputs (folders, or files made `segmented()`).
    package var recording: SegmentPolicy?
    /// Cut file outputs, the main one included, into segments (`--segment`).
    package var segmentFiles = false
    /// Other files the conversion reads (a visible video, a reference image), which no output may overwrite.
    package var otherInputs: [String] = []
    /// How network outputs wait for their peers: offline, they block rather than drop.
    package var network = NetworkPolicy.offline

    package init(input: String, output: String, inputOptions: InputOptions = InputOptions(),
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
    package func targets() throws -> [OutputTarget] {
        var main = try OutputTarget(parsing: output, format: outputOptions.format)
        main.output.fragmented = outputOptions.fragmented
        main.output.muxerOptions.merge(outputOptions.muxerOptions) { _, given in given }
        let targets = [main] + moreOutputs
        return segmentFiles ? targets.map { $0.segmented() } : targets
    }
}

/// What a finished conversion did.
package struct ConversionSummary: Sendable {
    package var input: VideoStreamInfo
    /// Frames that went through the whole pipeline (offered to every output).
    package var framesWritten: Int
    /// Bytes the main output took.
    package var bytesWritten: Int64
    package var seconds: Double
    /// Packets the decoder skipped as corrupt.
    package var corruptPackets: Int
    package var stageSummary: String
    /// Each output's counters at the end, the main one first: what it delivered and dropped.
    package var outputs: [OutputStatus]
    /// Why the input ended before its stated end (a truncated file), or nil.
    package var inputEndedEarly: String?

    package var framesPerSecond: Double { seconds > 0 ? Double(framesWritten) / seconds : 0 }

    /// Outputs that did not get every frame, or failed: offline, any is a failure of the run.
    package var incompleteOutputs: [OutputStatus] { outputs.filter { !$0.isComplete } }
}

/// Opens the input and output, runs the pipeline, and always closes the
/// output so what was written stays playable.
package final class Conversion: @unchecked Sendable {
    package let request: ConversionRequest
    package let reader: VideoReader
    package let pipeline: FramePipeline
    /// Every output; `statuses` says how each fared.
    package let outputs: OutputSet

    /// Opens both ends; throws a `MediaError` naming the file that failed, or an
    /// `OutputTargetError` for an output that cannot be understood.
    /// - Parameter onOutputEvent: connection, segment and disk events, from output threads.
    package init(_ request: ConversionRequest, colorizer: FrameColorizer? = nil,
                onOutputEvent: (@Sendable (OutputEvent) -> Void)? = nil) throws {
        self.request = request
        let targets = try request.targets()
        try InputOverwriteGuard.check(inputs: [request.input] + request.otherInputs,
                                      outputs: InputOverwriteGuard.filePaths(of: targets) + [request.previewPath].compactMap { $0 })
        reader = try VideoReader(request.input, options: request.inputOptions)
        let info = reader.info
        outputs = try OutputSet(targets: targets, width: info.width, height: info.height, timeBase: info.timeBase,
                                frameRate: info.frameRate, encoder: request.encoder, recording: request.recording,
                                network: request.network, onEvent: onOutputEvent)
        var sinks: [FrameSink] = [outputs]
        if let previewPath = request.previewPath {
            sinks.append(PreviewSink(path: previewPath, frameIndex: (info.frameCount ?? 0) / 2))
        }
        let stage = try colorizer ?? ClassicColorizer(settings: request.classic)
        pipeline = FramePipeline(source: reader, colorizer: stage, sinks: sinks, options: .offline)
    }

    /// Runs to the end of the input (or `stop()`); throws the first stage error.
    package func run() throws -> ConversionSummary {
        let start = MonotonicClock.nanoseconds()
        try pipeline.run()
        let statuses = outputs.statuses
        return ConversionSummary(
            input: reader.info, framesWritten: pipeline.statistics.framesWritten,
            bytesWritten: statuses.first?.bytesWritten ?? 0,
            seconds: Double(MonotonicClock.nanoseconds() - start) / 1e9, corruptPackets: reader.corruptPacketCount,
            stageSummary: pipeline.statistics.stageSummary, outputs: statuses,
            inputEndedEarly: stopped.load(ordering: .relaxed) ? nil : reader.earlyEnd)
    }

    /// Stops early (Ctrl-C); frames already decoded are still written, and
    /// network outputs stop holding up the encoder (what they cannot take at
    /// once is counted as dropped).
    package func stop() {
        stopped.store(true, ordering: .relaxed)
        pipeline.stop()
        outputs.stopWaiting()
    }

    private let stopped = Atomic<Bool>(false)
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
    package var rgbImage: RGBImage {
        switch self {
        case .rgb(let image): image
        case .yuv420(let image): image.rgb()
        case .gray16(let image):
            RGBImage(width: image.width, height: image.height, channels: 3,
                     samples: image.samples.flatMap { value -> [UInt8] in let level = UInt8(value >> 8); return [level, level, level] })
        }
    }
}
