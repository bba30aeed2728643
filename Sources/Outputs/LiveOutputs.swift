import Foundation
import MediaIO
import Pipeline

extension LiveSession {
    /// A live run's outputs, resolved once the stream's size and rate are known
    /// (a keyframe interval of one second needs the rate), each with its encoder
    /// settings and segment policy.
    package typealias OutputTargets = @Sendable (StreamFormat) throws -> [OutputTarget]

    /// The one way a live run's outputs are built: every target in one
    /// `OutputSet`, so outputs whose encoder settings agree share one encode;
    /// recordings never drop a frame, and network outputs queue, reconnect and
    /// resume on a keyframe without holding up the rest. A target without
    /// encoder settings gets the low-latency profile at the stream's rate, a
    /// keyframe every second. An output that is the live input itself (a
    /// recording played as a camera) is refused before anything is opened.
    ///
    /// ```swift
    /// let session = try LiveSession(configuration, sinkFactory: LiveSession.outputs(
    ///     { _ in try ["recordings/", "rtsp://127.0.0.1:8554/thermal"].map { try OutputTarget(parsing: $0) } },
    ///     onEvent: { print($0) }))
    /// ```
    /// - Parameters:
    ///   - targets: the outputs for the stream's format; `OutputTargetError`s it throws
    ///     become `PipelineError`s with the same text.
    ///   - network: nil picks `.live`, or `.offline` for an unpaced file input (`readsUnpacedFile`).
    ///   - onEvent: connection, segment and disk events, from output threads.
    ///   - opened: receives the set once built, for its `statuses` (metrics, a status line).
    ///   - sink: what the pipeline writes to, given the set (a metering wrapper); the set itself by default.
    package static func outputs(_ targets: @escaping OutputTargets, network: NetworkPolicy? = nil,
                                onEvent: (@Sendable (OutputEvent) -> Void)? = nil,
                                opened: (@Sendable (OutputSet) -> Void)? = nil,
                                sink: @escaping @Sendable (OutputSet) -> FrameSink = { $0 }) -> SinkFactory {
        { format, configuration in
            let resolved: [OutputTarget]
            do { resolved = try targets(format) } catch let error as OutputTargetError {
                throw PipelineError(error.description)
            }
            // A recording played as a camera must not be recorded over.
            try InputOverwriteGuard.check(inputs: [configuration.input], outputs: InputOverwriteGuard.filePaths(of: resolved))
            let set = try OutputSet(targets: resolved, width: format.width, height: format.height, timeBase: format.timeBase,
                                    frameRate: format.frameRate, encoder: .lowLatency(frameRate: format.frameRate?.doubleValue ?? 30),
                                    network: network ?? (configuration.readsUnpacedFile ? .offline : .live),
                                    onEvent: onEvent)
            opened?(set)
            return [sink(set)]
        }
    }
}
