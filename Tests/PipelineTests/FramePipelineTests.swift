import Foundation
import Imaging
import MediaIO
import Pipeline
import TestSupport
import Testing

/// Frames held in memory, each a flat grey level that encodes its index.
final class ListSource: ThermalFrameSource {
    private var frames: [ThermalFrame]
    private let delay: useconds_t

    init(count: Int, width: Int = 64, height: Int = 48, delay: useconds_t = 0) {
        frames = (0..<count).map { index in
            ThermalFrame(image: Gray16Image(width: width, height: height, repeating: UInt16(20 + (index * 7) % 200)),
                         significantBits: 8, pts: Int64(index), duration: 1, timeBase: Rational(1, 25), index: index)
        }
        frames.reverse()
        self.delay = delay
    }

    func nextFrame() throws -> ThermalFrame? {
        if delay > 0 { usleep(delay) }
        return frames.popLast()
    }

    func interrupt() {}
}

/// Shows each frame's grey level as is; optionally slow, optionally failing at one frame.
final class LevelColorizer: FrameColorizer {
    let maxBatchSize: Int
    private let failAt: Int?
    private let delay: useconds_t

    init(batch: Int = 1, failAt: Int? = nil, delay: useconds_t = 0) {
        maxBatchSize = batch
        self.failAt = failAt
        self.delay = delay
    }

    func colorize(_ frames: [ThermalFrame]) throws -> [EncoderPicture] {
        if delay > 0 { usleep(delay) }
        return try frames.map { frame in
            if frame.index == failAt { throw PipelineError("stage failed at frame \(frame.index)") }
            let level = UInt8(frame.image.samples[0])
            return .rgb(RGBImage(width: frame.image.width, height: frame.image.height, channels: 3, repeating: level))
        }
    }
}

@Suite("The frame pipeline")
struct FramePipelineTests {
    @Test("Offline: every frame arrives, in input order, whatever the batch size", arguments: [1, 3, 8])
    func orderAndCompleteness(batch: Int) throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let path = folder.file("out.mkv")
        let writer = try VideoWriter(path, width: 64, height: 48, timeBase: Rational(1, 25), frameRate: Rational(25, 1),
                                     settings: EncoderSettings(codec: .ffv1))
        let pipeline = FramePipeline(source: ListSource(count: 40), colorizer: LevelColorizer(batch: batch), sinks: [writer])
        try pipeline.run()
        #expect(pipeline.statistics.framesWritten == 40)
        #expect(pipeline.statistics.framesDropped == 0)

        let decoded = try #require(try ffmpegDecodeRGB(path, width: 64, height: 48))
        #expect(decoded.count == 40)
        for (index, frame) in decoded.enumerated() {
            let expected = Int(20 + (index * 7) % 200)
            #expect(abs(Int(frame[64 * 24 * 3 + 96]) - expected) <= 3, "frame \(index) out of order")
        }
    }

    @Test("A failing stage stops the run with its error and the output stays playable")
    func failureKeepsOutput() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let path = folder.file("out.mp4")
        let writer = try VideoWriter(path, width: 64, height: 48, timeBase: Rational(1, 25), frameRate: Rational(25, 1))
        let pipeline = FramePipeline(source: ListSource(count: 200), colorizer: LevelColorizer(failAt: 120), sinks: [writer])
        #expect(throws: PipelineError.self) { try pipeline.run() }
        let probed = try ffprobe(path)
        #expect(probed.frameCount > 0)
        #expect(probed.frameCount <= 120)
    }

    @Test("Live: a slow stage drops old frames instead of queueing them")
    func liveDropsInsteadOfQueueing() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let writer = try VideoWriter(folder.file("out.mkv"), width: 64, height: 48, timeBase: Rational(1, 25),
                                     frameRate: Rational(25, 1), settings: EncoderSettings(codec: .ffv1))
        let pipeline = FramePipeline(source: ListSource(count: 60, delay: 1_000), colorizer: LevelColorizer(delay: 20_000),
                                     sinks: [writer], options: .live)
        try pipeline.run()
        let statistics = pipeline.statistics
        #expect(statistics.framesCaptured == 60)
        #expect(statistics.framesDropped > 0)
        #expect(statistics.framesWritten + statistics.framesDropped == 60)
        #expect(statistics.latency.count == statistics.framesWritten)
    }
}
