import ArgumentParser
import Foundation
import Imaging
import MediaIO
import Outputs
import Pipeline

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Colourise a recorded thermal video (or image sequence) into a new video.",
        discussion: """
        INPUT is anything FFmpeg reads: an 8-bit grey MP4, a 16-bit FFV1 or raw recording, \
        a PNG-16 sequence such as 'frames/%05d.png'. OUTPUT's extension picks the container \
        (.mp4, .mkv, .ts) unless --format says otherwise. MP4 output is fragmented, so a file \
        cut off by a crash still plays up to its last second. OUTPUT may also be a folder/ \
        (segmented recording) or a stream URL; --output adds more outputs from the same encode \
        (see docs/OUTPUTS.md).
        """
    )

    @Argument(help: "The thermal video to read.")
    var input: String

    @Argument(help: "The colour video to write.")
    var output: String

    @OptionGroup(title: "Colour") var color: ColorOptions
    @OptionGroup(title: "Encoding") var encode: EncodeOptions
    @OptionGroup(title: "Input") var inputFormat: InputFormatOptions
    @OptionGroup(title: "Neural models") var neural: NeuralOptions
    @OptionGroup(title: "Fusion and reference colour") var fusion: FusionOptions
    @OptionGroup(title: "More outputs") var more: MoreOutputOptions
    @OptionGroup(title: "Segmented recording") var recording: RecordingOptions

    @Option(help: "Also write one colourised frame (from the middle) as a PNG here.")
    var preview: String?

    @Option(help: "Seconds a network input may stay silent before the conversion gives up.")
    var readTimeout = 15.0

    @Option(help: "Seconds a network output waits for its peer to answer before giving up (its frames then count as lost).")
    var connectTimeout = NetworkPolicy.offline.connectTimeout ?? 15

    @Flag(help: "Print the time each stage spends per frame at the end.")
    var stats = false

    @Flag(name: .shortAndLong, help: "No progress bar and no summary.")
    var quiet = false

    func validate() throws {
        try validateReadTimeout(readTimeout)
        _ = try stageRecipe(color: color, neural: neural, fusion: fusion)
    }

    func run() throws {
        if isStillImage(input) && isStillImage(output) {
            try convertStill()
            return
        }
        let outputOptions = try encode.outputOptions()
        var request = ConversionRequest(
            // A network input that goes silent ends the conversion instead of hanging it.
            input: input, output: output, inputOptions: try inputFormat.options(ioTimeout: input.contains("://") ? readTimeout : nil),
            outputOptions: outputOptions, encoder: try encode.encoderSettings(),
            classic: try color.settings(), previewPath: preview, moreOutputs: try more.targets(format: outputOptions.format))
        request.recording = try recording.policy()
        request.segmentFiles = recording.segment != nil
        request.otherInputs = [fusion.visible, fusion.reference].compactMap { $0 }
        guard connectTimeout > 0, connectTimeout.isFinite else { throw ValidationError("--connect-timeout must be more than 0 seconds") }
        request.network.connectTimeout = connectTimeout
        do { _ = try recording.apply(to: request.targets()) } catch let error as OutputTargetError {
            throw ValidationError(error.description)
        }
        let colorizer = try stage(classic: request.classic)
        let conversion = try Conversion(request, colorizer: colorizer, onOutputEvent: reportOutputEvent)
        let progress = ProgressLine(total: conversion.reader.info.frameCount, enabled: !quiet && isatty(STDERR_FILENO) == 1)
        conversion.pipeline.onFrameWritten = { statistics in
            progress.update(frames: statistics.framesWritten, seconds: statistics.elapsedSeconds)
        }
        let signals = StopSignals { _ in conversion.stop() }
        defer { withExtendedLifetime(signals) {} }
        let summary: ConversionSummary
        do {
            summary = try conversion.run()
        } catch {
            progress.clear()
            throw error
        }
        progress.clear()
        let info = summary.input
        if !quiet {
            let main = summary.outputs.first
            var line = "wrote \(output): \(frameCount(main, summary: summary)), \(info.width)×\(info.height), \(encode.codec.rawValue), "
                + "\(formatBytes(summary.bytesWritten)) in \(String(format: "%.1f", summary.seconds)) s "
                + "(\(String(format: "%.1f", summary.framesPerSecond)) fps)"
            if let main, main.segmentsStarted > 0 { line += " in \(main.segmentsStarted) segments" }
            if let main, main.packetsDropped > 0 { line += ", \(main.packetsDropped) dropped" }
            if summary.corruptPackets > 0 { line += "; skipped \(summary.corruptPackets) corrupt packets" }
            print(line)
            for status in summary.outputs.dropFirst() { print("also wrote " + describe(status)) }
            if let preview { print("preview: \(preview)") }
            if stats { print("stages: \(summary.stageSummary)") }
            if let note = defaultPromptNote(colorizer) { print(note) }
        }
        try checkOutcome(summary, signal: signals.signalReceived)
    }

    /// "90 of 90 frames" from the output's own count.
    private func frameCount(_ status: OutputStatus?, summary: ConversionSummary) -> String {
        guard let status else { return "\(summary.framesWritten) frames" }
        return "\(status.packetsWritten) of \(status.framesOffered) frames"
    }

    /// The exit status tells the truth (see `ExitStatus`): an interrupted run,
    /// an output that missed frames, a truncated input each say so in one line
    /// and exit non-zero, whatever `--quiet` says.
    private func checkOutcome(_ summary: ConversionSummary, signal: Int32?) throws {
        if let signal {
            let total = summary.input.frameCount.map { " of \($0)" } ?? ""
            printError("interrupted after \(summary.framesWritten)\(total) frames; what was written is closed and playable")
            throw ExitCode(ExitStatus.interrupted(by: signal))
        }
        let incomplete = summary.incompleteOutputs
        for status in incomplete {
            let why = status.lastError.map { ": \($0)" } ?? ""
            printError("\(status.target) got \(status.packetsWritten) of \(status.framesOffered) frames\(why)")
        }
        if let early = summary.inputEndedEarly {
            printError("input ended early at frame \(summary.framesWritten) (\(early)); what was read is written and closed")
        }
        if !incomplete.isEmpty { throw ExitCode(ExitStatus.incompleteOutput) }
        if summary.inputEndedEarly != nil { throw ExitCode(ExitStatus.inputEndedEarly) }
    }
}

