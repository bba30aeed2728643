import Foundation
import Imaging
@testable import Inference

// The tiny networks of Scripts/make-test-models.py, written again as plain
// Swift so OpenVINO's results can be checked against them. The weights are
// the script's: change both together. Everything here is deliberately
// naive (per pixel, Double) to stay independent of the engine's code.

enum Fixtures {
    static let root: URL = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!

    static func bundle(_ name: String) throws -> ModelBundle {
        try ModelBundle(folder: root.appendingPathComponent(name))
    }

    static func path(_ name: String) -> String {
        root.appendingPathComponent(name).path
    }

    static let rgbConvW: [Double] = [2.0, -1.5, 0.5]
    static let rgbConvB: [Double] = [-1.0, 0.8, 0.1]
    static let rgbTextM: [[Double]] = [[0.5, -0.25, 0.1], [0.2, 0.3, -0.4], [-0.3, 0.1, 0.25], [0.05, -0.2, 0.35]]
    static let rgbTextB: [Double] = [0.1, -0.1, 0.05]

    static let abConvW: [Double] = [1.2, -0.8]
    static let abConvB: [Double] = [-0.3, 0.4]
    static let abTextM: [[Double]] = [[0.3, -0.2], [0.1, 0.25], [-0.15, 0.05], [0.2, 0.1]]
    static let abTextB: [Double] = [0.0, -0.05]
    static let abScale = 100.0

    static let refConvW: [[Double]] = [[0.6, 0.9, 0.0, 0.0], [0.4, 0.0, 0.9, 0.0], [0.5, 0.0, 0.0, 0.9]]
    static let refConvB: [Double] = [-0.7, -0.6, -0.65]

    static let fuseConvW: [[Double]] = [[0.5, 0.5, 0.0, 0.0], [0.5, 0.0, 0.5, 0.0], [0.5, 0.0, 0.0, 0.5]]
    static let fuseConvB: [Double] = [0.0, 0.0, 0.0]
    static let fuseTextM: [[Double]] = [[0.1, 0.0, -0.1], [0.0, 0.2, 0.0], [-0.1, 0.0, 0.1], [0.05, 0.05, 0.05]]
    static let fuseTextB: [Double] = [0.0, 0.0, 0.0]

    static let warm: [Float] = [0.5, 0.2, -0.3, 0.1]
    static let cold: [Float] = [-0.4, 0.3, 0.6, -0.2]
}

/// A planar Double image for the reference math.
struct Planes {
    var width: Int
    var height: Int
    var channels: [[Double]]

    subscript(channel: Int, x: Int, y: Int) -> Double { channels[channel][y * width + x] }

    /// An 8-bit interleaved image as planes on 0–1.
    init(_ raster: Raster<UInt8>) {
        width = raster.width
        height = raster.height
        channels = (0..<raster.channels).map { c in
            (0..<(raster.width * raster.height)).map { Double(raster.samples[$0 * raster.channels + c]) / 255 }
        }
    }

    init(width: Int, height: Int, channels: [[Double]]) {
        self.width = width
        self.height = height
        self.channels = channels
    }

    /// Bilinear resize with half-pixel centres (PyTorch align_corners=False).
    func resized(width newWidth: Int, height newHeight: Int) -> Planes {
        func taps(_ index: Int, _ source: Int, _ destination: Int) -> (Int, Int, Double) {
            let position = max(0, (Double(index) + 0.5) * Double(source) / Double(destination) - 0.5)
            let low = min(Int(position.rounded(.down)), source - 1)
            let high = min(low + 1, source - 1)
            return (low, high, low < source - 1 ? position - Double(low) : 0)
        }
        let resizedChannels = channels.indices.map { c in
            var out = [Double](repeating: 0, count: newWidth * newHeight)
            for y in 0..<newHeight {
                let (y0, y1, wy) = taps(y, height, newHeight)
                for x in 0..<newWidth {
                    let (x0, x1, wx) = taps(x, width, newWidth)
                    let top = self[c, x0, y0] * (1 - wx) + self[c, x1, y0] * wx
                    let bottom = self[c, x0, y1] * (1 - wx) + self[c, x1, y1] * wx
                    out[y * newWidth + x] = top * (1 - wy) + bottom * wy
                }
            }
            return out
        }
        return Planes(width: newWidth, height: newHeight, channels: resizedChannels)
    }

