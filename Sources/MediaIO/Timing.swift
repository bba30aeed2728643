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

/// A thermal frame's samples as the source delivered them.
package enum ThermalSamples: Sendable, Equatable {
    /// 8-bit grey (an MP4, a JPEG, a GREY or YUYV camera): kept as bytes all the way to the palette.
    case eightBit(Gray8Image)
    /// Counts deeper than 8 bits (or 8 bits a caller stored as 16), `significantBits` of them used.
    case sixteenBit(Gray16Image)
}

/// One decoded thermal frame: its samples plus when it is shown.
package struct ThermalFrame: Sendable {
    package var samples: ThermalSamples
    /// How many bits of each sample carry data (8 for `.eightBit`).
    package var significantBits: Int
    /// Presentation time in `timeBase` units.
    package var pts: Int64
    /// How long the frame is shown, in `timeBase` units (0 when unknown).
    package var duration: Int64
    package var timeBase: Rational
    /// Position in decode order, from 0.
    package var index: Int

    package init(image: Gray16Image, significantBits: Int, pts: Int64, duration: Int64, timeBase: Rational, index: Int) {
        samples = .sixteenBit(image)
        self.significantBits = significantBits
        self.pts = pts
        self.duration = duration
        self.timeBase = timeBase
        self.index = index
    }

    /// An 8-bit frame, which no stage widens.
    package init(eightBit image: Gray8Image, pts: Int64, duration: Int64, timeBase: Rational, index: Int) {
        self.init(samples: .eightBit(image), significantBits: 8, pts: pts, duration: duration, timeBase: timeBase, index: index)
    }

    package init(samples: ThermalSamples, significantBits: Int, pts: Int64, duration: Int64, timeBase: Rational, index: Int) {
        self.samples = samples
        self.significantBits = significantBits
        self.pts = pts
        self.duration = duration
        self.timeBase = timeBase
        self.index = index
    }

    package var seconds: Double { Double(pts) * timeBase.doubleValue }

    package var width: Int {
        switch samples {
        case .eightBit(let image): image.width
        case .sixteenBit(let image): image.width
        }
    }

    package var height: Int {
        switch samples {
        case .eightBit(let image): image.height
        case .sixteenBit(let image): image.height
        }
    }

    /// The samples as 16-bit counts, 8-bit frames widened (for code that wants one depth, such as probing).
    package var image: Gray16Image {
        switch samples {
        case .eightBit(let image): Gray16Image(width: image.width, height: image.height, samples: image.samples.map(UInt16.init))
        case .sixteenBit(let image): image
        }
    }
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
