import Foundation
import MediaIO
import Pipeline
import Threading

/// How network outputs behave when their peer is slow or gone.
package struct NetworkPolicy: Sendable, Equatable {
    /// `.block` (offline): nothing is dropped while it can be helped; the
    /// encoder waits for a connection (up to `connectTimeout`) and for a slow
    /// peer. Any other policy (live): a slow or missing peer loses packets,
    /// never holds up the recording or capture.
    package var overflow: OverflowPolicy
    /// Live: a packet that has waited this many seconds for the peer means the
    /// peer is too slow; what waits is dropped and the stream resumes on a
    /// keyframe. Packets that arrive together do not count against it.
    package var queueSeconds: Double
    /// The longest one connect or write may block before the peer counts as gone.
    package var ioTimeout: Double
    /// First and longest wait between connection attempts; the wait doubles after each failure.
    package var retryDelay: ClosedRange<Double>
    /// Offline: how long the encoder waits for a connection, the first or
    /// after a loss, before the output gives up (it then drops the rest and
    /// the run reports the output incomplete). nil waits as long as it takes.
    package var connectTimeout: Double?

    package init(overflow: OverflowPolicy = .dropOldest, queueSeconds: Double = 1, ioTimeout: Double = 5,
                retryDelay: ClosedRange<Double> = 0.5...8, connectTimeout: Double? = nil) {
        self.overflow = overflow
        self.queueSeconds = queueSeconds
        self.ioTimeout = ioTimeout
        self.retryDelay = retryDelay
        self.connectTimeout = connectTimeout
    }

    /// Never blocks the encoder: drops for a slow or absent peer, and counts.
    package static let live = NetworkPolicy()
    /// Waits for the peer (up to 15 s for a connection), so every packet is delivered or counted as lost.
    package static let offline = NetworkPolicy(overflow: .block, connectTimeout: 15)

    var blocks: Bool { overflow == .block }
}

/// An RTSP, RTMP, UDP or SRT stream on a thread of its own.
///
/// The encoder's thread only queues packets here. The output's thread
/// connects, writes, and on any failure (refused, reset, timed out) closes the
/// connection, waits (0.5 s, doubling up to 8 s) and connects again. Every
/// connection starts on a keyframe: the output asks the encoder for one and
/// drops packets until it comes, so a receiver never sees a broken picture.
///
/// Offline (`NetworkPolicy.blocks`) the encoder waits instead of dropping:
/// for the connection (up to `connectTimeout`), and for a slow peer. Every
/// packet that does not reach the muxer is counted in `packetsDropped`.
final class NetworkOutput: PacketOutput, @unchecked Sendable {
    let reporter: OutputReporter
    private let target: OutputTarget
    private let stream: EncodedStreamFormat
    private let keyframes: KeyframeTrigger
    private let policy: NetworkPolicy
    private let queue: PacketQueue
    private var thread: StageThread?
    /// The open muxer, so `finish` can interrupt a write stuck on a dead peer.
    private var current: PacketMuxer?
    private let currentLock = NSLock()

    init(target: OutputTarget, stream: EncodedStreamFormat, keyframes: KeyframeTrigger, policy: NetworkPolicy,
         events: (@Sendable (OutputEvent) -> Void)?) {
        reporter = OutputReporter(target: target.text, handler: events)
        self.target = target
        self.stream = stream
        self.keyframes = keyframes
        self.policy = policy
        let rate = stream.frameRate?.doubleValue ?? 30
        // Room for bursts: a live peer is judged slow by how long packets wait, not how many there are.
        queue = PacketQueue(capacity: max(64, Int((rate * policy.queueSeconds * 2).rounded())), blocking: policy.blocks,
                            maxWait: policy.queueSeconds)
        thread = StageThread(name: "thermocolor.output") { [self] in connectionLoop() }
        thread?.start()
    }

    func send(_ packet: EncodedPacket) throws {
        let dropped = queue.push(packet, keyframes: keyframes)
        if dropped > 0 { reporter.update { $0.packetsDropped += dropped } }
    }

    func closeInput() { queue.close() }

    func stopWaiting() { queue.stopBlocking() }

