import Testing
@testable import Imaging

/// BT.601 limited range straight from the definition, for comparison.
private func referenceYUV(_ red: Int, _ green: Int, _ blue: Int) -> (y: Double, cb: Double, cr: Double) {
    let r = Double(red), g = Double(green), b = Double(blue)
    return (
        16 + 219 / 255 * (0.299 * r + 0.587 * g + 0.114 * b),
        128 + 224 / 255 * (-0.168736 * r - 0.331264 * g + 0.5 * b),
        128 + 224 / 255 * (0.5 * r - 0.418688 * g - 0.081312 * b)
    )
}

@Suite struct YUVTests {
    @Test func greyMapsToLimitedRangeLumaAndNeutralChroma() {
        let gray = Gray8Image(width: 256, height: 2, samples: (0..<512).map { UInt8($0 % 256) })
        let yuv = Palette.whiteHot.colorizeYUV(gray)
        #expect(yuv.luma.first == 16)
        #expect(yuv.luma[255] == 235)
        for level in 0..<256 {
            #expect(Double(yuv.luma[level]) == (16 + 219 * Double(level) / 255).rounded(), "level \(level)")
        }
        #expect(yuv.chromaBlue.allSatisfy { $0 == 128 } && yuv.chromaRed.allSatisfy { $0 == 128 })

        // The RGB path agrees.
        #expect(YUV420Image(rgb: Palette.whiteHot.colorize(gray)) == yuv)
        let black = Palette.blackHot.yuv(for: 0)
        #expect(black == (235, 128, 128))
    }

    @Test func paletteTablesMatchTheDefinition() {
        for palette in Palette.all {
            for level in 0...255 {
                let color = palette.colors[level]
                let reference = referenceYUV(Int(color.red), Int(color.green), Int(color.blue))
                let actual = palette.yuv(for: UInt8(level))
                #expect(abs(Double(actual.luma) - reference.y) <= 0.51, "\(palette.name)[\(level)] Y")
                #expect(abs(Double(actual.chromaBlue) - reference.cb) <= 0.51, "\(palette.name)[\(level)] Cb")
                #expect(abs(Double(actual.chromaRed) - reference.cr) <= 0.51, "\(palette.name)[\(level)] Cr")
            }
        }
    }

    @Test func rgbRoundTripsThroughYUVWithinQuantisation() {
        // Colours on a grid, each filling a 2×2 block so subsampling loses nothing.
        let steps = Array(stride(from: 0, through: 255, by: 17))
        let colors = steps.flatMap { r in steps.flatMap { g in steps.map { b in (r, g, b) } } }
        let blocksPerRow = 64
        let width = blocksPerRow * 2, height = (colors.count + blocksPerRow - 1) / blocksPerRow * 2
        var rgb = RGBImage(width: width, height: height, channels: 3, repeating: 0)
        for (index, color) in colors.enumerated() {
            let blockX = (index % blocksPerRow) * 2, blockY = (index / blocksPerRow) * 2
            for dy in 0..<2 {
                for dx in 0..<2 {
                    rgb[blockX + dx, blockY + dy, 0] = UInt8(color.0)
                    rgb[blockX + dx, blockY + dy, 1] = UInt8(color.1)
                    rgb[blockX + dx, blockY + dy, 2] = UInt8(color.2)
                }
            }
        }
        let back = YUV420Image(rgb: rgb).rgb()
        #expect(back.width == width && back.height == height)
        let worst = zip(rgb.samples, back.samples).map { abs(Int($0) - Int($1)) }.max()!
        #expect(worst <= 3)
    }

