import Foundation
import Imaging
import MediaIO
import Synchronization
import Threading

/// How frames move between the stages.
package struct PipelineOptions: Sendable {
    /// Frames waiting between capture and processing. Live, it is room for
    /// bursts (packets that arrive together decode together); latency is
    /// bounded by `capturePolicy`, not by this.
    package var queueCapacity: Int
    /// `.block` never loses a frame (offline); `.dropLate(after:)` drops a
    /// frame that waited longer than its latency budget while a newer one
    /// waits (live); `.dropOldest` keeps only the newest `queueCapacity`.
    package var capturePolicy: OverflowPolicy
    /// The longest a batch waits to fill up, in seconds; nil waits for full batches (offline).
    package var batchWait: Double?

    /// What the source stage is called in statistics ("decode" offline).
    package var sourceStageName: String

    package init(queueCapacity: Int = 8, capturePolicy: OverflowPolicy = .block, batchWait: Double? = nil,
                sourceStageName: String = "capture") {
        self.sourceStageName = sourceStageName
        self.queueCapacity = queueCapacity
        self.capturePolicy = capturePolicy
        self.batchWait = batchWait
    }

    package static let offline = PipelineOptions(sourceStageName: "decode")
    /// Live: a frame may wait up to `defaultLatencyBudget` for processing;
    /// 64 frames of room for bursts.
    package static let live = PipelineOptions(queueCapacity: 64, capturePolicy: .dropLate(after: defaultLatencyBudget), batchWait: 0.01)

    /// Seconds a live frame may wait for processing before it counts as late.
    package static let defaultLatencyBudget = 0.5
}

/// Counters and timings of a run, readable while it runs.
package final class PipelineStatistics: Sendable {
    /// The source's stage: "decode" for files, "capture" for live inputs.
    package let capture: StageClock
    package let colorize = StageClock("colorize")
    package let encode = StageClock("encode")
    /// From the frame leaving its source to its picture accepted by every sink.
    package let latency = LatencyHistogram()
    private let counters = Mutex(Counters())
    private let startedAt = MonotonicClock.nanoseconds()

    package init(sourceStageName: String = "capture") {
        capture = StageClock(sourceStageName)
    }

    struct Counters {
        var captured = 0
        var written = 0
        var droppedBeforeProcessing = 0
        var droppedBySource = 0
        var lastWrittenAt: UInt64?
        var capturedQueueDepth = 0
        var processedQueueDepth = 0
    }

    /// Frames the source delivered or dropped itself (a camera's hand-over slot).
    package var framesCaptured: Int { counters.withLock { $0.captured + $0.droppedBySource } }
    package var framesWritten: Int { counters.withLock { $0.written } }
    /// Frames dropped because processing had fallen behind the source (live
    /// only): late in the capture queue, or in the source's own hand-over.
    /// At the end, captured = written + dropped.
    package var framesDropped: Int { counters.withLock { $0.droppedBeforeProcessing + $0.droppedBySource } }
    /// The part of `framesDropped` the source dropped before the pipeline saw them.
    package var framesDroppedBySource: Int { counters.withLock { $0.droppedBySource } }
    package var elapsedSeconds: Double { Double(MonotonicClock.nanoseconds() - startedAt) / 1e9 }
    /// Seconds since a frame last reached every sink; nil before the first (health checks).
    package var secondsSinceLastWrite: Double? {
        counters.withLock { $0.lastWrittenAt }.map { Double(MonotonicClock.nanoseconds() - $0) / 1e9 }
    }
    /// Frames waiting for the colouriser, as of the last capture.
    package var capturedQueueDepth: Int { counters.withLock { $0.capturedQueueDepth } }
    /// Pictures waiting for the sinks, as of the last write.
    package var processedQueueDepth: Int { counters.withLock { $0.processedQueueDepth } }

    /// `-1` takes back a frame the closing queue refused, so that at the end
    /// frames captured = written + dropped exactly.
    func noteCaptured(_ change: Int = 1) { counters.withLock { $0.captured += change } }

    func noteWritten(queueDepth: Int) {
        let now = MonotonicClock.nanoseconds()
        counters.withLock {
            $0.written += 1
            $0.lastWrittenAt = now
            $0.processedQueueDepth = queueDepth
        }
    }
    func setDropped(_ count: Int, bySource: Int, queueDepth: Int? = nil) {
        counters.withLock {
            $0.droppedBeforeProcessing = count
            $0.droppedBySource = bySource
            if let queueDepth { $0.capturedQueueDepth = queueDepth }
        }
    }

    /// "decode 1.10 ms/frame · colorize 0.62 ms/frame · encode 5.31 ms/frame";
    /// a stage that saw no frame says so rather than a made-up time.
    package var stageSummary: String {
        [capture, colorize, encode]
            .map { $0.frames > 0 ? "\($0.name) \(String(format: "%.2f", $0.millisecondsPerFrame)) ms/frame" : "\($0.name) no frames" }
            .joined(separator: " · ")
    }
}

