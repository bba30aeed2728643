internal import COpenVINO
import Foundation

// Owning wrappers over OpenVINO's C API. Each class holds one C handle and
// frees it in deinit; children keep their parents alive (a request retains
// its compiled model, which retains its core), so release order is never a
// question. No C type appears in the package surface.
//
// The C API has non-variadic `*_props` forms of the property calls
// (ov_core_compile_model_props, ov_core_set_properties), which Swift can
// call directly, so the variadic ones are never used.

/// An element type of a tensor, as far as this package needs to name one.
package enum ElementType: Sendable, Equatable, CustomStringConvertible {
    case f32, f16, bf16, i64, i32, u8
    /// Any other `ov_element_type_e`, by raw value.
    case other(UInt32)

    init(_ raw: ov_element_type_e) {
        switch raw {
        case F32: self = .f32
        case F16: self = .f16
        case BF16: self = .bf16
        case I64: self = .i64
        case I32: self = .i32
        case U8: self = .u8
        default: self = .other(raw.rawValue)
        }
    }

    var raw: ov_element_type_e {
        switch self {
        case .f32: F32
        case .f16: F16
        case .bf16: BF16
        case .i64: I64
        case .i32: I32
        case .u8: U8
        case .other(let value): ov_element_type_e(rawValue: value)
        }
    }

    /// Bytes per element for the types host tensors are made of.
    var byteWidth: Int {
        switch self {
        case .f32, .i32: 4
        case .f16, .bf16: 2
        case .i64: 8
        case .u8: 1
        case .other: 0
        }
    }

    package var description: String {
        switch self {
        case .f32: "f32"
        case .f16: "f16"
        case .bf16: "bf16"
        case .i64: "i64"
        case .i32: "i32"
        case .u8: "u8"
        case .other(let value): "element type #\(value)"
        }
    }
}

/// A model input or output as the model declares it: its tensor name, its
/// element type and its shape, where nil marks a dynamic dimension.
package struct TensorDescription: Sendable, Equatable, CustomStringConvertible {
    package let name: String
    package let elementType: ElementType
    /// Dimensions, nil for a dynamic one; nil as a whole when even the rank is dynamic.
    package let shape: [Int?]?

    package var rank: Int? { shape?.count }

    package var description: String {
        guard let shape else { return "\(name): \(elementType)[…]" }
        return "\(name): \(elementType)[" + shape.map { $0.map(String.init) ?? "?" }.joined(separator: ",") + "]"
    }
}

/// The OpenVINO runtime: plugins, devices, model reading and compiling.
/// OpenVINO's core is safe to use from several threads.
package final class Core: @unchecked Sendable {
    let handle: OpaquePointer

    package init() throws(InferenceError) {
        var core: OpaquePointer?
        try check(ov_core_create(&core), "create core")
        guard let core else { throw InferenceError(operation: "create core", message: "no core returned") }
        handle = core
    }

    deinit { ov_core_free(handle) }

    /// Devices OpenVINO can run on here, e.g. `["CPU"]` or `["CPU", "GPU"]`.
    package func availableDevices() throws(InferenceError) -> [String] {
        var devices = ov_available_devices_t()
        try check(ov_core_get_available_devices(handle, &devices), "list devices")
        defer { ov_available_devices_free(&devices) }
        return (0..<devices.size).compactMap { devices.devices[$0].map { String(cString: $0) } }
    }

    /// A device property as OpenVINO prints it, e.g. `FULL_DEVICE_NAME`.
    package func property(_ key: String, device: String) throws(InferenceError) -> String {
        var value: UnsafeMutablePointer<CChar>?
        try check(ov_core_get_property(handle, device, key, &value), "read \(device) property \(key)")
        guard let value else { return "" }
        defer { ov_free(value) }
        return String(cString: value)
    }

    /// Reads an ONNX model, or an OpenVINO IR (`.xml` with its `.bin`).
    package func readModel(at path: String, weights: String? = nil) throws(InferenceError) -> Model {
        var model: OpaquePointer?
        try check(ov_core_read_model(handle, path, weights, &model), "read model \(path)")
        guard let model else { throw InferenceError(operation: "read model \(path)", message: "no model returned") }
        return Model(handle: model, core: self)
    }

    /// Compiles `model` for `device` ("CPU", "GPU", "AUTO", …) with `hints`.
    package func compile(_ model: Model, device: String = "CPU",
                        hints: CompileHints = CompileHints()) throws(InferenceError) -> CompiledModel {
        let pairs = hints.properties
        // The property values must stay valid C strings for the call only.
        let keys = pairs.map { strdup($0.key)! }
        let values = pairs.map { strdup($0.value)! }
        defer {
            keys.forEach { free($0) }
            values.forEach { free($0) }
        }
        var properties = zip(keys, values).map { ov_property_t(key: $0.0, value: UnsafeRawPointer($0.1)) }
        var compiled: OpaquePointer?
        let operation = "compile model for \(device)"
        try properties.withUnsafeMutableBufferPointer { buffer throws(InferenceError) in
            try check(ov_core_compile_model_props(handle, model.handle, device, buffer.count,
                                                  buffer.baseAddress, &compiled), operation)
        }
        guard let compiled else { throw InferenceError(operation: operation, message: "no compiled model returned") }
        return CompiledModel(handle: compiled, core: self)
    }
}

