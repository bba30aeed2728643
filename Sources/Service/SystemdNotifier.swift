#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import Threading

/// Tells systemd how the service is doing, the way `sd_notify(3)` does,
/// without linking libsystemd: one datagram of `KEY=VALUE` lines to the
/// socket named by `$NOTIFY_SOCKET` (a path, or `@name` for an abstract socket).
///
/// Outside systemd (no `$NOTIFY_SOCKET`) every call does nothing, so the same
/// binary runs from a terminal unchanged.
package final class SystemdNotifier: Sendable {
    /// Where messages go; nil when not started by systemd with `Type=notify`.
    package let socketPath: String?
    /// systemd's watchdog timeout (`WatchdogSec=`, from `$WATCHDOG_USEC`) in
    /// seconds, when it applies to this process; nil when there is no watchdog.
    package let watchdogTimeout: Double?

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from `environment`.
    package init(environment: [String: String] = ProcessInfo.processInfo.environment, processID: Int32 = getpid()) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketPath = path
        // WATCHDOG_PID names the process the watchdog is meant for; a child
        // that inherited the environment must not ping on its parent's behalf.
        let pidMatches = environment["WATCHDOG_PID"].map { Int32($0) == processID } ?? true
        if let microseconds = environment["WATCHDOG_USEC"].flatMap(UInt64.init), microseconds > 0, pidMatches {
            watchdogTimeout = Double(microseconds) / 1e6
        } else {
            watchdogTimeout = nil
        }
    }

    /// True when messages go somewhere.
    package var isEnabled: Bool { socketPath != nil }

    /// Sends `KEY=VALUE` lines as one datagram.
    /// - Returns: false when not under systemd or the send failed (systemd gone); never throws.
    @discardableResult
    package func notify(_ fields: KeyValuePairs<String, String>) -> Bool {
        guard let socketPath else { return false }
        let message = fields.map { "\($0.key)=\($0.value.replacingOccurrences(of: "\n", with: " "))" }.joined(separator: "\n")
        return (try? Self.send(Array(message.utf8), to: socketPath)) != nil
    }

    /// `READY=1`: start-up is complete (the first frame reached the outputs),
    /// or a reload has finished. Starts systemd's watchdog clock.
    @discardableResult
    package func ready(status: String? = nil) -> Bool {
        if let status { return notify(["READY": "1", "STATUS": status]) }
        return notify(["READY": "1"])
    }

    /// `STATUS=…`: one line `systemctl status` shows.
    @discardableResult
    package func status(_ text: String) -> Bool { notify(["STATUS": text]) }

    /// `WATCHDOG=1`: the service is alive; send more often than `watchdogTimeout`.
    @discardableResult
    package func watchdog() -> Bool { notify(["WATCHDOG": "1"]) }

    /// `RELOADING=1` with the monotonic time systemd wants alongside it; follow with `ready()`.
    @discardableResult
    package func reloading(status: String = "reloading configuration") -> Bool {
        notify(["RELOADING": "1", "MONOTONIC_USEC": String(Self.monotonicMicroseconds()), "STATUS": status])
    }

    /// `STOPPING=1`: shutdown has begun (outputs are draining).
    @discardableResult
    package func stopping(status: String = "stopping: finishing outputs") -> Bool {
        notify(["STOPPING": "1", "STATUS": status])
    }

    /// CLOCK_MONOTONIC in microseconds, the clock `MONOTONIC_USEC=` refers to.
    static func monotonicMicroseconds() -> UInt64 { MonotonicClock.nanoseconds() / 1000 }

    private static func send(_ bytes: [UInt8], to path: String) throws {
        let socket = try OwnedSocket(domain: AF_UNIX, type: Int32(SOCK_DGRAM.rawValue))
        let sent = try withUnixSocketAddress(path) { address, length in
            bytes.withUnsafeBytes { buffer in
                sendto(socket.descriptor, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), address, length)
            }
        }
        guard sent == bytes.count else { throw SocketError("notify \(path)") }
    }
}
