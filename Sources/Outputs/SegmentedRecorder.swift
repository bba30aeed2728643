import Foundation
import MediaIO
import Pipeline

/// What a segmented recording does when free space falls under its floor.
package enum FullDiskAction: String, Sendable, CaseIterable {
    /// Delete the oldest segments; if none are left, pause until space returns.
    case delete
    /// Close the open segment and record no more.
    case stop
}

/// How a recording is cut into files and how much of the disk it may keep.
package struct SegmentPolicy: Sendable {
    /// Seconds of video per file (at least 1). Each file starts on a keyframe.
    package var duration: Double
    /// Delete the oldest segments while all of them together exceed this.
    package var maxTotalBytes: Int64?
    /// Keep at most this many segments, the open one included.
    package var maxSegments: Int?
    /// Delete segments last written longer ago than this many seconds.
    package var maxAge: Double?
    /// Keep at least this much free on the recording's filesystem (see `onFull`).
    package var minFreeBytes: Int64?
    package var onFull: FullDiskAction
    /// Bytes free for the recording in a folder: `statvfs` unless replaced (tests,
    /// or a quota the filesystem does not show).
    package var availableBytes: @Sendable (String) -> Int64?

    package init(duration: Double = 60, maxTotalBytes: Int64? = nil, maxSegments: Int? = nil, maxAge: Double? = nil,
                minFreeBytes: Int64? = nil, onFull: FullDiskAction = .delete,
                availableBytes: @escaping @Sendable (String) -> Int64? = SegmentPolicy.filesystemAvailableBytes) {
        self.duration = duration
        self.maxTotalBytes = maxTotalBytes
        self.maxSegments = maxSegments
        self.maxAge = maxAge
        self.minFreeBytes = minFreeBytes
        self.onFull = onFull
        self.availableBytes = availableBytes
    }

    /// Same length and limits; the free-space probe, a closure, cannot be compared.
    package func hasSameLimits(as other: SegmentPolicy) -> Bool {
        duration == other.duration && maxTotalBytes == other.maxTotalBytes && maxSegments == other.maxSegments
            && maxAge == other.maxAge && minFreeBytes == other.minFreeBytes && onFull == other.onFull
    }

    /// Bytes an unprivileged writer may still use on the filesystem holding `path`.
    package static func filesystemAvailableBytes(_ path: String) -> Int64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }
}

/// A recording cut into self-contained files named by their start time in
/// UTC, `FOLDER/PREFIX-YYYYMMDD-HHMMSS.EXT`, so names sort in time order.
///
/// Every file begins with a keyframe (the recorder asks the encoder for one at
/// each boundary) and is fragmented MP4 (or MPEG-TS / Matroska), written
/// packet by packet: a SIGKILL or power cut loses at most the fragment being
/// written, about a second. Rotation (`maxTotalBytes`, `maxAge`) runs when a
/// file opens and about once a second of video; the free-space guard runs
/// before every packet, counting what the muxer still holds (an MP4 fragment
/// goes to disk whole), so the disk never fills between two checks. A write
/// that fails anyway is an error of the run, and no empty file is left behind.
final class SegmentedRecorder: PacketOutput {
    let reporter: OutputReporter
    private let folder: String
    private let prefix: String
    private let fileExtension: String
    private let muxerFormat: String
    private let stream: EncodedStreamFormat
    private let keyframes: KeyframeTrigger
    private let policy: SegmentPolicy
    private let durationTicks: Int64
    private let checkTicks: Int64

    private struct Segment {
        var path: String
        var bytes: Int64
        var modified: Date
    }
    private var closedSegments: [Segment] = []
    private var muxer: PacketMuxer?
    private var segmentStart: Int64 = 0
    private var keyframeAsked = false
    private var lastCheck: Int64?
    private var origin: (pts: Int64, date: Date)?
    private var lastNameSecond = Int.min
    private var paused = false
    private var stopped = false

    /// - Parameters:
    ///   - prefix: file names start with it (`thermocolor` for a folder target, the stem for a file target).
    init(folder: String, prefix: String, fileExtension: String, muxerFormat: String, stream: EncodedStreamFormat,
         keyframes: KeyframeTrigger, policy: SegmentPolicy, target: String, events: (@Sendable (OutputEvent) -> Void)?) throws {
        reporter = OutputReporter(target: target, handler: events)
        self.folder = folder.isEmpty ? "." : folder
        self.prefix = prefix
        self.fileExtension = fileExtension
        self.muxerFormat = muxerFormat
        self.stream = stream
        self.keyframes = keyframes
        self.policy = policy
        let oneSecond = Rational(1, 1).rescale(1, to: stream.timeBase)
        durationTicks = max(1, Int64((max(1, policy.duration) * Double(oneSecond)).rounded()))
        checkTicks = max(1, oneSecond)
        do {
            try FileManager.default.createDirectory(atPath: self.folder, withIntermediateDirectories: true)
        } catch {
            throw MediaError("cannot write", self.folder, reason: "cannot make the folder: \(error.localizedDescription)")
        }
        guard FileManager.default.isWritableFile(atPath: self.folder) else {
            throw MediaError("cannot write", self.folder, reason: "the folder is not writable")
        }
        closedSegments = existingSegments()
        reporter.update { $0.state = .active }
    }

