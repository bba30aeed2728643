import Imaging
import MediaIO

/// Where a frame's thermal samples sit in a V4L2 buffer and how to read
/// them: 16-bit words into a `Gray16Image`, bytes into a `Gray8Image`
/// (8-bit frames are never widened).
///
/// Every raw format capture takes reduces to one of two sample kinds:
/// 16-bit little-endian words (Y16; the P2 Pro's temperature half) or one
/// byte out of every `stride` (GREY, the luma of YUYV/UYVY, the luma plane
/// of NV12 and the planar 4:2:0 formats), over a band of rows that skips
/// telemetry or a visible-image half. MJPEG has no rows to read: each
/// buffer holds one JPEG, which the capture session decodes with
/// libavcodec (`MJPEGDecoder`) and keeps only the luma of.
struct FrameExtraction: Sendable, Hashable {
    enum Sample: Sendable, Hashable {
        /// Two bytes per pixel, little-endian.
        case word16
        /// Byte `offset` of every `stride` bytes.
        case byte(stride: Int, offset: Int)
        /// A whole JPEG per buffer, of any length; its decoded luma.
        case jpeg

        var bytesPerPixel: Int {
            switch self {
            case .word16: 2
            case .byte(let stride, _): stride
            case .jpeg: 0
            }
        }
    }

    var sample: Sample
    /// Pixels per output row.
    var width: Int
    /// The first buffer row that holds image data.
    var firstRow: Int
    /// How many rows to read.
    var rows: Int
    /// How many low bits of each output sample carry data.
    var significantBits: Int

    /// What a row of this extraction occupies when the driver does not say.
    var packedBytesPerLine: Int { width * sample.bytesPerPixel }

    /// The bytes a buffer must hold for this extraction with rows
    /// `bytesPerLine` apart.
    func requiredBytes(bytesPerLine: Int) -> Int {
        guard rows > 0 else { return 0 }
        // A JPEG's length depends on the picture; whether the bytes are a
        // whole one is for the decoder to say.
        if sample == .jpeg { return 1 }
        return (firstRow + rows - 1) * bytesPerLine + packedBytesPerLine
    }

    /// Reads the image out of `bytes`, or nil when the buffer is too short
    /// (a frame the driver cut off) or holds a JPEG, which takes decoding.
    func extract(from bytes: UnsafeRawBufferPointer, bytesPerLine driverBytesPerLine: Int) -> ThermalSamples? {
        let bytesPerLine = max(driverBytesPerLine, packedBytesPerLine)
        guard sample != .jpeg, width > 0, rows > 0, bytes.count >= requiredBytes(bytesPerLine: bytesPerLine),
              let base = bytes.baseAddress else { return nil }
        let width = width, rows = rows, firstRow = firstRow
        switch sample {
        case .word16:
            let samples = [UInt16](unsafeUninitializedCapacity: width * rows) { output, count in
                for row in 0..<rows {
                    let rowStart = base + (firstRow + row) * bytesPerLine
                    for x in 0..<width {
                        output[row * width + x] = UInt16(littleEndian: rowStart.loadUnaligned(fromByteOffset: 2 * x, as: UInt16.self))
                    }
                }
                count = width * rows
            }
            return .sixteenBit(Gray16Image(width: width, height: rows, samples: samples))
        case .byte(let stride, let offset):
            let samples = [UInt8](unsafeUninitializedCapacity: width * rows) { output, count in
                for row in 0..<rows {
                    let rowBytes = (base + (firstRow + row) * bytesPerLine).assumingMemoryBound(to: UInt8.self)
                    for x in 0..<width { output[row * width + x] = rowBytes[x * stride + offset] }
                }
                count = width * rows
            }
            return .eightBit(Gray8Image(width: width, height: rows, samples: samples))
        case .jpeg:
            return nil
        }
    }

    /// The plain reading of `format`: every row, 16 bits for Y16 (with
    /// `y16SignificantBits` meaningful) and the 8-bit luma otherwise (of
    /// the decoded picture for MJPEG); nil for formats capture cannot read.
    static func standard(for format: VideoFormat, y16SignificantBits: Int) -> FrameExtraction? {
        let sample: Sample
        let bits: Int
        switch format.pixelFormat {
        case .y16:
            sample = .word16
            bits = y16SignificantBits
        case .grey, .nv12, .yuv420, .yvu420:
            sample = .byte(stride: 1, offset: 0)
            bits = 8
        case .yuyv:
            sample = .byte(stride: 2, offset: 0)
            bits = 8
        case .uyvy:
            sample = .byte(stride: 2, offset: 1)
            bits = 8
        case .mjpeg:
            sample = .jpeg
            bits = 8
        default:
            return nil
        }
        return FrameExtraction(sample: sample, width: format.width, firstRow: 0, rows: format.height, significantBits: bits)
    }

    /// The pixel formats `standard(for:)` reads, best for thermal work first:
    /// full-depth greyscale, then 8-bit greyscale, then the luma of the
    /// colour formats cameras fall back to, and last MJPEG, whose
    /// compression blurs fine temperature detail and whose decoding costs
    /// time on the capture thread.
    static let readableFormats: [PixelFormat] = [.y16, .grey, .yuyv, .uyvy, .nv12, .yuv420, .yvu420, .mjpeg]
}
