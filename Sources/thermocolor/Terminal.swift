import Foundation
import Synchronization
import Threading

/// Progress on a terminal: one line redrawn in place at most ten times a
/// second, and nothing at all when stderr is not a terminal (systemd, pipes).
final class ProgressLine: Sendable {
    private let total: Int?
    private let enabled: Bool
    private let lastDraw = Mutex<UInt64>(0)

    init(total: Int?, enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.total = total
        self.enabled = enabled
    }

    func update(frames: Int, seconds: Double) {
        guard enabled else { return }
        let now = MonotonicClock.nanoseconds()
        let due = lastDraw.withLock { last -> Bool in
            guard now - last > 100_000_000 else { return false }
            last = now
            return true
        }
        guard due else { return }
        let fps = seconds > 0 ? Double(frames) / seconds : 0
        var line: String
        if let total, total > 0 {
            let fraction = min(1, Double(frames) / Double(total))
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            let remaining = fps > 0 ? Double(max(0, total - frames)) / fps : 0
            line = "\(bar) \(frames)/\(total) frames · \(String(format: "%.1f", fps)) fps · ETA \(formatDuration(remaining))"
        } else {
            line = "\(frames) frames · \(String(format: "%.1f", fps)) fps · \(formatDuration(seconds))"
        }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
    }

    func clear() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

func formatDuration(_ seconds: Double) -> String {
    let total = Int(seconds.rounded())
    return total >= 3600
        ? String(format: "%d:%02d:%02d", total / 3600, (total / 60) % 60, total % 60)
        : String(format: "%d:%02d", total / 60, total % 60)
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data("thermocolor: \(message)\n".utf8))
}

/// Runs `handler` on SIGINT or SIGTERM instead of dying, so outputs get finished.
final class StopSignals: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let received = Mutex<Int32?>(nil)

    /// Whether a stop was asked for: an error that follows it is the stop, not a failure.
    var wasReceived: Bool { received.withLock { $0 != nil } }

    /// The first stop signal that came (SIGINT, SIGTERM), if any.
    var signalReceived: Int32? { received.withLock { $0 } }

    init(_ handler: @escaping @Sendable (Int32) -> Void) {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in
                self?.received.withLock { if $0 == nil { $0 = number } }
                handler(number)
            }
            source.resume()
            sources.append(source)
        }
    }

    deinit {
        for source in sources { source.cancel() }
    }
}