/// Compile-time hints for a device; nil leaves OpenVINO's default.
package struct CompileHints: Sendable, Equatable {
    /// OpenVINO's performance hint: one request as fast as possible, or
    /// many requests in parallel streams.
    package enum PerformanceMode: String, Sendable {
        case latency = "LATENCY"
        case throughput = "THROUGHPUT"
        case cumulativeThroughput = "CUMULATIVE_THROUGHPUT"
    }

    package var performanceMode: PerformanceMode?
    /// How many requests the application keeps in flight (tunes streams).
    package var numberOfRequests: Int?
    /// The precision the device computes in, e.g. "f32", "bf16", "f16".
    /// CPUs with bf16 units default to bf16; numeric comparisons force "f32".
    package var inferencePrecision: String?
    /// CPU threads for inference; nil lets OpenVINO use all cores.
    package var threads: Int?

    package init(performanceMode: PerformanceMode? = nil, numberOfRequests: Int? = nil,
                inferencePrecision: String? = nil, threads: Int? = nil) {
        self.performanceMode = performanceMode
        self.numberOfRequests = numberOfRequests
        self.inferencePrecision = inferencePrecision
        self.threads = threads
    }

    /// The key/value pairs of OpenVINO's property names (ov_property.h).
    var properties: [(key: String, value: String)] {
        var pairs: [(key: String, value: String)] = []
        if let performanceMode { pairs.append(("PERFORMANCE_HINT", performanceMode.rawValue)) }
        if let numberOfRequests { pairs.append(("PERFORMANCE_HINT_NUM_REQUESTS", String(numberOfRequests))) }
        if let inferencePrecision { pairs.append(("INFERENCE_PRECISION_HINT", inferencePrecision)) }
        if let threads { pairs.append(("INFERENCE_NUM_THREADS", String(threads))) }
        return pairs
    }
}

