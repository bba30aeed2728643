import Foundation
import Imaging
import MediaIO
import Outputs
import Pipeline
import Synchronization
import TestSupport
import Testing

/// Offline network outputs block rather than drop, and what they lose anyway
/// is counted: a receiver that stops reading mid-stream.
@Suite("Offline network delivery", .serialized, .timeLimit(.minutes(3)))
struct OfflineDeliveryTests {
    @Test("An RTSP receiver that stops reading mid-stream: the output gives up within its bounds, says so, and every frame is delivered or counted")
    func receiverStopsReading() throws {
        let folder = try TemporaryFolder("stalled")
        defer { folder.cleanup() }
        let port = freePort()
        let received = folder.file("received.crc")
        let receiver = try ChildProcess("ffmpeg", ["-nostdin", "-v", "error", "-y", "-rtsp_flags", "listen",
                                                   "-i", "rtsp://127.0.0.1:\(port)/live", "-c", "copy", "-f", "framecrc", received],
                                        errorPath: received + ".log")
        defer {
            Foundation.kill(receiver.process.processIdentifier, SIGCONT)
            receiver.kill(signal: SIGKILL)
        }
        // Lossless pictures: far more than the socket buffers hold once the receiver stops.
        let source = try SceneSource(count: 300, width: 640, height: 512)
        let events = EventLog()
        let pid = receiver.process.processIdentifier
        let stopped = Atomic<Bool>(false)
        let policy = NetworkPolicy(overflow: .block, ioTimeout: 2, retryDelay: 0.2...0.5, connectTimeout: 2)
        let sink = try OutputSet(targets: [try OutputTarget(parsing: "rtsp://127.0.0.1:\(port)/live")],
                                 width: source.width, height: source.height, timeBase: source.timeBase,
                                 frameRate: Rational(source.rate, 1),
                                 encoder: EncoderSettings(crf: 0, preset: "ultrafast"), network: policy,
                                 onEvent: { event in
                                     events.handler(event)
                                     // The receiver freezes the moment the session is up.
                                     if event.kind == .connected, !stopped.exchange(true, ordering: .relaxed) {
                                         Foundation.kill(pid, SIGSTOP)
                                     }
                                 })
        try FramePipeline(source: source, colorizer: try ClassicColorizer(settings: ClassicSettings()), sinks: [sink]).run()
        let status = try #require(sink.statuses.first)
        #expect(status.framesOffered == 300)
        #expect(status.packetsWritten < 300, "a frozen receiver cannot have taken every frame")
        #expect(status.packetsWritten + status.packetsDropped == 300, "written \(status.packetsWritten), dropped \(status.packetsDropped)")
        #expect(!status.isComplete)
        #expect(status.state == .failed)
        #expect(!events.of(.connectionLost).isEmpty, "\(events.all)")
        #expect(events.of(.failed).contains { $0.message.contains("giving up") }, "\(events.all)")
    }
}
