/// How `AutomaticGainControl` turns sensor counts into 8-bit grey.
package enum GainControlMode: String, CaseIterable, Sendable {
    /// A percentile window of the frame's histogram (tails rejected) is
    /// stretched linearly over 0–255; the window is smoothed over time.
    case linear
    /// Plateau histogram equalisation: each histogram bin is clipped at a
    /// plateau before the cumulative histogram becomes the mapping, so large
    /// uniform areas (sky, floor) cannot claim most of the grey levels. The
    /// mapping is smoothed over time.
    case plateau
    /// Plain scaling: counts are shifted down by `significantBits - 8` bits.
    case none
}

/// Maps 16-bit thermal frames to 8-bit grey, one instance per stream.
///
/// It keeps state between frames (the smoothed window or mapping), so feed
/// it the frames of one stream in order and call `reset()` after a seek or a
/// source change. Each frame costs one histogram pass, one pass over a
/// lookup table of `2^significantBits` entries and one lookup per pixel;
/// nothing is allocated per frame once the output buffer has its size.
package struct AutomaticGainControl: Sendable {
    package let mode: GainControlMode
    /// Bits of each sample the sensor actually uses (8–16); counts above
    /// `2^significantBits - 1` are treated as saturated.
    package let significantBits: Int
    /// Fraction of pixels ignored at each end of the histogram by `linear`,
    /// so a few dead or hot pixels do not set the window.
    package let tailRejection: Double
    /// The plateau of `plateau` mode as a multiple of the mean count of the
    /// frame's occupied bins: no bin contributes more than
    /// `plateauLimit × pixels / occupiedBins` to the cumulative histogram.
    /// Large values approach full histogram equalisation; values near 1 give
    /// every occupied count the same share of grey levels (histogram
    /// projection). Being relative, it does not depend on frame size or bit
    /// depth.
    package let plateauLimit: Double
    /// Weight of the previous mapping when blending in the new frame's
    /// (exponential smoothing, 0 ≤ smoothing < 1; 0 = no smoothing). At 0.9
    /// the mapping covers about 10 % of a sudden scene change per frame and
    /// 95 % of it after 29 frames, so brightness does not flicker.
    package let smoothing: Double

    /// The smoothed window of `linear` mode in sensor counts (mapped to 0
    /// and 255), or nil before the first frame and in other modes.
    package var window: ClosedRange<Double>? { linearWindow.window }

    private var linearWindow: LinearWindowTracker
    /// Bin counts of the current frame, `2^significantBits` bins.
    private var histogram: [UInt32]
    /// Output level for every possible UInt16 input, so the per-pixel pass
    /// needs no clamp; entries above the significant range stay at 255.
    private var lookupTable: [UInt8]
    /// The smoothed equalisation levels of `plateau` mode (0–255, fractional).
    private var smoothedLevels: [Float]
    private var hasPlateauHistory = false

    /// Creates a gain control for one stream.
    /// - Throws: `ImagingError` when a parameter is out of range.
    package init(
        mode: GainControlMode = .linear,
        significantBits: Int = 16,
        tailRejection: Double = 0.01,
        plateauLimit: Double = 4,
        smoothing: Double = 0.9
    ) throws(ImagingError) {
        guard (8...16).contains(significantBits) else {
            throw ImagingError("gain control: significant bits must be 8–16, got \(significantBits)")
        }
        guard tailRejection >= 0, tailRejection < 0.5 else {
            throw ImagingError("gain control: tail rejection must be in 0..<0.5, got \(tailRejection)")
        }
        guard plateauLimit > 0, plateauLimit.isFinite else {
            throw ImagingError("gain control: plateau limit must be a positive multiple of the mean bin count, got \(plateauLimit)")
        }
        guard smoothing >= 0, smoothing < 1 else {
            throw ImagingError("gain control: smoothing must be in 0..<1, got \(smoothing)")
        }
        self.mode = mode
        self.significantBits = significantBits
        self.tailRejection = tailRejection
        self.plateauLimit = plateauLimit
        self.smoothing = smoothing

        let levelCount = 1 << significantBits
        // A window narrower than this would mostly amplify sensor noise in a
        // flat scene: 1/1024 of the range (16 counts at 14 bits), at least 4.
        linearWindow = LinearWindowTracker(
            tailRejection: tailRejection,
            smoothing: smoothing,
            maximumCount: levelCount - 1,
            minimumSpan: Double(max(4, levelCount >> 10))
        )
        histogram = mode == .none ? [] : [UInt32](repeating: 0, count: levelCount)
        smoothedLevels = mode == .plateau ? [Float](repeating: 0, count: levelCount) : []
        lookupTable = [UInt8](repeating: 255, count: 1 << 16)
        if mode == .none {
            let shift = significantBits - 8
            lookupTable.withUnsafeMutableBufferPointer { table in
                for count in 0..<levelCount {
                    table[count] = UInt8(truncatingIfNeeded: count >> shift)
                }
            }
        }
    }

    /// Forgets the smoothing history; the next frame sets the mapping alone.
    package mutating func reset() {
        linearWindow.reset()
        hasPlateauHistory = false
    }

    /// The grey level the current mapping gives a sensor count.
    package func level(for count: UInt16) -> UInt8 {
        lookupTable[Int(count)]
    }

    /// Updates the mapping from `frame` and writes the mapped frame into
    /// `output`, which is resized (reallocated) only when its shape differs.
    /// Multi-channel frames are mapped sample by sample.
    package mutating func map(_ frame: Gray16Image, into output: inout Gray8Image) {
        if frame.pixelCount > 0 {
            updateLookupTable(from: frame)
        }
        applyLookupTable(lookupTable, to: frame, into: &output)
    }

    /// Updates the mapping from `frame` and returns the mapped frame.
    package mutating func map(_ frame: Gray16Image) -> Gray8Image {
        var output = Gray8Image(width: frame.width, height: frame.height, channels: frame.channels, repeating: 0)
        map(frame, into: &output)
        return output
    }

    private mutating func updateLookupTable(from frame: Gray16Image) {
        switch mode {
        case .none:
            return
        case .linear:
            fillHistogram(&histogram, from: frame.samples)
            let window = histogram.withUnsafeBufferPointer { bins in
                linearWindow.update(histogram: bins, total: frame.samples.count)
            }
            lookupTable.withUnsafeMutableBufferPointer { table in
                fillLinearLookupTable(table, window: window, maximumCount: (1 << significantBits) - 1)
            }
        case .plateau:
            fillHistogram(&histogram, from: frame.samples)
            updatePlateauLookupTable(total: frame.samples.count)
        }
    }

    private mutating func updatePlateauLookupTable(total: Int) {
        let blend = hasPlateauHistory ? Float(smoothing) : 0
        hasPlateauHistory = true
        histogram.withUnsafeBufferPointer { bins in
            var occupiedBins = 0
            for count in bins where count > 0 { occupiedBins += 1 }
            let plateau = UInt32(min(Double(UInt32.max), max(1, (plateauLimit * Double(total) / Double(occupiedBins)).rounded())))
            var clippedTotal: UInt64 = 0
            for count in bins { clippedTotal += UInt64(min(count, plateau)) }

            // Each count maps to the middle of its share of the clipped
            // cumulative histogram, so a single occupied bin lands mid-grey
            // and empty bins between occupied ones get the level in between.
            let scale = 255 / Double(clippedTotal)
            smoothedLevels.withUnsafeMutableBufferPointer { smoothed in
                lookupTable.withUnsafeMutableBufferPointer { table in
                    var below: UInt64 = 0
                    for index in 0..<bins.count {
                        let clipped = UInt64(min(bins[index], plateau))
                        let level = Float(Double(2 * below + clipped) * 0.5 * scale)
                        below += clipped
                        let blended = blend * smoothed[index] + (1 - blend) * level
                        smoothed[index] = blended
                        table[index] = UInt8(min(255, blended + 0.5))
                    }
                }
            }
        }
    }
}

