import Foundation
import Imaging
import Inference
import MediaIO
import Pipeline
import TestSupport
import Testing

/// The same thermal picture again and again, so only the prompt can change the colours.
final class RepeatingSource: ThermalFrameSource {
    private let image: Gray16Image
    private let count: Int
    private var index = 0

    init(count: Int) {
        self.count = count
        var image = Gray16Image(width: 48, height: 32, repeating: 0)
        for i in image.samples.indices { image.samples[i] = UInt16((i * 7) % 256) }
        self.image = image
    }

    func nextFrame() throws -> ThermalFrame? {
        guard index < count else { return nil }
        defer { index += 1 }
        return ThermalFrame(image: image, significantBits: 8, pts: Int64(index), duration: 1, timeBase: Rational(1, 25), index: index)
    }

    func interrupt() {}
}

@Suite("Live prompt changes")
struct PromptChangeTests {
    @Test("A prompt changed mid-conversion shows up from a batch boundary on, with no frame lost")
    func promptChangeMidRun() throws {
        let bundle = try ModelBundle(folder: URL(fileURLWithPath: packageRoot + "/Tests/InferenceTests/Fixtures/colorizer-rgb"))
        let network = try NeuralColorizer(bundle: bundle, precision: "f32", maxBatch: 4, inflightRequests: 2)
        let stage = NeuralStage(network: network, gain: try ClassicColorizer(settings: ClassicSettings(gainControl: .none)),
                                text: bundle.embedding(forPrompt: "warm"),
                                promptResolver: { prompt in try #require(bundle.embedding(forPrompt: prompt)) })
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let path = folder.file("prompt.mkv")
        let writer = try VideoWriter(path, width: 48, height: 32, timeBase: Rational(1, 25), frameRate: Rational(25, 1),
                                     settings: EncoderSettings(codec: .ffv1))
        let pipeline = FramePipeline(source: RepeatingSource(count: 40), colorizer: stage, sinks: [writer])
        pipeline.onFrameWritten = { statistics in
            if statistics.framesWritten == 8 { try? stage.setPrompt("cold") }
        }
        try pipeline.run()

        let frames = try #require(try ffmpegDecodeRGB(path, width: 48, height: 32))
        #expect(frames.count == 40)
        let warm = frames[0], cold = frames[39]
        #expect(warm != cold)
        let switchIndex = try #require(frames.firstIndex(of: cold))
        #expect(switchIndex >= 8)
        #expect(switchIndex % 4 == 0, "the prompt changed inside a batch")
        #expect(frames[..<switchIndex].allSatisfy { $0 == warm })
        #expect(frames[switchIndex...].allSatisfy { $0 == cold })
    }
}
