import ArgumentParser
import Foundation
import MediaIO
import Outputs
import Pipeline

/// More outputs beside the main one, for commands that write video.
struct MoreOutputOptions: ParsableArguments {
    @Option(name: .customLong("output"),
            help: "Another output (repeatable): a file, a folder/ of segments, rtsp://HOST:PORT/PATH, udp://HOST:PORT, srt://HOST:PORT or hls:FOLDER. Network and HLS outputs take ?bitrate=800k, ?crf=N, ?preset=NAME for an encoder of their own; rtsp:// takes ?transport=udp.")
    var outputs: [String] = []

    /// The parsed targets; `format` applies to file targets.
    func targets(format: String? = nil) throws -> [OutputTarget] {
        try outputs.map { text in
            do { return try OutputTarget(parsing: text, format: format) } catch let error as OutputTargetError {
                throw ValidationError(error.description)
            }
        }
    }
}

/// Segmented recording: file length, rotation and the free-space guard.
struct RecordingOptions: ParsableArguments {
    @Option(help: "Cut file outputs into self-contained files of this length, named by start time (UTC): 60s, 5m, 1h.")
    var segment: String?

    @Option(help: "Delete the oldest segments while all of them exceed this: 500M, 2G (powers of 1024).")
    var maxTotal: String?

    @Option(help: "Keep at most this many segments, deleting the oldest.")
    var maxFiles: Int?

    @Option(help: "Delete segments older than this: 12h, 7d.")
    var maxAge: String?

    @Option(help: "Keep at least this much of the recording's disk free: 1G.")
    var minFree: String?

    @Option(help: "Below --min-free: delete the oldest segments (and pause if none are left), or stop recording.")
    var onFull: FullDiskAction = .delete

    /// The policy, or nil when no recording option was given.
    func policy() throws -> SegmentPolicy? {
        guard segment != nil || hasLimits else { return nil }
        var policy = SegmentPolicy()
        if let segment {
            let seconds = try parseDuration(segment, option: "--segment")
            guard seconds >= 1 else { throw ValidationError("--segment must be at least 1s, got '\(segment)'") }
            policy.duration = seconds
        }
        policy.maxTotalBytes = try maxTotal.map { try parseByteSize($0, option: "--max-total") }
        if let maxFiles, maxFiles < 1 { throw ValidationError("--max-files must be at least 1") }
        policy.maxSegments = maxFiles
        policy.maxAge = try maxAge.map { try parseDuration($0, option: "--max-age") }
        policy.minFreeBytes = try minFree.map { try parseByteSize($0, option: "--min-free") }
        policy.onFull = onFull
        return policy
    }

    /// `targets` with file outputs cut into segments when `--segment` is given.
    /// - Throws: when limits are given but nothing records in segments.
    func apply(to targets: [OutputTarget]) throws -> [OutputTarget] {
        let result = segment == nil ? targets : targets.map { $0.segmented() }
        if hasLimits, !result.contains(where: { $0.kind == .segments }) {
            throw ValidationError("--max-total, --max-files, --max-age and --min-free apply to segmented recordings: add --segment 60s or a folder/ output")
        }
        return result
    }

    private var hasLimits: Bool { maxTotal != nil || maxFiles != nil || maxAge != nil || minFree != nil }
}

extension FullDiskAction: ExpressibleByArgument {}
extension EncoderAcceleration: ExpressibleByArgument {}

/// "90", "90s", "5m", "1.5h", "7d" → seconds.
func parseDuration(_ text: String, option: String) throws -> Double {
    let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
    let lower = text.lowercased().trimmingCharacters(in: .whitespaces)
    let unit = lower.last.flatMap { units[$0] }
    let digits = unit == nil ? lower : String(lower.dropLast())
    guard let value = Double(digits), value > 0, value.isFinite else {
        throw ValidationError("\(option) '\(text)' is not a duration like 60s, 5m, 12h or 7d")
    }
    return value * (unit ?? 1)
}

/// "500M", "2G", "1.5T", "800k", "1000000" → bytes (powers of 1024).
func parseByteSize(_ text: String, option: String) throws -> Int64 {
    let units: [Character: Double] = ["k": 1024, "m": 1024 * 1024, "g": 1024 * 1024 * 1024, "t": 1024 * 1024 * 1024 * 1024]
    var lower = text.lowercased().trimmingCharacters(in: .whitespaces)
    if lower.hasSuffix("ib") { lower.removeLast(2) } else if lower.hasSuffix("b") { lower.removeLast() }
    let unit = lower.last.flatMap { units[$0] }
    let digits = unit == nil ? lower : String(lower.dropLast())
    guard let value = Double(digits), value > 0, value * (unit ?? 1) < 9e18 else {
        throw ValidationError("\(option) '\(text)' is not a size like 500M, 2G or 1T")
    }
    return Int64(value * (unit ?? 1))
}

/// One stderr line per output event worth a person's attention; segment
/// starts are routine and stay quiet. Clears a progress bar's line first.
@Sendable func reportOutputEvent(_ event: OutputEvent) {
    guard event.kind != .segmentStarted else { return }
    if isatty(STDERR_FILENO) == 1 { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    printError(event.description)
}

/// "also wrote rtsp://…: 1500 packets (2.1 MB), 12 dropped, 1 reconnect".
func describe(_ status: OutputStatus) -> String {
    var line = "also wrote \(status.target): \(status.packetsWritten) packets (\(formatBytes(status.bytesWritten)))"
    if status.segmentsStarted > 0 { line += " in \(status.segmentsStarted) segments" }
    if status.segmentsDeleted > 0 { line += ", \(status.segmentsDeleted) old segments deleted" }
    if status.packetsDropped > 0 { line += ", \(status.packetsDropped) dropped" }
    if status.reconnects > 0 { line += ", \(status.reconnects) reconnect\(status.reconnects == 1 ? "" : "s")" }
    if status.state == .stopped { line += "; recording stopped: \(status.lastError ?? "disk full")" }
    return line
}