/// Runs source → colouriser → sinks on three threads joined by bounded queues.
///
/// Output order is input order (one processing thread, batches kept whole).
/// Every stage's blocking C calls stay on its own thread. When any stage fails,
/// the others stop, every sink is still finished (so what was written stays
/// playable), and `run` throws the first error.
package final class FramePipeline: @unchecked Sendable {
    package let statistics: PipelineStatistics
    private let source: ThermalFrameSource
    private let colorizer: FrameColorizer
    private let sinks: [FrameSink]
    private let options: PipelineOptions
    private let captured: BoundedQueue<TimedFrame>
    private let processed: BoundedQueue<TimedPicture>
    private let firstError = Mutex<Error?>(nil)
    private let stopRequested = Atomic<Bool>(false)
    /// Called on the sink thread after each written frame.
    package var onFrameWritten: (@Sendable (PipelineStatistics) -> Void)?
    /// Called on the processing thread before each batch: the place to apply live changes.
    package var beforeBatch: (@Sendable () -> Void)?

    struct TimedFrame: Sendable {
        var frame: ThermalFrame
        var capturedAt: UInt64
    }

    struct TimedPicture: Sendable {
        var picture: EncoderPicture
        var frame: ThermalFrame
        var capturedAt: UInt64
    }

    package init(source: ThermalFrameSource, colorizer: FrameColorizer, sinks: [FrameSink], options: PipelineOptions = .offline) {
        self.source = source
        self.colorizer = colorizer
        self.sinks = sinks
        self.options = options
        statistics = PipelineStatistics(sourceStageName: options.sourceStageName)
        captured = BoundedQueue(capacity: max(options.queueCapacity, colorizer.maxBatchSize), policy: options.capturePolicy)
        // Live, pictures waiting for the sinks only add latency: the capture
        // queue is where a late frame is noticed and dropped.
        let processedCapacity = options.capturePolicy.neverDrops ? options.queueCapacity : 2
        processed = BoundedQueue(capacity: max(processedCapacity, colorizer.maxBatchSize))
    }

    /// Ends the run soon, from any thread (a signal handler's queue, say): the
    /// source is interrupted, frames already captured are still written.
    package func stop() {
        stopRequested.store(true, ordering: .relaxed)
        source.interrupt()
        captured.close()
    }

    /// Runs until the source ends, `stop()` is called, or a stage fails.
    package func run() throws {
        let captureThread = StageThread(name: "thermocolor.capture") { [self] in captureLoop() }
        let processThread = StageThread(name: "thermocolor.process") { [self] in processLoop() }
        captureThread.start()
        processThread.start()
        sinkLoop()
        captureThread.join()
        processThread.join()
        for sink in sinks {
            do { try sink.finish() } catch { record(error) }
        }
        if let error = firstError.withLock({ $0 }) { throw error }
    }

    private func record(_ error: Error) {
        let isFirst = firstError.withLock { current -> Bool in
            guard current == nil else { return false }
            current = error
            return true
        }
        if isFirst {
            source.interrupt()
            captured.close()
            processed.close()
        }
    }

    private func captureLoop() {
        defer { captured.close() }
        let dropping = source as? DroppingFrameSource
        while !stopRequested.load(ordering: .relaxed) {
            do {
                // Only a delivered frame counts toward the time per frame: a
                // wait that ends in nothing (a silent input, a stop) is not a frame.
                let started = MonotonicClock.nanoseconds()
                guard let frame = try source.nextFrame() else { return }
                statistics.capture.add(nanoseconds: MonotonicClock.nanoseconds() - started, frames: 1)
                statistics.noteCaptured()
                guard captured.push(TimedFrame(frame: frame, capturedAt: MonotonicClock.nanoseconds())) else {
                    statistics.noteCaptured(-1)
                    return
                }
                statistics.setDropped(captured.dropped, bySource: dropping?.framesDroppedBySource ?? 0, queueDepth: captured.depth)
            } catch {
                if !stopRequested.load(ordering: .relaxed) { record(error) }
                return
            }
        }
    }

    private func processLoop() {
        let pipelined = colorizer as? PipelinedColorizer
        defer {
            // Batches still in flight deliver before the sink sees the end.
            pipelined?.waitUntilIdle()
            processed.close()
        }
        let batchSize = max(1, colorizer.maxBatchSize)
        let dropping = source as? DroppingFrameSource
        // Late frames are dropped as they are taken: count them then too.
        func noteDrops() { statistics.setDropped(captured.dropped, bySource: dropping?.framesDroppedBySource ?? 0) }
        defer { noteDrops() }
        while let first = captured.pop() {
            noteDrops()
            var batch = [first]
            let deadline = options.batchWait.map { MonotonicClock.nanoseconds() + UInt64($0 * 1e9) }
            while batch.count < batchSize {
                let next: TimedFrame?
                if let deadline {
                    let now = MonotonicClock.nanoseconds()
                    guard now < deadline else { break }
                    next = captured.pop(timeout: Double(deadline - now) / 1e9)
                } else {
                    next = captured.pop()
                }
                guard let next else { break }
                batch.append(next)
            }
            beforeBatch?()
            if let pipelined {
                let processed = self.processed
                let clock = statistics.colorize
                let started = MonotonicClock.nanoseconds()
                let batch = batch
                pipelined.submit(batch.map(\.frame)) { [weak self] result in
                    clock.add(nanoseconds: MonotonicClock.nanoseconds() - started, frames: batch.count)
                    switch result {
                    case .success(let pictures) where pictures.count == batch.count:
                        for (item, picture) in zip(batch, pictures) {
                            processed.push(TimedPicture(picture: picture, frame: item.frame, capturedAt: item.capturedAt))
                        }
                    case .success(let pictures):
                        self?.record(PipelineError("the colouriser returned \(pictures.count) pictures for \(batch.count) frames"))
                    case .failure(let error):
                        self?.record(error)
                    }
                }
                continue
            }
            do {
                let pictures = try statistics.colorize.measure(frames: batch.count) {
                    try colorizer.colorize(batch.map(\.frame))
                }
                guard pictures.count == batch.count else {
                    throw PipelineError("the colouriser returned \(pictures.count) pictures for \(batch.count) frames")
                }
                for (item, picture) in zip(batch, pictures) {
                    guard processed.push(TimedPicture(picture: picture, frame: item.frame, capturedAt: item.capturedAt)) else { return }
                }
            } catch {
                record(error)
                return
            }
        }
    }

    private func sinkLoop() {
        while let item = processed.pop() {
            do {
                try statistics.encode.measure {
                    for sink in sinks { try sink.write(item.picture, for: item.frame) }
                }
            } catch {
                record(error)
                // Drain so the other threads can finish.
                while processed.pop() != nil {}
                return
            }
            statistics.latency.record(nanoseconds: MonotonicClock.nanoseconds() - item.capturedAt)
            statistics.noteWritten(queueDepth: processed.depth)
            onFrameWritten?(statistics)
        }
    }
}

/// An error of the pipeline itself (not of a stage's C library).
package struct PipelineError: Error, CustomStringConvertible, Sendable {
    package var description: String
    package init(_ description: String) { self.description = description }
}
