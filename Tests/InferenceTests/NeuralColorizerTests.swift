import Foundation
import Imaging
import Testing
@testable import Inference

// Real OpenVINO on the CPU at f32 (bf16 would be picked on CPUs that have
// it), checked against the Swift reference math in FixtureModels.swift.

private func colorizer(_ name: String, maxBatch: Int = 8, inflight: Int = 2) throws -> NeuralColorizer {
    try NeuralColorizer(bundle: try Fixtures.bundle(name), precision: "f32", maxBatch: maxBatch,
                        inflightRequests: inflight)
}

@Suite struct NeuralColorizerTests {
    @Test func rgbColorizerMatchesTheReference() throws {
        let engine = try colorizer("colorizer-rgb")
        let frames = (0..<3).map { NeuralInput(thermal: testThermal(width: 48, height: 36, seed: $0)) }
        let images = try engine.colorize(frames, text: Fixtures.cold)
        #expect(images.count == 3)
        let term = textTerm(Fixtures.cold, Fixtures.rgbTextM, Fixtures.rgbTextB)
        for (frame, image) in zip(frames, images) {
            let small = Planes(frame.thermal).resized(width: 32, height: 24)
            let weights = (0..<3).map { [Fixtures.rgbConvW[$0]] }
            let bias = (0..<3).map { Fixtures.rgbConvB[$0] + term[$0] }
            let expected = small.pointwise(weights, bias: bias, sigmoid).resized(width: 48, height: 36).rgbImage()
            #expect(image.width == 48 && image.height == 36 && image.channels == 3)
            #expect(maxDifference(image, expected) <= 1)
        }
    }

    @Test func defaultPromptIsUsedWhenNoTextIsGiven() throws {
        let engine = try colorizer("colorizer-rgb")
        let frames = [NeuralInput(thermal: testThermal(width: 32, height: 24, seed: 4))]
        let implicit = try engine.colorize(frames)
        let explicit = try engine.colorize(frames, text: Fixtures.warm)
        let other = try engine.colorize(frames, text: Fixtures.cold)
        #expect(implicit == explicit)
        #expect(implicit != other)
    }

    @Test func abColorizerJoinsChromaWithFullResolutionLightness() throws {
        let engine = try colorizer("colorizer-ab")
        let frames = (0..<2).map { NeuralInput(thermal: testThermal(width: 64, height: 48, seed: $0 + 7)) }
        let images = try engine.colorize(frames, text: Fixtures.warm)
        let term = textTerm(Fixtures.warm, Fixtures.abTextM, Fixtures.abTextB)
        for (frame, image) in zip(frames, images) {
            let pooled = Planes(frame.thermal).resized(width: 32, height: 24).pooled()
            let weights = (0..<2).map { [Fixtures.abConvW[$0]] }
            let bias = (0..<2).map { Fixtures.abConvB[$0] + term[$0] }
            let ab = pooled.pointwise(weights, bias: bias) { tanh($0) * Fixtures.abScale }
                .resized(width: 64, height: 48)
            var worst = 0
            for index in 0..<(64 * 48) {
                let expected = labToSRGB(l: Double(frame.thermal.samples[index]) * 100 / 255,
                                         a: ab.channels[0][index], b: ab.channels[1][index])
                for c in 0..<3 {
                    worst = max(worst, abs(Int(image.samples[index * 3 + c]) - Int(expected[c])))
                }
            }
            #expect(worst <= 1)
        }
    }

    @Test func referenceColorizerRunsAtTheVideoSizeRoundedToItsMultiple() throws {
        let engine = try colorizer("reference-colorizer")
        let frames = (0..<2).map {
            NeuralInput(thermal: testThermal(width: 44, height: 30, seed: $0),
                        reference: testColour(width: 20, height: 15, seed: $0))
        }
        let images = try engine.colorize(frames)
        for (frame, image) in zip(frames, images) {
            // 44×30 rounds down to 40×24 for a multiple of 8.
            let thermal = Planes(frame.thermal).resized(width: 40, height: 24)
            let reference = Planes(frame.reference!.raster).resized(width: 40, height: 24)
            let expected = thermal.stacked(with: reference)
                .pointwise(Fixtures.refConvW, bias: Fixtures.refConvB, sigmoid)
                .resized(width: 44, height: 30).rgbImage()
            #expect(maxDifference(image, expected) <= 1)
        }
    }

    /// The network is compiled per input shape, as shapes come: a stream
    /// whose size changes, and back, and a batch whose last inference has
    /// fewer frames, each get their own compilation and the right pixels.
    @Test func dynamicSizeNetworkFollowsVideoSizeChanges() throws {
        let engine = try colorizer("reference-colorizer", maxBatch: 2)
        for (width, height, count) in [(44, 30, 3), (64, 48, 2), (44, 30, 1)] {
            let frames = (0..<count).map {
                NeuralInput(thermal: testThermal(width: width, height: height, seed: $0 + width),
                            reference: testColour(width: 20, height: 15, seed: $0))
            }
            let images = try engine.colorize(frames)
            let working = (width: width / 8 * 8, height: height / 8 * 8)
            for (frame, image) in zip(frames, images) {
                let thermal = Planes(frame.thermal).resized(width: working.width, height: working.height)
                let reference = Planes(frame.reference!.raster).resized(width: working.width, height: working.height)
                let expected = thermal.stacked(with: reference)
                    .pointwise(Fixtures.refConvW, bias: Fixtures.refConvB, sigmoid)
                    .resized(width: width, height: height).rgbImage()
                #expect(image.width == width && image.height == height)
                #expect(maxDifference(image, expected) <= 1)
            }
        }
    }

