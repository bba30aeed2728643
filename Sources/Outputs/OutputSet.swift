import Foundation
import Imaging
import MediaIO
import Pipeline
import Synchronization
import Threading

/// Every output of a run behind one `FrameSink`: files, segmented recordings,
/// RTSP/UDP/SRT streams and HLS, fed from as few encoders as possible.
///
/// Outputs whose encoder settings agree share one encoder (a recording and an
/// RTSP stream, say); an output with its own `?bitrate=` or `?crf=` gets an
/// encoder of its own. Encoders that feed a file or a recording run on the
/// caller's thread (the pipeline's sink thread), so a recording never loses a
/// frame; the others run on threads of their own and skip pictures when
/// behind (live) or wait (offline). Network outputs only queue packets on the
/// encoder's thread and do their I/O, reconnecting as needed, on their own.
///
/// ```swift
/// let outputs = try OutputSet(targets: [try OutputTarget(parsing: "recordings/"),
///                                       try OutputTarget(parsing: "rtsp://127.0.0.1:8554/thermal")],
///                             width: 640, height: 512, timeBase: info.timeBase, frameRate: info.frameRate,
///                             encoder: .lowLatency(frameRate: 30), recording: SegmentPolicy(duration: 60),
///                             onEvent: { print($0) })
/// let pipeline = FramePipeline(source: camera, colorizer: colorizer, sinks: [outputs], options: .live)
/// ```
package final class OutputSet: FrameSink, @unchecked Sendable {
    package let targets: [OutputTarget]
    package let timeBase: Rational
    private let groups: [EncoderGroup]
    /// Outputs in the order of `targets`.
    private let outputs: [PacketOutput]
    private var finished = false
    /// Pictures handed to `write`: what every output should deliver.
    private let offered = Atomic<Int>(0)

    /// Opens every file output and encoder now (so a bad path fails at once)
    /// and starts the network outputs, which connect in the background.
    /// - Parameters:
    ///   - timeBase: the unit of the frames' `pts`; usually the input's.
    ///   - encoder: settings shared by every output; `EncoderSettings.lowLatency(frameRate:)` for live runs.
    ///   - recording: segment length and limits of `.segments` targets (folders, or files made
    ///     `segmented()`); one-minute segments without limits when nil.
    ///   - network: queueing, timeouts and retry delays of network outputs; `.live` or `.offline`.
    ///   - onEvent: called from output threads with connection, segment and disk events; keep it quick.
    /// - Throws: `MediaError` for an output that cannot be opened, `OutputTargetError` for none at all.
    package init(targets: [OutputTarget], width: Int, height: Int, timeBase: Rational, frameRate: Rational?,
                encoder: EncoderSettings, recording: SegmentPolicy? = nil, network: NetworkPolicy = .live,
                onEvent: (@Sendable (OutputEvent) -> Void)? = nil) throws {
        guard !targets.isEmpty else { throw OutputTargetError("", "no output given") }
        self.targets = targets
        self.timeBase = timeBase

        // One encoder per distinct settings, in order of first use.
        var settingsList: [EncoderSettings] = []
        var groupOfTarget: [Int] = []
        for target in targets {
            let settings = target.encoder ?? target.encoderOverrides.applied(to: encoder)
            if let index = settingsList.firstIndex(of: settings) {
                groupOfTarget.append(index)
            } else {
                groupOfTarget.append(settingsList.count)
                settingsList.append(settings)
            }
        }
        var encoders: [VideoEncoder] = []
        var notes: Set<String> = []
        for (index, settings) in settingsList.enumerated() {
            let label = targets.indices.filter { groupOfTarget[$0] == index }.map { targets[$0].text }.joined(separator: ", ")
            let opened = try VideoEncoder(width: width, height: height, timeBase: timeBase, frameRate: frameRate,
                                          settings: settings, label: label)
            if let note = opened.fallbackNote, notes.insert(note).inserted {
                onEvent?(OutputEvent(.encoderFallback, target: "encoder", message: note))
            }
            if let note = opened.cropNote, notes.insert(note).inserted {
                onEvent?(OutputEvent(.pictureCropped, target: label, message: note))
            }
            encoders.append(opened)
        }

        // Files first: they can fail, and nothing has started yet to undo.
        var built: [PacketOutput?] = Array(repeating: nil, count: targets.count)
        for (index, target) in targets.enumerated() where !target.kind.isNetwork {
            let encoder = encoders[groupOfTarget[index]]
            built[index] = try Self.makeFileOutput(target, encoder: encoder, recording: recording, events: onEvent)
        }
        for (index, target) in targets.enumerated() where target.kind.isNetwork {
            let encoder = encoders[groupOfTarget[index]]
            built[index] = NetworkOutput(target: target, stream: encoder.stream, keyframes: encoder.keyframes,
                                         policy: network, events: onEvent)
        }
        let outputs = built.map { $0! }
        self.outputs = outputs

        let records = settingsList.indices.map { group in
            targets.indices.contains { groupOfTarget[$0] == group && (targets[$0].kind == .file || targets[$0].kind == .segments) }
        }
        groups = encoders.enumerated().map { index, encoder in
            let members = outputs.indices.filter { groupOfTarget[$0] == index }.map { outputs[$0] }
            // Recordings never lose a frame: their encoders run inline. So does the first
            // encoder when nothing records, so a live-only run needs no extra thread.
            let inline = records[index] || (!records.contains(true) && index == 0)
            return EncoderGroup(encoder: encoder, outputs: members, threaded: !inline,
                                overflow: network.blocks ? .block : .dropLate(after: network.queueSeconds))
        }
    }

    deinit {
        try? finish()
    }

    /// Encoders in use, by libavcodec name (`libx264`, `h264_vaapi`…): one per distinct setting.
    package var encoderNames: [String] { groups.map(\.encoder.encoderName) }

    /// Each output's state and counters, in the order of `targets`.
    package var statuses: [OutputStatus] {
        let offered = offered.load(ordering: .relaxed)
        return outputs.map {
            var status = $0.reporter.status
            status.framesOffered = offered
            return status
        }
    }

    /// Stops every network output from holding up the encoder (an interrupted
    /// offline run): what cannot be sent at once is dropped and counted. From any thread.
    package func stopWaiting() {
        for output in outputs { output.stopWaiting() }
    }

    package func write(_ picture: EncoderPicture, for frame: ThermalFrame) throws {
        guard !finished else { throw PipelineError("the outputs are already closed") }
        offered.add(1, ordering: .relaxed)
        let pts = frame.timeBase == timeBase ? frame.pts : frame.timeBase.rescale(frame.pts, to: timeBase)
        for group in groups { try group.submit(picture, pts: pts) }
    }

    /// Flushes the encoders, closes every file (finishing the open segment) and
    /// ends each stream, waiting a bounded time for slow peers. Safe to call twice.
    package func finish() throws {
        guard !finished else { return }
        finished = true
        var firstError: Error? = nil
        for group in groups {
            do { try group.drain() } catch { if firstError == nil { firstError = error } }
        }
        for output in outputs { output.closeInput() }
        for output in outputs {
            do { try output.finish() } catch { if firstError == nil { firstError = error } }
        }
        if let firstError { throw firstError }
    }

    private static func makeFileOutput(_ target: OutputTarget, encoder: VideoEncoder, recording: SegmentPolicy?,
                                       events: (@Sendable (OutputEvent) -> Void)?) throws -> PacketOutput {
        guard target.kind == .segments else {
            return try FileOutput(target: target, stream: encoder.stream, keyframes: encoder.keyframes, events: events)
        }
        return try SegmentedRecorder(folder: target.location, prefix: target.segmentPrefix, fileExtension: target.segmentExtension,
                                     muxerFormat: target.output.format ?? "mp4", stream: encoder.stream,
                                     keyframes: encoder.keyframes, policy: target.segmentPolicy ?? recording ?? SegmentPolicy(),
                                     target: target.text,
                                     events: events)
    }
}

