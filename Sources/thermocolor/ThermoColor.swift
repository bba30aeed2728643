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
        var code: Int32 = 0
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            code = exitCode(for: error).rawValue
            let message = fullMessage(for: error)
            if !message.isEmpty {
                let handle = code == 0 ? FileHandle.standardOutput : FileHandle.standardError
                handle.write(Data((message + "\n").utf8))
            }
        }
        // Every output is finished by now. Leave without running C++ static
        // destructors: OpenVINO's plugins and thread pools can crash when torn
        // down at exit while their worker threads still wait.
        fflush(nil)
        _exit(code)
    }
}