/// A model as read from disk: its inputs and outputs can be inspected and
/// reshaped before compiling. Not for use from several threads at once.
package final class Model: @unchecked Sendable {
    let handle: OpaquePointer
    private let core: Core

    init(handle: OpaquePointer, core: Core) {
        self.handle = handle
        self.core = core
    }

    deinit { ov_model_free(handle) }

    package func inputs() throws(InferenceError) -> [TensorDescription] {
        var count = 0
        try check(ov_model_inputs_size(handle, &count), "count model inputs")
        return try (0..<count).map { (index) throws(InferenceError) in
            var port: OpaquePointer?
            try check(ov_model_const_input_by_index(handle, index, &port), "read model input \(index)")
            return try describe(port, "model input \(index)")
        }
    }

    package func outputs() throws(InferenceError) -> [TensorDescription] {
        var count = 0
        try check(ov_model_outputs_size(handle, &count), "count model outputs")
        return try (0..<count).map { (index) throws(InferenceError) in
            var port: OpaquePointer?
            try check(ov_model_const_output_by_index(handle, index, &port), "read model output \(index)")
            return try describe(port, "model output \(index)")
        }
    }

    /// Gives inputs new shapes (nil for a dynamic dimension), e.g. to fix
    /// a dynamic height and width so the device can plan for them. All in
    /// one call: the graph is checked once, with every input at its new
    /// shape (one at a time, a static batch of one input would clash with
    /// another's old one).
    package func reshape(_ shapes: [String: [Int?]]) throws(InferenceError) {
        let entries = shapes.sorted(by: { $0.key < $1.key })
        guard !entries.isEmpty else { return }
        let operation = "reshape inputs \(entries.map(\.key).joined(separator: ", "))"
        var partials: [ov_partial_shape_t] = []
        defer {
            for index in partials.indices { ov_partial_shape_free(&partials[index]) }
        }
        for (name, dimensions) in entries {
            var dims = dimensions.map { size in
                size.map { ov_dimension_t(min: Int64($0), max: Int64($0)) } ?? ov_dimension_t(min: -1, max: -1)
            }
            var partial = ov_partial_shape_t()
            try check(ov_partial_shape_create(Int64(dims.count), &dims, &partial), "make shape for \(name)")
            partials.append(partial)
        }
        let names = entries.map { strdup($0.key)! }
        defer { names.forEach { free($0) } }
        var pointers = names.map { UnsafePointer<CChar>?(UnsafePointer($0)) }
        try check(ov_model_reshape(handle, &pointers, partials, partials.count), operation)
    }
}

/// Reads a port's name, element type and partial shape, then frees the port.
private func describe(_ port: OpaquePointer?, _ what: String) throws(InferenceError) -> TensorDescription {
    guard let port else { throw InferenceError(operation: "read \(what)", message: "no port returned") }
    defer { ov_output_const_port_free(port) }
    var rawName: UnsafeMutablePointer<CChar>?
    try check(ov_port_get_any_name(port, &rawName), "read the name of \(what)")
    let name = rawName.map { String(cString: $0) } ?? ""
    if let rawName { ov_free(rawName) }
    var type = ov_element_type_e(rawValue: 0)
    try check(ov_port_get_element_type(port, &type), "read the element type of \(name)")
    var partial = ov_partial_shape_t()
    try check(ov_port_get_partial_shape(port, &partial), "read the shape of \(name)")
    defer { ov_partial_shape_free(&partial) }
    var shape: [Int?]?
    if !ov_rank_is_dynamic(partial.rank) {
        let rank = Int(partial.rank.max)
        shape = (0..<rank).map { index in
            let dimension = partial.dims[index]
            return ov_dimension_is_dynamic(dimension) ? nil : Int(dimension.max)
        }
    }
    return TensorDescription(name: name, elementType: ElementType(type), shape: shape)
}