    func willEncode(pts: Int64) {
        guard !stopped, !paused, !keyframeAsked else { return }
        if muxer == nil || pts >= segmentStart + durationTicks {
            keyframes.request()
            keyframeAsked = true
        }
    }

    func send(_ packet: EncodedPacket) throws {
        guard !stopped else { return drop() }
        if origin == nil { origin = (packet.pts, Date()) }
        if paused {
            guard isDue(packet.pts), hasRoom() else { return drop() }
            paused = false
            keyframes.request()
            reporter.update { $0.state = .active }
            reporter.report(.recordingResumed, "free space is back; recording again")
        }
        if muxer != nil, packet.isKeyframe, packet.pts >= segmentStart + durationTicks {
            try closeSegment()
        }
        if muxer == nil {
            guard packet.isKeyframe else {
                if !keyframeAsked { keyframes.request(); keyframeAsked = true }
                return drop()
            }
            guard enforceLimits() else { return drop() }
            try openSegment(at: packet.pts)
        }
        guard let muxer else { return drop() }
        // Before every packet, not once a second: the next write may be the one
        // that flushes a whole fragment.
        if policy.minFreeBytes != nil, !ensureFreeSpace(reserve: pendingBytes(muxer) + Int64(packet.size)) { return drop() }
        guard let muxer = self.muxer else { return drop() }
        try muxer.write(packet)
        reporter.update {
            $0.packetsWritten += 1
            $0.bytesWritten += Int64(packet.size)
        }
        if isDue(packet.pts) { _ = enforceLimits() }
    }

    func finish() throws {
        defer { reporter.update { if $0.state == .active { $0.state = .finished } } }
        try closeSegment()
    }

    // MARK: Files

