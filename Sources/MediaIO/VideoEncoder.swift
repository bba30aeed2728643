internal import CFFmpeg
import Foundation
import Imaging

/// Compresses pictures with libavcodec into packets that any number of
/// `PacketMuxer`s can store or send: one encode feeds a recording and a live
/// stream alike.
///
/// Not thread-safe: one thread encodes. `keyframes` is the exception: any
/// thread may ask for a keyframe through it.
package final class VideoEncoder {
    /// The coded size: the pictures' size, made even where the codec subsamples chroma 4:2:0.
    package let width: Int
    package let height: Int
    /// The size of the pictures given to `encode`.
    package let pictureWidth: Int
    package let pictureHeight: Int
    /// Set when an odd picture size was cropped to the even size the codec needs: one line saying so.
    package let cropNote: String?
    /// The settings asked for (`acceleration` may say `auto`; `encoderName` says what runs).
    package let settings: EncoderSettings
    /// libavcodec's name of the encoder that runs (`libx264`, `h264_nvenc`…).
    package let encoderName: String
    /// Set when `auto` found no working hardware and fell back to software: one line saying why.
    package let fallbackNote: String?
    /// Codec parameters for muxers, ready once the encoder is open.
    package let stream: EncodedStreamFormat
    /// Ask here for the next picture to be a keyframe (from any thread).
    package let keyframes = KeyframeTrigger()
    package private(set) var framesEncoded = 0

    private let label: String
    private let codec: FFCodecContext
    /// The software format pictures are converted to before encoding (or upload).
    private let inputFormat: AVPixelFormat
    private let inputFrame = FFFrame()
    private let sourceFrame = FFFrame()
    private let packet = FFPacket()
    private var scaler: FFScaler?
    private var scalerSource: AVPixelFormat?
    private let upload: VAAPIUpload?
    private var flushed = false

    /// Opens the encoder.
    /// - Parameters:
    ///   - timeBase: the unit of the `pts` values given to `encode`; usually the input's.
    ///   - frameRate: the nominal rate, for rate control.
    ///   - gray16: the pictures will be 16-bit grey (a lossless thermal recording), not colour.
    ///   - globalHeader: keep the H.264 parameter sets in the stream header (what MP4, Matroska
    ///     and RTSP want) rather than before every keyframe. MPEG-TS muxers put them back in front
    ///     of keyframes, so one encoder with a global header feeds every container.
    ///   - label: names the output in error messages.
    package init(width: Int, height: Int, timeBase: Rational, frameRate: Rational?, settings: EncoderSettings,
                gray16: Bool = false, globalHeader: Bool = true, label: String = "the encoder") throws {
        self.settings = settings
        self.label = label
        guard width > 0, height > 0 else { throw MediaError("cannot write", label, reason: "empty picture size \(width)×\(height)") }
        pictureWidth = width
        pictureHeight = height
        // 4:2:0 encoders refuse odd sizes ("Generic error in an external library"): drop the last
        // column or row instead, and say so, rather than fail or crop in silence.
        let subsampled = settings.codec.encoderFormat(forGray16: gray16).map { [AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUVJ420P].contains($0) } ?? false
        let codedWidth = subsampled ? width & ~1 : width
        let codedHeight = subsampled ? height & ~1 : height
        let minimum = settings.codec.minimumSize
        guard codedWidth >= minimum, codedHeight >= minimum else {
            throw MediaError("cannot write", label,
                             reason: "the picture is \(width)×\(height), too small for \(settings.codec.rawValue) (at least \(minimum)×\(minimum))")
        }
        self.width = codedWidth
        self.height = codedHeight
        cropNote = (codedWidth, codedHeight) == (width, height) ? nil
            : "the input is \(width)×\(height); \(settings.codec.rawValue) needs even sizes, so the output is \(codedWidth)×\(codedHeight) (the last \(codedWidth == width ? "row" : codedHeight == height ? "column" : "column and row") dropped)"

        let hardware = try Self.hardwareCandidates(for: settings, gray16: gray16, label: label)
        var failures: [String] = hardware.skipped
        var opened: (FFCodecContext, AVPixelFormat, VAAPIUpload?, String)? = nil
        for candidate in hardware.tried {
            do {
                opened = try Self.openHardware(candidate, width: codedWidth, height: codedHeight, timeBase: timeBase,
                                               frameRate: frameRate, settings: settings, globalHeader: globalHeader)
                break
            } catch {
                if settings.acceleration != .auto {
                    throw MediaError("cannot start encoder for", label, reason: "\(candidate.rawValue): \(error)")
                }
                failures.append("\(candidate.rawValue): \(error)")
            }
        }
        if let opened {
            (codec, inputFormat, upload, encoderName) = opened
            fallbackNote = nil
        } else {
            guard let found = avcodec_find_encoder_by_name(settings.codec.encoderName) else {
                throw MediaError("cannot write", label,
                                 reason: "this FFmpeg has no \(settings.codec.encoderName) encoder for \(settings.codec.rawValue)")
            }
            guard let format = settings.codec.encoderFormat(forGray16: gray16) else {
                throw MediaError("cannot write", label,
                                 reason: "\(settings.codec.rawValue) cannot store \(gray16 ? "16-bit grey; use ffv1, png or rawvideo" : "colour")")
            }
            let context = FFCodecContext(codec: found)
            Self.configureCommon(context.pointer, width: codedWidth, height: codedHeight, timeBase: timeBase, frameRate: frameRate,
                                 settings: settings, globalHeader: globalHeader)
            context.pointer.pointee.pix_fmt = format
            context.pointer.pointee.color_range = settings.codec == .mjpeg ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG
            var options = FFOptions(Self.softwareOptions(settings, context: context.pointer))
            let result = avcodec_open2(context.pointer, found, &options.dictionary)
            guard result >= 0 else { throw MediaError("cannot start encoder for", label, code: result) }
            (codec, inputFormat, upload, encoderName) = (context, format, nil, settings.codec.encoderName)
            fallbackNote = settings.acceleration == .auto
                ? "no hardware H.264 encoder (\(failures.joined(separator: "; "))); encoding with libx264"
                : nil
        }
        stream = EncodedStreamFormat(copying: codec.pointer, timeBase: timeBase, frameRate: frameRate?.isValid == true ? frameRate : nil)

        let frame = inputFrame.pointer
        frame.pointee.width = Int32(codedWidth)
        frame.pointee.height = Int32(codedHeight)
        frame.pointee.format = inputFormat.rawValue
        frame.pointee.color_range = codec.pointer.pointee.color_range
        let allocated = av_frame_get_buffer(frame, 0)
        guard allocated >= 0 else { throw MediaError("cannot allocate a picture for", label, code: allocated) }
    }

    /// Encodes one picture shown at `pts` (in the encoder's time base).
    /// - Returns: the packets that came out, possibly none (the encoder may hold pictures back).
    package func encode(_ picture: EncoderPicture, pts: Int64) throws -> [EncodedPacket] {
        guard !flushed else { throw MediaError("cannot write", label, reason: "the encoder is already flushed") }
        guard picture.width == pictureWidth, picture.height == pictureHeight else {
            throw MediaError("cannot write", label,
                             reason: "picture is \(picture.width)×\(picture.height), output is \(pictureWidth)×\(pictureHeight)")
        }
        let frame = inputFrame.pointer
        // The encoder may still hold a reference to the last picture's buffer.
        let writable = av_frame_make_writable(frame)
        guard writable >= 0 else { throw MediaError("cannot write", label, code: writable) }
        try fill(frame, with: picture)
        frame.pointee.pts = pts
        frame.pointee.pict_type = keyframes.consume() ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE
        let packets = try send(upload.map { try $0.upload(frame) } ?? frame)
        framesEncoded += 1
        return packets
    }

    /// Drains the pictures the encoder still holds. Call once at the end.
    package func flush() throws -> [EncodedPacket] {
        guard !flushed else { return [] }
        flushed = true
        return try send(nil)
    }

    private func send(_ frame: UnsafeMutablePointer<AVFrame>?) throws -> [EncodedPacket] {
        let sent = avcodec_send_frame(codec.pointer, frame)
        if sent < 0, sent != cffmpeg_averror_eof() { throw MediaError("cannot encode for", label, code: sent) }
        var packets: [EncodedPacket] = []
        while true {
            let received = avcodec_receive_packet(codec.pointer, packet.pointer)
            if received == cffmpeg_averror_eagain() || received == cffmpeg_averror_eof() { return packets }
            if received < 0 { throw MediaError("cannot encode for", label, code: received) }
            packets.append(EncodedPacket(movingFrom: packet.pointer))
        }
    }

    // MARK: Opening

    private static func hardwareCandidates(for settings: EncoderSettings, gray16: Bool, label: String) throws
        -> (tried: [EncoderAcceleration], skipped: [String]) {
        switch settings.acceleration {
        case .software:
            return ([], [])
        case .auto:
            guard settings.codec == .h264, !gray16 else { return ([], ["hardware encodes colour H.264 only"]) }
            var tried: [EncoderAcceleration] = []
            var skipped: [String] = []
            for candidate in [EncoderAcceleration.nvenc, .vaapi, .v4l2m2m] {
                if let reason = candidate.absenceReason { skipped.append("\(candidate.rawValue): \(reason)") } else { tried.append(candidate) }
            }
            return (tried, skipped)
        case .vaapi, .v4l2m2m, .nvenc:
            guard settings.codec == .h264, !gray16 else {
                throw MediaError("cannot start encoder for", label,
                                 reason: "\(settings.acceleration.rawValue) encodes colour H.264 only, not \(gray16 ? "16-bit grey" : settings.codec.rawValue)")
            }
            if let reason = settings.acceleration.absenceReason {
                throw MediaError("cannot start encoder for", label, reason: "\(settings.acceleration.rawValue): \(reason)")
            }
            return ([settings.acceleration], [])
        }
    }

    private static func openHardware(_ kind: EncoderAcceleration, width: Int, height: Int, timeBase: Rational, frameRate: Rational?,
                                     settings: EncoderSettings, globalHeader: Bool) throws
        -> (FFCodecContext, AVPixelFormat, VAAPIUpload?, String) {
        guard let name = kind.encoderName, let found = avcodec_find_encoder_by_name(name) else {
            throw HardwareError("this FFmpeg has no encoder for it")
        }
        let context = FFCodecContext(codec: found)
        let pointer = context.pointer
        configureCommon(pointer, width: width, height: height, timeBase: timeBase, frameRate: frameRate,
                        settings: settings, globalHeader: globalHeader)
        pointer.pointee.color_range = AVCOL_RANGE_MPEG
        var options: [String: String] = [:]
        var upload: VAAPIUpload? = nil
        var inputFormat = AV_PIX_FMT_YUV420P
        let rate = frameRate?.isValid == true ? frameRate!.doubleValue : 30
        switch kind {
        case .nvenc:
            pointer.pointee.pix_fmt = AV_PIX_FMT_YUV420P
            options["preset"] = "p4"
            options["forced-idr"] = "1"
            if settings.tune == "zerolatency" {
                options["tune"] = "ull"
                options["zerolatency"] = "1"
            }
            if settings.bitrate == nil {
                options["rc"] = "vbr"
                options["cq"] = String(settings.crf ?? 23)
            }
        case .vaapi:
            let pool = try VAAPIUpload(width: width, height: height)
            pointer.pointee.pix_fmt = AV_PIX_FMT_VAAPI
            pointer.pointee.hw_frames_ctx = av_buffer_ref(pool.frames.pointer)
            upload = pool
            inputFormat = AV_PIX_FMT_NV12
            if settings.bitrate == nil { options["qp"] = String(settings.crf ?? 23) }
        case .v4l2m2m:
            pointer.pointee.pix_fmt = AV_PIX_FMT_YUV420P
            // These encoders only do constant bitrate: about 0.1 bit per pixel unless told.
            if settings.bitrate == nil { pointer.pointee.bit_rate = Int64(max(500_000, Double(width * height) * rate / 10)) }
        case .auto, .software:
            throw HardwareError("not a hardware encoder")
        }
        var dictionary = FFOptions(options)
        let result = avcodec_open2(pointer, found, &dictionary.dictionary)
        guard result >= 0 else { throw HardwareError(ffmpegErrorText(result)) }
        return (context, inputFormat, upload, name)
    }

    private static func configureCommon(_ context: UnsafeMutablePointer<AVCodecContext>, width: Int, height: Int, timeBase: Rational,
                                        frameRate: Rational?, settings: EncoderSettings, globalHeader: Bool) {
        context.pointee.width = Int32(width)
        context.pointee.height = Int32(height)
        context.pointee.time_base = timeBase.av
        if let frameRate, frameRate.isValid { context.pointee.framerate = frameRate.av }
        context.pointee.thread_count = Int32(settings.threads)
        context.pointee.colorspace = AVCOL_SPC_SMPTE170M
        context.pointee.color_primaries = AVCOL_PRI_SMPTE170M
        context.pointee.color_trc = AVCOL_TRC_SMPTE170M
        if let interval = settings.keyframeInterval { context.pointee.gop_size = Int32(interval) }
        if let bFrames = settings.maxBFrames { context.pointee.max_b_frames = Int32(bFrames) }
        if let bitrate = settings.bitrate { context.pointee.bit_rate = Int64(bitrate) }
        if globalHeader { context.pointee.flags |= Int32(AV_CODEC_FLAG_GLOBAL_HEADER) }
    }

    private static func softwareOptions(_ settings: EncoderSettings, context: UnsafeMutablePointer<AVCodecContext>) -> [String: String] {
        var options: [String: String] = [:]
        if settings.codec == .mjpeg {
            // MJPEG has no CRF: map it onto a fixed quantiser of similar quality.
            context.pointee.flags |= Int32(AV_CODEC_FLAG_QSCALE)
            context.pointee.global_quality = Int32(FF_QP2LAMBDA) * Int32(max(2, min(31, (settings.crf ?? 23) / 6)))
        }
        if settings.codec == .h264 || settings.codec == .hevc {
            if let preset = settings.preset { options["preset"] = preset }
            if let tune = settings.tune { options["tune"] = tune }
            if settings.bitrate == nil { options["crf"] = String(settings.crf ?? (settings.codec == .h264 ? 23 : 28)) }
            if settings.codec == .hevc { options["x265-params"] = "log-level=error" }
            // A requested keyframe is a real IDR picture, so a stream can be joined there.
            options["forced-idr"] = "1"
        }
        if settings.codec == .ffv1 {
            options["level"] = "3"
            options["slicecrc"] = "1"
        }
        return options
    }

    // MARK: Pixels

    private func fill(_ frame: UnsafeMutablePointer<AVFrame>, with picture: EncoderPicture) throws {
        switch picture {
        case .yuv420(let image) where inputFormat == AV_PIX_FMT_YUV420P:
            copyPlanes(of: image, width: width, height: height, into: frame)
        case .yuv420(let image):
            try prepareSource(format: AV_PIX_FMT_YUV420P)
            copyPlanes(of: image, width: width, height: height, into: sourceFrame.pointer)
            convertSource(format: AV_PIX_FMT_YUV420P, into: frame)
        case .rgb(let image):
            try prepareSource(format: AV_PIX_FMT_RGB24)
            copyRows(image.samples, sourceRowBytes: pictureWidth * 3, rowBytes: width * 3, into: sourceFrame.pointer)
            convertSource(format: AV_PIX_FMT_RGB24, into: frame)
        case .gray16(let image):
            let direct = inputFormat == AV_PIX_FMT_GRAY16LE
            if !direct { try prepareSource(format: AV_PIX_FMT_GRAY16LE) }
            copyRows(image.samples, sourceRowBytes: pictureWidth * 2, rowBytes: width * 2, into: direct ? frame : sourceFrame.pointer)
            if !direct { convertSource(format: AV_PIX_FMT_GRAY16LE, into: frame) }
        }
    }

    /// Copies the first `rowBytes` of each of the first `height` rows (the coded size may be a
    /// column and row smaller than the picture).
    private func copyRows<Sample>(_ samples: [Sample], sourceRowBytes: Int, rowBytes: Int, into target: UnsafeMutablePointer<AVFrame>) {
        let stride = Int(target.pointee.linesize.0)
        samples.withUnsafeBytes { source in
            for row in 0..<height {
                memcpy(target.pointee.data.0! + row * stride, source.baseAddress! + row * sourceRowBytes, rowBytes)
            }
        }
    }

    private func prepareSource(format: AVPixelFormat) throws {
        let frame = sourceFrame.pointer
        guard frame.pointee.format != format.rawValue || frame.pointee.width != Int32(width) else { return }
        av_frame_unref(frame)
        frame.pointee.width = Int32(width)
        frame.pointee.height = Int32(height)
        frame.pointee.format = format.rawValue
        let allocated = av_frame_get_buffer(frame, 0)
        guard allocated >= 0 else {
            av_frame_unref(frame)
            throw MediaError("cannot allocate a picture for", label, code: allocated)
        }
    }

    private func convertSource(format: AVPixelFormat, into frame: UnsafeMutablePointer<AVFrame>) {
        if scaler == nil || scalerSource != format {
            scaler = FFScaler(sourceWidth: Int32(width), sourceHeight: Int32(height), sourceFormat: format,
                              targetWidth: Int32(width), targetHeight: Int32(height), targetFormat: inputFormat)
            scalerSource = format
        }
        scaler?.scale(sourceFrame.pointer, into: frame)
    }
}

/// Copies the top-left `width` × `height` of `image` (its whole picture, or all but an odd last column and row).
private func copyPlanes(of image: YUV420Image, width: Int, height: Int, into frame: UnsafeMutablePointer<AVFrame>) {
    let chromaWidth = (width + 1) / 2, chromaHeight = (height + 1) / 2
    copyPlane(image.luma, sourceWidth: image.width, width: width, height: height,
              into: frame.pointee.data.0!, stride: Int(frame.pointee.linesize.0))
    copyPlane(image.chromaBlue, sourceWidth: image.chromaWidth, width: chromaWidth, height: chromaHeight,
              into: frame.pointee.data.1!, stride: Int(frame.pointee.linesize.1))
    copyPlane(image.chromaRed, sourceWidth: image.chromaWidth, width: chromaWidth, height: chromaHeight,
              into: frame.pointee.data.2!, stride: Int(frame.pointee.linesize.2))
}

private func copyPlane(_ plane: [UInt8], sourceWidth: Int, width: Int, height: Int, into target: UnsafeMutablePointer<UInt8>, stride: Int) {
    plane.withUnsafeBytes { source in
        for row in 0..<height {
            memcpy(target + row * stride, source.baseAddress! + row * sourceWidth, width)
        }
    }
}
