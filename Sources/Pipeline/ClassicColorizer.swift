import Imaging
import MediaIO
import Synchronization

/// How the classic, training-free colouriser maps counts to colour.
package struct ClassicSettings: Sendable, Equatable {
    package var palette: Palette
    package var gainControl: GainControlMode
    /// Fraction of pixels ignored at each end by `linear` gain control.
    package var tailRejection: Double
    /// Plateau limit of `plateau` gain control, in multiples of the mean bin count.
    package var plateauLimit: Double
    /// Temporal smoothing of the gain between frames (0 = none, 0.9 = steady).
    package var smoothing: Double
    /// 8-bit input is shown as it is unless this stretches its contrast.
    package var stretchEightBit: Bool

    package init(palette: Palette = Palette.named("ironbow")!, gainControl: GainControlMode = .linear,
                tailRejection: Double = 0.01, plateauLimit: Double = 4, smoothing: Double = 0.9,
                stretchEightBit: Bool = false) {
        self.palette = palette
        self.gainControl = gainControl
        self.tailRejection = tailRejection
        self.plateauLimit = plateauLimit
        self.smoothing = smoothing
        self.stretchEightBit = stretchEightBit
    }
}

/// Automatic gain control plus a palette, straight to planar YUV for the encoder.
///
/// Settings can change while frames flow (`update`): the change applies at
/// the next batch, never in the middle of one.
package final class ClassicColorizer: FrameColorizer {
    package let maxBatchSize = 1
    private let pending: Mutex<ClassicSettings?>
    private var settings: ClassicSettings
    private var gainControl: AutomaticGainControl?
    private var gainControlBits = 0
    private var stretch: ContrastStretch?
    private var gray = Gray8Image(width: 0, height: 0, repeating: 0)
    private var stretched = Gray8Image(width: 0, height: 0, repeating: 0)

    package init(settings: ClassicSettings) throws {
        self.settings = settings
        pending = Mutex(nil)
        try validate(settings)
    }

    /// Applies new settings from the next batch on; callable from any thread.
    package func update(_ settings: ClassicSettings) throws {
        try validate(settings)
        pending.withLock { $0 = settings }
    }

    package var currentSettings: ClassicSettings {
        pending.withLock { $0 } ?? settings
    }

    package func colorize(_ frames: [ThermalFrame]) throws -> [EncoderPicture] {
        if let next = pending.withLock({ value -> ClassicSettings? in defer { value = nil }; return value }) {
            if next.gainControl != settings.gainControl || next.tailRejection != settings.tailRejection
                || next.plateauLimit != settings.plateauLimit || next.smoothing != settings.smoothing {
                gainControl = nil
            }
            if next.stretchEightBit != settings.stretchEightBit { stretch = nil }
            settings = next
        }
        return try frames.map { .yuv420(try colorizeOne($0)) }
    }

    /// One frame to 8-bit grey after gain control; also used by other stages
    /// (fusion, neural) that start from the same grey picture.
    package func grayLevels(of frame: ThermalFrame) throws -> Gray8Image {
        let image: Gray16Image
        switch frame.samples {
        case .eightBit(let bytes):
            // Already the levels the palette takes: no copy unless stretched.
            return try stretchedIfAsked(bytes)
        case .sixteenBit(let counts):
            image = counts
        }
        if gray.width != image.width || gray.height != image.height {
            gray = Gray8Image(width: image.width, height: image.height, repeating: 0)
        }
        if frame.significantBits > 8 {
            if gainControl == nil || gainControlBits != frame.significantBits {
                gainControl = try AutomaticGainControl(mode: settings.gainControl, significantBits: frame.significantBits,
                                                       tailRejection: settings.tailRejection,
                                                       plateauLimit: settings.plateauLimit, smoothing: settings.smoothing)
                gainControlBits = frame.significantBits
            }
            gainControl!.map(image, into: &gray)
            return gray
        }
        image.samples.withUnsafeBufferPointer { source in
            gray.samples.withUnsafeMutableBufferPointer { target in
                for index in 0..<source.count { target[index] = UInt8(truncatingIfNeeded: source[index]) }
            }
        }
        return try stretchedIfAsked(gray)
    }

    /// 8-bit levels as they are, or contrast-stretched with `--stretch`.
    private func stretchedIfAsked(_ gray: Gray8Image) throws -> Gray8Image {
        guard settings.stretchEightBit else { return gray }
        if stretch == nil {
            stretch = try ContrastStretch(isEnabled: true, tailRejection: settings.tailRejection, smoothing: settings.smoothing)
        }
        if stretched.width != gray.width || stretched.height != gray.height {
            stretched = Gray8Image(width: gray.width, height: gray.height, repeating: 0)
        }
        stretch!.apply(gray, into: &stretched)
        return stretched
    }

    private func colorizeOne(_ frame: ThermalFrame) throws -> YUV420Image {
        let levels = try grayLevels(of: frame)
        var picture = YUV420Image(width: levels.width, height: levels.height)
        settings.palette.colorize(levels, into: &picture)
        return picture
    }

    private func validate(_ settings: ClassicSettings) throws {
        _ = try AutomaticGainControl(mode: settings.gainControl, significantBits: 16, tailRejection: settings.tailRejection,
                                     plateauLimit: settings.plateauLimit, smoothing: settings.smoothing)
    }
}
