internal import CFFmpeg
import Foundation
import Imaging

/// What a video input holds, as `thermocolor probe` reports it.
package struct VideoStreamInfo: Sendable {
    package var container: String
    package var codec: String
    package var width: Int
    package var height: Int
    package var pixelFormat: String
    /// Bits per sample that carry data (8 for 8-bit grey, 14 for a 14-bit sensor in 16-bit words).
    package var significantBits: Int
    /// True when the source has no colour (grey formats, or grey carried in YUV cannot be told apart: false there).
    package var isGray: Bool
    package var timeBase: Rational
    /// The average frame rate, when the container states one.
    package var frameRate: Rational?
    /// Seconds, when known.
    package var duration: Double?
    /// Frames, when the container states it (or duration × rate as an estimate).
    package var frameCount: Int?
    package var bitRate: Int?
}

/// Options for opening an input.
package struct InputOptions: Sendable {
    /// FFmpeg's demuxer name (`-f`), e.g. `rawvideo`, `image2`, `v4l2`; nil to probe.
    package var format: String?
    /// Demuxer and protocol options (`video_size`, `pixel_format`, `framerate`, `rtsp_transport`, `timeout`…).
    package var options: [String: String]
    /// Decoder threads; 0 lets FFmpeg choose. Live sources use 1 to avoid frame-threading delay.
    package var decoderThreads: Int
    /// Gives up opening or reading after this long without data (network inputs); nil waits forever.
    package var ioTimeout: Double?
    /// Decoder options (`-idct faani` is `["idct": "faani"]`).
    package var decoderOptions: [String: String]

    package init(format: String? = nil, options: [String: String] = [:], decoderThreads: Int = 0, ioTimeout: Double? = nil,
                decoderOptions: [String: String] = [:]) {
        self.format = format
        self.options = options
        self.decoderThreads = decoderThreads
        self.ioTimeout = ioTimeout
        self.decoderOptions = decoderOptions
    }
}

