import Foundation
import Imaging
import MediaIO
import Outputs
import Pipeline
import Synchronization
import TestSupport
import Testing

/// Segmented recording: files that stand alone, start on keyframes, sort by
/// time, and a folder that never outgrows its limits or the disk.
@Suite("Segmented recording", .timeLimit(.minutes(3)))
struct SegmentedRecordingTests {
    /// `thermocolor-YYYYMMDD-HHMMSS.mp4`, oldest first.
    private func segments(in folder: String, prefix: String = "thermocolor", ext: String = "mp4") throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).filter { name in
            name.range(of: "^\(prefix)-[0-9]{8}-[0-9]{6}\\.\(ext)$", options: .regularExpression) != nil
        }.sorted()
    }

    private func record(into target: String, frames: Int, policy: SegmentPolicy, width: Int = 160, height: Int = 128,
                        encoder: EncoderSettings = .lowLatency(frameRate: 25), events: EventLog = EventLog()) throws -> OutputSet {
        let source = try SceneSource(count: frames, width: width, height: height)
        let sink = try OutputSet(targets: [try OutputTarget(parsing: target).segmented()], width: width, height: height,
                                 timeBase: source.timeBase, frameRate: Rational(source.rate, 1), encoder: encoder,
                                 recording: policy, network: .offline, onEvent: events.handler)
        try FramePipeline(source: source, colorizer: try ClassicColorizer(settings: ClassicSettings()), sinks: [sink]).run()
        return sink
    }

    @Test("One-second segments: named by start time in order, each a whole file that starts on a keyframe",
          arguments: [("live", EncoderSettings.lowLatency(frameRate: 25)), ("offline, B-frames, long GOP", EncoderSettings.quality)])
    func rotation(profile: String, encoder: EncoderSettings) throws {
        let folder = try TemporaryFolder("segments")
        defer { folder.cleanup() }
        let events = EventLog()
        let sink = try record(into: folder.path + "/", frames: 130, policy: SegmentPolicy(duration: 1), encoder: encoder, events: events)
        let names = try segments(in: folder.path)
        #expect(names.count == 6, "\(names)")
        // Names sort in the order the files were started.
        let started = events.of(.segmentStarted).map { ($0.message as NSString).lastPathComponent }
        #expect(started == names)
        var counts: [Int] = []
        for name in names {
            let path = folder.file(name)
            let probed = try ffprobe(path)
            #expect(probed.codec == "h264")
            counts.append(probed.frameCount)
            #expect(try keyframeFlags(path).first == true, "\(name) does not start on a keyframe")
            // Each file stands alone: its first frame is shown at 0, the rest 1/25 s apart.
            let times = try frameTimes(path)
            #expect(times.enumerated().allSatisfy { abs($1 - Double($0) / 25) < 0.002 }, "\(name): \(times.prefix(5))")
            #expect(try decodeErrors(path) == "", "\(name)")
        }
        #expect(counts == [25, 25, 25, 25, 25, 5])
        let status = sink.statuses[0]
        #expect(status.segmentsStarted == 6)
        #expect(status.state == .finished)
    }

    @Test("A file target made segmented() keeps its name as the prefix and its container")
    func fileTargetSegments() throws {
        let folder = try TemporaryFolder("named")
        defer { folder.cleanup() }
        _ = try record(into: folder.file("cam.ts"), frames: 60, policy: SegmentPolicy(duration: 1))
        let names = try segments(in: folder.path, prefix: "cam", ext: "ts")
        #expect(names.count == 3)
        for name in names { #expect(try ffprobe(folder.file(name)).container == "mpegts") }
    }

    @Test("A total-size cap deletes the oldest segments and keeps the newest")
    func totalSizeCap() throws {
        let folder = try TemporaryFolder("capped")
        defer { folder.cleanup() }
        // The same clip uncapped, to learn how large a segment is.
        let reference = folder.file("reference")
        _ = try record(into: reference + "/", frames: 200, policy: SegmentPolicy(duration: 1))
        let sizes = try segments(in: reference).map { fileSize(reference + "/" + $0) }
        #expect(sizes.count == 8)
        let cap = Int64(Double(sizes.max()!) * 2.5)

        let capped = folder.file("capped")
        let events = EventLog()
        let sink = try record(into: capped + "/", frames: 200, policy: SegmentPolicy(duration: 1, maxTotalBytes: cap), events: events)
        let kept = try segments(in: capped)
        let deleted = events.of(.segmentDeleted).map { ($0.message.split(separator: ":")[0] as NSString).lastPathComponent }
        let started = events.of(.segmentStarted).map { ($0.message as NSString).lastPathComponent }
        #expect(!deleted.isEmpty)
        #expect(kept.count + deleted.count == started.count)
        // The oldest went, in order; the newest stayed.
        #expect(deleted.map { $0.replacingOccurrences(of: "deleted ", with: "") } == Array(started.prefix(deleted.count)))
        #expect(kept == Array(started.suffix(kept.count)))
        // Closed segments fit the cap; the last one was still growing at the last check.
        let closedTotal = kept.dropLast().map { fileSize(capped + "/" + $0) }.reduce(0, +)
        #expect(closedTotal <= cap)
        #expect(sink.statuses[0].segmentsDeleted == deleted.count)
        for name in kept { #expect(try decodeErrors(capped + "/" + name) == "") }
    }

    @Test("A segment-count limit keeps that many files, the newest")
    func countLimit() throws {
        let folder = try TemporaryFolder("counted")
        defer { folder.cleanup() }
        let events = EventLog()
        let sink = try record(into: folder.path + "/", frames: 200, policy: SegmentPolicy(duration: 1, maxSegments: 3), events: events)
        let kept = try segments(in: folder.path)
        let started = events.of(.segmentStarted).map { ($0.message as NSString).lastPathComponent }
        #expect(started.count == 8)
        #expect(kept == Array(started.suffix(3)))
        #expect(sink.statuses[0].segmentsDeleted == 5)
        #expect(sink.statuses[0].segmentsFinished == 8)
    }

    @Test("Segments older than the age limit go, earlier runs' included; other files stay")
    func ageLimit() throws {
        let folder = try TemporaryFolder("aged")
        defer { folder.cleanup() }
        let old = folder.file("thermocolor-20200101-000000.mp4")
        let unrelated = folder.file("notes-20200101-000000.mp4")
        for path in [old, unrelated] {
            _ = FileManager.default.createFile(atPath: path, contents: Data(repeating: 0, count: 1000))
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_577_836_800)], ofItemAtPath: path)
        }
        let events = EventLog()
        _ = try record(into: folder.path + "/", frames: 50, policy: SegmentPolicy(duration: 1, maxAge: 7 * 86_400), events: events)
        #expect(!FileManager.default.fileExists(atPath: old))
        #expect(FileManager.default.fileExists(atPath: unrelated))
        #expect(try segments(in: folder.path).count == 2)
        #expect(events.of(.segmentDeleted).first?.message.contains("older than 7 d") == true)
    }

    /// A disk of `capacity` bytes holding only this folder.
    private func simulatedDisk(capacity: Int64) -> @Sendable (String) -> Int64? {
        { folder in
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            return capacity - names.map { fileSize(folder + "/" + $0) }.reduce(0, +)
        }
    }

    @Test("Free-space guard, delete: the oldest segments make room and recording goes on")
    func freeSpaceDeletes() throws {
        let folder = try TemporaryFolder("guard")
        defer { folder.cleanup() }
        let reference = folder.file("reference")
        _ = try record(into: reference + "/", frames: 50, policy: SegmentPolicy(duration: 1))
        let segment = try segments(in: reference).map { fileSize(reference + "/" + $0) }.max()!

        let recordings = folder.file("recordings")
        let capacity = segment * 6
        let events = EventLog()
        let policy = SegmentPolicy(duration: 1, minFreeBytes: segment * 2, onFull: .delete, availableBytes: simulatedDisk(capacity: capacity))
        let sink = try record(into: recordings + "/", frames: 250, policy: policy, events: events)
        #expect(!events.of(.segmentDeleted).isEmpty)
        #expect(events.of(.recordingStopped).isEmpty, "\(events.all)")
        let kept = try segments(in: recordings)
        let used = kept.map { fileSize(recordings + "/" + $0) }.reduce(0, +)
        #expect(used <= capacity - segment, "the simulated disk would have filled: \(used) of \(capacity)")
        #expect(sink.statuses[0].packetsDropped == 0)
        for name in kept { #expect(try decodeErrors(recordings + "/" + name) == "") }
    }

    @Test("Free-space guard, stop: the open segment is closed cleanly and recording stops")
    func freeSpaceStops() throws {
        let folder = try TemporaryFolder("guard-stop")
        defer { folder.cleanup() }
        let reference = folder.file("reference")
        _ = try record(into: reference + "/", frames: 50, policy: SegmentPolicy(duration: 1))
        let segment = try segments(in: reference).map { fileSize(reference + "/" + $0) }.max()!

        let recordings = folder.file("recordings")
        let events = EventLog()
        let policy = SegmentPolicy(duration: 1, minFreeBytes: segment * 2, onFull: .stop, availableBytes: simulatedDisk(capacity: segment * 6))
        let sink = try record(into: recordings + "/", frames: 250, policy: policy, events: events)
        #expect(events.of(.recordingStopped).count == 1, "\(events.all)")
        #expect(events.of(.segmentDeleted).isEmpty)
        let status = sink.statuses[0]
        #expect(status.state == .stopped)
        #expect(status.packetsDropped > 0)
        let kept = try segments(in: recordings)
        #expect(!kept.isEmpty)
        var frames = 0
        for name in kept {
            #expect(try decodeErrors(recordings + "/" + name) == "")
            frames += try ffprobe(recordings + "/" + name).frameCount
        }
        #expect(frames < 250)
    }

    @Test("Free-space guard on a real, small tmpfs: the disk never fills",
          .enabled(if: getuid() == 0, "mounting a tmpfs needs root"))
    func freeSpaceOnTmpfs() throws {
        let folder = try TemporaryFolder("tmpfs")
        defer { folder.cleanup() }
        let mountPoint = folder.file("disk")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mounted = try runProcess("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mountPoint])
        guard mounted.status == 0 else {
            print("skipping: cannot mount a tmpfs here (\(mounted.error.trimmingCharacters(in: .whitespacesAndNewlines)))")
            return
        }
        defer { _ = try? runProcess("umount", [mountPoint]) }

        // Big, noisy frames at high quality: about half a megabyte a second.
        let events = EventLog()
        let policy = SegmentPolicy(duration: 1, minFreeBytes: 1_500_000, onFull: .delete)
        let sink = try record(into: mountPoint + "/", frames: 250, policy: policy, width: 320, height: 256,
                              encoder: EncoderSettings(crf: 12, preset: "ultrafast", keyframeInterval: 25), events: events)
        #expect(!events.of(.segmentDeleted).isEmpty, "the recording never came near the floor: \(sink.statuses[0])")
        #expect(events.of(.failed).isEmpty)
        let free = SegmentPolicy.filesystemAvailableBytes(mountPoint) ?? 0
        #expect(free > 0)
        for name in try segments(in: mountPoint) { #expect(try decodeErrors(mountPoint + "/" + name) == "") }
    }
}
