import Foundation
import Imaging
import Inference
import MediaIO
import Synchronization

/// A neural colouriser or fuser as a pipeline stage.
///
/// Gain control (the classic AGC) runs first on the processing thread, then
/// batches go to OpenVINO with several requests in flight, so preparing the
/// next batch overlaps inference of the last. The text embedding can change
/// while frames flow: the change applies from the next batch on.
package final class NeuralStage: PipelinedColorizer, @unchecked Sendable {
    package let network: NeuralColorizer
    package var maxBatchSize: Int { network.framesPerInference }
    private let gain: ClassicColorizer
    private let visible: VisibleFeed?
    private let homography: Homography?
    private let reference: Mutex<RGBImage?>
    private let onVisibleChange: @Sendable (Bool) -> Void
    /// Processing thread only: whether the last frame found its visible partner.
    private var visibleAvailable = true
    /// Frames a fuser got without a visible partner (the thermal frame stood in for it).
    package private(set) var unpairedFrames = 0
    private let text: Mutex<[Float]?>
    private let promptResolver: (@Sendable (String) throws -> [Float])?
    /// Batches submitted but not yet handed on. The network frees a request
    /// as soon as its inference ends, before the result is delivered, so
    /// without this bound the processing thread could run arbitrarily far
    /// ahead of a slow encoder, holding every result in memory.
    private let outstanding: DispatchSemaphore
    /// Steadies chroma from frame to frame; results arrive in order, one batch at a time.
    private let smoothing: Mutex<TemporalChromaFilter?>

    /// - Parameters:
    ///   - gain: its gain-control settings make the network's 8-bit thermal input.
    ///   - text: the prompt embedding; nil uses the bundle's default prompt.
    ///   - visible: the visible camera, for fusers.
    ///   - homography: registers visible frames onto the thermal grid, as the
    ///     classic fusion does; without it the network gets them as they come.
    ///   - reference: a colour reference image, for reference colourisers.
    ///   - onVisibleChange: told when a fuser's visible frames stop pairing
    ///     (the grey thermal frame stands in for them, so a live run goes on)
    ///     and when they pair again, as the classic fusion stage does.
    ///   - promptResolver: turns a new prompt into its embedding (a bundle's baked
    ///     embeddings, or CLIP through the cache) for `setPrompt`.
    ///   - temporalSmoothing: 0–1, how much chroma a still pixel keeps from the previous
    ///     frame (`TemporalChromaFilter`); 0 is off. Fusers are left alone: their colour
    ///     follows the visible camera, which moves on its own.
    package init(network: NeuralColorizer, gain: ClassicColorizer, text: [Float]? = nil,
                visible: VisibleFeed? = nil, homography: Homography? = nil, reference: RGBImage? = nil,
                promptResolver: (@Sendable (String) throws -> [Float])? = nil,
                temporalSmoothing: Double = 0,
                onVisibleChange: @escaping @Sendable (Bool) -> Void = { _ in }) {
        self.onVisibleChange = onVisibleChange
        self.network = network
        smoothing = Mutex(temporalSmoothing > 0 && network.bundle.kind != .fuser
            ? TemporalChromaFilter(strength: Float(min(1, temporalSmoothing))) : nil)
        self.promptResolver = promptResolver
        outstanding = DispatchSemaphore(value: network.inflightRequests + 1)
        self.gain = gain
        self.visible = visible
        self.homography = homography
        self.reference = Mutex(reference)
        self.text = Mutex(text)
    }

    /// Uses `embedding` from the next batch on; callable from any thread.
    package func setText(_ embedding: [Float]?) {
        text.withLock { $0 = embedding }
    }

    /// Uses `image` as the colour reference from the next batch on; callable
    /// from any thread (a service reloading its configuration).
    package func setReference(_ image: RGBImage) {
        reference.withLock { $0 = image }
    }

    /// Resolves `prompt` on the caller's thread (the text encoder may run
    /// once; the cache answers after that), then uses it from the next batch
    /// on. Frames keep flowing meanwhile.
    package func setPrompt(_ prompt: String) throws {
        guard let promptResolver else {
            throw PipelineError("this model takes no new prompts while running (no text encoder and no baked embeddings)")
        }
        setText(try promptResolver(prompt))
    }

    package func colorize(_ frames: [ThermalFrame]) throws -> [EncoderPicture] {
        let batch = try inputs(for: frames)
        return steadied(try network.colorize(batch, text: text.withLock { $0 }), batch).map { .rgb($0) }
    }

    /// One still thermal picture with its visible partner, already on the
    /// thermal grid (convert's picture-pair path).
    package func colorize(_ frame: ThermalFrame, visible: RGBImage) throws -> RGBImage {
        let input = NeuralInput(thermal: try gain.grayLevels(of: frame), visible: visible,
                                reference: reference.withLock { $0 })
        guard let picture = try network.colorize([input], text: text.withLock { $0 }).first else {
            throw PipelineError("the network returned no picture")
        }
        return picture
    }

    package func submit(_ frames: [ThermalFrame], completion: @escaping @Sendable (Result<[EncoderPicture], any Error>) -> Void) {
        let batch: [NeuralInput]
        do { batch = try inputs(for: frames) } catch {
            completion(.failure(error))
            return
        }
        outstanding.wait()
        let outstanding = self.outstanding
        network.submit(batch, text: text.withLock { $0 }) { [self] result in
            completion(result.map { steadied($0, batch).map { .rgb($0) } })
            outstanding.signal()
        }
    }

    package func waitUntilIdle() { network.waitUntilIdle() }

    private func steadied(_ images: [RGBImage], _ batch: [NeuralInput]) -> [RGBImage] {
        smoothing.withLock { filter in
            guard filter != nil else { return images }
            return zip(images, batch).map { image, input in
                image.width == input.thermal.width && image.height == input.thermal.height
                    ? filter!.filter(image, thermal: input.thermal) : image
            }
        }
    }

    /// The thermal frame as a grey RGB picture: a fuser's stand-in for a missing visible frame.
    private static func grey(_ thermal: Gray8Image) -> RGBImage {
        var samples = [UInt8](repeating: 0, count: thermal.samples.count * 3)
        for (index, value) in thermal.samples.enumerated() {
            samples[3 * index] = value
            samples[3 * index + 1] = value
            samples[3 * index + 2] = value
        }
        return RGBImage(width: thermal.width, height: thermal.height, channels: 3, samples: samples)
    }

    private func inputs(for frames: [ThermalFrame]) throws -> [NeuralInput] {
        let reference = reference.withLock { $0 }
        return try frames.map { frame in
            let thermal = try gain.grayLevels(of: frame)
            var picture = try visible?.frame(at: frame.seconds)
            if let homography, let unregistered = picture {
                picture = homography.warp(unregistered, toWidth: thermal.width, height: thermal.height)
            }
            if visible != nil, network.bundle.tensors.visible != nil {
                if picture == nil {
                    if visibleAvailable { visibleAvailable = false; onVisibleChange(false) }
                    unpairedFrames += 1
                    picture = Self.grey(thermal)
                } else if !visibleAvailable {
                    visibleAvailable = true
                    onVisibleChange(true)
                }
            }
            return NeuralInput(thermal: thermal, visible: picture, reference: reference)
        }
    }
}
