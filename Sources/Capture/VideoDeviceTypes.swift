import CV4L2

/// A V4L2 pixel format, identified by its four-character code.
package struct PixelFormat: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The little-endian four-character code, as `v4l2_fourcc` builds it.
    package let rawValue: UInt32

    package init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The format with code `fourCC`, which must be four ASCII characters
    /// (short codes are padded with spaces, as V4L2 spells `Y16 `).
    package init?(fourCC: String) {
        var bytes = Array(fourCC.utf8)
        guard (1...4).contains(bytes.count), bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) else { return nil }
        while bytes.count < 4 { bytes.append(0x20) }
        rawValue = bytes.enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
    }

    /// 16-bit greyscale, little-endian: radiometric thermal cores.
    package static let y16 = PixelFormat(rawValue: cv4l2_pixfmt_y16())
    /// 8-bit greyscale.
    package static let grey = PixelFormat(rawValue: cv4l2_pixfmt_grey())
    /// Packed YUV 4:2:2, Y0 U Y1 V.
    package static let yuyv = PixelFormat(rawValue: cv4l2_pixfmt_yuyv())
    /// Packed YUV 4:2:2, U Y0 V Y1.
    package static let uyvy = PixelFormat(rawValue: cv4l2_pixfmt_uyvy())
    /// YUV 4:2:0: a luma plane, then interleaved Cb/Cr.
    package static let nv12 = PixelFormat(rawValue: cv4l2_pixfmt_nv12())
    /// Planar YUV 4:2:0 (I420, `YU12`): luma, then Cb, then Cr planes.
    package static let yuv420 = PixelFormat(rawValue: cv4l2_pixfmt_yuv420())
    /// Planar YVU 4:2:0 (`YV12`): luma, then Cr, then Cb planes.
    package static let yvu420 = PixelFormat(rawValue: cv4l2_pixfmt_yvu420())
    /// Motion JPEG.
    package static let mjpeg = PixelFormat(rawValue: cv4l2_pixfmt_mjpeg())

    /// The four-character code with trailing spaces trimmed: "Y16", "YUYV".
    package var fourCC: String {
        var text = ""
        for shift in stride(from: 0, to: 32, by: 8) {
            let byte = UInt8(truncatingIfNeeded: rawValue >> UInt32(shift))
            text.append(byte >= 0x20 && byte < 0x7f ? Character(UnicodeScalar(byte)) : "?")
        }
        while text.hasSuffix(" ") { text.removeLast() }
        return text
    }

    package var description: String { fourCC }
}

/// A frame size in pixels.
package struct FrameSize: Hashable, Sendable, Comparable, CustomStringConvertible {
    package var width: Int
    package var height: Int

    package init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    package var pixelCount: Int { width * height }

    /// Orders by pixel count, then width, so "the largest size" is defined.
    package static func < (lhs: FrameSize, rhs: FrameSize) -> Bool {
        (lhs.pixelCount, lhs.width) < (rhs.pixelCount, rhs.width)
    }

    package var description: String { "\(width)x\(height)" }
}

/// A time per frame, in seconds, as a fraction (V4L2's `v4l2_fract`).
package struct FrameInterval: Hashable, Sendable, CustomStringConvertible {
    package var numerator: Int
    package var denominator: Int

    package init(numerator: Int, denominator: Int) {
        self.numerator = numerator
        self.denominator = denominator
    }

    /// The interval of `framesPerSecond` frames a second, exact for whole rates.
    package init(framesPerSecond: Double) {
        if framesPerSecond == framesPerSecond.rounded() {
            self.init(numerator: 1, denominator: Int(framesPerSecond))
        } else {
            self.init(numerator: 1000, denominator: Int((framesPerSecond * 1000).rounded()))
        }
    }

    package var seconds: Double { denominator == 0 ? 0 : Double(numerator) / Double(denominator) }
    package var framesPerSecond: Double { numerator == 0 ? 0 : Double(denominator) / Double(numerator) }

    /// "30 fps", "8.7 fps".
    package var description: String {
        let rate = framesPerSecond
        if rate == rate.rounded() { return "\(Int(rate)) fps" }
        return "\((rate * 100).rounded() / 100) fps"
    }
}

/// What `VIDIOC_QUERYCAP` says about a device.
package struct VideoCapabilities: Sendable, Hashable {
    /// The driver's name, such as "uvcvideo".
    package var driver: String
    /// The device's name, such as "Boson: FLIR Video".
    package var card: String
    /// Where the device is attached, such as "usb-0000:00:14.0-2".
    package var busInfo: String
    /// The capabilities of this node (`device_caps` when the driver
    /// reports them, the whole device's otherwise).
    package var deviceCapabilities: UInt32

    package init(driver: String, card: String, busInfo: String, deviceCapabilities: UInt32) {
        self.driver = driver
        self.card = card
        self.busInfo = busInfo
        self.deviceCapabilities = deviceCapabilities
    }

    /// The node captures single-planar video.
    package var canCaptureVideo: Bool { deviceCapabilities & cv4l2_cap_video_capture() != 0 }
    /// The node supports streaming I/O (memory-mapped buffers).
    package var canStream: Bool { deviceCapabilities & cv4l2_cap_streaming() != 0 }

    /// Capability bits for building descriptions in tests and simulations.
    package static let videoCaptureBit = cv4l2_cap_video_capture()
    package static let streamingBit = cv4l2_cap_streaming()
}

