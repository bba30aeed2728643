import Foundation
import Text

/// `clip.json`, the description of a CLIP text bundle: a folder holding it,
/// the text tower as ONNX (or OpenVINO IR) and usually the merges file.
///
///     {"format": "thermocolor-clip-text", "version": 1, "model": "text.onnx",
///      "merges": "bpe_simple_vocab_16e6.txt.gz", "contextLength": 77,
///      "embeddingDim": 512, "input": "input_ids", "output": "text_embeds"}
///
/// The model takes token ids, int64 (or int32) `[batch, contextLength]`, and
/// returns `[batch, embeddingDim]` floats: CLIP's `encode_text`, normalised
/// or not (the encoder normalises).
public struct CLIPBundleManifest: Codable, Sendable, Equatable {
    public static let formatName = "thermocolor-clip-text"

    public var format: String
    public var version: Int
    public var name: String?
    /// The model file, relative to the bundle folder.
    public var model: String
    /// CLIP's BPE merges file (plain or gzipped), relative to the bundle.
    public var merges: String
    public var contextLength: Int
    public var embeddingDim: Int
    /// The ids input's name; nil means the model's only input.
    public var input: String?
    /// The embedding output's name; nil means the model's first output.
    public var output: String?
}

/// Why a CLIP bundle could not be used, in one line.
public struct CLIPBundleError: Error, CustomStringConvertible, Sendable {
    public let bundle: String
    public let reason: String

    public var description: String { "CLIP bundle \(bundle): \(reason)" }
}

/// CLIP's text tower on OpenVINO: prompts in, L2-normalised embeddings out.
///
/// Prompts are tokenised exactly as CLIP's reference tokenizer does, padded
/// to the context length and run as one batch (or in chunks of the model's
/// fixed batch size). Compiled at f32 by default: CPUs with bf16 units would
/// otherwise run it in bf16, which moves embeddings by about 1e-4 in cosine.
///
/// `embed` is safe to call from several threads; calls take turns on one
/// infer request and block, so call it from pipeline threads (or through an
/// `EmbeddingCache`), not from Swift's concurrency pool.
public final class CLIPTextEncoder: TextEncoding, @unchecked Sendable {
    // @unchecked: the infer request is only touched under `lock`.
    public let identity: String
    public let manifest: CLIPBundleManifest
    public let tokenizer: CLIPTokenizer
    private let compiled: CompiledModel
    private let request: InferRequest
    private let inputName: String
    private let outputName: String
    private let inputType: ElementType
    /// The model's fixed batch size, or nil when the batch is dynamic.
    private let fixedBatch: Int?
    private let lock = NSLock()

