internal import CFFmpeg
import Imaging

/// The encoders ThermoColor writes with.
package enum VideoCodec: String, CaseIterable, Sendable {
    case h264, hevc, ffv1, mjpeg, png, rawvideo

    /// libavcodec's encoder name.
    var encoderName: String {
        switch self {
        case .h264: "libx264"
        case .hevc: "libx265"
        case .ffv1: "ffv1"
        case .mjpeg: "mjpeg"
        case .png: "png"
        case .rawvideo: "rawvideo"
        }
    }

    /// The pixel format the encoder is fed for colour or 16-bit grey pictures,
    /// nil when it cannot store that kind.
    func encoderFormat(forGray16 gray16: Bool) -> AVPixelFormat? {
        switch (self, gray16) {
        case (.h264, false), (.hevc, false), (.ffv1, false), (.rawvideo, false): AV_PIX_FMT_YUV420P
        case (.mjpeg, false): AV_PIX_FMT_YUVJ420P
        case (.png, false): AV_PIX_FMT_RGB24
        case (.ffv1, true), (.rawvideo, true): AV_PIX_FMT_GRAY16LE
        case (.png, true): AV_PIX_FMT_GRAY16BE
        default: nil
        }
    }

    /// The smallest width and height the encoder accepts (x265 refuses pictures under 16×16).
    var minimumSize: Int {
        switch self {
        case .hevc: 16
        case .h264, .mjpeg: 2
        default: 1
        }
    }

    /// True when this FFmpeg build can encode it (HEVC needs libx265).
    package var isAvailable: Bool { avcodec_find_encoder_by_name(encoderName) != nil }
}

/// How frames are compressed.
package struct EncoderSettings: Sendable, Equatable {
    package var codec: VideoCodec
    /// Constant rate factor (x264/x265 quality; lower is better). Ignored when `bitrate` is set.
    package var crf: Int?
    /// Target bits per second.
    package var bitrate: Int?
    /// x264/x265 speed preset (`ultrafast` … `veryslow`).
    package var preset: String?
    /// x264/x265 tuning (`zerolatency`, `film`…).
    package var tune: String?
    /// Frames between keyframes; nil leaves the encoder's default.
    package var keyframeInterval: Int?
    /// B-frames; 0 for live streams so nothing waits on future frames.
    package var maxBFrames: Int?
    /// Encoder threads; 0 lets the encoder choose.
    package var threads: Int
    /// Hardware H.264 encoding; `auto` falls back to software.
    package var acceleration: EncoderAcceleration

    package init(codec: VideoCodec = .h264, crf: Int? = nil, bitrate: Int? = nil, preset: String? = nil,
                tune: String? = nil, keyframeInterval: Int? = nil, maxBFrames: Int? = nil, threads: Int = 0,
                acceleration: EncoderAcceleration = .software) {
        self.codec = codec
        self.crf = crf
        self.bitrate = bitrate
        self.preset = preset
        self.tune = tune
        self.keyframeInterval = keyframeInterval
        self.maxBFrames = maxBFrames
        self.threads = threads
        self.acceleration = acceleration
    }

    /// Offline conversion: quality first, at a speed that keeps up with decoding.
    package static let quality = EncoderSettings(preset: "veryfast")

    /// Live output: no B-frames, a keyframe every second, zero-latency tuning.
    package static func lowLatency(frameRate: Double) -> EncoderSettings {
        EncoderSettings(preset: "veryfast", tune: "zerolatency",
                        keyframeInterval: max(1, Int(frameRate.rounded())), maxBFrames: 0)
    }
}

