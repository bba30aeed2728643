import Dispatch
import Foundation
import Imaging

/// One frame for a neural colouriser.
package struct NeuralInput: Sendable {
    /// The thermal frame at video resolution, already gain-controlled to
    /// 8 bits (the classic AGC's output). For `ab` models it is also the
    /// lightness of the result.
    package var thermal: Gray8Image
    /// The aligned visible frame, for fusers; any size (it is resized).
    package var visible: RGBImage?
    /// A colour reference image, for reference colourisers; any size.
    package var reference: RGBImage?

    package init(thermal: Gray8Image, visible: RGBImage? = nil, reference: RGBImage? = nil) {
        self.thermal = thermal
        self.visible = visible
        self.reference = reference
    }
}

/// Colourises batches of thermal frames with a neural network from a model
/// bundle, through OpenVINO.
///
/// A batch is cut into inferences of up to `maxBatch` frames (exactly the
/// network's batch when it is fixed; the last one is padded). The network
/// is compiled for fully static input shapes, one compilation per shape in
/// use (video size and frames per inference), made when that shape first
/// comes: OpenVINO's CPU plugin runs a dynamic-shape network at about half
/// the speed of the same network with its shapes fixed. Several
/// infer requests are in flight at once: while OpenVINO runs one, the
/// submitting thread resizes and packs the next and a collector queue
/// unpacks the previous, so preprocessing, inference and postprocessing
/// overlap, within a batch and across successive `submit` calls.
///
/// Every method that can block (`colorize`, `submit` when all requests are
/// busy) is meant for the pipeline's own threads or Dispatch queues, not
/// for Swift's concurrency pool.
package final class NeuralColorizer: @unchecked Sendable {
    package let bundle: ModelBundle
    package let device: String
    /// Frames per inference: the network's fixed batch, or `maxBatch`.
    package let framesPerInference: Int
    /// Infer requests kept in flight.
    package let inflightRequests: Int

    private let binding: ModelBinding
    private let core: Core
    /// Reshaped and compiled once per input shape; only under `submitLock`.
    private let model: Model
    private let hints: CompileHints
    /// The compilations so far, by input shape; only under `submitLock`.
    private var networks: [InputShape: CompiledNetwork] = [:]
    /// Keeps one batch's inferences together and in order.
    private let submitLock = NSLock()
    /// Waits for inferences and unpacks them, in submission order.
    private let collector = DispatchQueue(label: "thermocolor.neural.collect", qos: .userInitiated)
    /// Runs `submit`'s completions, in order, off the collector.
    private let delivery = DispatchQueue(label: "thermocolor.neural.deliver", qos: .userInitiated)

    /// Loads and checks `bundle` and compiles its network.
    ///
    /// - Parameters:
    ///   - device: "CPU" (default), "GPU", "AUTO" or any OpenVINO device name.
    ///   - precision: the inference precision hint, e.g. "f32" to rule out
    ///     the bf16 that CPUs with bf16 units otherwise pick; nil for the default.
    ///   - maxBatch: frames per inference for networks with a dynamic batch.
    ///   - inflightRequests: infer requests in flight (2 overlaps the stages).
    ///   - performanceMode: nil picks LATENCY for one request, THROUGHPUT for more.
    /// - Throws: `ModelBundleError` when the bundle does not fit its
    ///   network, `InferenceError` when OpenVINO cannot compile it.
    package init(bundle: ModelBundle, device: String = "CPU", precision: String? = nil,
                maxBatch: Int = 8, inflightRequests: Int = 2,
                performanceMode: CompileHints.PerformanceMode? = nil) throws {
        guard maxBatch >= 1 else {
            throw InferenceError(operation: "load \(bundle.name)", message: "maxBatch must be at least 1, got \(maxBatch)")
        }
        guard inflightRequests >= 1 else {
            throw InferenceError(operation: "load \(bundle.name)",
                                 message: "inflightRequests must be at least 1, got \(inflightRequests)")
        }
        self.bundle = bundle
        self.device = device
        self.inflightRequests = inflightRequests

        let core = try Core()
        self.core = core
        let model: Model
        do {
            model = try core.readModel(at: bundle.modelFile.path, weights: bundle.weightsFile?.path)
        } catch {
            throw ModelBundleError(bundle: bundle.folder.path,
                                   problem: "OpenVINO cannot read \(bundle.modelFile.lastPathComponent) "
                                       + "(status \(error.status ?? 0)): \(error.message)")
        }
        binding = try ModelBinding(bundle: bundle, inputs: try model.inputs(), outputs: try model.outputs())
        self.model = model
        framesPerInference = binding.fixedBatch ?? maxBatch
        hints = CompileHints(performanceMode: performanceMode ?? (inflightRequests > 1 ? .throughput : .latency),
                             numberOfRequests: inflightRequests, inferencePrecision: precision)
        // A fixed working size gives the usual shape now, so a network the
        // device cannot compile fails here, before any video is opened; a
        // dynamic one waits for its first frame to know its size.
        if case .fixed(let width, let height) = bundle.workingSize {
            let shape = InputShape(width: width, height: height, rows: framesPerInference)
            networks[shape] = try compileNetwork(for: shape)
        }
    }

    /// Loads the bundle in `folder`; see `init(bundle:…)`.
    package convenience init(bundleAt folder: String, device: String = "CPU", precision: String? = nil,
                            maxBatch: Int = 8, inflightRequests: Int = 2) throws {
        try self.init(bundle: try ModelBundle(folder: URL(fileURLWithPath: folder)), device: device,
                      precision: precision, maxBatch: maxBatch, inflightRequests: inflightRequests)
    }

    /// Colourises `frames` and returns one RGB image per frame at its
    /// thermal resolution. Blocks until done.
    ///
    /// - Parameter text: the prompt embedding for the whole batch
    ///   (`textDimension` values); nil uses the bundle's default prompt.
    ///   Ignored by networks without a text input.
    package func colorize(_ frames: [NeuralInput], text: [Float]? = nil) throws -> [RGBImage] {
        let outcome = Outcome()
        enqueue(frames, text: text) { result in
            outcome.result = result
            outcome.done.signal()
        }
        outcome.done.wait()
        return try outcome.result!.get()
    }

    /// Starts colourising `frames` and returns as soon as their inferences
    /// are started, so the caller can prepare the next batch meanwhile.
    /// Blocks only while every infer request is busy (back-pressure).
    /// `completion` runs on a private serial queue, once per call, in
    /// call order.
    package func submit(_ frames: [NeuralInput], text: [Float]? = nil,
                       completion: @escaping @Sendable (Result<[RGBImage], any Error>) -> Void) {
        let delivery = self.delivery
        enqueue(frames, text: text) { result in delivery.async { completion(result) } }
    }

    /// Blocks until every submitted batch has been delivered. Not from
    /// inside a completion, which runs on the queue this waits for.
    package func waitUntilIdle() {
        collector.sync {}
        delivery.sync {}
    }

    // MARK: - Scheduling

    private func enqueue(_ frames: [NeuralInput], text: [Float]?,
                         deliver: @escaping @Sendable (Result<[RGBImage], any Error>) -> Void) {
        let plan: BatchPlan
        do {
            plan = try makePlan(frames, text: text)
        } catch {
            collector.async { deliver(.failure(error)) }
            return
        }
        guard !frames.isEmpty else {
            collector.async { deliver(.success([])) }
            return
        }
        let job = BatchJob(frames: frames, chunks: plan.chunks.count)
        submitLock.lock()
        defer { submitLock.unlock() }
        for chunk in plan.chunks {
            let rows = binding.fixedBatch ?? chunk.count
            let network: CompiledNetwork
            do {
                network = try self.network(for: InputShape(width: plan.workingWidth, height: plan.workingHeight, rows: rows))
            } catch {
                collector.async { job.fail(error) }
                collector.async { if job.chunkDone() { deliver(job.result) } }
                continue
            }
            let slot = network.acquireSlot()
            let started: Bool
            do {
                try prepare(slot, frames: frames[chunk], rows: rows, plan: plan)
                try slot.request.startAsync()
                started = true
            } catch {
                started = false
                collector.async { job.fail(error) }
            }
            collector.async { [self] in
                if started {
                    do {
                        try slot.request.wait()
                        if job.error == nil { try finish(slot, chunk: chunk, job: job, plan: plan) }
                    } catch {
                        job.fail(error)
                    }
                }
                network.releaseSlot(slot)
                if job.chunkDone() { deliver(job.result) }
            }
        }
    }

    /// Checks a batch before any work starts and fixes its shapes.
    private func makePlan(_ frames: [NeuralInput], text: [Float]?) throws -> BatchPlan {
        let operation = "colourise with \(bundle.name)"
        guard let first = frames.first else {
            return BatchPlan(chunks: [], workingWidth: 0, workingHeight: 0, text: nil, framesPerInference: 1)
        }
        let width = first.thermal.width, height = first.thermal.height
        for (index, frame) in frames.enumerated() {
            guard frame.thermal.channels == 1 else {
                throw InferenceError(operation: operation, message: "frame \(index): thermal must be 1-channel grey")
            }
            guard frame.thermal.width == width, frame.thermal.height == height, width > 0, height > 0 else {
                throw InferenceError(operation: operation,
                                     message: "frame \(index) is \(frame.thermal.width)×\(frame.thermal.height), frame 0 is \(width)×\(height); a batch has one video size")
            }
            if bundle.tensors.visible != nil {
                guard let visible = frame.visible else {
                    throw InferenceError(operation: operation, message: "frame \(index) has no visible image; a fuser needs one")
                }
                guard visible.channels == 3, visible.width > 0, visible.height > 0 else {
                    throw InferenceError(operation: operation, message: "frame \(index): visible must be non-empty RGB")
                }
            }
            if bundle.tensors.reference != nil {
                guard let reference = frame.reference else {
                    throw InferenceError(operation: operation,
                                         message: "frame \(index) has no reference image; a reference-colorizer needs one")
                }
                guard reference.channels == 3, reference.width > 0, reference.height > 0 else {
                    throw InferenceError(operation: operation, message: "frame \(index): reference must be non-empty RGB")
                }
            }
        }
        var embedding: [Float]?
        if let dimension = bundle.textDimension {
            guard let chosen = text ?? bundle.defaultEmbedding else {
                throw InferenceError(operation: operation,
                                     message: "the network takes a text embedding and the bundle has no default prompt; give a prompt or an embedding")
            }
            guard chosen.count == dimension else {
                throw InferenceError(operation: operation,
                                     message: "the text embedding has \(chosen.count) values, the network takes \(dimension)")
            }
            embedding = chosen
        }
        let working = bundle.workingSize(forVideoWidth: width, height: height)
        let step = framesPerInference
        let chunks = stride(from: 0, to: frames.count, by: step).map { $0..<min($0 + step, frames.count) }
        return BatchPlan(chunks: chunks, workingWidth: working.width, workingHeight: working.height,
                         text: embedding, framesPerInference: step)
    }

    /// The network compiled for `shape`, compiled now if it is new. Under `submitLock`.
    private func network(for shape: InputShape) throws -> CompiledNetwork {
        if let network = networks[shape] { return network }
        let network = try compileNetwork(for: shape)
        networks[shape] = network
        return network
    }

    /// Fixes every input's shape to `shape` and compiles. At init or under `submitLock`.
    private func compileNetwork(for shape: InputShape) throws -> CompiledNetwork {
        var shapes: [String: [Int?]] = [bundle.tensors.thermal: [shape.rows, 1, shape.height, shape.width]]
        for name in [bundle.tensors.visible, bundle.tensors.reference].compactMap({ $0 }) {
            shapes[name] = [shape.rows, 3, shape.height, shape.width]
        }
        if let name = bundle.tensors.text, let dimension = bundle.textDimension {
            shapes[name] = [binding.textIsBroadcast ? 1 : shape.rows, dimension]
        }
        do {
            try model.reshape(shapes)
        } catch {
            throw ModelBundleError(bundle: bundle.folder.path,
                                   problem: "the network cannot take \(shape.rows) frame\(shape.rows == 1 ? "" : "s") of "
                                       + "\(shape.width)×\(shape.height): \(error.message)")
        }
        let compiled = try core.compile(model, device: device, hints: hints)
        return try CompiledNetwork(compiled: compiled, requests: inflightRequests)
    }

    // MARK: - Pre- and postprocessing

    /// Resizes and packs one inference's frames into the slot's tensors.
    private func prepare(_ slot: RequestSlot, frames: ArraySlice<NeuralInput>, rows: Int, plan: BatchPlan) throws {
        let width = plan.workingWidth, height = plan.workingHeight
        let plane = width * height
        let thermal = try slot.tensor(bundle.tensors.thermal, shape: [rows, 1, height, width])
        for (offset, frame) in frames.enumerated() {
            frame.thermal.samples.withUnsafeBufferPointer { source in
                packPlanes(source: source, width: frame.thermal.width, height: frame.thermal.height, channels: 1,
                           into: thermal.baseAddress! + offset * plane, planeWidth: width, planeHeight: height)
            }
        }
        for (name, pick) in [(bundle.tensors.visible, \NeuralInput.visible),
                             (bundle.tensors.reference, \NeuralInput.reference)] {
            guard let name else { continue }
            let planes = try slot.tensor(name, shape: [rows, 3, height, width])
            for (offset, frame) in frames.enumerated() {
                let image = frame[keyPath: pick]!
                image.samples.withUnsafeBufferPointer { source in
                    packPlanes(source: source, width: image.width, height: image.height, channels: 3,
                               into: planes.baseAddress! + offset * 3 * plane, planeWidth: width, planeHeight: height)
                }
            }
        }
        if let name = bundle.tensors.text, let embedding = plan.text {
            let textRows = binding.textIsBroadcast ? 1 : rows
            let values = try slot.tensor(name, shape: [textRows, embedding.count])
            for row in 0..<textRows {
                _ = UnsafeMutableBufferPointer(rebasing: values[(row * embedding.count)...]).initialize(from: embedding)
            }
        }
    }

    /// Reads one finished inference and writes its frames' images into the job.
    private func finish(_ slot: RequestSlot, chunk: Range<Int>, job: BatchJob, plan: BatchPlan) throws {
        let output = try slot.request.tensor(bundle.tensors.output)
        // `data()` is valid only while the tensor lives; without this Swift
        // may free it right after that call, before the planes are read.
        defer { withExtendedLifetime(output) {} }
        let channels = bundle.output == .rgb ? 3 : 2
        let shape = output.shape
        guard output.elementType == .f32, shape.count == 4, shape[1] == channels, shape[0] >= chunk.count else {
            throw InferenceError(operation: "read output \(bundle.tensors.output)",
                                 message: "got \(output.elementType)\(shape), expected f32[\(chunk.count),\(channels),h,w]")
        }
        let planeWidth = shape[3], planeHeight = shape[2]
        let planes = try output.data().assumingMemoryBound(to: Float.self)
        for (offset, index) in chunk.enumerated() {
            let thermal = job.frames[index].thermal
            let source = UnsafePointer(planes + offset * channels * planeWidth * planeHeight)
            let samples: [UInt8]
            switch bundle.output {
            case .rgb:
                samples = unpackRGB(planes: source, planeWidth: planeWidth, planeHeight: planeHeight,
                                    width: thermal.width, height: thermal.height)
            case .ab:
                samples = thermal.samples.withUnsafeBufferPointer { lightness in
                    unpackAB(planes: source, planeWidth: planeWidth, planeHeight: planeHeight,
                             abScale: bundle.abScale, lightness: lightness,
                             width: thermal.width, height: thermal.height)
                }
            }
            job.images[index] = RGBImage(width: thermal.width, height: thermal.height, channels: 3, samples: samples)
        }
    }
}