    @Test func fuserMatchesTheReference() throws {
        let engine = try colorizer("fuser")
        let frames = (0..<3).map {
            NeuralInput(thermal: testThermal(width: 48, height: 36, seed: $0),
                        visible: testColour(width: 96, height: 72, seed: $0))
        }
        let images = try engine.colorize(frames, text: Fixtures.cold)
        let term = textTerm(Fixtures.cold, Fixtures.fuseTextM, Fixtures.fuseTextB)
        for (frame, image) in zip(frames, images) {
            let thermal = Planes(frame.thermal).resized(width: 32, height: 24)
            let visible = Planes(frame.visible!.raster).resized(width: 32, height: 24)
            let bias = (0..<3).map { Fixtures.fuseConvB[$0] + term[$0] }
            let expected = thermal.stacked(with: visible)
                .pointwise(Fixtures.fuseConvW, bias: bias) { min(max($0, 0), 1) }
                .resized(width: 48, height: 36).rgbImage()
            #expect(maxDifference(image, expected) <= 1)
        }
    }

    @Test func batchOfEightEqualsEightBatchesOfOne() throws {
        let frames = (0..<8).map { NeuralInput(thermal: testThermal(width: 40, height: 30, seed: $0)) }
        let batched = try colorizer("colorizer-rgb", maxBatch: 8).colorize(frames, text: Fixtures.cold)
        let single = try colorizer("colorizer-rgb", maxBatch: 1)
        let oneByOne = try frames.map { try single.colorize([$0], text: Fixtures.cold)[0] }
        #expect(batched == oneByOne)

        let abFrames = (0..<8).map { NeuralInput(thermal: testThermal(width: 40, height: 30, seed: $0 + 3)) }
        let abBatched = try colorizer("colorizer-ab", maxBatch: 8).colorize(abFrames, text: Fixtures.warm)
        let abSingle = try colorizer("colorizer-ab", maxBatch: 1, inflight: 1)
        #expect(abBatched == (try abFrames.map { try abSingle.colorize([$0], text: Fixtures.warm)[0] }))
    }

    @Test func fixedBatchModelPadsThePartialBatchAndMatchesTheDynamicOne() throws {
        let fixed = try colorizer("colorizer-rgb-batch4")
        #expect(fixed.framesPerInference == 4)
        let dynamic = try colorizer("colorizer-rgb", maxBatch: 3)
        #expect(dynamic.framesPerInference == 3)
        // 6 frames: one full inference of 4 and one of 2 padded to 4.
        let frames = (0..<6).map { NeuralInput(thermal: testThermal(width: 36, height: 28, seed: $0)) }
        let fromFixed = try fixed.colorize(frames, text: Fixtures.warm)
        let fromDynamic = try dynamic.colorize(frames, text: Fixtures.warm)
        #expect(fromFixed.count == 6)
        #expect(fromFixed == fromDynamic)
    }

    @Test func submittedBatchesCompleteInOrderWithTheirOwnText() throws {
        let engine = try colorizer("colorizer-rgb", maxBatch: 2, inflight: 3)
        let batches = (0..<5).map { batch in
            (0..<3).map { NeuralInput(thermal: testThermal(width: 32, height: 24, seed: batch * 3 + $0)) }
        }
        let texts = (0..<5).map { $0 % 2 == 0 ? Fixtures.warm : Fixtures.cold }
        let log = ResultLog()
        for (batch, text) in zip(batches, texts) {
            engine.submit(batch, text: text) { log.append($0) }
        }
        engine.waitUntilIdle()
        let results = log.results
        #expect(results.count == 5)
        for (index, result) in results.enumerated() {
            let images = try result.get()
            #expect(images == (try engine.colorize(batches[index], text: texts[index])))
        }
    }

    @Test func emptyBatchGivesNoImages() throws {
        #expect(try colorizer("colorizer-rgb").colorize([]).isEmpty)
    }

    @Test func badBatchesAreRefusedWithAClearMessage() throws {
        let engine = try colorizer("colorizer-rgb")
        let mixed = [NeuralInput(thermal: testThermal(width: 32, height: 24, seed: 0)),
                     NeuralInput(thermal: testThermal(width: 30, height: 24, seed: 1))]
        let sizeError = #expect(throws: InferenceError.self) { try engine.colorize(mixed) }
        #expect(sizeError?.description.contains("frame 1 is 30×24, frame 0 is 32×24") == true)

        let frame = [NeuralInput(thermal: testThermal(width: 32, height: 24, seed: 0))]
        let textError = #expect(throws: InferenceError.self) { try engine.colorize(frame, text: [1, 2]) }
        #expect(textError?.description.contains("the text embedding has 2 values, the network takes 4") == true)

        let noDefault = try colorizer("colorizer-ab")
        let missingText = #expect(throws: InferenceError.self) { try noDefault.colorize(frame) }
        #expect(missingText?.description.contains("no default prompt") == true)

        let fuser = try colorizer("fuser")
        let noVisible = #expect(throws: InferenceError.self) { try fuser.colorize(frame, text: Fixtures.warm) }
        #expect(noVisible?.description.contains("frame 0 has no visible image") == true)

        // The engine still works after refusing.
        #expect(try engine.colorize(frame).count == 1)
    }
}

/// Collects `submit` results from the delivery queue.
private final class ResultLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Result<[RGBImage], any Error>] = []

    func append(_ result: Result<[RGBImage], any Error>) {
        lock.lock()
        stored.append(result)
        lock.unlock()
    }

    var results: [Result<[RGBImage], any Error>] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}