/// Optional percentile stretch for sources that already deliver 8-bit grey.
///
/// When disabled, frames pass through unchanged (and without a copy).
/// When enabled it behaves like `AutomaticGainControl` in `linear` mode:
/// a tail-rejected percentile window, smoothed over time, stretched over
/// 0–255, but never by more than a gain of 16 so flat scenes stay flat.
package struct ContrastStretch: Sendable {
    package let isEnabled: Bool
    /// Fraction of pixels ignored at each end of the histogram.
    package let tailRejection: Double
    /// Weight of the previous window (0 ≤ smoothing < 1; 0 = none).
    package let smoothing: Double

    /// The smoothed window in grey levels, nil before the first frame or
    /// when disabled.
    package var window: ClosedRange<Double>? { tracker.window }

    private var tracker: LinearWindowTracker
    private var histogram = [UInt32](repeating: 0, count: 256)
    private var lookupTable = [UInt8](repeating: 0, count: 256)

    /// A stretch that passes frames through unchanged.
    package static let disabled = try! ContrastStretch(isEnabled: false)

    /// - Throws: `ImagingError` when a parameter is out of range.
    package init(isEnabled: Bool = true, tailRejection: Double = 0.01, smoothing: Double = 0.9) throws(ImagingError) {
        guard tailRejection >= 0, tailRejection < 0.5 else {
            throw ImagingError("contrast stretch: tail rejection must be in 0..<0.5, got \(tailRejection)")
        }
        guard smoothing >= 0, smoothing < 1 else {
            throw ImagingError("contrast stretch: smoothing must be in 0..<1, got \(smoothing)")
        }
        self.isEnabled = isEnabled
        self.tailRejection = tailRejection
        self.smoothing = smoothing
        tracker = LinearWindowTracker(tailRejection: tailRejection, smoothing: smoothing, maximumCount: 255, minimumSpan: 16)
    }

    /// Forgets the smoothing history.
    package mutating func reset() {
        tracker.reset()
    }

    /// Stretches `gray` into `output` (or passes it through when disabled).
    package mutating func apply(_ gray: Gray8Image, into output: inout Gray8Image) {
        guard isEnabled else {
            output = gray
            return
        }
        if gray.pixelCount > 0 {
            fillHistogram(&histogram, from: gray.samples)
            let window = histogram.withUnsafeBufferPointer { bins in
                tracker.update(histogram: bins, total: gray.samples.count)
            }
            lookupTable.withUnsafeMutableBufferPointer { table in
                fillLinearLookupTable(table, window: window, maximumCount: 255)
            }
        }
        applyLookupTable(lookupTable, to: gray, into: &output)
    }

    /// Stretches `gray` (or returns it unchanged when disabled).
    package mutating func apply(_ gray: Gray8Image) -> Gray8Image {
        guard isEnabled else { return gray }
        var output = Gray8Image(width: gray.width, height: gray.height, channels: gray.channels, repeating: 0)
        apply(gray, into: &output)
        return output
    }
}

