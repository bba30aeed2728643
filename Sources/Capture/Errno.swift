#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An error number from a system call, as V4L2 devices report them.
///
/// Modelled on swift-system's `Errno`: a typed wrapper over the C `errno`
/// with names for the values capture code has to tell apart. A driver's
/// answer is part of the V4L2 contract (EAGAIN: nothing to dequeue yet;
/// ENODEV: the camera was unplugged; EINVAL: a request the driver does not
/// take), so the device layer throws these rather than flattening them.
package struct Errno: RawRepresentable, Error, Hashable, Sendable {
    /// The raw C error number.
    package let rawValue: CInt

    /// Creates a typed error number from a raw C error number.
    package init(rawValue: CInt) { self.rawValue = rawValue }

    /// The calling thread's `errno`, read right after a failed call.
    static var current: Errno { Errno(rawValue: errno) }

    /// No such file or directory (`ENOENT`): nothing at the path, for
    /// instance a camera's node while it is unplugged.
    package static var noSuchFileOrDirectory: Errno { .init(rawValue: ENOENT) }
    /// No such device (`ENODEV`): the device behind an open descriptor has
    /// gone, which is what every call returns after an unplug.
    package static var noSuchDevice: Errno { .init(rawValue: ENODEV) }
    /// No such device or address (`ENXIO`).
    package static var noSuchDeviceOrAddress: Errno { .init(rawValue: ENXIO) }
    /// Input/output error (`EIO`): the driver lost the stream, for
    /// instance a USB transfer failing as the cable comes out.
    package static var ioError: Errno { .init(rawValue: EIO) }
    /// Resource temporarily unavailable (`EAGAIN`): in non-blocking mode,
    /// no filled buffer is ready to dequeue yet.
    package static var resourceTemporarilyUnavailable: Errno { .init(rawValue: EAGAIN) }
    /// Invalid argument (`EINVAL`): a request, index or state the driver
    /// refuses, such as queueing a buffer that is already queued.
    package static var invalidArgument: Errno { .init(rawValue: EINVAL) }
    /// Device or resource busy (`EBUSY`): another descriptor owns the
    /// stream, or buffers are still allocated.
    package static var resourceBusy: Errno { .init(rawValue: EBUSY) }
    /// Permission denied (`EACCES`).
    package static var permissionDenied: Errno { .init(rawValue: EACCES) }
    /// Interrupted function call (`EINTR`).
    package static var interrupted: Errno { .init(rawValue: EINTR) }
    /// Inappropriate ioctl for device (`ENOTTY`): the file is not a V4L2
    /// device, or the driver does not implement the request.
    package static var inappropriateIOCTLForDevice: Errno { .init(rawValue: ENOTTY) }
    /// Bad file descriptor (`EBADF`): the device was already closed.
    package static var badFileDescriptor: Errno { .init(rawValue: EBADF) }
    /// Cannot allocate memory (`ENOMEM`).
    package static var noMemory: Errno { .init(rawValue: ENOMEM) }

    /// The C macro's name, for messages people search for.
    package var symbolicName: String? {
        switch rawValue {
        case ENOENT: "ENOENT"
        case ENODEV: "ENODEV"
        case ENXIO: "ENXIO"
        case EIO: "EIO"
        case EAGAIN: "EAGAIN"
        case EINVAL: "EINVAL"
        case EBUSY: "EBUSY"
        case EACCES: "EACCES"
        case EPERM: "EPERM"
        case EINTR: "EINTR"
        case ENOTTY: "ENOTTY"
        case EBADF: "EBADF"
        case ENOMEM: "ENOMEM"
        case ENOSPC: "ENOSPC"
        case EPIPE: "EPIPE"
        case ETIMEDOUT: "ETIMEDOUT"
        case EPROTO: "EPROTO"
        default: nil
        }
    }
}

extension Errno: CustomStringConvertible {
    /// The C library's text for the error, with the macro name:
    /// "No such device (ENODEV)".
    package var description: String {
        let text = strerror(rawValue).map { String(cString: $0) } ?? "error \(rawValue)"
        return symbolicName.map { "\(text) (\($0))" } ?? text
    }

    /// The same words for the middle of a sentence: "no such device (ENODEV)".
    package var sentenceDescription: String {
        let text = description
        guard let first = text.first, first.isUppercase,
              text.dropFirst().first.map({ !$0.isUppercase }) ?? true else { return text }
        return first.lowercased() + text.dropFirst()
    }
}

/// Calls `body` until it stops failing with EINTR, then returns its value,
/// or throws the errno it failed with when it returned -1.
@inline(__always)
func valueOrErrno<I: FixedWidthInteger>(_ body: () -> I) throws(Errno) -> I {
    while true {
        let result = body()
        if result != -1 { return result }
        let error = Errno.current
        if error != .interrupted { throw error }
    }
}
