internal import CFFmpeg
import Imaging

/// An exact fraction, as FFmpeg keeps time bases and frame rates.
public struct Rational: Sendable, Hashable, CustomStringConvertible {
    public var numerator: Int32
    public var denominator: Int32

    public init(_ numerator: Int32, _ denominator: Int32) {
        self.numerator = numerator
        self.denominator = denominator
    }

    init(_ value: AVRational) { self.init(value.num, value.den) }
    var av: AVRational { AVRational(num: numerator, den: denominator) }

    public var isValid: Bool { numerator > 0 && denominator > 0 }
    public var doubleValue: Double { Double(numerator) / Double(denominator) }
    public var inverted: Rational { Rational(denominator, numerator) }

    public var description: String { "\(numerator)/\(denominator)" }

    /// Converts `value` counted in `self` units into `target` units, rounding to nearest.
    public func rescale(_ value: Int64, to target: Rational) -> Int64 {
        av_rescale_q(value, av, target.av)
    }
}

/// One decoded thermal frame: 16-bit counts plus when it is shown.
public struct ThermalFrame: Sendable {
    /// The counts; 8-bit sources are widened, so `significantBits` says how many bits carry data.
    public var image: Gray16Image
    public var significantBits: Int
    /// Presentation time in `timeBase` units.
    public var pts: Int64
    /// How long the frame is shown, in `timeBase` units (0 when unknown).
    public var duration: Int64
    public var timeBase: Rational
    /// Position in decode order, from 0.
    public var index: Int

    public init(image: Gray16Image, significantBits: Int, pts: Int64, duration: Int64, timeBase: Rational, index: Int) {
        self.image = image
        self.significantBits = significantBits
        self.pts = pts
        self.duration = duration
        self.timeBase = timeBase
        self.index = index
    }

    public var seconds: Double { Double(pts) * timeBase.doubleValue }
}

/// One decoded colour frame (a visible camera, a reference image).
public struct ColorFrame: Sendable {
    public var image: RGBImage
    public var pts: Int64
    public var duration: Int64
    public var timeBase: Rational
    public var index: Int

    public var seconds: Double { Double(pts) * timeBase.doubleValue }
}