    /// 2×2 average pooling, stride 2.
    func pooled() -> Planes {
        let w = width / 2, h = height / 2
        let pooledChannels = channels.indices.map { c in
            (0..<(w * h)).map { index -> Double in
                let x = index % w * 2, y = index / w * 2
                return (self[c, x, y] + self[c, x + 1, y] + self[c, x, y + 1] + self[c, x + 1, y + 1]) / 4
            }
        }
        return Planes(width: w, height: h, channels: pooledChannels)
    }

    /// Per-pixel 1×1 convolution of the stacked channels plus a bias per output.
    func pointwise(_ weights: [[Double]], bias: [Double], _ activation: (Double) -> Double) -> Planes {
        let outputs = weights.indices.map { o in
            (0..<(width * height)).map { index in
                var sum = bias[o]
                for (c, weight) in weights[o].enumerated() { sum += weight * channels[c][index] }
                return activation(sum)
            }
        }
        return Planes(width: width, height: height, channels: outputs)
    }

    /// Stacks the channels of `self` then `other`.
    func stacked(with other: Planes) -> Planes {
        Planes(width: width, height: height, channels: channels + other.channels)
    }

    /// RGB 0–1 planes to interleaved 8-bit.
    func rgbImage() -> RGBImage {
        var samples = [UInt8](repeating: 0, count: width * height * 3)
        for index in 0..<(width * height) {
            for c in 0..<3 {
                samples[index * 3 + c] = UInt8(min(max((channels[c][index] * 255).rounded(), 0), 255))
            }
        }
        return RGBImage(width: width, height: height, channels: 3, samples: samples)
    }
}

/// The text term Gemm(text, M) + b of the fixtures.
func textTerm(_ text: [Float], _ matrix: [[Double]], _ bias: [Double]) -> [Double] {
    bias.indices.map { o in bias[o] + text.indices.reduce(0) { $0 + Double(text[$1]) * matrix[$1][o] } }
}

func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

/// Lab (D65) to 8-bit sRGB with the exact transfer curve.
func labToSRGB(l: Double, a: Double, b: Double) -> [UInt8] {
    let fy = (l + 16) / 116, fx = fy + a / 500, fz = fy - b / 200
    func inverse(_ t: Double) -> Double { t > 6.0 / 29 ? t * t * t : 3 * pow(6.0 / 29, 2) * (t - 4.0 / 29) }
    let x = inverse(fx) * 0.95047, y = inverse(fy), z = inverse(fz) * 1.08883
    let linear = [3.2404813432 * x - 1.5371515163 * y - 0.4985363262 * z,
                  -0.96925495 * x + 1.8759900015 * y + 0.0415559266 * z,
                  0.0556466391 * x - 0.2040413384 * y + 1.0573110696 * z]
    return linear.map { value in
        let v = min(max(value, 0), 1)
        let encoded = v <= 0.0031308 ? 12.92 * v : 1.055 * pow(v, 1 / 2.4) - 0.055
        return UInt8((encoded * 255).rounded())
    }
}

/// A deterministic thermal-like test frame: gradients plus texture.
func testThermal(width: Int, height: Int, seed: Int) -> Gray8Image {
    var samples = [UInt8](repeating: 0, count: width * height)
    for y in 0..<height {
        for x in 0..<width {
            let value = (x * 255 / max(width - 1, 1) + y * 3 + (x * y + seed * 37) % 23 * 4 + seed * 11) % 256
            samples[y * width + x] = UInt8(value)
        }
    }
    return Gray8Image(width: width, height: height, samples: samples)
}

/// A deterministic colour test image.
func testColour(width: Int, height: Int, seed: Int) -> RGBImage {
    var samples = [UInt8](repeating: 0, count: width * height * 3)
    for y in 0..<height {
        for x in 0..<width {
            let index = (y * width + x) * 3
            samples[index] = UInt8((x * 9 + seed * 5) % 256)
            samples[index + 1] = UInt8((y * 11 + x * 2 + seed) % 256)
            samples[index + 2] = UInt8((255 - x * 4 - y * 3 + seed * 7 + 512) % 256)
        }
    }
    return RGBImage(width: width, height: height, channels: 3, samples: samples)
}

/// The largest per-sample difference between two images of one size.
func maxDifference(_ lhs: RGBImage, _ rhs: RGBImage) -> Int {
    precondition(lhs.width == rhs.width && lhs.height == rhs.height && lhs.channels == rhs.channels)
    return zip(lhs.samples, rhs.samples).map { abs(Int($0) - Int($1)) }.max() ?? 0
}
