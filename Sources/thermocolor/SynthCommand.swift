import ArgumentParser
import Foundation
import Imaging
import MediaIO

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write a synthetic 16-bit thermal clip: warm objects moving over a cooler scene.",
        discussion: """
        The file name picks the form: .mkv (FFV1, lossless 16-bit grey), a PNG-16 sequence \
        such as 'frames/%05d.png', .y16/.raw (headerless gray16le), or .mp4 with --eight-bit \
        (8-bit grey H.264, like a consumer camera). The same seed always gives the same clip.
        """
    )

    @Argument(help: "Where to write the clip.")
    var output: String

    @Option(help: "Number of frames.")
    var frames = 150

    @Option(help: "Frame size, WIDTHxHEIGHT.")
    var size = "640x512"

    @Option(help: "Frames per second.")
    var fps = 30

    @Option(help: "Bits that carry data (14 for most radiometric cores).")
    var bits = 14

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @Flag(help: "Write 8-bit grey H.264 instead of 16-bit counts.")
    var eightBit = false

    func run() throws {
        let (width, height) = try parseSize(size)
        guard frames > 0 else { throw ValidationError("--frames must be positive") }
        guard (8...16).contains(bits) else { throw ValidationError("--bits must be 8–16") }
        guard fps > 0 else { throw ValidationError("--fps must be positive") }
        let lower = output.lowercased()
        let settings: EncoderSettings
        var outputOptions = OutputOptions()
        if eightBit {
            settings = EncoderSettings(codec: .h264, crf: 18, preset: "veryfast")
        } else if lower.hasSuffix(".png") {
            settings = EncoderSettings(codec: .png)
            outputOptions.format = "image2"
        } else if lower.hasSuffix(".y16") || lower.hasSuffix(".raw") {
            settings = EncoderSettings(codec: .rawvideo)
            outputOptions.format = "rawvideo"
        } else {
            settings = EncoderSettings(codec: .ffv1)
        }
        if lower.hasSuffix(".png"), output.contains("%") {
            let folder = (output as NSString).deletingLastPathComponent
            if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        }
        let writer = try VideoWriter(output, width: width, height: height, timeBase: Rational(1, Int32(fps)),
                                     frameRate: Rational(Int32(fps), 1), settings: settings, output: outputOptions,
                                     gray16: !eightBit)
        var synthesizer = try ThermalSceneSynthesizer(width: width, height: height, significantBits: bits, seed: seed)
        var gainControl = try AutomaticGainControl(mode: .linear, significantBits: bits)
        let whiteHot = Palette.named("white-hot")!
        var gray = Gray8Image(width: width, height: height, repeating: 0)
        var picture = YUV420Image(width: width, height: height)
        for index in 0..<frames {
            let frame = synthesizer.nextFrame()
            if eightBit {
                gainControl.map(frame, into: &gray)
                whiteHot.colorize(gray, into: &picture)
                try writer.write(.yuv420(picture), pts: Int64(index))
            } else {
                try writer.write(.gray16(frame), pts: Int64(index))
            }
        }
        try writer.finish()
        print("wrote \(output): \(frames) frames, \(width)×\(height), \(eightBit ? "8-bit grey H.264" : "\(bits)-bit counts"), \(fps) fps")
    }
}
