import Foundation
import Imaging
import MediaIO
import Synchronization

/// How frames move between the stages.
public struct PipelineOptions: Sendable {
    /// Frames waiting between two stages. Small for live use: latency is queue depth × frame time.
    public var queueCapacity: Int
    /// `.block` never loses a frame (offline); `.dropOldest` keeps the newest (live).
    public var capturePolicy: OverflowPolicy
    /// The longest a batch waits to fill up, in seconds; nil waits for full batches (offline).
    public var batchWait: Double?

    /// What the source stage is called in statistics ("decode" offline).
    public var sourceStageName: String

    public init(queueCapacity: Int = 8, capturePolicy: OverflowPolicy = .block, batchWait: Double? = nil,
                sourceStageName: String = "capture") {
        self.sourceStageName = sourceStageName
        self.queueCapacity = queueCapacity
        self.capturePolicy = capturePolicy
        self.batchWait = batchWait
    }

    public static let offline = PipelineOptions(sourceStageName: "decode")
    public static let live = PipelineOptions(queueCapacity: 2, capturePolicy: .dropOldest, batchWait: 0.01)
}

/// Counters and timings of a run, readable while it runs.
public final class PipelineStatistics: Sendable {
    /// The source's stage: "decode" for files, "capture" for live inputs.
    public let capture: StageClock
    public let colorize = StageClock("colorize")
    public let encode = StageClock("encode")
    /// From the frame leaving its source to its picture accepted by every sink.
    public let latency = LatencyHistogram()
    private let counters = Mutex(Counters())
    private let startedAt = monotonicNanoseconds()

    public init(sourceStageName: String = "capture") {
        capture = StageClock(sourceStageName)
    }

    struct Counters {
        var captured = 0
        var written = 0
        var droppedBeforeProcessing = 0
        var lastWrittenAt: UInt64?
        var capturedQueueDepth = 0
        var processedQueueDepth = 0
    }

    public var framesCaptured: Int { counters.withLock { $0.captured } }
    public var framesWritten: Int { counters.withLock { $0.written } }
    /// Frames dropped because processing was slower than the source (live only).
    public var framesDropped: Int { counters.withLock { $0.droppedBeforeProcessing } }
    public var elapsedSeconds: Double { Double(monotonicNanoseconds() - startedAt) / 1e9 }
    /// Seconds since a frame last reached every sink; nil before the first (health checks).
    public var secondsSinceLastWrite: Double? {
        counters.withLock { $0.lastWrittenAt }.map { Double(monotonicNanoseconds() - $0) / 1e9 }
    }
    /// Frames waiting for the colouriser, as of the last capture.
    public var capturedQueueDepth: Int { counters.withLock { $0.capturedQueueDepth } }
    /// Pictures waiting for the sinks, as of the last write.
    public var processedQueueDepth: Int { counters.withLock { $0.processedQueueDepth } }

    /// `-1` takes back a frame the closing queue refused, so that at the end
    /// frames captured = written + dropped exactly.
    func noteCaptured(_ change: Int = 1) { counters.withLock { $0.captured += change } }

    func noteWritten(queueDepth: Int) {
        let now = monotonicNanoseconds()
        counters.withLock {
            $0.written += 1
            $0.lastWrittenAt = now
            $0.processedQueueDepth = queueDepth
        }
    }
    func setDropped(_ count: Int, queueDepth: Int) {
        counters.withLock {
            $0.droppedBeforeProcessing = count
            $0.capturedQueueDepth = queueDepth
        }
    }

    /// "decode 1.10 ms/frame · colorize 0.62 ms/frame · encode 5.31 ms/frame".
    public var stageSummary: String {
        [capture, colorize, encode]
            .map { "\($0.name) \(String(format: "%.2f", $0.millisecondsPerFrame)) ms/frame" }
            .joined(separator: " · ")
    }
}

