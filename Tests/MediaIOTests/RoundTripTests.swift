import Foundation
import Imaging
import MediaIO
import TestSupport
import Testing

/// A deterministic 16-bit ramp that changes with the frame index.
func rampFrame(width: Int, height: Int, index: Int, bits: Int = 14) -> Gray16Image {
    let maximum = (1 << bits) - 1
    var image = Gray16Image(width: width, height: height, repeating: 0)
    for y in 0..<height {
        for x in 0..<width {
            image[x, y] = UInt16((x * 37 + y * 11 + index * 101) % (maximum + 1))
        }
    }
    return image
}

@Suite("Round trips through real FFmpeg")
struct RoundTripTests {
    @Test("16-bit grey survives FFV1 in Matroska exactly, with its timestamps")
    func ffv1RoundTrip() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let path = folder.file("clip.mkv")
        let writer = try VideoWriter(path, width: 64, height: 48, timeBase: Rational(1, 30), frameRate: Rational(30, 1),
                                     settings: EncoderSettings(codec: .ffv1), gray16: true)
        for index in 0..<10 {
            try writer.write(.gray16(rampFrame(width: 64, height: 48, index: index)), pts: Int64(index))
        }
        try writer.finish()

        let reader = try VideoReader(path)
        #expect(reader.info.codec == "ffv1")
        #expect(reader.info.width == 64 && reader.info.height == 48)
        #expect(reader.info.pixelFormat == "gray16le")
        var count = 0
        var lastSeconds = -1.0
        while let frame = try reader.nextThermalFrame() {
            #expect(frame.image == rampFrame(width: 64, height: 48, index: count))
            #expect(abs(frame.seconds - Double(count) / 30) < 0.002)
            #expect(frame.seconds > lastSeconds)
            lastSeconds = frame.seconds
            count += 1
        }
        #expect(count == 10)
        let probed = try ffprobe(path)
        #expect(probed.frameCount == 10)
        #expect(probed.pixelFormat == "gray16le")
    }

    @Test("A PNG-16 sequence reads back in order with its depth")
    func pngSequence() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let pattern = folder.file("frame_%04d.png")
        let writer = try VideoWriter(pattern, width: 32, height: 24, timeBase: Rational(1, 25), frameRate: Rational(25, 1),
                                     settings: EncoderSettings(codec: .png), output: OutputOptions(format: "image2"), gray16: true)
        for index in 0..<5 { try writer.write(.gray16(rampFrame(width: 32, height: 24, index: index, bits: 16)), pts: Int64(index)) }
        try writer.finish()
        #expect(FileManager.default.fileExists(atPath: folder.file("frame_0001.png")))

        let reader = try VideoReader(pattern)
        #expect(reader.info.significantBits == 16)
        var count = 0
        while let frame = try reader.nextThermalFrame() {
            #expect(frame.image == rampFrame(width: 32, height: 24, index: count, bits: 16))
            count += 1
        }
        #expect(count == 5)
    }

    @Test("Raw gray16le video opens with its size and rate as input options")
    func rawVideo() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let path = folder.file("clip.y16")
        var data = Data()
        for index in 0..<4 {
            rampFrame(width: 16, height: 8, index: index).samples.withUnsafeBytes { data.append(contentsOf: $0) }
        }
        try data.write(to: URL(fileURLWithPath: path))
        let reader = try VideoReader(path, options: InputOptions(
            format: "rawvideo", options: ["video_size": "16x8", "pixel_format": "gray16le", "framerate": "9"]))
        var frames: [ThermalFrame] = []
        while let frame = try reader.nextThermalFrame() { frames.append(frame) }
        #expect(frames.count == 4)
        #expect(frames.last?.image == rampFrame(width: 16, height: 8, index: 3))
        #expect(abs((frames.last?.seconds ?? 0) - 3.0 / 9) < 0.01)
    }

    @Test("Colour pictures encode to fragmented H.264 MP4 that ffprobe reads fully")
    func h264FragmentedMP4() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let path = folder.file("colour.mp4")
        let writer = try VideoWriter(path, width: 96, height: 64, timeBase: Rational(1, 25), frameRate: Rational(25, 1))
        var rgb = RGBImage(width: 96, height: 64, channels: 3, repeating: 0)
        for index in 0..<50 {
            for i in 0..<(96 * 64) { rgb.samples[i * 3] = UInt8((i + index * 5) % 256); rgb.samples[i * 3 + 2] = 200 }
            try writer.write(.rgb(rgb), pts: Int64(index))
        }
        try writer.finish()
        let probed = try ffprobe(path)
        #expect(probed.codec == "h264")
        #expect(probed.frameCount == 50)
        #expect(probed.width == 96 && probed.height == 64)
        #expect(probed.pixelFormat == "yuv420p")
        #expect(abs((probed.duration ?? 0) - 2.0) < 0.1)
        // Fragmented: a 'moof' box follows the initial 'moov'.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(bytes.range(of: Data("moof".utf8)) != nil)
    }

    @Test("Each codec writes a stream ffprobe recognises", arguments: [VideoCodec.h264, .ffv1, .mjpeg, .hevc])
    func codecs(codec: VideoCodec) throws {
        guard codec.isAvailable else {
            print("skipping \(codec.rawValue): this FFmpeg build has no encoder for it")
            return
        }
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let path = folder.file("clip.mkv")
        let writer = try VideoWriter(path, width: 64, height: 64, timeBase: Rational(1, 10), frameRate: Rational(10, 1),
                                     settings: EncoderSettings(codec: codec))
        for index in 0..<12 { try writer.write(.yuv420(YUV420Image(width: 64, height: 64)), pts: Int64(index)) }
        try writer.finish()
        let probed = try ffprobe(path)
        #expect(probed.codec == (codec == .h264 ? "h264" : codec.rawValue))
        #expect(probed.frameCount == 12)
    }

    @Test("A single PNG round-trips RGB exactly")
    func pngStill() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        var image = RGBImage(width: 7, height: 5, channels: 3, repeating: 0)
        for i in 0..<image.samples.count { image.samples[i] = UInt8((i * 29) % 256) }
        try ImageFile.writePNG(image, to: folder.file("still.png"))
        #expect(try ImageFile.readRGB(folder.file("still.png")) == image)
    }
}