    /// Loads a bundle folder.
    /// - Parameters:
    ///   - mergesFile: overrides the manifest's merges file, for bundles
    ///     that do not carry their own copy.
    ///   - hints: compile hints; `inferencePrecision` defaults to "f32".
    public init(bundle: URL, mergesFile: URL? = nil, core: Core? = nil, device: String = "CPU",
                hints: CompileHints = CompileHints(inferencePrecision: "f32")) throws {
        let fail = { (reason: String) in CLIPBundleError(bundle: bundle.path, reason: reason) }
        let manifestURL = bundle.appendingPathComponent("clip.json")
        guard let manifestData = try? Data(contentsOf: manifestURL) else {
            throw fail("no readable clip.json in the folder")
        }
        let manifest: CLIPBundleManifest
        do {
            manifest = try JSONDecoder().decode(CLIPBundleManifest.self, from: manifestData)
        } catch {
            throw fail("clip.json is not a CLIP bundle description (\(Self.describe(error)))")
        }
        guard manifest.format == CLIPBundleManifest.formatName, manifest.version == 1 else {
            throw fail("clip.json has format \"\(manifest.format)\" version \(manifest.version); expected \"\(CLIPBundleManifest.formatName)\" version 1")
        }
        guard manifest.contextLength >= 2, manifest.embeddingDim >= 1 else {
            throw fail("clip.json has contextLength \(manifest.contextLength) and embeddingDim \(manifest.embeddingDim)")
        }
        let modelURL = bundle.appendingPathComponent(manifest.model)
        guard FileManager.default.fileExists(atPath: modelURL.path) else {
            throw fail("model file \(manifest.model) is missing")
        }
        let mergesURL = mergesFile ?? bundle.appendingPathComponent(manifest.merges)
        guard FileManager.default.fileExists(atPath: mergesURL.path) else {
            throw fail("merges file \(mergesURL.path) is missing (pass the merges file of CLIP's tokenizer explicitly)")
        }
        self.manifest = manifest
        tokenizer = try CLIPTokenizer(mergesFile: mergesURL)

        let core = try core ?? Core()
        let model = try core.readModel(at: modelURL.path)
        let inputs = try model.inputs()
        let outputs = try model.outputs()
        guard let input = manifest.input.map({ name in inputs.first { $0.name == name } })
                ?? (inputs.count == 1 ? inputs.first : nil)
        else {
            throw fail("model inputs \(inputs.map(\.name)) do not include \(manifest.input ?? "a single ids input")")
        }
        guard let output = manifest.output.map({ name in outputs.first { $0.name == name } }) ?? outputs.first else {
            throw fail("model outputs \(outputs.map(\.name)) do not include \(manifest.output ?? "any output")")
        }
        guard input.elementType == .i64 || input.elementType == .i32 else {
            throw fail("input \(input.name) takes \(input.elementType); token ids need i64 or i32")
        }
        if let shape = input.shape {
            guard shape.count == 2 else { throw fail("input \(input) is not [batch, context]") }
            if let context = shape[1], context != manifest.contextLength {
                throw fail("input \(input) does not take clip.json's contextLength \(manifest.contextLength)")
            }
            fixedBatch = shape[0]
        } else {
            fixedBatch = nil
        }
        if let shape = output.shape, shape.count != 2 || (shape[1] != nil && shape[1] != manifest.embeddingDim) {
            throw fail("output \(output) is not [batch, \(manifest.embeddingDim)] as clip.json says")
        }
        inputName = input.name
        outputName = output.name
        inputType = input.elementType
        compiled = try core.compile(model, device: device, hints: hints)
        request = try compiled.makeRequest()

        // The content of everything that shapes an embedding names the model.
        var identity = SHA256()
        identity.update(Array(SHA256.hexDigest(of: [UInt8](manifestData)).utf8))
        identity.update(Array(try SHA256.hexDigest(ofFile: modelURL).utf8))
        identity.update(Array(try SHA256.hexDigest(ofFile: mergesURL).utf8))
        self.identity = "clip-text-" + identity.hexDigest()
    }

    public var contextLength: Int { manifest.contextLength }
    public var embeddingDimension: Int { manifest.embeddingDim }

    /// Embeddings of `prompts`, L2-normalised, in order.
    public func embed(_ prompts: [String]) throws -> [[Float]] {
        guard !prompts.isEmpty else { return [] }
        let ids = prompts.map { tokenizer.tokenize($0, contextLength: manifest.contextLength) }
        var result: [[Float]] = []
        result.reserveCapacity(prompts.count)
        let chunk = fixedBatch ?? prompts.count
        for start in stride(from: 0, to: ids.count, by: chunk) {
            var batch = Array(ids[start..<min(start + chunk, ids.count)])
            let used = batch.count
            // A fixed-batch model gets its last chunk padded with empty prompts.
            while batch.count < chunk { batch.append(tokenizer.tokenize("", contextLength: manifest.contextLength)) }
            let vectors = try run(batch)
            result += vectors.prefix(used)
        }
        return try result.enumerated().map { index, vector in
            guard let unit = l2Normalized(vector) else {
                throw CLIPBundleError(bundle: manifest.name ?? manifest.model,
                                      reason: "zero or non-finite embedding for \"\(prompts[index])\"")
            }
            return unit
        }
    }

    /// One inference over `[batch.count, contextLength]` ids.
    private func run(_ batch: [[Int32]]) throws -> [[Float]] {
        let shape = [batch.count, manifest.contextLength]
        let flat = batch.flatMap { $0 }
        let tensor: Tensor
        if inputType == .i64 {
            tensor = try Tensor(shape: shape, int64s: flat.map(Int64.init))
        } else {
            tensor = try Tensor(elementType: .i32, shape: shape)
            let pointer = try tensor.data().bindMemory(to: Int32.self, capacity: flat.count)
            for (index, id) in flat.enumerated() { pointer[index] = id }
        }
        let values: [Float]
        let outputShape: [Int]
        lock.lock()
        defer { lock.unlock() }
        try request.setTensor(tensor, for: inputName)
        try request.infer()
        let output = try request.tensor(outputName)
        outputShape = output.shape
        values = try output.floats()
        guard outputShape == [batch.count, manifest.embeddingDim] else {
            throw CLIPBundleError(bundle: manifest.name ?? manifest.model,
                                  reason: "output \(outputName) has shape \(outputShape), expected [\(batch.count), \(manifest.embeddingDim)]")
        }
        let width = manifest.embeddingDim
        return (0..<batch.count).map { Array(values[($0 * width)..<(($0 + 1) * width)]) }
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "missing \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: "not valid JSON"
        }
    }
}
