internal import CFFmpeg
import Foundation
import Imaging

/// The encoders ThermoColor writes with.
public enum VideoCodec: String, CaseIterable, Sendable {
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

    /// True when this FFmpeg build can encode it (HEVC needs libx265).
    public var isAvailable: Bool { avcodec_find_encoder_by_name(encoderName) != nil }
}

/// How frames are compressed.
public struct EncoderSettings: Sendable, Equatable {
    public var codec: VideoCodec
    /// Constant rate factor (x264/x265 quality; lower is better). Ignored when `bitrate` is set.
    public var crf: Int?
    /// Target bits per second.
    public var bitrate: Int?
    /// x264/x265 speed preset (`ultrafast` … `veryslow`).
    public var preset: String?
    /// x264/x265 tuning (`zerolatency`, `film`…).
    public var tune: String?
    /// Frames between keyframes; nil leaves the encoder's default.
    public var keyframeInterval: Int?
    /// B-frames; 0 for live streams so nothing waits on future frames.
    public var maxBFrames: Int?
    /// Encoder threads; 0 lets the encoder choose.
    public var threads: Int

    public init(codec: VideoCodec = .h264, crf: Int? = nil, bitrate: Int? = nil, preset: String? = nil,
                tune: String? = nil, keyframeInterval: Int? = nil, maxBFrames: Int? = nil, threads: Int = 0) {
        self.codec = codec
        self.crf = crf
        self.bitrate = bitrate
        self.preset = preset
        self.tune = tune
        self.keyframeInterval = keyframeInterval
        self.maxBFrames = maxBFrames
        self.threads = threads
    }

    /// Offline conversion: quality first, at a speed that keeps up with decoding.
    public static let quality = EncoderSettings(preset: "veryfast")

    /// Live output: no B-frames, a keyframe every second, zero-latency tuning.
    public static func lowLatency(frameRate: Double) -> EncoderSettings {
        EncoderSettings(preset: "veryfast", tune: "zerolatency",
                        keyframeInterval: max(1, Int(frameRate.rounded())), maxBFrames: 0)
    }
}

/// Where and how the encoded stream is stored or sent.
public struct OutputOptions: Sendable {
    /// FFmpeg's muxer name (`mp4`, `matroska`, `mpegts`, `rtsp`…); nil guesses from the file name.
    public var format: String?
    /// MP4 only: write self-contained fragments of about a second, so a file cut
    /// off by a crash or a power cut still plays up to its last fragment.
    public var fragmented: Bool
    /// Further muxer options.
    public var muxerOptions: [String: String]
    /// Gives up a blocked network write after this long (seconds); nil waits.
    public var ioTimeout: Double?

    public init(format: String? = nil, fragmented: Bool = true, muxerOptions: [String: String] = [:], ioTimeout: Double? = nil) {
        self.format = format
        self.fragmented = fragmented
        self.muxerOptions = muxerOptions
        self.ioTimeout = ioTimeout
    }
}

/// A picture ready for the encoder: planar YUV straight from a palette, RGB,
/// or 16-bit grey for lossless thermal recordings (FFV1, PNG, raw).
public enum EncoderPicture: Sendable {
    case yuv420(YUV420Image)
    case rgb(RGBImage)
    case gray16(Gray16Image)

    public var width: Int {
        switch self {
        case .yuv420(let image): image.width
        case .rgb(let image): image.width
        case .gray16(let image): image.width
        }
    }

    public var height: Int {
        switch self {
        case .yuv420(let image): image.height
        case .rgb(let image): image.height
        case .gray16(let image): image.height
        }
    }
}

/// Encodes pictures with libavcodec and muxes them into a file or stream.
///
/// Call `finish()` to flush and close; if the writer is dropped without it
/// (an error on another stage, say), `deinit` still writes the trailer so the
/// frames written so far stay playable. Not thread-safe: one thread writes.
public final class VideoWriter {
    public let location: String
    public let settings: EncoderSettings
    public let width: Int
    public let height: Int
    public private(set) var framesWritten = 0
    public private(set) var bytesWritten: Int64 = 0

