/// A planar I420 frame (yuv420p): full-resolution luma and two chroma
/// planes of ⌈width/2⌉ × ⌈height/2⌉, BT.601 limited range (Y 16–235,
/// Cb/Cr 16–240), which is what libx264 expects for yuv420p input.
///
/// Planes are packed without row padding. Odd widths and heights are
/// allowed: the last chroma column or row then covers one pixel column or
/// row instead of two.
package struct YUV420Image: Sendable, Equatable {
    package let width: Int
    package let height: Int
    /// Y, `width × height` samples.
    package var luma: [UInt8]
    /// Cb (U), `chromaWidth × chromaHeight` samples.
    package var chromaBlue: [UInt8]
    /// Cr (V), `chromaWidth × chromaHeight` samples.
    package var chromaRed: [UInt8]

    package var chromaWidth: Int { (width + 1) / 2 }
    package var chromaHeight: Int { (height + 1) / 2 }
    package var pixelCount: Int { width * height }

    /// A black frame (Y 16, Cb and Cr 128).
    package init(width: Int, height: Int) {
        precondition(width >= 0 && height >= 0, "YUV image dimensions must not be negative, got \(width)×\(height)")
        self.width = width
        self.height = height
        let chromaCount = ((width + 1) / 2) * ((height + 1) / 2)
        luma = [UInt8](repeating: 16, count: width * height)
        chromaBlue = [UInt8](repeating: 128, count: chromaCount)
        chromaRed = [UInt8](repeating: 128, count: chromaCount)
    }

    /// Wraps existing planes, which must have the sizes the dimensions imply.
    package init(width: Int, height: Int, luma: [UInt8], chromaBlue: [UInt8], chromaRed: [UInt8]) {
        precondition(width >= 0 && height >= 0, "YUV image dimensions must not be negative, got \(width)×\(height)")
        let chromaCount = ((width + 1) / 2) * ((height + 1) / 2)
        precondition(luma.count == width * height,
                     "a \(width)×\(height) luma plane needs \(width * height) samples, got \(luma.count)")
        precondition(chromaBlue.count == chromaCount && chromaRed.count == chromaCount,
                     "\(width)×\(height) chroma planes need \(chromaCount) samples each, got \(chromaBlue.count) and \(chromaRed.count)")
        self.width = width
        self.height = height
        self.luma = luma
        self.chromaBlue = chromaBlue
        self.chromaRed = chromaRed
    }

    /// Converts interleaved RGB (BT.601 limited range); each chroma sample is
    /// the rounded mean of its 2×2 block's chroma.
    package init(rgb: RGBImage) {
        self.init(width: rgb.width, height: rgb.height)
        update(fromRGB: rgb)
    }

    /// Overwrites this frame with `rgb`, reallocating planes only when the
    /// size differs.
    package mutating func update(fromRGB rgb: RGBImage) {
        precondition(rgb.channels == 3, "RGB to YUV needs 3 interleaved channels, got \(rgb.channels)")
        if width != rgb.width || height != rgb.height {
            self = YUV420Image(width: rgb.width, height: rgb.height)
        }
        let width = self.width, height = self.height, chromaWidth = self.chromaWidth
        rgb.samples.withUnsafeBufferPointer { source in
            luma.withUnsafeMutableBufferPointer { lumaPlane in
                for index in 0..<(width * height) {
                    let offset = index * 3
                    lumaPlane[index] = BT601.luma(source[offset], source[offset + 1], source[offset + 2])
                }
            }
            chromaBlue.withUnsafeMutableBufferPointer { bluePlane in
                chromaRed.withUnsafeMutableBufferPointer { redPlane in
                    for chromaY in 0..<((height + 1) / 2) {
                        let rows = min(2, height - 2 * chromaY)
                        for chromaX in 0..<chromaWidth {
                            let columns = min(2, width - 2 * chromaX)
                            var blueSum = 0, redSum = 0
                            var rowStart = (2 * chromaY * width + 2 * chromaX) &* 3
                            for _ in 0..<rows {
                                var offset = rowStart
                                for _ in 0..<columns {
                                    let red = Int(source[offset]), green = Int(source[offset &+ 1]), blue = Int(source[offset &+ 2])
                                    blueSum &+= BT601.blueDifference(red, green, blue)
                                    redSum &+= BT601.redDifference(red, green, blue)
                                    offset &+= 3
                                }
                                rowStart &+= width &* 3
                            }
                            let index = chromaY &* chromaWidth &+ chromaX
                            let samples = rows &* columns
                            if samples == 4 {
                                bluePlane[index] = BT601.chroma(fromScaledSumOfFour: blueSum)
                                redPlane[index] = BT601.chroma(fromScaledSumOfFour: redSum)
                            } else {
                                bluePlane[index] = BT601.chroma(fromScaledSum: blueSum, samples: samples)
                                redPlane[index] = BT601.chroma(fromScaledSum: redSum, samples: samples)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Converts back to interleaved RGB (BT.601 limited range), each chroma
    /// sample shared by its 2×2 block.
    package func rgb() -> RGBImage {
        var output = RGBImage(width: width, height: height, channels: 3, repeating: 0)
        rgb(into: &output)
        return output
    }

    /// Converts into `output`, reallocating it only when its shape differs.
    package func rgb(into output: inout RGBImage) {
        if output.width != width || output.height != height || output.channels != 3 {
            output = RGBImage(width: width, height: height, channels: 3, repeating: 0)
        }
        let width = self.width, height = self.height, chromaWidth = self.chromaWidth
        luma.withUnsafeBufferPointer { lumaPlane in
            chromaBlue.withUnsafeBufferPointer { bluePlane in
                chromaRed.withUnsafeBufferPointer { redPlane in
                    output.samples.withUnsafeMutableBufferPointer { destination in
                        for y in 0..<height {
                            let chromaRow = (y / 2) * chromaWidth
                            for x in 0..<width {
                                let index = y * width + x
                                let chromaIndex = chromaRow + x / 2
                                BT601.rgb(
                                    luma: lumaPlane[index], blue: bluePlane[chromaIndex], red: redPlane[chromaIndex],
                                    into: destination, at: index * 3
                                )
                            }
                        }
                    }
                }
            }
        }
    }
}

/// BT.601 limited-range conversion in 16.16 fixed point.
///
/// Y  = 16  + 219/255 · ( 0.299 R + 0.587 G + 0.114 B)
/// Cb = 128 + 224/255 · (−0.168736 R − 0.331264 G + 0.5 B)
/// Cr = 128 + 224/255 · ( 0.5 R − 0.418688 G − 0.081312 B)
enum BT601 {
    // The constants are round(coefficient × 2^16), written out so the hot
    // loops need no lazy-global checks; see the formulas above and the
    // inverse: R = 255/219·(Y−16) + 255/224·1.402·(Cr−128),
    // G = 255/219·(Y−16) − 255/224·(0.344136·(Cb−128) + 0.714136·(Cr−128)),
    // B = 255/219·(Y−16) + 255/224·1.772·(Cb−128).
    private static let one = 1 << 16

    private static let lumaRed = 16829
    private static let lumaGreen = 33039
    private static let lumaBlue = 6416

    // Each chroma row sums to exactly zero so grey gets exactly 128.
    private static let blueFromRed = -9714
    private static let blueFromGreen = -19070
    private static let blueFromBlue = 28784
    private static let redFromRed = 28784
    private static let redFromGreen = -24103
    private static let redFromBlue = -4681

    private static let rgbPerLuma = 76309
    private static let redPerRedDifference = 104597
    private static let greenPerBlueDifference = 25675
    private static let greenPerRedDifference = 53279
    private static let bluePerBlueDifference = 132201

    @inline(__always)
    static func luma(_ red: UInt8, _ green: UInt8, _ blue: UInt8) -> UInt8 {
        let scaled = lumaRed * Int(red) + lumaGreen * Int(green) + lumaBlue * Int(blue)
        return UInt8((scaled + (16 << 16) + (one >> 1)) >> 16)
    }

    /// Cb − 128 scaled by 2^16, unrounded, so block means round only once.
    @inline(__always)
    static func blueDifference(_ red: Int, _ green: Int, _ blue: Int) -> Int {
        blueFromRed * red + blueFromGreen * green + blueFromBlue * blue
    }

    /// Cr − 128 scaled by 2^16, unrounded.
    @inline(__always)
    static func redDifference(_ red: Int, _ green: Int, _ blue: Int) -> Int {
        redFromRed * red + redFromGreen * green + redFromBlue * blue
    }

    /// The rounded mean of `samples` scaled differences as a chroma sample.
    @inline(__always)
    static func chroma(fromScaledSum sum: Int, samples: Int) -> UInt8 {
        // Adding the 128 offset first keeps the numerator positive, so
        // integer division rounds half up like the luma path.
        let numerator = sum + samples * (128 << 16) + samples * (one >> 1)
        return UInt8(clamping: numerator / (samples << 16))
    }

    /// `chroma(fromScaledSum:samples: 4)` with a shift for the common case.
    @inline(__always)
    static func chroma(fromScaledSumOfFour sum: Int) -> UInt8 {
        UInt8(clamping: (sum &+ (4 * 128 << 16) &+ (2 << 16)) >> 18)
    }

    @inline(__always)
    static func rgb(luma: UInt8, blue: UInt8, red: UInt8, into destination: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        let scaledLuma = rgbPerLuma * (Int(luma) - 16) + (one >> 1)
        let blueDifference = Int(blue) - 128
        let redDifference = Int(red) - 128
        destination[offset] = clampToByte((scaledLuma + redPerRedDifference * redDifference) >> 16)
        destination[offset + 1] = clampToByte(
            (scaledLuma - greenPerBlueDifference * blueDifference - greenPerRedDifference * redDifference) >> 16)
        destination[offset + 2] = clampToByte((scaledLuma + bluePerBlueDifference * blueDifference) >> 16)
    }

    @inline(__always)
    private static func clampToByte(_ value: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: min(255, max(0, value)))
    }
}
