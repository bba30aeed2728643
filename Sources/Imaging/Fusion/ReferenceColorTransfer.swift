import Foundation

/// Why a colour reference could not be used.
package enum ColorTransferError: Error, CustomStringConvertible, Equatable {
    case empty
    case invalidRegionCount(Int)

    package var description: String {
        switch self {
        case .empty:
            return "colour reference image is empty"
        case let .invalidRegionCount(count):
            return "colour transfer needs 1 to 16 luminance regions, got \(count)"
        }
    }
}

/// Colours grey thermal frames like a reference photograph, by matching
/// CIE Lab statistics (Reinhard et al., "Color transfer between images",
/// 2001, adapted to a grey target as in Welsh et al. 2002).
///
/// With one region the transfer is global: the thermal lightness is
/// shifted and scaled to the reference's L mean and standard deviation, and
/// a/b take the reference mean plus the part of their spread that goes with
/// lightness (their regression on L). With N regions both images are cut at
/// their L quantiles into N bands (shadows … highlights), each band of the
/// frame gets the statistics of the matching reference band, and the
/// results are blended linearly between band centres so no seam shows.
///
/// Every output colour depends only on the pixel's grey level and the
/// frame's histogram, so each frame costs one histogram, a 256-entry
/// lookup table and one table lookup per pixel.
package struct ReferenceColorTransfer: Sendable {
    /// Lab statistics of one luminance band of the reference.
    struct BandStatistics: Sendable {
        var meanL: Float, deviationL: Float
        var meanA: Float, meanB: Float
        /// Regression slopes of a and b on L, in a (or b) units per L unit.
        var slopeA: Float, slopeB: Float
    }

    /// Number of luminance regions (1 = global transfer).
    package let regions: Int
    let bands: [BandStatistics]

    /// Lab lightness of every sRGB grey level.
    static let lightnessOfGrey: [Float] = (0..<256).map {
        ColorConversion.lab(red: UInt8($0), green: UInt8($0), blue: UInt8($0)).x
    }

    /// Measures `reference`; `regions` is 1 for a global transfer or up to 16
    /// luminance bands.
    package init(reference: RGBImage, regions: Int = 3) throws {
        guard reference.pixelCount > 0 else { throw ColorTransferError.empty }
        guard (1...16).contains(regions) else { throw ColorTransferError.invalidRegionCount(regions) }
        self.regions = regions
        let lab = ColorConversion.labPlanes(of: reference)
        let n = reference.pixelCount

        // Band limits at the L quantiles, from a fine histogram of L.
        let binCount = 4096
        var histogram = [Int](repeating: 0, count: binCount)
        for l in lab.l.samples { histogram[Self.bin(l, binCount)] += 1 }
        var limits = [Int](repeating: binCount, count: regions)   // first bin of the next band
        var cumulative = 0, band = 0
        for bin in 0..<binCount {
            cumulative += histogram[bin]
            while band < regions - 1 && cumulative * regions >= n * (band + 1) {
                limits[band] = bin + 1
                band += 1
            }
        }

        var sums = [[Double]](repeating: [Double](repeating: 0, count: 8), count: regions)
        var bandOfBin = [Int](repeating: 0, count: binCount)
        var current = 0
        for bin in 0..<binCount {
            while current < regions - 1 && bin >= limits[current] { current += 1 }
            bandOfBin[bin] = current
        }
        for i in 0..<n {
            let l = Double(lab.l.samples[i]), a = Double(lab.a.samples[i]), b = Double(lab.b.samples[i])
            let k = bandOfBin[Self.bin(lab.l.samples[i], binCount)]
            sums[k][0] += 1; sums[k][1] += l; sums[k][2] += l * l
            sums[k][3] += a; sums[k][4] += b; sums[k][5] += l * a; sums[k][6] += l * b
        }
        // A band can be empty when many pixels share one L; it borrows the
        // global statistics so blending still has values to work with.
        let total = sums.reduce(into: [Double](repeating: 0, count: 8)) { acc, s in
            for j in 0..<8 { acc[j] += s[j] }
        }
        bands = sums.map { s in
            let t = s[0] > 0 ? s : total
            let count = t[0]
            let meanL = t[1] / count, meanA = t[3] / count, meanB = t[4] / count
            let varianceL = max(t[2] / count - meanL * meanL, 0)
            let covarianceA = t[5] / count - meanL * meanA, covarianceB = t[6] / count - meanL * meanB
            let slope = { (covariance: Double) in varianceL > 1e-6 ? covariance / varianceL : 0 }
            return BandStatistics(meanL: Float(meanL), deviationL: Float(varianceL.squareRoot()),
                                  meanA: Float(meanA), meanB: Float(meanB),
                                  slopeA: Float(slope(covarianceA)), slopeB: Float(slope(covarianceB)))
        }
    }

    private static func bin(_ lightness: Float, _ count: Int) -> Int {
        min(count - 1, max(0, Int(lightness / 100 * Float(count))))
    }

    /// The colourised frame. A frame with three or more channels is first
    /// reduced to its BT.601 luma; otherwise its first channel is used.
    package func colorize(_ thermal: Gray8Image) -> RGBImage {
        var output = RGBImage(width: thermal.width, height: thermal.height, channels: 3, repeating: 0)
        colorize(thermal, into: &output)
        return output
    }

    /// Like ``colorize(_:)`` but reuses `output`'s storage when its size fits.
    package func colorize(_ thermal: Gray8Image, into output: inout RGBImage) {
        let grey = thermal.channels == 1 ? thermal : Self.greyLevels(of: thermal)
        if output.width != grey.width || output.height != grey.height || output.channels != 3 {
            output = RGBImage(width: grey.width, height: grey.height, channels: 3, repeating: 0)
        }
        let table = lookupTable(for: grey)
        let n = grey.pixelCount
        table.withUnsafeBufferPointer { lut in
            grey.samples.withUnsafeBufferPointer { source in
                output.samples.withUnsafeMutableBufferPointer { destination in
                    let src = source.baseAddress!, dst = destination.baseAddress!, lutBase = lut.baseAddress!
                    RowBands.run(rows: grey.height, samplesPerRow: grey.width * 3) { rows in
                        let start = rows.lowerBound * grey.width, end = min(n, rows.upperBound * grey.width)
                        for i in start..<end {
                            let entry = lutBase + 3 * Int(src[i])
                            dst[3 * i] = entry[0]; dst[3 * i + 1] = entry[1]; dst[3 * i + 2] = entry[2]
                        }
                    }
                }
            }
        }
    }

    /// RGB (3 × 256 bytes) for each grey level of `thermal`, fitted to that
    /// frame's histogram.
    package func lookupTable(for thermal: Gray8Image) -> [UInt8] {
        var histogram = [Double](repeating: 0, count: 256)
        thermal.samples.withUnsafeBufferPointer { samples in
            var counts = [Int](repeating: 0, count: 256)
            let step = max(1, thermal.channels)
            var i = 0
            while i < samples.count { counts[Int(samples[i])] += 1; i += step }
            for level in 0..<256 { histogram[level] = Double(counts[level]) }
        }
        let total = histogram.reduce(0, +)
        var table = [UInt8](repeating: 0, count: 768)
        guard total > 0 else { return table }
        let lightness = Self.lightnessOfGrey

        // Mid-rank of each grey level in the frame, 0–1.
        var rank = [Double](repeating: 0, count: 256)
        var below = 0.0
        for level in 0..<256 {
            rank[level] = (below + histogram[level] / 2) / total
            below += histogram[level]
        }
        // The frame's own band statistics, each level in the band of its rank.
        let k = regions
        var sums = [[Double]](repeating: [0, 0, 0], count: k)
        for level in 0..<256 where histogram[level] > 0 {
            let band = min(k - 1, Int(rank[level] * Double(k)))
            let l = Double(lightness[level])
            sums[band][0] += histogram[level]; sums[band][1] += histogram[level] * l; sums[band][2] += histogram[level] * l * l
        }
        let globalMean = (0..<256).reduce(0.0) { $0 + histogram[$1] * Double(lightness[$1]) } / total
        let frameBands: [(mean: Float, deviation: Float)] = sums.map { s in
            guard s[0] > 0 else { return (Float(globalMean), 0) }
            let mean = s[1] / s[0]
            return (Float(mean), Float(max(s[2] / s[0] - mean * mean, 0).squareRoot()))
        }

        for level in 0..<256 {
            // Linear blend between the two nearest band centres (k + ½)/N.
            let position = rank[level] * Double(k) - 0.5
            let lower = min(k - 1, max(0, Int(position.rounded(.down))))
            let upper = min(k - 1, lower + 1)
            let t = Float(min(1, max(0, position - Double(lower))))
            let first = mapped(lightness[level], band: lower, frame: frameBands[lower])
            let second = mapped(lightness[level], band: upper, frame: frameBands[upper])
            let lab = first + t * (second - first)
            let rgb = ColorConversion.rgb(lab: SIMD3(min(100, max(0, lab.x)), lab.y, lab.z))
            table[3 * level] = ColorConversion.clampToByte(rgb.x)
            table[3 * level + 1] = ColorConversion.clampToByte(rgb.y)
            table[3 * level + 2] = ColorConversion.clampToByte(rgb.z)
        }
        return table
    }

    /// Reinhard's transfer of one lightness value into reference band `band`.
    private func mapped(_ lightness: Float, band: Int, frame: (mean: Float, deviation: Float)) -> SIMD3<Float> {
        let reference = bands[band]
        // A flat frame band has no spread to scale; keep its offsets as they are.
        let gain = frame.deviation > 0.5 ? reference.deviationL / frame.deviation : 1
        let offset = (lightness - frame.mean) * gain
        return SIMD3(reference.meanL + offset,
                     reference.meanA + reference.slopeA * offset,
                     reference.meanB + reference.slopeB * offset)
    }

    private static func greyLevels(of image: Raster<UInt8>) -> Gray8Image {
        let c = image.channels
        var grey = [UInt8](repeating: 0, count: image.pixelCount)
        for i in 0..<image.pixelCount {
            if c >= 3 {
                let luma = ColorConversion.luma(red: Float(image.samples[c * i]), green: Float(image.samples[c * i + 1]),
                                                blue: Float(image.samples[c * i + 2]))
                grey[i] = ColorConversion.clampToByte(luma)
            } else {
                grey[i] = image.samples[c * i]
            }
        }
        return Gray8Image(width: image.width, height: image.height, samples: grey)
    }
}
