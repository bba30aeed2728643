internal import CFFmpeg
import Dispatch
import Synchronization
import Threading

/// Lets a blocked FFmpeg read give up: on a stop request from another thread,
/// or when no data came for `timeout` seconds. FFmpeg polls the callback while
/// it waits on the network.
final class InterruptState: Sendable {
    private let timeoutNanoseconds: UInt64?
    private let deadline = Atomic<UInt64>(0)
    private let stop = Atomic<Bool>(false)

    init(timeout: Double?) {
        timeoutNanoseconds = timeout.map { UInt64(max(0, $0) * 1e9) }
    }

    /// Starts the timeout clock for the next blocking call.
    func arm() {
        guard let timeoutNanoseconds else { return }
        deadline.store(MonotonicClock.nanoseconds() + timeoutNanoseconds, ordering: .relaxed)
    }

    func requestStop() { stop.store(true, ordering: .relaxed) }

    var stopRequested: Bool { stop.load(ordering: .relaxed) }

    /// True when the last armed call ran past the timeout (not a stop request).
    var timedOut: Bool {
        let limit = deadline.load(ordering: .relaxed)
        return limit != 0 && MonotonicClock.nanoseconds() > limit
    }

    /// The timeout in seconds, when there is one.
    var timeoutSeconds: Double? { timeoutNanoseconds.map { Double($0) / 1e9 } }

    var shouldInterrupt: Bool { stopRequested || timedOut }

    /// The C callback; the opaque pointer is this object, kept alive by its reader or writer.
    var callback: AVIOInterruptCB {
        AVIOInterruptCB(
            callback: { opaque in
                guard let opaque else { return 0 }
                let state = Unmanaged<InterruptState>.fromOpaque(opaque).takeUnretainedValue()
                return state.shouldInterrupt ? 1 : 0
            },
            opaque: Unmanaged.passUnretained(self).toOpaque()
        )
    }
}
