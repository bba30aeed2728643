import Foundation
import Imaging
import MediaIO
import Synchronization
import Threading

/// How thermal frames find their visible partner.
package struct PairingOptions: Sendable, Equatable {
    /// Seconds added to the visible stream's timestamps before pairing
    /// (positive when the visible camera's clock runs behind).
    package var offset: Double
    /// The largest time difference still counted as a pair.
    package var tolerance: Double
    /// Live only: a visible frame older than this means the visible input has stalled.
    package var stallTimeout: Double

    package init(offset: Double = 0, tolerance: Double = 0.05, stallTimeout: Double = 1) {
        self.offset = offset
        self.tolerance = tolerance
        self.stallTimeout = stallTimeout
    }
}

/// The visible side of a thermal/visible pair.
///
/// Offline, it reads the visible file just far enough ahead to find the frame
/// nearest each thermal frame's time (different frame rates are fine; nothing
/// is dropped that could still pair). Live, a thread of its own keeps the
/// newest visible frame; one older than `stallTimeout` counts as missing, so
/// the pipeline carries on with thermal alone rather than stopping.
package final class VisibleFeed: @unchecked Sendable {
    package let location: String
    private let options: PairingOptions
    private let live: Bool
    // Offline state (the processing thread only).
    private var reader: VideoReader?
    private var buffered: [ColorFrame] = []
    private var ended = false
    // Live state.
    private let newest = Mutex<(frame: RGBImage, arrivedAt: UInt64)?>(nil)
    private var liveSource: LiveSource?

    /// Opens a visible file for offline pairing.
    package init(offline location: String, options: PairingOptions = PairingOptions()) throws {
        self.location = location
        self.options = options
        live = false
        reader = try VideoReader(location)
    }

    /// Starts reading a live visible source (camera, stream) on a thread of its own.
    package init(live location: String, inputOptions: InputOptions = InputOptions(), options: PairingOptions = PairingOptions(),
                onEvent: @escaping @Sendable (LiveSourceEvent) -> Void = { _ in }) {
        self.location = location
        self.options = options
        live = true
        let source = LiveSource(location, inputOptions: inputOptions, options: LiveSourceOptions(), onEvent: onEvent)
        liveSource = source
        // The thread holds the feed only while storing a frame, never while it
        // waits on the source: a feed nobody keeps is freed, and its `deinit`
        // interrupts the source, which ends the thread.
        let thread = Thread { [weak self] in
            while let frame = try? source.nextColorFrame() {
                guard let self else { return }
                self.newest.withLock { $0 = (frame.image, MonotonicClock.nanoseconds()) }
            }
        }
        thread.name = "thermocolor.visible"
        thread.start()
    }

    deinit { stop() }

    /// Stops reading a live source; its thread ends soon after.
    package func stop() {
        liveSource?.interrupt()
    }

    /// The visible picture for a thermal frame shown at `seconds`, or nil when
    /// there is none close enough (or the live input has stalled).
    package func frame(at seconds: Double) throws -> RGBImage? {
        if live {
            guard let entry = newest.withLock({ $0 }) else { return nil }
            let age = Double(MonotonicClock.nanoseconds() - entry.arrivedAt) / 1e9
            return age <= options.stallTimeout ? entry.frame : nil
        }
        // Read until the buffer reaches past the pairing window.
        while !ended, (buffered.last.map { time(of: $0) } ?? -.infinity) < seconds + options.tolerance {
            if let frame = try reader?.nextColorFrame() {
                buffered.append(frame)
            } else {
                ended = true
            }
        }
        // Frames too old to pair with this or any later thermal frame go.
        while buffered.count > 1, time(of: buffered[1]) <= seconds {
            buffered.removeFirst()
        }
        let nearest = buffered.min { abs(time(of: $0) - seconds) < abs(time(of: $1) - seconds) }
        guard let nearest, abs(time(of: nearest) - seconds) <= options.tolerance else { return nil }
        return nearest.image
    }

    private func time(of frame: ColorFrame) -> Double { frame.seconds + options.offset }
}
