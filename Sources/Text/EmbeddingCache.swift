import Foundation

/// Text embeddings for one encoder, kept in memory and on disk, so a prompt
/// changed live costs one inference the first time and none after.
///
/// - A hit (memory or disk) never runs the encoder.
/// - Threads asking for the same missing prompt at once share one
///   computation: the first claims it, the others wait for its result.
/// - A cache file that cannot be trusted (truncated, garbage, another
///   prompt's, failed checksum) is reported through `warn` and recomputed.
/// - Files are written to a temporary name and renamed into place, so a
///   reader never sees half a file.
///
/// The calls block; they are meant for pipeline threads, not the Swift
/// concurrency pool. Embeddings come back L2-normalised.
package final class EmbeddingCache: @unchecked Sendable {
    // @unchecked: all mutable state is guarded by `condition`.
    package let encoder: any TextEncoding
    /// Where entries are stored; nil keeps them in memory only.
    package let directory: URL?
    private let warn: @Sendable (String) -> Void
    private let condition = NSCondition()
    private var memory: [String: [Float]] = [:]
    private var inFlight: Set<String> = []
    /// What entries are keyed by: the encoder's identity, behind its text
    /// space when it has one, so vectors never cross spaces or models.
    package let key: String

    /// - Parameters:
    ///   - directory: the cache folder; defaults to
    ///     `$XDG_CACHE_HOME/thermocolor/embeddings` (or `~/.cache/...`).
    ///   - warn: receives one-line reports of cache files that were
    ///     unusable or could not be written; they never fail a request.
    package init(
        encoder: any TextEncoding,
        directory: URL? = EmbeddingCache.defaultDirectory(),
        warn: @escaping @Sendable (String) -> Void = EmbeddingCache.warnOnStandardError
    ) {
        self.encoder = encoder
        self.directory = directory
        self.warn = warn
        key = encoder.textSpace.map { "\($0)/\(encoder.identity)" } ?? encoder.identity
    }

    /// `$XDG_CACHE_HOME/thermocolor/embeddings`, or `~/.cache/thermocolor/embeddings`
    /// when XDG_CACHE_HOME is unset or not absolute.
    package static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            return URL(fileURLWithPath: xdg).appendingPathComponent("thermocolor/embeddings")
        }
        let home = environment["HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser
        return home.appendingPathComponent(".cache/thermocolor/embeddings")
    }

    package static let warnOnStandardError: @Sendable (String) -> Void = { message in
        FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
    }

    /// The embedding of one prompt.
    package func embedding(for prompt: String) throws -> [Float] {
        try embeddings(for: [prompt])[0]
    }

    /// Embeddings of several prompts, in order; the misses go to the encoder
    /// in one call.
    package func embeddings(for prompts: [String]) throws -> [[Float]] {
        var found: [String: [Float]] = [:]
        let wanted = Array(Set(prompts))
        condition.lock()
        while true {
            var claimed: [String] = []
            var waiting = false
            for prompt in wanted where found[prompt] == nil {
                if let embedding = memory[prompt] {
                    found[prompt] = embedding
                } else if inFlight.contains(prompt) {
                    waiting = true
                } else {
                    inFlight.insert(prompt)
                    claimed.append(prompt)
                }
            }
            if !claimed.isEmpty {
                condition.unlock()
                let computed: [String: [Float]]
                do {
                    computed = try load(claimed)
                } catch {
                    condition.lock()
                    inFlight.subtract(claimed)
                    condition.broadcast()
                    condition.unlock()
                    throw error
                }
                condition.lock()
                memory.merge(computed) { _, new in new }
                inFlight.subtract(claimed)
                condition.broadcast()
                found.merge(computed) { _, new in new }
                continue
            }
            if !waiting { break }
            // Someone else is computing a prompt we need; if they fail, the
            // next pass finds it unclaimed and computes it here.
            condition.wait()
        }
        condition.unlock()
        // The loop ends only when every wanted prompt has been found.
        return prompts.map { found[$0]! }
    }

    /// Adds embeddings computed elsewhere (for example read from a colouriser
    /// bundle with `EmbeddingFile.read`) for this cache's encoder.
    package func insert(_ embeddings: [String: [Float]]) throws {
        var normalised: [String: [Float]] = [:]
        for (prompt, vector) in embeddings {
            guard let unit = l2Normalized(vector) else {
                throw EmbeddingError.badEncoderOutput("zero or non-finite embedding for \"\(prompt)\"")
            }
            normalised[prompt] = unit
            store(unit, for: prompt)
        }
        condition.lock()
        memory.merge(normalised) { _, new in new }
        condition.unlock()
    }

    /// Writes the embeddings of `prompts` (computing those not cached) to a
    /// `{"prompt": [floats]}` file, to be baked into a colouriser bundle.
    package func export(_ prompts: [String], to url: URL) throws {
        let vectors = try embeddings(for: prompts)
        try EmbeddingFile.write(Dictionary(zip(prompts, vectors)) { first, _ in first }, to: url, textSpace: encoder.textSpace)
    }

    // MARK: - Computing and storing, outside the lock

    /// Disk first, then the encoder for whatever is left.
    private func load(_ prompts: [String]) throws -> [String: [Float]] {
        var result: [String: [Float]] = [:]
        var missing: [String] = []
        for prompt in prompts {
            if let embedding = readEntry(for: prompt) {
                result[prompt] = embedding
            } else {
                missing.append(prompt)
            }
        }
        guard !missing.isEmpty else { return result }
        let vectors = try encoder.embed(missing)
        guard vectors.count == missing.count else {
            throw EmbeddingError.badEncoderOutput("\(vectors.count) embeddings for \(missing.count) prompts")
        }
        for (prompt, vector) in zip(missing, vectors) {
            guard let unit = l2Normalized(vector) else {
                throw EmbeddingError.badEncoderOutput("zero or non-finite embedding for \"\(prompt)\"")
            }
            result[prompt] = unit
            store(unit, for: prompt)
        }
        return result
    }

    /// The file of one (encoder, prompt) entry: named by a hash of both.
    func entryURL(for prompt: String) -> URL? {
        directory?.appendingPathComponent(SHA256.hexDigest(of: Array(key.utf8) + [0] + Array(prompt.utf8)) + ".embedding")
    }

    private func readEntry(for prompt: String) -> [Float]? {
        guard let url = entryURL(for: prompt), FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return try EntryFormat.decode(Data(contentsOf: url), identity: key, prompt: prompt)
        } catch {
            warn("embedding cache entry \(url.path) is unusable (\(error)); recomputing it")
            return nil
        }
    }

    private func store(_ embedding: [Float], for prompt: String) {
        guard let directory, let url = entryURL(for: prompt) else { return }
        let data = EntryFormat.encode(embedding, identity: key, prompt: prompt)
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try data.write(to: temporary)
            // rename(2) replaces atomically, even when another thread just
            // stored the same entry.
            guard rename(temporary.path, url.path) == 0 else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: String(cString: strerror(errno))])
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            warn("embedding cache entry \(url.path) could not be written (\(error.localizedDescription)); keeping it in memory only")
        }
    }
}

