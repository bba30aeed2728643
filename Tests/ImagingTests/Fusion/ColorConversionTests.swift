import Imaging
import Testing

@Suite("Colour conversion")
struct ColorConversionTests {
    @Test("YCbCr is BT.601 full range and round-trips")
    func ycbcrRoundTrip() {
        let white = ColorConversion.ycbcr(red: 255, green: 255, blue: 255)
        #expect(abs(white.x - 255) < 0.01 && abs(white.y - 128) < 0.01 && abs(white.z - 128) < 0.01)
        let red = ColorConversion.ycbcr(red: 255, green: 0, blue: 0)
        #expect(abs(red.x - 76.245) < 0.01)
        #expect(abs(red.z - 255.5) < 0.01)   // Cr = 128 + 0.5 × 255
        for (r, g, b) in [(12, 200, 99), (255, 128, 0), (3, 4, 250), (77, 77, 77)] as [(Float, Float, Float)] {
            let c = ColorConversion.ycbcr(red: r, green: g, blue: b)
            let back = ColorConversion.rgb(y: c.x, cb: c.y, cr: c.z)
            #expect(abs(back.x - r) < 0.01 && abs(back.y - g) < 0.01 && abs(back.z - b) < 0.01)
        }
    }

    @Test("planes recombine to the same image")
    func planeRoundTrip() {
        let image = TestImages.rgb(width: 9, height: 7) { x, y in (Double(x * 28), Double(y * 36), Double((x * y * 7) % 256)) }
        let planes = ColorConversion.ycbcrPlanes(of: image)
        #expect(ColorConversion.rgbImage(y: planes.y, cb: planes.cb, cr: planes.cr) == image)
    }

    @Test("Lab matches published sRGB D65 values")
    func labKnownValues() {
        let white = ColorConversion.lab(red: 255, green: 255, blue: 255)
        #expect(abs(white.x - 100) < 0.01 && abs(white.y) < 0.01 && abs(white.z) < 0.01)
        let black = ColorConversion.lab(red: 0, green: 0, blue: 0)
        #expect(abs(black.x) < 0.01 && abs(black.y) < 0.01 && abs(black.z) < 0.01)
        let red = ColorConversion.lab(red: 255, green: 0, blue: 0)
        #expect(abs(red.x - 53.24) < 0.05 && abs(red.y - 80.09) < 0.05 && abs(red.z - 67.20) < 0.05)
        let grey = ColorConversion.lab(red: 119, green: 119, blue: 119)
        #expect(abs(grey.x - 50.03) < 0.05 && abs(grey.y) < 0.01 && abs(grey.z) < 0.01)
    }

    @Test("Lab round-trips to within half a level")
    func labRoundTrip() {
        var worst: Float = 0
        for r in stride(from: 0, through: 255, by: 17) {
            for g in stride(from: 0, through: 255, by: 17) {
                for b in stride(from: 0, through: 255, by: 17) {
                    let lab = ColorConversion.lab(red: UInt8(r), green: UInt8(g), blue: UInt8(b))
                    let back = ColorConversion.rgb(lab: lab)
                    worst = max(worst, abs(back.x - Float(r)), abs(back.y - Float(g)), abs(back.z - Float(b)))
                }
            }
        }
        #expect(worst < 0.5)
    }
}