/// The input shape a network is compiled for: the working size and the
/// frames in one inference.
private struct InputShape: Hashable {
    var width: Int
    var height: Int
    var rows: Int
}

/// The network compiled for one input shape, with its infer requests.
private final class CompiledNetwork: @unchecked Sendable {
    let compiled: CompiledModel
    private var freeSlots: [RequestSlot]
    private let slotLock = NSLock()
    private let slotsAvailable: DispatchSemaphore

    init(compiled: CompiledModel, requests: Int) throws {
        self.compiled = compiled
        freeSlots = try (0..<requests).map { _ in RequestSlot(request: try compiled.makeRequest()) }
        slotsAvailable = DispatchSemaphore(value: requests)
    }

    /// A free request; blocks while all are busy (back-pressure).
    func acquireSlot() -> RequestSlot {
        slotsAvailable.wait()
        slotLock.lock()
        defer { slotLock.unlock() }
        return freeSlots.removeFirst()
    }

    func releaseSlot(_ slot: RequestSlot) {
        slotLock.lock()
        freeSlots.append(slot)
        slotLock.unlock()
        slotsAvailable.signal()
    }
}

/// One batch's inference ranges, working size and text.
private struct BatchPlan: Sendable {
    var chunks: [Range<Int>]
    var workingWidth: Int
    var workingHeight: Int
    var text: [Float]?
    var framesPerInference: Int
}