    private func openSegment(at pts: Int64) throws {
        let path = nextPath(for: pts)
        do {
            muxer = try PacketMuxer(path, stream: stream, output: OutputOptions(format: muxerFormat), startsAtZero: true)
        } catch {
            // A header that could not be written leaves an empty or broken file: not a segment.
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
        segmentStart = pts
        keyframeAsked = false
        lastCheck = pts
        reporter.update {
            $0.segmentsStarted += 1
            $0.currentFile = path
        }
        reporter.report(.segmentStarted, "recording \(path)")
    }

    private func closeSegment() throws {
        guard let muxer else { return }
        self.muxer = nil
        let path = muxer.location
        reporter.update { $0.currentFile = nil }
        guard muxer.packetsWritten > 0 else {
            // Closed before its first frame (the guard stopped it): nothing worth keeping.
            try? muxer.finish()
            try? FileManager.default.removeItem(atPath: path)
            return
        }
        try muxer.finish()
        // A closed segment is on the platter, not just in the page cache, before it counts as kept.
        let descriptor = open(path, O_RDONLY)
        if descriptor >= 0 {
            fsync(descriptor)
            close(descriptor)
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        closedSegments.append(Segment(path: path, bytes: (attributes?[.size] as? NSNumber)?.int64Value ?? muxer.bytesWritten,
                                      modified: attributes?[.modificationDate] as? Date ?? Date()))
        reporter.update { $0.segmentsFinished += 1 }
    }

    /// `PREFIX-YYYYMMDD-HHMMSS.EXT` for the moment `pts` was captured: the
    /// wall clock when recording began plus the video time since. Never the
    /// same second twice, never an existing file.
    private func nextPath(for pts: Int64) -> String {
        let start = origin ?? (pts, Date())
        let offset = Double(pts - start.pts) * stream.timeBase.doubleValue
        var second = max(Int((start.date.timeIntervalSince1970 + offset).rounded(.down)), lastNameSecond + 1)
        var path = folder + "/" + segmentName(second)
        while FileManager.default.fileExists(atPath: path) {
            second += 1
            path = folder + "/" + segmentName(second)
        }
        lastNameSecond = second
        return path
    }

    private func segmentName(_ epochSecond: Int) -> String {
        var time = time_t(epochSecond)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(format: "%@-%04d%02d%02d-%02d%02d%02d.%@", prefix, parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, fileExtension)
    }

    /// Segments of this recording already in the folder (from earlier runs), oldest first.
    private func existingSegments() -> [Segment] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter(isSegmentName).sorted().compactMap { name in
            let path = folder + "/" + name
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
            return Segment(path: path, bytes: (attributes[.size] as? NSNumber)?.int64Value ?? 0,
                           modified: attributes[.modificationDate] as? Date ?? Date())
        }
    }

    private func isSegmentName(_ name: String) -> Bool {
        let head = prefix + "-"
        let tail = "." + fileExtension
        guard name.hasPrefix(head), name.hasSuffix(tail) else { return false }
        let stamp = name.dropFirst(head.count).dropLast(tail.count)
        return stamp.count == 15 && stamp.enumerated().allSatisfy { index, character in
            index == 8 ? character == "-" : character.isASCII && character.isNumber
        }
    }

    // MARK: Limits

    private func isDue(_ pts: Int64) -> Bool {
        guard let lastCheck, pts - lastCheck < checkTicks else {
            lastCheck = pts
            return true
        }
        return false
    }

    /// Bytes given to the muxer that are not in the file yet (an MP4 fragment being gathered).
    private func pendingBytes(_ muxer: PacketMuxer) -> Int64 {
        var info = stat()
        guard stat(muxer.location, &info) == 0 else { return muxer.bytesWritten }
        return max(0, muxer.bytesWritten - Int64(info.st_size))
    }

    private func hasRoom() -> Bool {
        guard let minimum = policy.minFreeBytes, let free = policy.availableBytes(folder) else { return true }
        return free >= minimum
    }

    /// Applies age, total-size and free-space limits. - Returns: false when
    /// recording had to stop (or pause) for lack of space.
    private func enforceLimits() -> Bool {
        if let maxAge = policy.maxAge {
            let cutoff = Date(timeIntervalSinceNow: -maxAge)
            while let oldest = closedSegments.first, oldest.modified < cutoff {
                delete(oldest, because: "older than \(formatSeconds(maxAge))")
            }
        }
        if let maxTotal = policy.maxTotalBytes {
            let current = muxer?.bytesWritten ?? 0
            while !closedSegments.isEmpty, closedSegments.reduce(current, { $0 + $1.bytes }) > maxTotal {
                delete(closedSegments[0], because: "recordings exceed \(formatByteCount(maxTotal))")
            }
        }
        if let maxSegments = policy.maxSegments {
            // The segment about to open (or open) counts as one.
            while !closedSegments.isEmpty, closedSegments.count + 1 > max(1, maxSegments) {
                delete(closedSegments[0], because: "more than \(maxSegments) segments")
            }
        }
        return ensureFreeSpace(reserve: 0)
    }

    /// The free-space guard: deletes the oldest segments (or halts) while
    /// free space less `reserve` is under `minFreeBytes`.
    /// - Returns: false when recording had to stop (or pause).
    private func ensureFreeSpace(reserve: Int64) -> Bool {
        guard let minimum = policy.minFreeBytes else { return true }
        while let free = policy.availableBytes(folder), free - reserve < minimum {
            if policy.onFull == .delete, let oldest = closedSegments.first {
                delete(oldest, because: "free space \(formatByteCount(free)) is under \(formatByteCount(minimum))")
                continue
            }
            haltForSpace(free: free, minimum: minimum, reserve: reserve)
            return false
        }
        return true
    }

    private func delete(_ segment: Segment, because reason: String) {
        closedSegments.removeFirst()
        do {
            try FileManager.default.removeItem(atPath: segment.path)
            reporter.update { $0.segmentsDeleted += 1 }
            reporter.report(.segmentDeleted, "deleted \(segment.path): \(reason)")
        } catch {
            reporter.report(.failed, "cannot delete \(segment.path): \(error.localizedDescription)")
        }
    }

    private func haltForSpace(free: Int64, minimum: Int64, reserve: Int64) {
        do {
            try closeSegment()
        } catch {
            reporter.update {
                $0.state = .failed
                $0.lastError = "\(error)"
            }
            reporter.report(.failed, "\(error)")
        }
        let why = free >= minimum
            ? "free space \(formatByteCount(free)) would fall under \(formatByteCount(minimum)) with the next \(formatByteCount(reserve))"
            : "free space \(formatByteCount(free)) is under \(formatByteCount(minimum))"
        keyframeAsked = false
        if policy.onFull == .stop {
            stopped = true
            reporter.report(.recordingStopped, "\(why); recording stopped")
        } else {
            paused = true
            reporter.report(.recordingStopped, "\(why) and no segment is left to delete; recording paused until space is free")
        }
        reporter.update {
            if $0.state != .failed { $0.state = .stopped }
            $0.lastError = why
        }
    }

    private func drop() {
        reporter.update { $0.packetsDropped += 1 }
    }
}

/// "1.5 GiB", "800 MiB", "12 KiB": powers of 1024, as `df -h` and the size options count.
func formatByteCount(_ bytes: Int64) -> String {
    let value = Double(bytes)
    let kibi = 1024.0
    if value >= kibi * kibi * kibi { return String(format: "%.1f GiB", value / (kibi * kibi * kibi)) }
    if value >= kibi * kibi { return String(format: "%.1f MiB", value / (kibi * kibi)) }
    if value >= kibi { return String(format: "%.0f KiB", value / kibi) }
    return "\(bytes) B"
}

/// "7 d", "12 h", "90 s".
func formatSeconds(_ seconds: Double) -> String {
    if seconds >= 86_400, seconds.truncatingRemainder(dividingBy: 86_400) == 0 { return "\(Int(seconds / 86_400)) d" }
    if seconds >= 3600, seconds.truncatingRemainder(dividingBy: 3600) == 0 { return "\(Int(seconds / 3600)) h" }
    return String(format: "%.0f s", seconds)
}
