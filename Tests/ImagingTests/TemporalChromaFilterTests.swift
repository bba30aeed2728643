import Imaging
import Testing

@Suite("Temporal chroma smoothing")
struct TemporalChromaFilterTests {
    let width = 16, height = 8

    /// A flat picture of one colour.
    func picture(_ red: UInt8, _ green: UInt8, _ blue: UInt8) -> RGBImage {
        RGBImage(width: width, height: height, channels: 3,
                 samples: (0..<(width * height)).flatMap { _ in [red, green, blue] })
    }

    func chroma(_ image: RGBImage, at index: Int = 0) -> (blue: Float, red: Float) {
        let r = Float(image.samples[index * 3]), g = Float(image.samples[index * 3 + 1]), b = Float(image.samples[index * 3 + 2])
        let luma = 0.299 * r + 0.587 * g + 0.114 * b
        return ((b - luma) * 0.564, (r - luma) * 0.713)
    }

    @Test("A still scene whose colour flickers comes out steadier")
    func stillSceneSteadies() {
        var filter = TemporalChromaFilter(strength: 0.8)
        let thermal = Gray8Image(width: width, height: height, repeating: 120)
        let frames = (0..<20).map { $0 % 2 == 0 ? picture(150, 120, 90) : picture(110, 120, 150) }
        var swingsIn: [Float] = [], swingsOut: [Float] = []
        var previousIn: (blue: Float, red: Float)?, previousOut: (blue: Float, red: Float)?
        for frame in frames {
            let output = filter.filter(frame, thermal: thermal)
            let (inC, outC) = (chroma(frame), chroma(output))
            if let previousIn, let previousOut {
                swingsIn.append(abs(inC.red - previousIn.red) + abs(inC.blue - previousIn.blue))
                swingsOut.append(abs(outC.red - previousOut.red) + abs(outC.blue - previousOut.blue))
            }
            previousIn = inC
            previousOut = outC
        }
        let meanIn = swingsIn.reduce(0, +) / Float(swingsIn.count)
        let meanOut = swingsOut.reduce(0, +) / Float(swingsOut.count)
        #expect(meanOut < meanIn * 0.5, "flicker \(meanOut) vs \(meanIn) in")
    }

    @Test("Where the thermal image changes, the new colour is taken at once")
    func motionTakesNewColour() {
        var filter = TemporalChromaFilter(strength: 0.9, motionThreshold: 24)
        _ = filter.filter(picture(150, 120, 90), thermal: Gray8Image(width: width, height: height, repeating: 40))
        let moved = picture(60, 120, 200)
        let output = filter.filter(moved, thermal: Gray8Image(width: width, height: height, repeating: 200))
        let (want, got) = (chroma(moved), chroma(output))
        #expect(abs(want.red - got.red) < 1.5 && abs(want.blue - got.blue) < 1.5)
    }

    @Test("Luma is the frame's own, and strength 0 changes nothing")
    func lumaKept() {
        var filter = TemporalChromaFilter(strength: 0.8)
        let thermal = Gray8Image(width: width, height: height, repeating: 90)
        _ = filter.filter(picture(200, 40, 40), thermal: thermal)
        let second = picture(40, 200, 40)
        let output = filter.filter(second, thermal: thermal)
        func luma(_ image: RGBImage) -> Float {
            0.299 * Float(image.samples[0]) + 0.587 * Float(image.samples[1]) + 0.114 * Float(image.samples[2])
        }
        #expect(abs(luma(output) - luma(second)) < 2)

        var off = TemporalChromaFilter(strength: 0)
        _ = off.filter(picture(200, 40, 40), thermal: thermal)
        #expect(off.filter(second, thermal: thermal) == second)
    }
}