    private var formatContext: UnsafeMutablePointer<AVFormatContext>?
    private let encoder: FFCodecContext
    private let stream: UnsafeMutablePointer<AVStream>
    private let timeBase: Rational
    private let encoderFormat: AVPixelFormat
    private let sourceFrame = FFFrame()
    private let encoderFrame = FFFrame()
    private let packet = FFPacket()
    private var scaler: FFScaler?
    private var scalerSource: AVPixelFormat?
    private let interrupt: InterruptState
    private var headerWritten = false
    private var finished = false

    /// Opens the output and its encoder.
    /// - Parameters:
    ///   - timeBase: the unit of the `pts` values given to `write`; usually the input's.
    ///   - frameRate: the nominal rate, for muxers and rate control.
    ///   - gray16: the pictures will be 16-bit grey (a lossless thermal recording), not colour.
    public init(_ location: String, width: Int, height: Int, timeBase: Rational, frameRate: Rational?,
                settings: EncoderSettings = .quality, output: OutputOptions = OutputOptions(), gray16: Bool = false) throws {
        self.location = location
        self.settings = settings
        self.width = width
        self.height = height
        self.timeBase = timeBase
        interrupt = InterruptState(timeout: output.ioTimeout)

        guard width > 0, height > 0 else { throw MediaError("cannot write", location, reason: "empty picture size \(width)×\(height)") }
        guard let codec = avcodec_find_encoder_by_name(settings.codec.encoderName) else {
            throw MediaError("cannot write", location,
                             reason: "this FFmpeg has no \(settings.codec.encoderName) encoder for \(settings.codec.rawValue)")
        }
        guard let encoderFormat = settings.codec.encoderFormat(forGray16: gray16) else {
            throw MediaError("cannot write", location,
                             reason: "\(settings.codec.rawValue) cannot store \(gray16 ? "16-bit grey; use ffv1, png or rawvideo" : "colour")")
        }
        self.encoderFormat = encoderFormat
        var context: UnsafeMutablePointer<AVFormatContext>? = nil
        let allocated = avformat_alloc_output_context2(&context, nil, output.format, location)
        guard allocated >= 0, let context else {
            let hint = output.format.map { "FFmpeg has no muxer '\($0)'" } ?? "cannot tell the container from the file name; use --format"
            throw MediaError("cannot write", location, reason: hint)
        }
        formatContext = context
        context.pointee.interrupt_callback = interrupt.callback
        guard let stream = avformat_new_stream(context, nil) else {
            avformat_free_context(context)
            throw MediaError("cannot write", location, reason: "out of memory")
        }
        self.stream = stream

        encoder = FFCodecContext(codec: codec)
        let codecContext = encoder.pointer
        codecContext.pointee.width = Int32(width)
        codecContext.pointee.height = Int32(height)
        codecContext.pointee.time_base = timeBase.av
        if let frameRate, frameRate.isValid { codecContext.pointee.framerate = frameRate.av }
        codecContext.pointee.thread_count = Int32(settings.threads)
        codecContext.pointee.pix_fmt = encoderFormat
        codecContext.pointee.color_range = settings.codec == .mjpeg ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG
        codecContext.pointee.colorspace = AVCOL_SPC_SMPTE170M
        codecContext.pointee.color_primaries = AVCOL_PRI_SMPTE170M
        codecContext.pointee.color_trc = AVCOL_TRC_SMPTE170M
        if let interval = settings.keyframeInterval { codecContext.pointee.gop_size = Int32(interval) }
        if let bFrames = settings.maxBFrames { codecContext.pointee.max_b_frames = Int32(bFrames) }
        if let bitrate = settings.bitrate {
            codecContext.pointee.bit_rate = Int64(bitrate)
        }
        if settings.codec == .mjpeg {
            // MJPEG has no CRF: map it onto a fixed quantiser of similar quality.
            codecContext.pointee.flags |= Int32(AV_CODEC_FLAG_QSCALE)
            codecContext.pointee.global_quality = Int32(FF_QP2LAMBDA) * Int32(max(2, min(31, (settings.crf ?? 23) / 6)))
        }
        if (context.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER) != 0 {
            codecContext.pointee.flags |= Int32(AV_CODEC_FLAG_GLOBAL_HEADER)
        }
        var codecOptions: [String: String] = [:]
        if settings.codec == .h264 || settings.codec == .hevc {
            if let preset = settings.preset { codecOptions["preset"] = preset }
            if let tune = settings.tune { codecOptions["tune"] = tune }
            if settings.bitrate == nil { codecOptions["crf"] = String(settings.crf ?? (settings.codec == .h264 ? 23 : 28)) }
            if settings.codec == .hevc { codecOptions["x265-params"] = "log-level=error" }
        }
        if settings.codec == .ffv1 {
            codecOptions["level"] = "3"
            codecOptions["slicecrc"] = "1"
        }
        var codecDictionary = FFOptions(codecOptions)
        let opened = avcodec_open2(codecContext, codec, &codecDictionary.dictionary)
        guard opened >= 0 else {
            avformat_free_context(context)
            formatContext = nil
            throw MediaError("cannot start encoder for", location, code: opened)
        }
        avcodec_parameters_from_context(stream.pointee.codecpar, codecContext)
        stream.pointee.time_base = timeBase.av
        if let frameRate, frameRate.isValid { stream.pointee.avg_frame_rate = frameRate.av }

        if (context.pointee.oformat.pointee.flags & AVFMT_NOFILE) == 0 {
            interrupt.arm()
            let openedFile = avio_open2(&context.pointee.pb, location, AVIO_FLAG_WRITE, &context.pointee.interrupt_callback, nil)
            guard openedFile >= 0 else {
                avformat_free_context(context)
                formatContext = nil
                throw MediaError("cannot write", location, code: openedFile)
            }
        }
        var muxerOptions = output.muxerOptions
        let muxerName = String(cString: context.pointee.oformat.pointee.name)
        if output.fragmented, muxerName == "mp4" || muxerName == "mov" || muxerName == "ipod" {
            muxerOptions["movflags", default: ""] += "+frag_keyframe+empty_moov+delay_moov+default_base_moof"
            muxerOptions["frag_duration", default: "1000000"] = muxerOptions["frag_duration"] ?? "1000000"
        }
        if muxerName == "matroska" || muxerName == "mp4" || muxerName == "mpegts" {
            // Push every packet to the file as it is muxed: what is on disk is what survives a power cut.
            muxerOptions["flush_packets", default: "1"] = muxerOptions["flush_packets"] ?? "1"
        }
        var muxerDictionary = FFOptions(muxerOptions)
        interrupt.arm()
        let header = avformat_write_header(context, &muxerDictionary.dictionary)
        guard header >= 0 else {
            if (context.pointee.oformat.pointee.flags & AVFMT_NOFILE) == 0 { avio_closep(&context.pointee.pb) }
            avformat_free_context(context)
            formatContext = nil
            throw MediaError("cannot write", location, code: header)
        }
        headerWritten = true

        let frame = encoderFrame.pointer
        frame.pointee.width = Int32(width)
        frame.pointee.height = Int32(height)
        frame.pointee.format = encoderFormat.rawValue
        frame.pointee.color_range = codecContext.pointee.color_range
        av_frame_get_buffer(frame, 0)
    }

