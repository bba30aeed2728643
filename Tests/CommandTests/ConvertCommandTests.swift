import Foundation
import Imaging
import MediaIO
import TestSupport
import Testing

/// End to end through the real binary: synth → convert → read back with ffprobe.
@Suite("thermocolor synth, convert, probe, palettes")
struct ConvertCommandTests {
    @Test("A synthetic 16-bit clip converts to H.264 MP4 with every frame, its size and duration")
    func synthThenConvert() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let clip = folder.file("clip.mkv")
        let synth = try runProcess(thermocolorBinary, ["synth", clip, "--frames", "45", "--size", "160x128", "--fps", "15"])
        #expect(synth.status == 0, "\(synth.error)")
        let source = try ffprobe(clip)
        #expect(source.codec == "ffv1")
        #expect(source.pixelFormat == "gray16le")
        #expect(source.frameCount == 45)

        let output = folder.file("colour.mp4")
        let preview = folder.file("preview.png")
        let convert = try runProcess(thermocolorBinary, ["convert", clip, output, "--palette", "ironbow", "--preview", preview, "--stats"])
        #expect(convert.status == 0, "\(convert.error)")
        #expect(convert.output.contains("45 frames"))
        #expect(convert.output.contains("stages: decode"))
        let probed = try ffprobe(output)
        #expect(probed.codec == "h264")
        #expect(probed.frameCount == 45)
        #expect(probed.width == 160 && probed.height == 128)
        #expect(abs((probed.duration ?? 0) - 3.0) < 0.15)
        let still = try ffprobe(preview)
        #expect(still.codec == "png" && still.width == 160)
    }

    @Test("Palettes change the colours: ironbow is not grey, white-hot is")
    func palettesColour() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let clip = folder.file("clip.mkv")
        try runProcess(thermocolorBinary, ["synth", clip, "--frames", "5", "--size", "64x48"])
        for (palette, expectGrey) in [("ironbow", false), ("white-hot", true)] {
            let output = folder.file("\(palette).mkv")
            let result = try runProcess(thermocolorBinary, ["convert", clip, output, "--palette", palette, "--codec", "ffv1", "-q"])
            #expect(result.status == 0, "\(result.error)")
            let frames = try #require(try ffmpegDecodeRGB(output, width: 64, height: 48))
            #expect(frames.count == 5)
            var chromaSpread = 0
            let pixels = frames[2]
            for i in stride(from: 0, to: pixels.count, by: 3) {
                let values = [Int(pixels[i]), Int(pixels[i + 1]), Int(pixels[i + 2])]
                chromaSpread = max(chromaSpread, values.max()! - values.min()!)
            }
            if expectGrey { #expect(chromaSpread <= 8) } else { #expect(chromaSpread > 60) }
        }
    }

    @Test("8-bit grey H.264 (a consumer camera's MP4) and PNG-16 sequences are inputs too")
    func otherInputs() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let eightBit = folder.file("consumer.mp4")
        #expect(try runProcess(thermocolorBinary, ["synth", eightBit, "--eight-bit", "--frames", "20", "--size", "96x64"]).status == 0)
        let fromEightBit = folder.file("a.mkv")
        let first = try runProcess(thermocolorBinary, ["convert", eightBit, fromEightBit, "--palette", "rainbow", "-q"])
        #expect(first.status == 0, "\(first.error)")
        #expect(try ffprobe(fromEightBit).frameCount == 20)

        let sequence = folder.file("png/frame_%04d.png")
        #expect(try runProcess(thermocolorBinary, ["synth", sequence, "--frames", "12", "--size", "96x64"]).status == 0)
        let fromSequence = folder.file("b.ts")
        let second = try runProcess(thermocolorBinary, ["convert", sequence, fromSequence, "--agc", "plateau", "-q"])
        #expect(second.status == 0, "\(second.error)")
        let probed = try ffprobe(fromSequence)
        #expect(probed.frameCount == 12)
        #expect(probed.container == "mpegts")
    }

    @Test("probe reports what the input holds")
    func probe() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let clip = folder.file("clip.mkv")
        try runProcess(thermocolorBinary, ["synth", clip, "--frames", "10", "--size", "80x60", "--fps", "10", "--bits", "14"])
        let result = try runProcess(thermocolorBinary, ["probe", clip, "--json"])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: String])
        #expect(object["size"] == "80x60")
        #expect(object["codec"] == "ffv1")
        #expect(object["pixel_format"] == "gray16le")
        #expect(object["frame_rate"] == "10.000")
    }

    @Test("palettes lists at least the twelve required maps and renders swatches")
    func palettesCommand() throws {
        let list = try runProcess(thermocolorBinary, ["palettes"])
        for name in ["white-hot", "black-hot", "ironbow", "rainbow", "rainbow-hc", "lava", "arctic",
                     "inferno", "magma", "plasma", "viridis", "turbo"] {
            #expect(list.output.contains(name), "missing \(name)")
        }
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let sheet = folder.file("palettes.png")
        #expect(try runProcess(thermocolorBinary, ["palettes", "--preview", sheet]).status == 0)
        #expect(try ffprobe(sheet).codec == "png")
    }
}

@Suite("Timing is kept")
struct TimingTests {
    /// Presentation times of every frame, as ffprobe reads them.
    func frameTimes(_ path: String) throws -> [Double] {
        let result = try runProcess("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pts_time",
                                                "-of", "csv=p=0", path])
        // One line per frame ("0.033333," when the frame has side data); blank lines between.
        return result.output.split(separator: "\n").compactMap { line in
            line.split(separator: ",").first.flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        }
    }

    @Test("A variable-frame-rate input keeps each frame's time")
    func variableFrameRate() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let input = folder.file("vfr.mkv")
        let times: [Int64] = [0, 40, 80, 200, 240, 500, 520, 540, 900, 1000]  // milliseconds
        let writer = try VideoWriter(input, width: 64, height: 48, timeBase: Rational(1, 1000), frameRate: nil,
                                     settings: EncoderSettings(codec: .ffv1), gray16: true)
        var synthesizer = try ThermalSceneSynthesizer(width: 64, height: 48)
        for time in times { try writer.write(.gray16(synthesizer.nextFrame()), pts: time) }
        try writer.finish()

        for container in ["mkv", "mp4"] {
            let output = folder.file("out.\(container)")
            let result = try runProcess(thermocolorBinary, ["convert", input, output, "-q"])
            #expect(result.status == 0, "\(result.error)")
            let written = try frameTimes(output)
            #expect(written.count == times.count)
            for (got, expected) in zip(written, times) {
                #expect(abs(got - Double(expected) / 1000) < 0.002, "\(container): frame at \(got) s, expected \(Double(expected) / 1000) s")
            }
        }
    }
}