/// One cache entry on disk, little-endian:
/// "TCEMB001", identity length (UInt32) and UTF-8 bytes, prompt length and
/// bytes, dimension (UInt32), the floats, then CRC-32 of all before it.
/// Storing the key itself guards against hash collisions and misplaced files.
enum EntryFormat {
    static let magic = Array("TCEMB001".utf8)

    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    static func encode(_ embedding: [Float], identity: String, prompt: String) -> Data {
        var bytes = magic
        for text in [identity, prompt] {
            append(UInt32(text.utf8.count), to: &bytes)
            bytes += Array(text.utf8)
        }
        append(UInt32(embedding.count), to: &bytes)
        for value in embedding { append(value.bitPattern, to: &bytes) }
        append(Gzip.crc32(bytes[...]), to: &bytes)
        return Data(bytes)
    }

    static func decode(_ data: Data, identity: String, prompt: String) throws -> [Float] {
        let bytes = [UInt8](data)
        guard bytes.count >= magic.count + 16, Array(bytes[..<magic.count]) == magic else {
            throw Invalid(description: "not a cache entry")
        }
        guard readUInt32(bytes, bytes.count - 4) == Gzip.crc32(bytes[..<(bytes.count - 4)]) else {
            throw Invalid(description: "checksum mismatch")
        }
        var offset = magic.count
        for expected in [identity, prompt] {
            let length = Int(readUInt32(bytes, offset))
            offset += 4
            guard offset + length <= bytes.count - 4, Array(bytes[offset..<(offset + length)]) == Array(expected.utf8) else {
                throw Invalid(description: "entry is for another model or prompt")
            }
            offset += length
        }
        let dimension = Int(readUInt32(bytes, offset))
        offset += 4
        guard dimension > 0, offset + 4 * dimension == bytes.count - 4 else {
            throw Invalid(description: "wrong length")
        }
        let vector = (0..<dimension).map { Float(bitPattern: readUInt32(bytes, offset + 4 * $0)) }
        // Entries are stored normalised; anything else was damaged in a way
        // the checksum could not see, or written by something else.
        let norm = vector.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        guard norm.isFinite, abs(norm - 1) < 1e-3 else { throw Invalid(description: "not a unit vector") }
        return vector
    }

    private static func append(_ value: UInt32, to bytes: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    private static func readUInt32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        guard offset >= 0, offset + 4 <= bytes.count else { return 0 }
        return (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
    }
}
