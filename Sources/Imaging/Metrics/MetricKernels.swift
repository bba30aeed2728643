import Dispatch
import Foundation

/// A grey image of doubles, the working type of the metrics (VIFB computes
/// in MATLAB doubles; matching it means no float rounding on the way).
struct MetricPlane {
    let width: Int
    let height: Int
    var values: [Double]

    init(width: Int, height: Int, values: [Double]) {
        self.width = width
        self.height = height
        self.values = values
    }

    init(width: Int, height: Int, repeating value: Double = 0) {
        self.init(width: width, height: height, values: [Double](repeating: value, count: width * height))
    }

    /// Channel `channel` of an 8-bit raster (the only channel of a grey one).
    init(_ raster: Raster<UInt8>, channel: Int) {
        let c = raster.channels, k = min(channel, c - 1)
        var values = [Double](repeating: 0, count: raster.pixelCount)
        raster.samples.withUnsafeBufferPointer { s in
            for i in 0..<raster.pixelCount { values[i] = Double(s[i * c + k]) }
        }
        self.init(width: raster.width, height: raster.height, values: values)
    }

    /// MATLAB's `rgb2gray` of an RGB raster, rounded to integers as it does
    /// for uint8 input when `rounded`, kept fractional as for double input
    /// otherwise.
    init(greyOf raster: Raster<UInt8>, rounded: Bool) {
        guard raster.channels >= 3 else {
            self.init(raster, channel: 0)
            return
        }
        let c = raster.channels
        var values = [Double](repeating: 0, count: raster.pixelCount)
        for i in 0..<raster.pixelCount {
            let grey = 0.298_936_021_293_775 * Double(raster.samples[i * c])
                + 0.587_043_074_451_121 * Double(raster.samples[i * c + 1])
                + 0.114_020_904_255_103 * Double(raster.samples[i * c + 2])
            values[i] = rounded ? min(255, grey.rounded()) : grey
        }
        self.init(width: raster.width, height: raster.height, values: values)
    }

    var count: Int { width * height }

    func map(_ transform: (Double) -> Double) -> MetricPlane {
        MetricPlane(width: width, height: height, values: values.map(transform))
    }

    /// Z. Liu's `normalize1`: stretch to 0–255 and round (MATLAB rounds
    /// halves away from zero, as `rounded()` does). An all-zero plane is
    /// left alone; a constant non-zero one becomes NaN, as 0/0 does there.
    func normalisedTo255() -> MetricPlane {
        let largest = values.max() ?? 0, smallest = values.min() ?? 0
        if largest == 0 && smallest == 0 { return self }
        let range = largest - smallest
        return map { (($0 - smallest) / range * 255).rounded() }
    }
}

/// Neighbourhood filters with MATLAB's border conventions.
///
/// Inner loops are `while` loops over raw pointers so that debug builds,
/// where range iteration and array subscripts are not inlined, still run
/// the metrics at a usable speed.
enum MetricFilters {
    enum Border { case zero, replicate }

