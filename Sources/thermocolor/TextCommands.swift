import ArgumentParser
import Foundation
import Inference
import Text

/// Where the BPE merges file is unless told: what Scripts/setup.sh fetched,
/// or what Scripts/install.sh installed beside the binary.
func defaultMergesFile() -> URL {
    let executable = ModelSearchPath.currentExecutable() ?? URL(fileURLWithPath: CommandLine.arguments[0])
    var candidates: [URL] = []
    if let checkout = ModelSearchPath.sourceCheckout(containing: executable) {
        candidates.append(checkout.appendingPathComponent(".deps/clip/bpe_simple_vocab_16e6.txt"))
    }
    candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".deps/clip/bpe_simple_vocab_16e6.txt"))
    candidates.append(executable.deletingLastPathComponent()
        .appendingPathComponent("../share/thermocolor/bpe_simple_vocab_16e6.txt").standardizedFileURL)
    return candidates.first { FileManager.default.fileExists(atPath: $0.path) } ?? candidates[0]
}

/// The encoder used when none is named and no model asks for a space.
let defaultEncoderName = "minilm"

/// A one-line failure of the text commands.
struct TextCommandError: Error, CustomStringConvertible {
    let description: String
}

/// Prompts from the command line: arguments, `-` for standard input, and
/// `--file` contents, each file or input one whole prompt (one trailing
/// newline dropped), so long texts need no quoting.
func readPrompts(arguments: [String], files: [String]) throws -> [String] {
    func trimmed(_ data: Data, _ source: String) throws -> String {
        guard var text = String(data: data, encoding: .utf8) else {
            throw TextCommandError(description: "\(source) is not UTF-8 text")
        }
        if text.hasSuffix("\r\n") { text.removeLast(1) } else if text.hasSuffix("\n") { text.removeLast() }
        return text
    }
    var prompts: [String] = []
    var readStandardInput = false
    for argument in arguments {
        if argument == "-" {
            guard !readStandardInput else { throw TextCommandError(description: "'-' (standard input) given twice") }
            readStandardInput = true
            prompts.append(try trimmed(FileHandle.standardInput.readDataToEndOfFile(), "standard input"))
        } else {
            prompts.append(argument)
        }
    }
    for file in files {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw TextCommandError(description: "cannot read the prompt file \(file)")
        }
        prompts.append(try trimmed(data, file))
    }
    return prompts
}

/// Which text encoder a command uses: `--encoder NAME` (a folder or a name on
/// the model search path), `--clip FOLDER`, an encoder of `space` found on
/// the search path, or `minilm`.
func resolveEncoderBundle(encoder: String?, clip: String?, merges: String?, space: String? = nil) throws -> TextEncoderBundle {
    let searchPath = ModelSearchPath.standard()
    let folder: URL
    if let clip {
        folder = URL(fileURLWithPath: clip)
    } else if let encoder {
        folder = try searchPath.resolve(encoder, what: "text encoder")
    } else if let space {
        guard let found = searchPath.encoders(ofSpace: space).first else {
            let places = searchPath.folders.map(\.path).joined(separator: ", ")
            throw TextCommandError(description: "no text encoder of space '\(space)' on the model search path (looked in \(places)); "
                                   + "name one (--text-encoder, or --encoder for embed), or run Scripts/setup.sh for minilm (all-minilm-l6-v2)")
        }
        folder = found
    } else {
        folder = try searchPath.resolve(defaultEncoderName, what: "text encoder")
    }
    var mergesFile = merges.map { URL(fileURLWithPath: $0) }
    if mergesFile == nil {
        // CLIP bundles may leave the merges file out; then the one set-up fetched serves.
        let manifest = ["encoder.json", "clip.json"].lazy
            .compactMap { try? Data(contentsOf: folder.appendingPathComponent($0)) }
            .compactMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }.first
        if let named = manifest?["merges"] as? String,
           !FileManager.default.fileExists(atPath: folder.appendingPathComponent(named).path) {
            mergesFile = defaultMergesFile()
        }
    }
    return try TextEncoderBundle(folder: folder, mergesFile: mergesFile)
}

