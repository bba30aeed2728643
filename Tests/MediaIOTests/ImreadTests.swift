import Foundation
import Imaging
import MediaIO
import TestSupport
import Testing

/// `ImageFile.readLikeImread` against the same steps done with the ffmpeg
/// tool: planes from `ffmpeg -idct faani`, then libjpeg's upsampling.
@Suite("Reading images as MATLAB's imread does")
struct ImreadTests {
    /// A colourful 37 × 23 picture (odd, so chroma sizes round up) written
    /// by the real ffmpeg: a JPEG, or whatever `path`'s extension says.
    private func makePicture(_ path: String, pixelFormat: String) throws {
        let result = try runProcess("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=40x30:rate=1",
                                               "-vf", "format=rgb24,crop=37:23:1:1", "-frames:v", "1",
                                               "-pix_fmt", pixelFormat, "-q:v", "3", path])
        #expect(result.status == 0, "\(result.error)")
    }

    private func ffmpegPlanes(_ path: String, pixelFormat: String) throws -> [UInt8] {
        let folder = try TemporaryFolder("planes")
        defer { folder.cleanup() }
        let raw = folder.file("planes.raw")
        let result = try runProcess("ffmpeg", ["-v", "error", "-idct", "faani", "-i", path, "-f", "rawvideo",
                                               "-pix_fmt", pixelFormat, raw])
        #expect(result.status == 0, "\(result.error)")
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: raw)))
    }

    @Test("4:2:0 and 4:2:2 JPEGs decode to libjpeg's RGB of the decoder's planes", arguments: [
        ("yuvj420p", 2, 2), ("yuvj422p", 2, 1), ("yuvj444p", 1, 1),
    ])
    func colourJPEG(pixelFormat: String, xFactor: Int, yFactor: Int) throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let path = folder.file("colour.jpg")
        try makePicture(path, pixelFormat: pixelFormat)
        let width = 37, height = 23
        let chromaWidth = (width + xFactor - 1) / xFactor, chromaHeight = (height + yFactor - 1) / yFactor
        let planes = try ffmpegPlanes(path, pixelFormat: pixelFormat)
        let lumaCount = width * height, chromaCount = chromaWidth * chromaHeight
        try #require(planes.count == lumaCount + 2 * chromaCount)
        let expected = try #require(JPEGPlanes(
            width: width, height: height, chromaWidth: chromaWidth, chromaHeight: chromaHeight,
            luma: Array(planes[0..<lumaCount]), cb: Array(planes[lumaCount..<(lumaCount + chromaCount)]),
            cr: Array(planes[(lumaCount + chromaCount)...]))).libjpegRGB()

        let image = try ImageFile.readLikeImread(path)
        #expect(image.channels == 3)
        #expect(image == expected.raster)
        if xFactor == 2 {
            // FFmpeg's own RGB repeats chroma, so it must differ somewhere.
            #expect(try ImageFile.readRGB(path).raster != image)
        }
    }

    // FFmpeg's JPEG encoder writes no grey JPEGs; the VIFB command test reads some.
    @Test("Grey pictures keep one channel (deep ones their top byte); colour PNGs read as FFmpeg's RGB")
    func greyAndPNG() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let grey = folder.file("grey.png")
        try makePicture(grey, pixelFormat: "gray")
        let greyImage = try ImageFile.readLikeImread(grey)
        #expect(greyImage.channels == 1 && greyImage.width == 37 && greyImage.height == 23)
        #expect(greyImage.samples == (try ffmpegPlanes(grey, pixelFormat: "gray")))

        let colour = RGBImage(width: 16, height: 12, channels: 3, samples: (0..<(16 * 12 * 3)).map { UInt8(($0 * 7) % 256) })
        let png = folder.file("colour.png")
        try ImageFile.writePNG(colour, to: png)
        #expect(try ImageFile.readLikeImread(png) == colour.raster)

        let deep = Gray16Image(width: 8, height: 8, samples: (0..<64).map { UInt16($0 * 1000) })
        let deepPNG = folder.file("deep.png")
        try ImageFile.writePNG(deep, to: deepPNG)
        let reduced = try ImageFile.readLikeImread(deepPNG)
        #expect(reduced.channels == 1)
        #expect(reduced.samples == deep.samples.map { UInt8($0 >> 8) })
    }

    @Test("A missing file is a one-line MediaError naming it")
    func missing() {
        #expect(throws: MediaError.self) { try ImageFile.readLikeImread("/nonexistent/picture.jpg") }
    }
}
