import Foundation
import Pipeline
import Synchronization
import Threading

/// Decides whether the watchdog deserves a ping: only when the pipeline has
/// written frames since the last one. A process whose threads are alive but
/// whose frames have stopped (a wedged camera, a hung decoder) is therefore
/// restarted by systemd, which a ping from a timer alone would never allow.
package struct WatchdogGate: Sendable {
    private var lastProgress: Int

    /// `progress` is the counter's value when the watchdog starts (frames written so far).
    package init(startingAt progress: Int) {
        lastProgress = progress
    }

    /// True when `progress` moved past the value seen at the previous check.
    package mutating func shouldPing(progress: Int) -> Bool {
        defer { lastProgress = max(lastProgress, progress) }
        return progress > lastProgress
    }
}

/// The service's heartbeat thread: `WATCHDOG=1` at half systemd's watchdog
/// timeout while frames flow, and a `STATUS=` line every few seconds.
///
/// It runs on a thread of its own, not in the Swift concurrency pool, so a
/// pool starved by blocking work cannot starve the watchdog too, and it reads
/// only counters the pipeline updates anyway.
package final class Heartbeat: @unchecked Sendable {
    /// How often the watchdog is considered; nil when systemd set no watchdog.
    package let pingInterval: Double?
    package let statusInterval: Double
    private let notifier: SystemdNotifier
    private let progress: @Sendable () -> Int
    private let statusLine: @Sendable () -> String
    private let onWithheld: @Sendable (_ secondsWithoutProgress: Double) -> Void
    private let condition = NSCondition()
    private var isStopped = false
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)
    private let counts = Mutex((sent: 0, withheld: 0))

    /// - Parameters:
    ///   - progress: a counter that grows while the service works (frames written).
    ///   - statusLine: the text for `STATUS=`, e.g. "30.0 fps · 0 dropped".
    ///   - onWithheld: called on the heartbeat thread when a ping is withheld (to log why).
    package init(notifier: SystemdNotifier, pingInterval: Double?, statusInterval: Double,
                progress: @escaping @Sendable () -> Int, statusLine: @escaping @Sendable () -> String,
                onWithheld: @escaping @Sendable (Double) -> Void = { _ in }) {
        self.notifier = notifier
        self.pingInterval = pingInterval
        self.statusInterval = statusInterval
        self.progress = progress
        self.statusLine = statusLine
        self.onWithheld = onWithheld
    }

    /// Half the notifier's watchdog timeout, as `sd_watchdog_enabled(3)` advises.
    package convenience init(notifier: SystemdNotifier, statusInterval: Double,
                            progress: @escaping @Sendable () -> Int, statusLine: @escaping @Sendable () -> String,
                            onWithheld: @escaping @Sendable (Double) -> Void = { _ in }) {
        self.init(notifier: notifier, pingInterval: notifier.watchdogTimeout.map { $0 / 2 }, statusInterval: statusInterval,
                  progress: progress, statusLine: statusLine, onWithheld: onWithheld)
    }

    /// Pings sent so far.
    package var pingsSent: Int { counts.withLock { $0.sent } }
    /// Checks that found no new frames, so sent no ping.
    package var pingsWithheld: Int { counts.withLock { $0.withheld } }

    /// Starts the thread; call once, after `READY=1`.
    package func start() {
        condition.lock()
        defer { condition.unlock() }
        guard thread == nil, !isStopped else { return }
        let thread = Thread { [self] in
            loop()
            finished.signal()
        }
        thread.name = "thermocolor.heartbeat"
        self.thread = thread
        thread.start()
    }

    /// Stops the thread and waits for it; safe to call more than once, or before `start`.
    package func stop() {
        condition.lock()
        let wasRunning = thread != nil && !isStopped
        isStopped = true
        condition.broadcast()
        condition.unlock()
        if wasRunning { finished.wait() }
    }

    private func loop() {
        var gate = WatchdogGate(startingAt: progress())
        var lastProgressAt = MonotonicClock.nanoseconds()
        let start = Date()
        var nextPing = pingInterval.map { start.addingTimeInterval($0) }
        var nextStatus = start.addingTimeInterval(statusInterval)
        while true {
            let wake = min(nextPing ?? .distantFuture, nextStatus)
            condition.lock()
            while !isStopped, Date() < wake { _ = condition.wait(until: wake) }
            let stopping = isStopped
            condition.unlock()
            if stopping { return }

            let now = Date()
            if let due = nextPing, now >= due, let interval = pingInterval {
                if gate.shouldPing(progress: progress()) {
                    lastProgressAt = MonotonicClock.nanoseconds()
                    notifier.watchdog()
                    counts.withLock { $0.sent += 1 }
                } else {
                    counts.withLock { $0.withheld += 1 }
                    onWithheld(Double(MonotonicClock.nanoseconds() - lastProgressAt) / 1e9)
                }
                nextPing = Self.next(after: due, every: interval, now: now)
            }
            if now >= nextStatus {
                notifier.status(statusLine())
                nextStatus = Self.next(after: nextStatus, every: statusInterval, now: now)
            }
        }
    }

    /// The next tick on the grid, skipping ticks missed while the machine was suspended.
    private static func next(after due: Date, every interval: Double, now: Date) -> Date {
        var next = due.addingTimeInterval(interval)
        if next <= now { next = now.addingTimeInterval(interval) }
        return next
    }
}
