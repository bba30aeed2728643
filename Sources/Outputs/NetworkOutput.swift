import Foundation
import MediaIO
import Pipeline

/// How network outputs behave when their peer is slow or gone.
public struct NetworkPolicy: Sendable, Equatable {
    /// `.dropOldest` (live): a slow peer loses packets, never holds up the
    /// recording or capture. `.block` (offline): the encoder waits for a
    /// connected peer, but never for a missing one.
    public var overflow: OverflowPolicy
    /// Seconds of packets an output may hold for its peer.
    public var queueSeconds: Double
    /// The longest one connect or write may block before the peer counts as gone.
    public var ioTimeout: Double
    /// First and longest wait between connection attempts; the wait doubles after each failure.
    public var retryDelay: ClosedRange<Double>

    public init(overflow: OverflowPolicy = .dropOldest, queueSeconds: Double = 1, ioTimeout: Double = 5,
                retryDelay: ClosedRange<Double> = 0.5...8) {
        self.overflow = overflow
        self.queueSeconds = queueSeconds
        self.ioTimeout = ioTimeout
        self.retryDelay = retryDelay
    }

    public static let live = NetworkPolicy()
    public static let offline = NetworkPolicy(overflow: .block)
}

/// An RTSP, UDP or SRT stream on a thread of its own.
///
/// The encoder's thread only queues packets here. The output's thread
/// connects, writes, and on any failure (refused, reset, timed out) closes the
/// connection, waits (0.5 s, doubling up to 8 s) and connects again. Every
/// connection starts on a keyframe: the output asks the encoder for one and
/// drops packets until it comes, so a receiver never sees a broken picture.
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
        queue = PacketQueue(capacity: max(8, Int((rate * policy.queueSeconds).rounded())), policy: policy.overflow)
        thread = StageThread(name: "thermocolor.output") { [self] in connectionLoop() }
        thread?.start()
    }

    func send(_ packet: EncodedPacket) throws {
        let dropped = queue.push(packet, keyframes: keyframes)
        if dropped > 0 { reporter.update { $0.packetsDropped += dropped } }
    }

    func closeInput() { queue.close() }

    func finish() throws {
        queue.close()
        guard let thread else { return }
        // Give the peer time to take what is queued, then cut it off.
        if !thread.join(timeout: policy.ioTimeout + 1) {
            queue.abandon()
            currentLock.withLock { current?.interruptBlockedWrite() }
            thread.join()
        }
        self.thread = nil
        reporter.update { if $0.state != .failed { $0.state = .finished } }
    }

    private func connectionLoop() {
        var delay = policy.retryDelay.lowerBound
        var failures = 0
        var everConnected = false
        var options = target.output
        options.ioTimeout = policy.ioTimeout
        while !queue.isClosed {
            reporter.update { $0.state = .connecting }
            let muxer: PacketMuxer
            do {
                muxer = try PacketMuxer(target.location, stream: stream, output: options, startsAtZero: true)
            } catch {
                failures += 1
                reporter.update { $0.lastError = "\(error)" }
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
            queue.startAccepting(keyframes: keyframes)

            var lost: Error? = nil
            while let packet = queue.pop() {
                do {
                    try muxer.write(packet)
                    reporter.update {
                        $0.packetsWritten += 1
                        $0.bytesWritten += Int64(packet.size)
                    }
                } catch {
                    lost = error
                    break
                }
            }
            queue.stopAccepting()
            currentLock.withLock { current = nil }
            if let lost {
                muxer.abandon()
                reporter.update { $0.lastError = "\(lost)" }
                reporter.report(.connectionLost, "\(Self.reason(lost)); reconnecting in \(Self.seconds(delay))")
                if queue.waitForClose(seconds: delay) { break }
            } else {
                // Closed and drained: a clean end (RTSP TEARDOWN, the last TS packets).
                do { try muxer.finish() } catch { reporter.update { $0.lastError = "\(error)" } }
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

/// The short queue between an encoder and a network output.
///
/// It only takes packets while the output is connected. A stream is never
/// left with a hole in it: when the queue overflows (`dropOldest`) it empties
/// and waits for the next keyframe, which it asks the encoder for.
final class PacketQueue: @unchecked Sendable {
    private let capacity: Int
    private let policy: OverflowPolicy
    private let condition = NSCondition()
    private var packets: [EncodedPacket] = []
    private var accepting = false
    private var awaitingKeyframe = true
    private var closed = false
    private var abandoned = false

    init(capacity: Int, policy: OverflowPolicy) {
        self.capacity = capacity
        self.policy = policy
    }

    /// Queues `packet` unless the output is disconnected or waiting for a keyframe.
    /// - Returns: how many packets were dropped.
    func push(_ packet: EncodedPacket, keyframes: KeyframeTrigger) -> Int {
        condition.lock()
        defer { condition.unlock() }
        while policy == .block, accepting, !closed, packets.count >= capacity { condition.wait() }
        guard accepting, !closed else { return 1 }
        var dropped = 0
        if packets.count >= capacity {
            dropped = packets.count
            packets.removeAll(keepingCapacity: true)
            awaitingKeyframe = true
            keyframes.request()
        }
        if awaitingKeyframe {
            guard packet.isKeyframe else { return dropped + 1 }
            awaitingKeyframe = false
        }
        packets.append(packet)
        condition.broadcast()
        return dropped
    }

    /// The next packet; nil once closed and drained (or abandoned).
    func pop() -> EncodedPacket? {
        condition.lock()
        defer { condition.unlock() }
        while packets.isEmpty, !closed { condition.wait() }
        guard !abandoned, !packets.isEmpty else { return nil }
        let packet = packets.removeFirst()
        condition.broadcast()
        return packet
    }

    /// A connection is up: take packets from the next keyframe on, and ask for one now.
    func startAccepting(keyframes: KeyframeTrigger) {
        condition.lock()
        accepting = true
        awaitingKeyframe = true
        condition.unlock()
        keyframes.request()
    }

    /// The connection is gone: drop what waits and take nothing until the next one.
    func stopAccepting() {
        condition.lock()
        accepting = false
        packets.removeAll()
        condition.broadcast()
        condition.unlock()
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Closes and forgets what is queued: shutting down without waiting on a slow peer.
    func abandon() {
        condition.lock()
        closed = true
        abandoned = true
        packets.removeAll()
        condition.broadcast()
        condition.unlock()
    }

    var isClosed: Bool {
        condition.lock()
        defer { condition.unlock() }
        return closed
    }

    /// Waits `seconds`, or less if the queue is closed meanwhile. - Returns: true when closed.
    func waitForClose(seconds: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: seconds)
        while !closed, condition.wait(until: deadline) {}
        return closed
    }
}
