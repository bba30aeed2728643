import Foundation

/// Choosing the pixel format, frame size and rate to ask a camera for.
///
/// A mode the user names (`CaptureSettings.pixelFormat`, `frameSize`,
/// `framesPerSecond`) must be one the device offers; otherwise capture fails
/// with one line listing what it does offer, rather than letting the driver
/// substitute something else. With nothing named:
///
/// 1. a known thermal camera gets its profile's native mode;
/// 2. otherwise the format is the best one capture reads - 16-bit grey,
///    then 8-bit grey, then the YUV formats, MJPEG last - the camera's own
///    before libv4l2's conversions;
/// 3. at the largest size that still runs at `preferredMinimumRate` (25 fps)
///    or faster, or, when no size does, the size with the fastest rate;
/// 4. at the fastest rate that size offers.
///
/// So a webcam-like device offering Y16 from 320x180 at 60 fps to 3840x2160
/// at 2 fps is read at 640x480 and 25 fps, not at 3840x2160 and 2 fps.
extension CaptureEngine {
    /// What to ask the driver for.
    struct StreamPlan: Hashable {
        var pixelFormat: PixelFormat
        var size: FrameSize
        var interval: FrameInterval?
    }

    /// The rate below which a larger size is not worth it.
    static let preferredMinimumRate = 25.0

    /// Whether `offered` is the rate `wanted` names: within 5 %, so that
    /// 29.97 and 30 are the same rate but 25 and 30 are not.
    static func rate(_ offered: Double, matches wanted: Double) -> Bool {
        abs(offered - wanted) <= max(0.05 * wanted, 0.01)
    }

    static func plan(
        formats: [FormatDescription],
        sizes: (PixelFormat) -> FrameSizes?,
        intervals: (PixelFormat, FrameSize) -> FrameIntervals?,
        currentSize: () -> FrameSize?,
        profile: CameraProfile,
        settings: CaptureSettings,
        path: String
    ) throws(CaptureError) -> StreamPlan {
        func failure(_ detail: String) -> CaptureError {
            CaptureError(path: path, detail: detail, isPermanent: true)
        }
        // Whether each offered format is only libv4l2's conversion.
        var emulated: [PixelFormat: Bool] = [:]
        for format in formats {
            emulated[format.pixelFormat] = (emulated[format.pixelFormat] ?? true) && format.isEmulated
        }
        var offered: [PixelFormat] = []
        for format in formats.map(\.pixelFormat) where !offered.contains(format) { offered.append(format) }
        let readable = FrameExtraction.readableFormats.filter(offered.contains)
        let unreadableCount = offered.count - readable.count

        // The formats to consider, best first.
        let candidates: [PixelFormat]
        if let named = settings.pixelFormat {
            guard emulated[named] != nil else {
                throw failure("does not offer \(named) (it offers \(Self.formatList(readable, unreadableCount: unreadableCount)))")
            }
            guard FrameExtraction.readableFormats.contains(named) else {
                throw failure("capture cannot read \(named) yet (readable: \(FrameExtraction.readableFormats.map(\.description).joined(separator: ", ")))")
            }
            candidates = [named]
        } else {
            var order: [PixelFormat] = []
            for candidate in profile.preferredModes.map(\.pixelFormat) + FrameExtraction.readableFormats
            where emulated[candidate] != nil && !order.contains(candidate) {
                order.append(candidate)
            }
            // Stable: the camera's own formats before libv4l2's conversions.
            candidates = order.filter { emulated[$0] == false } + order.filter { emulated[$0] == true }
            guard !candidates.isEmpty else {
                throw failure("offers no format capture can read (it offers \(offered.isEmpty ? "nothing" : offered.map(\.description).joined(separator: ", ")))")
            }
        }

        // A known camera's native mode, when nothing more specific was asked.
        if settings.frameSize == nil {
            for mode in profile.preferredModes {
                guard let size = mode.size, candidates.contains(mode.pixelFormat),
                      sizes(mode.pixelFormat)?.contains(size) == true else { continue }
                let offered = intervals(mode.pixelFormat, size)
                guard let wanted = settings.framesPerSecond else {
                    return StreamPlan(pixelFormat: mode.pixelFormat, size: size, interval: offered?.fastest)
                }
                guard let offered else {
                    return StreamPlan(pixelFormat: mode.pixelFormat, size: size, interval: FrameInterval(framesPerSecond: wanted))
                }
                if let closest = offered.closest(toFramesPerSecond: wanted), rate(closest.framesPerSecond, matches: wanted) {
                    return StreamPlan(pixelFormat: mode.pixelFormat, size: size, interval: closest)
                }
            }
        }

        // Sizes (and their rates) of each candidate, best candidate first.
        for pixelFormat in candidates {
            if let plan = try plan(for: pixelFormat, sizes: sizes(pixelFormat), intervals: { intervals(pixelFormat, $0) },
                                   currentSize: currentSize, settings: settings, failIfUnavailable: candidates.count == 1,
                                   path: path) {
                return plan
            }
        }
        // Several candidates and none has what was asked: say what the best one offers.
        let best = candidates[0]
        if let size = settings.frameSize, sizes(best)?.contains(size) != true {
            throw failure("does not offer \(size) in any format capture reads (\(best) comes in \(Self.sizeList(sizes(best))))")
        }
        let size = settings.frameSize ?? sizes(best)?.largest ?? currentSize() ?? FrameSize(width: 0, height: 0)
        throw failure("does not offer \(Self.rateText(settings.framesPerSecond ?? 0)) fps in any format capture reads (\(best) \(size) runs at \(Self.rateList(intervals(best, size))))")
    }

