import Foundation

/// The image-fusion quality metrics of the VIFB benchmark (Zhang, Ye & Xiao,
/// "VIFB: A Visible and Infrared Image Fusion Benchmark", CVPRW 2020),
/// named as VIFB names them.
package enum FusionMetric: String, CaseIterable, Sendable, Codable {
    /// Average gradient: mean of √((∂x² + ∂y²)/2) of the fused image.
    case averageGradient = "Avg_gradient"
    /// Mean of the relative entropies of the source histograms to the fused one.
    case crossEntropy = "Cross_entropy"
    /// Mean Sobel gradient magnitude of the fused image.
    case edgeIntensity = "Edge_intensity"
    /// Shannon entropy (bits) of the fused image's 256-bin histogram.
    case entropy = "Entropy"
    /// Mutual information (nats) of the fused image with each source, summed.
    case mutualInformation = "Mutinf"
    /// Peak signal-to-noise ratio from VIFB's averaged error (see ``rootMeanSquareError``).
    case peakSignalToNoise = "Psnr"
    /// Xydeas & Petrović's edge-preservation measure Q^AB/F.
    case qabf = "Qabf"
    /// Chen & Blum's perceptual contrast-preservation measure.
    case qcb = "Qcb"
    /// Chen & Varshney's regional perceptual distortion (lower is better).
    case qcv = "Qcv"
    /// VIFB's "RMSE": mean over sources of √(Σ(a−f)²)/N — note N, not √N,
    /// as in its code, so values are small.
    case rootMeanSquareError = "Rmse"
    /// Spatial frequency √(RF² + CF²) of the fused image.
    case spatialFrequency = "Spatial_frequency"
    /// Structural similarity of the fused image to each source, summed.
    case structuralSimilarity = "Ssim"
    /// Standard deviation of the fused image (VIFB calls it "Variance").
    case standardDeviation = "Variance"

    /// VIFB's spelling of the metric's name.
    package var name: String { rawValue }

    /// Whether a larger value means a better fusion.
    package var higherIsBetter: Bool {
        switch self {
        case .crossEntropy, .qcv, .rootMeanSquareError: return false
        default: return true
        }
    }
}

/// Why metrics could not be computed.
package enum FusionMetricsError: Error, CustomStringConvertible, Equatable {
    case sizeMismatch(String)
    case unsupportedChannels(image: String, channels: Int)
    case tooSmall(String)

    package var description: String {
        switch self {
        case let .sizeMismatch(detail): return "fusion metrics need images of one size: \(detail)"
        case let .unsupportedChannels(image, channels):
            return "fusion metrics need grey or RGB images; the \(image) image has \(channels) channels"
        case let .tooSmall(detail): return "fusion metrics need larger images: \(detail)"
        }
    }
}

