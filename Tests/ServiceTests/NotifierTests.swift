import Foundation
@testable import Service
import Synchronization
import Testing

@Suite("sd_notify without libsystemd, and the watchdog heartbeat")
struct NotifierTests {
    @Test("Each call is one datagram of KEY=VALUE lines, to a path or an abstract socket", arguments: [false, true])
    func messages(abstract: Bool) throws {
        let socket = try NotifySocket(abstract: abstract)
        defer { socket.close() }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.address])
        #expect(notifier.isEnabled)
        #expect(notifier.ready(status: "running"))
        #expect(notifier.watchdog())
        #expect(notifier.reloading())
        #expect(notifier.status("29.9 fps\nsecond line"))
        #expect(notifier.stopping())
        #expect(socket.wait(for: "STOPPING=1"))
        let messages = socket.messages
        #expect(messages.count == 5)
        #expect(messages[0] == "READY=1\nSTATUS=running")
        #expect(messages[1] == "WATCHDOG=1")
        let reloading = messages[2].split(separator: "\n").map(String.init)
        #expect(reloading.first == "RELOADING=1")
        let stamp = reloading.first { $0.hasPrefix("MONOTONIC_USEC=") }.flatMap { UInt64($0.dropFirst(15)) }
        #expect(stamp != nil && stamp! > 0 && stamp! <= SystemdNotifier.monotonicMicroseconds())
        #expect(messages[3] == "STATUS=29.9 fps second line")
        #expect(messages[4].hasPrefix("STOPPING=1"))
    }

    @Test("Outside systemd every call quietly does nothing")
    func withoutSystemd() {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isEnabled)
        #expect(!notifier.ready())
        #expect(notifier.watchdogTimeout == nil)
    }

    @Test("A socket nobody listens on is a false return, not a crash")
    func goneSocket() {
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": NSTemporaryDirectory() + "no-such-socket"])
        #expect(!notifier.watchdog())
    }

    @Test("WATCHDOG_USEC applies only to the process WATCHDOG_PID names")
    func watchdogEnvironment() {
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000"]).watchdogTimeout == 30)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(getpid())"]).watchdogTimeout == 30)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"], processID: 4242).watchdogTimeout == nil)
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "0"]).watchdogTimeout == nil)
    }

    @Test("The gate lets a ping through only after progress")
    func gate() {
        var gate = WatchdogGate(startingAt: 10)
        let decisions = [10, 11, 11, 40, 40, 39].map { gate.shouldPing(progress: $0) }
        #expect(decisions == [false, true, false, true, false, false])
    }

    @Test("The heartbeat pings while the counter moves and stops pinging when it stalls")
    func heartbeatFollowsProgress() throws {
        let socket = try NotifySocket()
        defer { socket.close() }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.address, "WATCHDOG_USEC": "100000"])
        let counter = Atomic<Int>(0)
        let flowing = Atomic<Bool>(true)
        let withheld = Atomic<Int>(0)
        let heartbeat = Heartbeat(notifier: notifier, statusInterval: 0.05,
                                  progress: { counter.load(ordering: .relaxed) },
                                  statusLine: { "frames \(counter.load(ordering: .relaxed))" },
                                  onWithheld: { _ in withheld.add(1, ordering: .relaxed) })
        #expect(heartbeat.pingInterval == 0.05)
        // A producer that moves the counter until told to stall.
        let producer = Thread {
            while flowing.load(ordering: .relaxed) {
                counter.add(1, ordering: .relaxed)
                usleep(5_000)
            }
        }
        producer.start()
        heartbeat.start()
        let deadline = Date(timeIntervalSinceNow: 20)
        while heartbeat.pingsSent < 4, Date() < deadline { usleep(10_000) }
        #expect(heartbeat.pingsSent >= 4)

        flowing.store(false, ordering: .relaxed)
        usleep(20_000)
        let withheldBefore = heartbeat.pingsWithheld
        while heartbeat.pingsWithheld < withheldBefore + 3, Date() < deadline { usleep(10_000) }
        let pingsWhenStalled = socket.messages.filter { $0 == "WATCHDOG=1" }.count
        let withheldNow = heartbeat.pingsWithheld
        while heartbeat.pingsWithheld < withheldNow + 3, Date() < deadline { usleep(10_000) }
        heartbeat.stop()
        #expect(heartbeat.pingsWithheld >= withheldNow + 3)
        #expect(withheld.load(ordering: .relaxed) == heartbeat.pingsWithheld)
        // Three more checks found no progress and sent nothing.
        #expect(socket.messages.filter { $0 == "WATCHDOG=1" }.count == pingsWhenStalled)
        #expect(socket.messages.contains { $0.hasPrefix("STATUS=frames ") })
    }

    @Test("Without a watchdog the heartbeat only sends status lines; stop is prompt and repeatable")
    func heartbeatWithoutWatchdog() throws {
        let socket = try NotifySocket()
        defer { socket.close() }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.address])
        let heartbeat = Heartbeat(notifier: notifier, statusInterval: 0.02, progress: { 1 }, statusLine: { "idle" })
        #expect(heartbeat.pingInterval == nil)
        heartbeat.start()
        #expect(socket.wait(for: "STATUS=idle", timeout: 20))
        heartbeat.stop()
        heartbeat.stop()
        #expect(!socket.messages.contains("WATCHDOG=1"))
    }
}