    @Test func chromaIsTheRoundedMeanOfEachTwoByTwoBlock() throws {
        // Palette path: four different levels in one block.
        let palette = Palette.turbo
        let levels: [UInt8] = [10, 90, 170, 250]
        let yuv = palette.colorizeYUV(Gray8Image(width: 2, height: 2, samples: levels))
        let entries = levels.map { palette.yuv(for: $0) }
        #expect(yuv.luma == entries.map(\.luma))
        let blueSum = entries.map { Int($0.chromaBlue) }.reduce(0, +)
        let redSum = entries.map { Int($0.chromaRed) }.reduce(0, +)
        #expect(yuv.chromaBlue == [UInt8((blueSum + 2) / 4)])
        #expect(yuv.chromaRed == [UInt8((redSum + 2) / 4)])

        // RGB path: red, green, blue and white.
        let rgb = RGBImage(width: 2, height: 2, channels: 3, samples: [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255])
        let converted = YUV420Image(rgb: rgb)
        let references = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)].map(referenceYUV)
        let meanBlue = references.map(\.cb).reduce(0, +) / 4, meanRed = references.map(\.cr).reduce(0, +) / 4
        #expect(abs(Double(converted.chromaBlue[0]) - meanBlue) <= 0.51)
        #expect(abs(Double(converted.chromaRed[0]) - meanRed) <= 0.51)
        for (index, reference) in references.enumerated() {
            #expect(abs(Double(converted.luma[index]) - reference.y) <= 0.51)
        }
    }

    @Test(arguments: [(1, 1), (5, 3), (7, 4), (4, 7), (1, 6)])
    func oddSizesUseCeilingChromaPlanes(width: Int, height: Int) {
        var random = SplitMix64(seed: UInt64(width * 31 + height))
        let gray = Gray8Image(width: width, height: height,
                              samples: (0..<(width * height)).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        let palette = Palette.ironbow
        let yuv = palette.colorizeYUV(gray)
        #expect(yuv.chromaWidth == (width + 1) / 2 && yuv.chromaHeight == (height + 1) / 2)
        #expect(yuv.luma.count == width * height)
        #expect(yuv.chromaBlue.count == yuv.chromaWidth * yuv.chromaHeight)
        #expect(yuv.chromaRed.count == yuv.chromaBlue.count)

        // Each chroma sample is the rounded mean over the pixels its block covers.
        for chromaY in 0..<yuv.chromaHeight {
            for chromaX in 0..<yuv.chromaWidth {
                var blue = 0, red = 0, count = 0
                for y in (2 * chromaY)..<min(height, 2 * chromaY + 2) {
                    for x in (2 * chromaX)..<min(width, 2 * chromaX + 2) {
                        let entry = palette.yuv(for: gray[x, y])
                        blue += Int(entry.chromaBlue)
                        red += Int(entry.chromaRed)
                        count += 1
                    }
                }
                let index = chromaY * yuv.chromaWidth + chromaX
                #expect(Int(yuv.chromaBlue[index]) == (blue + count / 2) / count)
                #expect(Int(yuv.chromaRed[index]) == (red + count / 2) / count)
            }
        }

        // The RGB route gives the same frame up to rounding, and converts back at full size.
        let viaRGB = YUV420Image(rgb: palette.colorize(gray))
        #expect(zip(viaRGB.luma, yuv.luma).allSatisfy { abs(Int($0) - Int($1)) <= 1 })
        #expect(zip(viaRGB.chromaBlue, yuv.chromaBlue).allSatisfy { abs(Int($0) - Int($1)) <= 1 })
        #expect(zip(viaRGB.chromaRed, yuv.chromaRed).allSatisfy { abs(Int($0) - Int($1)) <= 1 })
        let back = yuv.rgb()
        #expect(back.width == width && back.height == height && back.channels == 3)
    }

    @Test func colorizeIntoReusesOrResizesTheFrame() {
        var yuv = YUV420Image(width: 2, height: 2)
        Palette.viridis.colorize(Gray8Image(width: 3, height: 3, repeating: 0), into: &yuv)
        #expect(yuv.width == 3 && yuv.height == 3 && yuv.chromaBlue.count == 4)
        let first = Palette.viridis.yuv(for: 0)
        #expect(yuv.luma.allSatisfy { $0 == first.luma })
        #expect(yuv.chromaBlue.allSatisfy { $0 == first.chromaBlue })
        #expect(YUV420Image(width: 3, height: 1).chromaRed == [128, 128])
    }
}
