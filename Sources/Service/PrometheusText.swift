import Foundation
import Pipeline

/// Builds a page in Prometheus' text exposition format (version 0.0.4):
/// `# HELP` and `# TYPE` once per family, then its samples.
package struct PrometheusText: Sendable {
    package enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    package typealias Labels = KeyValuePairs<String, String>

    package private(set) var text = ""
    private var families: Set<String> = []

    package init() {}

    /// A counter: a total that only grows (`_total` by convention).
    package mutating func counter(_ name: String, _ help: String, _ value: Double, labels: Labels = [:]) {
        sample(name, kind: .counter, help: help, value: value, labels: labels)
    }

    package mutating func counter(_ name: String, _ help: String, _ value: Int, labels: Labels = [:]) {
        counter(name, help, Double(value), labels: labels)
    }

    /// A gauge: a value that goes up and down.
    package mutating func gauge(_ name: String, _ help: String, _ value: Double, labels: Labels = [:]) {
        sample(name, kind: .gauge, help: help, value: value, labels: labels)
    }

    package mutating func gauge(_ name: String, _ help: String, _ value: Int, labels: Labels = [:]) {
        gauge(name, help, Double(value), labels: labels)
    }

    /// A histogram from per-bucket (not yet cumulative) counts; `counts` has
    /// one more entry than `upperBounds`, for the samples above every bound.
    package mutating func histogram(_ name: String, _ help: String, upperBounds: [Double], counts: [Int], sum: Double) {
        header(name, kind: .histogram, help: help)
        var cumulative = 0
        for (index, bound) in upperBounds.enumerated() {
            cumulative += index < counts.count ? counts[index] : 0
            text += "\(name)_bucket{le=\"\(Self.format(bound))\"} \(cumulative)\n"
        }
        let total = counts.reduce(0, +)
        text += "\(name)_bucket{le=\"+Inf\"} \(total)\n"
        text += "\(name)_sum \(Self.format(sum))\n"
        text += "\(name)_count \(total)\n"
    }

    private mutating func sample(_ name: String, kind: Kind, help: String, value: Double, labels: Labels) {
        header(name, kind: kind, help: help)
        text += name
        if !labels.isEmpty {
            text += "{" + labels.map { "\($0.key)=\"\(Self.escape($0.value))\"" }.joined(separator: ",") + "}"
        }
        text += " \(Self.format(value))\n"
    }

    private mutating func header(_ name: String, kind: Kind, help: String) {
        guard families.insert(name).inserted else { return }
        text += "# HELP \(name) \(help.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n"))\n"
        text += "# TYPE \(name) \(kind.rawValue)\n"
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}

extension PrometheusText {
    /// The pipeline's counters, stage times, queue depths and latency histogram.
    ///
    /// Written and dropped are read before captured, so a scrape taken while
    /// frames flow never shows more frames out than in.
    package mutating func add(_ statistics: PipelineStatistics) {
        let written = statistics.framesWritten
        let dropped = statistics.framesDropped
        let captured = statistics.framesCaptured
        counter("thermocolor_frames_captured_total", "Frames taken from the source.", captured)
        counter("thermocolor_frames_written_total", "Frames that reached every output.", written)
        counter("thermocolor_frames_dropped_total", "Frames dropped because processing was slower than the source.", dropped)
        gauge("thermocolor_frames_in_flight", "Frames captured but neither written nor dropped yet.", max(0, captured - written - dropped))
        let latency = statistics.latency
        histogram("thermocolor_frame_latency_seconds", "Time from a frame leaving the source to its picture accepted by every output.",
                  upperBounds: latency.boundsMilliseconds.map { $0 / 1000 }, counts: latency.bucketCounts, sum: latency.sumSeconds)
        for clock in [statistics.capture, statistics.colorize, statistics.encode] {
            counter("thermocolor_stage_seconds_total", "Time spent in each stage (colorize is inference for neural models).",
                    clock.totalSeconds, labels: ["stage": clock.name])
        }
        for clock in [statistics.capture, statistics.colorize, statistics.encode] {
            counter("thermocolor_stage_frames_total", "Frames each stage has handled.", clock.frames, labels: ["stage": clock.name])
        }
        gauge("thermocolor_queue_depth", "Frames waiting between stages.", statistics.capturedQueueDepth, labels: ["queue": "capture"])
        gauge("thermocolor_queue_depth", "Frames waiting between stages.", statistics.processedQueueDepth, labels: ["queue": "output"])
    }
}
