import Foundation
import Imaging
import MediaIO
import Synchronization
import Threading

/// What happens to a live input, for logs and counters.
package enum LiveSourceEvent: Sendable {
    case connected(VideoStreamInfo)
    case disconnected(reason: String)
    case retrying(attempt: Int, delay: Double, reason: String)
}

/// How a live input behaves.
package struct LiveSourceOptions: Sendable {
    /// Give up a silent network read after this many seconds, then reconnect.
    package var readTimeout: Double
    /// First wait before reconnecting; doubles each failure up to `maximumBackoff`.
    package var initialBackoff: Double
    package var maximumBackoff: Double
    /// Play a file at its own frame rate, as a camera would deliver it.
    package var realtime: Bool
    /// Start a file again at its end (demos, soak tests) instead of ending.
    package var loop: Bool

    package init(readTimeout: Double = 5, initialBackoff: Double = 0.5, maximumBackoff: Double = 8,
                realtime: Bool = false, loop: Bool = false) {
        self.readTimeout = readTimeout
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
        self.realtime = realtime
        self.loop = loop
    }
}

/// A network stream or file read as a live source: it reopens the input with
/// backoff when it fails or goes silent, and rebases timestamps so the output
/// timeline keeps running forward across reconnects and loops.
///
/// Frames come out in a fixed 1/90000 time base whatever the input's.
package final class LiveSource: ThermalFrameSource, @unchecked Sendable {
    package static let timeBase = Rational(1, 90_000)

    package let location: String
    private let inputOptions: InputOptions
    private let options: LiveSourceOptions
    private let onEvent: @Sendable (LiveSourceEvent) -> Void
    private let readerLock = NSLock()
    private var openReader: VideoReader?
    private let stopped = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)
    private let reconnects = Atomic<Int>(0)

    // Timeline continuity, touched only by the capture thread.
    private var offset: Int64 = 0
    private var lastOutputPTS: Int64?
    private var lastStep: Int64 = 3000
    private var needsRebase = true
    private var pacingOrigin: (wall: UInt64, pts: Int64)?
    private var emitted = 0
    /// Opens in a row that ended before delivering a frame: a server that
    /// accepts and hangs up at once must not be reopened in a tight loop.
    private var fruitlessOpens = 0
    private var deliveredSinceOpen = false

    /// - Parameter onEvent: called on the capture thread for connects, losses and retries.
    package init(_ location: String, inputOptions: InputOptions = InputOptions(), options: LiveSourceOptions = LiveSourceOptions(),
                onEvent: @escaping @Sendable (LiveSourceEvent) -> Void = { _ in }) {
        self.location = location
        var inputOptions = inputOptions
        inputOptions.ioTimeout = inputOptions.ioTimeout ?? options.readTimeout
        // Frame threading would hold frames back; live sources decode one at a time.
        inputOptions.decoderThreads = 1
        // No `fflags=nobuffer`: it makes FFmpeg throw away the packets it read
        // while probing the stream, which for a stream that starts on a
        // keyframe is the whole first GOP (with a 250-frame GOP, ten seconds
        // of nothing). What probing read is decoded at once, as a burst the
        // capture queue takes whole; after that, packets are handed on as they
        // arrive, so latency is the same.
        self.inputOptions = inputOptions
        self.options = options
        self.onEvent = onEvent
    }

    /// Times the input was opened again after a loss.
    package var reconnectCount: Int { reconnects.load(ordering: .relaxed) }

    /// Opens the input now (the first time), so callers learn its size before
    /// building outputs. Throws only when stopped; failures are retried.
    package func connect() throws -> VideoStreamInfo {
        try currentReader().info
    }

    package func interrupt() {
        stopped.store(true, ordering: .relaxed)
        readerLock.withLock { openReader?.interruptBlockedRead() }
        wake.signal()
    }

    package func nextFrame() throws -> ThermalFrame? {
        try next { try $0.nextThermalFrame() }
    }

    /// The next frame as RGB (a visible camera), with the same reconnects and timeline.
    package func nextColorFrame() throws -> ColorFrame? {
        try next { try $0.nextColorFrame() }
    }

    private func next<Frame: TimedFrame>(_ read: (VideoReader) throws -> Frame?) throws -> Frame? {
        while !stopped.load(ordering: .relaxed) {
            let reader: VideoReader
            do { reader = try currentReader() } catch { return nil }
            do {
                if let frame = try read(reader) {
                    deliveredSinceOpen = true
                    fruitlessOpens = 0
                    return paced(rebased(frame))
                }
                // End of input.
                if !options.loop, !isNetwork {
                    readerLock.withLock { openReader = nil }
                    return nil
                }
                lose(reason: "the stream ended", report: isNetwork)
            } catch {
                guard !stopped.load(ordering: .relaxed) else { return nil }
                lose(reason: "\(error)", report: true)
            }
        }
        return nil
    }

    /// Drops the reader; when it delivered nothing, waits the backoff before the next open.
    private func lose(reason: String, report: Bool) {
        readerLock.withLock { openReader = nil }
        needsRebase = true
        pacingOrigin = nil
        if report { onEvent(.disconnected(reason: reason)) }
        guard !deliveredSinceOpen else { return }
        fruitlessOpens += 1
        let delay = min(options.maximumBackoff, options.initialBackoff * Double(1 << min(fruitlessOpens - 1, 16)))
        onEvent(.retrying(attempt: fruitlessOpens, delay: delay, reason: "the input delivered no frame"))
        _ = wake.wait(timeout: .now() + delay)
    }

    private var isNetwork: Bool { location.contains("://") && !location.hasPrefix("file://") }

    /// The open reader, opening (with backoff) when there is none.
    private func currentReader() throws -> VideoReader {
        if let reader = readerLock.withLock({ openReader }) { return reader }
        var attempt = 0
        var delay = options.initialBackoff
        while !stopped.load(ordering: .relaxed) {
            do {
                let reader = try VideoReader(location, options: inputOptions)
                readerLock.withLock { openReader = reader }
                deliveredSinceOpen = false
                if stopped.load(ordering: .relaxed) { reader.interruptBlockedRead() }
                if emitted > 0 || attempt > 0 { reconnects.add(1, ordering: .relaxed) }
                onEvent(.connected(reader.info))
                return reader
            } catch {
                attempt += 1
                // A file that is missing or broken will not heal: fail now, unless looping a network source.
                if !isNetwork, emitted == 0 { throw error }
                onEvent(.retrying(attempt: attempt, delay: delay, reason: "\(error)"))
                _ = wake.wait(timeout: .now() + delay)
                delay = min(options.maximumBackoff, delay * 2)
            }
        }
        throw PipelineError("stopped")
    }

    /// Moves the frame onto the continuous 1/90000 timeline.
    private func rebased<Frame: TimedFrame>(_ frame: Frame) -> Frame {
        var frame = frame
        let pts = frame.timeBase.rescale(frame.pts, to: Self.timeBase)
        if needsRebase {
            let next = (lastOutputPTS ?? -lastStep) + lastStep
            offset = next - pts
            needsRebase = false
        }
        var output = pts + offset
        if let last = lastOutputPTS {
            if output <= last { output = last + 1 } else { lastStep = max(1, min(output - last, 90_000)) }
        }
        lastOutputPTS = output
        frame.pts = output
        frame.duration = frame.timeBase.rescale(frame.duration, to: Self.timeBase)
        frame.timeBase = Self.timeBase
        frame.index = emitted
        emitted += 1
        return frame
    }

    /// With `realtime`, waits until the frame's time has come on the wall clock.
    private func paced<Frame: TimedFrame>(_ frame: Frame) -> Frame {
        guard options.realtime else { return frame }
        let now = MonotonicClock.nanoseconds()
        guard let origin = pacingOrigin else {
            pacingOrigin = (now, frame.pts)
            return frame
        }
        let due = origin.wall + UInt64(max(0, frame.pts - origin.pts)) * 1_000_000_000 / 90_000
        if due > now { _ = wake.wait(timeout: .now() + .nanoseconds(Int(due - now))) }
        return frame
    }
}

/// The timing fields shared by thermal and colour frames, so one rebasing
/// and pacing path serves both.
protocol TimedFrame {
    var pts: Int64 { get set }
    var duration: Int64 { get set }
    var timeBase: Rational { get set }
    var index: Int { get set }
}

extension ThermalFrame: TimedFrame {}
extension ColorFrame: TimedFrame {}
