import ArgumentParser
import Imaging
import MediaIO
import Pipeline

/// Classic colourisation: gain control and palette.
struct ColorOptions: ParsableArguments {
    @Option(help: "Palette (see `thermocolor palettes`).")
    var palette = "ironbow"

    @Option(help: "Gain control for data deeper than 8 bits: linear, plateau or none.")
    var agc: GainControlMode = .linear

    @Option(help: "Fraction of pixels ignored at each end by linear gain control.")
    var tailRejection = 0.01

    @Option(help: "Plateau limit for plateau gain control, in multiples of the mean histogram bin.")
    var plateauLimit = 4.0

    @Option(help: "Temporal smoothing of the gain between frames, 0 (none) to 0.99.")
    var smoothing = 0.9

    @Flag(help: "Stretch the contrast of 8-bit input too (it passes through unchanged otherwise).")
    var stretch = false

    func settings() throws -> ClassicSettings {
        guard let chosen = Palette.named(palette) else {
            throw ValidationError("unknown palette '\(palette)'; choose one of: \(Palette.all.map(\.name).joined(separator: ", "))")
        }
        return ClassicSettings(palette: chosen, gainControl: agc, tailRejection: tailRejection,
                               plateauLimit: plateauLimit, smoothing: smoothing, stretchEightBit: stretch)
    }
}

/// Encoder and container.
struct EncodeOptions: ParsableArguments {
    @Option(help: "Video codec: h264 (default), hevc, ffv1, mjpeg.")
    var codec: VideoCodec = .h264

    @Option(help: "Quality for h264/hevc (lower is better; 23 and 28 by default). Ignored with --bitrate.")
    var crf: Int?

    @Option(help: "Target bitrate, e.g. 4M or 800k.")
    var bitrate: String?

    @Option(help: "x264/x265 speed preset, ultrafast … veryslow.")
    var preset = "veryfast"

    @Option(help: "H.264 encoder: software (libx264), auto (hardware if present, else libx264), vaapi, v4l2m2m or nvenc.")
    var encoder: EncoderAcceleration = .software

    @Option(help: "Container: mp4, mkv or ts (default: from the output's file name).")
    var format: String?

    @Flag(help: "Write a classic MP4 with the index at the end instead of crash-safe fragments.")
    var noFragments = false

    func encoderSettings() throws -> EncoderSettings {
        guard codec.isAvailable else {
            throw ValidationError("this FFmpeg build has no encoder for \(codec.rawValue)")
        }
        return EncoderSettings(codec: codec, crf: crf, bitrate: try bitrate.map(parseBitrate), preset: preset,
                               acceleration: encoder)
    }

    func outputOptions() throws -> OutputOptions {
        OutputOptions(format: try format.map(muxerName), fragmented: !noFragments)
    }
}

/// How to open the input, for raw video or unusual containers.
struct InputFormatOptions: ParsableArguments {
    @Option(help: "FFmpeg input format, e.g. rawvideo or image2 (default: probe).")
    var inputFormat: String?

    @Option(name: .customLong("input-option"), help: "FFmpeg input option KEY=VALUE, e.g. video_size=640x512 (repeatable).")
    var inputOptions: [String] = []

    func options(ioTimeout: Double? = nil, threads: Int = 0) throws -> InputOptions {
        var dictionary: [String: String] = [:]
        for pair in inputOptions {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw ValidationError("--input-option needs KEY=VALUE, got '\(pair)'")
            }
            dictionary[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        return InputOptions(format: inputFormat, options: dictionary, decoderThreads: threads, ioTimeout: ioTimeout)
    }
}

extension GainControlMode: ExpressibleByArgument {}
extension VideoCodec: ExpressibleByArgument {}

/// "4M", "800k", "2500000" → bits per second.
func parseBitrate(_ text: String) throws -> Int {
    let lower = text.lowercased()
    let multiplier: Double = lower.hasSuffix("m") ? 1e6 : lower.hasSuffix("k") ? 1e3 : 1
    let digits = multiplier == 1 ? lower : String(lower.dropLast())
    guard let value = Double(digits), value > 0 else { throw ValidationError("bitrate '\(text)' is not like 4M, 800k or 2500000") }
    return Int(value * multiplier)
}

/// Our short container names → FFmpeg's muxers.
func muxerName(_ format: String) throws -> String {
    switch format.lowercased() {
    case "mp4": return "mp4"
    case "mkv", "matroska": return "matroska"
    case "ts", "mpegts": return "mpegts"
    case "mov": return "mov"
    default: throw ValidationError("unknown container '\(format)'; use mp4, mkv or ts")
    }
}

/// "640x512" → (640, 512).
func parseSize(_ text: String) throws -> (width: Int, height: Int) {
    let parts = text.lowercased().split(separator: "x")
    guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]), width > 0, height > 0 else {
        throw ValidationError("size '\(text)' is not like 640x512")
    }
    return (width, height)
}
