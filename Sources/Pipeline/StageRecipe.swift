import Foundation
import Imaging
import Inference
import MediaIO

/// What colours the frames, described once: `convert`'s and `run`'s flags and
/// the service's `[processing]` table are both mapped onto it, `problems()`
/// holds every rule that ties its settings together, and `makeStage` builds
/// the stage. In order of precedence: a neural model (fed the visible camera
/// or the reference when there is one), fusion with a visible camera,
/// reference colour, or the classic palette alone.
package struct StageRecipe: Sendable {
    package var classic: ClassicSettings
    package var neural: NeuralRecipe
    /// A visible camera or video to fuse with.
    package var visible: VisibleRecipe?
    /// A colour picture whose colours the thermal frames borrow.
    package var reference: ReferenceRecipe?

    package init(classic: ClassicSettings = ClassicSettings(), neural: NeuralRecipe = NeuralRecipe(),
                visible: VisibleRecipe? = nil, reference: ReferenceRecipe? = nil) {
        self.classic = classic
        self.neural = neural
        self.visible = visible
        self.reference = reference
    }
}

/// A neural colouriser or fuser from a model bundle, and how to feed it text.
package struct NeuralRecipe: Sendable, Equatable {
    /// A bundle folder or a name on the model search path; nil: no network.
    package var model: String?
    /// A scene description: a baked embedding, else computed by an encoder of the model's text space.
    package var prompt: String?
    /// A file holding the prompt's embedding, instead of `prompt`.
    package var embeddingFile: String?
    /// A text encoder (folder or name) for prompts the bundle has no embedding for.
    package var textEncoder: String?
    /// A CLIP text-encoder bundle folder, the older way to name one.
    package var clip: String?
    /// Frames per inference; nil: 1 on CPU (batches gain nothing there), 8 elsewhere.
    package var batch: Int?
    package var device: String
    /// OpenVINO's inference precision hint (`f32` rules out bf16).
    package var precision: String?
    /// Infer requests in flight, so preparation and inference overlap.
    package var requests: Int
    /// 0–1, chroma kept from the previous frame where the thermal image is still; nil: the bundle's.
    package var temporalSmoothing: Double?

    package init(model: String? = nil, prompt: String? = nil, embeddingFile: String? = nil, textEncoder: String? = nil,
                clip: String? = nil, batch: Int? = nil, device: String = "CPU", precision: String? = nil,
                requests: Int = 2, temporalSmoothing: Double? = nil) {
        self.model = model
        self.prompt = prompt
        self.embeddingFile = embeddingFile
        self.textEncoder = textEncoder
        self.clip = clip
        self.batch = batch
        self.device = device
        self.precision = precision
        self.requests = requests
        self.temporalSmoothing = temporalSmoothing
    }

    /// On CPUs a batch runs no faster per frame than single frames with two
    /// requests in flight (Benchmarks/neural.sh); GPUs and NPUs want batches.
    package var framesPerInference: Int { batch ?? (device.uppercased() == "CPU" ? 1 : 8) }
}

/// A visible camera or video aligned with the thermal one.
package struct VisibleRecipe: Sendable, Equatable {
    /// A file, image or stream URL.
    package var source: String
    package var method: FusionMethod
    /// A registration file from `thermocolor calibrate`; nil: the visible picture is scaled.
    package var homography: String?
    package var pairing: PairingOptions

    package init(source: String, method: FusionMethod = .pyramid, homography: String? = nil, pairing: PairingOptions = PairingOptions()) {
        self.source = source
        self.method = method
        self.homography = homography
        self.pairing = pairing
    }
}

/// A colour picture of the scene whose colour statistics are borrowed.
package struct ReferenceRecipe: Sendable, Equatable {
    package var image: String
    /// Luminance regions for the classic transfer (1 = global).
    package var regions: Int

    package init(image: String, regions: Int = 3) {
        self.image = image
        self.regions = regions
    }
}

