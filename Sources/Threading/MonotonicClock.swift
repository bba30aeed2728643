#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `CLOCK_MONOTONIC`, the clock V4L2 drivers stamp buffers with
/// (`V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC`).
///
/// Frame timestamps from capture are on this clock, so latency from capture
/// to any later stage is `MonotonicClock.nanoseconds() - frame.timestampNanoseconds`.
/// (Swift's `ContinuousClock` counts suspended time on Linux and so is a
/// different clock.)
package enum MonotonicClock {
    /// Nanoseconds since an arbitrary point (boot, on Linux).
    package static func nanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}

extension Duration {
    /// The duration in (fractional) seconds.
    package var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    /// The duration in whole nanoseconds, never negative.
    package var nanoseconds: UInt64 {
        let parts = components
        return UInt64(max(parts.seconds, 0)) * 1_000_000_000 + UInt64(max(parts.attoseconds, 0) / 1_000_000_000)
    }
}

import Foundation

extension NSCondition {
    /// Runs `body` holding the lock, keeping `body`'s typed error (where
    /// `withLock` would widen it to `any Error`).
    package func locked<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        lock()
        defer { unlock() }
        return try body()
    }
}