    /// `filter2(kernel, image, 'same')` (correlation) for a 3 × 3 kernel
    /// given row-major, with zero or replicated borders (the latter is
    /// `imfilter(..., 'replicate')`).
    static func correlate3x3(_ image: MetricPlane, kernel: [Double], border: Border) -> MetricPlane {
        precondition(kernel.count == 9, "a 3 × 3 kernel has 9 entries")
        let w = image.width, h = image.height, pw = w + 2
        // Pad by one sample so the loop needs no bounds tests.
        var padded = [Double](repeating: 0, count: pw * (h + 2))
        for y in -1...h {
            for x in -1...w {
                let inside = x >= 0 && x < w && y >= 0 && y < h
                if inside || border == .replicate {
                    let cx = min(max(x, 0), w - 1), cy = min(max(y, 0), h - 1)
                    padded[(y + 1) * pw + x + 1] = image.values[cy * w + cx]
                }
            }
        }
        var output = [Double](repeating: 0, count: w * h)
        padded.withUnsafeBufferPointer { sourceBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                let src = sourceBuffer.baseAddress!, out = outputBuffer.baseAddress!
                let k0 = kernel[0], k1 = kernel[1], k2 = kernel[2], k3 = kernel[3], k4 = kernel[4]
                let k5 = kernel[5], k6 = kernel[6], k7 = kernel[7], k8 = kernel[8]
                var y = 0
                while y < h {
                    let r0 = src + y * pw, r1 = r0 + pw, r2 = r1 + pw, o = out + y * w
                    var x = 0
                    while x < w {
                        o[x] = k0 * r0[x] + k1 * r0[x + 1] + k2 * r0[x + 2]
                            + k3 * r1[x] + k4 * r1[x + 1] + k5 * r1[x + 2]
                            + k6 * r2[x] + k7 * r2[x + 1] + k8 * r2[x + 2]
                        x += 1
                    }
                    y += 1
                }
            }
        }
        return MetricPlane(width: w, height: h, values: output)
    }

    /// `conv2(image, kernel, 'same')` for a 3 × 3 kernel: correlation with
    /// the kernel turned by 180°, zero borders.
    static func convolve3x3(_ image: MetricPlane, kernel: [Double]) -> MetricPlane {
        correlate3x3(image, kernel: Array(kernel.reversed()), border: .zero)
    }

    /// Separable correlation with `taps` along rows and then columns, zero
    /// borders. `valid` keeps only outputs whose window lies inside the image
    /// (`filter2(..., 'valid')`), otherwise the output has the input's size
    /// (`'same'`; `taps` must then have odd length).
    static func separable(_ image: MetricPlane, taps: [Double], valid: Bool) -> MetricPlane {
        let w = image.width, h = image.height, n = taps.count, half = n / 2
        let outW = valid ? max(0, w - n + 1) : w, outH = valid ? max(0, h - n + 1) : h
        let offset = valid ? 0 : -half   // input index under the first tap of output 0
        var rows = [Double](repeating: 0, count: outW * h)
        var output = [Double](repeating: 0, count: outW * outH)
        image.values.withUnsafeBufferPointer { sourceBuffer in
            taps.withUnsafeBufferPointer { tapBuffer in
                rows.withUnsafeMutableBufferPointer { rowBuffer in
                    output.withUnsafeMutableBufferPointer { outputBuffer in
                        let src = sourceBuffer.baseAddress!, t = tapBuffer.baseAddress!
                        let rowsOut = rowBuffer.baseAddress!, out = outputBuffer.baseAddress!
                        var y = 0
                        while y < h {
                            let row = src + y * w, o = rowsOut + y * outW
                            var x = 0
                            while x < outW {
                                let first = x + offset
                                var k = first < 0 ? -first : 0
                                let end = min(n, w - first)
                                var sum = 0.0
                                while k < end { sum += t[k] * row[first + k]; k += 1 }
                                o[x] = sum
                                x += 1
                            }
                            y += 1
                        }
                        // Columns as whole-row multiply-adds: sequential memory access.
                        y = 0
                        while y < outH {
                            let first = y + offset
                            var k = first < 0 ? -first : 0
                            let end = min(n, h - first)
                            let o = out + y * outW
                            while k < end {
                                let weight = t[k], row = rowsOut + (first + k) * outW
                                var x = 0
                                while x < outW { o[x] += weight * row[x]; x += 1 }
                                k += 1
                            }
                            y += 1
                        }
                    }
                }
            }
        }
        return MetricPlane(width: outW, height: outH, values: output)
    }

    /// `fspecial('gaussian', size, sigma)` as its normalised 1-D factor.
    static func gaussianTaps(size: Int, sigma: Double) -> [Double] {
        let half = Double(size - 1) / 2
        let taps = (0..<size).map { exp(-(Double($0) - half) * (Double($0) - half) / (2 * sigma * sigma)) }
        let sum = taps.reduce(0, +)
        return taps.map { $0 / sum }
    }

    /// Sums of valueⁿ over non-overlapping size × size blocks, row-major
    /// over blocks; partial blocks at the right and bottom count as
    /// zero-padded (MATLAB's `blkproc`).
    static func blockPowerSums(_ image: MetricPlane, size: Int, exponent: Int) -> [Double] {
        let w = image.width, h = image.height
        let blocksX = (w + size - 1) / size, blocksY = (h + size - 1) / size
        var sums = [Double](repeating: 0, count: blocksX * blocksY)
        image.values.withUnsafeBufferPointer { valueBuffer in
            sums.withUnsafeMutableBufferPointer { sumBuffer in
                let v = valueBuffer.baseAddress!, out = sumBuffer.baseAddress!
                var y = 0
                while y < h {
                    let row = v + y * w, blockRow = out + (y / size) * blocksX
                    var x = 0
                    while x < w {
                        let value = row[x]
                        var power = value, e = 1
                        while e < exponent { power *= value; e += 1 }
                        blockRow[x / size] += power
                        x += 1
                    }
                    y += 1
                }
            }
        }
        return sums
    }
}

/// Runs `body` for every index in `0..<count` on all cores and collects the
/// results in order. For metric work that is independent per channel.
func parallelMap<Result>(_ count: Int, _ body: (Int) -> Result) -> [Result] {
    var results = [Result?](repeating: nil, count: count)
    results.withUnsafeMutableBufferPointer { slots in
        let shared = UncheckedSendableBox(slots.baseAddress!)
        withoutActuallyEscaping(body) { body in
            let work = UncheckedSendableBox(body)
            // Each iteration writes only its own slot; concurrentPerform
            // returns after all have finished.
            DispatchQueue.concurrentPerform(iterations: count) { index in
                shared.value[index] = work.value(index)
            }
        }
    }
    return results.map { $0! }
}
