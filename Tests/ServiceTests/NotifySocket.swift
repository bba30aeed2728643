import Foundation
import Synchronization
import TestSupport

/// A datagram socket standing in for systemd's notification socket: it
/// collects every message sent to it, on a thread of its own.
final class NotifySocket: @unchecked Sendable {
    /// The value for `$NOTIFY_SOCKET`: a path, or `@name` for an abstract socket.
    let address: String
    private let descriptor: Int32
    private let received = Mutex<[String]>([])
    private let done = DispatchSemaphore(value: 0)

    init(abstract: Bool = false) throws {
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestFailure("socket: \(String(cString: strerror(errno)))") }
        let name = "thermocolor-notify-\(UUID().uuidString.prefix(8))"
        address = abstract ? "@" + name : NSTemporaryDirectory() + name + ".sock"
        var storage = sockaddr_un()
        storage.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(address.utf8)
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &storage.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count + (abstract ? 0 : 1))
        let bound = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0 else { throw TestFailure("bind \(address): \(String(cString: strerror(errno)))") }
        let thread = Thread { [self] in
            receiveLoop()
            done.signal()
        }
        thread.start()
    }

    /// Every datagram so far, in arrival order.
    var messages: [String] { received.withLock { $0 } }

    /// The first line of each message naming a state (READY=1, WATCHDOG=1…), STATUS-only messages left out.
    var states: [String] {
        messages.compactMap { message in
            message.split(separator: "\n").map(String.init).first { !$0.hasPrefix("STATUS=") && !$0.hasPrefix("MONOTONIC_USEC=") }
        }
    }

    /// Waits up to `timeout` seconds for a message containing `text`.
    @discardableResult
    func wait(for text: String, timeout: Double = 30) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            if messages.contains(where: { $0.contains(text) }) { return true }
            usleep(20_000)
        }
        return false
    }

    private func receiveLoop() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            // A zero-length datagram is the close signal below.
            guard count > 0 else { return }
            let message = String(decoding: buffer[0..<count], as: UTF8.self)
            received.withLock { $0.append(message) }
        }
    }

    func close() {
        shutdown(descriptor, Int32(SHUT_RDWR))
        done.wait()
        Glibc.close(descriptor)
        if !address.hasPrefix("@") { unlink(address) }
    }
}
