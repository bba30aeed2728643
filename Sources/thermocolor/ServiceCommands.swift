import ArgumentParser
import Foundation
import Imaging
import Logging
import MediaIO
import Pipeline
import Service

/// sysexits' EX_CONFIG: the unit's RestartPreventExitStatus= keeps systemd
/// from restarting a service whose configuration cannot work.
let configurationExitCode = ExitStatus.badConfiguration

struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a service configuration file without running it.",
        discussion: "Prints one line per problem, `key: what is wrong`, and exits 1; exits 0 when the file is good."
    )

    @Argument(help: "The TOML file, e.g. /etc/thermocolor/thermocolor.toml.")
    var file: String

    func run() throws {
        do {
            let configuration = try ConfigurationLoader.load(path: file)
            let outputs = configuration.outputs.map { "\($0.kind) \($0.location)" }.joined(separator: ", ")
            let metrics = configuration.service.metricsAddress.map { "metrics on \($0)" } ?? "metrics off"
            print("\(file): ok — input \(configuration.source.input); outputs: \(outputs); \(metrics)")
        } catch {
            for problem in error.problems {
                // A problem with the file as a whole ("no such file") has no key to point at: name the file.
                let line = problem.key.isEmpty ? "\(file): \(problem.message)" : problem.description
                FileHandle.standardError.write(Data("\(line)\n".utf8))
            }
            throw ExitCode.failure
        }
    }
}

/// `thermocolor run --config FILE`: the service.
func runService(configurationPath: String) throws {
    let configuration: ServiceConfiguration
    do {
        configuration = try ConfigurationLoader.load(path: configurationPath)
    } catch {
        printError("configuration \(error.file):")
        for problem in error.problems { FileHandle.standardError.write(Data("  \(problem)\n".utf8)) }
        throw ExitCode(configurationExitCode)
    }
    let level = LogLevelControl(configuration.service.logLevel)
    let style = JournalLogHandler.detectStyle()
    LoggingSystem.bootstrap { label in JournalLogHandler(label: label, style: style, level: level) }
    let logger = Logger(label: "thermocolor")
    // The session colours with the stage its `[processing]` table describes,
    // built by the same recipe as `run`'s and `convert`'s flags.
    let runner = ServiceRunner(configuration: configuration, configurationPath: configurationPath, logger: logger,
                               logLevel: level)
    do {
        try runner.run()
    } catch let error as SocketError {
        // A taken metrics port is a configuration problem: restarting will not free it.
        logger.critical("\(error)")
        throw ExitCode(configurationExitCode)
    } catch {
        throw ExitCode.failure
    }
}
