import Foundation
import Imaging
import MediaIO
import TestSupport
import Testing

@Suite("MJPEG frames decode as FFmpeg decodes them, and damaged ones fail cleanly")
struct MJPEGDecoderTests {
    @Test("Luma matches ffmpeg's own decode exactly", arguments: ["yuvj420p", "yuvj422p", "yuvj444p"])
    func lumaMatchesFFmpeg(pixelFormat: String) throws {
        let jpegs = try ffmpegJPEGFrames(width: 96, height: 64, count: 3, pixelFormat: pixelFormat)
        let decoder = try MJPEGDecoder(source: "test")
        for jpeg in jpegs {
            let luma = try decoder.decodeLuma(jpeg)
            #expect(luma.width == 96 && luma.height == 64 && luma.channels == 1)
            let expected = try ffmpegDecodeJPEGLuma(jpeg, width: 96, height: 64)
            #expect(luma.samples == expected)
        }
        // The frames differ (testsrc's counter moves), so no stale picture passed.
        let first = try decoder.decodeLuma(jpegs[0])
        #expect(try decoder.decodeLuma(jpegs[1]) != first)
    }

    @Test("RGB is close to ffmpeg's conversion of the same JPEG")
    func rgbMatchesFFmpeg() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let jpeg = try ffmpegJPEGFrames(width: 80, height: 60, count: 1, pixelFormat: "yuvj444p")[0]
        let path = folder.file("frame.jpg")
        try Data(jpeg).write(to: URL(fileURLWithPath: path))
        let expected = try #require(try ffmpegDecodeRGB(path, width: 80, height: 60)?.first)
        let rgb = try MJPEGDecoder().decodeRGB(jpeg)
        #expect(rgb.width == 80 && rgb.height == 60 && rgb.channels == 3)
        // Both go through libswscale, possibly with other scaler flags; 4:4:4
        // leaves no chroma to interpolate, so only rounding may differ.
        let largest = zip(rgb.samples, expected).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(largest <= 2)
    }

    @Test("Cut-short, empty and foreign bytes are one-line errors; the next good frame decodes")
    func damagedFrames() throws {
        let jpegs = try ffmpegJPEGFrames(width: 64, height: 48, count: 1)
        let good = jpegs[0]
        let decoder = try MJPEGDecoder(source: "/dev/video0")
        let reference = try decoder.decodeLuma(good)

        let scanStart = try #require(markerOffset(0xDA, in: good))
        let damaged: [(String, [UInt8])] = [
            ("empty", []),
            ("not a JPEG", Array("GIF89a not a jpeg at all".utf8)),
            ("cut in half", Array(good.prefix(good.count / 2))),
            ("cut one byte short", Array(good.dropLast())),
            ("scan cut short, EOI appended", Array(good.prefix((scanStart + good.count) / 2)) + [0xFF, 0xD9]),
            ("headers only", Array(good.prefix(scanStart)) + [0xFF, 0xD9]),
            ("scan overwritten", scribbled(good, from: scanStart + 20, to: good.count - 2)),
        ]
        for (label, bytes) in damaged {
            let error = #expect(throws: MediaError.self, "\(label)") { try decoder.decodeLuma(bytes) }
            #expect(error?.location == "/dev/video0")
            #expect(error?.description.hasPrefix("cannot decode '/dev/video0': ") == true)
            #expect(error?.description.contains("\n") == false)
            // Nothing of the bad frame lingers.
            #expect(try decoder.decodeLuma(good) == reference, "after \(label)")
        }
        #expect(throws: MediaError("cannot decode", "/dev/video0", reason: "the JPEG is cut short (no end-of-image marker)")) {
            try decoder.decodeLuma(Array(good.prefix(good.count / 2)))
        }
    }

    @Test("Zero padding after the end-of-image marker is accepted, as cameras pad buffers")
    func paddedFrame() throws {
        let jpeg = try ffmpegJPEGFrames(width: 64, height: 48, count: 1)[0]
        let decoder = try MJPEGDecoder()
        #expect(try decoder.decodeLuma(jpeg + [UInt8](repeating: 0, count: 300)) == decoder.decodeLuma(jpeg))
    }

    @Test("Random bytes between valid markers never crash", arguments: [1, 2, 3, 4, 5, 6])
    func randomBytes(seed: UInt64) throws {
        let jpeg = try ffmpegJPEGFrames(width: 32, height: 32, count: 1)[0]
        let decoder = try MJPEGDecoder()
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        for _ in 0..<20 {
            var bytes = jpeg
            // Flip a handful of bytes anywhere, headers included.
            for _ in 0..<8 {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17
                let index = 2 + Int(state % UInt64(bytes.count - 4))
                bytes[index] = UInt8(truncatingIfNeeded: state >> 32)
            }
            do {
                let image = try decoder.decodeLuma(bytes)
                #expect(image.samples.count == image.width * image.height)
            } catch let error as MediaError {
                #expect(error.operation == "cannot decode")
            }
        }
    }

    /// Where the first `FF marker` segment starts.
    private func markerOffset(_ marker: UInt8, in bytes: [UInt8]) -> Int? {
        (0..<(bytes.count - 1)).first { bytes[$0] == 0xFF && bytes[$0 + 1] == marker }
    }

    /// `bytes` with `start..<end` filled with a fixed pseudo-random pattern.
    private func scribbled(_ bytes: [UInt8], from start: Int, to end: Int) -> [UInt8] {
        var result = bytes
        var state: UInt32 = 0x1234_5678
        for index in start..<end {
            state = state &* 1_664_525 &+ 1_013_904_223
            result[index] = UInt8(truncatingIfNeeded: state >> 24)
        }
        return result
    }
}
