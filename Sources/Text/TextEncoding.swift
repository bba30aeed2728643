import Foundation

/// Something that turns prompts into text embeddings: a CLIP text tower, or
/// a table of embeddings computed earlier.
public protocol TextEncoding: Sendable {
    /// Names the model by content (a hash of its files), so cached
    /// embeddings are never served for a different model.
    var identity: String { get }

    /// One embedding per prompt, in order. Callers may pass several prompts
    /// to share one inference; `EmbeddingCache` L2-normalises the results.
    func embed(_ prompts: [String]) throws -> [[Float]]
}

/// Scales `vector` to unit length; nil for a zero or non-finite vector.
public func l2Normalized(_ vector: [Float]) -> [Float]? {
    var sum: Double = 0
    for value in vector { sum += Double(value) * Double(value) }
    guard sum.isFinite, sum > 0 else { return nil }
    // Already unit length to float precision: keep the exact values, so
    // normalising twice (encoder, file, cache) never drifts.
    if abs(sum - 1) <= 8 * Double(Float.ulpOfOne) { return vector }
    let scale = Float(1 / sum.squareRoot())
    return vector.map { $0 * scale }
}

/// Embeddings baked into a file (`{"prompt": [floats], ...}`, as written by
/// `EmbeddingFile.write`), served without any model. A colouriser bundle can
/// carry the prompts it was made for this way.
public struct PrecomputedEmbeddings: TextEncoding {
    public let identity: String
    public let embeddings: [String: [Float]]

    public init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw EmbeddingError.unreadableFile(url.path, reason: error.localizedDescription)
        }
        embeddings = try EmbeddingFile.decode(data, source: url.path)
        identity = "precomputed-" + SHA256.hexDigest(of: data)
    }

    public init(_ embeddings: [String: [Float]], identity: String) {
        self.embeddings = embeddings
        self.identity = identity
    }

    public func embed(_ prompts: [String]) throws -> [[Float]] {
        try prompts.map { prompt in
            guard let embedding = embeddings[prompt] else { throw EmbeddingError.unknownPrompt(prompt) }
            return embedding
        }
    }
}

/// Reads and writes `{"prompt": [floats]}` embedding files.
public enum EmbeddingFile {
    /// Writes the embeddings as JSON with sorted keys, atomically.
    public static func write(_ embeddings: [String: [Float]], to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(embeddings)
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw EmbeddingError.unwritableFile(url.path, reason: error.localizedDescription)
        }
    }

    /// Reads an embedding file; every vector must be non-empty, finite and
    /// of one length.
    public static func read(_ url: URL) throws -> [String: [Float]] {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw EmbeddingError.unreadableFile(url.path, reason: error.localizedDescription)
        }
        return try decode(data, source: url.path)
    }

    static func decode(_ data: Data, source: String) throws -> [String: [Float]] {
        let embeddings: [String: [Float]]
        do {
            embeddings = try JSONDecoder().decode([String: [Float]].self, from: data)
        } catch {
            throw EmbeddingError.malformedFile(source, reason: "not a JSON object of prompt to number array")
        }
        let lengths = Set(embeddings.values.map(\.count))
        guard lengths.count <= 1, !lengths.contains(0) else {
            throw EmbeddingError.malformedFile(source, reason: "embeddings of differing or zero length \(lengths.sorted())")
        }
        if let bad = embeddings.first(where: { !$0.value.allSatisfy(\.isFinite) }) {
            throw EmbeddingError.malformedFile(source, reason: "non-finite value in the embedding of \"\(bad.key)\"")
        }
        return embeddings
    }
}

/// Embedding failures, each one line naming the thing and the cause.
public enum EmbeddingError: Error, CustomStringConvertible {
    case unknownPrompt(String)
    case unreadableFile(String, reason: String)
    case unwritableFile(String, reason: String)
    case malformedFile(String, reason: String)
    case badEncoderOutput(String)

    public var description: String {
        switch self {
        case .unknownPrompt(let prompt): "no precomputed embedding for the prompt \"\(prompt)\""
        case .unreadableFile(let path, let reason): "embedding file \(path): cannot read it: \(reason)"
        case .unwritableFile(let path, let reason): "embedding file \(path): cannot write it: \(reason)"
        case .malformedFile(let path, let reason): "embedding file \(path): \(reason)"
        case .badEncoderOutput(let reason): "text encoder output: \(reason)"
        }
    }
}
