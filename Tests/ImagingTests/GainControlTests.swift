import Testing
@testable import Imaging

/// A 100×100 frame whose counts run evenly over `base ..< base + 1000`,
/// ten pixels per count.
private func ramp(from base: Int) -> Gray16Image {
    Gray16Image(width: 100, height: 100, samples: (0..<10_000).map { UInt16(base + $0 % 1000) })
}

@Suite struct GainControlTests {
    @Test func linearMapsTheTailRejectedWindowOntoTheFullRange() throws {
        var gainControl = try AutomaticGainControl(mode: .linear, significantBits: 14, tailRejection: 0.01, smoothing: 0)
        let output = gainControl.map(ramp(from: 1000))

        // 1 % of 10 000 pixels is 100 pixels, ten counts at each end.
        let window = try #require(gainControl.window)
        #expect(window == 1010...1989)
        #expect(gainControl.level(for: 1000) == 0)
        #expect(gainControl.level(for: 1010) == 0)
        #expect(gainControl.level(for: 1500) == 128)
        #expect(gainControl.level(for: 1989) == 255)
        #expect(gainControl.level(for: 1999) == 255)
        #expect(output.samples.min() == 0 && output.samples.max() == 255)
        #expect(output.width == 100 && output.height == 100)
        // The mapping is monotonic.
        let levels = (1000...2000).map { gainControl.level(for: UInt16($0)) }
        #expect(zip(levels, levels.dropFirst()).allSatisfy { $0 <= $1 })
    }

    @Test func linearIgnoresAFewHotAndDeadPixels() throws {
        var clean = try AutomaticGainControl(mode: .linear, significantBits: 14, smoothing: 0)
        _ = clean.map(ramp(from: 1000))

        var withOutliers = ramp(from: 1000)
        for index in stride(from: 0, to: 10_000, by: 500) { withOutliers.samples[index] = 16_383 }
        for index in stride(from: 250, to: 10_000, by: 500) { withOutliers.samples[index] = 0 }
        var dirty = try AutomaticGainControl(mode: .linear, significantBits: 14, smoothing: 0)
        _ = dirty.map(withOutliers)

        let cleanWindow = try #require(clean.window), dirtyWindow = try #require(dirty.window)
        #expect(abs(cleanWindow.lowerBound - dirtyWindow.lowerBound) <= 3)
        #expect(abs(cleanWindow.upperBound - dirtyWindow.upperBound) <= 3)
    }

    @Test func linearWindowOfAFlatFrameIsWidenedNotDegenerate() throws {
        var gainControl = try AutomaticGainControl(mode: .linear, significantBits: 14, smoothing: 0)
        let output = gainControl.map(Gray16Image(width: 8, height: 8, repeating: 5000))
        let window = try #require(gainControl.window)
        #expect(window.upperBound - window.lowerBound >= 16)
        #expect(output.samples.allSatisfy { (120...135).contains($0) })
    }

    @Test func noneShiftsDownToEightBits() throws {
        var fourteen = try AutomaticGainControl(mode: .none, significantBits: 14)
        var random = SplitMix64(seed: 7)
        let samples = (0..<4096).map { _ in UInt16(truncatingIfNeeded: random.next() & 0x3FFF) }
        let output = fourteen.map(Gray16Image(width: 64, height: 64, samples: samples))
        #expect(output.samples == samples.map { UInt8($0 >> 6) })
        // Counts beyond the significant bits saturate instead of wrapping.
        #expect(fourteen.level(for: 16_383) == 255)
        #expect(fourteen.level(for: 40_000) == 255)

        var sixteen = try AutomaticGainControl(mode: .none)
        #expect(sixteen.map(Gray16Image(width: 2, height: 1, samples: [0x12FF, 0xFF00])).samples == [0x12, 0xFF])
    }

    @Test func plateauSpreadsABimodalSceneFlatterThanLinear() throws {
        // Half the pixels near 3000, half near 9000, like a cold sky over
        // warm ground: narrow peaks with nothing between them.
        var random = SplitMix64(seed: 3)
        let samples = (0..<(128 * 128)).map { index -> UInt16 in
            let spread = Int(random.next() % 101) + Int(random.next() % 101) - 100
            return UInt16((index % 2 == 0 ? 3000 : 9000) + spread)
        }
        let frame = Gray16Image(width: 128, height: 128, samples: samples)
        var linear = try AutomaticGainControl(mode: .linear, significantBits: 14, smoothing: 0)
        var plateau = try AutomaticGainControl(mode: .plateau, significantBits: 14, smoothing: 0)

        func histogram(_ image: Gray8Image) -> [Int] {
            image.samples.reduce(into: [Int](repeating: 0, count: 256)) { $0[Int($1)] += 1 }
        }
        let linearHistogram = histogram(linear.map(frame))
        let plateauHistogram = histogram(plateau.map(frame))

        let linearLevelsUsed = linearHistogram.filter { $0 > 0 }.count
        let plateauLevelsUsed = plateauHistogram.filter { $0 > 0 }.count
        #expect(plateauLevelsUsed > 3 * linearLevelsUsed)
        #expect(plateauHistogram.max()! * 4 < linearHistogram.max()!)
    }

