import Capture
import Foundation

/// Collects what a capture reports, from its thread, and lets a test wait
/// for a condition on it.
package final class CaptureRecorder: @unchecked Sendable {
    private let condition = NSCondition()
    private var recordedFrames: [CapturedFrame] = []
    private var recordedEvents: [CaptureEvent] = []

    package init() {}
    /// Runs on the capture thread before each frame is recorded.
    package var frameDelay: TimeInterval = 0

    package var frames: [CapturedFrame] { condition.withLock { recordedFrames } }
    package var events: [CaptureEvent] { condition.withLock { recordedEvents } }

    package func record(_ frame: CapturedFrame) {
        if frameDelay > 0 { Thread.sleep(forTimeInterval: frameDelay) }
        condition.withLock {
            recordedFrames.append(frame)
            condition.broadcast()
        }
    }

    package func record(_ event: CaptureEvent) {
        condition.withLock {
            recordedEvents.append(event)
            condition.broadcast()
        }
    }

    /// Waits until `predicate` holds over (frames, events), giving up after
    /// `limit` seconds so that a broken capture fails instead of hanging.
    @discardableResult
    package func waitUntil(limit: TimeInterval = 30, _ predicate: ([CapturedFrame], [CaptureEvent]) -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: limit)
        condition.lock()
        defer { condition.unlock() }
        while !predicate(recordedFrames, recordedEvents) {
            if !condition.wait(until: deadline) { return predicate(recordedFrames, recordedEvents) }
        }
        return true
    }

    package func waitForFrames(_ count: Int) -> Bool {
        waitUntil { frames, _ in frames.count >= count }
    }

    package func capture(settings: CaptureSettings, opener: some VideoDeviceOpener) -> V4L2Capture {
        V4L2Capture(settings: settings, opener: opener,
                    onEvent: { [self] in record($0) },
                    onFrame: { [self] in record($0) })
    }
}
