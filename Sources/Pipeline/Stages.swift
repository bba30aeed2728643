import Imaging
import MediaIO

/// Where thermal frames come from: a file, a stream, a camera.
///
/// `nextFrame` blocks (decode, DQBUF) and runs on the pipeline's capture thread.
package protocol ThermalFrameSource: AnyObject {
    /// The next frame, or nil at the end of the input.
    func nextFrame() throws -> ThermalFrame?
    /// Called from another thread to make a blocked `nextFrame` return soon.
    func interrupt()
}

/// A source that may drop frames itself before the pipeline takes them (a
/// camera whose capture thread hands over through a small slot), so every
/// drop is counted in `PipelineStatistics.framesDropped`.
package protocol DroppingFrameSource: ThermalFrameSource {
    /// Frames lost inside the source so far.
    var framesDroppedBySource: Int { get }
}

/// A stage that turns thermal frames into pictures for the encoder: a palette,
/// a neural colouriser, a fuser.
///
/// It runs on the pipeline's processing thread, one call per batch.
package protocol FrameColorizer: AnyObject {
    /// The most frames one call takes; 1 for stages that gain nothing from batching.
    var maxBatchSize: Int { get }
    /// One picture per frame, in order.
    func colorize(_ frames: [ThermalFrame]) throws -> [EncoderPicture]
}

/// A stage whose work can overlap: the pipeline submits batch after batch
/// without waiting, and results come back in submission order (a neural
/// network with several infer requests in flight).
package protocol PipelinedColorizer: FrameColorizer {
    /// Starts a batch; `completion` runs once, in call order, on the stage's own queue.
    func submit(_ frames: [ThermalFrame], completion: @escaping @Sendable (Result<[EncoderPicture], any Error>) -> Void)
    /// Waits until every submitted batch has completed.
    func waitUntilIdle()
}

/// Where pictures go: a file, a stream, a segmented recording.
package protocol FrameSink: AnyObject {
    /// Encodes and stores one picture; `frame` carries its timing.
    func write(_ picture: EncoderPicture, for frame: ThermalFrame) throws
    /// Flushes and closes; called once, also after errors, so recordings stay playable.
    func finish() throws
}

extension VideoReader: ThermalFrameSource {
    package func nextFrame() throws -> ThermalFrame? { try nextThermalFrame() }
    package func interrupt() { interruptBlockedRead() }
}

extension VideoWriter: FrameSink {
    package func write(_ picture: EncoderPicture, for frame: ThermalFrame) throws {
        try write(picture, pts: frame.pts)
    }
}
