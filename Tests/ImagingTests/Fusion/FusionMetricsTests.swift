import Foundation
import Imaging
import Testing

/// Metric values checked against hand computation on small images.
@Suite("Fusion metrics by hand")
struct FusionMetricsTests {
    static let size = 16
    /// Left half 0, right half 255.
    static let twoLevel = TestImages.grey(width: size, height: size) { x, _ in x < size / 2 ? 0 : 255 }
    /// f(x, y) = 10 x.
    static let ramp = TestImages.grey(width: size, height: size) { x, _ in Double(10 * x) }
    static let zeros = Gray8Image(width: size, height: size, repeating: 0)

    static func value(_ metric: FusionMetric, fused: Gray8Image, infrared: Gray8Image = zeros,
                      visible: Gray8Image = zeros) throws -> Double {
        try FusionMetrics.value(of: metric, fused: fused, infrared: infrared, visible: visible)
    }

    @Test("entropy of a two-level image is one bit; of a flat one zero")
    func entropy() throws {
        #expect(abs(try Self.value(.entropy, fused: Self.twoLevel) - 1) < 1e-12)
        #expect(try Self.value(.entropy, fused: Self.zeros) == 0)
    }

    @Test("'Variance' is the standard deviation on 0–255")
    func standardDeviation() throws {
        #expect(abs(try Self.value(.standardDeviation, fused: Self.twoLevel) - 127.5) < 1e-9)
    }

    @Test("PSNR and RMSE of a known difference use VIFB's error √(Σd²)/N")
    func psnrAndRmse() throws {
        let fused = Gray8Image(width: Self.size, height: Self.size, repeating: 10)
        let n = Double(Self.size * Self.size)
        let error = (n * 100).squareRoot() / n   // both sources differ by 10 everywhere
        #expect(abs(try Self.value(.rootMeanSquareError, fused: fused) - error) < 1e-12)
        #expect(abs(try Self.value(.peakSignalToNoise, fused: fused) - 20 * log10(255 / error.squareRoot())) < 1e-9)
    }

    @Test("spatial frequency and average gradient of a ramp")
    func rampGradients() throws {
        let w = Double(Self.size), h = Double(Self.size)
        // Row differences are 10 everywhere, column differences 0.
        let spatialFrequency = (h * (w - 1) * 100 / (w * h)).squareRoot()
        #expect(abs(try Self.value(.spatialFrequency, fused: Self.ramp) - spatialFrequency) < 1e-9)
        // MATLAB's gradient is 10 in x everywhere (one-sided at the ends), 0 in y.
        let averageGradient = w * h * (100.0 / 2).squareRoot() / ((w - 1) * (h - 1))
        #expect(abs(try Self.value(.averageGradient, fused: Self.ramp) - averageGradient) < 1e-9)
        // Sobel: 8 × 10 inside; 4 × 10 in the border columns (replicated edge).
        let edgeIntensity = (80 * (w - 2) + 40 * 2) / w
        #expect(abs(try Self.value(.edgeIntensity, fused: Self.ramp) - edgeIntensity) < 1e-9)
    }

    @Test("a fused image equal to both sources scores perfectly")
    func identicalImages() throws {
        let image = TestImages.grey(width: 24, height: 20) { x, y in Double((x * 37 + y * 91) % 256) }
        let all = try FusionMetrics.evaluate(fused: image, infrared: image, visible: image)
        #expect(abs(all[.structuralSimilarity]! - 2) < 1e-12)     // 1 per source, summed
        #expect(abs(all[.crossEntropy]!) < 1e-12)
        #expect(all[.rootMeanSquareError]! == 0)
        #expect(all[.peakSignalToNoise]! == .infinity)
        // Equal strengths take VIFB's "ratio = strength" branch: Tg · Ta / (1 + e^(−22 · 0.2)).
        #expect(abs(all[.qabf]! - 0.9994 * 0.9879 / (1 + exp(-4.4))) < 1e-9)
        #expect(abs(all[.qcb]! - 1) < 1e-9)
        #expect(all[.qcv]! < 1e-12)
        // Mutual information of an image with itself is its entropy (nats), per source.
        let entropyNats = try FusionMetrics.value(of: .entropy, fused: image, infrared: image, visible: image) * log(2)
        #expect(abs(all[.mutualInformation]! - 2 * entropyNats) < 1e-9)
    }

    @Test("mutual information of a two-level image with itself is 2 ln 2")
    func mutualInformation() throws {
        let value = try Self.value(.mutualInformation, fused: Self.twoLevel, infrared: Self.twoLevel, visible: Self.twoLevel)
        #expect(abs(value - 2 * log(2)) < 1e-12)
    }

    @Test("a colour image with equal channels scores like its grey version")
    func colourChannelsAverage() throws {
        let grey = TestImages.grey(width: 20, height: 18) { x, y in Double((x * 13 + y * 29) % 256) }
        let other = TestImages.grey(width: 20, height: 18) { x, y in Double((x * y * 3) % 256) }
        func colour(_ image: Gray8Image) -> Raster<UInt8> {
            RGBImage(width: image.width, height: image.height, channels: 3, samples: image.samples.flatMap { [$0, $0, $0] }).raster
        }
        let greyValues = try FusionMetrics.evaluate(fused: grey, infrared: other, visible: other)
        let colourValues = try FusionMetrics.evaluate(fused: colour(grey), infrared: colour(other), visible: colour(other))
        for metric in FusionMetric.allCases where metric != .spatialFrequency {
            #expect(abs(greyValues[metric]! - colourValues[metric]!) <= 1e-9 * max(1, abs(greyValues[metric]!)), "\(metric.name)")
        }
    }

    @Test("names are VIFB's")
    func names() {
        #expect(FusionMetrics.csvHeader == "Avg_gradient,Cross_entropy,Edge_intensity,Entropy,Mutinf,Psnr,Qabf,Qcb,Qcv,Rmse,Spatial_frequency,Ssim,Variance")
    }

    @Test("unusable inputs are refused with a clear error")
    func badInput() {
        #expect(throws: FusionMetricsError.self) {
            try FusionMetrics.evaluate(fused: Self.ramp, infrared: Gray8Image(width: 12, height: 12, repeating: 0), visible: Self.ramp)
        }
        #expect(throws: FusionMetricsError.tooSmall("8×8 is under 11×11")) {
            let small = Gray8Image(width: 8, height: 8, repeating: 0)
            return try FusionMetrics.evaluate(fused: small, infrared: small, visible: small)
        }
        #expect(throws: FusionMetricsError.unsupportedChannels(image: "fused", channels: 2)) {
            try FusionMetrics.evaluate(fused: Raster(width: 16, height: 16, channels: 2, repeating: 0), infrared: Self.ramp, visible: Self.ramp)
        }
    }
}
