import CV4L2
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A V4L2 capture device opened through libv4l2.
///
/// It owns the file descriptor and the memory-mapped buffers: `close()`, or
/// the end of its life, unmaps every buffer and closes the descriptor. The
/// descriptor is non-blocking, so `dequeueBuffer()` answers `EAGAIN` instead
/// of waiting and `poll(timeoutMilliseconds:)` does the waiting.
///
/// libv4l2 sits between this type and the kernel so that formats the camera
/// does not produce natively (a Bayer or vendor format as planar YUV) are
/// converted in user space; formats the camera does produce pass through
/// untouched.
///
/// MJPEG is the exception: capture decodes it itself with libavcodec, and
/// libv4l2 must not stand in the way (on cameras it flips or processes in
/// software it answers a request for MJPEG with converted RGB). Once
/// `setFormat` is asked for MJPEG, this handle talks to the kernel
/// directly - every ioctl and mmap - for the rest of its life.
package final class LibV4L2Device: VideoDeviceIO {
    package let path: String
    /// -1 once closed.
    private var descriptor: CInt
    private var mappings: [Int: Mapping] = [:]
    /// Set once the handle has asked for a format libv4l2 must leave alone;
    /// libv4l2's idea of the format is stale from then on, so it is never
    /// asked again.
    private var bypassesLibV4L2 = false

    private struct Mapping {
        let address: UnsafeMutableRawPointer
        let length: Int
        /// Mapped by the kernel's mmap rather than libv4l2's.
        let isDirect: Bool
    }

    /// Formats that reach the driver without libv4l2.
    private static let directFormats: Set<PixelFormat> = [.mjpeg]

    /// Opens `path` and checks that it is a V4L2 device.
    ///
    /// Fails with the errno of `open(2)` (`ENOENT` for a missing node,
    /// `EACCES` without permission) or `ENOTTY` for a file that is not a
    /// V4L2 device, such as `/dev/null`.
    package init(path: String) throws(Errno) {
        self.path = path
        let fd = try valueOrErrno { Glibc.open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC) }
        // Ask the kernel first: libv4l2 would log its own complaint about a
        // file that is not a video device before failing the same way.
        var capability = v4l2_capability()
        let answer = withUnsafeMutablePointer(to: &capability) {
            cv4l2_raw_ioctl(fd, cv4l2_request_querycap(), $0)
        }
        if answer == -1 {
            let error = Errno.current
            Glibc.close(fd)
            throw error
        }
        if v4l2_fd_open(fd, cv4l2_enable_enum_fmt_emulation()) == -1 {
            let error = Errno.current
            Glibc.close(fd)
            throw error
        }
        descriptor = fd
    }

    deinit {
        close()
    }

    private static let captureType = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
    /// Enumerations end with EINVAL; this bounds them for a driver that
    /// never says so.
    private static let enumerationLimit: UInt32 = 1024
    private static let mmapMemory = V4L2_MEMORY_MMAP.rawValue

    /// One ioctl on `argument`, through libv4l2 unless the handle bypasses
    /// it, retried on EINTR.
    private func control<Argument>(_ request: UInt, _ argument: inout Argument) throws(Errno) {
        guard descriptor >= 0 else { throw .badFileDescriptor }
        let fd = descriptor
        let direct = bypassesLibV4L2
        _ = try valueOrErrno {
            withUnsafeMutablePointer(to: &argument) {
                direct ? cv4l2_raw_ioctl(fd, request, $0) : cv4l2_ioctl(fd, request, $0)
            }
        }
    }

    package func queryCapabilities() throws(Errno) -> VideoCapabilities {
        var capability = v4l2_capability()
        try control(cv4l2_request_querycap(), &capability)
        let hasDeviceCaps = capability.capabilities & cv4l2_cap_device_caps() != 0
        return VideoCapabilities(
            driver: Self.string(capability.driver),
            card: Self.string(capability.card),
            busInfo: Self.string(capability.bus_info),
            deviceCapabilities: hasDeviceCaps ? capability.device_caps : capability.capabilities
        )
    }

    package func enumerateFormats() throws(Errno) -> [FormatDescription] {
        var formats: [FormatDescription] = []
        for index in UInt32(0)..<Self.enumerationLimit {
            var entry = v4l2_fmtdesc()
            entry.index = index
            entry.type = Self.captureType
            do {
                try control(cv4l2_request_enum_fmt(), &entry)
            } catch {
                // EINVAL past the last index ends the list.
                if error == .invalidArgument { break }
                throw error
            }
            formats.append(FormatDescription(
                pixelFormat: PixelFormat(rawValue: entry.pixelformat),
                description: Self.string(entry.description),
                isCompressed: entry.flags & cv4l2_fmt_flag_compressed() != 0,
                isEmulated: entry.flags & cv4l2_fmt_flag_emulated() != 0
            ))
        }
        return formats
    }

    package func enumerateFrameSizes(for pixelFormat: PixelFormat) throws(Errno) -> FrameSizes {
        var sizes: [FrameSize] = []
        for index in UInt32(0)..<Self.enumerationLimit {
            var entry = v4l2_frmsizeenum()
            entry.index = index
            entry.pixel_format = pixelFormat.rawValue
            do {
                try control(cv4l2_request_enum_framesizes(), &entry)
            } catch {
                if error == .invalidArgument && index > 0 { break }
                throw error
            }
            if entry.type == V4L2_FRMSIZE_TYPE_DISCRETE.rawValue {
                sizes.append(FrameSize(width: Int(entry.discrete.width), height: Int(entry.discrete.height)))
            } else {
                // Continuous and stepwise ranges come as one entry at index 0.
                let range = entry.stepwise
                return .stepwise(
                    minimum: FrameSize(width: Int(range.min_width), height: Int(range.min_height)),
                    maximum: FrameSize(width: Int(range.max_width), height: Int(range.max_height)),
                    step: FrameSize(width: Int(max(range.step_width, 1)), height: Int(max(range.step_height, 1)))
                )
            }
        }
        return .discrete(sizes)
    }

    package func enumerateFrameIntervals(for pixelFormat: PixelFormat, size: FrameSize) throws(Errno) -> FrameIntervals {
        var intervals: [FrameInterval] = []
        for index in UInt32(0)..<Self.enumerationLimit {
            var entry = v4l2_frmivalenum()
            entry.index = index
            entry.pixel_format = pixelFormat.rawValue
            entry.width = UInt32(size.width)
            entry.height = UInt32(size.height)
            do {
                try control(cv4l2_request_enum_frameintervals(), &entry)
            } catch {
                if error == .invalidArgument && index > 0 { break }
                throw error
            }
            if entry.type == V4L2_FRMIVAL_TYPE_DISCRETE.rawValue {
                intervals.append(Self.interval(entry.discrete))
            } else {
                let range = entry.stepwise
                return .stepwise(minimum: Self.interval(range.min), maximum: Self.interval(range.max), step: Self.interval(range.step))
            }
        }
        return .discrete(intervals)
    }

    package func getFormat() throws(Errno) -> VideoFormat {
        var format = v4l2_format()
        format.type = Self.captureType
        try control(cv4l2_request_g_fmt(), &format)
        return Self.videoFormat(format.fmt.pix)
    }

    package func setFormat(_ requested: VideoFormat) throws(Errno) -> VideoFormat {
        if Self.directFormats.contains(requested.pixelFormat) { bypassesLibV4L2 = true }
        var format = v4l2_format()
        format.type = Self.captureType
        format.fmt.pix.width = UInt32(requested.width)
        format.fmt.pix.height = UInt32(requested.height)
        format.fmt.pix.pixelformat = requested.pixelFormat.rawValue
        format.fmt.pix.field = V4L2_FIELD_NONE.rawValue
        try control(cv4l2_request_s_fmt(), &format)
        return Self.videoFormat(format.fmt.pix)
    }

    package func setFrameInterval(_ interval: FrameInterval) throws(Errno) -> FrameInterval? {
        var parameters = v4l2_streamparm()
        parameters.type = Self.captureType
        do {
            try control(cv4l2_request_g_parm(), &parameters)
        } catch {
            if error == .inappropriateIOCTLForDevice { return nil }
            throw error
        }
        guard parameters.parm.capture.capability & cv4l2_cap_timeperframe() != 0 else { return nil }
        parameters.parm.capture.timeperframe = v4l2_fract(
            numerator: UInt32(interval.numerator), denominator: UInt32(interval.denominator))
        try control(cv4l2_request_s_parm(), &parameters)
        return Self.interval(parameters.parm.capture.timeperframe)
    }

    package func requestBuffers(count: Int) throws(Errno) -> Int {
        // Freeing buffers while they are mapped is EBUSY on most drivers.
        if count == 0 { unmapBuffers() }
        var request = v4l2_requestbuffers()
        request.count = UInt32(count)
        request.type = Self.captureType
        request.memory = Self.mmapMemory
        try control(cv4l2_request_reqbufs(), &request)
        return Int(request.count)
    }

    @discardableResult
    package func mapBuffer(index: Int) throws(Errno) -> Int {
        if let mapping = mappings[index] { return mapping.length }
        var buffer = v4l2_buffer()
        buffer.index = UInt32(index)
        buffer.type = Self.captureType
        buffer.memory = Self.mmapMemory
        try control(cv4l2_request_querybuf(), &buffer)
        let length = Int(buffer.length)
        let direct = bypassesLibV4L2
        let mapped = direct
            ? Glibc.mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, off_t(buffer.m.offset))
            : v4l2_mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, Int64(buffer.m.offset))
        guard let address = mapped, address != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw Errno.current
        }
        mappings[index] = Mapping(address: address, length: length, isDirect: direct)
        return length
    }

    package func withMappedBuffer<Result>(index: Int, _ body: (UnsafeRawBufferPointer) -> Result) throws(Errno) -> Result {
        guard let mapping = mappings[index] else { throw .invalidArgument }
        return body(UnsafeRawBufferPointer(start: mapping.address, count: mapping.length))
    }

    package func unmapBuffers() {
        for mapping in mappings.values {
            if mapping.isDirect {
                Glibc.munmap(mapping.address, mapping.length)
            } else {
                v4l2_munmap(mapping.address, mapping.length)
            }
        }
        mappings.removeAll()
    }

    package func queueBuffer(index: Int) throws(Errno) {
        var buffer = v4l2_buffer()
        buffer.index = UInt32(index)
        buffer.type = Self.captureType
        buffer.memory = Self.mmapMemory
        try control(cv4l2_request_qbuf(), &buffer)
    }

    package func dequeueBuffer() throws(Errno) -> DequeuedBuffer {
        var buffer = v4l2_buffer()
        buffer.type = Self.captureType
        buffer.memory = Self.mmapMemory
        try control(cv4l2_request_dqbuf(), &buffer)
        let isMonotonic = buffer.flags & cv4l2_buf_flag_timestamp_mask() == cv4l2_buf_flag_timestamp_monotonic()
        let stamp = buffer.timestamp
        let nanoseconds = UInt64(max(stamp.tv_sec, 0)) * 1_000_000_000 + UInt64(max(stamp.tv_usec, 0)) * 1_000
        return DequeuedBuffer(
            index: Int(buffer.index),
            bytesUsed: Int(buffer.bytesused),
            sequence: buffer.sequence,
            monotonicTimestampNanoseconds: isMonotonic && nanoseconds > 0 ? nanoseconds : nil,
            hasError: buffer.flags & cv4l2_buf_flag_error() != 0
        )
    }

    package func poll(timeoutMilliseconds: Int) throws(Errno) -> PollEvents {
        guard descriptor >= 0 else { throw .badFileDescriptor }
        var request = pollfd(fd: descriptor, events: Int16(POLLIN | POLLPRI), revents: 0)
        let ready = Glibc.poll(&request, 1, CInt(clamping: timeoutMilliseconds))
        if ready == -1 {
            let error = Errno.current
            // A signal cut the wait short: report it as a quiet wake-up.
            if error == .interrupted { return [] }
            throw error
        }
        return PollEvents(rawValue: request.revents)
    }

    package func streamOn() throws(Errno) {
        var type = CInt(Self.captureType)
        try control(cv4l2_request_streamon(), &type)
    }

    package func streamOff() throws(Errno) {
        var type = CInt(Self.captureType)
        try control(cv4l2_request_streamoff(), &type)
    }

    package func close() {
        guard descriptor >= 0 else { return }
        unmapBuffers()
        v4l2_close(descriptor)
        descriptor = -1
    }

    // MARK: Conversions from the C structures

    /// The NUL-terminated text in a fixed-size `__u8` array.
    private static func string<Tuple>(_ characters: Tuple) -> String {
        withUnsafeBytes(of: characters) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    private static func interval(_ fraction: v4l2_fract) -> FrameInterval {
        FrameInterval(numerator: Int(fraction.numerator), denominator: Int(fraction.denominator))
    }

    private static func videoFormat(_ pix: v4l2_pix_format) -> VideoFormat {
        VideoFormat(
            pixelFormat: PixelFormat(rawValue: pix.pixelformat),
            width: Int(pix.width),
            height: Int(pix.height),
            bytesPerLine: Int(pix.bytesperline),
            sizeImage: Int(pix.sizeimage)
        )
    }
}