/// A setting of a `StageRecipe`, named as each front end names it.
package enum StageSetting: Sendable, CaseIterable {
    case model, prompt, embeddingFile, textEncoder, clip, batch, requests, temporalSmoothing
    case visible, pairTolerance, reference, referenceRegions

    /// The command line's option.
    package var flag: String {
        switch self {
        case .model: "--model"
        case .prompt: "--prompt"
        case .embeddingFile: "--embedding"
        case .textEncoder: "--text-encoder"
        case .clip: "--clip"
        case .batch: "--batch"
        case .requests: "--requests"
        case .temporalSmoothing: "--temporal-smoothing"
        case .visible: "--visible"
        case .pairTolerance: "--pair-tolerance"
        case .reference: "--reference"
        case .referenceRegions: "--reference-regions"
        }
    }

    /// The configuration file's key.
    package var configurationKey: String {
        switch self {
        case .model: "processing.model"
        case .prompt: "processing.prompt"
        case .embeddingFile: "processing.embedding"
        case .textEncoder: "processing.text_encoder"
        case .clip: "processing.clip"
        case .batch: "processing.batch"
        case .requests: "processing.requests"
        case .temporalSmoothing: "processing.temporal_smoothing"
        case .visible: "processing.visible"
        case .pairTolerance: "processing.pair_tolerance"
        case .reference: "processing.reference"
        case .referenceRegions: "processing.reference_regions"
        }
    }
}

/// One broken rule of a recipe: the setting at fault and what is wrong, with
/// the other settings it names left for the front end to spell.
package struct StageProblem: Sendable, Equatable {
    package enum Part: Sendable, Equatable {
        case text(String)
        case setting(StageSetting)
    }

    package var setting: StageSetting
    package var parts: [Part]

    package init(_ setting: StageSetting, _ parts: Part...) {
        self.setting = setting
        self.parts = parts
    }

    /// The problem without its setting's name, other settings spelt by `name`:
    /// "needs --model: a prompt steers a neural model".
    package func message(naming name: (StageSetting) -> String) -> String {
        parts.map { part in
            switch part {
            case .text(let text): text
            case .setting(let setting): name(setting)
            }
        }.joined()
    }

    /// "--prompt needs --model: a prompt steers a neural model".
    package var commandLineDescription: String { "\(setting.flag) \(message(naming: \.flag))" }
}

extension StageRecipe {
    /// Every rule the recipe breaks, in a fixed order; empty when it can be built.
    package func problems() -> [StageProblem] {
        var found: [StageProblem] = []
        let neural = self.neural
        if neural.model == nil {
            if neural.prompt != nil { found.append(StageProblem(.prompt, .text("needs "), .setting(.model), .text(": a prompt steers a neural model"))) }
            if neural.embeddingFile != nil { found.append(StageProblem(.embeddingFile, .text("needs "), .setting(.model), .text(": an embedding steers a neural model"))) }
            if neural.textEncoder != nil {
                found.append(StageProblem(.textEncoder, .text("needs "), .setting(.model), .text(": a text encoder computes prompts for a neural model")))
            }
            if neural.clip != nil { found.append(StageProblem(.clip, .text("needs "), .setting(.model), .text(": CLIP encodes prompts for a neural model"))) }
        }
        if neural.prompt != nil, neural.embeddingFile != nil {
            found.append(StageProblem(.embeddingFile, .text("and "), .setting(.prompt), .text(" both give the text; give one")))
        }
        if let prompt = neural.prompt, prompt.trimmingCharacters(in: .whitespaces).isEmpty {
            found.append(StageProblem(.prompt, .text("is empty; leave it out to use the model's default prompt")))
        }
        if neural.textEncoder != nil, neural.clip != nil {
            found.append(StageProblem(.textEncoder, .text("and "), .setting(.clip), .text(" both name an encoder; give one")))
        }
        if let batch = neural.batch, !(1...64).contains(batch) {
            found.append(StageProblem(.batch, .text("must be from 1 to 64, not \(batch)")))
        }
        if neural.requests < 1 { found.append(StageProblem(.requests, .text("must be at least 1"))) }
        if let smoothing = neural.temporalSmoothing, !(0...1).contains(smoothing) {
            found.append(StageProblem(.temporalSmoothing, .text("must be from 0 (off) to 1, not \(smoothing)")))
        }
        if visible != nil, reference != nil {
            found.append(StageProblem(.reference, .text("and "), .setting(.visible), .text(" both give the colour; give one")))
        }
        if let visible, visible.pairing.tolerance < 0 {
            found.append(StageProblem(.pairTolerance, .text("must not be negative")))
        }
        if let reference, reference.regions < 1 {
            found.append(StageProblem(.referenceRegions, .text("must be at least 1")))
        }
        return found
    }

