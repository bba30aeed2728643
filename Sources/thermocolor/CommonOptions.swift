import ArgumentParser
import Foundation
import Imaging
import Inference
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

/// A neural colouriser or fuser from a model bundle.
struct NeuralOptions: ParsableArguments {
    @Option(help: "A model bundle folder (model.json + model.onnx or model.xml); see docs/MODELS.md.")
    var model: String?

    @Option(help: "Scene description for text-guided models (needs a baked embedding or --clip).")
    var prompt: String?

    @Option(help: "The prompt's embedding as a JSON array of floats (or raw f32), instead of --prompt.")
    var embedding: String?

    @Option(help: "A CLIP text-encoder bundle for prompts the model bundle has no embedding for (cached on disk).")
    var clip: String?

    @Option(help: "Frames per inference (default: 1 on CPU, where batches gain nothing and add latency; 8 elsewhere).")
    var batch: Int?

    /// On CPUs a batch runs no faster per frame than single frames with two
    /// requests in flight (Benchmarks/neural.sh); GPUs and NPUs want batches.
    var framesPerInference: Int { batch ?? (device.uppercased() == "CPU" ? 1 : 8) }

    @Option(help: "Longest wait for a batch to fill, in milliseconds (live runs).")
    var batchWait = 10.0

    @Option(help: "OpenVINO device: CPU, GPU or AUTO.")
    var device = "CPU"

    @Option(help: "Inference precision hint, e.g. f32 (CPUs with bf16 otherwise use bf16).")
    var precision: String?

    @Option(help: "Infer requests in flight, so preparation and inference overlap.")
    var requests = 2

    func validate() throws {
        guard model != nil || (prompt == nil && embedding == nil) else {
            throw ValidationError("--prompt and --embedding need --model")
        }
        guard prompt == nil || embedding == nil else { throw ValidationError("give --prompt or --embedding, not both") }
        guard (batch ?? 1) >= 1 else { throw ValidationError("--batch must be at least 1") }
        guard requests >= 1 else { throw ValidationError("--requests must be at least 1") }
    }

    /// The stage, or nil for the classic colouriser.
    func stage(classic: ClassicSettings, visible: VisibleFeed? = nil, homography: Homography? = nil,
               reference: RGBImage? = nil, onVisibleChange: @escaping @Sendable (Bool) -> Void = { _ in }) throws -> NeuralStage? {
        guard let model else { return nil }
        let bundle = try ModelBundle(folder: URL(fileURLWithPath: model))
        let cache = try clip.map { try makeEmbeddingCache(clip: $0, merges: nil, cacheFolder: nil, noCache: false, device: "CPU") }
        // Baked embeddings first (a deployed device needs no text encoder), then CLIP through the cache.
        let resolve: @Sendable (String) throws -> [Float] = { prompt in
            if let baked = bundle.embedding(forPrompt: prompt) { return baked }
            guard let cache else { return try bundle.textEmbedding(prompt: prompt, file: nil) ?? [] }
            let vector = try cache.embedding(for: prompt)
            guard vector.count == bundle.textDimension else {
                throw ValidationError("the CLIP bundle gives \(vector.count) values per prompt, the model takes \(bundle.textDimension ?? 0)")
            }
            return vector
        }
        let text = try prompt.map(resolve) ?? bundle.textEmbedding(prompt: nil, file: embedding.map { URL(fileURLWithPath: $0) })
        let network = try NeuralColorizer(bundle: bundle, device: device, precision: precision,
                                          maxBatch: framesPerInference, inflightRequests: requests)
        return NeuralStage(network: network, gain: try ClassicColorizer(settings: classic), text: text,
                           visible: visible, homography: homography, reference: reference,
                           promptResolver: bundle.textDimension == nil ? nil : resolve, onVisibleChange: onVisibleChange)
    }
}

/// A visible camera to fuse with, or a colour reference to borrow from.
struct FusionOptions: ParsableArguments {
    @Option(help: "A visible video, image or stream aligned with the thermal input, to fuse with.")
    var visible: String?

    @Option(help: "Fusion method: pyramid (default), guided, weighted or max.")
    var fuse: FusionMethod = .pyramid

    @Option(help: "Registration file from `thermocolor calibrate` mapping the visible image onto the thermal grid.")
    var homography: String?

    @Option(help: "Seconds added to the visible stream's timestamps before pairing.")
    var visibleOffset = 0.0

    @Option(help: "Largest time difference, in seconds, still counted as a thermal/visible pair.")
    var pairTolerance = 0.05

    @Option(help: "A colour image (a daylight picture of the scene) whose colours the thermal frames borrow.")
    var reference: String?

    @Option(help: "Luminance regions for reference colour transfer (1 = global).")
    var referenceRegions = 3

    func validate() throws {
        guard visible == nil || reference == nil else { throw ValidationError("give --visible or --reference, not both") }
        guard pairTolerance >= 0 else { throw ValidationError("--pair-tolerance must not be negative") }
        guard referenceRegions >= 1 else { throw ValidationError("--reference-regions must be at least 1") }
    }

    var pairing: PairingOptions { PairingOptions(offset: visibleOffset, tolerance: pairTolerance) }

    func loadHomography() throws -> Homography? {
        guard let homography else { return nil }
        do {
            return try Homography(contentsOf: URL(fileURLWithPath: homography))
        } catch {
            throw ValidationError("cannot read the registration file '\(homography)': \(error)")
        }
    }

    func loadReference() throws -> RGBImage? {
        try reference.map { try ImageFile.readRGB($0) }
    }
}

extension FusionMethod: ExpressibleByArgument {}

extension FusionOptions {
    /// The colouring stage the options ask for, in this order: neural (with
    /// the visible feed or reference when given), fusion with `visibleFeed`,
    /// reference colour, or nil for the palette.
    /// - Parameter onVisibleChange: told when visible frames stop or start pairing again.
    func colorizer(classic: ClassicSettings, neural: NeuralOptions, visibleFeed: VisibleFeed?,
                   onVisibleChange: @escaping @Sendable (Bool) -> Void) throws -> FrameColorizer? {
        let reference = try loadReference()
        if let stage = try neural.stage(classic: classic, visible: visibleFeed, homography: try loadHomography(),
                                        reference: reference, onVisibleChange: onVisibleChange) {
            return stage
        }
        if let visibleFeed {
            return FusionStage(gain: try ClassicColorizer(settings: classic), visible: visibleFeed, method: fuse,
                               homography: try loadHomography(), onVisibleChange: onVisibleChange)
        }
        if let reference {
            return try ReferenceStage(gain: try ClassicColorizer(settings: classic), reference: reference, regions: referenceRegions)
        }
        return nil
    }
}

/// Still images, by file name: these take the single-picture path in convert.
func isStillImage(_ path: String) -> Bool {
    let lower = path.lowercased()
    return !lower.contains("%") && [".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"].contains { lower.hasSuffix($0) }
}
