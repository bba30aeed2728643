internal import CFFmpeg
import Foundation
import Imaging

extension ImageFile {
    /// Reads the first picture of `path` as 8-bit samples with the pixel
    /// values MATLAB's `imread` gives, for metrics that must match results
    /// computed in MATLAB (the VIFB benchmark's, for one).
    ///
    /// JPEG colour pictures are decoded to their Y, Cb, Cr planes with
    /// FFmpeg's floating-point AAN IDCT (the one closest to libjpeg's output
    /// on VIFB's images) and then upsampled and converted exactly as libjpeg
    /// does (``JPEGPlanes/libjpegRGB()``); FFmpeg's own RGB conversion
    /// repeats chroma samples instead and moves gradient metrics by up to
    /// 20 %. Grey pictures, JPEG or not, come back with one channel (deeper
    /// ones reduced to their top 8 bits), as `imread` returns them; anything
    /// else comes back as FFmpeg's RGB.
    package static func readLikeImread(_ path: String) throws -> Raster<UInt8> {
        let reader = try VideoReader(path, options: InputOptions(decoderOptions: ["idct": "faani"]))
        if reader.info.isGray {
            guard let frame = try reader.nextThermalFrame() else {
                throw MediaError("cannot read", path, reason: "no picture in the file")
            }
            switch frame.samples {
            case .eightBit(let bytes):
                return bytes
            case .sixteenBit(let counts):
                let shift = UInt16(max(0, frame.significantBits - 8))
                return Gray8Image(width: counts.width, height: counts.height, samples: counts.samples.map { UInt8(clamping: $0 >> shift) })
            }
        }
        if reader.info.codec == "mjpeg", planarFormats.contains(reader.info.pixelFormat) {
            guard let planes = try reader.withNextDecodedFrame({ try jpegPlanes(of: $0, path: path) }) else {
                throw MediaError("cannot read", path, reason: "no picture in the file")
            }
            return planes.libjpegRGB().raster
        }
        guard let frame = try reader.nextColorFrame() else {
            throw MediaError("cannot read", path, reason: "no picture in the file")
        }
        return frame.image.raster
    }

    /// The 8-bit planar YCbCr layouts of JPEG pictures, by FFmpeg's names.
    private static let planarFormats: Set<String> = [
        "yuvj420p", "yuvj422p", "yuvj444p", "yuvj440p", "yuv420p", "yuv422p", "yuv444p", "yuv440p",
    ]

    /// The decoder's planes of `frame`.
    private static func jpegPlanes(of frame: UnsafeMutablePointer<AVFrame>, path: String) throws -> JPEGPlanes {
        let format = AVPixelFormat(frame.pointee.format)
        guard planarFormats.contains(format.name), let descriptor = av_pix_fmt_desc_get(format) else {
            throw MediaError("cannot read", path, reason: "the JPEG decoder gave \(format.name), not planar YCbCr")
        }
        let width = Int(frame.pointee.width), height = Int(frame.pointee.height)
        let xShift = Int(descriptor.pointee.log2_chroma_w), yShift = Int(descriptor.pointee.log2_chroma_h)
        // FFmpeg's AV_CEIL_RSHIFT: odd sizes round the chroma size up.
        let chromaWidth = (width + (1 << xShift) - 1) >> xShift
        let chromaHeight = (height + (1 << yShift) - 1) >> yShift
        func copy(_ plane: UnsafeMutablePointer<UInt8>?, stride: Int32, width: Int, height: Int) -> [UInt8] {
            plane.map { unpaddedBytes(of: $0, stride: Int(stride), rowBytes: width, rows: height) } ?? []
        }
        let planes = JPEGPlanes(
            width: width, height: height, chromaWidth: chromaWidth, chromaHeight: chromaHeight,
            luma: copy(frame.pointee.data.0, stride: frame.pointee.linesize.0, width: width, height: height),
            cb: copy(frame.pointee.data.1, stride: frame.pointee.linesize.1, width: chromaWidth, height: chromaHeight),
            cr: copy(frame.pointee.data.2, stride: frame.pointee.linesize.2, width: chromaWidth, height: chromaHeight))
        guard let planes else {
            throw MediaError("cannot read", path, reason: "the decoder gave chroma planes of an unexpected size")
        }
        return planes
    }
}
