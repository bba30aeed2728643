import Foundation
import MediaIO
import Outputs
import Pipeline
import Synchronization
import Threading

/// Counters of one output, written on the sink thread and read by scrapes.
package final class OutputMeter: Sendable {
    /// `recording` or `stream`.
    package let kind: String
    /// The folder or URL, as a label.
    package let name: String
    private struct State {
        var frames = 0
        var bytes: Int64 = 0
        var segments = 0
        var dropped = 0
        var connectFailures = 0
        /// (monotonic ns, bytes) about once a second, for a bitrate over the last few seconds.
        var window: [(UInt64, Int64)] = []
    }
    private let state = Mutex(State())

    package init(kind: String, name: String) {
        self.kind = kind
        self.name = name
    }

    package var frames: Int { state.withLock { $0.frames } }
    package var bytes: Int64 { state.withLock { $0.bytes } }
    package var segments: Int { state.withLock { $0.segments } }
    package var framesDropped: Int { state.withLock { $0.dropped } }
    package var connectFailures: Int { state.withLock { $0.connectFailures } }

    /// Bits per second over the last five seconds or so; 0 before two samples.
    package var bitsPerSecond: Double {
        state.withLock { state in
            guard let first = state.window.first, let last = state.window.last, last.0 > first.0 else { return 0 }
            return Double(last.1 - first.1) * 8 / (Double(last.0 - first.0) / 1e9)
        }
    }

    /// Takes the output's counters as its `OutputSet` keeps them.
    func update(from status: OutputStatus) {
        let now = MonotonicClock.nanoseconds()
        state.withLock { state in
            state.frames = status.packetsWritten
            state.bytes = status.bytesWritten
            state.segments = status.segmentsFinished
            state.dropped = status.packetsDropped
            state.connectFailures = status.connectFailures
            if state.window.last.map({ now - $0.0 >= 1_000_000_000 }) ?? true {
                state.window.append((now, state.bytes))
                if state.window.count > 6 { state.window.removeFirst() }
            }
        }
    }
}

/// The service's one `OutputSet`, with each output's meter brought up to
/// date from the set's own counters after every frame: nothing is counted twice.
package final class MeteredOutputs: FrameSink {
    package let outputs: OutputSet
    /// One per output, in the order of the set's targets.
    package let meters: [OutputMeter]

    package init(_ outputs: OutputSet, meters: [OutputMeter]) {
        precondition(meters.count == outputs.statuses.count, "one meter per output")
        self.outputs = outputs
        self.meters = meters
    }

    package func write(_ picture: EncoderPicture, for frame: ThermalFrame) throws {
        defer { refresh() }
        try outputs.write(picture, for: frame)
    }

    package func finish() throws {
        defer { refresh() }
        try outputs.finish()
    }

    private func refresh() {
        for (meter, status) in zip(meters, outputs.statuses) { meter.update(from: status) }
    }
}

extension PrometheusText {
    /// Per-output frames, bytes, bitrate and finished segments.
    package mutating func add(_ meters: [OutputMeter]) {
        for meter in meters {
            counter("thermocolor_output_frames_total", "Frames written to each output.", meter.frames,
                    labels: ["kind": meter.kind, "output": meter.name])
        }
        for meter in meters {
            counter("thermocolor_output_bytes_total", "Encoded bytes written to each output.", Double(meter.bytes),
                    labels: ["kind": meter.kind, "output": meter.name])
        }
        for meter in meters {
            gauge("thermocolor_output_bitrate_bits_per_second", "Encoded bitrate of each output over the last few seconds.",
                  meter.bitsPerSecond.rounded(), labels: ["kind": meter.kind, "output": meter.name])
        }
        for meter in meters {
            counter("thermocolor_output_frames_dropped_total", "Frames an output dropped (slow or absent peer, full disk).",
                    meter.framesDropped, labels: ["kind": meter.kind, "output": meter.name])
        }
        for meter in meters where meter.kind == "stream" {
            counter("thermocolor_output_connect_failures_total", "Failed attempts to connect a stream output.",
                    meter.connectFailures, labels: ["output": meter.name])
        }
        for meter in meters where meter.kind == "recording" {
            counter("thermocolor_segments_written_total", "Recording segments finished.", meter.segments,
                    labels: ["output": meter.name])
        }
    }
}
