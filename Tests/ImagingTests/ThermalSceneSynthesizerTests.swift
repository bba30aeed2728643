import Testing
@testable import Imaging

@Suite struct ThermalSceneSynthesizerTests {
    @Test func sameSeedGivesTheSameFrames() throws {
        var first = try ThermalSceneSynthesizer(width: 160, height: 128, seed: 42)
        var second = try ThermalSceneSynthesizer(width: 160, height: 128, seed: 42)
        for _ in 0..<3 {
            #expect(first.nextFrame() == second.nextFrame())
        }
        #expect(first.frameIndex == 3)
    }

    @Test func differentSeedsGiveDifferentScenes() throws {
        var first = try ThermalSceneSynthesizer(width: 160, height: 128, seed: 1)
        var second = try ThermalSceneSynthesizer(width: 160, height: 128, seed: 2)
        let a = first.nextFrame(), b = second.nextFrame()
        let differing = zip(a.samples, b.samples).filter { $0 != $1 }.count
        #expect(differing > a.samples.count / 2)
    }

    @Test(arguments: [8, 12, 14, 16])
    func valuesStayWithinTheBitDepth(bits: Int) throws {
        var synthesizer = try ThermalSceneSynthesizer(width: 96, height: 64, significantBits: bits, seed: 5)
        var frame = Gray16Image(width: 1, height: 1, repeating: 0)
        for _ in 0..<20 {
            synthesizer.nextFrame(into: &frame)
            #expect(frame.width == 96 && frame.height == 64)
            #expect(Int(frame.samples.max()!) < 1 << bits)
        }
        // The scene uses a good part of the range rather than a sliver.
        let spread = Int(frame.samples.max()!) - Int(frame.samples.min()!)
        #expect(spread > (1 << bits) / 8)
    }

    @Test func peopleAreWarmerThanTheirSurroundings() throws {
        var synthesizer = try ThermalSceneSynthesizer(width: 320, height: 256, seed: 9)
        for index in 0..<5 {
            let frame = synthesizer.nextFrame()
            let median = Int(frame.samples.sorted()[frame.samples.count / 2])
            var checked = 0
            for center in synthesizer.walkerCenters(inFrame: index)
            where (2..<(frame.width - 2)).contains(center.x) && (2..<(frame.height - 2)).contains(center.y) {
                var sum = 0
                for dy in -1...1 { for dx in -1...1 { sum += Int(frame[center.x + dx, center.y + dy]) } }
                // People are ≈ 0.565 of full scale, the ground around ≈ 0.47.
                #expect(sum / 9 > median + (1 << 14) / 25, "walker at \(center)")
                checked += 1
            }
            #expect(checked >= 2)
        }
    }

    @Test func framesChangeOverTime() throws {
        var synthesizer = try ThermalSceneSynthesizer(width: 160, height: 128, seed: 3)
        let first = synthesizer.nextFrame()
        for _ in 0..<29 { _ = synthesizer.nextFrame() }
        let later = synthesizer.nextFrame()
        // Far more than noise: objects moved (σ of the noise is ≈ 15 counts).
        let moved = zip(first.samples, later.samples).filter { abs(Int($0) - Int($1)) > 500 }.count
        #expect(moved > 200)
        // Noise alone makes consecutive frames differ too.
        let next = synthesizer.nextFrame()
        #expect(next != later)
    }

    @Test func invalidSizesThrow() {
        #expect(throws: ImagingError.self) { try ThermalSceneSynthesizer(width: 0, height: 10) }
        #expect(throws: ImagingError.self) { try ThermalSceneSynthesizer(width: 10, height: 10, significantBits: 17) }
    }
}
