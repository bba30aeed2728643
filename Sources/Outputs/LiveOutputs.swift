import Foundation
import MediaIO
import Pipeline

extension LiveSession {
    /// Outputs for a live run as one `OutputSet`: `configuration.outputs` are parsed as
    /// `OutputTarget`s (files, `folder/`, `rtsp://`, `rtmp://`, `udp://`, `srt://`, `hls:FOLDER`),
    /// outputs with the same settings share one encoder (`configuration.encoder`, or the
    /// low-latency profile for the stream's rate), recordings never drop a frame, and
    /// network outputs queue, reconnect and resume on a keyframe without holding up the rest.
    ///
    /// ```swift
    /// let session = try LiveSession(configuration, sinkFactory: LiveSession.sharedOutputs(
    ///     recording: policy, segmentFiles: true, onEvent: { printError($0.description) }))
    /// ```
    /// - Parameters:
    ///   - recording: segment length and limits for segmented outputs.
    ///   - segmentFiles: cut plain file outputs into segments too (`--segment`).
    ///   - network: nil picks `.live`, or `.offline` for an unpaced file input (`readsUnpacedFile`).
    ///   - onEvent: connection, segment and disk events, from output threads.
    ///   - opened: receives the set once built, for its `statuses` (metrics, a status line).
    package static func sharedOutputs(recording: SegmentPolicy? = nil, segmentFiles: Bool = false,
                                     network: NetworkPolicy? = nil,
                                     onEvent: (@Sendable (OutputEvent) -> Void)? = nil,
                                     opened: (@Sendable (OutputSet) -> Void)? = nil) -> SinkFactory {
        { format, configuration in
            var targets: [OutputTarget] = []
            for text in configuration.outputs {
                do { targets.append(try OutputTarget(parsing: text)) } catch let error as OutputTargetError {
                    throw PipelineError(error.description)
                }
            }
            if segmentFiles { targets = targets.map { $0.segmented() } }
            // A recording played as a camera must not be recorded over.
            try InputOverwriteGuard.check(inputs: [configuration.input], outputs: InputOverwriteGuard.filePaths(of: targets))
            let settings = configuration.encoder ?? .lowLatency(frameRate: format.frameRate?.doubleValue ?? 30)
            let outputs = try OutputSet(targets: targets, width: format.width, height: format.height, timeBase: format.timeBase,
                                        frameRate: format.frameRate, encoder: settings, recording: recording,
                                        network: network ?? (configuration.readsUnpacedFile ? .offline : .live),
                                        onEvent: onEvent)
            opened?(outputs)
            return [outputs]
        }
    }
}