/// A cache in front of a text encoder whose network compiles on first miss.
func makeEmbeddingCache(_ bundle: TextEncoderBundle, cacheFolder: String?, noCache: Bool, device: String) throws -> EmbeddingCache {
    let encoder = try DeferredTextEncoder(bundle: bundle, device: device)
    let directory = noCache ? nil : (cacheFolder.map { URL(fileURLWithPath: $0) } ?? EmbeddingCache.defaultDirectory())
    return EmbeddingCache(encoder: encoder, directory: directory)
}

/// "text encoder minilm (/path)", for messages.
func describeEncoder(_ bundle: TextEncoderBundle) -> String {
    "text encoder \(bundle.name) (\(bundle.folder.path))"
}

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print a text's token ids as one JSON array (start and end tokens included, no padding).",
        discussion: """
        With --encoder, the encoder bundle's tokenizer: WordPiece ids are cut to the bundle's context \
        length as the network gets them. Without it, CLIP's BPE with the merges file set-up fetched \
        (uncut, as CLIP's reference `encode` gives them). TEXT '-' reads standard input; --file reads a file; \
        either is one whole text.
        """
    )

    @Argument(help: "The text ('-' for standard input).")
    var text: String?

    @Option(help: "Read the text from this file.")
    var file: String?

    @Option(help: "A text-encoder bundle: a folder or a name on the model search path, e.g. minilm.")
    var encoder: String?

    @Option(help: "CLIP's BPE merges file (.txt or .gz), without --encoder.")
    var merges: String?

    func validate() throws {
        guard (text == nil) != (file == nil) else { throw ValidationError("give the text or --file, not both or neither") }
        guard encoder == nil || merges == nil else { throw ValidationError("--merges is for CLIP without --encoder") }
    }

    func run() throws {
        let input = try readPrompts(arguments: text.map { [$0] } ?? [], files: file.map { [$0] } ?? [])[0]
        let ids: [Int32]
        if let encoder {
            ids = try resolveEncoderBundle(encoder: encoder, clip: nil, merges: nil).ids(for: input)
        } else {
            ids = try CLIPTokenizer(mergesFile: merges.map { URL(fileURLWithPath: $0) } ?? defaultMergesFile()).encode(input)
        }
        print("[" + ids.map(String.init).joined(separator: ",") + "]")
    }
}

struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Compute text embeddings of prompts, through the cache, as {\"prompt\": [floats]} JSON.",
        discussion: """
        The encoder is --encoder NAME (a folder or a name on the model search path), --clip FOLDER, \
        or else the one of the --into-bundle model's text space, or else minilm (all-MiniLM-L6-v2, \
        made by Scripts/setup.sh). The JSON records the encoder's space under "@textSpace". \
        The output can be baked into a colouriser bundle's "embeddings" so a deployed device \
        needs no text encoder. Embeddings are L2-normalised and cached on disk (see --cache).
        """
    )

    @Option(help: "A text-encoder bundle: a folder or a name on the model search path (default: minilm).")
    var encoder: String?

    @Option(help: "A CLIP text-encoder bundle folder (clip.json or encoder.json + ONNX); see docs/CLIP.md.")
    var clip: String?

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

    @Option(help: "Read a prompt from this file (the whole file is one prompt; repeatable).")
    var file: [String] = []

    @Argument(help: "The prompts ('-' reads one from standard input).")
    var prompts: [String] = []

    func validate() throws {
        guard !prompts.isEmpty || !file.isEmpty else { throw ValidationError("give at least one prompt") }
        guard encoder == nil || clip == nil else { throw ValidationError("give --encoder or --clip, not both") }
    }

    func run() throws {
        let prompts = try readPrompts(arguments: prompts, files: file)
        let target = try intoBundle.map { try ModelBundle(folder: ModelSearchPath.standard().resolve($0, what: "model bundle")) }
        let bundle = try resolveEncoderBundle(encoder: encoder, clip: clip, merges: merges, space: target?.textSpace)
        if let target {
            guard let dimension = target.textDimension else {
                throw ValidationError("the model bundle \(target.folder.path) takes no text (no textDimension in model.json)")
            }
            if let problem = TextSpaceCheck.problem(modelName: "model bundle \(target.name)", modelSpace: target.textSpace,
                                                    modelDimension: dimension, sourceName: describeEncoder(bundle),
                                                    sourceSpace: bundle.textSpace, sourceDimension: bundle.embeddingDimension) {
                throw TextCommandError(description: problem)
            }
        }
        let cache = try makeEmbeddingCache(bundle, cacheFolder: cache, noCache: noCache, device: device)
        if let target {
            try bake(try cache.embeddings(for: prompts), prompts: prompts, into: target.folder)
            print("baked \(prompts.count) embeddings into \(target.folder.path)/model.json")
        }
        if let out {
            try cache.export(prompts, to: URL(fileURLWithPath: out))
            print("wrote \(out): \(prompts.count) embeddings (\(bundle.textSpace ?? "no recorded text space"), \(bundle.embeddingDimension)-d)")
        } else if intoBundle == nil {
            let vectors = try cache.embeddings(for: prompts)
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("thermocolor-embed-\(getpid()).json")
            try EmbeddingFile.write(Dictionary(zip(prompts, vectors), uniquingKeysWith: { first, _ in first }), to: file,
                                    textSpace: bundle.textSpace)
            defer { try? FileManager.default.removeItem(at: file) }
            print(String(decoding: try Data(contentsOf: file), as: UTF8.self))
        }
    }
}

