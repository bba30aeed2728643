import Foundation

/// Something that turns prompts into text embeddings: a CLIP text tower, or
/// a table of embeddings computed earlier.
package protocol TextEncoding: Sendable {
    /// Names the model by content (a hash of its files), so cached
    /// embeddings are never served for a different model.
    var identity: String { get }

    /// The identity of the embedding space the vectors live in (for example
    /// "all-minilm-l6-v2", "clip-vit-b32-openai"); nil when unknown. Two
    /// encoders of one space give comparable vectors; vectors of different
    /// spaces must never meet. Part of every cache key.
    var textSpace: String? { get }

    /// One embedding per prompt, in order. Callers may pass several prompts
    /// to share one inference; `EmbeddingCache` L2-normalises the results.
    func embed(_ prompts: [String]) throws -> [[Float]]
}

extension TextEncoding {
    package var textSpace: String? { nil }
}

/// Scales `vector` to unit length; nil for a zero or non-finite vector.
package func l2Normalized(_ vector: [Float]) -> [Float]? {
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
package struct PrecomputedEmbeddings: TextEncoding {
    package let identity: String
    package let embeddings: [String: [Float]]
    /// The space the file records (`"@textSpace"`), if any.
    package let textSpace: String?

    package init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw EmbeddingError.unreadableFile(url.path, reason: error.localizedDescription)
        }
        (embeddings, textSpace) = try EmbeddingFile.decodeTagged(data, source: url.path)
        identity = "precomputed-" + SHA256.hexDigest(of: data)
    }

    package init(_ embeddings: [String: [Float]], identity: String, textSpace: String? = nil) {
        self.embeddings = embeddings
        self.identity = identity
        self.textSpace = textSpace
    }

    package func embed(_ prompts: [String]) throws -> [[Float]] {
        try prompts.map { prompt in
            guard let embedding = embeddings[prompt] else { throw EmbeddingError.unknownPrompt(prompt) }
            return embedding
        }
    }
}

/// Reads and writes `{"prompt": [floats]}` embedding files.
///
/// A file may record the text space of its vectors under the key
/// `"@textSpace"` (a string; `embed` writes it whenever the encoder has a
/// space). Keys starting with `@` are never prompts.
package enum EmbeddingFile {
    /// The key that records the vectors' text space.
    package static let textSpaceKey = "@textSpace"

    /// Writes the embeddings as JSON with sorted keys, atomically, with
    /// `"@textSpace"` when `textSpace` is given.
    package static func write(_ embeddings: [String: [Float]], to url: URL, textSpace: String? = nil) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(TaggedEmbeddings(embeddings: embeddings, textSpace: textSpace))
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw EmbeddingError.unwritableFile(url.path, reason: error.localizedDescription)
        }
    }

    /// Reads an embedding file; every vector must be non-empty, finite and
    /// of one length.
    package static func read(_ url: URL) throws -> [String: [Float]] {
        try readTagged(url).embeddings
    }

    /// Reads an embedding file and the text space it records, if any.
    package static func readTagged(_ url: URL) throws -> (embeddings: [String: [Float]], textSpace: String?) {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw EmbeddingError.unreadableFile(url.path, reason: error.localizedDescription)
        }
        return try decodeTagged(data, source: url.path)
    }

    static func decode(_ data: Data, source: String) throws -> [String: [Float]] {
        try decodeTagged(data, source: source).embeddings
    }

    package static func decodeTagged(_ data: Data, source: String) throws -> (embeddings: [String: [Float]], textSpace: String?) {
        let entries: [String: Entry]
        do {
            entries = try JSONDecoder().decode([String: Entry].self, from: data)
        } catch {
            throw EmbeddingError.malformedFile(source, reason: "not a JSON object of prompt to number array")
        }
        var embeddings: [String: [Float]] = [:]
        var textSpace: String?
        for (key, entry) in entries {
            switch (key, entry) {
            case (textSpaceKey, .text(let space)):
                textSpace = space
            case (_, .vector(let vector)) where !key.hasPrefix("@"):
                embeddings[key] = vector
            default:
                throw EmbeddingError.malformedFile(source, reason: "\"\(key)\" must be \(key == textSpaceKey ? "a string" : key.hasPrefix("@") ? "left out (keys starting with @ are not prompts)" : "an array of numbers")")
            }
        }
        let lengths = Set(embeddings.values.map(\.count))
        guard lengths.count <= 1, !lengths.contains(0) else {
            throw EmbeddingError.malformedFile(source, reason: "embeddings of differing or zero length \(lengths.sorted())")
        }
        if let bad = embeddings.first(where: { !$0.value.allSatisfy(\.isFinite) }) {
            throw EmbeddingError.malformedFile(source, reason: "non-finite value in the embedding of \"\(bad.key)\"")
        }
        return (embeddings, textSpace)
    }

    /// One value of the file: a prompt's vector, or the space's name.
    private enum Entry: Decodable {
        case vector([Float])
        case text(String)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .text(text)
            } else {
                self = .vector(try container.decode([Float].self))
            }
        }
    }

    private struct TaggedEmbeddings: Encodable {
        let embeddings: [String: [Float]]
        let textSpace: String?

        struct Key: CodingKey {
            let stringValue: String
            init(stringValue: String) { self.stringValue = stringValue }
            var intValue: Int? { nil }
            init?(intValue: Int) { nil }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            if let textSpace { try container.encode(textSpace, forKey: Key(stringValue: textSpaceKey)) }
            for (prompt, vector) in embeddings { try container.encode(vector, forKey: Key(stringValue: prompt)) }
        }
    }
}

/// Embedding failures, each one line naming the thing and the cause.
package enum EmbeddingError: Error, CustomStringConvertible {
    case unknownPrompt(String)
    case unreadableFile(String, reason: String)
    case unwritableFile(String, reason: String)
    case malformedFile(String, reason: String)
    case badEncoderOutput(String)

    package var description: String {
        switch self {
        case .unknownPrompt(let prompt): "no precomputed embedding for the prompt \"\(prompt)\""
        case .unreadableFile(let path, let reason): "embedding file \(path): cannot read it: \(reason)"
        case .unwritableFile(let path, let reason): "embedding file \(path): cannot write it: \(reason)"
        case .malformedFile(let path, let reason): "embedding file \(path): \(reason)"
        case .badEncoderOutput(let reason): "text encoder output: \(reason)"
        }
    }
}