    /// How the visible input is read.
    package enum VisibleReading: Sendable {
        /// A recorded video or image, read as fast as the thermal frames need it.
        case offline
        /// A live camera or stream, reconnected when it drops.
        case live(onEvent: @Sendable (LiveSourceEvent) -> Void)
    }

    /// Builds the stage; nil means the classic palette alone (the caller's default).
    /// - Parameters:
    ///   - reading: how a visible input is opened.
    ///   - onVisibleChange: told when visible frames stop or start pairing again.
    package func makeStage(reading: VisibleReading,
                          onVisibleChange: @escaping @Sendable (Bool) -> Void = { _ in }) throws -> FrameColorizer? {
        if let problem = problems().first { throw PipelineError(problem.commandLineDescription) }
        let visibleFeed: VisibleFeed? = try visible.map { visible in
            switch reading {
            case .offline: try VisibleFeed(offline: visible.source, options: visible.pairing)
            case .live(let onEvent): VisibleFeed(live: visible.source, options: visible.pairing, onEvent: onEvent)
            }
        }
        let referenceImage = try reference.map { try ImageFile.readRGB($0.image) }
        if let model = neural.model {
            return try makeNeuralStage(model: model, visible: visibleFeed, homography: try loadHomography(visible?.homography),
                                       reference: referenceImage, onVisibleChange: onVisibleChange)
        }
        if let visibleFeed, let visible {
            return FusionStage(gain: try ClassicColorizer(settings: classic), visible: visibleFeed, method: visible.method,
                               homography: try loadHomography(visible.homography), onVisibleChange: onVisibleChange)
        }
        if let referenceImage, let reference {
            return try ReferenceStage(gain: try ClassicColorizer(settings: classic), reference: referenceImage, regions: reference.regions)
        }
        return nil
    }

    /// The registration file's mapping, or nil without one.
    package func loadHomography(_ path: String?) throws -> Homography? {
        guard let path else { return nil }
        do {
            return try Homography(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw PipelineError("cannot read the registration file '\(path)': \(error)")
        }
    }

    private func makeNeuralStage(model: String, visible: VisibleFeed?, homography: Homography?, reference: RGBImage?,
                                 onVisibleChange: @escaping @Sendable (Bool) -> Void) throws -> NeuralStage {
        let bundle = try ModelBundle(folder: try ModelSearchPath.standard().resolve(model, what: "model bundle"))
        let embedder = PromptEmbedder(model: bundle, encoder: neural.textEncoder, clip: neural.clip)
        try embedder.checkEncoder()
        let resolve: @Sendable (String) throws -> [Float] = { prompt in try embedder.embedding(for: prompt) }
        let text = try neural.prompt.map(resolve)
            ?? bundle.textEmbedding(prompt: nil, file: neural.embeddingFile.map { URL(fileURLWithPath: $0) })
        let network = try NeuralColorizer(bundle: bundle, device: neural.device, precision: neural.precision,
                                          maxBatch: neural.framesPerInference, inflightRequests: neural.requests)
        return NeuralStage(network: network, gain: try ClassicColorizer(settings: classic), text: text,
                           visible: visible, homography: homography, reference: reference,
                           promptResolver: bundle.textDimension == nil ? nil : resolve,
                           temporalSmoothing: neural.temporalSmoothing ?? bundle.temporalSmoothing ?? 0,
                           onVisibleChange: onVisibleChange)
    }
}
