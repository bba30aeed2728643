import Foundation

/// A V4L2 device as `thermocolor devices` shows it.
package struct VideoDeviceInfo: Sendable, Hashable {
    /// The node, such as `/dev/video0`.
    package var path: String
    /// Its `/dev/v4l/by-id` and `/dev/v4l/by-path` names.
    package var stablePaths: [String]
    /// What `VIDIOC_QUERYCAP` says; nil when the node could not be opened.
    package var capabilities: VideoCapabilities?
    package var usbDeviceID: USBDeviceID?
    /// The profile capture would use, and why.
    package var profile: ProfileMatch?
    package var formats: [FormatInfo]
    /// Why the node could not be read, when it could not.
    package var error: String?

    /// A pixel format with its sizes and rates.
    package struct FormatInfo: Sendable, Hashable {
        package var format: FormatDescription
        package var sizes: FrameSizes?
        /// Intervals for each discrete size, in the order of `sizes`.
        package var intervals: [FrameSize: FrameIntervals]
    }

    /// Whether capture can stream from this node.
    package var isVideoCapture: Bool {
        capabilities.map { $0.canCaptureVideo && $0.canStream } ?? false
    }
}

/// Every `/dev/videoN` node with its name, driver, bus, formats, sizes and
/// rates, in node order. Nodes that cannot be opened are listed with the
/// reason.
package func listVideoDevices() -> [VideoDeviceInfo] {
    listVideoDevices(paths: videoDeviceNodes(in: "/dev"), opener: LibV4L2Opener())
}

/// The devices at `paths`, opened through `opener`.
package func listVideoDevices(paths: [String], opener: some VideoDeviceOpener) -> [VideoDeviceInfo] {
    paths.map { describeVideoDevice(at: $0, opener: opener) }
}

/// The `videoN` nodes in `directory`, sorted by number.
package func videoDeviceNodes(in directory: String) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    return names
        .compactMap { name -> (Int, String)? in
            guard name.hasPrefix("video"), let number = Int(name.dropFirst(5)) else { return nil }
            return (number, "\(directory)/\(name)")
        }
        .sorted { $0.0 < $1.0 }
        .map(\.1)
}

private func describeVideoDevice(at path: String, opener: some VideoDeviceOpener) -> VideoDeviceInfo {
    var info = VideoDeviceInfo(path: path, stablePaths: opener.stablePaths(for: path), capabilities: nil,
                               usbDeviceID: opener.usbDeviceID(for: path), profile: nil, formats: [], error: nil)
    let device: any VideoDeviceIO
    do {
        device = try opener.open(path: path)
    } catch {
        info.error = error == .inappropriateIOCTLForDevice ? "not a V4L2 device" : "cannot open: \(error)"
        return info
    }
    defer { device.close() }
    do {
        let capabilities = try device.queryCapabilities()
        info.capabilities = capabilities
        guard info.isVideoCapture else { return info }
        for format in try device.enumerateFormats() {
            let sizes = try? device.enumerateFrameSizes(for: format.pixelFormat)
            var intervals: [FrameSize: FrameIntervals] = [:]
            if case .discrete(let list) = sizes {
                for size in list {
                    intervals[size] = try? device.enumerateFrameIntervals(for: format.pixelFormat, size: size)
                }
            }
            info.formats.append(.init(format: format, sizes: sizes, intervals: intervals))
        }
        let offersP2ProMode = info.formats.contains {
            $0.format.pixelFormat == .yuyv && $0.sizes?.contains(CameraProfile.p2ProFrameSize) == true
        }
        info.profile = CameraProfile.detect(usbDeviceID: info.usbDeviceID, card: capabilities.card,
                                            offersP2ProMode: offersP2ProMode)
    } catch {
        info.error = "cannot query: \(error)"
    }
    return info
}

