import ArgumentParser
import Inference

@main
struct ThermoColor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thermocolor",
        abstract: "Colourise thermal-infrared video, live and offline.",
        version: "0.1.0 (OpenVINO \(openVINOVersion()))"
    )
}
