import Foundation

/// A V4L2 device as `thermocolor devices` shows it.
public struct VideoDeviceInfo: Sendable, Hashable {
    /// The node, such as `/dev/video0`.
    public var path: String
    /// Its `/dev/v4l/by-id` and `/dev/v4l/by-path` names.
    public var stablePaths: [String]
    /// What `VIDIOC_QUERYCAP` says; nil when the node could not be opened.
    public var capabilities: VideoCapabilities?
    public var usbDeviceID: USBDeviceID?
    /// The profile capture would use, and why.
    public var profile: ProfileMatch?
    public var formats: [FormatInfo]
    /// Why the node could not be read, when it could not.
    public var error: String?

    /// A pixel format with its sizes and rates.
    public struct FormatInfo: Sendable, Hashable {
        public var format: FormatDescription
        public var sizes: FrameSizes?
        /// Intervals for each discrete size, in the order of `sizes`.
        public var intervals: [FrameSize: FrameIntervals]
    }

    /// Whether capture can stream from this node.
    public var isVideoCapture: Bool {
        capabilities.map { $0.canCaptureVideo && $0.canStream } ?? false
    }
}

/// Every `/dev/videoN` node with its name, driver, bus, formats, sizes and
/// rates, in node order. Nodes that cannot be opened are listed with the
/// reason.
public func listVideoDevices() -> [VideoDeviceInfo] {
    listVideoDevices(paths: videoDeviceNodes(in: "/dev"), opener: LibV4L2Opener())
}

/// The devices at `paths`, opened through `opener`.
public func listVideoDevices(paths: [String], opener: some VideoDeviceOpener) -> [VideoDeviceInfo] {
    paths.map { describeVideoDevice(at: $0, opener: opener) }
}

/// The `videoN` nodes in `directory`, sorted by number.
public func videoDeviceNodes(in directory: String) -> [String] {
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
    /// Lines for a terminal:
    ///
    ///     /dev/video0: FLIR Boson (uvcvideo, usb-0000:00:14.0-2)
    ///       by-id: /dev/v4l/by-id/usb-FLIR_Boson_12345-video-index0
    ///       USB 09cb:4007, profile boson (USB id 09cb:4007)
    ///       Y16  16-bit Greyscale: 640x512 @ 60, 30 fps
    public var listing: String {
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
        for entry in formats {
            var header = "  \(entry.format.pixelFormat.fourCC.padding(toLength: 4, withPad: " ", startingAt: 0)) \(entry.format.description)"
            if entry.format.isEmulated { header += " [converted by libv4l2]" }
            else if entry.format.isCompressed { header += " [compressed]" }
            if !FrameExtraction.readableFormats.contains(entry.format.pixelFormat) { header += " [not readable by capture]" }
            switch entry.sizes {
            case .discrete(let sizes)?:
                let parts = sizes.map { size -> String in
                    guard let rates = entry.intervals[size].map(Self.rates), !rates.isEmpty else { return size.description }
                    return "\(size) @ \(rates)"
                }
                lines.append(header + ": " + parts.joined(separator: "; "))
            case .stepwise(let minimum, let maximum, let step)?:
                lines.append(header + ": \(minimum) to \(maximum) in steps of \(step)")
            case nil:
                lines.append(header)
            }
        }
        return lines.joined(separator: "\n")
    }

    /// "60, 30 fps", or "1 to 30 fps".
    private static func rates(_ intervals: FrameIntervals) -> String {
        func number(_ rate: Double) -> String {
            rate == rate.rounded() ? String(Int(rate)) : String(format: "%.2f", rate)
        }
        switch intervals {
        case .discrete(let list):
            guard !list.isEmpty else { return "" }
            let values = list.map(\.framesPerSecond).sorted(by: >)
            return values.map(number).joined(separator: ", ") + " fps"
        case .stepwise(let minimum, let maximum, _):
            return "\(number(maximum.framesPerSecond)) to \(number(minimum.framesPerSecond)) fps"
        }
    }
}

/// The text `thermocolor devices` prints for `devices`.
public func videoDeviceListing(_ devices: [VideoDeviceInfo]) -> String {
    guard !devices.isEmpty else {
        return "No video devices found (no /dev/video* nodes). Plug in a camera, or check that its driver is loaded."
    }
    return devices.map(\.listing).joined(separator: "\n\n")
}
