import Foundation
import Text

/// Finding and opening text encoders, for every command and the service alike:
/// which bundle a name, a CLIP folder or a model's text space means, and the
/// on-disk cache in front of it.
package enum TextEncoderLookup {
    /// The encoder used when none is named and no model asks for a space.
    package static let defaultEncoderName = "minilm"

    /// Where the BPE merges file is unless told: what Scripts/setup.sh fetched,
    /// or what Scripts/install.sh installed beside the binary.
    package static func defaultMergesFile() -> URL {
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

    /// Which text encoder a command uses: `--encoder NAME` (a folder or a name on
    /// the model search path), `--clip FOLDER`, an encoder of `space` found on
    /// the search path, or `minilm`.
    package static func bundle(encoder: String?, clip: String?, merges: String?, space: String? = nil) throws -> TextEncoderBundle {
        let searchPath = ModelSearchPath.standard()
        let folder: URL
        if let clip {
            folder = URL(fileURLWithPath: clip)
        } else if let encoder {
            folder = try searchPath.resolve(encoder, what: "text encoder")
        } else if let space {
            guard let found = searchPath.encoders(ofSpace: space).first else {
                let places = searchPath.folders.map(\.path).joined(separator: ", ")
                throw TextEncoderLookupError(description: "no text encoder of space '\(space)' on the model search path (looked in \(places)); "
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
    package static func cache(for bundle: TextEncoderBundle, cacheFolder: String?, noCache: Bool, device: String) throws -> EmbeddingCache {
        let encoder = try DeferredTextEncoder(bundle: bundle, device: device)
        let directory = noCache ? nil : (cacheFolder.map { URL(fileURLWithPath: $0) } ?? EmbeddingCache.defaultDirectory())
        return EmbeddingCache(encoder: encoder, directory: directory)
    }

    /// "text encoder minilm (/path)", for messages.
    package static func describe(_ bundle: TextEncoderBundle) -> String {
        "text encoder \(bundle.name) (\(bundle.folder.path))"
    }
}

/// A text encoder that cannot be found or does not fit, in one line.
package struct TextEncoderLookupError: Error, CustomStringConvertible {
    package let description: String
    package init(description: String) { self.description = description }
}
