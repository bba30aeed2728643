import Foundation
import Imaging
import MediaIO
import Outputs
import Pipeline
import Synchronization
import TestSupport
import Testing

@Suite("Live sessions with shared outputs", .timeLimit(.minutes(3)))
struct LiveOutputsTests {
    /// A 16-bit clip on disk, played back at its own rate as a camera would deliver it.
    private func writeClip(_ path: String, frames: Int) throws {
        let source = try SceneSource(count: frames)
        let writer = try VideoWriter(path, width: source.width, height: source.height, timeBase: source.timeBase,
                                     frameRate: Rational(source.rate, 1), settings: EncoderSettings(codec: .ffv1), gray16: true)
        while let frame = try source.nextFrame() { try writer.write(.gray16(frame.image), pts: frame.pts) }
        try writer.finish()
    }

    @Test("One live run records segments and pushes RTSP from a single encoder")
    func recordAndStream() throws {
        let folder = try TemporaryFolder("live")
        defer { folder.cleanup() }
        let clip = folder.file("clip.mkv")
        try writeClip(clip, frames: 250)
        let port = freePort()
        let received = folder.file("received.ts")
        let listener = try ChildProcess("ffmpeg", ["-nostdin", "-v", "error", "-y", "-rtsp_flags", "listen",
                                                   "-i", "rtsp://127.0.0.1:\(port)/live", "-c", "copy", "-f", "mpegts", received],
                                        errorPath: received + ".log")
        defer { listener.kill(signal: SIGKILL) }

        let recordings = folder.file("recordings")
        let configuration = LiveConfiguration(input: clip, source: LiveSourceOptions(realtime: true))
        let opened = Mutex<OutputSet?>(nil)
        let targets = { @Sendable (_: StreamFormat) throws -> [OutputTarget] in
            let stream = try OutputTarget(parsing: "rtsp://127.0.0.1:\(port)/live")
            var recording = try OutputTarget(parsing: recordings + "/")
            recording.segmentPolicy = SegmentPolicy(duration: 1)
            return [stream, recording]
        }
        let factory = LiveSession.outputs(targets, network: NetworkOutputTests.network,
                                          opened: { set in opened.withLock { $0 = set } })
        let session = try LiveSession(configuration, sinkFactory: factory)
        session.onFrameWritten = { statistics in
            if statistics.framesWritten >= 100 { session.stop() }
        }
        try session.run()
        let outputs = try #require(opened.withLock { $0 })
        #expect(outputs.encoderNames == ["libx264"])
        #expect(listener.waitForExit(seconds: 15), "the listener did not end with the session")

        let streamed = try ffprobe(received)
        #expect(streamed.frameCount >= 50)
        #expect(try decodeErrors(received) == "")
        let segments = try FileManager.default.contentsOfDirectory(atPath: recordings).sorted()
        #expect(segments.count >= 3)
        var recorded = 0
        for name in segments {
            #expect(try decodeErrors(recordings + "/" + name) == "", "\(name)")
            recorded += try ffprobe(recordings + "/" + name).frameCount
        }
        let written = try #require(session.statistics).framesWritten
        #expect(recorded == written, "the recording holds every frame the session wrote")
        #expect(outputs.statuses[1].segmentsFinished == segments.count)
    }
}