    func finish() throws {
        queue.close()
        guard let thread else { return }
        // Give the peer time to take what is queued: as long as it keeps taking
        // packets, and `ioTimeout` + 1 s after it stops, then cut it off.
        let patience = policy.ioTimeout + 1
        var written = reporter.status.packetsWritten
        while !thread.join(timeout: patience) {
            let now = reporter.status.packetsWritten
            if now > written {
                written = now
                continue
            }
            let left = queue.abandon()
            currentLock.withLock { current?.interruptBlockedWrite() }
            thread.join()
            if left > 0 {
                reporter.update { $0.packetsDropped += left }
                reporter.report(.failed, "the peer took nothing for \(Self.seconds(patience)); cut off with \(left) frames undelivered")
            }
            break
        }
        self.thread = nil
        reporter.update { if $0.state != .failed { $0.state = .finished } }
    }

    private func connectionLoop() {
        var delay = policy.retryDelay.lowerBound
        var failures = 0
        var everConnected = false
        /// Offline: when the wait for a connection began (the start, or a loss).
        var waitingSince = MonotonicClock.nanoseconds()
        var options = target.output
        options.ioTimeout = policy.ioTimeout
        while !queue.isClosed {
            reporter.update { $0.state = .connecting }
            let muxer: PacketMuxer
            do {
                muxer = try PacketMuxer(target.location, stream: stream, output: options, startsAtZero: true)
            } catch {
                failures += 1
                reporter.update {
                    $0.lastError = "\(error)"
                    $0.connectFailures += 1
                }
                if let limit = policy.connectTimeout, Double(MonotonicClock.nanoseconds() - waitingSince) / 1e9 >= limit {
                    queue.giveUp()
                    reporter.update { $0.state = .failed }
                    reporter.report(.failed, "\(Self.reason(error)); no connection within \(Self.seconds(limit)), giving up (\(failures) attempts)")
                    return
                }
                // 1st, 2nd, 4th, 8th… failure: a dead server does not flood the log.
                if failures & (failures - 1) == 0 {
                    reporter.report(.connectFailed, "\(Self.reason(error)); retrying every \(Self.seconds(min(delay, policy.retryDelay.upperBound)))"
                                    + (failures > 1 ? " (\(failures) attempts)" : ""))
                }
                if queue.waitForClose(seconds: delay) { break }
                delay = min(delay * 2, policy.retryDelay.upperBound)
                continue
            }
            currentLock.withLock { current = muxer }
            reporter.update {
                $0.state = .active
                if everConnected { $0.reconnects += 1 }
            }
            reporter.report(.connected, everConnected ? "reconnected" : "connected")
            everConnected = true
            failures = 0
            delay = policy.retryDelay.lowerBound
            queue.startAccepting()

            var lost: Error? = nil
            while let packet = queue.pop() {
                do {
                    try muxer.write(packet)
                    reporter.update {
                        $0.packetsWritten += 1
                        $0.bytesWritten += Int64(packet.size)
                    }
                } catch {
                    // The packet in hand is lost with the connection.
                    reporter.update { $0.packetsDropped += 1 }
                    lost = error
                    break
                }
            }
            let left = queue.stopAccepting()
            if left > 0 { reporter.update { $0.packetsDropped += left } }
            currentLock.withLock { current = nil }
            if let lost {
                muxer.abandon()
                waitingSince = MonotonicClock.nanoseconds()
                reporter.update { $0.lastError = "\(lost)" }
                reporter.report(.connectionLost, "\(Self.reason(lost)); reconnecting in \(Self.seconds(delay))")
                if queue.waitForClose(seconds: delay) { break }
            } else {
                // Closed and drained: a clean end (RTSP TEARDOWN, the last TS packets).
                do { try muxer.finish() } catch {
                    reporter.update { $0.lastError = "\(error)" }
                    reporter.report(.failed, "could not end the stream cleanly: \(Self.reason(error))")
                }
            }
        }
    }

    private static func reason(_ error: Error) -> String {
        (error as? MediaError)?.reason ?? "\(error)"
    }

    private static func seconds(_ value: Double) -> String {
        value < 1 ? String(format: "%.1f s", value) : String(format: "%.0f s", value)
    }
}

/// The queue between an encoder and a network output: a `BoundedQueue` of
/// packets (the FIFO, its clock and the consumer's wait) with a gate in front.
///
/// Live, the gate only lets packets in while the output is connected, and a
/// stream is never left with a hole in it: when the oldest packet has waited
/// longer than `maxWait` (or the queue is full) the queue is emptied and the
/// gate waits for the next keyframe, which it asks the encoder for. Dropping
/// single late packets, as `BoundedQueue`'s own `dropLate` does for frames,
/// would break every picture that refers to them. Blocking (offline), `push`
/// waits for a connection and for room instead, until `giveUp` or
/// `stopBlocking`.
///
/// There is one producer (the encoder's thread) and one consumer (the
/// output's thread). The gate's state has a lock of its own, taken before the
/// queue's whenever both are held, so a packet is checked and queued in one
/// step that a lost connection cannot come between.
final class PacketQueue: @unchecked Sendable {
    private let packets: BoundedQueue<EncodedPacket>
    private let blocking: Bool
    private let maxWaitNanoseconds: UInt64
    /// Guards the gate below; a blocked producer waits on it.
    private let gate = NSCondition()
    private var accepting = false
    private var awaitingKeyframe = true
    private var keyframeAsked = false
    private var closed = false
    /// No connection is coming (offline give-up) or nobody may wait any more (a stop).
    private var noWaiting = false