/// Opens real V4L2 devices through libv4l2 and finds their stable names in
/// `/dev/v4l/by-id` and their USB ids in sysfs.
package struct LibV4L2Opener: VideoDeviceOpener {
    /// Where device nodes live (`/dev`).
    package var deviceDirectory: String
    /// Where sysfs is mounted (`/sys`).
    package var sysfsRoot: String

    package init(deviceDirectory: String = "/dev", sysfsRoot: String = "/sys") {
        self.deviceDirectory = deviceDirectory
        self.sysfsRoot = sysfsRoot
    }

    package func open(path: String) throws(Errno) -> any VideoDeviceIO {
        try LibV4L2Device(path: path)
    }

    /// The `/dev/v4l/by-id` links, then the `/dev/v4l/by-path` links, that
    /// point at the same node as `path` (excluding `path` itself).
    package func stablePaths(for path: String) -> [String] {
        guard let target = resolvedPath(path) else { return [] }
        var found: [String] = []
        for folder in ["by-id", "by-path"] {
            let directory = "\(deviceDirectory)/v4l/\(folder)"
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            for name in names.sorted() {
                let link = "\(directory)/\(name)"
                if link != path, resolvedPath(link) == target { found.append(link) }
            }
        }
        return found
    }

    /// Reads `idVendor` and `idProduct` from the USB device above
    /// `/sys/class/video4linux/videoN/device`.
    package func usbDeviceID(for path: String) -> USBDeviceID? {
        guard let node = resolvedPath(path)?.split(separator: "/").last else { return nil }
        guard var directory = resolvedPath("\(sysfsRoot)/class/video4linux/\(node)/device") else { return nil }
        // The link names the USB interface; the ids live on the device above it.
        for _ in 0..<4 {
            if let vendor = Self.readHex("\(directory)/idVendor"), let product = Self.readHex("\(directory)/idProduct") {
                return USBDeviceID(vendor: vendor, product: product)
            }
            guard let slash = directory.lastIndex(of: "/"), slash != directory.startIndex else { return nil }
            directory = String(directory[..<slash])
        }
        return nil
    }

    private func resolvedPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private static func readHex(_ path: String) -> UInt16? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return UInt16(text.trimmingCharacters(in: .whitespacesAndNewlines), radix: 16)
    }
}