/// A batch in flight; touched only on the collector queue.
private final class BatchJob: @unchecked Sendable {
    let frames: [NeuralInput]
    var images: [RGBImage?]
    var error: (any Error)?
    private var chunksLeft: Int

    init(frames: [NeuralInput], chunks: Int) {
        self.frames = frames
        images = Array(repeating: nil, count: frames.count)
        chunksLeft = chunks
    }

    func fail(_ error: any Error) {
        if self.error == nil { self.error = error }
    }

    /// Counts a finished inference; true when it was the last one.
    func chunkDone() -> Bool {
        chunksLeft -= 1
        return chunksLeft == 0
    }

    var result: Result<[RGBImage], any Error> {
        if let error { return .failure(error) }
        return .success(images.map { $0! })
    }
}

/// An infer request with the host buffers its input tensors view. Used by
/// one thread at a time: the submitter fills it, the collector drains it.
private final class RequestSlot: @unchecked Sendable {
    let request: InferRequest
    private var buffers: [String: HostBuffer] = [:]
    private var boundShapes: [String: [Int]] = [:]

    init(request: InferRequest) {
        self.request = request
    }

    /// The f32 memory behind input `name` with `shape`, bound to the
    /// request; buffers grow as needed and are rebound only on change.
    func tensor(_ name: String, shape: [Int]) throws -> UnsafeMutableBufferPointer<Float> {
        let count = shape.reduce(1, *)
        var buffer = buffers[name]
        if buffer == nil || buffer!.byteCount < count * 4 {
            buffer = HostBuffer(byteCount: count * 4)
            buffers[name] = buffer
            boundShapes[name] = nil
        }
        if boundShapes[name] != shape {
            try request.setTensor(try Tensor(viewing: buffer!, elementType: .f32, shape: shape), for: name)
            boundShapes[name] = shape
        }
        return buffer!.floats(count: count)
    }
}

/// The result of a blocking `colorize`, handed over from the collector.
private final class Outcome: @unchecked Sendable {
    let done = DispatchSemaphore(value: 0)
    var result: Result<[RGBImage], any Error>?
}
