import ArgumentParser
import Foundation
import Inference
import MediaIO

@main
struct ThermoColor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thermocolor",
        abstract: "Colourise thermal-infrared video, live and offline.",
        version: "0.1.0 (OpenVINO \(openVINOVersion()))",
        subcommands: [
            ConvertCommand.self, RunCommand.self, CheckConfigCommand.self, DevicesCommand.self, SynthCommand.self, ProbeCommand.self,
            PalettesCommand.self, TokenizeCommand.self, EmbedCommand.self,
        ]
    )

    static func main() {
        // FFmpeg's own console lines would repeat, less clearly, what our one-line
        // errors say; THERMOCOLOR_FFMPEG_LOG=1 brings them back for debugging.
        MediaLogging.setVerbose(ProcessInfo.processInfo.environment["THERMOCOLOR_FFMPEG_LOG"] != nil)
        main(nil)
    }
}
