import Foundation
import Inference
import Text

/// Turns a model's prompts into its text vectors: the bundle's baked
/// embeddings first (a deployed device needs no text encoder), then an
/// encoder of the model's text space through the on-disk cache. The encoder
/// is chosen and checked on the first prompt that needs it.
package final class PromptEmbedder: @unchecked Sendable {
    // @unchecked: `cache` is only touched under `lock`.
    package let model: ModelBundle
    private let encoder: String?
    private let clip: String?
    private let lock = NSLock()
    private var cache: EmbeddingCache?

    package init(model: ModelBundle, encoder: String?, clip: String?) {
        self.model = model
        self.encoder = encoder
        self.clip = clip
    }

    package func embedding(for prompt: String) throws -> [Float] {
        if let baked = model.embedding(forPrompt: prompt) { return baked }
        guard model.textDimension != nil else { return try model.textEmbedding(prompt: prompt, file: nil) ?? [] }
        // A bundle of no recorded space needs an encoder named for it.
        guard model.textSpace != nil || encoder != nil || clip != nil else {
            return try model.textEmbedding(prompt: prompt, file: nil) ?? []
        }
        return try encoderCache().embedding(for: prompt)
    }

    /// Fails early, before any video is opened, when the named encoder does not fit.
    package func checkEncoder() throws {
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
        let bundle = try TextEncoderLookup.bundle(encoder: encoder, clip: clip, merges: nil, space: model.textSpace)
        if let problem = TextSpaceCheck.problem(modelName: "model bundle \(model.name)", modelSpace: model.textSpace,
                                                modelDimension: model.textDimension ?? 0, sourceName: TextEncoderLookup.describe(bundle),
                                                sourceSpace: bundle.textSpace, sourceDimension: bundle.embeddingDimension) {
            throw TextEncoderLookupError(description: problem)
        }
        return try TextEncoderLookup.cache(for: bundle, cacheFolder: nil, noCache: false, device: "CPU")
    }
}
