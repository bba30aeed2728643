import Foundation
import Imaging
import MediaIO
import Outputs
import Pipeline
import Synchronization
import TestSupport
import Testing

/// Live streams to real FFmpeg receivers on 127.0.0.1: frames arrive, a
/// receiver that dies and comes back gets a stream that starts cleanly, and a
/// dead or silent peer never holds up the recording beside it.
@Suite("Network outputs against real FFmpeg receivers", .serialized, .timeLimit(.minutes(3)))
struct NetworkOutputTests {
    /// Quick retries so a test does not sit out the production back-off.
    static let network = NetworkPolicy(overflow: .dropOldest, queueSeconds: 1, ioTimeout: 2, retryDelay: 0.2...1)

    private func outputs(_ targets: [String], source: SceneSource, events: EventLog,
                         encoder: EncoderSettings? = nil, recording: SegmentPolicy? = nil) throws -> OutputSet {
        try OutputSet(targets: targets.map { try OutputTarget(parsing: $0) }, width: source.width, height: source.height,
                      timeBase: source.timeBase, frameRate: Rational(source.rate, 1),
                      encoder: encoder ?? .lowLatency(frameRate: Double(source.rate)), recording: recording,
                      network: Self.network, onEvent: events.handler)
    }

    private func rtspListener(port: Int, writingTo path: String, folder: TemporaryFolder) throws -> ChildProcess {
        try ChildProcess("ffmpeg", ["-nostdin", "-v", "error", "-y", "-rtsp_flags", "listen",
                                    "-i", "rtsp://127.0.0.1:\(port)/live", "-c", "copy", "-flush_packets", "1", "-f", "mpegts", path],
                         errorPath: path + ".log")
    }

    @Test("RTSP push: an ffmpeg listener receives every frame, as H.264 that decodes cleanly")
    func rtspPush() throws {
        let folder = try TemporaryFolder("rtsp")
        defer { folder.cleanup() }
        let port = freePort()
        let received = folder.file("received.ts")
        let listener = try rtspListener(port: port, writingTo: received, folder: folder)
        defer { listener.kill(signal: SIGKILL) }

        // Paced like a camera; the first frames may pass before the session is up.
        let source = try SceneSource(count: 100, pace: true)
        let events = EventLog()
        let sink = try outputs(["rtsp://127.0.0.1:\(port)/live"], source: source, events: events)
        let pipeline = FramePipeline(source: source, colorizer: try ClassicColorizer(settings: ClassicSettings()),
                                     sinks: [sink], options: .live)
        try pipeline.run()
        let status = try #require(sink.statuses.first)
        #expect(status.state == .finished)
        #expect(events.of(.connected).count == 1)
        // Teardown ends the listener's session, so it finishes its file and exits.
        #expect(listener.waitForExit(seconds: 15), "the listener did not end with the session: \(listener.errorOutput)")

        let probed = try ffprobe(received)
        #expect(probed.codec == "h264")
        #expect(probed.width == 160 && probed.height == 128)
        #expect(probed.frameCount == status.packetsWritten, "sent \(status.packetsWritten), received \(probed.frameCount)")
        #expect(probed.frameCount + status.packetsDropped == 100)
        #expect(probed.frameCount >= 50)
        #expect(try keyframeFlags(received).first == true)
        #expect(try decodeErrors(received) == "")
    }