/// A model compiled for one device; it makes infer requests. OpenVINO's
/// compiled models are safe to use from several threads.
package final class CompiledModel: @unchecked Sendable {
    let handle: OpaquePointer
    private let core: Core

    init(handle: OpaquePointer, core: Core) {
        self.handle = handle
        self.core = core
    }

    deinit { ov_compiled_model_free(handle) }

    /// A property of the compiled model, e.g. `OPTIMAL_NUMBER_OF_INFER_REQUESTS`.
    package func property(_ key: String) throws(InferenceError) -> String {
        var value: UnsafeMutablePointer<CChar>?
        try check(ov_compiled_model_get_property(handle, key, &value), "read compiled model property \(key)")
        guard let value else { return "" }
        defer { ov_free(value) }
        return String(cString: value)
    }

    /// How many requests the device wants in flight to be kept busy.
    package func optimalNumberOfRequests() throws(InferenceError) -> Int {
        Int(try property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")) ?? 1
    }

    package func inputs() throws(InferenceError) -> [TensorDescription] {
        var count = 0
        try check(ov_compiled_model_inputs_size(handle, &count), "count compiled model inputs")
        return try (0..<count).map { (index) throws(InferenceError) in
            var port: OpaquePointer?
            try check(ov_compiled_model_input_by_index(handle, index, &port), "read compiled input \(index)")
            return try describe(port, "compiled input \(index)")
        }
    }

    package func outputs() throws(InferenceError) -> [TensorDescription] {
        var count = 0
        try check(ov_compiled_model_outputs_size(handle, &count), "count compiled model outputs")
        return try (0..<count).map { (index) throws(InferenceError) in
            var port: OpaquePointer?
            try check(ov_compiled_model_output_by_index(handle, index, &port), "read compiled output \(index)")
            return try describe(port, "compiled output \(index)")
        }
    }

    package func makeRequest() throws(InferenceError) -> InferRequest {
        var request: OpaquePointer?
        try check(ov_compiled_model_create_infer_request(handle, &request), "create infer request")
        guard let request else { throw InferenceError(operation: "create infer request", message: "none returned") }
        return InferRequest(handle: request, compiledModel: self)
    }
}

/// One inference in preparation or in flight. Its calls block (`infer`,
/// `wait`), so use it from your own thread or serial queue, one thread at
/// a time, never from Swift's concurrency pool.
package final class InferRequest: @unchecked Sendable {
    let handle: OpaquePointer
    private let compiledModel: CompiledModel
    /// Tensors bound as inputs, kept alive while OpenVINO may read their memory.
    private var bound: [String: Tensor] = [:]

    init(handle: OpaquePointer, compiledModel: CompiledModel) {
        self.handle = handle
        self.compiledModel = compiledModel
    }

    deinit {
        // A request still running would read freed memory; wait it out.
        _ = ov_infer_request_wait(handle)
        ov_infer_request_free(handle)
    }

    /// Binds `tensor` to the model tensor called `name`; OpenVINO reads
    /// its memory in place, so the request keeps the tensor alive.
    package func setTensor(_ tensor: Tensor, for name: String) throws(InferenceError) {
        try check(ov_infer_request_set_tensor(handle, name, tensor.handle), "set tensor \(name) to \(tensor.shape)")
        bound[name] = tensor
    }

    /// The tensor OpenVINO holds for `name` (an output after inference).
    package func tensor(_ name: String) throws(InferenceError) -> Tensor {
        var tensor: OpaquePointer?
        try check(ov_infer_request_get_tensor(handle, name, &tensor), "get tensor \(name)")
        guard let tensor else { throw InferenceError(operation: "get tensor \(name)", message: "none returned") }
        return try Tensor(handle: tensor, storage: nil)
    }

    /// Runs inference and blocks until it is done.
    package func infer() throws(InferenceError) {
        try check(ov_infer_request_infer(handle), "infer")
    }

    /// Starts inference and returns at once; `wait()` collects it.
    package func startAsync() throws(InferenceError) {
        try check(ov_infer_request_start_async(handle), "start inference")
    }

    /// Blocks until the started inference is done, throwing its error.
    package func wait() throws(InferenceError) {
        try check(ov_infer_request_wait(handle), "wait for inference")
    }
}

/// Host memory that tensors can view: 64-byte aligned, owned by Swift,
/// freed when the last tensor over it goes.
final class HostBuffer: @unchecked Sendable {
    let bytes: UnsafeMutableRawPointer
    let byteCount: Int

    init(byteCount: Int) {
        self.byteCount = max(byteCount, 1)
        bytes = UnsafeMutableRawPointer.allocate(byteCount: self.byteCount, alignment: 64)
        bytes.initializeMemory(as: UInt8.self, repeating: 0, count: self.byteCount)
    }

    deinit { bytes.deallocate() }

    func floats(count: Int) -> UnsafeMutableBufferPointer<Float> {
        precondition(count * 4 <= byteCount, "host buffer too small")
        return UnsafeMutableBufferPointer(start: bytes.assumingMemoryBound(to: Float.self), count: count)
    }
}

/// An n-dimensional tensor: either over host memory this package owns (so
/// it can be filled in place without a copy) or owned by OpenVINO (as the
/// outputs of a request are).
package final class Tensor: @unchecked Sendable {
    let handle: OpaquePointer
    /// The Swift-owned memory under the tensor, kept alive with it.
    private let storage: HostBuffer?
    package let shape: [Int]
    package let elementType: ElementType

    /// A tensor over OpenVINO-owned memory.
    package convenience init(elementType: ElementType, shape: [Int]) throws(InferenceError) {
        var tensor: OpaquePointer?
        try withShape(shape) { (ovShape) throws(InferenceError) in
            try check(ov_tensor_create(elementType.raw, ovShape, &tensor), "create \(elementType) tensor \(shape)")
        }
        guard let tensor else { throw InferenceError(operation: "create tensor", message: "none returned") }
        try self.init(handle: tensor, storage: nil)
    }

    /// An f32 tensor over Swift-owned memory holding `values` (row-major).
    package convenience init(shape: [Int], floats values: [Float]) throws(InferenceError) {
        let storage = HostBuffer(byteCount: values.count * 4)
        _ = storage.floats(count: values.count).initialize(fromContentsOf: values)
        try self.init(viewing: storage, elementType: .f32, shape: shape)
    }

    /// An i64 tensor over Swift-owned memory holding `values` (e.g. token ids).
    package convenience init(shape: [Int], int64s values: [Int64]) throws(InferenceError) {
        let storage = HostBuffer(byteCount: values.count * 8)
        let typed = storage.bytes.bindMemory(to: Int64.self, capacity: values.count)
        for (index, value) in values.enumerated() { typed[index] = value }
        try self.init(viewing: storage, elementType: .i64, shape: shape)
    }

    /// A tensor of `shape` over the start of `storage`, which must be large enough.
    init(viewing storage: HostBuffer, elementType: ElementType, shape: [Int]) throws(InferenceError) {
        let needed = shape.reduce(1, *) * elementType.byteWidth
        guard needed <= storage.byteCount, elementType.byteWidth > 0 else {
            throw InferenceError(operation: "create tensor \(shape)",
                                 message: "needs \(needed) bytes, the buffer has \(storage.byteCount)")
        }
        var tensor: OpaquePointer?
        try withShape(shape) { (ovShape) throws(InferenceError) in
            try check(ov_tensor_create_from_host_ptr(elementType.raw, ovShape, storage.bytes, &tensor),
                      "create \(elementType) tensor \(shape) over host memory")
        }
        guard let tensor else { throw InferenceError(operation: "create tensor", message: "none returned") }
        self.handle = tensor
        self.storage = storage
        self.shape = shape
        self.elementType = elementType
    }

    /// Adopts a tensor handle OpenVINO returned.
    init(handle: OpaquePointer, storage: HostBuffer?) throws(InferenceError) {
        self.handle = handle
        self.storage = storage
        var ovShape = ov_shape_t()
        var type = ov_element_type_e(rawValue: 0)
        do {
            try check(ov_tensor_get_shape(handle, &ovShape), "read tensor shape")
            try check(ov_tensor_get_element_type(handle, &type), "read tensor element type")
        } catch {
            ov_tensor_free(handle)
            throw error
        }
        shape = (0..<Int(ovShape.rank)).map { Int(ovShape.dims[$0]) }
        _ = ov_shape_free(&ovShape)
        elementType = ElementType(type)
    }

    deinit { ov_tensor_free(handle) }

    package var elementCount: Int { shape.reduce(1, *) }

    /// The tensor's memory; valid while the tensor lives.
    package func data() throws(InferenceError) -> UnsafeMutableRawPointer {
        var data: UnsafeMutableRawPointer?
        try check(ov_tensor_data(handle, &data), "read tensor data")
        guard let data else { throw InferenceError(operation: "read tensor data", message: "no data") }
        return data
    }

    /// The values of an f32 tensor, copied out.
    package func floats() throws(InferenceError) -> [Float] {
        guard elementType == .f32 else {
            throw InferenceError(operation: "read tensor as f32", message: "the tensor holds \(elementType)")
        }
        let pointer = try data().assumingMemoryBound(to: Float.self)
        return Array(UnsafeBufferPointer(start: pointer, count: elementCount))
    }
}

/// Calls `body` with an `ov_shape_t` over `shape`'s dimensions.
private func withShape<R>(_ shape: [Int],
                          _ body: (ov_shape_t) throws(InferenceError) -> R) throws(InferenceError) -> R {
    var dims = shape.map(Int64.init)
    return try dims.withUnsafeMutableBufferPointer { (buffer) throws(InferenceError) -> R in
        try body(ov_shape_t(rank: Int64(buffer.count), dims: buffer.baseAddress))
    }
}