// MARK: - Shared machinery

/// Finds the percentile window of a histogram and smooths it over time.
struct LinearWindowTracker: Sendable {
    let tailRejection: Double
    let smoothing: Double
    let maximumCount: Int
    let minimumSpan: Double
    private(set) var window: ClosedRange<Double>?

    init(tailRejection: Double, smoothing: Double, maximumCount: Int, minimumSpan: Double) {
        self.tailRejection = tailRejection
        self.smoothing = smoothing
        self.maximumCount = maximumCount
        self.minimumSpan = minimumSpan
    }

    mutating func reset() {
        window = nil
    }

    /// Blends this frame's window into the smoothed one and returns it.
    /// `histogram` must hold `total` samples over `maximumCount + 1` bins.
    mutating func update(histogram: UnsafeBufferPointer<UInt32>, total: Int) -> ClosedRange<Double> {
        var measured = Self.percentileWindow(histogram: histogram, total: total, tail: tailRejection)
        if measured.upperBound - measured.lowerBound < minimumSpan {
            // Widen around the centre, kept inside the sensor's range.
            let span = min(minimumSpan, Double(maximumCount))
            var low = (measured.lowerBound + measured.upperBound - span) / 2
            low = min(max(0, low), Double(maximumCount) - span)
            measured = low...(low + span)
        }
        if let previous = window {
            let keep = smoothing
            let low = keep * previous.lowerBound + (1 - keep) * measured.lowerBound
            let high = keep * previous.upperBound + (1 - keep) * measured.upperBound
            measured = low...max(low, high)
        }
        window = measured
        return measured
    }

