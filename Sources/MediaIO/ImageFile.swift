import Foundation
import Imaging

/// Single still images (PNG, JPEG, TIFF… whatever FFmpeg reads), for
/// previews, references, image-pair fusion and contact sheets.
package enum ImageFile {
    /// Reads the first picture of `path` as RGB.
    package static func readRGB(_ path: String) throws -> RGBImage {
        let reader = try VideoReader(path)
        guard let frame = try reader.nextColorFrame() else {
            throw MediaError("cannot read", path, reason: "no picture in the file")
        }
        return frame.image
    }

    /// Reads the first picture of `path` as grey counts (16-bit PNGs keep their depth).
    package static func readThermal(_ path: String) throws -> ThermalFrame {
        let reader = try VideoReader(path)
        guard let frame = try reader.nextThermalFrame() else {
            throw MediaError("cannot read", path, reason: "no picture in the file")
        }
        return frame
    }

    /// Writes `image` as an 8-bit RGB PNG, replacing any file there.
    package static func writePNG(_ image: RGBImage, to path: String) throws {
        try write(.rgb(image), to: path)
    }

    /// Writes `image` as a 16-bit grey PNG.
    package static func writePNG(_ image: Gray16Image, to path: String) throws {
        try write(.gray16(image), to: path)
    }

    private static func write(_ picture: EncoderPicture, to path: String) throws {
        var gray16 = false
        if case .gray16 = picture { gray16 = true }
        let writer = try VideoWriter(path, width: picture.width, height: picture.height, timeBase: Rational(1, 25),
                                     frameRate: Rational(25, 1), settings: EncoderSettings(codec: .png),
                                     output: OutputOptions(format: "image2", muxerOptions: ["update": "1"]), gray16: gray16)
        try writer.write(picture, pts: 0)
        try writer.finish()
    }
}