    deinit {
        try? finish()
        if let context = formatContext {
            if (context.pointee.oformat.pointee.flags & AVFMT_NOFILE) == 0 { avio_closep(&context.pointee.pb) }
            avformat_free_context(context)
        }
    }

    /// Asks a blocked network write to give up (from another thread).
    public func interruptBlockedWrite() { interrupt.requestStop() }

    /// Encodes one picture shown at `pts` (in the writer's time base).
    public func write(_ picture: EncoderPicture, pts: Int64) throws {
        guard !finished else { throw MediaError("cannot write", location, reason: "the output is already closed") }
        guard picture.width == width, picture.height == height else {
            throw MediaError("cannot write", location,
                             reason: "picture is \(picture.width)×\(picture.height), output is \(width)×\(height)")
        }
        let frame = encoderFrame.pointer
        av_frame_make_writable(frame)
        switch picture {
        case .yuv420(let image) where encoderFormat == AV_PIX_FMT_YUV420P:
            copyPlanes(of: image, into: frame)
        case .yuv420(let image):
            prepareSource(format: AV_PIX_FMT_YUV420P)
            copyPlanes(of: image, into: sourceFrame.pointer)
            convertSource(format: AV_PIX_FMT_YUV420P, into: frame)
        case .rgb(let image):
            prepareSource(format: AV_PIX_FMT_RGB24)
            let target = sourceFrame.pointer
            let stride = Int(target.pointee.linesize.0)
            image.samples.withUnsafeBytes { source in
                for row in 0..<height {
                    memcpy(target.pointee.data.0! + row * stride, source.baseAddress! + row * width * 3, width * 3)
                }
            }
            convertSource(format: AV_PIX_FMT_RGB24, into: frame)
        case .gray16(let image):
            let target = encoderFormat == AV_PIX_FMT_GRAY16LE ? frame : sourceFrame.pointer
            if target != frame { prepareSource(format: AV_PIX_FMT_GRAY16LE) }
            let stride = Int(target.pointee.linesize.0)
            image.samples.withUnsafeBytes { source in
                for row in 0..<height {
                    memcpy(target.pointee.data.0! + row * stride, source.baseAddress! + row * width * 2, width * 2)
                }
            }
            if target != frame { convertSource(format: AV_PIX_FMT_GRAY16LE, into: frame) }
        }
        frame.pointee.pts = pts
        try send(frame)
        framesWritten += 1
    }

