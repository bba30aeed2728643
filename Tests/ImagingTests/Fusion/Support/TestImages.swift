import Imaging

/// Small synthetic images with known structure.
enum TestImages {
    /// A grey image from a function of (x, y), rounded and clamped.
    static func grey(width: Int, height: Int, _ value: (Int, Int) -> Double) -> Gray8Image {
        var samples = [UInt8](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width { samples[y * width + x] = UInt8(min(255, max(0, value(x, y).rounded()))) }
        }
        return Gray8Image(width: width, height: height, samples: samples)
    }

    /// An RGB image from a function of (x, y), rounded and clamped.
    static func rgb(width: Int, height: Int, _ value: (Int, Int) -> (Double, Double, Double)) -> RGBImage {
        var samples = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let (r, g, b) = value(x, y)
                let i = 3 * (y * width + x)
                samples[i] = UInt8(min(255, max(0, r.rounded())))
                samples[i + 1] = UInt8(min(255, max(0, g.rounded())))
                samples[i + 2] = UInt8(min(255, max(0, b.rounded())))
            }
        }
        return RGBImage(width: width, height: height, channels: 3, samples: samples)
    }

    /// BT.601 Y, Cb, Cr of pixel `index` of an RGB image.
    static func ycbcr(_ image: RGBImage, _ index: Int) -> SIMD3<Float> {
        ColorConversion.ycbcr(red: Float(image.samples[3 * index]), green: Float(image.samples[3 * index + 1]),
                              blue: Float(image.samples[3 * index + 2]))
    }

    static func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(max(1, values.count)) }

    static func deviation(_ values: [Double]) -> Double {
        let m = mean(values)
        return (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(max(1, values.count))).squareRoot()
    }
}