/// Runs source → colouriser → sinks on three threads joined by bounded queues.
///
/// Output order is input order (one processing thread, batches kept whole).
/// Every stage's blocking C calls stay on its own thread. When any stage fails,
/// the others stop, every sink is still finished (so what was written stays
/// playable), and `run` throws the first error.
public final class FramePipeline: @unchecked Sendable {
    public let statistics: PipelineStatistics
    private let source: ThermalFrameSource
    private let colorizer: FrameColorizer
    private let sinks: [FrameSink]
    private let options: PipelineOptions
    private let captured: BoundedQueue<TimedFrame>
    private let processed: BoundedQueue<TimedPicture>
    private let firstError = Mutex<Error?>(nil)
    private let stopRequested = Atomic<Bool>(false)
    /// Called on the sink thread after each written frame.
    public var onFrameWritten: (@Sendable (PipelineStatistics) -> Void)?
    /// Called on the processing thread before each batch: the place to apply live changes.
    public var beforeBatch: (@Sendable () -> Void)?

    struct TimedFrame: Sendable {
        var frame: ThermalFrame
        var capturedAt: UInt64
    }

    struct TimedPicture: Sendable {
        var picture: EncoderPicture
        var frame: ThermalFrame
        var capturedAt: UInt64
    }

    public init(source: ThermalFrameSource, colorizer: FrameColorizer, sinks: [FrameSink], options: PipelineOptions = .offline) {
        self.source = source
        self.colorizer = colorizer
        self.sinks = sinks
        self.options = options
        statistics = PipelineStatistics(sourceStageName: options.sourceStageName)
        captured = BoundedQueue(capacity: max(options.queueCapacity, colorizer.maxBatchSize), policy: options.capturePolicy)
        processed = BoundedQueue(capacity: max(options.queueCapacity, colorizer.maxBatchSize))
    }

    /// Ends the run soon, from any thread (a signal handler's queue, say): the
    /// source is interrupted, frames already captured are still written.
    public func stop() {
        stopRequested.store(true, ordering: .relaxed)
        source.interrupt()
        captured.close()
    }

    /// Runs until the source ends, `stop()` is called, or a stage fails.
    public func run() throws {
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
        while !stopRequested.load(ordering: .relaxed) {
            do {
                guard let frame = try statistics.capture.measure({ try source.nextFrame() }) else { return }
                statistics.noteCaptured()
                guard captured.push(TimedFrame(frame: frame, capturedAt: monotonicNanoseconds())) else {
                    statistics.noteCaptured(-1)
                    return
                }
                statistics.setDropped(captured.dropped, queueDepth: captured.depth)
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
        while let first = captured.pop() {
            var batch = [first]
            let deadline = options.batchWait.map { monotonicNanoseconds() + UInt64($0 * 1e9) }
            while batch.count < batchSize {
                let next: TimedFrame?
                if let deadline {
                    let now = monotonicNanoseconds()
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
                let started = monotonicNanoseconds()
                let batch = batch
                pipelined.submit(batch.map(\.frame)) { [weak self] result in
                    clock.add(nanoseconds: monotonicNanoseconds() - started, frames: batch.count)
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
            statistics.latency.record(nanoseconds: monotonicNanoseconds() - item.capturedAt)
            statistics.noteWritten(queueDepth: processed.depth)
            onFrameWritten?(statistics)
        }
    }
}

/// An error of the pipeline itself (not of a stage's C library).
public struct PipelineError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A plain thread that can be joined: stages block in C calls, so they get
/// threads of their own rather than tasks in the cooperative pool.
package final class StageThread: @unchecked Sendable {
    private let thread: Thread
    private let done = DispatchSemaphore(value: 0)

    package init(name: String, _ body: @escaping @Sendable () -> Void) {
        let done = self.done
        thread = Thread {
            body()
            done.signal()
        }
        thread.name = name
        thread.stackSize = 4 << 20
    }

    package func start() { thread.start() }
    package func join() { done.wait() }

    /// Waits at most `timeout` seconds. - Returns: true when the thread ended;
    /// after false, a plain `join()` still waits for the end.
    package func join(timeout: Double) -> Bool { done.wait(timeout: .now() + timeout) == .success }
}
