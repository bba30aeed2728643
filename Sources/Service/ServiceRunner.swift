#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Capture
import Foundation
import Logging
import Outputs
import Pipeline
import Synchronization
import Threading

/// Runs one configured live session: `run --config FILE` as a systemd
/// service (readiness once the first frame is out, a watchdog fed only while
/// frames flow, status lines, `/metrics` and `/healthz`, a live reload on
/// SIGHUP), and `run --input …` from a configuration built of its flags
/// (metrics off, no file to reload, the notifier inert without
/// `NOTIFY_SOCKET`, inputs and outputs told on the terminal). Both stop
/// cleanly on SIGTERM/SIGINT.
///
/// Control work (signals, reloads, the stop deadline) runs on one serial
/// dispatch queue; the session blocks the calling thread in `run()`.
package final class ServiceRunner: @unchecked Sendable {
    package typealias SessionFactory = @Sendable (ServiceConfiguration, ServiceContext) throws -> ServiceSession

    package let configurationPath: String?
    package let notifier: SystemdNotifier
    private let logger: Logger
    private let logLevel: LogLevelControl
    private let makeSession: SessionFactory
    private let control = DispatchQueue(label: "thermocolor.service.control")
    private let state: Mutex<State>
    private let meters = Mutex<[OutputMeter]>([])
    private let outputs = Mutex<OutputSet?>(nil)
    private let counters = Mutex(Counters())
    /// Input events as sentences.
    private let inputNarrator: InputNarrator
    private let narration: Narration
    private let finished = Atomic<Bool>(false)
    private var signals: ServiceSignals?
    private var endpoint: HTTPEndpoint?
    private var heartbeat: Heartbeat?

    private struct State {
        /// What runs now: the file as loaded, with live changes of later reloads applied.
        var configuration: ServiceConfiguration
        var session: ServiceSession?
        var isReady = false
        var isStopping = false
        var stopReason: String?
    }

    private struct Counters {
        var reloads = 0
        var failedReloads = 0
        var inputLosses = 0
        /// Attempts to (re)open the input that failed: an alert on this fires while it stays down.
        var reconnectFailures = 0
        var statusWritten = 0
        var statusTime = MonotonicClock.nanoseconds()
    }

    /// Where the account of inputs and outputs goes: `journal` logs it with
    /// the runner's own lines; a terminal run prints its lines its own way.
    package struct Narration: Sendable {
        package var style: InputNarrator.Style
        package var input: @Sendable (InputNarrator.Line) -> Void
        package var output: @Sendable (OutputEvent) -> Void

        package init(style: InputNarrator.Style, input: @escaping @Sendable (InputNarrator.Line) -> Void,
                    output: @escaping @Sendable (OutputEvent) -> Void) {
            self.style = style
            self.input = input
            self.output = output
        }

        /// Each line at its own level, output events as notices.
        package static func journal(_ logger: Logger) -> Narration {
            Narration(style: .journal, input: { line in
                switch line.level {
                case .debug: logger.debug("\(line.text)")
                case .info: logger.info("\(line.text)")
                case .notice: logger.notice("\(line.text)")
                case .warning: logger.warning("\(line.text)")
                }
            }, output: { event in logger.notice("\(event.description)") })
        }
    }

    /// - Parameters:
    ///   - configurationPath: the file SIGHUP reads again; nil disables reloading (and SIGHUP keeps its default action).
    ///   - logger: the runner's own lines (starting, ready, stopping, failures).
    ///   - logLevel: the shared level the service's log handlers read; a reload changes it.
    ///   - narration: where input and output events are told; nil: through `logger`.
    ///   - makeSession: builds the session (a test passes a stand-in).
    package init(configuration: ServiceConfiguration, configurationPath: String?, logger: Logger,
                logLevel: LogLevelControl, notifier: SystemdNotifier = SystemdNotifier(), narration: Narration? = nil,
                makeSession: @escaping SessionFactory = ServiceOutputs.liveSession) {
        self.configurationPath = configurationPath
        self.logger = logger
        self.logLevel = logLevel
        self.notifier = notifier
        self.makeSession = makeSession
        let narration = narration ?? .journal(logger)
        self.narration = narration
        inputNarrator = InputNarrator(input: configuration.source.input, visible: configuration.processing.visible?.source,
                                      style: narration.style)
        state = Mutex(State(configuration: configuration))
        control.setSpecific(key: Self.onControlQueue, value: true)
    }

    /// The configuration in force (live changes of reloads included).
    package var configuration: ServiceConfiguration { state.withLock { $0.configuration } }

    /// Where `/metrics` listens (with the real port when 0 was asked for); nil when off or not started.
    package var metricsAddress: SocketAddressText? { control.sync { endpoint?.address } }

    /// The session's counters; nil before the input is open.
    package var statistics: PipelineStatistics? { state.withLock { $0.session }?.statistics }

    /// Times the input was reopened after a loss.
    package var reconnectCount: Int { state.withLock { $0.session }?.reconnectCount ?? 0 }

    /// What each output delivered and dropped, in the configuration's order;
    /// empty when the input never opened, so no output was built.
    package var outputStatuses: [OutputStatus] { outputs.withLock { $0 }?.statuses ?? [] }

    /// Runs until the source ends or a stop is requested; throws when the
    /// session fails (systemd's `Restart=on-failure` then starts it again).
    /// - Parameter handlingSignals: install SIGTERM/SIGINT/SIGHUP handlers (not in tests).
    package func run(handlingSignals: Bool = true) throws {
        let configuration = self.configuration
        logger.info("starting", metadata: [
            "input": .string(configuration.source.input),
            "outputs": .string(configuration.outputs.map(\.location).joined(separator: ", ")),
            "config": .string(configurationPath ?? "-"),
        ])
        if notifier.isEnabled {
            let watchdog = notifier.watchdogTimeout.map { "watchdog \(Self.seconds($0))" } ?? "no watchdog"
            logger.debug("systemd notification socket \(notifier.socketPath ?? ""), \(watchdog)")
        }
        defer { shutDownHelpers() }
        if let address = configuration.service.metricsAddress {
            let endpoint = try HTTPEndpoint(address: address) { [weak self] method, path in
                self?.respond(path: path) ?? HTTPResponse(status: 503, body: "shutting down\n")
            }
            endpoint.start()
            control.sync { self.endpoint = endpoint }
            logger.info("metrics on http://\(endpoint.address)/metrics and /healthz")
        }
        if handlingSignals {
            var reload: (@Sendable () -> Void)? = nil
            if configurationPath != nil { reload = { [weak self] in self?.reloadOnControlQueue() } }
            let signals = ServiceSignals(queue: control,
                                         stop: { [weak self] name in self?.requestStop(reason: name) },
                                         reload: reload)
            control.sync { self.signals = signals }
        }
        notifier.status("starting: opening \(configuration.source.input)")

        let output = narration.output
        let context = ServiceContext(
            onInputEvent: { [weak self] event in self?.note(event) },
            onOutputEvent: output,
            meter: { [weak self] kind, name in
                let meter = OutputMeter(kind: kind, name: name)
                self?.meters.withLock { $0.append(meter) }
                return meter
            },
            onOutputsOpened: { [weak self] set in self?.outputs.withLock { $0 = set } })
        let session: ServiceSession
        do {
            session = try makeSession(configuration, context)
        } catch {
            // The caller only sets the exit status; this is the line the journal keeps.
            logger.error("could not start: \(error)")
            notifier.status("failed: \(error)")
            throw error
        }
        session.onFirstFrameWritten = { [weak self] in self?.firstFrameWritten() }
        let stopEarly = state.withLock { state -> Bool in
            state.session = session
            return state.isStopping
        }
        if stopEarly { session.stop() }

        do {
            try session.run()
        } catch {
            finished.store(true, ordering: .relaxed)
            logger.error("stopped by an error: \(error)")
            notifier.status("failed: \(error)")
            throw error
        }
        finished.store(true, ordering: .relaxed)
        let reason = state.withLock { $0.stopReason }
        let statistics = session.statistics
        let summary = "\(statistics?.framesWritten ?? 0) frames written, \(statistics?.framesDropped ?? 0) dropped, "
            + "\(session.reconnectCount) reconnect\(session.reconnectCount == 1 ? "" : "s"); outputs finished"
        logger.info("\(reason.map { "stopped on \($0)" } ?? "the source ended"): \(summary)")
        if reason == nil { notifier.stopping(status: "the source ended") }
    }

    /// Begins a clean stop from any thread: `STOPPING=1`, the heartbeat ends,
    /// outputs drain and close. Past `service.stop_timeout` the process exits.
    package func requestStop(reason: String) {
        let (session, first, timeout) = state.withLock { state -> (ServiceSession?, Bool, Double) in
            let first = !state.isStopping
            state.isStopping = true
            if first { state.stopReason = reason }
            return (state.session, first, state.configuration.service.stopTimeout)
        }
        guard first else {
            logger.notice("\(reason) while already stopping; still finishing the outputs")
            return
        }
        logger.info("\(reason): stopping, finishing the outputs (up to \(Self.seconds(timeout)))")
        // No watchdog ping may follow STOPPING=1.
        heartbeatSnapshot()?.stop()
        notifier.stopping()
        session?.stop()
        // An infinite timeout (a run on a terminal) waits for the outputs however long they take.
        guard timeout.isFinite else { return }
        control.asyncAfter(deadline: .now() + timeout) { [weak self] in
            guard let self, !finished.load(ordering: .relaxed) else { return }
            logger.critical("the outputs did not finish within \(Self.seconds(timeout)); exiting without them")
            exit(EXIT_FAILURE)
        }
    }

    /// Reads the configuration file again and applies what can change live
    /// (what SIGHUP does). Returns what changed, or nil when the file is invalid.
    @discardableResult
    package func reload() -> ConfigurationChanges? {
        control.sync { reloadOnControlQueue() }
    }

    @discardableResult
    private func reloadOnControlQueue() -> ConfigurationChanges? {
        guard let path = configurationPath else {
            logger.warning("reload asked for, but the service runs without a configuration file")
            return nil
        }
        notifier.reloading()
        logger.info("reloading \(path)")
        let loaded: ServiceConfiguration
        do {
            loaded = try ConfigurationLoader.load(path: path)
        } catch {
            counters.withLock { $0.failedReloads += 1 }
            logger.error("reload failed, the running configuration stays: \(error)")
            notifier.ready(status: "running; the last reload failed: \(error.problems.first?.description ?? "")")
            return nil
        }
        let running = configuration
        let changes = ConfigurationChanges(from: running, to: loaded)
        var applied = running
        var problems: [String] = []
        let session = state.withLock { $0.session }
        let classicKeys = changes.live.filter {
            $0.hasPrefix("processing.") && $0 != "processing.prompt" && $0 != "processing.reference"
        }
        if !classicKeys.isEmpty {
            do {
                try session?.updateClassic(loaded.processing.classic)
                applied.processing.classic = loaded.processing.classic
            } catch {
                problems.append("\(classicKeys.joined(separator: ", ")): \(error)")
            }
        }
        if changes.live.contains("processing.prompt") {
            do {
                if let prompt = loaded.processing.prompt { try session?.applyPrompt(prompt) }
                applied.processing.prompt = loaded.processing.prompt
            } catch {
                problems.append("processing.prompt: \(error)")
            }
        }
        if changes.live.contains("processing.reference") {
            do {
                if let reference = loaded.processing.reference { try session?.applyReference(reference) }
                applied.processing.reference = loaded.processing.reference
                applied.processing.referenceStamp = loaded.processing.referenceStamp
            } catch {
                problems.append("processing.reference: \(error)")
            }
        }
        if changes.live.contains("service.log_level") {
            logLevel.level = loaded.service.logLevel
            applied.service.logLevel = loaded.service.logLevel
        }
        applied.service.healthTimeout = loaded.service.healthTimeout
        state.withLock { $0.configuration = applied }
        counters.withLock { $0.reloads += 1 }

        let appliedKeys = changes.live.filter { key in !problems.contains { $0.contains(key) } }
        if changes.isEmpty {
            logger.info("reloaded: nothing changed")
        } else if !appliedKeys.isEmpty {
            logger.info("reloaded: applied \(appliedKeys.joined(separator: ", "))")
        }
        for problem in problems { logger.error("reload could not apply \(problem)") }
        if !changes.needRestart.isEmpty {
            logger.warning("changed but needs a restart to take effect (systemctl restart): \(changes.needRestart.joined(separator: ", "))")
        }
        var status = "running; reloaded"
        if !changes.needRestart.isEmpty { status += "; restart to apply \(changes.needRestart.joined(separator: ", "))" }
        notifier.ready(status: status)
        return changes
    }

    private func firstFrameWritten() {
        let (configuration, stopping) = state.withLock { state -> (ServiceConfiguration, Bool) in
            state.isReady = true
            return (state.configuration, state.isStopping)
        }
        guard !stopping else { return }
        logger.info("first frame written to every output; ready")
        notifier.ready(status: "running: first frame written")
        let heartbeat = Heartbeat(
            notifier: notifier, statusInterval: configuration.service.statusInterval,
            progress: { [weak self] in self?.framesWritten ?? 0 },
            statusLine: { [weak self] in self?.statusLine() ?? "" },
            onWithheld: { [weak self] seconds in
                self?.logger.warning("no frame written for \(Self.seconds(seconds)): withholding the watchdog ping, so systemd restarts a stalled service")
            })
        control.sync {
            guard !state.withLock({ $0.isStopping }) else { return }
            self.heartbeat = heartbeat
            heartbeat.start()
        }
    }

    private var framesWritten: Int { state.withLock { $0.session }?.statistics?.framesWritten ?? 0 }

    private func heartbeatSnapshot() -> Heartbeat? {
        // requestStop may run on the control queue (signals) or elsewhere (tests).
        if DispatchQueue.getSpecific(key: Self.onControlQueue) == true { return heartbeat }
        return control.sync { heartbeat }
    }

    private static let onControlQueue = DispatchSpecificKey<Bool>()

    private func shutDownHelpers() {
        let (heartbeat, endpoint, signals) = control.sync { () -> (Heartbeat?, HTTPEndpoint?, ServiceSignals?) in
            defer {
                self.heartbeat = nil
                self.endpoint = nil
                self.signals = nil
            }
            return (self.heartbeat, self.endpoint, self.signals)
        }
        heartbeat?.stop()
        endpoint?.stop()
        signals?.cancel()
    }

    /// "29.9 fps · 0 dropped · latency p95 ≤ 50 ms · 1 reconnect".
    func statusLine() -> String {
        guard let session = state.withLock({ $0.session }), let statistics = session.statistics else { return "starting" }
        let written = statistics.framesWritten
        let now = MonotonicClock.nanoseconds()
        let fps = counters.withLock { counters -> Double in
            defer {
                counters.statusWritten = written
                counters.statusTime = now
            }
            let seconds = Double(now - counters.statusTime) / 1e9
            return seconds > 0 ? Double(written - counters.statusWritten) / seconds : 0
        }
        let reconnects = session.reconnectCount
        return "\(String(format: "%.1f", fps)) fps · \(statistics.framesDropped) dropped · "
            + "latency p95 ≤ \(String(format: "%.0f", statistics.latency.quantileUpperBound(0.95))) ms · "
            + "\(reconnects) reconnect\(reconnects == 1 ? "" : "s")"
    }

    /// Counts losses and failed reopens, tells systemd, and narrates the event.
    private func note(_ event: InputEvent) {
        switch event {
        case .stream(.disconnected(let reason)):
            counters.withLock { $0.inputLosses += 1 }
            notifier.status("input lost, reconnecting: \(reason)")
        case .stream(.retrying):
            counters.withLock { $0.reconnectFailures += 1 }
        case .camera(.disconnected(let reason)):
            counters.withLock { $0.inputLosses += 1 }
            notifier.status("camera lost, reconnecting: \(reason)")
        case .camera(.reconnecting):
            // Each retry follows an attempt that failed.
            counters.withLock { $0.reconnectFailures += 1 }
        case .camera(.reconnected(let stream)):
            notifier.status("camera back: \(stream.mode)")
        case .stream, .camera, .visible, .visiblePairing:
            break
        }
        for line in inputNarrator.lines(for: event) { narration.input(line) }
    }

    // MARK: /metrics and /healthz

    private func respond(path: String) -> HTTPResponse {
        switch path {
        case "/metrics":
            return HTTPResponse(contentType: "text/plain; version=0.0.4; charset=utf-8", body: metricsPage())
        case "/healthz":
            let (healthy, reason) = health()
            return HTTPResponse(status: healthy ? 200 : 503, body: reason + "\n")
        case "/":
            return HTTPResponse(body: "thermocolor: /metrics (Prometheus), /healthz\n")
        default:
            return .notFound(path)
        }
    }

    /// Healthy once ready and while frames keep reaching the outputs.
    func health() -> (Bool, String) {
        let (ready, stopping, session, window) = state.withLock {
            ($0.isReady, $0.isStopping, $0.session, $0.configuration.service.healthTimeout)
        }
        if stopping { return (false, "stopping") }
        guard ready, let statistics = session?.statistics else { return (false, "starting: no frame written yet") }
        guard let age = statistics.secondsSinceLastWrite, age <= window else {
            return (false, "stalled: no frame written for \(Self.seconds(statistics.secondsSinceLastWrite ?? 0))")
        }
        return (true, "ok: \(statistics.framesWritten) frames written, last \(String(format: "%.2f", age)) s ago")
    }

    func metricsPage() -> String {
        var page = PrometheusText()
        let (ready, session) = state.withLock { ($0.isReady, $0.session) }
        let counters = counters.withLock { $0 }
        page.gauge("thermocolor_ready", "1 once the first frame reached every output, until stopping.", ready ? 1 : 0)
        if let statistics = session?.statistics {
            page.add(statistics)
            page.gauge("thermocolor_uptime_seconds", "Seconds since the pipeline started.", statistics.elapsedSeconds.rounded())
        }
        page.counter("thermocolor_input_reconnects_total", "Times the input was opened again after a loss.", session?.reconnectCount ?? 0)
        page.counter("thermocolor_input_losses_total", "Times the input failed or went silent.", counters.inputLosses)
        page.counter("thermocolor_input_reconnect_failures_total", "Attempts to open the input again that failed.",
                     counters.reconnectFailures)
        page.add(meters.withLock { $0 })
        page.counter("thermocolor_config_reloads_total", "Reloads (SIGHUP) by result.", counters.reloads, labels: ["result": "applied"])
        page.counter("thermocolor_config_reloads_total", "Reloads (SIGHUP) by result.", counters.failedReloads, labels: ["result": "invalid"])
        let heartbeat = control.sync { self.heartbeat }
        page.counter("thermocolor_watchdog_pings_total", "WATCHDOG=1 messages sent to systemd.", heartbeat?.pingsSent ?? 0)
        page.counter("thermocolor_watchdog_withheld_total", "Watchdog checks that found no new frame, so sent no ping.",
                     heartbeat?.pingsWithheld ?? 0)
        return page.text
    }

    static func seconds(_ value: Double) -> String { InputNarrator.seconds(value) }
}
