import Foundation
import Text

/// A text encoder on OpenVINO: prompts in, L2-normalised embeddings out.
/// CLIP's text tower (clip-bpe, end-token features) and BERT-family
/// sentence encoders (WordPiece, masked mean pooling) alike; the bundle's
/// manifest says which (see `TextEncoderBundle`).
///
/// Prompts are tokenised exactly as the family's reference tokenizer does.
/// CLIP prompts are padded to the context length; WordPiece prompts are cut
/// to it and the batch is padded to its longest prompt, with the attention
/// mask marking the padding. Batches run whole, or in chunks of the
/// network's fixed batch size. Compiled at f32 by default: CPUs with bf16
/// units would otherwise run in bf16, which moves embeddings by about 1e-4
/// in cosine.
///
/// `embed` is safe to call from several threads; calls take turns on one
/// infer request and block, so call it from pipeline threads (or through an
/// `EmbeddingCache`), not from Swift's concurrency pool.
package final class TextEncoder: TextEncoding, @unchecked Sendable {
    // @unchecked: the infer request is only touched under `lock`.
    package let identity: String
    package let bundle: TextEncoderBundle
    private let compiled: CompiledModel
    private let request: InferRequest
    private let ids: TensorDescription
    private let mask: TensorDescription?
    private let typeIDs: TensorDescription?
    private let outputName: String
    /// The network's fixed batch size, or nil when the batch is dynamic.
    private let fixedBatch: Int?
    /// The network's fixed sequence length, or nil when it is dynamic.
    private let fixedLength: Int?
    private let lock = NSLock()

    package var manifest: TextEncoderManifest { bundle.manifest }
    package var textSpace: String? { bundle.textSpace }
    package var contextLength: Int { bundle.contextLength }
    package var embeddingDimension: Int { bundle.embeddingDimension }
    /// CLIP's tokenizer, for CLIP bundles.
    package var clipTokenizer: CLIPTokenizer? {
        if case .clip(let tokenizer) = bundle.tokenizer { return tokenizer }
        return nil
    }

    /// Loads a bundle folder.
    /// - Parameters:
    ///   - mergesFile: overrides a CLIP manifest's merges file, for bundles
    ///     that do not carry their own copy.
    ///   - hints: compile hints; `inferencePrecision` defaults to "f32".
    package convenience init(bundle folder: URL, mergesFile: URL? = nil, core: Core? = nil, device: String = "CPU",
                            hints: CompileHints = CompileHints(inferencePrecision: "f32")) throws {
        try self.init(bundle: try TextEncoderBundle(folder: folder, mergesFile: mergesFile),
                      core: core, device: device, hints: hints)
    }

    package init(bundle: TextEncoderBundle, identity: String? = nil, core: Core? = nil, device: String = "CPU",
                hints: CompileHints = CompileHints(inferencePrecision: "f32")) throws {
        let fail = { (reason: String) in TextEncoderBundleError(bundle: bundle.folder.path, reason: reason) }
        let manifest = bundle.manifest
        let fileName = bundle.manifestFile.lastPathComponent
        self.bundle = bundle

        let core = try core ?? Core()
        let model = try core.readModel(at: bundle.modelFile.path, weights: bundle.weightsFile?.path)
        let inputs = try model.inputs()
        let outputs = try model.outputs()
        func named(_ name: String?, _ role: String) throws -> TensorDescription? {
            guard let name else { return nil }
            guard let found = inputs.first(where: { $0.name == name }) else {
                throw fail("model inputs \(inputs.map(\.name)) do not include the \(role) input \(name)")
            }
            guard found.elementType == .i64 || found.elementType == .i32 else {
                throw fail("input \(found.name) takes \(found.elementType); the \(role) input needs i64 or i32")
            }
            return found
        }
        guard let ids = try named(manifest.input, "ids") ?? (inputs.count == 1 ? inputs.first : nil) else {
            throw fail("model inputs \(inputs.map(\.name)) do not include \(manifest.input ?? "a single ids input")")
        }
        guard ids.elementType == .i64 || ids.elementType == .i32 else {
            throw fail("input \(ids.name) takes \(ids.elementType); token ids need i64 or i32")
        }
        mask = try named(manifest.maskInput, "mask")
        typeIDs = try named(manifest.typeIdsInput, "token type")
        let fed = Set([ids.name, mask?.name, typeIDs?.name].compactMap { $0 })
        if let unfed = inputs.first(where: { !fed.contains($0.name) }) {
            throw fail("network input \(unfed) has no role in \(fileName) (input, maskInput, typeIdsInput)")
        }
        guard let output = manifest.output.map({ name in outputs.first { $0.name == name } }) ?? outputs.first else {
            throw fail("model outputs \(outputs.map(\.name)) do not include \(manifest.output ?? "any output")")
        }
        if let shape = ids.shape {
            guard shape.count == 2 else { throw fail("input \(ids) is not [batch, length]") }
            if let length = shape[1], bundle.tokenizerKind == .clipBPE, length != manifest.contextLength {
                throw fail("input \(ids) does not take \(fileName)'s contextLength \(manifest.contextLength)")
            }
            fixedBatch = shape[0]
            fixedLength = shape[1]
        } else {
            fixedBatch = nil
            fixedLength = nil
        }
        if let shape = output.shape {
            let pooled = shape.count == 2
            let tokens = shape.count == 3
            guard pooled || tokens, shape.last! == nil || shape.last! == manifest.embeddingDim else {
                throw fail("output \(output) is not [batch, \(manifest.embeddingDim)] (or [batch, length, \(manifest.embeddingDim)]) as \(fileName) says")
            }
        }
        self.ids = ids
        outputName = output.name
        compiled = try core.compile(model, device: device, hints: hints)
        request = try compiled.makeRequest()
        self.identity = try identity ?? bundle.identity()
    }

    /// Embeddings of `prompts`, L2-normalised, in order.
    package func embed(_ prompts: [String]) throws -> [[Float]] {
        guard !prompts.isEmpty else { return [] }
        let sequences = prompts.map(modelIDs)
        var result: [[Float]] = []
        result.reserveCapacity(prompts.count)
        let chunk = fixedBatch ?? prompts.count
        for start in stride(from: 0, to: sequences.count, by: chunk) {
            var batch = Array(sequences[start..<min(start + chunk, sequences.count)])
            let used = batch.count
            // A fixed-batch model gets its last chunk padded with empty prompts.
            while batch.count < chunk { batch.append(modelIDs("")) }
            result += try run(batch).prefix(used)
        }
        return try result.enumerated().map { index, vector in
            guard let unit = l2Normalized(vector) else {
                throw TextEncoderBundleError(bundle: bundle.name, reason: "zero or non-finite embedding for \"\(prompts[index])\"")
            }
            return unit
        }
    }

    /// One prompt's ids as the network takes them, before batch padding.
    private func modelIDs(_ prompt: String) -> [Int32] {
        switch bundle.tokenizer {
        case .clip(let clip):
            return clip.tokenize(prompt, contextLength: manifest.contextLength)
        case .wordPiece(let wordPiece):
            return wordPiece.encode(prompt, maxLength: min(manifest.contextLength, fixedLength ?? .max))
        }
    }

    private var paddingID: Int32 {
        if case .wordPiece(let wordPiece) = bundle.tokenizer { return wordPiece.paddingToken }
        return 0
    }

    /// One inference over a batch of id sequences.
    private func run(_ batch: [[Int32]]) throws -> [[Float]] {
        let length = fixedLength ?? batch.map(\.count).max() ?? 1
        // CLIP pads with zeros after its end token; the mask is 1 up to it.
        let lengths = batch.map { sequence -> Int in
            guard bundle.tokenizerKind == .clipBPE else { return sequence.count }
            return (sequence.firstIndex(of: CLIPTokenizer.endOfText) ?? (sequence.count - 1)) + 1
        }
        var flatIDs: [Int32] = []
        var flatMask: [Int32] = []
        flatIDs.reserveCapacity(batch.count * length)
        flatMask.reserveCapacity(batch.count * length)
        for (sequence, used) in zip(batch, lengths) {
            flatIDs += sequence.prefix(length)
            flatIDs += repeatElement(paddingID, count: max(0, length - sequence.count))
            flatMask += repeatElement(1, count: min(used, length))
            flatMask += repeatElement(0, count: max(0, length - used))
        }
        let shape = [batch.count, length]
        func tensor(_ values: [Int32], for input: TensorDescription) throws -> Tensor {
            if input.elementType == .i64 { return try Tensor(shape: shape, int64s: values.map(Int64.init)) }
            let tensor = try Tensor(elementType: .i32, shape: shape)
            let pointer = try tensor.data().bindMemory(to: Int32.self, capacity: values.count)
            for (index, value) in values.enumerated() { pointer[index] = value }
            return tensor
        }
        let idsTensor = try tensor(flatIDs, for: ids)
        let maskTensor = try mask.map { try tensor(flatMask, for: $0) }
        let typeTensor = try typeIDs.map { try tensor([Int32](repeating: 0, count: flatIDs.count), for: $0) }

        let values: [Float]
        let outputShape: [Int]
        do {
            lock.lock()
            defer { lock.unlock() }
            try request.setTensor(idsTensor, for: ids.name)
            if let mask, let maskTensor { try request.setTensor(maskTensor, for: mask.name) }
            if let typeIDs, let typeTensor { try request.setTensor(typeTensor, for: typeIDs.name) }
            try request.infer()
            let output = try request.tensor(outputName)
            outputShape = output.shape
            values = try output.floats()
        }
        let width = manifest.embeddingDim
        if outputShape == [batch.count, width] {
            return (0..<batch.count).map { Array(values[($0 * width)..<(($0 + 1) * width)]) }
        }
        guard outputShape.count == 3, outputShape[0] == batch.count, outputShape[1] == length, outputShape[2] == width else {
            throw TextEncoderBundleError(bundle: bundle.name,
                                         reason: "output \(outputName) has shape \(outputShape), expected [\(batch.count), \(width)] or [\(batch.count), \(length), \(width)]")
        }
        return (0..<batch.count).map { row in pool(values, row: row, length: length, width: width, used: min(lengths[row], length)) }
    }

    /// Token features `[length, width]` of one row to one vector.
    private func pool(_ values: [Float], row: Int, length: Int, width: Int, used: Int) -> [Float] {
        let base = row * length * width
        switch bundle.pooling {
        case .cls:
            return Array(values[base..<(base + width)])
        case .endToken:
            let at = base + (used - 1) * width
            return Array(values[at..<(at + width)])
        case .mean:
            var sum = [Double](repeating: 0, count: width)
            for token in 0..<used {
                let at = base + token * width
                for index in 0..<width { sum[index] += Double(values[at + index]) }
            }
            return sum.map { Float($0 / Double(max(used, 1))) }
        }
    }
}

/// The name older code used: CLIP bundles load as any text encoder.
package typealias CLIPTextEncoder = TextEncoder

/// A text encoder whose network is compiled on first use: its identity (and
/// so the cache) is known from the files alone, so prompts the cache already
/// holds cost no compilation.
package final class DeferredTextEncoder: TextEncoding, @unchecked Sendable {
    // @unchecked: `loaded` is only touched under `lock`.
    package let bundle: TextEncoderBundle
    package let identity: String
    private let device: String
    private let lock = NSLock()
    private var loaded: TextEncoder?

    package init(bundle: TextEncoderBundle, device: String = "CPU") throws {
        self.bundle = bundle
        self.device = device
        identity = try bundle.identity()
    }

    package var textSpace: String? { bundle.textSpace }

    package func embed(_ prompts: [String]) throws -> [[Float]] {
        let encoder: TextEncoder = try lock.withLock {
            if let loaded { return loaded }
            let encoder = try TextEncoder(bundle: bundle, identity: identity, device: device)
            loaded = encoder
            return encoder
        }
        return try encoder.embed(prompts)
    }
}