/// One encoder and the outputs it feeds, inline or on a thread of its own.
final class EncoderGroup: @unchecked Sendable {
    let encoder: VideoEncoder
    private let outputs: [PacketOutput]
    private let pending: BoundedQueue<(EncoderPicture, Int64)>?
    private var worker: StageThread?
    private let failure = Mutex<Error?>(nil)

    init(encoder: VideoEncoder, outputs: [PacketOutput], threaded: Bool, overflow: OverflowPolicy) {
        self.encoder = encoder
        self.outputs = outputs
        if threaded {
            // Live, room for a burst: only a picture that waited too long is skipped.
            let queue = BoundedQueue<(EncoderPicture, Int64)>(capacity: overflow.neverDrops ? 4 : 32, policy: overflow)
            pending = queue
            let reporters = outputs.map(\.reporter)
            worker = StageThread(name: "thermocolor.encoder") { [self] in
                var counted = 0
                // A skipped picture is a frame each of these outputs never gets.
                func countSkipped() {
                    let skipped = queue.dropped
                    guard skipped > counted else { return }
                    for reporter in reporters { reporter.update { $0.packetsDropped += skipped - counted } }
                    counted = skipped
                }
                defer { countSkipped() }
                while let (picture, pts) = queue.pop() {
                    countSkipped()
                    do {
                        try encode(picture, pts: pts)
                    } catch {
                        fail(error)
                        return
                    }
                }
                do { try deliver(self.encoder.flush()) } catch { fail(error) }
            }
            worker?.start()
        } else {
            pending = nil
        }
    }

    /// Encodes now (inline) or hands over to the worker; throws the worker's failure, if any.
    func submit(_ picture: EncoderPicture, pts: Int64) throws {
        if let error = failure.withLock({ $0 }) { throw error }
        guard let pending else { return try encode(picture, pts: pts) }
        pending.push((picture, pts))
    }

    /// Flushes the encoder into the outputs (waiting for the worker, if any).
    func drain() throws {
        if let pending, let worker {
            pending.close()
            worker.join()
            self.worker = nil
        } else {
            try deliver(encoder.flush())
        }
        if let error = failure.withLock({ $0 }) { throw error }
    }

    private func encode(_ picture: EncoderPicture, pts: Int64) throws {
        for output in outputs { output.willEncode(pts: pts) }
        try deliver(encoder.encode(picture, pts: pts))
    }

    private func deliver(_ packets: [EncodedPacket]) throws {
        for packet in packets {
            for output in outputs { try output.send(packet) }
        }
    }

    private func fail(_ error: Error) {
        failure.withLock { if $0 == nil { $0 = error } }
        // Keep the producer from blocking on a queue nobody reads.
        pending?.close()
    }
}