    /// The lowest and highest counts left after ignoring `tail × total`
    /// samples at each end.
    static func percentileWindow(histogram: UnsafeBufferPointer<UInt32>, total: Int, tail: Double) -> ClosedRange<Double> {
        let ignored = Int((tail * Double(total)).rounded(.down))
        var low = 0
        var seen = 0
        while low < histogram.count - 1 {
            seen += Int(histogram[low])
            if seen > ignored { break }
            low += 1
        }
        var high = histogram.count - 1
        seen = 0
        while high > low {
            seen += Int(histogram[high])
            if seen > ignored { break }
            high -= 1
        }
        return Double(low)...Double(high)
    }
}

/// Clears `histogram` and counts `samples` into it; samples above the last
/// bin are counted as saturated in the last bin.
@inline(__always)
func fillHistogram<Sample: FixedWidthInteger & UnsignedInteger>(_ histogram: inout [UInt32], from samples: [Sample]) {
    histogram.withUnsafeMutableBufferPointer { bins in
        bins.update(repeating: 0)
        let last = bins.count - 1
        samples.withUnsafeBufferPointer { source in
            for sample in source {
                bins[min(Int(sample), last)] &+= 1
            }
        }
    }
}

/// Writes a linear ramp from the window's low (0) to its high (255) into
/// the first `maximumCount + 1` entries of `table`.
func fillLinearLookupTable(_ table: UnsafeMutableBufferPointer<UInt8>, window: ClosedRange<Double>, maximumCount: Int) {
    let low = window.lowerBound
    let span = max(window.upperBound - low, 1e-9)
    let gain = 255 / span
    // Below the window everything is 0 and above it 255; only the counts
    // inside need arithmetic.
    let firstInside = min(maximumCount + 1, max(0, Int(low.rounded(.up))))
    let firstAbove = min(maximumCount + 1, max(firstInside, Int(window.upperBound.rounded(.down)) + 1))
    for count in 0..<firstInside { table[count] = 0 }
    for count in firstInside..<firstAbove {
        let level = (Double(count) - low) * gain
        table[count] = UInt8(min(255, max(0, level + 0.5)))
    }
    for count in firstAbove..<(maximumCount + 1) { table[count] = 255 }
}

/// Maps every sample through `table`, resizing `output` only when its
/// shape differs from `input`'s. `table` must cover every possible sample.
@inline(__always)
func applyLookupTable<Sample: FixedWidthInteger & UnsignedInteger>(
    _ table: [UInt8], to input: Raster<Sample>, into output: inout Gray8Image
) {
    if output.width != input.width || output.height != input.height || output.channels != input.channels {
        output = Gray8Image(width: input.width, height: input.height, channels: input.channels, repeating: 0)
    }
    precondition(table.count > Int(Sample.max), "lookup table must cover every sample value")
    table.withUnsafeBufferPointer { lookup in
        input.samples.withUnsafeBufferPointer { source in
            output.samples.withUnsafeMutableBufferPointer { destination in
                for index in 0..<source.count {
                    destination[index] = lookup[Int(source[index])]
                }
            }
        }
    }
}