extension ConvertCommand {
    /// For a text-guided colouriser run without a prompt: which prompt it used.
    /// Its default can only guess the scene's time of day and sky, which a
    /// thermal frame does not show, and a prompt that says them colours
    /// better (road-colorizer's card: by over a decibel on its validation
    /// split). A fuser sees the visible camera, so it gets no such note.
    func defaultPromptNote(_ stage: FrameColorizer?) -> String? {
        guard neural.prompt == nil, neural.embedding == nil,
              let bundle = (stage as? NeuralStage)?.network.bundle, bundle.textDimension != nil,
              bundle.tensors.visible == nil, let prompt = bundle.defaultPrompt else { return nil }
        return "prompt: the model's default, \"\(prompt)\"; --prompt can say what the scene looks like "
            + "(time of day, sky, trees), which a thermal frame does not show"
    }

    /// The colouring stage the options ask for: neural, fusion, reference, or nil for the palette.
    func stage(classic: ClassicSettings) throws -> FrameColorizer? {
        var recipe = try stageRecipe(color: color, neural: neural, fusion: fusion)
        recipe.classic = classic
        let visible = fusion.visible ?? ""
        return try recipe.makeStage(reading: .offline) { available in
            printError(available ? "visible frames from \(visible) pair again; fusing"
                                 : "no visible frame from \(visible) pairs here; colouring thermal only")
        }
    }

    /// One picture in, one picture out: image pairs for fusion, stills for palettes.
    func convertStill() throws {
        guard output.lowercased().hasSuffix(".png") else {
            throw ValidationError("a single picture is written as PNG; name the output .png")
        }
        try InputOverwriteGuard.check(inputs: [input, fusion.visible, fusion.reference].compactMap { $0 }, outputs: [output])
        let classic = try color.settings()
        let frame = try ImageFile.readThermal(input)
        let gain = try ClassicColorizer(settings: classic)
        let picture: RGBImage
        var note: String?
        if let visiblePath = fusion.visible {
            let visible = try ImageFile.readRGB(visiblePath)
            let thermal = try gain.grayLevels(of: frame)
            let aligned: RGBImage
            if let homography = try StageRecipe().loadHomography(fusion.homography) {
                aligned = homography.warp(visible, toWidth: thermal.width, height: thermal.height)
            } else if visible.width != thermal.width || visible.height != thermal.height {
                let scale = try Homography(matrix: [Double(thermal.width) / Double(visible.width), 0, 0,
                                                    0, Double(thermal.height) / Double(visible.height), 0, 0, 0, 1])
                aligned = scale.warp(visible, toWidth: thermal.width, height: thermal.height)
            } else {
                aligned = visible
            }
            // The pair is at hand: the network is built without a visible feed and given the picture.
            var recipe = try stageRecipe(color: color, neural: neural, fusion: fusion)
            recipe.visible = nil
            if recipe.neural.model != nil, let network = try recipe.makeStage(reading: .offline) as? NeuralStage {
                picture = try network.colorize(frame, visible: aligned)
            } else {
                var fuser = ImageFuser(method: fusion.fuse)
                picture = try fuser.fuse(thermal: thermal, visible: aligned)
            }
        } else {
            let chosen = try self.stage(classic: classic)
            let stage: FrameColorizer = chosen ?? gain
            guard let first = try stage.colorize([frame]).first else { throw PipelineError("no picture came out") }
            picture = first.rgbImage
            note = defaultPromptNote(chosen)
        }
        try ImageFile.writePNG(picture, to: output)
        if !quiet {
            print("wrote \(output): \(picture.width)×\(picture.height)")
            if let note { print(note) }
        }
    }
}

func formatBytes(_ bytes: Int64) -> String {
    let value = Double(bytes)
    if value >= 1e9 { return String(format: "%.2f GB", value / 1e9) }
    if value >= 1e6 { return String(format: "%.1f MB", value / 1e6) }
    if value >= 1e3 { return String(format: "%.0f kB", value / 1e3) }
    return "\(bytes) B"
}