    /// Flushes the encoder, writes the container's trailer and closes the output. Safe to call twice.
    public func finish() throws {
        guard !finished else { return }
        finished = true
        var firstError: Error? = nil
        do { try send(nil) } catch { firstError = error }
        if headerWritten, let context = formatContext {
            interrupt.arm()
            let trailer = av_write_trailer(context)
            if trailer < 0, firstError == nil { firstError = MediaError("cannot finish", location, code: trailer) }
            if (context.pointee.oformat.pointee.flags & AVFMT_NOFILE) == 0 { avio_closep(&context.pointee.pb) }
        }
        if let firstError { throw firstError }
    }

    private func send(_ frame: UnsafeMutablePointer<AVFrame>?) throws {
        let sent = avcodec_send_frame(encoder.pointer, frame)
        if sent < 0, sent != cffmpeg_averror_eof() { throw MediaError("cannot encode for", location, code: sent) }
        while true {
            let received = avcodec_receive_packet(encoder.pointer, packet.pointer)
            if received == cffmpeg_averror_eagain() || received == cffmpeg_averror_eof() { return }
            if received < 0 { throw MediaError("cannot encode for", location, code: received) }
            av_packet_rescale_ts(packet.pointer, encoder.pointer.pointee.time_base, stream.pointee.time_base)
            packet.pointer.pointee.stream_index = stream.pointee.index
            bytesWritten += Int64(packet.pointer.pointee.size)
            interrupt.arm()
            let written = av_interleaved_write_frame(formatContext, packet.pointer)
            if written < 0 { throw MediaError("cannot write", location, code: written) }
        }
    }

    private func prepareSource(format: AVPixelFormat) {
        let frame = sourceFrame.pointer
        guard frame.pointee.format != format.rawValue || frame.pointee.width != Int32(width) else { return }
        av_frame_unref(frame)
        frame.pointee.width = Int32(width)
        frame.pointee.height = Int32(height)
        frame.pointee.format = format.rawValue
        av_frame_get_buffer(frame, 0)
    }

    private func convertSource(format: AVPixelFormat, into frame: UnsafeMutablePointer<AVFrame>) {
        if scaler == nil || scalerSource != format {
            scaler = FFScaler(sourceWidth: Int32(width), sourceHeight: Int32(height), sourceFormat: format,
                              targetWidth: Int32(width), targetHeight: Int32(height), targetFormat: encoderFormat)
            scalerSource = format
        }
        scaler?.scale(sourceFrame.pointer, into: frame)
    }
}

private func copyPlanes(of image: YUV420Image, into frame: UnsafeMutablePointer<AVFrame>) {
    copyPlane(image.luma, width: image.width, height: image.height, into: frame.pointee.data.0!, stride: Int(frame.pointee.linesize.0))
    copyPlane(image.chromaBlue, width: image.chromaWidth, height: image.chromaHeight, into: frame.pointee.data.1!, stride: Int(frame.pointee.linesize.1))
    copyPlane(image.chromaRed, width: image.chromaWidth, height: image.chromaHeight, into: frame.pointee.data.2!, stride: Int(frame.pointee.linesize.2))
}

private func copyPlane(_ plane: [UInt8], width: Int, height: Int, into target: UnsafeMutablePointer<UInt8>, stride: Int) {
    plane.withUnsafeBytes { source in
        for row in 0..<height {
            memcpy(target + row * stride, source.baseAddress! + row * width, width)
        }
    }
}
