#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// A socket error naming what was being done and the system's reason.
package struct SocketError: Error, CustomStringConvertible, Sendable {
    package var description: String

    init(_ action: String, errno code: Int32 = errno) {
        description = "\(action): \(String(cString: strerror(code)))"
    }
}

/// One open socket file descriptor, closed when the owner goes away.
///
/// Every socket the service opens (the notify datagram, the metrics listener
/// and its connections) lives inside one of these, so no descriptor leaks on
/// an early return or a thrown error.
final class OwnedSocket: @unchecked Sendable {
    let descriptor: Int32
    private let lock = NSLock()
    private var isClosed = false

    init(domain: Int32, type: Int32) throws(SocketError) {
        let descriptor = socket(domain, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw SocketError("socket") }
        self.descriptor = descriptor
    }

    init(adopting descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// Wakes a thread blocked in `accept` or `recv` on this socket.
    func shutdownBoth() {
        _ = Glibc.shutdown(descriptor, Int32(SHUT_RDWR))
    }

    func close() {
        lock.lock()
        defer { lock.unlock() }
        guard !isClosed else { return }
        isClosed = true
        _ = Glibc.close(descriptor)
    }

    /// A receive timeout, so a client that sends nothing cannot hold a thread.
    func setReceiveTimeout(seconds: Double) {
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1e6))
        _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends everything, without SIGPIPE when the peer has gone.
    func sendAll(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { buffer in
                send(descriptor, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent < 0, errno == EINTR { continue }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    deinit { close() }
}

/// A literal IPv4 or IPv6 address, parsed with `inet_pton`.
enum IPAddress {
    case v4(in_addr)
    case v6(in6_addr)

    init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self = .v4(v4)
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            self = .v6(v6)
            return
        }
        return nil
    }
}

/// Calls `body` with a `sockaddr` for `address`.
func withSocketAddress<T>(_ address: SocketAddressText, _ body: (Int32, UnsafePointer<sockaddr>, socklen_t) throws -> T) throws -> T {
    switch IPAddress(address.host) {
    case .v4(let ip):
        var storage = sockaddr_in()
        storage.sin_family = sa_family_t(AF_INET)
        storage.sin_port = address.port.bigEndian
        storage.sin_addr = ip
        return try withUnsafePointer(to: &storage) {
            try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                try body(AF_INET, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    case .v6(let ip):
        var storage = sockaddr_in6()
        storage.sin6_family = sa_family_t(AF_INET6)
        storage.sin6_port = address.port.bigEndian
        storage.sin6_addr = ip
        return try withUnsafePointer(to: &storage) {
            try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                try body(AF_INET6, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
            }
        }
    case nil:
        throw SocketError("'\(address.host)' is not a literal IP address", errno: EINVAL)
    }
}

/// Calls `body` with a `sockaddr_un` for a socket path; a leading `@` names
/// an abstract socket (Linux), whose name starts with a NUL byte and whose
/// length counts only the bytes used.
func withUnixSocketAddress<T>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) throws -> T) throws -> T {
    var storage = sockaddr_un()
    storage.sun_family = sa_family_t(AF_UNIX)
    var bytes = Array(path.utf8)
    let isAbstract = bytes.first == UInt8(ascii: "@")
    if isAbstract { bytes[0] = 0 }
    let capacity = MemoryLayout.size(ofValue: storage.sun_path)
    guard !bytes.isEmpty, bytes.count < capacity else {
        throw SocketError("socket path '\(path)' is empty or longer than \(capacity - 1) bytes", errno: ENAMETOOLONG)
    }
    withUnsafeMutableBytes(of: &storage.sun_path) { pathBytes in
        pathBytes.copyBytes(from: bytes)
    }
    let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
    // A filesystem path is NUL-terminated (storage was zeroed); an abstract name is not.
    let length = socklen_t(pathOffset + bytes.count + (isAbstract ? 0 : 1))
    return try withUnsafePointer(to: &storage) {
        try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, length) }
    }
}
