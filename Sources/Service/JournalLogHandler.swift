#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import Logging
import Synchronization

/// The service's log level, shared by every logger so a reload can change it.
package final class LogLevelControl: Sendable {
    private let current: Mutex<Logger.Level>

    package init(_ level: Logger.Level) { current = Mutex(level) }

    package var level: Logger.Level {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }
}

/// A swift-log handler for a service: under systemd each line starts with a
/// `<N>` syslog priority (as sd-daemon(3) describes) so journald files it at
/// the right level and `journalctl -p warning` works; elsewhere it writes
/// plain time-stamped lines. Everything goes to standard error.
package struct JournalLogHandler: LogHandler {
    package enum Style: Sendable {
        /// `<6>message key=value`, for journald.
        case journal
        /// `2026-01-01T12:00:00.000Z info thermocolor: message key=value`.
        case plain
    }

    package let label: String
    package let style: Style
    package var metadata: Logger.Metadata = [:]
    package var metadataProvider: Logger.MetadataProvider?
    private let levelControl: LogLevelControl
    private var levelOverride: Logger.Level?
    private let write: @Sendable (String) -> Void

    /// - Parameters:
    ///   - level: shared level; `logLevel` set on one logger overrides it for that logger only.
    ///   - write: where finished lines go (standard error unless a test captures them).
    package init(label: String, style: Style, level: LogLevelControl,
                write: @escaping @Sendable (String) -> Void = JournalLogHandler.writeToStandardError) {
        self.label = label
        self.style = style
        levelControl = level
        self.write = write
    }

    package var logLevel: Logger.Level {
        get { levelOverride ?? levelControl.level }
        set { levelOverride = newValue }
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        var message = event.message.description
        if let error = event.error { message += ": \(error)" }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.quoted($0.value.description))" }
        if !fields.isEmpty { message += " " + fields.joined(separator: " ") }
        write(format(message, level: event.level))
    }

    func format(_ message: String, level: Logger.Level) -> String {
        switch style {
        case .journal:
            // journald reads the prefix per line, so every line of a long message gets it.
            let priority = "<\(Self.syslogPriority(level))>"
            return message.split(separator: "\n", omittingEmptySubsequences: false).map { priority + $0 }.joined(separator: "\n") + "\n"
        case .plain:
            return "\(Self.timestamp()) \(level.rawValue) \(label): \(message)\n"
        }
    }

    /// syslog(3) priorities: 2 critical, 3 error, 4 warning, 5 notice, 6 info, 7 debug.
    package static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .critical: 2
        case .error: 3
        case .warning: 4
        case .notice: 5
        case .info: 6
        case .debug, .trace: 7
        }
    }

    /// `.journal` when standard error is the journal stream systemd set up:
    /// `$JOURNAL_STREAM` holds its `device:inode`, and a matching stderr means
    /// nobody redirected it elsewhere.
    package static func detectStyle(environment: [String: String] = ProcessInfo.processInfo.environment,
                                   descriptor: Int32 = STDERR_FILENO) -> Style {
        guard let stream = environment["JOURNAL_STREAM"] else { return .plain }
        let parts = stream.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return .plain }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return .plain }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode ? .journal : .plain
    }

    /// One `write(2)` per line, so lines from different threads never interleave.
    package static let writeToStandardError: @Sendable (String) -> Void = { line in
        var bytes = Array(line.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Glibc.write(STDERR_FILENO, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }

    private static func quoted(_ value: String) -> String {
        value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) || value.isEmpty
            ? "\"" + value.replacingOccurrences(of: "\"", with: "\\\"") + "\""
            : value
    }

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(now.tv_nsec / 1_000_000))
    }
}
