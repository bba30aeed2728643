import ArgumentParser
import Foundation
import Inference
import Text

/// Where the BPE merges file is unless told: what Scripts/setup.sh fetched.
func defaultMergesFile() -> URL {
    let candidates = [
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".deps/clip/bpe_simple_vocab_16e6.txt"),
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("../share/thermocolor/bpe_simple_vocab_16e6.txt").standardizedFileURL,
    ]
    return candidates.first { FileManager.default.fileExists(atPath: $0.path) } ?? candidates[0]
}

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print CLIP's token ids for a text as one JSON array (start and end tokens included, no padding)."
    )

    @Argument(help: "The text.")
    var text: String

    @Option(help: "CLIP's BPE merges file (.txt or .gz).")
    var merges: String?

    func run() throws {
        let tokenizer = try CLIPTokenizer(mergesFile: merges.map { URL(fileURLWithPath: $0) } ?? defaultMergesFile())
        print("[" + tokenizer.encode(text).map(String.init).joined(separator: ",") + "]")
    }
}

struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Compute CLIP text embeddings of prompts, through the cache, as {\"prompt\": [floats]} JSON.",
        discussion: """
        The output can be baked into a colouriser bundle's "embeddings" so a deployed device \
        needs no text encoder. Embeddings are L2-normalised and cached on disk (see --cache).
        """
    )

    @Option(help: "A CLIP text-encoder bundle folder (clip.json + ONNX); see docs/CLIP.md.")
    var clip: String

    @Option(help: "CLIP's BPE merges file, when the bundle carries none.")
    var merges: String?

    @Option(help: "Write the JSON here instead of standard output.")
    var out: String?

    @Option(help: "Bake the embeddings into this colouriser bundle's model.json, so the device needs no text encoder.")
    var intoBundle: String?

    @Option(help: "The cache folder (default: $XDG_CACHE_HOME/thermocolor/embeddings).")
    var cache: String?

    @Flag(help: "Do not read or write the on-disk cache.")
    var noCache = false

    @Option(help: "OpenVINO device.")
    var device = "CPU"

    @Argument(help: "The prompts.")
    var prompts: [String]

    func validate() throws {
        guard !prompts.isEmpty else { throw ValidationError("give at least one prompt") }
    }

    func run() throws {
        let cache = try makeEmbeddingCache(clip: clip, merges: merges, cacheFolder: cache, noCache: noCache, device: device)
        if let intoBundle {
            try bake(try cache.embeddings(for: prompts), into: intoBundle)
            print("baked \(prompts.count) embeddings into \(intoBundle)/model.json")
        }
        if let out {
            try cache.export(prompts, to: URL(fileURLWithPath: out))
            print("wrote \(out): \(prompts.count) embeddings")
        } else if intoBundle == nil {
            let vectors = try cache.embeddings(for: prompts)
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("thermocolor-embed-\(getpid()).json")
            try EmbeddingFile.write(Dictionary(zip(prompts, vectors), uniquingKeysWith: { first, _ in first }), to: folder)
            defer { try? FileManager.default.removeItem(at: folder) }
            print(String(decoding: try Data(contentsOf: folder), as: UTF8.self))
        }
    }
}

extension EmbedCommand {
    /// Adds the prompts' vectors to the bundle's "embeddings" table, keeping
    /// the rest of model.json as it was.
    func bake(_ vectors: [[Float]], into bundle: String) throws {
        let manifestURL = URL(fileURLWithPath: bundle).appendingPathComponent("model.json")
        guard let data = FileManager.default.contents(atPath: manifestURL.path),
              var manifest = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ValidationError("cannot read \(manifestURL.path) as a model bundle description")
        }
        guard let dimension = manifest["textDimension"] as? Int else {
            throw ValidationError("the model bundle \(bundle) takes no text (no textDimension in model.json)")
        }
        if let wrong = vectors.first(where: { $0.count != dimension }) {
            throw ValidationError("the CLIP bundle gives \(wrong.count) values per prompt, the model in \(bundle) takes \(dimension)")
        }
        var table = manifest["embeddings"] as? [String: Any] ?? [:]
        for (prompt, vector) in zip(prompts, vectors) { table[prompt] = vector.map { Double($0) } }
        manifest["embeddings"] = table
        if manifest["defaultPrompt"] == nil { manifest["defaultPrompt"] = prompts[0] }
        let updated = try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys])
        try updated.write(to: manifestURL, options: .atomic)
    }
}

/// A cache in front of a CLIP bundle's text encoder.
func makeEmbeddingCache(clip: String, merges: String?, cacheFolder: String?, noCache: Bool, device: String) throws -> EmbeddingCache {
    let bundle = URL(fileURLWithPath: clip)
    var mergesFile = merges.map { URL(fileURLWithPath: $0) }
    if mergesFile == nil {
        // Bundles may leave the merges file out; then the one set-up fetched serves.
        let manifest = (try? Data(contentsOf: bundle.appendingPathComponent("clip.json")))
            .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        if let named = manifest?["merges"] as? String,
           !FileManager.default.fileExists(atPath: bundle.appendingPathComponent(named).path) {
            mergesFile = defaultMergesFile()
        }
    }
    let encoder = try CLIPTextEncoder(bundle: bundle, mergesFile: mergesFile, device: device)
    let directory = noCache ? nil : (cacheFolder.map { URL(fileURLWithPath: $0) } ?? EmbeddingCache.defaultDirectory())
    return EmbeddingCache(encoder: encoder, directory: directory)
}
