/// The Y, Cb and Cr planes of a decoded JPEG picture, before chroma
/// upsampling and colour conversion.
///
/// Decoders differ in those last two steps: FFmpeg's RGB output repeats each
/// chroma sample, while libjpeg (and so MATLAB's `imread`, with which the
/// VIFB benchmark computed its reference metrics) interpolates. Gradient
/// metrics on images with strong colour edges move by up to 20 % between
/// the two, so ``libjpegRGB()`` redoes libjpeg's steps exactly on planes
/// from any decoder.
package struct JPEGPlanes: Sendable {
    package let width: Int
    package let height: Int
    /// Chroma plane size: the picture size for 4:4:4, half the width
    /// (rounded up) for 4:2:2, half of both for 4:2:0.
    package let chromaWidth: Int
    package let chromaHeight: Int
    /// Full-range samples, row by row without padding.
    package let luma: [UInt8]
    package let cb: [UInt8]
    package let cr: [UInt8]

    /// Planes as a decoder gives them; nil when the sizes do not fit
    /// together (chroma must be full size or half size, rounded up).
    package init?(width: Int, height: Int, chromaWidth: Int, chromaHeight: Int, luma: [UInt8], cb: [UInt8], cr: [UInt8]) {
        guard width > 0, height > 0,
              chromaWidth == width || chromaWidth == (width + 1) / 2,
              chromaHeight == height || chromaHeight == (height + 1) / 2,
              luma.count == width * height,
              cb.count == chromaWidth * chromaHeight, cr.count == cb.count
        else { return nil }
        self.width = width
        self.height = height
        self.chromaWidth = chromaWidth
        self.chromaHeight = chromaHeight
        self.luma = luma
        self.cb = cb
        self.cr = cr
    }

    /// RGB as libjpeg builds it with its default settings: "fancy"
    /// triangular upsampling of 4:2:0 (`h2v2_fancy_upsample`) and 4:2:2
    /// (`h2v1_fancy_upsample`) chroma, sample repetition for other layouts
    /// (4:4:0), then `jdcolor.c`'s fixed-point YCbCr → RGB.
    package func libjpegRGB() -> RGBImage {
        let upsampledCb = upsample(cb), upsampledCr = upsample(cr)
        // FIX(x) = round(x · 2¹⁶), as jdcolor.c builds its tables.
        func fix(_ x: Double) -> Int { Int(x * 65536 + 0.5) }
        let half = 1 << 15
        let redFromCr = fix(1.40200), greenFromCb = fix(0.34414), greenFromCr = fix(0.71414), blueFromCb = fix(1.77200)
        let count = width * height
        var rgb = [UInt8](repeating: 0, count: 3 * count)
        for i in 0..<count {
            let y = Int(luma[i]), u = upsampledCb[i] - 128, v = upsampledCr[i] - 128
            rgb[3 * i] = UInt8(clamping: y + ((redFromCr * v + half) >> 16))
            rgb[3 * i + 1] = UInt8(clamping: y + ((-greenFromCb * u - greenFromCr * v + half) >> 16))
            rgb[3 * i + 2] = UInt8(clamping: y + ((blueFromCb * u + half) >> 16))
        }
        return RGBImage(width: width, height: height, channels: 3, samples: rgb)
    }

    /// One chroma plane brought to the picture size.
    private func upsample(_ plane: [UInt8]) -> [Int] {
        let horizontal = chromaWidth != width, vertical = chromaHeight != height
        switch (horizontal, vertical) {
        case (false, false): return plane.map(Int.init)
        case (true, true): return fancyH2V2(plane)
        case (true, false): return fancyH2V1(plane)
        case (false, true): return replicated(plane)
        }
    }

    /// `h2v2_fancy_upsample`: each output sample is 9/16 of its own chroma
    /// sample, 3/16 of each of the nearer horizontal and vertical neighbours
    /// and 1/16 of the nearer diagonal one, with libjpeg's alternating
    /// rounding (+8 for even columns, +7 for odd). Edges repeat the outer
    /// row and column.
    private func fancyH2V2(_ plane: [UInt8]) -> [Int] {
        var out = [Int](repeating: 0, count: width * height)
        let cw = chromaWidth, ch = chromaHeight
        var column = [Int](repeating: 0, count: cw)
        for cy in 0..<ch {
            for v in 0..<2 where 2 * cy + v < height {
                // The vertical pass: own row × 3 + the nearer neighbour row.
                let neighbour = v == 0 ? max(cy - 1, 0) : min(cy + 1, ch - 1)
                for cx in 0..<cw {
                    column[cx] = Int(plane[cy * cw + cx]) * 3 + Int(plane[neighbour * cw + cx])
                }
                let row = (2 * cy + v) * width
                for cx in 0..<cw {
                    let this = column[cx]
                    let left = cx == 0 ? this : column[cx - 1]
                    let right = cx == cw - 1 ? this : column[cx + 1]
                    let even = (this * 3 + left + 8) >> 4, odd = (this * 3 + right + 7) >> 4
                    if 2 * cx < width { out[row + 2 * cx] = even }
                    if 2 * cx + 1 < width { out[row + 2 * cx + 1] = odd }
                }
            }
        }
        return out
    }

    /// `h2v1_fancy_upsample`: 3/4 of the own sample and 1/4 of the nearer
    /// horizontal neighbour, rounding +1 for even columns and +2 for odd.
    private func fancyH2V1(_ plane: [UInt8]) -> [Int] {
        var out = [Int](repeating: 0, count: width * height)
        let cw = chromaWidth
        for y in 0..<height {
            for cx in 0..<cw {
                let this = Int(plane[y * cw + cx]) * 3
                let left = Int(plane[y * cw + max(cx - 1, 0)]), right = Int(plane[y * cw + min(cx + 1, cw - 1)])
                // At the edges libjpeg copies the sample itself, which is what
                // the repeated neighbour gives: (3c + c + r) >> 2 == c.
                let even = (this + left + 1) >> 2, odd = (this + right + 2) >> 2
                if 2 * cx < width { out[y * width + 2 * cx] = even }
                if 2 * cx + 1 < width { out[y * width + 2 * cx + 1] = odd }
            }
        }
        return out
    }

    /// Plain repetition, libjpeg's `int_upsample` for layouts without a fancy path.
    private func replicated(_ plane: [UInt8]) -> [Int] {
        let xStep = chromaWidth != width ? 2 : 1
        let yStep = chromaHeight != height ? 2 : 1
        var out = [Int](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width { out[y * width + x] = Int(plane[(y / yStep) * chromaWidth + x / xStep]) }
        }
        return out
    }
}
