import Foundation
import Pipeline
import Synchronization

/// Something an output did that an operator may want to know: a stream
/// connected or lost, a segment started or deleted, recording stopped for
/// lack of disk. `description` is one log line.
public struct OutputEvent: Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case connected, connectionLost, connectFailed
        case segmentStarted, segmentDeleted, recordingStopped, recordingResumed
        case encoderFallback
        /// An odd picture size made even for a 4:2:0 codec.
        case pictureCropped
        case failed
    }

    public var kind: Kind
    /// The output as the user typed it.
    public var target: String
    public var message: String

    public init(_ kind: Kind, target: String, message: String) {
        self.kind = kind
        self.target = target
        self.message = message
    }

    public var description: String { "\(target): \(message)" }
}

/// One output's state and counters, readable from any thread (for a status
/// line or metrics).
public struct OutputStatus: Sendable {
    public enum State: String, Sendable {
        /// Opening a connection, or waiting to retry one.
        case connecting
        /// Packets are flowing.
        case active
        /// Recording halted for lack of disk space.
        case stopped
        case finished
        case failed
    }

    public var target: String
    public var state: State = .connecting
    public var packetsWritten = 0
    public var bytesWritten: Int64 = 0
    /// Packets thrown away: while disconnected, when the peer was too slow, or
    /// while waiting for the keyframe a resumed stream must start with.
    public var packetsDropped = 0
    /// Successful connections after the first.
    public var reconnects = 0
    /// Segments opened (for segmented recordings).
    public var segmentsStarted = 0
    /// Segments closed whole: trailer written and synced to disk.
    public var segmentsFinished = 0
    /// Segments deleted by rotation or the free-space guard.
    public var segmentsDeleted = 0
    /// The file being written now, for recordings.
    public var currentFile: String?
    /// The last error, if any.
    public var lastError: String?

    public init(target: String) { self.target = target }
}

/// Shared plumbing for outputs: their status under a lock and the event callback.
final class OutputReporter: Sendable {
    let target: String
    private let handler: (@Sendable (OutputEvent) -> Void)?
    private let state: Mutex<OutputStatus>

    init(target: String, handler: (@Sendable (OutputEvent) -> Void)?) {
        self.target = target
        self.handler = handler
        state = Mutex(OutputStatus(target: target))
    }

    var status: OutputStatus { state.withLock { $0 } }

    func update(_ change: (inout OutputStatus) -> Void) {
        state.withLock { change(&$0) }
    }

    func report(_ kind: OutputEvent.Kind, _ message: String) {
        handler?(OutputEvent(kind, target: target, message: message))
    }
}