/// The values of the VIFB metrics for one fused image and its two sources.
///
/// Computation follows VIFB's MATLAB code, including its conventions: a
/// colour fused image is measured channel by channel (against the matching
/// channel of colour sources, or against a grey source as is) and the
/// channel values averaged; spatial frequency runs over the three channels
/// laid side by side, as MATLAB's 2-D indexing of a 3-D array does; a grey
/// fused image is compared with `rgb2gray` of colour sources.
package struct FusionMetrics: Sendable, Equatable {
    /// Each metric's value.
    package var values: [FusionMetric: Double]

    package subscript(metric: FusionMetric) -> Double? { values[metric] }

    /// Computes `metrics` for `fused` against `infrared` and `visible`, all
    /// the same size, each 1- or 3-channel 8-bit.
    package static func evaluate(fused: Raster<UInt8>, infrared: Raster<UInt8>, visible: Raster<UInt8>,
                                metrics: [FusionMetric] = FusionMetric.allCases) throws -> FusionMetrics {
        try validate(fused: fused, infrared: infrared, visible: visible)
        var values: [FusionMetric: Double] = [:]
        for metric in metrics where values[metric] == nil {
            values[metric] = compute(metric, fused: fused, infrared: infrared, visible: visible)
        }
        return FusionMetrics(values: values)
    }

    /// One metric's value; see ``evaluate(fused:infrared:visible:metrics:)``.
    package static func value(of metric: FusionMetric, fused: Raster<UInt8>, infrared: Raster<UInt8>,
                             visible: Raster<UInt8>) throws -> Double {
        try validate(fused: fused, infrared: infrared, visible: visible)
        return compute(metric, fused: fused, infrared: infrared, visible: visible)
    }

    /// The metric names in VIFB's order and spelling, as a CSV header row.
    package static var csvHeader: String { FusionMetric.allCases.map(\.name).joined(separator: ",") }

    private static func validate(fused: Raster<UInt8>, infrared: Raster<UInt8>, visible: Raster<UInt8>) throws {
        for (name, image) in [("fused", fused), ("infrared", infrared), ("visible", visible)]
        where image.channels != 1 && image.channels != 3 {
            throw FusionMetricsError.unsupportedChannels(image: name, channels: image.channels)
        }
        guard fused.width == infrared.width, fused.width == visible.width,
              fused.height == infrared.height, fused.height == visible.height else {
            throw FusionMetricsError.sizeMismatch(
                "fused \(fused.width)×\(fused.height), infrared \(infrared.width)×\(infrared.height), visible \(visible.width)×\(visible.height)")
        }
        // SSIM's 11 × 11 window and the gradients need some room.
        guard fused.width >= 11, fused.height >= 11 else {
            throw FusionMetricsError.tooSmall("\(fused.width)×\(fused.height) is under 11×11")
        }
    }

    // MARK: Channel handling

    private static func compute(_ metric: FusionMetric, fused: Raster<UInt8>, infrared: Raster<UInt8>,
                                visible: Raster<UInt8>) -> Double {
        if metric == .spatialFrequency {
            return spatialFrequency(planes: (0..<fused.channels).map { MetricPlane(fused, channel: $0) })
        }
        // VIFB's wrappers: a grey fused image is measured once (sources
        // through rgb2gray); a colour one per channel, then averaged.
        if fused.channels == 1 {
            let rounded: Bool
            switch metric {
            // These pass uint8 sources to rgb2gray, which rounds; the others
            // convert to double first.
            case .crossEntropy, .mutualInformation, .structuralSimilarity: rounded = true
            default: rounded = false
            }
            return single(metric, fused: MetricPlane(fused, channel: 0),
                          infrared: MetricPlane(greyOf: infrared, rounded: rounded),
                          visible: MetricPlane(greyOf: visible, rounded: rounded))
        }
        let perChannel = parallelMap(fused.channels) { channel in
            single(metric, fused: MetricPlane(fused, channel: channel),
                   infrared: MetricPlane(infrared, channel: channel),
                   visible: MetricPlane(visible, channel: channel))
        }
        return perChannel.reduce(0, +) / Double(fused.channels)
    }

    private static func single(_ metric: FusionMetric, fused: MetricPlane, infrared: MetricPlane,
                               visible: MetricPlane) -> Double {
        switch metric {
        case .averageGradient: return averageGradient(fused)
        case .crossEntropy: return (crossEntropy(visible, fused) + crossEntropy(infrared, fused)) / 2
        case .edgeIntensity: return edgeIntensity(fused)
        case .entropy: return entropy(fused)
        case .mutualInformation: return mutualInformation(visible, fused) + mutualInformation(infrared, fused)
        case .peakSignalToNoise:
            let error = (vifbError(visible, fused) + vifbError(infrared, fused)) / 2
            return 20 * log10(255 / error.squareRoot())
        case .qabf: return qabf(visible, infrared, fused)
        case .qcb: return qcb(visible, infrared, fused)
        case .qcv: return qcv(visible, infrared, fused)
        case .rootMeanSquareError: return (vifbError(visible, fused) + vifbError(infrared, fused)) / 2
        case .spatialFrequency: return spatialFrequency(planes: [fused])
        case .structuralSimilarity: return ssim(visible, fused) + ssim(infrared, fused)
        case .standardDeviation: return standardDeviation(fused)
        }
    }

    // Loops that touch every pixel are `while` loops over raw pointers: at
    // -Onone (plain `swift test`) range iteration and array subscripts are
    // unspecialised calls and would make the metrics many times slower.

    // MARK: Single-image metrics

    /// Shannon entropy in bits of the histogram of ⌊value⌋ over 256 bins.
    static func entropy(_ image: MetricPlane) -> Double {
        let histogram = histogram256(image)
        let n = Double(image.count)
        var result = 0.0
        for count in histogram where count > 0 {
            let p = count / n
            result -= p * log2(p)
        }
        return result
    }

    /// Population standard deviation.
    static func standardDeviation(_ image: MetricPlane) -> Double {
        image.values.withUnsafeBufferPointer { buffer in
            let v = buffer.baseAddress!, n = buffer.count
            var sum = 0.0, i = 0
            while i < n { sum += v[i]; i += 1 }
            let mean = sum / Double(n)
            var squares = 0.0
            i = 0
            while i < n { let d = v[i] - mean; squares += d * d; i += 1 }
            return (squares / Double(n)).squareRoot()
        }
    }

    /// Σ √((gx² + gy²)/2) / ((rows − 1)(columns − 1)) with MATLAB's
    /// `gradient`: central differences inside, one-sided at the borders.
    static func averageGradient(_ image: MetricPlane) -> Double {
        let w = image.width, h = image.height
        guard w > 1, h > 1 else { return 0 }
        let sum = image.values.withUnsafeBufferPointer { buffer in
            let v = buffer.baseAddress!
            var sum = 0.0, y = 0
            while y < h {
                let row = v + y * w
                let up = y == 0 ? row : row - w, down = y == h - 1 ? row : row + w
                let verticalScale = y == 0 || y == h - 1 ? 1.0 : 0.5
                var x = 0
                while x < w {
                    let gx: Double
                    if x == 0 { gx = row[1] - row[0] }
                    else if x == w - 1 { gx = row[x] - row[x - 1] }
                    else { gx = (row[x + 1] - row[x - 1]) * 0.5 }
                    let gy = (down[x] - up[x]) * verticalScale
                    sum += ((gx * gx + gy * gy) * 0.5).squareRoot()
                    x += 1
                }
                y += 1
            }
            return sum
        }
        return sum / Double((w - 1) * (h - 1))
    }

    /// Mean Sobel magnitude, `imfilter(..., 'replicate')`.
    static func edgeIntensity(_ image: MetricPlane) -> Double {
        let gx = MetricFilters.correlate3x3(image, kernel: [1, 2, 1, 0, 0, 0, -1, -2, -1], border: .replicate)
        let gy = MetricFilters.correlate3x3(image, kernel: [1, 0, -1, 2, 0, -2, 1, 0, -1], border: .replicate)
        return meanMagnitude(gx, gy) 
    }

    private static func meanMagnitude(_ gx: MetricPlane, _ gy: MetricPlane) -> Double {
        gx.values.withUnsafeBufferPointer { xBuffer in
            gy.values.withUnsafeBufferPointer { yBuffer in
                let a = xBuffer.baseAddress!, b = yBuffer.baseAddress!, n = xBuffer.count
                var sum = 0.0, i = 0
                while i < n { sum += (a[i] * a[i] + b[i] * b[i]).squareRoot(); i += 1 }
                return sum / Double(n)
            }
        }
    }

    /// Spatial frequency √(RF² + CF²) as VIFB computes it: `[m,n] = size(f)`
    /// on an m × n × 3 array gives n = 3 × columns, so a colour image counts
    /// as one image of its channel planes side by side (differences across
    /// the seams included) and is not averaged per channel.
    static func spatialFrequency(planes: [MetricPlane]) -> Double {
        guard let first = planes.first, first.width > 0, first.height > 0 else { return 0 }
        let w = first.width, h = first.height
        var rowSum = 0.0, columnSum = 0.0
        for (index, plane) in planes.enumerated() {
            plane.values.withUnsafeBufferPointer { buffer in
                let v = buffer.baseAddress!
                var y = 0
                while y < h {
                    let row = v + y * w
                    var x = 1
                    while x < w { let d = row[x] - row[x - 1]; rowSum += d * d; x += 1 }
                    if y > 0 {
                        let above = row - w
                        x = 0
                        while x < w { let d = row[x] - above[x]; columnSum += d * d; x += 1 }
                    }
                    y += 1
                }
            }
            // The seam between this plane's last column and the next one's first.
            if index + 1 < planes.count {
                for y in 0..<h {
                    let d = planes[index + 1].values[y * w] - plane.values[y * w + w - 1]
                    rowSum += d * d
                }
            }
        }
        let n = Double(h * w * planes.count)
        return (rowSum / n + columnSum / n).squareRoot()
    }

    // MARK: Two-image metrics

    private static func histogram256(_ image: MetricPlane) -> [Double] {
        var counts = [Int](repeating: 0, count: 256)
        counts.withUnsafeMutableBufferPointer { countBuffer in
            image.values.withUnsafeBufferPointer { valueBuffer in
                let c = countBuffer.baseAddress!, v = valueBuffer.baseAddress!, n = valueBuffer.count
                var i = 0
                while i < n {
                    let value = v[i]
                    c[value <= 0 ? 0 : (value >= 255 ? 255 : Int(value))] += 1
                    i += 1
                }
            }
        }
        return counts.map(Double.init)
    }

    /// Σ p_a log2(p_a / p_f) over bins where both histograms are non-zero
    /// (a relative entropy, which VIFB calls cross entropy).
    static func crossEntropy(_ source: MetricPlane, _ fused: MetricPlane) -> Double {
        let a = histogram256(source), f = histogram256(fused)
        let n = Double(source.count)
        var result = 0.0
        for k in 0..<256 where a[k] > 0 && f[k] > 0 {
            let pa = a[k] / n, pf = f[k] / n
            result += pa * log2(pa / pf)
        }
        return result
    }

    /// Mutual information in nats of the two images after each is stretched
    /// to 0–255 and rounded (VIFB's `mutinf`).
    static func mutualInformation(_ first: MetricPlane, _ second: MetricPlane) -> Double {
        let n = first.count
        var joint = [Int](repeating: 0, count: 256 * 256)
        var ha = [Int](repeating: 0, count: 256), hb = ha
        let (minA, rangeA) = stretch(first), (minB, rangeB) = stretch(second)
        first.values.withUnsafeBufferPointer { aBuffer in
            second.values.withUnsafeBufferPointer { bBuffer in
                joint.withUnsafeMutableBufferPointer { jointBuffer in
                    let a = aBuffer.baseAddress!, b = bBuffer.baseAddress!, j = jointBuffer.baseAddress!
                    var i = 0
                    while i < n {
                        // (x − min) / range × 255 in MATLAB's order, so ties round
                        // alike; halves away from zero, as its int16() does.
                        let la = rangeA == 0 ? 0 : Int(((a[i] - minA) / rangeA * 255).rounded())
                        let lb = rangeB == 0 ? 0 : Int(((b[i] - minB) / rangeB * 255).rounded())
                        j[la * 256 + lb] += 1
                        i += 1
                    }
                }
            }
        }
        for la in 0..<256 {
            for lb in 0..<256 {
                let count = joint[la * 256 + lb]
                ha[la] += count
                hb[lb] += count
            }
        }
        func entropy(_ counts: [Int]) -> Double {
            var sum = 0.0
            for count in counts where count > 0 {
                let p = Double(count) / Double(n)
                sum -= p * log(p)
            }
            return sum
        }
        return entropy(ha) + entropy(hb) - entropy(joint)
    }

    /// Minimum and range of a plane; a range of 0 means every level is 0.
    private static func stretch(_ plane: MetricPlane) -> (minimum: Double, range: Double) {
        let largest = plane.values.max() ?? 0, smallest = plane.values.min() ?? 0
        return (smallest, largest - smallest)
    }

    /// VIFB's `mse`: √(Σ(a − b)²) / N. (It is neither an MSE nor an RMSE;
    /// its Rmse and Psnr are built on it, so it is kept as is.)
    static func vifbError(_ first: MetricPlane, _ second: MetricPlane) -> Double {
        first.values.withUnsafeBufferPointer { aBuffer in
            second.values.withUnsafeBufferPointer { bBuffer in
                let a = aBuffer.baseAddress!, b = bBuffer.baseAddress!, n = aBuffer.count
                var sum = 0.0, i = 0
                while i < n { let d = a[i] - b[i]; sum += d * d; i += 1 }
                return sum.squareRoot() / Double(n)
            }
        }
    }

    /// Mean SSIM (Wang et al. 2004): 11 × 11 Gaussian window, σ = 1.5,
    /// K = (0.01, 0.03), L = 255, over the 'valid' region.
    static func ssim(_ a: MetricPlane, _ b: MetricPlane) -> Double {
        let taps = MetricFilters.gaussianTaps(size: 11, sigma: 1.5)
        let c1: Double = (0.01 * 255) * (0.01 * 255), c2: Double = (0.03 * 255) * (0.03 * 255)
        let products = pointwise(a, b) { x, y in x * y }
        let muA = MetricFilters.separable(a, taps: taps, valid: true)
        let muB = MetricFilters.separable(b, taps: taps, valid: true)
        let aa = MetricFilters.separable(pointwise(a, a) { x, y in x * y }, taps: taps, valid: true)
        let bb = MetricFilters.separable(pointwise(b, b) { x, y in x * y }, taps: taps, valid: true)
        let ab = MetricFilters.separable(products, taps: taps, valid: true)
        let count = muA.count
        guard count > 0 else { return .nan }
        var sum = 0.0
        muA.values.withUnsafeBufferPointer { p1 in muB.values.withUnsafeBufferPointer { p2 in
            aa.values.withUnsafeBufferPointer { p3 in bb.values.withUnsafeBufferPointer { p4 in
                ab.values.withUnsafeBufferPointer { p5 in
                    let ma = p1.baseAddress!, mb = p2.baseAddress!, saa = p3.baseAddress!
                    let sbb = p4.baseAddress!, sab = p5.baseAddress!
                    var i = 0
                    while i < count {
                        let varianceA = saa[i] - ma[i] * ma[i], varianceB = sbb[i] - mb[i] * mb[i]
                        let covariance = sab[i] - ma[i] * mb[i]
                        sum += ((2 * ma[i] * mb[i] + c1) * (2 * covariance + c2))
                            / ((ma[i] * ma[i] + mb[i] * mb[i] + c1) * (varianceA + varianceB + c2))
                        i += 1
                    }
                }
            } }
        } }
        return sum / Double(count)
    }

    private static func pointwise(_ a: MetricPlane, _ b: MetricPlane, _ combine: (Double, Double) -> Double) -> MetricPlane {
        var values = [Double](repeating: 0, count: a.count)
        a.values.withUnsafeBufferPointer { aBuffer in
            b.values.withUnsafeBufferPointer { bBuffer in
                values.withUnsafeMutableBufferPointer { outBuffer in
                    let x = aBuffer.baseAddress!, y = bBuffer.baseAddress!, out = outBuffer.baseAddress!
                    var i = 0
                    while i < outBuffer.count { out[i] = combine(x[i], y[i]); i += 1 }
                }
            }
        }
        return MetricPlane(width: a.width, height: a.height, values: values)
    }

    /// Xydeas & Petrović's Q^AB/F with VIFB's constants and quirks: Sobel
    /// responses by `conv2`, orientation atan(gy/gx) (π/2 where gx = 0), and
    /// a strength ratio that is the fused strength itself — in VIFB's
    /// 255-times scaled units — where the two strengths are equal.
    static func qabf(_ a: MetricPlane, _ b: MetricPlane, _ fused: MetricPlane) -> Double {
        let h1: [Double] = [1, 2, 1, 0, 0, 0, -1, -2, -1]
        let h3: [Double] = [-1, 0, 1, -2, 0, 2, -1, 0, 1]
        let ax = MetricFilters.convolve3x3(a, kernel: h3), ay = MetricFilters.convolve3x3(a, kernel: h1)
        let bx = MetricFilters.convolve3x3(b, kernel: h3), by = MetricFilters.convolve3x3(b, kernel: h1)
        let fx = MetricFilters.convolve3x3(fused, kernel: h3), fy = MetricFilters.convolve3x3(fused, kernel: h1)
        var numerator = 0.0, denominator = 0.0
        ax.values.withUnsafeBufferPointer { p1 in ay.values.withUnsafeBufferPointer { p2 in
            bx.values.withUnsafeBufferPointer { p3 in by.values.withUnsafeBufferPointer { p4 in
                fx.values.withUnsafeBufferPointer { p5 in fy.values.withUnsafeBufferPointer { p6 in
                    let sax = p1.baseAddress!, say = p2.baseAddress!, sbx = p3.baseAddress!
                    let sby = p4.baseAddress!, sfx = p5.baseAddress!, sfy = p6.baseAddress!
                    let n = p1.count
                    var i = 0
                    while i < n {
                        let gA = (sax[i] * sax[i] + say[i] * say[i]).squareRoot()
                        let gB = (sbx[i] * sbx[i] + sby[i] * sby[i]).squareRoot()
                        let gF = (sfx[i] * sfx[i] + sfy[i] * sfy[i]).squareRoot()
                        let angleF = orientation(sfx[i], sfy[i])
                        numerator += edgePreservation(gA, orientation(sax[i], say[i]), gF, angleF) * gA
                            + edgePreservation(gB, orientation(sbx[i], sby[i]), gF, angleF) * gB
                        denominator += gA + gB
                        i += 1
                    }
                } }
            } }
        } }
        return numerator / denominator
    }

    @inline(__always)
    private static func orientation(_ x: Double, _ y: Double) -> Double {
        x == 0 ? .pi / 2 : atan(y / x)
    }

    /// Q^AF at one pixel: sigmoids of relative strength and orientation.
    @inline(__always)
    private static func edgePreservation(_ gS: Double, _ aS: Double, _ gF: Double, _ aF: Double) -> Double {
        let ratio: Double
        if gS > gF { ratio = gF / gS } else if gS == gF { ratio = gF * 255 } else { ratio = gS / gF }
        let alignment = 1 - abs(aS - aF) / (.pi / 2)
        let strength = 0.9994 / (1 + exp(-15 * (ratio - 0.5)))
        let direction = 0.9879 / (1 + exp(-22 * (alignment - 0.8)))
        return strength * direction
    }

    /// Chen & Blum's metric (Z. Liu's implementation as VIFB uses it):
    /// contrast-sensitivity filtering in the frequency domain, local band
    /// contrast from Gaussians of σ 2 and 4, contrast preservation weighted
    /// by each source's contrast saliency.
    static func qcb(_ a: MetricPlane, _ b: MetricPlane, _ fused: MetricPlane) -> Double {
        let w = a.width, h = a.height, n = w * h
        let f0 = 15.3870, f1 = 1.3456, dogWeight = 0.7622
        // freqspace scaled by lie/30 and hang/30: signed index × (2/n) × (n/30).
        let filter = FourierFilter(width: w, height: h) { row, column in
            let u = Double(column) / 15, v = Double(row) / 15
            let r2 = u * u + v * v
            return exp(-r2 / (f0 * f0)) - dogWeight * exp(-r2 / (f1 * f1))
        }
        // The 31 × 31 Gaussians are unnormalised: g(x) g(y) / (2πσ²).
        let taps2 = gaussianProfile(sigma: 2), taps4 = gaussianProfile(sigma: 4)
        let norm2 = 1 / (2 * Double.pi * 4), norm4 = 1 / (2 * Double.pi * 16)
        func contrastResponse(_ image: MetricPlane) -> [Double] {
            let filtered = MetricPlane(width: w, height: h, values: filter.apply(image.normalisedTo255().values))
            let narrow = MetricFilters.separable(filtered, taps: taps2, valid: false)
            let wide = MetricFilters.separable(filtered, taps: taps4, valid: false)
            return pointwise(narrow, wide) { x, y in
                let c = abs((x * norm2) / (y * norm4) - 1)
                return c * c * c / (c * c + 0.0001)
            }.values
        }
        let c1 = contrastResponse(a), c2 = contrastResponse(b), cf = contrastResponse(fused)
        var sum = 0.0
        c1.withUnsafeBufferPointer { p1 in c2.withUnsafeBufferPointer { p2 in cf.withUnsafeBufferPointer { p3 in
            let x1 = p1.baseAddress!, x2 = p2.baseAddress!, xf = p3.baseAddress!
            var i = 0
            while i < n {
                let q1 = x1[i] < xf[i] ? x1[i] / xf[i] : xf[i] / x1[i]
                let q2 = x2[i] < xf[i] ? x2[i] / xf[i] : xf[i] / x2[i]
                let s1 = x1[i] * x1[i], s2 = x2[i] * x2[i]
                sum += (s1 * q1 + s2 * q2) / (s1 + s2)
                i += 1
            }
        } } }
        return sum / Double(n)
    }

    /// exp(−x²/2σ²) for x = −15…15: one factor of `gaussian2d`'s kernel.
    private static func gaussianProfile(sigma: Double) -> [Double] {
        (-15...15).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
    }

    /// Chen & Varshney's metric (Z. Liu's implementation as VIFB uses it):
    /// the difference of each source from the fused image, filtered by the
    /// Mannos–Sakrison contrast sensitivity function, averaged as energy
    /// over 16 × 16 blocks and weighted by each source's block edge
    /// saliency Σ|∇|⁵.
    static func qcv(_ a: MetricPlane, _ b: MetricPlane, _ fused: MetricPlane) -> Double {
        let w = a.width, h = a.height, block = 16
        let im1 = a.normalisedTo255(), im2 = b.normalisedTo255(), f = fused.normalisedTo255()
        func saliency(_ p: MetricPlane) -> [Double] {
            let gx = MetricFilters.correlate3x3(p, kernel: [-1, 0, 1, -2, 0, 2, -1, 0, 1], border: .zero)
            let gy = MetricFilters.correlate3x3(p, kernel: [-1, -2, -1, 0, 0, 0, 1, 2, 1], border: .zero)
            let magnitude = pointwise(gx, gy) { x, y in (x * x + y * y).squareRoot() }
            return MetricFilters.blockPowerSums(magnitude, size: block, exponent: 5)
        }
        let ramda1 = saliency(im1), ramda2 = saliency(im2)
        // freqspace scaled by lie/8 and hang/8: signed index × (2/n) × (n/8).
        let filter = FourierFilter(width: w, height: h) { row, column in
            let u = Double(column) / 4, v = Double(row) / 4
            let r = (u * u + v * v).squareRoot()
            return 2.6 * (0.0192 + 0.144 * r) * exp(-pow(0.144 * r, 1.1))
        }
        func distortion(_ source: MetricPlane) -> [Double] {
            let difference = pointwise(source, f) { x, y in x - y }
            let filtered = MetricPlane(width: w, height: h, values: filter.apply(difference.values))
            // Mean over the zero-padded block: always divide by 16 × 16.
            return MetricFilters.blockPowerSums(filtered, size: block, exponent: 2).map { $0 / Double(block * block) }
        }
        let d1 = distortion(im1), d2 = distortion(im2)
        var numerator = 0.0, denominator = 0.0
        for i in 0..<ramda1.count {
            numerator += ramda1[i] * d1[i] + ramda2[i] * d2[i]
            denominator += ramda1[i] + ramda2[i]
        }
        return numerator / denominator
    }
}