    /// The mode of `pixelFormat` that fits the settings; nil (or a thrown
    /// error, with `failIfUnavailable`) when the format lacks the size or
    /// rate asked for.
    private static func plan(
        for pixelFormat: PixelFormat, sizes offeredSizes: FrameSizes?, intervals: (FrameSize) -> FrameIntervals?,
        currentSize: () -> FrameSize?, settings: CaptureSettings, failIfUnavailable: Bool, path: String
    ) throws(CaptureError) -> StreamPlan? {
        func unavailable(_ detail: String) throws(CaptureError) -> StreamPlan? {
            guard failIfUnavailable else { return nil }
            throw CaptureError(path: path, detail: detail, isPermanent: true)
        }
        let wantedRate = settings.framesPerSecond

        /// The offered interval for the rate asked for, the fastest when none
        /// was; nil when the size does not offer that rate. A driver that
        /// lists no intervals is asked for the rate as it is.
        func interval(at size: FrameSize) -> FrameInterval?? {
            let offered = intervals(size)
            guard let wantedRate else { return .some(offered?.fastest) }
            guard let offered else { return .some(FrameInterval(framesPerSecond: wantedRate)) }
            guard let closest = offered.closest(toFramesPerSecond: wantedRate),
                  rate(closest.framesPerSecond, matches: wantedRate) else { return nil }
            return .some(closest)
        }

        if let size = settings.frameSize {
            if let offeredSizes, !offeredSizes.contains(size) {
                return try unavailable("does not offer \(size) in \(pixelFormat) (it offers \(sizeList(offeredSizes)))")
            }
            guard let chosen = interval(at: size) else {
                return try unavailable("does not offer \(rateText(wantedRate ?? 0)) fps for \(pixelFormat) \(size) (it offers \(rateList(intervals(size))))")
            }
            return StreamPlan(pixelFormat: pixelFormat, size: size, interval: chosen)
        }

        switch offeredSizes {
        case .discrete(let list)? where !list.isEmpty:
            // Each size with the interval it would run at (nil: it lacks the rate asked for).
            let options = list.compactMap { size -> (size: FrameSize, interval: FrameInterval?)? in
                guard let chosen = interval(at: size) else { return nil }
                return (size, chosen)
            }
            guard !options.isEmpty else {
                let rates = list.sorted(by: >).map { "\($0) at \(rateList(intervals($0)))" }.joined(separator: "; ")
                return try unavailable("does not offer \(rateText(wantedRate ?? 0)) fps in \(pixelFormat) (\(rates))")
            }
            let chosen: (size: FrameSize, interval: FrameInterval?)
            if wantedRate != nil || options.allSatisfy({ $0.interval == nil }) {
                chosen = options.max { $0.size < $1.size }!
            } else {
                let fastEnough = options.filter { ($0.interval?.framesPerSecond ?? 0) >= preferredMinimumRate - 0.01 }
                if let largest = fastEnough.max(by: { $0.size < $1.size }) {
                    chosen = largest
                } else {
                    // Nothing reaches the preferred rate: the fastest, larger on a tie.
                    chosen = options.max {
                        let (left, right) = ($0.interval?.framesPerSecond ?? 0, $1.interval?.framesPerSecond ?? 0)
                        return left != right ? left < right : $0.size < $1.size
                    }!
                }
            }
            return StreamPlan(pixelFormat: pixelFormat, size: chosen.size, interval: chosen.interval)
        case .stepwise(_, let maximum, _)?:
            guard let chosen = interval(at: maximum) else {
                return try unavailable("does not offer \(rateText(wantedRate ?? 0)) fps for \(pixelFormat) \(maximum) (it offers \(rateList(intervals(maximum))))")
            }
            return StreamPlan(pixelFormat: pixelFormat, size: maximum, interval: chosen)
        default:
            guard let current = currentSize() else {
                return try unavailable("reports no frame size for \(pixelFormat)")
            }
            return StreamPlan(pixelFormat: pixelFormat, size: current, interval: interval(at: current) ?? nil)
        }
    }

