internal import CFFmpeg
import Imaging

/// An exact fraction, as FFmpeg keeps time bases and frame rates.
package struct Rational: Sendable, Hashable, CustomStringConvertible {
    package var numerator: Int32
    package var denominator: Int32

    package init(_ numerator: Int32, _ denominator: Int32) {
        self.numerator = numerator
        self.denominator = denominator
    }

    init(_ value: AVRational) { self.init(value.num, value.den) }
    var av: AVRational { AVRational(num: numerator, den: denominator) }

    package var isValid: Bool { numerator > 0 && denominator > 0 }
    package var doubleValue: Double { Double(numerator) / Double(denominator) }
    package var inverted: Rational { Rational(denominator, numerator) }

    package var description: String { "\(numerator)/\(denominator)" }

    /// Converts `value` counted in `self` units into `target` units, rounding to nearest.
    package func rescale(_ value: Int64, to target: Rational) -> Int64 {
        av_rescale_q(value, av, target.av)
    }
}

/// One decoded thermal frame: 16-bit counts plus when it is shown.
package struct ThermalFrame: Sendable {
    /// The counts; 8-bit sources are widened, so `significantBits` says how many bits carry data.
    package var image: Gray16Image
    package var significantBits: Int
    /// Presentation time in `timeBase` units.
    package var pts: Int64
    /// How long the frame is shown, in `timeBase` units (0 when unknown).
    package var duration: Int64
    package var timeBase: Rational
    /// Position in decode order, from 0.
    package var index: Int

    package init(image: Gray16Image, significantBits: Int, pts: Int64, duration: Int64, timeBase: Rational, index: Int) {
        self.image = image
        self.significantBits = significantBits
        self.pts = pts
        self.duration = duration
        self.timeBase = timeBase
        self.index = index
    }

    package var seconds: Double { Double(pts) * timeBase.doubleValue }
}

/// One decoded colour frame (a visible camera, a reference image).
package struct ColorFrame: Sendable {
    package var image: RGBImage
    package var pts: Int64
    package var duration: Int64
    package var timeBase: Rational
    package var index: Int

    package var seconds: Double { Double(pts) * timeBase.doubleValue }
}
