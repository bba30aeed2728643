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
    private let reference: RGBImage?
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
    ///   - reference: a colour reference image, for reference colourisers.
    ///   - promptResolver: turns a new prompt into its embedding (a bundle's baked
    ///     embeddings, or CLIP through the cache) for `setPrompt`.
    ///   - temporalSmoothing: 0–1, how much chroma a still pixel keeps from the previous
    ///     frame (`TemporalChromaFilter`); 0 is off. Fusers are left alone: their colour
    ///     follows the visible camera, which moves on its own.
    package init(network: NeuralColorizer, gain: ClassicColorizer, text: [Float]? = nil,
                visible: VisibleFeed? = nil, reference: RGBImage? = nil,
                promptResolver: (@Sendable (String) throws -> [Float])? = nil,
                temporalSmoothing: Double = 0) {
        self.network = network
        smoothing = Mutex(temporalSmoothing > 0 && network.bundle.kind != .fuser
            ? TemporalChromaFilter(strength: Float(min(1, temporalSmoothing))) : nil)
        self.promptResolver = promptResolver
        outstanding = DispatchSemaphore(value: network.inflightRequests + 1)
        self.gain = gain
        self.visible = visible
        self.reference = reference
        self.text = Mutex(text)
    }

    /// Uses `embedding` from the next batch on; callable from any thread.
    package func setText(_ embedding: [Float]?) {
        text.withLock { $0 = embedding }
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

    private func inputs(for frames: [ThermalFrame]) throws -> [NeuralInput] {
        try frames.map { frame in
            NeuralInput(thermal: try gain.grayLevels(of: frame),
                        visible: try visible?.frame(at: frame.seconds), reference: reference)
        }
    }
}
