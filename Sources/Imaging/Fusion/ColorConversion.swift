import Foundation

/// Colour-space conversions used by fusion and colour transfer.
///
/// - YCbCr is ITU-R BT.601 full range (JPEG's): Y = 0.299 R + 0.587 G +
///   0.114 B on 0–255, Cb and Cr centred on 128. Fusion replaces Y and keeps
///   Cb/Cr, so it also works per pixel as "add ΔY to R, G and B".
/// - Lab is CIE L*a*b* of sRGB with the D65 white point: L on 0–100, a and b
///   roughly −128…127.
package enum ColorConversion {
    /// BT.601 full-range luma of an 8-bit RGB pixel, on 0–255.
    @inlinable
    package static func luma(red: Float, green: Float, blue: Float) -> Float {
        0.299 * red + 0.587 * green + 0.114 * blue
    }

    /// BT.601 full-range Y, Cb, Cr (each 0–255, chroma centred on 128).
    @inlinable
    package static func ycbcr(red: Float, green: Float, blue: Float) -> SIMD3<Float> {
        let y = luma(red: red, green: green, blue: blue)
        let cb = 128 - 0.168736 * red - 0.331264 * green + 0.5 * blue
        let cr = 128 + 0.5 * red - 0.418688 * green - 0.081312 * blue
        return SIMD3(y, cb, cr)
    }

    /// Inverse of ``ycbcr(red:green:blue:)``; the result is not clamped.
    @inlinable
    package static func rgb(y: Float, cb: Float, cr: Float) -> SIMD3<Float> {
        let u = cb - 128, v = cr - 128
        return SIMD3(y + 1.402 * v, y - 0.344136 * u - 0.714136 * v, y + 1.772 * u)
    }

    /// The Y, Cb and Cr planes of an RGB image as float images on 0–255.
    package static func ycbcrPlanes(of image: RGBImage) -> (y: FloatImage, cb: FloatImage, cr: FloatImage) {
        precondition(image.channels == 3, "YCbCr conversion needs a 3-channel RGB image, got \(image.channels) channels")
        let n = image.pixelCount
        var y = [Float](repeating: 0, count: n), cb = y, cr = y
        image.samples.withUnsafeBufferPointer { rgb in
            for i in 0..<n {
                let c = ycbcr(red: Float(rgb[3 * i]), green: Float(rgb[3 * i + 1]), blue: Float(rgb[3 * i + 2]))
                y[i] = c.x; cb[i] = c.y; cr[i] = c.z
            }
        }
        return (FloatImage(width: image.width, height: image.height, samples: y),
                FloatImage(width: image.width, height: image.height, samples: cb),
                FloatImage(width: image.width, height: image.height, samples: cr))
    }

    /// Recombines Y, Cb and Cr planes (0–255) into a rounded, clamped RGB image.
    package static func rgbImage(y: FloatImage, cb: FloatImage, cr: FloatImage) -> RGBImage {
        precondition(y.width == cb.width && y.width == cr.width && y.height == cb.height && y.height == cr.height,
                     "Y, Cb and Cr planes must have one size")
        var out = [UInt8](repeating: 0, count: y.pixelCount * 3)
        for i in 0..<y.pixelCount {
            let c = rgb(y: y.samples[i], cb: cb.samples[i], cr: cr.samples[i])
            out[3 * i] = clampToByte(c.x)
            out[3 * i + 1] = clampToByte(c.y)
            out[3 * i + 2] = clampToByte(c.z)
        }
        return RGBImage(width: y.width, height: y.height, channels: 3, samples: out)
    }

    // MARK: CIE Lab (sRGB, D65)

    /// sRGB byte → linear light, computed once.
    @usableFromInline
    static let linearFromByte: [Float] = (0..<256).map { value in
        let c = Double(value) / 255
        return Float(c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4))
    }

    @usableFromInline static let whiteX: Float = 0.950_47
    @usableFromInline static let whiteZ: Float = 1.088_83

    /// CIE L*a*b* of an 8-bit sRGB pixel.
    @inlinable
    package static func lab(red: UInt8, green: UInt8, blue: UInt8) -> SIMD3<Float> {
        linearFromByte.withUnsafeBufferPointer { table in
            labFromLinear(table[Int(red)], table[Int(green)], table[Int(blue)])
        }
    }

    @inlinable
    static func labFromLinear(_ r: Float, _ g: Float, _ b: Float) -> SIMD3<Float> {
        let x = (0.412_456_4 * r + 0.357_576_1 * g + 0.180_437_5 * b) / whiteX
        let y = 0.212_672_9 * r + 0.715_152_2 * g + 0.072_175_0 * b
        let z = (0.019_333_9 * r + 0.119_192_0 * g + 0.950_304_1 * b) / whiteZ
        let fx = labCompand(x), fy = labCompand(y), fz = labCompand(z)
        return SIMD3(116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz))
    }

    /// CIE's f(t): a cube root above (6/29)³, linear below.
    @inlinable
    static func labCompand(_ t: Float) -> Float {
        t > 0.008_856_452 ? fastCubeRoot(t) : t * 7.787_037 + 4.0 / 29.0
    }

    /// Cube root of a positive float to within a few ulps: a bit-level first
    /// guess refined by Newton steps, several times cheaper than `cbrt`.
    @inlinable
    static func fastCubeRoot(_ t: Float) -> Float {
        var guess = Float(bitPattern: t.bitPattern / 3 &+ 709_921_077)
        for _ in 0..<3 {
            guess = (2 * guess + t / (guess * guess)) * (1.0 / 3.0)
        }
        return guess
    }

    /// The sRGB colour of a Lab value as floats on 0–255 (clamped to the gamut).
    @inlinable
    package static func rgb(lab: SIMD3<Float>) -> SIMD3<Float> {
        let linear = linearRGB(lab: lab)
        return SIMD3(encodeSRGB(linear.x), encodeSRGB(linear.y), encodeSRGB(linear.z)) * 255
    }

    /// The linear-light sRGB of a Lab value, unclamped (out-of-gamut
    /// colours fall outside 0–1), for callers with their own encoding.
    @inlinable
    package static func linearRGB(lab: SIMD3<Float>) -> SIMD3<Float> {
        let fy = (lab.x + 16) / 116
        let fx = fy + lab.y / 500
        let fz = fy - lab.z / 200
        let x = whiteX * labExpand(fx), y = labExpand(fy), z = whiteZ * labExpand(fz)
        return SIMD3(3.240_454_2 * x - 1.537_138_5 * y - 0.498_531_4 * z,
                     -0.969_266_0 * x + 1.876_010_8 * y + 0.041_556_0 * z,
                     0.055_643_4 * x - 0.204_025_9 * y + 1.057_225_2 * z)
    }

    @inlinable
    static func labExpand(_ t: Float) -> Float {
        t > 6.0 / 29.0 ? t * t * t : (t - 4.0 / 29.0) / 7.787_037
    }

    @inlinable
    static func encodeSRGB(_ linear: Float) -> Float {
        let c = min(max(linear, 0), 1)
        return c <= 0.003_130_8 ? 12.92 * c : 1.055 * pow(c, 1 / 2.4) - 0.055
    }

    /// The L, a and b planes of an RGB image.
    package static func labPlanes(of image: RGBImage) -> (l: FloatImage, a: FloatImage, b: FloatImage) {
        precondition(image.channels == 3, "Lab conversion needs a 3-channel RGB image, got \(image.channels) channels")
        let n = image.pixelCount
        var l = [Float](repeating: 0, count: n), a = l, b = l
        image.samples.withUnsafeBufferPointer { rgb in
            linearFromByte.withUnsafeBufferPointer { table in
                for i in 0..<n {
                    let c = labFromLinear(table[Int(rgb[3 * i])], table[Int(rgb[3 * i + 1])], table[Int(rgb[3 * i + 2])])
                    l[i] = c.x; a[i] = c.y; b[i] = c.z
                }
            }
        }
        return (FloatImage(width: image.width, height: image.height, samples: l),
                FloatImage(width: image.width, height: image.height, samples: a),
                FloatImage(width: image.width, height: image.height, samples: b))
    }

    /// Rounds to the nearest byte, clamping to 0–255 (NaN becomes 0).
    @inlinable
    package static func clampToByte(_ value: Float) -> UInt8 {
        value >= 255 ? 255 : (value > 0 ? UInt8(value + 0.5) : 0)
    }
}