extension VideoDeviceInfo {
    /// Lines for a terminal, one per format capture can read (every format
    /// with `all`), each size with its fastest rate:
    ///
    ///     /dev/video0: FLIR Boson (uvcvideo, usb-0000:00:14.0-2)
    ///       by-id: /dev/v4l/by-id/usb-FLIR_Boson_12345-video-index0
    ///       USB 09cb:4007, profile boson (USB id 09cb:4007)
    ///       capture takes Y16 640x512 at 60 fps unless told otherwise
    ///       Y16  16-bit Greyscale: 320x256, 640x512 (60 fps)
    package func listing(all: Bool = false) -> String {
        var lines: [String] = []
        guard let capabilities else {
            return "\(path): \(error ?? "unreadable")"
        }
        lines.append("\(path): \(capabilities.card) (\(capabilities.driver), \(capabilities.busInfo))")
        for stable in stablePaths {
            lines.append("  \(stable.contains("/by-id/") ? "by-id" : "by-path"): \(stable)")
        }
        guard isVideoCapture else {
            lines.append("  not a video capture node (metadata or output)")
            return lines.joined(separator: "\n")
        }
        var identity: [String] = []
        if let usbDeviceID { identity.append("USB \(usbDeviceID)") }
        if let profile { identity.append("profile \(profile.profile.name) (\(profile.reason))") }
        if !identity.isEmpty { lines.append("  " + identity.joined(separator: ", ")) }
        if let error { lines.append("  \(error)") }
        if formats.isEmpty { lines.append("  no formats reported") }
        if let mode = defaultMode { lines.append("  capture takes \(mode) unless told otherwise") }

        let readable = FrameExtraction.readableFormats
        // Capture's order of preference, then (with `all`) the rest as listed.
        let ranked = formats.enumerated().sorted { left, right in
            let (l, r) = (readable.firstIndex(of: left.element.format.pixelFormat) ?? Int.max,
                          readable.firstIndex(of: right.element.format.pixelFormat) ?? Int.max)
            return l != r ? l < r : left.offset < right.offset
        }.map(\.element)
        let shown = all ? ranked : ranked.filter { readable.contains($0.format.pixelFormat) }
        let width = max(4, shown.map(\.format.pixelFormat.fourCC.count).max() ?? 4)
        for entry in shown {
            var header = "  \(entry.format.pixelFormat.fourCC.padding(toLength: width, withPad: " ", startingAt: 0)) \(entry.format.description)"
            if entry.format.isEmulated { header += " [converted by libv4l2]" }
            else if entry.format.isCompressed { header += " [compressed]" }
            if !readable.contains(entry.format.pixelFormat) { header += " [not readable by capture]" }
            lines.append(header + (Self.sizesAndRates(entry).map { ": " + $0 } ?? ""))
        }
        let hidden = formats.count - shown.count
        if hidden > 0 {
            lines.append("  and \(hidden) format\(hidden == 1 ? "" : "s") capture cannot read (--all lists them)")
        }
        return lines.joined(separator: "\n")
    }

    /// The mode capture asks for when given no size, format or rate:
    /// "Y16 640x480 at 25 fps".
    package var defaultMode: String? {
        guard let profile, !formats.isEmpty else { return nil }
        let plan = try? CaptureEngine.plan(
            formats: formats.map(\.format),
            sizes: { format in formats.first { $0.format.pixelFormat == format }?.sizes },
            intervals: { format, size in formats.first { $0.format.pixelFormat == format }?.intervals[size] },
            currentSize: { nil }, profile: profile.profile, settings: CaptureSettings(devicePath: path), path: path)
        guard let plan else { return nil }
        var text = "\(plan.pixelFormat) \(plan.size)"
        if let interval = plan.interval { text += " at \(interval)" }
        return text
    }

    /// "320x180 (60 fps), 640x360, 640x480 (25), 3840x2160 (2)": each size
    /// with its fastest rate, sizes of equal rate together; nil when the
    /// driver lists no sizes.
    static func sizesAndRates(_ entry: FormatInfo) -> String? {
        switch entry.sizes {
        case .discrete(let sizes)? where !sizes.isEmpty:
            var groups: [(sizes: [FrameSize], rate: String?)] = []
            for size in sizes {
                let rate = entry.intervals[size].flatMap(Self.fastestRate)
                if let last = groups.last, last.rate == rate {
                    groups[groups.count - 1].sizes.append(size)
                } else {
                    groups.append(([size], rate))
                }
            }
            var unitShown = false
            return groups.map { group in
                let names = group.sizes.map(\.description).joined(separator: ", ")
                guard let rate = group.rate else { return names }
                defer { unitShown = true }
                return "\(names) (\(rate)\(unitShown ? "" : " fps"))"
            }.joined(separator: ", ")
        case .stepwise(let minimum, let maximum, let step)?:
            return "\(minimum) to \(maximum) in steps of \(step)"
        default:
            return nil
        }
    }

    /// "60", "12.5", or "1-30" for a range.
    private static func fastestRate(_ intervals: FrameIntervals) -> String? {
        switch intervals {
        case .discrete(let list):
            return list.map(\.framesPerSecond).max().map(CaptureEngine.rateText)
        case .stepwise(let minimum, let maximum, _):
            return "\(CaptureEngine.rateText(maximum.framesPerSecond))-\(CaptureEngine.rateText(minimum.framesPerSecond))"
        }
    }
}

/// The text `thermocolor devices` prints for `devices`: the formats capture
/// can read, or every format with `all`.
package func videoDeviceListing(_ devices: [VideoDeviceInfo], all: Bool = false) -> String {
    guard !devices.isEmpty else {
        return "No video devices found (no /dev/video* nodes). Plug in a camera, or check that its driver is loaded."
    }
    return devices.map { $0.listing(all: all) }.joined(separator: "\n\n")
}
