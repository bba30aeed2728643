import Foundation
import Imaging
import MediaIO
import Outputs
import Pipeline
import TestSupport
import Testing

/// One encode, several outputs; separate encoders only where settings differ.
@Suite("Output sets: one encode feeds many outputs", .timeLimit(.minutes(3)))
struct OutputSetTests {
    private func run(_ targets: [String], frames: Int = 50, encoder: EncoderSettings = .lowLatency(frameRate: 25),
                     events: EventLog = EventLog()) throws -> OutputSet {
        let source = try SceneSource(count: frames)
        let sink = try OutputSet(targets: targets.map { try OutputTarget(parsing: $0) }, width: source.width, height: source.height,
                                 timeBase: source.timeBase, frameRate: Rational(source.rate, 1), encoder: encoder,
                                 network: .offline, onEvent: events.handler)
        try FramePipeline(source: source, colorizer: try ClassicColorizer(settings: ClassicSettings()), sinks: [sink]).run()
        return sink
    }

    @Test("MP4, Matroska and MPEG-TS from one encoder hold the same frames, each starting on a keyframe")
    func sharedEncoder() throws {
        let folder = try TemporaryFolder("shared")
        defer { folder.cleanup() }
        let paths = ["a.mp4", "b.mkv", "c.ts"].map(folder.file)
        let sink = try run(paths)
        #expect(sink.encoderNames == ["libx264"])
        var decoded: [[[UInt8]]] = []
        for path in paths {
            #expect(try ffprobe(path).frameCount == 50, "\(path)")
            #expect(try keyframeFlags(path).first == true, "\(path)")
            #expect(try decodeErrors(path) == "", "\(path)")
            decoded.append(try #require(try ffmpegDecodeRGB(path, width: 160, height: 128)))
        }
        // The very same packets: the pictures agree bit for bit.
        #expect(decoded[0] == decoded[1])
        #expect(decoded[0] == decoded[2])
        #expect(sink.statuses.allSatisfy { $0.state == .finished && $0.packetsWritten == 50 })
    }

    @Test("An output with its own bitrate gets its own encoder; HLS writes a playlist with decodable segments")
    func separateEncoderForHLS() throws {
        let folder = try TemporaryFolder("hls")
        defer { folder.cleanup() }
        let recording = folder.file("recording.mp4")
        let web = folder.file("web")
        let sink = try run([recording, "hls:\(web)?bitrate=30k"], frames: 150)
        #expect(sink.encoderNames.count == 2)
        #expect(try ffprobe(recording).frameCount == 150)
        let playlist = web + "/index.m3u8"
        let text = try String(contentsOfFile: playlist, encoding: .utf8)
        #expect(text.contains("#EXTM3U"))
        #expect(text.contains("segment-"))
        // Offline, the second encoder waits rather than skip: every frame reaches the playlist.
        #expect(try ffprobe(playlist).frameCount == 150)
        let segments = try FileManager.default.contentsOfDirectory(atPath: web).filter { $0.hasSuffix(".ts") }.sorted()
        #expect(segments.count >= 2)
        for segment in segments {
            #expect(try keyframeFlags(web + "/" + segment).first == true, "\(segment) does not start on a keyframe")
        }
        let statuses = sink.statuses
        #expect(statuses[1].bytesWritten < statuses[0].bytesWritten, "the lower-bitrate stream should be smaller")
    }

    @Test("A requested keyframe is an IDR picture at that very frame")
    func forcedKeyframe() throws {
        let folder = try TemporaryFolder("keyframe")
        defer { folder.cleanup() }
        let path = folder.file("forced.mkv")
        let encoder = try VideoEncoder(width: 64, height: 48, timeBase: Rational(1, 25), frameRate: Rational(25, 1), settings: .quality)
        let muxer = try PacketMuxer(path, stream: encoder.stream, output: OutputOptions(format: "matroska"))
        for index in 0..<40 {
            if index == 17 { encoder.keyframes.request() }
            let level = UInt8(40 + index * 3)
            let picture = EncoderPicture.rgb(RGBImage(width: 64, height: 48, channels: 3, repeating: level))
            for packet in try encoder.encode(picture, pts: Int64(index)) { try muxer.write(packet) }
        }
        for packet in try encoder.flush() { try muxer.write(packet) }
        try muxer.finish()
        let flags = try keyframeFlags(path)
        #expect(flags.count == 40)
        #expect(flags.indices.filter { flags[$0] } == [0, 17])
    }

    @Test("auto falls back to libx264 with one event where no hardware encoder exists")
    func automaticFallback() throws {
        let folder = try TemporaryFolder("auto")
        defer { folder.cleanup() }
        var settings = EncoderSettings.lowLatency(frameRate: 25)
        settings.acceleration = .auto
        let events = EventLog()
        let sink = try run([folder.file("a.mp4"), folder.file("b.ts"), "hls:\(folder.file("web"))?bitrate=100k"], frames: 10,
                           encoder: settings, events: events)
        let fallbacks = events.of(.encoderFallback)
        if sink.encoderNames.allSatisfy({ $0 == "libx264" }) {
            // Two encoders, one line: the reason is the same.
            #expect(fallbacks.count == 1, "\(events.all)")
            #expect(fallbacks.first?.message.contains("libx264") == true)
        }
        #expect(try ffprobe(folder.file("a.mp4")).frameCount == 10)
    }

    @Test("Asking for hardware that is not there is one clear error, not a fallback",
          .enabled(if: !FileManager.default.fileExists(atPath: "/dev/dri"), "this machine has a DRM device"))
    func missingHardware() throws {
        var settings = EncoderSettings.lowLatency(frameRate: 25)
        settings.acceleration = .vaapi
        let error = #expect(throws: MediaError.self) {
            _ = try VideoEncoder(width: 64, height: 48, timeBase: Rational(1, 25), frameRate: nil, settings: settings, label: "out.mp4")
        }
        #expect(error?.description == "cannot start encoder for 'out.mp4': vaapi: no /dev/dri render node")
    }

    @Test("A file output that cannot be opened fails the set at once, naming the path")
    func unwritableFile() throws {
        let error = #expect(throws: MediaError.self) {
            _ = try OutputSet(targets: [try OutputTarget(parsing: "/nonexistent-folder/out.mp4")], width: 64, height: 48,
                              timeBase: Rational(1, 25), frameRate: nil, encoder: .quality)
        }
        #expect(error?.location == "/nonexistent-folder/out.mp4")
    }
}
