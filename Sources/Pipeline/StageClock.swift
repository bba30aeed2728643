import Dispatch
import Foundation
import Synchronization
import Threading

/// Time spent in one stage, summed over frames; written by the stage's thread,
/// read by anyone.
package final class StageClock: Sendable {
    package let name: String
    private let totalNanoseconds = Atomic<UInt64>(0)
    private let frameCount = Atomic<Int>(0)

    package init(_ name: String) { self.name = name }

    /// Runs `work` for `frames` frames and adds its time.
    @discardableResult
    package func measure<T>(frames: Int = 1, _ work: () throws -> T) rethrows -> T {
        let start = MonotonicClock.nanoseconds()
        defer {
            totalNanoseconds.add(MonotonicClock.nanoseconds() - start, ordering: .relaxed)
            frameCount.add(frames, ordering: .relaxed)
        }
        return try work()
    }

    /// Adds time measured elsewhere (a batch that completed on another queue).
    package func add(nanoseconds: UInt64, frames: Int) {
        totalNanoseconds.add(nanoseconds, ordering: .relaxed)
        frameCount.add(frames, ordering: .relaxed)
    }

    package var frames: Int { frameCount.load(ordering: .relaxed) }

    /// All the time spent so far, in seconds (a Prometheus counter).
    package var totalSeconds: Double { Double(totalNanoseconds.load(ordering: .relaxed)) / 1e9 }

    /// Mean milliseconds per frame, 0 before the first.
    package var millisecondsPerFrame: Double {
        let frames = frameCount.load(ordering: .relaxed)
        guard frames > 0 else { return 0 }
        return Double(totalNanoseconds.load(ordering: .relaxed)) / Double(frames) / 1e6
    }
}

/// A histogram of per-frame latencies with fixed millisecond buckets, cheap
/// enough to update for every frame and to scrape as Prometheus buckets.
package final class LatencyHistogram: Sendable {
    /// Upper bounds in milliseconds; the last bucket is open.
    package let boundsMilliseconds: [Double]
    private struct State {
        var counts: [Int]
        var sumNanoseconds: UInt64 = 0
        var maxNanoseconds: UInt64 = 0
    }
    private let state: Mutex<State>

    package init(boundsMilliseconds: [Double] = [5, 10, 20, 33, 50, 75, 100, 150, 250, 500, 1000, 2500]) {
        self.boundsMilliseconds = boundsMilliseconds
        state = Mutex(State(counts: Array(repeating: 0, count: boundsMilliseconds.count + 1)))
    }

    package func record(nanoseconds: UInt64) {
        let milliseconds = Double(nanoseconds) / 1e6
        let bucket = boundsMilliseconds.firstIndex { milliseconds <= $0 } ?? boundsMilliseconds.count
        state.withLock {
            $0.counts[bucket] += 1
            $0.sumNanoseconds += nanoseconds
            $0.maxNanoseconds = max($0.maxNanoseconds, nanoseconds)
        }
    }

    /// Count per bucket, the last one above every bound.
    package var bucketCounts: [Int] { state.withLock { $0.counts } }
    package var count: Int { bucketCounts.reduce(0, +) }
    package var sumSeconds: Double { state.withLock { Double($0.sumNanoseconds) / 1e9 } }
    package var maxMilliseconds: Double { state.withLock { Double($0.maxNanoseconds) / 1e6 } }

    /// The smallest bucket bound under which `fraction` of the samples fall.
    package func quantileUpperBound(_ fraction: Double) -> Double {
        let counts = bucketCounts
        let total = counts.reduce(0, +)
        guard total > 0 else { return 0 }
        var seen = 0
        for (index, count) in counts.enumerated() {
            seen += count
            if Double(seen) >= fraction * Double(total) {
                return index < boundsMilliseconds.count ? boundsMilliseconds[index] : maxMilliseconds
            }
        }
        return maxMilliseconds
    }

    /// "p50 ≤ 20 ms, p95 ≤ 50 ms, p99 ≤ 75 ms, max 61.2 ms (1200 frames)".
    package var summary: String {
        guard count > 0 else { return "no frames" }
        func ms(_ value: Double) -> String { String(format: "%.0f ms", value) }
        return "p50 ≤ \(ms(quantileUpperBound(0.5))), p95 ≤ \(ms(quantileUpperBound(0.95))), "
            + "p99 ≤ \(ms(quantileUpperBound(0.99))), max \(String(format: "%.1f", maxMilliseconds)) ms (\(count) frames)"
    }
}
