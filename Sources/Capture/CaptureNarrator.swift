import Foundation

/// Turns a capture's events into sentences a person reads in a terminal or
/// the journal:
///
///     camera /dev/video0 streaming: Y16 640×480 at 25 fps ("vivid", vivid driver, profile generic)
///     camera /dev/video0 lost: no such device (ENODEV); retrying in 0.25 s
///     camera /dev/video0 still away: no such video device (ENOENT); retrying in 1 s (attempt 3)
///     camera /dev/video0 back: Y16 640×480 at 25 fps
///
/// A loss and the first retry that follows it make one line. While a camera
/// stays away, the first three retries are told and then one in twelve (at
/// the longest backoff, once a minute), so a camera unplugged for a night
/// does not fill the journal.
package final class CaptureNarrator: @unchecked Sendable {
    /// How much a line matters, for loggers with levels.
    package enum Level: Sendable, Hashable {
        case debug, info, notice, warning
    }

    package struct Line: Sendable, Hashable, CustomStringConvertible {
        package var level: Level
        package var text: String
        package var description: String { text }

        package init(level: Level, text: String) {
            self.level = level
            self.text = text
        }
    }

    /// The device as the user named it.
    package let devicePath: String
    private let lock = NSLock()
    private var pendingLoss: String?
    private var hasStreamed = false

    package init(devicePath: String) {
        self.devicePath = devicePath
    }

    /// The lines `event` makes: none for a loss (it is told with the retry
    /// that follows), or for retries not worth a line.
    package func lines(for event: CaptureEvent) -> [Line] {
        lock.withLock {
            let camera = "camera \(devicePath)"
            switch event {
            case .started(let stream):
                hasStreamed = true
                return [Line(level: .info, text: "\(camera) streaming: \(stream.mode) (\(Self.identity(stream)))\(Self.openedAs(stream, devicePath))")]
            case .reconnected(let stream):
                hasStreamed = true
                return [Line(level: .notice, text: "\(camera) back: \(stream.mode)\(Self.openedAs(stream, devicePath))")]
            case .disconnected(let reason):
                pendingLoss = reason
                return []
            case .reconnecting(let attempt, let delay, let lastError):
                let retry = "retrying in \(Self.seconds(delay))"
                if let loss = pendingLoss {
                    pendingLoss = nil
                    return [Line(level: .warning, text: "\(camera) lost: \(loss); \(retry)")]
                }
                guard attempt <= 3 || attempt % 12 == 0 else { return [] }
                if !hasStreamed && attempt == 1 {
                    return [Line(level: .notice, text: "\(camera) not there yet: \(lastError); \(retry)")]
                }
                let state = hasStreamed ? "still away" : "still not there"
                return [Line(level: .notice, text: "\(camera) \(state): \(lastError); \(retry) (attempt \(attempt))")]
            case .stopped:
                var lines: [Line] = []
                if let loss = pendingLoss {
                    pendingLoss = nil
                    lines.append(Line(level: .warning, text: "\(camera) lost: \(loss)"))
                }
                lines.append(Line(level: .debug, text: "\(camera) released"))
                return lines
            }
        }
    }

    /// "\"vivid\", vivid driver, profile generic".
    private static func identity(_ stream: CaptureStream) -> String {
        var parts = ["\"\(stream.card)\"", "\(stream.driver) driver", "profile \(stream.profile.name)"]
        if stream.profileReason != "no known camera matched" { parts[2] += " by \(stream.profileReason)" }
        return parts.joined(separator: ", ")
    }

    /// ", opened as /dev/v4l/by-id/…" when capture reached the camera under another name.
    private static func openedAs(_ stream: CaptureStream, _ path: String) -> String {
        stream.devicePath == path ? "" : ", opened as \(stream.devicePath)"
    }

    /// "0.25 s", "1 s".
    static func seconds(_ duration: Duration) -> String {
        let value = duration.seconds
        if value == value.rounded() { return "\(Int(value)) s" }
        return "\((value * 100).rounded() / 100) s"
    }
}