    @Test func plateauOfOneLevelLandsMidGrey() throws {
        var plateau = try AutomaticGainControl(mode: .plateau, significantBits: 12, smoothing: 0)
        #expect(plateau.map(Gray16Image(width: 4, height: 4, repeating: 700)).samples.allSatisfy { $0 == 128 })
    }

    @Test func linearSmoothingLimitsTheStepAfterASceneChangeAndConverges() throws {
        var gainControl = try AutomaticGainControl(mode: .linear, significantBits: 14, smoothing: 0.9)
        for _ in 0..<5 { _ = gainControl.map(ramp(from: 1000)) }
        // A steady scene stays put.
        let steady = try #require(gainControl.window)
        #expect(abs(steady.lowerBound - 1010) < 1e-9 && abs(steady.upperBound - 1989) < 1e-9)

        // A sudden change: the same contrast 4000 counts warmer.
        var previous = try #require(gainControl.window).lowerBound
        for _ in 0..<10 {
            _ = gainControl.map(ramp(from: 5000))
            let low = try #require(gainControl.window).lowerBound
            let remaining = 5010 - previous
            #expect(low > previous)
            #expect(low - previous <= 0.1 * remaining + 1e-6)
            previous = low
        }
        for _ in 0..<150 { _ = gainControl.map(ramp(from: 5000)) }
        let settled = try #require(gainControl.window)
        #expect(abs(settled.lowerBound - 5010) < 1 && abs(settled.upperBound - 5989) < 1)
        // reset() lets the next frame set the window alone.
        gainControl.reset()
        _ = gainControl.map(ramp(from: 1000))
        #expect(gainControl.window == 1010...1989)
    }

    @Test func plateauSmoothingLimitsTheStepOfTheMappingAndConverges() throws {
        var smoothed = try AutomaticGainControl(mode: .plateau, significantBits: 14, smoothing: 0.8)
        var immediate = try AutomaticGainControl(mode: .plateau, significantBits: 14, smoothing: 0)
        _ = smoothed.map(ramp(from: 1000))
        _ = immediate.map(ramp(from: 8000))
        func table(_ gainControl: AutomaticGainControl) -> [Int] {
            (0..<16_384).map { Int(gainControl.level(for: UInt16($0))) }
        }
        var before = table(smoothed)
        for _ in 0..<8 {
            _ = smoothed.map(ramp(from: 8000))
            let after = table(smoothed)
            // At most a fifth of the full range per frame, plus rounding.
            #expect(zip(before, after).map { abs($0 - $1) }.max()! <= 52)
            before = after
        }
        for _ in 0..<80 { _ = smoothed.map(ramp(from: 8000)) }
        #expect(zip(table(smoothed), table(immediate)).map { abs($0 - $1) }.max()! <= 1)
    }

    @Test func mapIntoResizesAMismatchedOutput() throws {
        var gainControl = try AutomaticGainControl(mode: .none, significantBits: 8)
        var output = Gray8Image(width: 1, height: 1, repeating: 0)
        gainControl.map(Gray16Image(width: 3, height: 2, samples: [0, 1, 2, 3, 4, 300]), into: &output)
        #expect(output == Gray8Image(width: 3, height: 2, samples: [0, 1, 2, 3, 4, 255]))
    }

    @Test func invalidSettingsThrowAClearError() {
        #expect(throws: ImagingError.self) { try AutomaticGainControl(significantBits: 20) }
        #expect(throws: ImagingError.self) { try AutomaticGainControl(tailRejection: 0.5) }
        #expect(throws: ImagingError.self) { try AutomaticGainControl(mode: .plateau, plateauLimit: 0) }
        #expect(throws: ImagingError.self) { try AutomaticGainControl(smoothing: 1) }
        #expect(throws: ImagingError.self) { try ContrastStretch(smoothing: -0.1) }
        #expect(throws: ImagingError("gain control: significant bits must be 8–16, got 4")) {
            try AutomaticGainControl(significantBits: 4)
        }
    }

    @Test func modesRoundTripThroughTheirNames() {
        #expect(GainControlMode.allCases.map(\.rawValue) == ["linear", "plateau", "none"])
        #expect(GainControlMode(rawValue: "plateau") == .plateau)
    }
}

@Suite struct ContrastStretchTests {
    @Test func disabledPassesEightBitThroughUnchanged() {
        var stretch = ContrastStretch.disabled
        let gray = Gray8Image(width: 4, height: 1, samples: [10, 20, 30, 40])
        #expect(stretch.apply(gray) == gray)
        var output = Gray8Image(width: 1, height: 1, repeating: 0)
        stretch.apply(gray, into: &output)
        #expect(output == gray)
        #expect(stretch.window == nil)
    }

    @Test func enabledStretchesANarrowRangeAndSmooths() throws {
        var stretch = try ContrastStretch(tailRejection: 0, smoothing: 0)
        let gray = Gray8Image(width: 51, height: 1, samples: (100...150).map { UInt8($0) })
        let output = stretch.apply(gray)
        #expect(output.samples.first == 0 && output.samples.last == 255)
        #expect(stretch.window == 100...150)

        var smoothed = try ContrastStretch(tailRejection: 0, smoothing: 0.5)
        _ = smoothed.apply(gray)
        _ = smoothed.apply(Gray8Image(width: 51, height: 1, samples: (0...50).map { UInt8($0) }))
        #expect(smoothed.window == 50...100)
    }
}
