import Foundation
import Logging
import MediaIO
import Outputs
import Pipeline
import Service
import TestSupport
import Testing

/// `run --input … --output …` goes through `ServiceRunner` with a
/// configuration built in memory: these run that path in process.
@Suite("A configuration built in code runs through the service's runner")
struct CommandLineRunnerTests {
    private func runner(_ configuration: ServiceConfiguration, events: EventLog) -> ServiceRunner {
        let level = LogLevelControl(.critical)
        let logger = Logger(label: "test") { label in JournalLogHandler(label: label, style: .plain, level: level) }
        let narration = ServiceRunner.Narration(style: .terminal, input: { events.add($0.text) },
                                                output: { events.add($0.description) })
        return ServiceRunner(configuration: configuration, configurationPath: nil, logger: logger, logLevel: level,
                             notifier: SystemdNotifier(environment: [:]), narration: narration)
    }

    private func target(_ text: String, encoder: EncoderSettings = Self.lowLatency) throws -> OutputConfiguration {
        .target(TargetOutput(target: try OutputTarget(parsing: text), encoder: encoder))
    }

    /// `run`'s encoder settings: one keyframe a second at the source's rate.
    private static var lowLatency: EncoderSettings {
        var settings = EncoderSettings.lowLatency(frameRate: 30)
        settings.keyframeInterval = nil
        return settings
    }

    @Test("Two file outputs from an unpaced file: each gets every frame, the input is told in the terminal's words")
    func filesGetEveryFrame() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let input = packageRoot + "/Samples/thermal-sample.mkv"
        let first = folder.file("a.mkv"), second = folder.file("b.mp4")
        let configuration = ServiceConfiguration(
            source: SourceConfiguration(input: input, inputOptions: InputOptions()),
            outputs: [try target(first), try target(second)],
            service: ServiceSettings(metricsAddress: nil, stopTimeout: .infinity))
        let events = EventLog()
        let runner = runner(configuration, events: events)
        try runner.run(handlingSignals: false)

        let statuses = runner.outputStatuses
        #expect(statuses.map(\.target) == [first, second])
        #expect(statuses.allSatisfy { $0.packetsWritten == 60 && $0.framesOffered == 60 && $0.packetsDropped == 0 }, "\(statuses)")
        #expect(runner.statistics?.framesWritten == 60)
        #expect(runner.reconnectCount == 0)
        #expect(events.lines.contains { $0.hasPrefix("input \(input): ") }, "\(events.lines)")
        #expect(try ffprobe(first).frameCount == 60)
        #expect(try ffprobe(second).frameCount == 60)
    }

    @Test("A command-line output that is the input is refused before it is opened")
    func inputNotOverwritten() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let input = folder.file("in.mkv")
        try FileManager.default.copyItem(atPath: packageRoot + "/Samples/thermal-sample.mkv", toPath: input)
        let before = try Data(contentsOf: URL(fileURLWithPath: input))
        let configuration = ServiceConfiguration(
            source: SourceConfiguration(input: input, inputOptions: InputOptions()),
            outputs: [try target(input)], service: ServiceSettings(metricsAddress: nil))
        #expect(throws: PipelineError.self) { try runner(configuration, events: EventLog()).run(handlingSignals: false) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == before)
    }
}

/// Lines told by a runner, from whichever thread.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [String] = []

    func add(_ line: String) { lock.withLock { recorded.append(line) } }
    var lines: [String] { lock.withLock { recorded } }
}