    @Test("RTSP: the listener is killed mid-stream and restarted; the stream comes back starting on a keyframe")
    func rtspReconnect() throws {
        let folder = try TemporaryFolder("rtsp-again")
        defer { folder.cleanup() }
        let port = freePort()
        let first = folder.file("first.ts")
        let second = folder.file("second.ts")
        let keepGoing = Atomic<Bool>(true)
        // A camera that runs until the test has seen enough (at most a minute).
        let source = try SceneSource(count: 1500, pace: true) { _ in keepGoing.load(ordering: .relaxed) }
        let events = EventLog()
        let sink = try outputs(["rtsp://127.0.0.1:\(port)/live"], source: source, events: events)
        let pipeline = FramePipeline(source: source, colorizer: try ClassicColorizer(settings: ClassicSettings()),
                                     sinks: [sink], options: .live)
        var firstListener: ChildProcess? = try rtspListener(port: port, writingTo: first, folder: folder)
        defer { firstListener?.kill(signal: SIGKILL) }
        var secondListener: ChildProcess? = nil
        defer { secondListener?.kill(signal: SIGKILL) }
        let run = BackgroundRun(pipeline)
        defer {
            keepGoing.store(false, ordering: .relaxed)
            try? run.wait()
        }

        #expect(waitUntil(seconds: 30) { (sink.statuses.first?.packetsWritten ?? 0) >= 50 }, "no stream reached the first listener")
        firstListener?.kill(signal: SIGKILL)
        firstListener = nil
        #expect(waitUntil(seconds: 15) { !events.of(.connectionLost).isEmpty }, "the lost connection went unnoticed")
        let sentBeforeRestart = sink.statuses[0].packetsWritten
        secondListener = try rtspListener(port: port, writingTo: second, folder: folder)
        #expect(waitUntil(seconds: 30) {
            let status = sink.statuses[0]
            return status.reconnects >= 1 && status.packetsWritten >= sentBeforeRestart + 50
        }, "the stream did not come back: \(events.all)")
        keepGoing.store(false, ordering: .relaxed)
        try run.wait()
        #expect(secondListener?.waitForExit(seconds: 15) == true, "the second listener did not end with the session")

        #expect(try ffprobe(first).frameCount > 0)
        let resumed = try ffprobe(second)
        #expect(resumed.frameCount >= 50)
        // The receiver's first picture is a keyframe, and nothing refers to pictures it never got.
        #expect(try keyframeFlags(second).first == true)
        #expect(try decodeErrors(second) == "")
        let status = sink.statuses[0]
        #expect(status.reconnects == 1)
        #expect(status.packetsDropped > 0, "packets sent while nobody listened should count as dropped")
    }

    @Test("UDP: MPEG-TS datagrams reach an ffmpeg listener and decode")
    func udpMpegTS() throws {
        let folder = try TemporaryFolder("udp")
        defer { folder.cleanup() }
        let port = freePort(udp: true)
        let received = folder.file("received.ts")
        let listener = try ChildProcess("ffmpeg", ["-nostdin", "-v", "error", "-y",
                                                   "-i", "udp://127.0.0.1:\(port)?timeout=3000000&fifo_size=100000",
                                                   "-c", "copy", "-f", "mpegts", received], errorPath: received + ".log")
        defer { listener.kill(signal: SIGKILL) }
        #expect(waitUntil(seconds: 10) { udpPortIsBound(port) }, "the listener never bound its port")

        let source = try SceneSource(count: 75, pace: true)
        let events = EventLog()
        let sink = try outputs(["udp://127.0.0.1:\(port)"], source: source, events: events)
        try FramePipeline(source: source, colorizer: try ClassicColorizer(settings: ClassicSettings()), sinks: [sink],
                          options: .live).run()
        // The listener stops three seconds after the last datagram.
        listener.waitForExit(seconds: 15)
        let status = sink.statuses[0]
        #expect(status.packetsWritten + status.packetsDropped == 75)
        let probed = try ffprobe(received)
        #expect(probed.codec == "h264")
        // Datagrams on loopback rarely go missing, but the receiver may join after the first keyframe.
        #expect(probed.frameCount >= 50, "received \(probed.frameCount) of \(status.packetsWritten)")
        #expect(try keyframeFlags(received).first == true)
    }

    @Test("SRT: MPEG-TS reaches an ffmpeg listener in SRT listener mode")
    func srtMpegTS() throws {
        let folder = try TemporaryFolder("srt")
        defer { folder.cleanup() }
        let port = freePort(udp: true)
        let received = folder.file("received.ts")
        let listener = try ChildProcess("ffmpeg", ["-nostdin", "-v", "error", "-y", "-i", "srt://127.0.0.1:\(port)?mode=listener",
                                                   "-c", "copy", "-f", "mpegts", received], errorPath: received + ".log")
        defer { listener.kill(signal: SIGKILL) }
        let source = try SceneSource(count: 75, pace: true)
        let events = EventLog()
        let sink = try outputs(["srt://127.0.0.1:\(port)"], source: source, events: events)
        try FramePipeline(source: source, colorizer: try ClassicColorizer(settings: ClassicSettings()), sinks: [sink],
                          options: .live).run()
        listener.waitForExit(seconds: 15)
        #expect(!events.of(.connected).isEmpty, "never connected: \(events.all)")
        let probed = try ffprobe(received)
        #expect(probed.codec == "h264")
        #expect(probed.frameCount > 0)
        #expect(try keyframeFlags(received).first == true)
    }

    @Test("Nobody listening: the recording beside the stream still gets every frame")
    func refusedStreamKeepsRecording() throws {
        let folder = try TemporaryFolder("refused")
        defer { folder.cleanup() }
        let recording = folder.file("recording.mp4")
        let source = try SceneSource(count: 60)
        let events = EventLog()
        let sink = try outputs([recording, "rtsp://127.0.0.1:\(freePort())/live"], source: source, events: events)
        try FramePipeline(source: source, colorizer: try ClassicColorizer(settings: ClassicSettings()), sinks: [sink]).run()
        #expect(sink.encoderNames.count == 1, "same settings should share one encoder")
        #expect(try ffprobe(recording).frameCount == 60)
        let stream = sink.statuses[1]
        #expect(stream.packetsWritten == 0)
        #expect(stream.packetsDropped == 60)
        #expect(stream.lastError?.contains("refused") == true, "\(stream.lastError ?? "no error")")
        #expect(!events.of(.connectFailed).isEmpty)
    }

    @Test("A peer that accepts and then says nothing times out instead of blocking the recording or the finish")
    func silentPeer() throws {
        let folder = try TemporaryFolder("silent")
        defer { folder.cleanup() }
        let server = try SilentServer()
        defer { server.close() }
        let recording = folder.file("recording.mkv")
        let source = try SceneSource(count: 80, pace: true)
        let events = EventLog()
        let sink = try outputs([recording, "rtsp://127.0.0.1:\(server.port)/live"], source: source, events: events)
        try FramePipeline(source: source, colorizer: try ClassicColorizer(settings: ClassicSettings()), sinks: [sink],
                          options: .live).run()
        #expect(try ffprobe(recording).frameCount == 80)
        #expect(sink.statuses[1].packetsWritten == 0)
        #expect(server.acceptedConnections > 0, "the stream never reached the silent server")
        #expect(events.of(.connectFailed).first?.message.hasPrefix("no answer within 2 s") == true, "\(events.all)")
    }
}

