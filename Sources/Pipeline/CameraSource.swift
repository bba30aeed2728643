import Capture
import Foundation
import Imaging
import MediaIO
import Synchronization
import Threading

/// A V4L2 camera as a pipeline source.
///
/// Capture runs on its own thread and hands each frame over through a small
/// slot. The pipeline's capture queue, which drops late frames, takes them
/// at once; the slot only overflows (dropping its oldest, counted in
/// `framesDroppedBySource`) when the pipeline's capture thread itself stalls. Unplug and return are handled by the capture
/// (reopened with backoff); the pipeline simply waits for the next frame.
package final class CameraSource: SizedFrameSource, DroppingFrameSource, @unchecked Sendable {
    package static let timeBase = Rational(1, 90_000)

    private let capture: V4L2Capture
    /// A few frames of room: frames a USB camera delivers back to back are not lost.
    private let slot = BoundedQueue<CapturedFrame>(capacity: 4, policy: .dropOldest)
    private var firstFrame: CapturedFrame?
    private var origin: UInt64 = 0
    private var lastPTS: Int64 = -1
    private var format: StreamFormat?

    /// - Parameters:
    ///   - opener: real cameras by default; tests pass a simulated camera.
    ///   - onEvent: capture's disconnects and reconnects, on the capture thread.
    package init(settings: CaptureSettings, opener: any VideoDeviceOpener = LibV4L2Opener(),
                onEvent: @escaping @Sendable (CaptureEvent) -> Void = { _ in }) {
        let slot = self.slot
        capture = V4L2Capture(settings: settings, opener: opener, onEvent: onEvent, onFrame: { slot.push($0) })
    }

    /// Opens the camera and waits for its first frame (its size is the output's).
    /// - Throws: `CaptureError` naming the device and cause, or when stopped before a frame came.
    package func start() throws {
        try capture.start()
        guard let first = slot.pop() else {
            throw PipelineError("camera \(capture.settings.devicePath) stopped before delivering a frame")
        }
        firstFrame = first
        origin = first.timestampNanoseconds
        var rate: Rational? = nil
        if let interval = capture.stream?.frameInterval, interval.numerator > 0 {
            rate = Rational(Int32(interval.denominator), Int32(interval.numerator))
        }
        format = StreamFormat(width: first.image.width, height: first.image.height, timeBase: Self.timeBase, frameRate: rate)
    }

    package var streamFormat: StreamFormat {
        format ?? StreamFormat(width: 0, height: 0, timeBase: Self.timeBase, frameRate: nil)
    }

    /// Frames the hand-over slot dropped because the pipeline did not take them in time.
    package var framesDroppedBySource: Int { slot.dropped }

    /// Frames and losses counted by the capture thread.
    package var captureStatistics: CaptureStatistics { capture.statistics }

    /// Times the camera came back after going away.
    package var reconnectCount: Int { capture.statistics.reconnects }

    package func nextFrame() throws -> ThermalFrame? {
        let next: CapturedFrame
        if let first = firstFrame {
            firstFrame = nil
            next = first
        } else {
            guard let popped = slot.pop() else { return nil }
            next = popped
        }
        // Capture timestamps are monotonic nanoseconds; the output timeline starts at the first frame.
        var pts = Int64((next.timestampNanoseconds &- origin) / 1000) * 9 / 100
        if pts <= lastPTS { pts = lastPTS + 1 }
        lastPTS = pts
        return ThermalFrame(samples: next.samples, significantBits: next.significantBits, pts: pts, duration: 0,
                            timeBase: Self.timeBase, index: Int(next.sequence))
    }

    package func interrupt() {
        slot.close()
        capture.stop()
    }
}