/// One entry of `VIDIOC_ENUM_FMT`.
package struct FormatDescription: Sendable, Hashable {
    package var pixelFormat: PixelFormat
    /// The driver's text, such as "16-bit Greyscale".
    package var description: String
    /// A compressed format (MJPEG and the like).
    package var isCompressed: Bool
    /// Produced by libv4l2's conversion rather than by the camera.
    package var isEmulated: Bool

    package init(pixelFormat: PixelFormat, description: String, isCompressed: Bool = false, isEmulated: Bool = false) {
        self.pixelFormat = pixelFormat
        self.description = description
        self.isCompressed = isCompressed
        self.isEmulated = isEmulated
    }
}

/// What `VIDIOC_ENUM_FRAMESIZES` reports for a pixel format.
package enum FrameSizes: Sendable, Hashable {
    /// A list of sizes.
    case discrete([FrameSize])
    /// Any size from `minimum` to `maximum` in steps (a step of 1 is V4L2's
    /// "continuous").
    case stepwise(minimum: FrameSize, maximum: FrameSize, step: FrameSize)

    /// The largest size on offer.
    package var largest: FrameSize? {
        switch self {
        case .discrete(let sizes): sizes.max()
        case .stepwise(_, let maximum, _): maximum
        }
    }

    /// Whether `size` is on offer.
    package func contains(_ size: FrameSize) -> Bool {
        switch self {
        case .discrete(let sizes):
            return sizes.contains(size)
        case .stepwise(let minimum, let maximum, let step):
            guard (minimum.width...maximum.width).contains(size.width),
                  (minimum.height...maximum.height).contains(size.height) else { return false }
            return (size.width - minimum.width) % max(step.width, 1) == 0
                && (size.height - minimum.height) % max(step.height, 1) == 0
        }
    }
}

/// What `VIDIOC_ENUM_FRAMEINTERVALS` reports for a format and size.
package enum FrameIntervals: Sendable, Hashable {
    case discrete([FrameInterval])
    case stepwise(minimum: FrameInterval, maximum: FrameInterval, step: FrameInterval)

    /// The shortest interval (highest rate) on offer.
    package var fastest: FrameInterval? {
        switch self {
        case .discrete(let intervals): intervals.min { $0.seconds < $1.seconds }
        case .stepwise(let minimum, _, _): minimum
        }
    }

    /// The interval on offer closest to `framesPerSecond`.
    package func closest(toFramesPerSecond framesPerSecond: Double) -> FrameInterval? {
        switch self {
        case .discrete(let intervals):
            return intervals.min {
                abs($0.framesPerSecond - framesPerSecond) < abs($1.framesPerSecond - framesPerSecond)
            }
        case .stepwise(let minimum, let maximum, _):
            let wanted = FrameInterval(framesPerSecond: framesPerSecond)
            if wanted.seconds < minimum.seconds { return minimum }
            if wanted.seconds > maximum.seconds { return maximum }
            return wanted
        }
    }
}

/// A negotiated single-planar capture format (`v4l2_pix_format`).
package struct VideoFormat: Sendable, Hashable, CustomStringConvertible {
    package var pixelFormat: PixelFormat
    package var width: Int
    package var height: Int
    /// Bytes from one row to the next (of the first plane for planar
    /// formats); may exceed the packed width when drivers pad rows.
    package var bytesPerLine: Int
    /// Bytes a whole frame needs.
    package var sizeImage: Int

    package init(pixelFormat: PixelFormat, width: Int, height: Int, bytesPerLine: Int = 0, sizeImage: Int = 0) {
        self.pixelFormat = pixelFormat
        self.width = width
        self.height = height
        self.bytesPerLine = bytesPerLine
        self.sizeImage = sizeImage
    }

    package var size: FrameSize { FrameSize(width: width, height: height) }

    package var description: String { "\(pixelFormat) \(width)x\(height)" }
}

/// A filled buffer handed back by `VIDIOC_DQBUF`.
package struct DequeuedBuffer: Sendable, Hashable {
    /// Which of the granted buffers it is.
    package var index: Int
    /// Bytes of frame data in it.
    package var bytesUsed: Int
    /// The driver's frame counter, which skips when it drops frames.
    package var sequence: UInt32
    /// When the frame was captured, in nanoseconds, if the driver stamps
    /// buffers with the monotonic clock (`V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC`).
    package var monotonicTimestampNanoseconds: UInt64?
    /// `V4L2_BUF_FLAG_ERROR`: dequeued, but the data may be corrupt.
    package var hasError: Bool

    package init(index: Int, bytesUsed: Int, sequence: UInt32, monotonicTimestampNanoseconds: UInt64?, hasError: Bool = false) {
        self.index = index
        self.bytesUsed = bytesUsed
        self.sequence = sequence
        self.monotonicTimestampNanoseconds = monotonicTimestampNanoseconds
        self.hasError = hasError
    }
}

/// The events `poll(2)` reports for a capture device.
package struct PollEvents: OptionSet, Sendable, Hashable {
    package let rawValue: Int16
    package init(rawValue: Int16) { self.rawValue = rawValue }

    /// A filled buffer can be dequeued (`POLLIN`).
    package static let readable = PollEvents(rawValue: 0x001)
    /// An exceptional condition (`POLLPRI`), such as a V4L2 event.
    package static let priority = PollEvents(rawValue: 0x002)
    /// Not streaming, nothing queued, or the device failed (`POLLERR`).
    package static let error = PollEvents(rawValue: 0x008)
    /// The device went away (`POLLHUP`).
    package static let hangUp = PollEvents(rawValue: 0x010)
}

/// A USB vendor and product id, as `lsusb` prints them ("09cb:4007").
package struct USBDeviceID: Hashable, Sendable, CustomStringConvertible {
    package var vendor: UInt16
    package var product: UInt16

    package init(vendor: UInt16, product: UInt16) {
        self.vendor = vendor
        self.product = product
    }

    package var description: String {
        func hex(_ value: UInt16) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        }
        return "\(hex(vendor)):\(hex(product))"
    }
}