extension EmbedCommand {
    /// Adds the prompts' vectors to the bundle's "embeddings" table, keeping
    /// the rest of model.json as it was.
    func bake(_ vectors: [[Float]], prompts: [String], into bundle: URL) throws {
        let manifestURL = bundle.appendingPathComponent("model.json")
        guard let data = FileManager.default.contents(atPath: manifestURL.path),
              var manifest = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ValidationError("cannot read \(manifestURL.path) as a model bundle description")
        }
        var table = manifest["embeddings"] as? [String: Any] ?? [:]
        for (prompt, vector) in zip(prompts, vectors) { table[prompt] = vector.map { Double($0) } }
        manifest["embeddings"] = table
        if manifest["defaultPrompt"] == nil { manifest["defaultPrompt"] = prompts[0] }
        let updated = try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys])
        try updated.write(to: manifestURL, options: .atomic)
    }
}

/// Turns a model's prompts into its text vectors: the bundle's baked
/// embeddings first (a deployed device needs no text encoder), then an
/// encoder of the model's text space through the on-disk cache. The encoder
/// is chosen and checked on the first prompt that needs it.
final class PromptEmbedder: @unchecked Sendable {
    // @unchecked: `cache` is only touched under `lock`.
    let model: ModelBundle
    private let encoder: String?
    private let clip: String?
    private let lock = NSLock()
    private var cache: EmbeddingCache?

    init(model: ModelBundle, encoder: String?, clip: String?) {
        self.model = model
        self.encoder = encoder
        self.clip = clip
    }

    func embedding(for prompt: String) throws -> [Float] {
        if let baked = model.embedding(forPrompt: prompt) { return baked }
        guard model.textDimension != nil else { return try model.textEmbedding(prompt: prompt, file: nil) ?? [] }
        // A bundle of no recorded space needs an encoder named for it.
        guard model.textSpace != nil || encoder != nil || clip != nil else {
            return try model.textEmbedding(prompt: prompt, file: nil) ?? []
        }
        return try encoderCache().embedding(for: prompt)
    }

    /// Fails early, before any video is opened, when the named encoder does not fit.
    func checkEncoder() throws {
        guard model.textDimension != nil, encoder != nil || clip != nil else { return }
        _ = try encoderCache()
    }

    /// The cache in front of the chosen encoder, made (and checked) once.
    private func encoderCache() throws -> EmbeddingCache {
        try lock.withLock {
            if let cache { return cache }
            let made = try makeCache()
            cache = made
            return made
        }
    }

    private func makeCache() throws -> EmbeddingCache {
        let bundle = try resolveEncoderBundle(encoder: encoder, clip: clip, merges: nil, space: model.textSpace)
        if let problem = TextSpaceCheck.problem(modelName: "model bundle \(model.name)", modelSpace: model.textSpace,
                                                modelDimension: model.textDimension ?? 0, sourceName: describeEncoder(bundle),
                                                sourceSpace: bundle.textSpace, sourceDimension: bundle.embeddingDimension) {
            throw TextCommandError(description: problem)
        }
        return try makeEmbeddingCache(bundle, cacheFolder: nil, noCache: false, device: "CPU")
    }
}
