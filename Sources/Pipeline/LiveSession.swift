import Foundation
import Imaging
import MediaIO
import Synchronization

/// The size and timing of the colourised stream, known once the input is open.
package struct StreamFormat: Sendable {
    package var width: Int
    package var height: Int
    package var timeBase: Rational
    package var frameRate: Rational?
}

/// Everything a live run needs but its outputs: one input and processing. The
/// outputs come from the session's sink factory (the Outputs module's
/// `LiveSession.outputs`), built once the stream's format is known.
package struct LiveConfiguration: Sendable {
    /// A URL (rtsp://, http://, udp://, srt://), a file, or a V4L2 device.
    package var input: String
    package var inputOptions: InputOptions
    package var source: LiveSourceOptions
    package var classic: ClassicSettings
    package var pipeline: PipelineOptions

    package init(input: String, inputOptions: InputOptions = InputOptions(), source: LiveSourceOptions = LiveSourceOptions(),
                classic: ClassicSettings = ClassicSettings(), pipeline: PipelineOptions = .live) {
        self.input = input
        self.inputOptions = inputOptions
        self.source = source
        self.classic = classic
        self.pipeline = pipeline
    }

    /// True when the input is a regular file read as fast as it decodes (no
    /// `realtime` pacing): nothing is late then, so the run blocks rather
    /// than drops, in the pipeline and at network outputs, as `convert` does.
    package var readsUnpacedFile: Bool {
        guard !source.realtime else { return false }
        let path: String
        if input.hasPrefix("file://") {
            path = String(input.dropFirst("file://".count))
        } else if input.contains("://") {
            return false
        } else {
            path = input
        }
        // A pipe or a device delivers live; only a regular file can wait.
        let type = (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType
        return type == .typeRegular
    }
}

/// A live run: capture → colourise → outputs until stopped, surviving input
/// losses. Processing settings can change while it runs.
package final class LiveSession: @unchecked Sendable {
    /// Builds the outputs once the stream's format is known.
    package typealias SinkFactory = @Sendable (StreamFormat, LiveConfiguration) throws -> [FrameSink]

    package let configuration: LiveConfiguration
    package let colorizer: FrameColorizer
    private let classicColorizer: ClassicColorizer?
    private let sinkFactory: SinkFactory
    private let source: ThermalFrameSource
    private let liveSource: LiveSource?
    private let lock = NSLock()
    private var pipeline: FramePipeline?
    private var stopped = false
    /// Called once, on the sink thread, when the first frame has been written to every output.
    package var onFirstFrameWritten: (@Sendable () -> Void)?
    /// Called on the sink thread after each written frame.
    package var onFrameWritten: (@Sendable (PipelineStatistics) -> Void)?

    /// - Parameters:
    ///   - source: a custom source (a camera); nil opens `configuration.input` through FFmpeg.
    ///   - colorizer: a custom stage (neural, fusion); nil uses the classic colouriser.
    ///   - sinkFactory: builds the sinks once the source's format is known; the Outputs
    ///     module's `LiveSession.outputs(_:)` writes its targets through one `OutputSet`
    ///     (files, segments, streams; one shared encoder where settings agree).
    ///   - onEvent: connects, losses and retries of the input.
    package init(_ configuration: LiveConfiguration, source: ThermalFrameSource? = nil, colorizer: FrameColorizer? = nil,
                sinkFactory: @escaping SinkFactory, onEvent: @escaping @Sendable (LiveSourceEvent) -> Void = { _ in }) throws {
        self.configuration = configuration
        if let colorizer {
            self.colorizer = colorizer
            classicColorizer = colorizer as? ClassicColorizer
        } else {
            let classic = try ClassicColorizer(settings: configuration.classic)
            self.colorizer = classic
            classicColorizer = classic
        }
        if let source {
            self.source = source
            liveSource = nil
        } else {
            let live = LiveSource(configuration.input, inputOptions: configuration.inputOptions,
                                  options: configuration.source, onEvent: onEvent)
            self.source = live
            liveSource = live
        }
        self.sinkFactory = sinkFactory
    }

    /// The running pipeline's counters; nil before the input is open.
    package var statistics: PipelineStatistics? { lock.withLock { pipeline?.statistics } }

    /// Times the input was reopened after a loss: a stream or file by this
    /// session, a V4L2 camera by its capture.
    package var reconnectCount: Int {
        liveSource?.reconnectCount ?? (source as? CameraSource)?.reconnectCount ?? 0
    }

    /// Changes palette and gain control from the next batch on, without touching capture.
    package func updateClassic(_ settings: ClassicSettings) throws {
        guard let classicColorizer else { throw PipelineError("this session does not use the classic colouriser") }
        try classicColorizer.update(settings)
    }

    /// Changes the text prompt of a text-guided model; it applies at the next
    /// batch boundary, without stalling or dropping frames.
    package func updatePrompt(_ prompt: String) throws {
        guard let neural = colorizer as? NeuralStage else { throw PipelineError("this session runs no text-guided model") }
        try neural.setPrompt(prompt)
    }

    /// Changes the colour reference of a reference-colouring stage (neural or
    /// the classic Lab transfer) from the next batch on.
    package func updateReference(_ reference: RGBImage) throws {
        if let neural = colorizer as? NeuralStage {
            neural.setReference(reference)
        } else if let transfer = colorizer as? ReferenceStage {
            try transfer.setReference(reference)
        } else {
            throw PipelineError("this session colours with no reference picture")
        }
    }

    package var classicSettings: ClassicSettings? { classicColorizer?.currentSettings }

    /// Ends the run from any thread; outputs are finished properly.
    package func stop() {
        let running = lock.withLock { () -> FramePipeline? in
            stopped = true
            return pipeline
        }
        source.interrupt()
        running?.stop()
    }

    /// Opens the input (waiting for it if need be), builds the outputs, and runs until stopped.
    package func run() throws {
        let format: StreamFormat
        if let liveSource {
            let info: VideoStreamInfo
            do { info = try liveSource.connect() } catch {
                if lock.withLock({ stopped }) { return }
                throw error
            }
            format = StreamFormat(width: info.width, height: info.height, timeBase: LiveSource.timeBase, frameRate: info.frameRate)
        } else if let sized = source as? SizedFrameSource {
            format = sized.streamFormat
        } else {
            throw PipelineError("the source cannot tell its picture size before its first frame")
        }
        let sinks = try sinkFactory(format, configuration)
        var options = configuration.pipeline
        if liveSource != nil, configuration.readsUnpacedFile { options.capturePolicy = .block }
        let pipeline = FramePipeline(source: source, colorizer: colorizer, sinks: sinks, options: options)
        let firstFrame = onFirstFrameWritten
        let everyFrame = onFrameWritten
        let announced = Atomic<Bool>(false)
        pipeline.onFrameWritten = { statistics in
            if let firstFrame, !announced.exchange(true, ordering: .relaxed) { firstFrame() }
            everyFrame?(statistics)
        }
        let alreadyStopped = lock.withLock { () -> Bool in
            self.pipeline = pipeline
            return stopped
        }
        if alreadyStopped { pipeline.stop() }
        try pipeline.run()
    }
}

/// A source that knows its picture size before delivering frames (a camera
/// after format negotiation).
package protocol SizedFrameSource: ThermalFrameSource {
    var streamFormat: StreamFormat { get }
}
