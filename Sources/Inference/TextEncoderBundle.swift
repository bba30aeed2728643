import Foundation
import Text

/// `encoder.json`, the description of a text-encoder bundle: a folder holding
/// it, the encoder network (ONNX or OpenVINO IR) and its tokenizer's file.
///
///     {"format": "thermocolor-text-encoder", "version": 1, "name": "minilm",
///      "textSpace": "all-minilm-l6-v2", "model": "model.onnx",
///      "tokenizer": "wordpiece", "vocabulary": "vocab.txt",
///      "specialTokens": ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
///      "contextLength": 256, "pooling": "mean", "normalize": true,
///      "embeddingDim": 384, "input": "input_ids",
///      "maskInput": "attention_mask", "output": "embedding"}
///
/// A CLIP bundle uses `"tokenizer": "clip-bpe"` with `"merges"` instead of
/// `"vocabulary"` and `"pooling": "end-token"`. The older `clip.json`
/// (`"format": "thermocolor-clip-text"`) is read as such a CLIP bundle.
/// docs/CLIP.md is the full contract.
package struct TextEncoderManifest: Codable, Sendable, Equatable {
    package static let formatName = "thermocolor-text-encoder"
    /// clip.json's format, read as a CLIP bundle.
    package static let clipFormatName = "thermocolor-clip-text"

    package enum Tokenizer: String, Sendable, CaseIterable {
        /// CLIP's byte-level BPE (`merges` names the merges file).
        case clipBPE = "clip-bpe"
        /// BERT's uncased WordPiece (`vocabulary` names vocab.txt).
        case wordPiece = "wordpiece"
    }

    /// How token features become one vector, when the network returns
    /// `[batch, length, D]`; a `[batch, D]` output was pooled by the network.
    package enum Pooling: String, Sendable, CaseIterable {
        /// CLIP: the features at the end token (the last real token).
        case endToken = "end-token"
        /// Sentence encoders: the mean over the tokens the mask keeps.
        case mean
        /// The first token's features ([CLS]).
        case cls
    }

    package var format: String
    package var version: Int
    package var name: String?
    /// The identity of the embedding space, e.g. "all-minilm-l6-v2" or
    /// "clip-vit-b32-openai"; nil in older clip.json files.
    package var textSpace: String?
    package var model: String
    /// A `Tokenizer` raw value; required in encoder.json, clip-bpe in clip.json.
    package var tokenizer: String?
    package var merges: String?
    package var vocabulary: String?
    /// WordPiece: strings kept whole when typed in a prompt.
    package var specialTokens: [String]?
    package var contextLength: Int
    /// A `Pooling` raw value; nil means end-token for CLIP, mean otherwise.
    package var pooling: String?
    /// Embeddings are L2-normalised; only true is accepted (or absent).
    package var normalize: Bool?
    package var embeddingDim: Int
    /// The ids input's name; nil means the network's only input.
    package var input: String?
    /// The attention-mask input (1 for tokens, 0 for padding), if the network takes one.
    package var maskInput: String?
    /// A token-type input (all zeros for one sentence), if the network takes one.
    package var typeIdsInput: String?
    /// The embedding output's name; nil means the network's first output.
    package var output: String?
}

/// Why a text-encoder bundle could not be used, in one line.
package struct TextEncoderBundleError: Error, CustomStringConvertible, Sendable {
    package let bundle: String
    package let reason: String

    package init(bundle: String, reason: String) {
        self.bundle = bundle
        self.reason = reason
    }

    package var description: String { "text encoder \(bundle): \(reason)" }
}

/// The name older code used for the same error.
package typealias CLIPBundleError = TextEncoderBundleError

/// The tokenizer a bundle names.
package enum TextTokenizer: Sendable {
    case clip(CLIPTokenizer)
    case wordPiece(WordPieceTokenizer)
}

