import Foundation
import Imaging
import MediaIO
import Outputs
import Pipeline
import Synchronization
import TestSupport
import Testing

/// Collects a live source's events from its capture thread.
final class EventLog: Sendable {
    private let events = Mutex<[String]>([])
    func record(_ event: LiveSourceEvent) {
        let text: String
        switch event {
        case .connected: text = "connected"
        case .disconnected: text = "disconnected"
        case .retrying: text = "retrying"
        }
        events.withLock { $0.append(text) }
    }
    var all: [String] { events.withLock { $0 } }
}

/// Reads `count` frames, or fewer if the source ends; on the calling thread.
func read(_ count: Int, from source: LiveSource) throws -> [ThermalFrame] {
    var frames: [ThermalFrame] = []
    while frames.count < count, let frame = try source.nextFrame() { frames.append(frame) }
    return frames
}

final class FrameBox: @unchecked Sendable {
    var frames: [ThermalFrame] = []
    var error: Error?
}

@Suite("Network inputs on 127.0.0.1, with reconnects", .serialized)
struct LiveSourceTests {
    @Test("RTSP: the server goes away and comes back; capture reconnects and the timeline runs on")
    func rtspReconnects() throws {
        let port = freePort()
        guard var server = try startRTSPServer(port: port) else { return }
        let events = EventLog()
        let source = LiveSource("rtsp://127.0.0.1:\(port)/live", inputOptions: InputOptions(options: ["rtsp_transport": "tcp"]),
                                options: LiveSourceOptions(readTimeout: 2, initialBackoff: 0.2, maximumBackoff: 1),
                                onEvent: events.record)
        let box = FrameBox()
        let firstPart = finishes(within: 60) {
            do { box.frames += try read(10, from: source) } catch { box.error = error }
        }
        #expect(firstPart)
        #expect(box.frames.count == 10)

        server.stop(signal: SIGKILL)
        usleep(300_000)
        server = try #require(try startRTSPServer(port: port))
        let secondPart = finishes(within: 60) {
            // Frames the demuxer buffered before the loss come first; then the reconnect.
            do { box.frames += try read(40, from: source) } catch { box.error = error }
        }
        if !secondPart { source.interrupt() }
        #expect(secondPart, "capture did not come back after the server restarted")
        #expect(box.error == nil)
        #expect(box.frames.count == 50)
        #expect(events.all.contains("disconnected"))
        #expect(events.all.filter { $0 == "connected" }.count >= 2)
        #expect(source.reconnectCount >= 1)
        let times = box.frames.map(\.pts)
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 < $1 }, "timestamps went backwards across the reconnect")
        #expect(box.frames.allSatisfy { $0.image.width == 160 && $0.image.height == 128 })
        server.stop()
    }

    @Test("HTTP: an ffmpeg server's MPEG-TS stream is read live")
    func httpStream() throws {
        let port = freePort()
        let server = try BackgroundProcess("ffmpeg", [
            "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc=size=128x96:rate=25", "-t", "60",
            "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-f", "mpegts",
            "-listen", "1", "http://127.0.0.1:\(port)/thermal.ts",
        ])
        defer { server.stop() }
        let source = LiveSource("http://127.0.0.1:\(port)/thermal.ts",
                                options: LiveSourceOptions(readTimeout: 3, initialBackoff: 0.2, maximumBackoff: 0.5))
        let box = FrameBox()
        let done = finishes(within: 60) {
            do { box.frames = try read(15, from: source) } catch { box.error = error }
        }
        if !done { source.interrupt() }
        #expect(done)
        #expect(box.frames.count == 15)
        #expect(box.frames.first?.image.width == 128)
    }

    @Test("UDP: an MPEG-TS push to our port is read live")
    func udpStream() throws {
        let port = freePort(udp: true)
        let source = LiveSource("udp://127.0.0.1:\(port)?timeout=3000000",
                                options: LiveSourceOptions(readTimeout: 3, initialBackoff: 0.2, maximumBackoff: 0.5))
        let sender = try BackgroundProcess("ffmpeg", [
            "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc=size=96x64:rate=25", "-t", "60",
            "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "10", "-f", "mpegts",
            "udp://127.0.0.1:\(port)?pkt_size=1316",
        ])
        defer { sender.stop() }
        let box = FrameBox()
        let done = finishes(within: 60) {
            do { box.frames = try read(10, from: source) } catch { box.error = error }
        }
        if !done { source.interrupt() }
        #expect(done)
        #expect(box.frames.count == 10)
    }

    @Test("A stopped source returns promptly even while waiting to reconnect")
    func stopDuringBackoff() throws {
        let port = freePort()
        let source = LiveSource("rtsp://127.0.0.1:\(port)/nothing-here",
                                options: LiveSourceOptions(readTimeout: 1, initialBackoff: 5, maximumBackoff: 5))
        let box = FrameBox()
        let returned = DispatchSemaphore(value: 0)
        Thread {
            do { box.frames = try read(1, from: source) } catch { box.error = error }
            returned.signal()
        }.start()
        usleep(500_000)
        source.interrupt()
        #expect(returned.wait(timeout: .now() + 10) == .success)
        #expect(box.frames.isEmpty)
    }

    @Test("A slow stage on a live RTSP feed drops frames instead of letting latency grow")
    func slowStageDrops() throws {
        let port = freePort()
        guard let server = try startRTSPServer(port: port) else { return }
        defer { server.stop() }
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let configuration = LiveConfiguration(
            input: "rtsp://127.0.0.1:\(port)/live", inputOptions: InputOptions(options: ["rtsp_transport": "tcp"]))
        let session = try LiveSession(configuration, colorizer: LevelColorizer(delay: 120_000),
                                      sinkFactory: LiveSession.writing([folder.file("live.mkv")], encoder: EncoderSettings(codec: .ffv1)))
        session.onFrameWritten = { statistics in
            if statistics.framesWritten >= 12 { session.stop() }
        }
        #expect(finishes(within: 90) { try? session.run() })
        let statistics = try #require(session.statistics)
        #expect(statistics.framesDropped > 0)
        // Whatever was not written was dropped: nothing piles up in a queue.
        #expect(statistics.framesCaptured - statistics.framesWritten - statistics.framesDropped <= 2)
        #expect(try ffprobe(folder.file("live.mkv")).frameCount == statistics.framesWritten)
    }

    @Test("An input that opens but delivers nothing is reopened with backoff, not in a tight loop")
    func fruitlessOpensBackOff() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let empty = folder.file("empty.y16")
        FileManager.default.createFile(atPath: empty, contents: Data())
        let events = EventLog()
        let source = LiveSource(empty, inputOptions: InputOptions(format: "rawvideo", options: ["video_size": "64x48", "pixel_format": "gray16le"]),
                                options: LiveSourceOptions(initialBackoff: 0.2, maximumBackoff: 0.4, loop: true),
                                onEvent: events.record)
        let returned = DispatchSemaphore(value: 0)
        Thread {
            _ = try? source.nextFrame()
            returned.signal()
        }.start()
        usleep(1_500_000)
        source.interrupt()
        #expect(returned.wait(timeout: .now() + 10) == .success)
        // About five opens in 1.5 s with 0.2–0.4 s waits; without backoff, thousands.
        let opens = events.all.filter { $0 == "connected" }.count
        #expect(opens >= 2)
        #expect(opens < 20, "\(opens) opens in 1.5 s")
        #expect(events.all.contains("retrying"))
    }
}
