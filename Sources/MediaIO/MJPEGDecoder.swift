internal import CFFmpeg
import Foundation
import Imaging

/// Decodes single JPEG images - the frames of a Motion-JPEG camera - with
/// libavcodec's MJPEG decoder.
///
/// Each call takes one whole JPEG, from its start-of-image marker to its
/// end-of-image marker, and returns its picture. Bytes that are not such a
/// JPEG, or that libavcodec finds damaged, throw a `MediaError` naming
/// `source`; the decoder is reset after a failure, so the next frame decodes
/// as if nothing happened.
///
/// ```swift
/// let decoder = try MJPEGDecoder(source: "/dev/video0")
/// let luma = try decoder.decodeLuma(jpegBytes)   // Gray16Image, 8 significant bits
/// ```
///
/// Not thread-safe: one thread decodes. Decoding blocks, so run it on a
/// thread of its own, never in the Swift concurrency pool.
package final class MJPEGDecoder {
    /// What the bytes are, for error messages: a device path, a file name.
    package let source: String

    private let decoder: FFCodecContext
    private let packet = FFPacket()
    private let frame = FFFrame()
    private let colorConverter = FFConverter(to: AV_PIX_FMT_RGB24)
    private let grayConverter = FFConverter(to: AV_PIX_FMT_GRAY8)

    /// Opens libavcodec's MJPEG decoder.
    /// - Parameter source: what the bytes are, for error messages.
    /// - Throws: `MediaError` when this FFmpeg has no MJPEG decoder.
    package init(source: String = "JPEG frame") throws {
        self.source = source
        guard let codec = avcodec_find_decoder(AV_CODEC_ID_MJPEG) else {
            throw MediaError("cannot decode", source, reason: "this FFmpeg has no MJPEG decoder")
        }
        decoder = FFCodecContext(codec: codec)
        // One frame in, one frame out, on the caller's thread.
        decoder.pointer.pointee.thread_count = 1
        // A damaged entropy-coded segment fails the frame instead of coming
        // back patched with grey: a thermal frame with a hole is worse than
        // a skipped one.
        decoder.pointer.pointee.err_recognition = AV_EF_EXPLODE
        // A damaged header can claim any size; refuse absurd ones rather
        // than allocate gigabytes for them.
        decoder.pointer.pointee.max_pixels = Self.maximumPixels
        let opened = avcodec_open2(decoder.pointer, codec, nil)
        guard opened >= 0 else { throw MediaError("cannot decode", source, code: opened) }
    }

    /// The luma of the JPEG in `jpeg`, one sample per pixel with 8
    /// significant bits. JPEG luma is full range, so it comes out as stored;
    /// the rare JPEG marked as limited range (`CS=ITU601`) is opened up to
    /// 0-255, as `VideoReader` does, and RGB or CMYK JPEGs go through
    /// libswscale.
    /// - Throws: `MediaError` when the bytes are not a complete JPEG or do
    ///   not decode.
    package func decodeLuma(_ jpeg: UnsafeRawBufferPointer) throws -> Gray8Image {
        let decoded = try decode(jpeg)
        let width = Int(decoded.pointee.width)
        let height = Int(decoded.pointee.height)
        let format = AVPixelFormat(decoded.pointee.format)
        let plane = decoded.pointee.data.0!
        let stride = Int(decoded.pointee.linesize.0)
        switch format {
        case AV_PIX_FMT_GRAY8, AV_PIX_FMT_YUVJ420P, AV_PIX_FMT_YUVJ422P, AV_PIX_FMT_YUVJ444P,
             AV_PIX_FMT_YUVJ440P, AV_PIX_FMT_YUVJ411P:
            return bytePlane(plane, stride: stride, width: width, height: height)
        case AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUV422P, AV_PIX_FMT_YUV444P, AV_PIX_FMT_YUV440P, AV_PIX_FMT_YUV411P:
            let table = decoded.pointee.color_range == AVCOL_RANGE_MPEG ? limitedToFullRangeTable : nil
            return bytePlane(plane, stride: stride, width: width, height: height, table: table)
        default:
            let gray = try grayConverter.convert(decoded, location: source)
            return bytePlane(gray.pointee.data.0!, stride: Int(gray.pointee.linesize.0), width: width, height: height)
        }
    }

    /// The luma of the JPEG in `jpeg`; see `decodeLuma(_:)` above.
    package func decodeLuma(_ jpeg: [UInt8]) throws -> Gray8Image {
        try jpeg.withUnsafeBytes { try decodeLuma($0) }
    }

    /// The JPEG in `jpeg` as interleaved 8-bit RGB.
    /// - Throws: `MediaError` when the bytes are not a complete JPEG or do
    ///   not decode.
    package func decodeRGB(_ jpeg: UnsafeRawBufferPointer) throws -> RGBImage {
        rgbImage(ofPacked: try colorConverter.convert(try decode(jpeg), location: source))
    }

    /// The JPEG in `jpeg` as RGB; see `decodeRGB(_:)` above.
    package func decodeRGB(_ jpeg: [UInt8]) throws -> RGBImage {
        try jpeg.withUnsafeBytes { try decodeRGB($0) }
    }

    // MARK: Decoding

    /// Decodes one JPEG into `frame`, or throws and resets the decoder.
    private func decode(_ jpeg: UnsafeRawBufferPointer) throws -> UnsafeMutablePointer<AVFrame> {
        try checkMarkers(jpeg)
        guard jpeg.count <= Int(Int32.max) - Int(AV_INPUT_BUFFER_PADDING_SIZE) else {
            throw MediaError("cannot decode", source, reason: "a JPEG of \(jpeg.count) bytes is too large")
        }
        // libavcodec reads up to AV_INPUT_BUFFER_PADDING_SIZE bytes past the
        // end, so the bytes go into a packet that has (zeroed) room for it.
        av_packet_unref(packet.pointer)
        let allocated = av_new_packet(packet.pointer, Int32(jpeg.count))
        guard allocated >= 0 else { throw MediaError("cannot decode", source, code: allocated) }
        memcpy(packet.pointer.pointee.data, jpeg.baseAddress!, jpeg.count)
        defer { av_packet_unref(packet.pointer) }

        let sent = avcodec_send_packet(decoder.pointer, packet.pointer)
        guard sent >= 0 else { throw failure(code: sent) }
        let received = avcodec_receive_frame(decoder.pointer, frame.pointer)
        if received == cffmpeg_averror_eagain() {
            throw failure(reason: "no picture in the JPEG")
        }
        guard received >= 0 else { throw failure(code: received) }
        guard frame.pointer.pointee.decode_error_flags == 0,
              frame.pointer.pointee.flags & AV_FRAME_FLAG_CORRUPT == 0 else {
            throw failure(reason: "the JPEG is damaged")
        }
        guard frame.pointer.pointee.width > 0, frame.pointer.pointee.height > 0, frame.pointer.pointee.data.0 != nil else {
            throw failure(reason: "the JPEG has no picture size")
        }
        return frame.pointer
    }

    /// A whole JPEG starts with SOI (FF D8), has its header segments and
    /// then a scan (SOS, FF DA), and ends with EOI (FF D9) before any zero
    /// bytes a camera pads its buffers with. libavcodec is lenient where
    /// capture must not be: it decodes a JPEG cut short without complaint
    /// ("EOI missing, emulating", the missing rows grey), and one whose scan
    /// is missing into whatever its frame buffer held before.
    private func checkMarkers(_ jpeg: UnsafeRawBufferPointer) throws {
        guard !jpeg.isEmpty else {
            throw MediaError("cannot decode", source, reason: "no bytes")
        }
        guard jpeg.count >= 4, jpeg[0] == 0xFF, jpeg[1] == 0xD8 else {
            throw MediaError("cannot decode", source, reason: "not a JPEG (no start-of-image marker)")
        }
        var end = jpeg.count
        while end > 2, jpeg[end - 1] == 0 { end -= 1 }
        guard end >= 4, jpeg[end - 2] == 0xFF, jpeg[end - 1] == 0xD9 else {
            throw MediaError("cannot decode", source, reason: "the JPEG is cut short (no end-of-image marker)")
        }
        // Walk the header segments (marker, two-byte big-endian length that
        // counts itself) up to the first scan.
        var offset = 2
        while true {
            guard offset + 1 < end, jpeg[offset] == 0xFF else {
                throw MediaError("cannot decode", source, reason: "the JPEG's headers are damaged")
            }
            let marker = jpeg[offset + 1]
            switch marker {
            case 0xDA:
                return
            case 0xD9:
                throw MediaError("cannot decode", source, reason: "the JPEG holds no image data (no start-of-scan marker)")
            case 0xFF:
                // Fill bytes may precede a marker.
                offset += 1
            case 0x01, 0xD0...0xD7:
                // Markers without a segment.
                offset += 2
            default:
                guard offset + 3 < end else {
                    throw MediaError("cannot decode", source, reason: "the JPEG's headers are damaged")
                }
                offset += 2 + (Int(jpeg[offset + 2]) << 8 | Int(jpeg[offset + 3]))
            }
        }
    }

    /// A decoding error, after which the decoder starts afresh.
    private func failure(code: Int32) -> MediaError {
        avcodec_flush_buffers(decoder.pointer)
        return MediaError("cannot decode", source, code: code)
    }

    private func failure(reason: String) -> MediaError {
        avcodec_flush_buffers(decoder.pointer)
        return MediaError("cannot decode", source, reason: reason)
    }

    /// The largest picture decoded: 8192x8192, far beyond any camera's.
    static let maximumPixels: Int64 = 8192 * 8192
}