/// A TCP server on 127.0.0.1 that accepts connections and never answers: the
/// worst kind of peer, which only a timeout gets away from.
final class SilentServer: @unchecked Sendable {
    let port: Int
    private let descriptor: Int32
    private let accepted = AcceptedConnections()
    private let thread: Thread

    var acceptedConnections: Int { accepted.list.withLock { $0.count } }

    init() throws {
        let listening = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(listening, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic -> Int32 in
                guard bind(listening, generic, length) == 0 else { return -1 }
                return getsockname(listening, generic, &length)
            }
        }
        guard bound == 0, listen(listening, 8) == 0 else {
            Glibc.close(listening)
            throw TestFailure("cannot listen on 127.0.0.1")
        }
        descriptor = listening
        port = Int(UInt16(bigEndian: address.sin_port))
        let accepted = self.accepted
        thread = Thread {
            while true {
                let connection = accept(listening, nil, nil)
                if connection < 0 { return }
                accepted.list.withLock { $0.append(connection) }
            }
        }
        thread.start()
    }

    func close() {
        shutdown(descriptor, Int32(SHUT_RDWR))
        Glibc.close(descriptor)
        for connection in accepted.list.withLock({ $0 }) { Glibc.close(connection) }
    }
}

final class AcceptedConnections: Sendable {
    let list = Mutex<[Int32]>([])
}
