import Foundation
import MediaIO
import Outputs
import Pipeline
import Synchronization

/// A sink that can say how much it has written, for the metrics page.
public protocol MeasuredOutput: AnyObject {
    /// Bytes of encoded video written so far (across segments).
    var bytesWritten: Int64 { get }
    /// Recording segments closed so far; 0 for outputs without segments.
    var segmentsFinished: Int { get }
}

extension VideoWriter: MeasuredOutput {
    public var segmentsFinished: Int { 0 }
}

/// Counters of one output, written on the sink thread and read by scrapes.
public final class OutputMeter: Sendable {
    /// `recording` or `stream`.
    public let kind: String
    /// The folder or URL, as a label.
    public let name: String
    private struct State {
        var frames = 0
        var bytes: Int64 = 0
        var segments = 0
        /// (monotonic ns, bytes) about once a second, for a bitrate over the last few seconds.
        var window: [(UInt64, Int64)] = []
    }
    private let state = Mutex(State())

    public init(kind: String, name: String) {
        self.kind = kind
        self.name = name
    }

    public var frames: Int { state.withLock { $0.frames } }
    public var bytes: Int64 { state.withLock { $0.bytes } }
    public var segments: Int { state.withLock { $0.segments } }

    /// Bits per second over the last five seconds or so; 0 before two samples.
    public var bitsPerSecond: Double {
        state.withLock { state in
            guard let first = state.window.first, let last = state.window.last, last.0 > first.0 else { return 0 }
            return Double(last.1 - first.1) * 8 / (Double(last.0 - first.0) / 1e9)
        }
    }

    func record(bytes: Int64?, segments: Int?) {
        let now = monotonicNanoseconds()
        state.withLock { state in
            state.frames += 1
            if let bytes { state.bytes = bytes }
            if let segments { state.segments = segments }
            if state.window.last.map({ now - $0.0 >= 1_000_000_000 }) ?? true {
                state.window.append((now, state.bytes))
                if state.window.count > 6 { state.window.removeFirst() }
            }
        }
    }
}

/// Wraps an output so its meter follows every write; the wrapped sink's
/// own counters are read on the sink thread, where they are safe to read.
public final class MeteredSink: FrameSink {
    public let inner: FrameSink
    public let meter: OutputMeter

    public init(_ inner: FrameSink, meter: OutputMeter) {
        self.inner = inner
        self.meter = meter
    }

    public func write(_ picture: EncoderPicture, for frame: ThermalFrame) throws {
        try inner.write(picture, for: frame)
        let measured = inner as? MeasuredOutput
        meter.record(bytes: measured?.bytesWritten, segments: measured?.segmentsFinished)
    }

    public func finish() throws {
        try inner.finish()
    }
}

extension PrometheusText {
    /// Per-output frames, bytes, bitrate and finished segments.
    public mutating func add(_ meters: [OutputMeter]) {
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
        for meter in meters where meter.kind == "recording" {
            counter("thermocolor_segments_written_total", "Recording segments finished.", meter.segments,
                    labels: ["output": meter.name])
        }
    }
}

extension OutputSet: MeasuredOutput {
    public var bytesWritten: Int64 { statuses.reduce(0) { $0 + $1.bytesWritten } }
    public var segmentsFinished: Int { statuses.reduce(0) { $0 + $1.segmentsFinished } }
}
