import Foundation
import Pipeline
import Synchronization

/// Something an output did that an operator may want to know: a stream
/// connected or lost, a segment started or deleted, recording stopped for
/// lack of disk. `description` is one log line.
package struct OutputEvent: Sendable, CustomStringConvertible {
    package enum Kind: String, Sendable {
        case connected, connectionLost, connectFailed
        case segmentStarted, segmentDeleted, recordingStopped, recordingResumed
        case encoderFallback
        /// An odd picture size made even for a 4:2:0 codec.
        case pictureCropped
        case failed
    }

    package var kind: Kind
    /// The output as the user typed it.
    package var target: String
    package var message: String

    package init(_ kind: Kind, target: String, message: String) {
        self.kind = kind
        self.target = target
        self.message = message
    }

    package var description: String { "\(target): \(message)" }
}

/// One output's state and counters, readable from any thread (for a status
/// line or metrics).
package struct OutputStatus: Sendable {
    package enum State: String, Sendable {
        /// Opening a connection, or waiting to retry one.
        case connecting
        /// Packets are flowing.
        case active
        /// Recording halted for lack of disk space.
        case stopped
        case finished
        case failed
    }

    package var target: String
    package var state: State = .connecting
    /// Frames the run handed to the outputs: what each output should deliver.
    package var framesOffered = 0
    /// Packets (one per frame) the output took: written to the file, or
    /// handed to the network connection.
    package var packetsWritten = 0
    package var bytesWritten: Int64 = 0
    /// Packets thrown away: while disconnected, when the peer was too slow, or
    /// while waiting for the keyframe a resumed stream must start with.
    package var packetsDropped = 0
    /// Successful connections after the first.
    package var reconnects = 0
    /// Connection attempts that failed (refused, timed out, no route).
    package var connectFailures = 0
    /// Segments opened (for segmented recordings).
    package var segmentsStarted = 0
    /// Segments closed whole: trailer written and synced to disk.
    package var segmentsFinished = 0
    /// Segments deleted by rotation or the free-space guard.
    package var segmentsDeleted = 0
    /// The file being written now, for recordings.
    package var currentFile: String?
    /// The last error, if any.
    package var lastError: String?

    package init(target: String) { self.target = target }

    /// Frames offered but not delivered (dropped, or never sent).
    package var framesMissing: Int { max(0, framesOffered - packetsWritten) }

    /// True when the output took every frame it was offered and did not fail:
    /// what an offline run must achieve for every output.
    package var isComplete: Bool { framesMissing == 0 && state != .failed && state != .stopped }
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