/// A text-encoder bundle read from its folder: the manifest, checked, and
/// its tokenizer, without loading the network.
package struct TextEncoderBundle: Sendable {
    package let folder: URL
    /// encoder.json, or clip.json for older CLIP bundles.
    package let manifestFile: URL
    package let manifest: TextEncoderManifest
    package let tokenizerKind: TextEncoderManifest.Tokenizer
    package let pooling: TextEncoderManifest.Pooling
    package let tokenizer: TextTokenizer
    package let modelFile: URL
    /// The tokenizer's file (merges or vocabulary), part of the identity.
    package let tokenizerFile: URL

    /// The manifest's name, else the folder's.
    package var name: String { manifest.name ?? folder.lastPathComponent }
    package var textSpace: String? { manifest.textSpace }
    package var embeddingDimension: Int { manifest.embeddingDim }
    package var contextLength: Int { manifest.contextLength }

    /// Reads `folder/encoder.json` (or `folder/clip.json`).
    /// - Parameter mergesFile: for CLIP bundles that do not carry their own
    ///   merges file.
    package init(folder: URL, mergesFile: URL? = nil) throws {
        let fail = { (reason: String) in TextEncoderBundleError(bundle: folder.path, reason: reason) }
        let files = ["encoder.json", "clip.json"].map { folder.appendingPathComponent($0) }
        guard let manifestFile = files.first(where: { FileManager.default.fileExists(atPath: $0.path) }),
              let data = try? Data(contentsOf: manifestFile)
        else {
            throw fail("no readable encoder.json (or clip.json) in the folder")
        }
        let fileName = manifestFile.lastPathComponent
        let manifest: TextEncoderManifest
        do {
            manifest = try JSONDecoder().decode(TextEncoderManifest.self, from: data)
        } catch {
            throw fail("\(fileName) is not a text-encoder description (\(Self.describe(error)))")
        }
        let formats = [TextEncoderManifest.formatName, TextEncoderManifest.clipFormatName]
        guard formats.contains(manifest.format), manifest.version == 1 else {
            throw fail("\(fileName) has format \"\(manifest.format)\" version \(manifest.version); expected \"\(TextEncoderManifest.formatName)\" version 1")
        }
        if manifest.format == TextEncoderManifest.formatName, manifest.tokenizer == nil {
            throw fail("\(fileName) needs \"tokenizer\": one of \(TextEncoderManifest.Tokenizer.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let kind = TextEncoderManifest.Tokenizer(rawValue: manifest.tokenizer ?? "clip-bpe") else {
            throw fail("\(fileName) names tokenizer \"\(manifest.tokenizer ?? "")\" (known: \(TextEncoderManifest.Tokenizer.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard manifest.contextLength >= 2, manifest.embeddingDim >= 1 else {
            throw fail("\(fileName) has contextLength \(manifest.contextLength) and embeddingDim \(manifest.embeddingDim)")
        }
        let defaultPooling: TextEncoderManifest.Pooling = kind == .clipBPE ? .endToken : .mean
        guard let pooling = manifest.pooling.map({ TextEncoderManifest.Pooling(rawValue: $0) }) ?? defaultPooling else {
            throw fail("\(fileName) names pooling \"\(manifest.pooling ?? "")\" (known: \(TextEncoderManifest.Pooling.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard manifest.normalize ?? true else {
            throw fail("\(fileName) has \"normalize\": false; embeddings are compared by cosine, so only normalised encoders are supported")
        }
        if let space = manifest.textSpace, space.isEmpty || space.contains(where: \.isWhitespace) {
            throw fail("\(fileName) has textSpace \"\(space)\"; it must be a non-empty name without spaces, e.g. \"all-minilm-l6-v2\"")
        }
        let modelFile = folder.appendingPathComponent(manifest.model)
        guard FileManager.default.fileExists(atPath: modelFile.path) else {
            throw fail("model file \(manifest.model) is missing")
        }

        let tokenizerFile: URL
        switch kind {
        case .clipBPE:
            guard let merges = mergesFile ?? manifest.merges.map({ folder.appendingPathComponent($0) }) else {
                throw fail("\(fileName) names no \"merges\" file for the clip-bpe tokenizer")
            }
            guard FileManager.default.fileExists(atPath: merges.path) else {
                throw fail("merges file \(merges.path) is missing (pass the merges file of CLIP's tokenizer explicitly)")
            }
            tokenizerFile = merges
            tokenizer = .clip(try CLIPTokenizer(mergesFile: merges))
        case .wordPiece:
            guard let vocabulary = manifest.vocabulary.map({ folder.appendingPathComponent($0) }) else {
                throw fail("\(fileName) names no \"vocabulary\" file for the wordpiece tokenizer")
            }
            guard FileManager.default.fileExists(atPath: vocabulary.path) else {
                throw fail("vocabulary file \(manifest.vocabulary ?? "") is missing")
            }
            tokenizerFile = vocabulary
            do {
                tokenizer = .wordPiece(try WordPieceTokenizer(vocabularyFile: vocabulary,
                                                              specialTokens: manifest.specialTokens ?? WordPieceTokenizer.bertSpecialTokens))
            } catch {
                throw fail("\(error)")
            }
        }
        self.folder = folder
        self.manifestFile = manifestFile
        self.manifest = manifest
        self.tokenizerKind = kind
        self.pooling = pooling
        self.modelFile = modelFile
        self.tokenizerFile = tokenizerFile
    }

    /// The ids a prompt becomes, start and end tokens included, unpadded:
    /// CLIP's `encode` (uncut, as its reference gives it); WordPiece cut to
    /// the context length with `[SEP]` kept last, as the network gets it.
    package func ids(for text: String) -> [Int32] {
        switch tokenizer {
        case .clip(let clip): clip.encode(text)
        case .wordPiece(let wordPiece): wordPiece.encode(text, maxLength: manifest.contextLength)
        }
    }

    /// Names the encoder by content: SHA-256 over the hashes of the manifest,
    /// the network (and its weights file) and the tokenizer's file, so cache
    /// entries never cross models. "clip-text-…" for CLIP bundles (as
    /// before), "wordpiece-text-…" for WordPiece ones.
    package func identity() throws -> String {
        var hash = SHA256()
        hash.update(Array(SHA256.hexDigest(of: [UInt8](try Data(contentsOf: manifestFile))).utf8))
        hash.update(Array(try SHA256.hexDigest(ofFile: modelFile).utf8))
        if let weights = weightsFile { hash.update(Array(try SHA256.hexDigest(ofFile: weights).utf8)) }
        hash.update(Array(try SHA256.hexDigest(ofFile: tokenizerFile).utf8))
        return (tokenizerKind == .clipBPE ? "clip-text-" : "wordpiece-text-") + hash.hexDigest()
    }

    /// model.bin beside an OpenVINO IR model.xml.
    var weightsFile: URL? {
        guard modelFile.pathExtension == "xml" else { return nil }
        let bin = modelFile.deletingPathExtension().appendingPathExtension("bin")
        return FileManager.default.fileExists(atPath: bin.path) ? bin : nil
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "missing \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: "not valid JSON"
        }
    }
}

/// Checks that embeddings from one text space may feed a network trained in
/// another: the one rule that keeps prompts from silently giving nonsense.
package enum TextSpaceCheck {
    /// Nil when `source` (an encoder or an embedding file) may serve a model
    /// whose text input is `modelSpace` of `modelDimension` values; else one
    /// line naming both spaces.
    /// - A model without a recorded space (older bundles) accepts any
    ///   source of the right dimension.
    /// - A model with a space accepts only a source of that space.
    package static func problem(modelName: String, modelSpace: String?, modelDimension: Int,
                               sourceName: String, sourceSpace: String?, sourceDimension: Int?) -> String? {
        func describe(_ space: String?, _ dimension: Int?) -> String {
            let name = space.map { "'\($0)'" } ?? "no recorded space"
            return dimension.map { "\(name) (\($0)-d)" } ?? name
        }
        if let modelSpace {
            guard let sourceSpace else {
                return "text space mismatch: \(modelName) takes text embeddings of '\(modelSpace)' (\(modelDimension)-d), "
                    + "but \(sourceName) records no text space (\(sourceDimension.map { "\($0)-d" } ?? "unknown size")); "
                    + "use an encoder of '\(modelSpace)', or add \"textSpace\": \"\(modelSpace)\" to the encoder's manifest if it is that model"
            }
            guard sourceSpace == modelSpace else {
                return "text space mismatch: \(modelName) takes text embeddings of '\(modelSpace)' (\(modelDimension)-d), "
                    + "but \(sourceName) gives \(describe(sourceSpace, sourceDimension)); use an encoder of '\(modelSpace)'"
            }
        }
        if let sourceDimension, sourceDimension != modelDimension {
            return "text space mismatch: \(sourceName) gives \(sourceDimension) values per prompt, the model takes \(modelDimension) "
                + "(\(modelName): \(describe(modelSpace, nil)); \(sourceName): \(describe(sourceSpace, nil)))"
        }
        return nil
    }
}