/// Where and how the encoded stream is stored or sent.
package struct OutputOptions: Sendable, Equatable {
    /// FFmpeg's muxer name (`mp4`, `matroska`, `mpegts`, `rtsp`…); nil guesses from the file name.
    package var format: String?
    /// MP4 only: write self-contained fragments of about a second, so a file cut
    /// off by a crash or a power cut still plays up to its last fragment.
    package var fragmented: Bool
    /// Further muxer options.
    package var muxerOptions: [String: String]
    /// Gives up a blocked network write after this long (seconds); nil waits.
    package var ioTimeout: Double?

    package init(format: String? = nil, fragmented: Bool = true, muxerOptions: [String: String] = [:], ioTimeout: Double? = nil) {
        self.format = format
        self.fragmented = fragmented
        self.muxerOptions = muxerOptions
        self.ioTimeout = ioTimeout
    }
}

/// A picture ready for the encoder: planar YUV straight from a palette, RGB,
/// or 16-bit grey for lossless thermal recordings (FFV1, PNG, raw).
package enum EncoderPicture: Sendable {
    case yuv420(YUV420Image)
    case rgb(RGBImage)
    case gray16(Gray16Image)

    package var width: Int {
        switch self {
        case .yuv420(let image): image.width
        case .rgb(let image): image.width
        case .gray16(let image): image.width
        }
    }

    package var height: Int {
        switch self {
        case .yuv420(let image): image.height
        case .rgb(let image): image.height
        case .gray16(let image): image.height
        }
    }
}

/// Encodes pictures and muxes them into one file or stream: a `VideoEncoder`
/// feeding one `PacketMuxer`. For several outputs from one encode, use those
/// two directly (or the pipeline's `OutputSet`).
///
/// Call `finish()` to flush and close; if the writer is dropped without it
/// (an error on another stage, say), `deinit` still writes the trailer so the
/// frames written so far stay playable. Not thread-safe: one thread writes.
package final class VideoWriter {
    package let location: String
    package let settings: EncoderSettings
    package let width: Int
    package let height: Int
    package var framesWritten: Int { encoder.framesEncoded }
    package private(set) var bytesWritten: Int64 = 0

    private let encoder: VideoEncoder
    private let muxer: PacketMuxer
    private var finished = false

    /// Opens the output and its encoder.
    /// - Parameters:
    ///   - timeBase: the unit of the `pts` values given to `write`; usually the input's.
    ///   - frameRate: the nominal rate, for muxers and rate control.
    ///   - gray16: the pictures will be 16-bit grey (a lossless thermal recording), not colour.
    package init(_ location: String, width: Int, height: Int, timeBase: Rational, frameRate: Rational?,
                settings: EncoderSettings = .quality, output: OutputOptions = OutputOptions(), gray16: Bool = false) throws {
        self.location = location
        self.settings = settings
        self.width = width
        self.height = height
        let globalHeader = try PacketMuxer.wantsGlobalHeader(location, format: output.format)
        encoder = try VideoEncoder(width: width, height: height, timeBase: timeBase, frameRate: frameRate, settings: settings,
                                   gray16: gray16, globalHeader: globalHeader, label: location)
        muxer = try PacketMuxer(location, stream: encoder.stream, output: output)
    }

    deinit {
        try? finish()
    }

    /// Asks a blocked network write to give up (from another thread).
    package func interruptBlockedWrite() { muxer.interruptBlockedWrite() }

    /// Encodes one picture shown at `pts` (in the writer's time base).
    package func write(_ picture: EncoderPicture, pts: Int64) throws {
        guard !finished else { throw MediaError("cannot write", location, reason: "the output is already closed") }
        try store(encoder.encode(picture, pts: pts))
    }

    /// Flushes the encoder, writes the container's trailer and closes the output. Safe to call twice.
    package func finish() throws {
        guard !finished else { return }
        finished = true
        var firstError: Error? = nil
        do { try store(encoder.flush()) } catch { firstError = error }
        do { try muxer.finish() } catch { if firstError == nil { firstError = error } }
        if let firstError { throw firstError }
    }

    private func store(_ packets: [EncodedPacket]) throws {
        for packet in packets {
            try muxer.write(packet)
            bytesWritten += Int64(packet.size)
        }
    }
}