/// Reads and decodes the first video stream of anything FFmpeg opens: files,
/// image sequences (`frame_%04d.png`), raw video, network streams.
///
/// Not thread-safe: one thread reads. Decoding blocks, so run it on a thread
/// of its own, never in the Swift concurrency pool.
package final class VideoReader {
    package let location: String
    package let info: VideoStreamInfo
    /// Packets the decoder rejected as corrupt; decoding carries on past them.
    package private(set) var corruptPacketCount = 0
    /// Frames decoded so far.
    package var framesDecoded: Int { decodedCount }

    private let input: FFInputContext
    private let decoder: FFCodecContext
    private let streamIndex: Int32
    private let stream: UnsafeMutablePointer<AVStream>
    private let packet = FFPacket()
    private let frame = FFFrame()
    private let interrupt: InterruptState
    private var draining = false
    private var finished = false
    private var decodedCount = 0
    private var lastPTS: Int64?
    /// Where the last decoded frame ends, in the stream's time base (for `earlyEnd`).
    private var lastFrameEnd: Int64?
    /// A read that failed with something other than the end of the file.
    private var readFailure: Int32?
    /// Whether the last packet read was cut short (the demuxer flags it).
    private var lastPacketCut = false
    private let grayConverter = FFConverter(to: AV_PIX_FMT_GRAY8)
    private let deepGrayConverter = FFConverter(to: AV_PIX_FMT_GRAY16LE)
    private let colorConverter = FFConverter(to: AV_PIX_FMT_RGB24)

    /// Opens `location` (a path or URL) and its decoder.
    /// - Throws: `MediaError` naming the location and FFmpeg's reason.
    package init(_ location: String, options: InputOptions = InputOptions()) throws {
        self.location = location
        interrupt = InterruptState(timeout: options.ioTimeout)

        var inputFormat: UnsafePointer<AVInputFormat>? = nil
        if let name = options.format {
            guard let found = av_find_input_format(name) else {
                throw MediaError("cannot open", location, reason: "FFmpeg has no input format '\(name)'")
            }
            inputFormat = found
        }
        var dictionary = FFOptions(options.options)
        interrupt.arm()
        do {
            input = try FFInputContext(opening: location, format: inputFormat, options: &dictionary, interrupt: interrupt.callback)
        } catch {
            throw MediaError("cannot open", location, code: error.code).explainingOpenFailure(location).explainingTimeout(interrupt)
        }
        // From here on a failure leaves `input` to close the file as the reader goes.
        let context: UnsafeMutablePointer<AVFormatContext>? = input.pointer
        interrupt.arm()
        let found = avformat_find_stream_info(context, nil)
        guard found >= 0 else {
            throw MediaError("cannot read", location, code: found).explainingTimeout(interrupt)
        }
        let index = av_find_best_stream(context, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
        guard index >= 0, let stream = context!.pointee.streams[Int(index)] else {
            throw MediaError("no video stream in", location, reason: "the input holds no video")
        }
        streamIndex = index
        self.stream = stream
        // Only the video stream is demuxed; the rest is skipped cheaply.
        for i in 0..<Int(context!.pointee.nb_streams) where Int32(i) != index {
            context!.pointee.streams[i]!.pointee.discard = AVDISCARD_ALL
        }
        let parameters = stream.pointee.codecpar!
        guard let codec = avcodec_find_decoder(parameters.pointee.codec_id) else {
            let name = String(cString: avcodec_get_name(parameters.pointee.codec_id))
            throw MediaError("cannot decode", location, reason: "this FFmpeg has no decoder for \(name)")
        }
        decoder = FFCodecContext(codec: codec)
        let copied = avcodec_parameters_to_context(decoder.pointer, parameters)
        guard copied >= 0 else { throw MediaError("cannot decode", location, code: copied) }
        decoder.pointer.pointee.thread_count = Int32(options.decoderThreads)
        decoder.pointer.pointee.pkt_timebase = stream.pointee.time_base
        var decoderDictionary = FFOptions(options.decoderOptions)
        let openedCodec = avcodec_open2(decoder.pointer, codec, &decoderDictionary.dictionary)
        guard openedCodec >= 0 else {
            throw MediaError("cannot decode", location, code: openedCodec)
        }
        guard parameters.pointee.width > 0, parameters.pointee.height > 0 else {
            throw MediaError("cannot decode", location, reason: "the video stream has no picture size")
        }

        let pixelFormat = AVPixelFormat(parameters.pointee.format)
        let descriptor = av_pix_fmt_desc_get(pixelFormat)
        let depth = descriptor.map { Int($0.pointee.comp.0.depth) } ?? 8
        let rawBits = Int(parameters.pointee.bits_per_raw_sample)
        let significantBits = (rawBits > 0 && rawBits < depth) ? rawBits : depth
        let isGray = descriptor.map { $0.pointee.nb_components <= 2 && ($0.pointee.flags & UInt64(AV_PIX_FMT_FLAG_PAL)) == 0 } ?? false
        let rate = Rational(stream.pointee.avg_frame_rate)
        let timeBase = Rational(stream.pointee.time_base)
        var duration: Double? = nil
        if stream.pointee.duration > 0 {
            duration = Double(stream.pointee.duration) * timeBase.doubleValue
        } else if context!.pointee.duration > 0 {
            duration = Double(context!.pointee.duration) / Double(AV_TIME_BASE)
        }
        var frameCount: Int? = stream.pointee.nb_frames > 0 ? Int(stream.pointee.nb_frames) : nil
        if frameCount == nil, let duration, rate.isValid {
            frameCount = Int((duration * rate.doubleValue).rounded())
        }
        info = VideoStreamInfo(
            container: String(cString: context!.pointee.iformat.pointee.name),
            codec: String(cString: avcodec_get_name(parameters.pointee.codec_id)),
            width: Int(parameters.pointee.width),
            height: Int(parameters.pointee.height),
            pixelFormat: pixelFormat.name,
            significantBits: significantBits,
            isGray: isGray,
            timeBase: timeBase,
            frameRate: rate.isValid ? rate : nil,
            duration: duration,
            frameCount: frameCount,
            bitRate: context!.pointee.bit_rate > 0 ? Int(context!.pointee.bit_rate) : nil
        )
    }

    /// Asks a blocked read to give up (from another thread): the read then fails
    /// with a connection-loss error. Used to stop live inputs promptly.
    package func interruptBlockedRead() { interrupt.requestStop() }

    /// The next frame as 16-bit grey, or nil at the end of the input.
    package func nextThermalFrame() throws -> ThermalFrame? {
        guard let decoded = try nextDecodedFrame() else { return nil }
        let (samples, bits) = try grayImage(from: decoded)
        return ThermalFrame(samples: samples, significantBits: bits, pts: presentationTime(of: decoded),
                            duration: decoded.pointee.pkt_duration, timeBase: info.timeBase, index: decodedCount - 1)
    }

    /// The next frame as interleaved RGB, or nil at the end of the input.
    package func nextColorFrame() throws -> ColorFrame? {
        guard let decoded = try nextDecodedFrame() else { return nil }
        let image = rgbImage(ofPacked: try colorConverter.convert(decoded, location: location))
        return ColorFrame(image: image, pts: presentationTime(of: decoded), duration: decoded.pointee.pkt_duration,
                          timeBase: info.timeBase, index: decodedCount - 1)
    }

    /// Hands the next decoded frame, as the decoder left it, to `body`;
    /// nil at the end of the input. For readers that need the decoder's own
    /// planes rather than a converted picture.
    func withNextDecodedFrame<Result>(_ body: (UnsafeMutablePointer<AVFrame>) throws -> Result) throws -> Result? {
        guard let decoded = try nextDecodedFrame() else { return nil }
        return try body(decoded)
    }

    // MARK: Decoding

    private func nextDecodedFrame() throws -> UnsafeMutablePointer<AVFrame>? {
        guard !finished else { return nil }
        while true {
            let received = avcodec_receive_frame(decoder.pointer, frame.pointer)
            if received == 0 {
                decodedCount += 1
                return frame.pointer
            }
            if received == cffmpeg_averror_eof() {
                finished = true
                return nil
            }
            if received != cffmpeg_averror_eagain() {
                // A frame the decoder could not rebuild; later ones may still decode.
                corruptPacketCount += 1
                continue
            }
            if draining {
                finished = true
                return nil
            }
            interrupt.arm()
            let read = av_read_frame(input.pointer, packet.pointer)
            if read < 0 {
                if read != cffmpeg_averror_eof(), MediaError("", "", code: read).isConnectionLoss || interrupt.stopRequested {
                    throw MediaError("lost input", location, code: read).explainingTimeout(interrupt)
                }
                if read != cffmpeg_averror_eof() { readFailure = read }
                // End of file, or a truncated tail: hand the decoder what it holds.
                avcodec_send_packet(decoder.pointer, nil)
                draining = true
                continue
            }
            defer { av_packet_unref(packet.pointer) }
            guard packet.pointer.pointee.stream_index == streamIndex else { continue }
            lastPacketCut = (packet.pointer.pointee.flags & AV_PKT_FLAG_CORRUPT) != 0
            let sent = avcodec_send_packet(decoder.pointer, packet.pointer)
            if sent < 0, sent != cffmpeg_averror_eagain() {
                corruptPacketCount += 1
                if decodedCount == 0, corruptPacketCount >= 64 {
                    throw MediaError("cannot decode", location, code: sent)
                }
            }
        }
    }

    /// The frame's presentation time, made up from the frame rate when the
    /// input carries none, and kept increasing so muxers accept it.
    private func presentationTime(of decoded: UnsafeMutablePointer<AVFrame>) -> Int64 {
        var pts = decoded.pointee.best_effort_timestamp
        if pts == cffmpeg_nopts_value() {
            let step: Int64
            if let rate = info.frameRate {
                step = max(1, rate.inverted.rescale(1, to: info.timeBase))
            } else {
                step = 1
            }
            pts = (lastPTS ?? -step) + step
        }
        if let last = lastPTS, pts <= last { pts = last + 1 }
        lastPTS = pts
        var duration = decoded.pointee.pkt_duration
        if duration <= 0, let rate = info.frameRate { duration = max(1, rate.inverted.rescale(1, to: info.timeBase)) }
        lastFrameEnd = max(lastFrameEnd ?? pts, pts + max(0, duration))
        return pts
    }

    /// Once the input has ended: why it ended before its end, or nil when it
    /// ended where the container says it does. A file cut short (a copy that
    /// did not finish, a recorder that lost power) reads as a normal end to
    /// FFmpeg; this tells them apart by a failed or cut-short last read, or
    /// by the last frame ending well before the stated duration. Network
    /// inputs have no stated end: nil.
    package var earlyEnd: String? {
        guard finished, !location.contains("://") || location.hasPrefix("file:") else { return nil }
        if let readFailure {
            return "reading stopped at frame \(decodedCount): \(ffmpegErrorText(readFailure))"
        }
        if lastPacketCut { return "the last packet is cut short" }
        guard let duration = statedDuration, let lastFrameEnd else { return nil }
        let start = stream.pointee.start_time == cffmpeg_nopts_value() ? 0 : stream.pointee.start_time
        let reached = Double(lastFrameEnd - start) * info.timeBase.doubleValue
        // A frame and a half of slack for rounding in the container's duration.
        let slack = max(0.02, 1.5 / (info.frameRate?.doubleValue ?? 10))
        guard reached + slack < duration else { return nil }
        return String(format: "its frames stop at %.2f s of the %.2f s it states", reached, duration)
    }

    /// The video's duration as the container states it: the stream's own, or
    /// the file's when the video is its only stream (audio may run longer).
    private var statedDuration: Double? {
        if stream.pointee.duration > 0 { return Double(stream.pointee.duration) * info.timeBase.doubleValue }
        let context = input.pointer
        guard context.pointee.nb_streams == 1, context.pointee.duration > 0 else { return nil }
        return Double(context.pointee.duration) / Double(AV_TIME_BASE)
    }

    // MARK: Pixel conversion

    /// 8-bit sources stay 8-bit: widening them here only for the palette to narrow them again cost a pass and twice the memory.
    private func grayImage(from decoded: UnsafeMutablePointer<AVFrame>) throws -> (ThermalSamples, Int) {
        let width = Int(decoded.pointee.width)
        let height = Int(decoded.pointee.height)
        let format = AVPixelFormat(decoded.pointee.format)
        let stride = Int(decoded.pointee.linesize.0)
        let plane = decoded.pointee.data.0!

        switch format {
        case AV_PIX_FMT_GRAY16LE, AV_PIX_FMT_GRAY14LE, AV_PIX_FMT_GRAY12LE, AV_PIX_FMT_GRAY10LE, AV_PIX_FMT_GRAY9LE,
             AV_PIX_FMT_YUV420P16LE, AV_PIX_FMT_YUV420P10LE, AV_PIX_FMT_YUV420P12LE, AV_PIX_FMT_YUV444P16LE,
             AV_PIX_FMT_YUV422P10LE, AV_PIX_FMT_YUV444P10LE,
             AV_PIX_FMT_GRAY16BE, AV_PIX_FMT_GRAY14BE, AV_PIX_FMT_GRAY12BE, AV_PIX_FMT_GRAY10BE:
            let descriptor = av_pix_fmt_desc_get(format)!
            let bigEndian = (descriptor.pointee.flags & UInt64(AV_PIX_FMT_FLAG_BE)) != 0
            let image = sixteenBitPlane(plane, stride: stride, width: width, height: height, bigEndian: bigEndian)
            return (.sixteenBit(image), min(Int(descriptor.pointee.comp.0.depth), info.significantBits))
        case AV_PIX_FMT_GRAY8, AV_PIX_FMT_YUVJ420P, AV_PIX_FMT_YUVJ422P, AV_PIX_FMT_YUVJ444P:
            return (.eightBit(bytePlane(plane, stride: stride, width: width, height: height)), 8)
        case AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUV422P, AV_PIX_FMT_YUV444P, AV_PIX_FMT_NV12, AV_PIX_FMT_NV21, AV_PIX_FMT_YUV410P, AV_PIX_FMT_YUV411P:
            // Grey carried in YUV: luma is the picture, limited range opened up to full.
            let table = decoded.pointee.color_range == AVCOL_RANGE_JPEG ? nil : limitedToFullRangeTable
            return (.eightBit(bytePlane(plane, stride: stride, width: width, height: height, table: table)), 8)
        default:
            // Any other format (RGB, palette, packed YUV) goes through libswscale to grey.
            let deep = info.significantBits > 8
            let converter = deep ? deepGrayConverter : grayConverter
            let gray = try converter.convert(decoded, location: location)
            let grayStride = Int(gray.pointee.linesize.0)
            if deep {
                return (.sixteenBit(sixteenBitPlane(gray.pointee.data.0!, stride: grayStride, width: width, height: height, bigEndian: false)), 16)
            }
            return (.eightBit(bytePlane(gray.pointee.data.0!, stride: grayStride, width: width, height: height)), 8)
        }
    }
}

extension MediaError {
    /// FFmpeg words an interrupted wait as "Immediate exit requested"; say what happened.
    func explainingTimeout(_ interrupt: InterruptState) -> MediaError {
        guard interrupt.timedOut, !interrupt.stopRequested, let seconds = interrupt.timeoutSeconds else { return self }
        var explained = self
        explained.reason = "no data within \(String(format: "%g", seconds)) s"
        return explained
    }

    /// A missing file reads better as such than as FFmpeg's generic text.
    func explainingOpenFailure(_ location: String) -> MediaError {
        if !location.contains("://"), !location.contains("%"), !FileManager.default.fileExists(atPath: location) {
            return MediaError("cannot open", location, reason: "no such file", code: code)
        }
        return self
    }
}