@Suite("Streams that change picture size mid-way")
struct SizeChangeTests {
    /// An MPEG-TS clip of `frames` RGB frames, at `size`, made by the real ffmpeg.
    private func clip(_ path: String, size: String, frames: Int) throws {
        let result = try runProcess("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=\(size):rate=10",
                                               "-frames:v", "\(frames)", "-c:v", "libx264", "-pix_fmt", "yuv444p",
                                               "-f", "mpegts", path])
        #expect(result.status == 0, "\(result.error)")
    }

    private func colorFrames(_ path: String) throws -> [RGBImage] {
        let reader = try VideoReader(path)
        var images: [RGBImage] = []
        while let frame = try reader.nextColorFrame() { images.append(frame.image) }
        return images
    }

    @Test("After a size change, frames convert at the new size exactly as the second clip alone does")
    func sizeChange() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let small = folder.file("small.ts"), large = folder.file("large.ts"), joined = folder.file("joined.ts")
        try clip(small, size: "64x48", frames: 5)
        try clip(large, size: "96x80", frames: 5)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: small))
        bytes.append(try Data(contentsOf: URL(fileURLWithPath: large)))
        try bytes.write(to: URL(fileURLWithPath: joined))

        let frames = try colorFrames(joined)
        #expect(frames.map(\.width) == [64, 64, 64, 64, 64, 96, 96, 96, 96, 96])
        #expect(frames.allSatisfy { $0.samples.count == $0.width * $0.height * 3 })
        #expect(Array(frames.suffix(5)) == (try colorFrames(large)))
        #expect(Array(frames.prefix(5)) == (try colorFrames(small)))
    }
}
