import Foundation
import MediaIO
import Outputs
import Pipeline
import TestSupport
import Testing

@Suite("Output targets parsed from text")
struct OutputTargetTests {
    @Test("Files pick their container from the extension", arguments: [
        ("out.mp4", "mp4"), ("night/flight.MKV", "matroska"), ("cam.ts", "mpegts"), ("clip.mov", "mov"),
    ])
    func files(text: String, muxer: String) throws {
        let target = try OutputTarget(parsing: text)
        #expect(target.kind == .file)
        #expect(target.location == text)
        #expect(target.output.format == muxer)
        #expect(target.encoderOverrides.isEmpty)
    }

    @Test("Other extensions FFmpeg knows are left to FFmpeg; --format overrides")
    func otherContainers() throws {
        #expect(try OutputTarget(parsing: "clip.avi").output.format == nil)
        #expect(try OutputTarget(parsing: "clip.bin", format: "matroska").output.format == "matroska")
    }

    @Test("A trailing slash or an existing folder means segments")
    func folders() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let slash = try OutputTarget(parsing: "recordings/")
        #expect(slash.kind == .segments)
        #expect(slash.location == "recordings")
        #expect(try OutputTarget(parsing: folder.path).kind == .segments)
    }

    @Test("RTSP pushes over TCP unless told UDP; our keys leave the URL, others stay")
    func rtsp() throws {
        let tcp = try OutputTarget(parsing: "rtsp://127.0.0.1:8554/thermal")
        #expect(tcp.kind == .rtsp)
        #expect(tcp.kind.isNetwork)
        #expect(tcp.location == "rtsp://127.0.0.1:8554/thermal")
        #expect(tcp.output.format == "rtsp")
        #expect(tcp.output.muxerOptions["rtsp_transport"] == "tcp")

        let udp = try OutputTarget(parsing: "rtsp://cam.local/live?transport=udp&bitrate=2M&token=abc")
        #expect(udp.output.muxerOptions["rtsp_transport"] == "udp")
        #expect(udp.location == "rtsp://cam.local/live?token=abc")
        #expect(udp.encoderOverrides == EncoderOverrides(bitrate: 2_000_000))
    }

    @Test("UDP and SRT carry MPEG-TS; UDP datagrams default to 1316 bytes")
    func transportStreams() throws {
        let udp = try OutputTarget(parsing: "udp://239.0.0.1:5000")
        #expect(udp.kind == .udp)
        #expect(udp.output.format == "mpegts")
        #expect(udp.location == "udp://239.0.0.1:5000?pkt_size=1316")
        #expect(try OutputTarget(parsing: "udp://239.0.0.1:5000?pkt_size=188").location == "udp://239.0.0.1:5000?pkt_size=188")

        let srt = try OutputTarget(parsing: "srt://relay.example:9000?latency=200000&crf=30")
        #expect(srt.kind == .srt)
        #expect(srt.output.format == "mpegts")
        #expect(srt.location == "srt://relay.example:9000?latency=200000")
        #expect(srt.encoderOverrides.crf == 30)
    }

    @Test("RTMP carries FLV")
    func rtmp() throws {
        let target = try OutputTarget(parsing: "rtmp://live.example/app/stream-key")
        #expect(target.kind == .rtmp && target.kind.isNetwork)
        #expect(target.output.format == "flv")
    }

    @Test("hls:FOLDER writes index.m3u8 and segments into the folder")
    func hls() throws {
        let target = try OutputTarget(parsing: "hls:/var/www/live?bitrate=800k&preset=ultrafast")
        #expect(target.kind == .hls)
        #expect(target.location == "/var/www/live/index.m3u8")
        #expect(target.output.format == "hls")
        #expect(target.output.muxerOptions["hls_segment_filename"] == "/var/www/live/segment-%05d.ts")
        #expect(target.encoderOverrides == EncoderOverrides(bitrate: 800_000, preset: "ultrafast"))
    }

    @Test("Bad outputs are refused with what was typed and why", arguments: [
        ("ftp://host/file.ts", "unsupported scheme 'ftp://'"),
        ("udp://127.0.0.1", "udp:// needs a port"),
        ("srt://host", "srt:// needs a port"),
        ("rtsp:///live", "the URL has no host"),
        ("rtsp://host/live?transport=sctp", "transport must be tcp or udp"),
        ("hls:", "hls: needs a folder"),
        ("hls:web?quality=high", "unknown option 'quality'"),
        ("udp://host:5000?bitrate=fast", "bitrate 'fast' is not like 4M"),
        ("rtsp://host/x?crf=99", "crf '99' is not a number from 0 to 51"),
        ("out.unknownext", "cannot tell the container from '.unknownext'"),
        ("noextension", "no file extension"),
        ("", "empty output"),
    ])
    func badOutputs(text: String, reason: String) {
        let error = #expect(throws: OutputTargetError.self) { _ = try OutputTarget(parsing: text) }
        #expect(error?.description.hasPrefix("bad output '\(text)': ") == true)
        #expect(error?.reason.contains(reason) == true, "\(error?.reason ?? "no error")")
    }
}