    // MARK: Words for what a device offers

    /// "Y16, GREY, YUYV and 76 formats capture cannot read".
    static func formatList(_ readable: [PixelFormat], unreadableCount: Int) -> String {
        var parts = readable.map(\.description)
        if unreadableCount > 0 {
            parts.append("\(unreadableCount) format\(unreadableCount == 1 ? "" : "s") capture cannot read")
        }
        return parts.isEmpty ? "nothing" : parts.joined(separator: ", ")
    }

    /// "320x180, 640x360, 640x480" or "16x16 to 1280x720 in steps of 16x16".
    static func sizeList(_ sizes: FrameSizes?) -> String {
        switch sizes {
        case .discrete(let list)?: list.isEmpty ? "no sizes" : list.map(\.description).joined(separator: ", ")
        case .stepwise(let minimum, let maximum, let step)?: "\(minimum) to \(maximum) in steps of \(step)"
        case nil: "sizes it does not list"
        }
    }

    /// "25, 15, 10 fps" or "1 to 30 fps".
    static func rateList(_ intervals: FrameIntervals?) -> String {
        switch intervals {
        case .discrete(let list)? where !list.isEmpty:
            list.map(\.framesPerSecond).sorted(by: >).map(rateText).joined(separator: ", ") + " fps"
        case .stepwise(let minimum, let maximum, _)?:
            "\(rateText(maximum.framesPerSecond)) to \(rateText(minimum.framesPerSecond)) fps"
        default:
            "rates it does not list"
        }
    }

    /// "25", "12.5", "8.57".
    static func rateText(_ rate: Double) -> String {
        if rate == rate.rounded() { return String(Int(rate)) }
        let hundredths = (rate * 100).rounded() / 100
        return hundredths == (rate * 10).rounded() / 10 ? String((rate * 10).rounded() / 10) : String(hundredths)
    }
}

// MARK: Modes as users write them

extension FrameSize {
    /// "640x480" (or "640×480"); nil for anything else, zero sizes included.
    package init?(parsing text: String) {
        let parts = text.lowercased().split(whereSeparator: { $0 == "x" || $0 == "×" })
        guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]),
              width > 0, height > 0, width <= 16384, height <= 16384 else { return nil }
        self.init(width: width, height: height)
    }
}

extension PixelFormat {
    /// The formats a user can ask a camera for: those capture reads.
    package static var cameraFormats: [PixelFormat] { FrameExtraction.readableFormats }

    /// The camera format named `name` ("Y16", "grey", "MJPG" or "MJPEG",
    /// "YU12" or "I420"), or nil when capture cannot read it.
    package init?(cameraFormat name: String) {
        let key = name.uppercased().trimmingCharacters(in: .whitespaces)
        let aliases = ["MJPEG": "MJPG", "I420": "YU12", "YV12": "YV12", "Y8": "GREY", "GRAY": "GREY"]
        guard let format = PixelFormat(fourCC: aliases[key] ?? key), Self.cameraFormats.contains(format) else { return nil }
        self = format
    }
}