    init(capacity: Int, blocking: Bool, maxWait: Double) {
        // The gate makes room before each push, so the queue itself never has to.
        packets = BoundedQueue(capacity: capacity, policy: .block)
        self.blocking = blocking
        maxWaitNanoseconds = UInt64(max(0, maxWait) * 1e9)
    }

    /// Queues `packet`: dropped while disconnected (live) or waited for (blocking),
    /// and dropped until a keyframe after each (re)connection.
    /// - Returns: how many packets were dropped.
    func push(_ packet: EncodedPacket, keyframes: KeyframeTrigger) -> Int {
        gate.lock()
        defer { gate.unlock() }
        if blocking {
            while !closed, !noWaiting, !accepting || packets.depth >= packets.capacity { gate.wait() }
        }
        guard accepting, !closed else { return 1 }
        var dropped = 0
        let full = packets.depth >= packets.capacity
        if blocking, full {
            // Waiting has stopped and the peer is behind: this packet cannot be
            // queued, and what follows it waits for a keyframe, so the peer
            // still gets whole pictures.
            awaitingKeyframe = true
            keyframeAsked = false
            return 1
        }
        if !blocking, full || packets.oldestWaitNanoseconds.map({ $0 > maxWaitNanoseconds }) == true {
            dropped = packets.removeAll()
            awaitingKeyframe = true
            keyframeAsked = false
        }
        if awaitingKeyframe {
            guard packet.isKeyframe else {
                if !keyframeAsked {
                    keyframes.request()
                    keyframeAsked = true
                }
                return dropped + 1
            }
            awaitingKeyframe = false
        }
        packets.push(packet)
        return dropped
    }

    /// The next packet; nil once closed and drained (or abandoned).
    func pop() -> EncodedPacket? {
        let packet = packets.pop()
        if blocking, packet != nil {
            // Room for a producer waiting at the gate.
            gate.lock()
            gate.broadcast()
            gate.unlock()
        }
        return packet
    }

    /// A connection is up: take packets from the next keyframe on.
    func startAccepting() {
        gate.lock()
        accepting = true
        awaitingKeyframe = true
        keyframeAsked = false
        gate.broadcast()
        gate.unlock()
    }

    /// The connection is gone: drop what waits and take nothing until the next one.
    /// - Returns: how many packets were dropped.
    func stopAccepting() -> Int {
        gate.lock()
        defer { gate.unlock() }
        accepting = false
        gate.broadcast()
        return packets.removeAll()
    }

    /// No connection will come: from now on packets are dropped, never waited for.
    func giveUp() {
        stopBlocking()
    }

    /// Stops making the encoder wait (an interrupted run): packets that cannot be sent now are dropped.
    func stopBlocking() {
        gate.lock()
        noWaiting = true
        gate.broadcast()
        gate.unlock()
    }

    /// Ends the stream: the consumer drains what is queued, then gets nil.
    func close() {
        gate.lock()
        closed = true
        packets.close()
        gate.broadcast()
        gate.unlock()
    }

    /// Closes and forgets what is queued: shutting down without waiting on a slow peer.
    /// - Returns: how many packets were forgotten.
    func abandon() -> Int {
        gate.lock()
        defer { gate.unlock() }
        closed = true
        // Forgotten before the close, so the consumer cannot take one more.
        let forgotten = packets.removeAll()
        packets.close()
        gate.broadcast()
        return forgotten
    }

    var isClosed: Bool {
        gate.lock()
        defer { gate.unlock() }
        return closed
    }

    /// Waits `seconds`, or less if the queue is closed meanwhile. - Returns: true when closed.
    func waitForClose(seconds: Double) -> Bool {
        gate.lock()
        defer { gate.unlock() }
        let deadline = Date(timeIntervalSinceNow: seconds)
        while !closed, gate.wait(until: deadline) {}
        return closed
    }
}
