#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import Synchronization

/// What an `HTTPEndpoint` handler answers.
package struct HTTPResponse: Sendable, Equatable {
    package var status: Int
    package var contentType: String
    package var body: String

    package init(status: Int = 200, contentType: String = "text/plain; charset=utf-8", body: String) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    package static func notFound(_ path: String) -> HTTPResponse {
        HTTPResponse(status: 404, body: "no such page: \(path) (try /metrics or /healthz)\n")
    }

    var reason: String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }
}

/// A very small HTTP/1.1 server for `/metrics` and `/healthz`: one thread,
/// one request per connection, answered in turn.
///
/// Scrapes come every few seconds from one Prometheus, so serving them in
/// turn costs nothing and keeps the service free of an event loop. Reads time
/// out after two seconds, so an idle client cannot hold the thread.
package final class HTTPEndpoint: @unchecked Sendable {
    /// The address actually bound (the system's port when 0 was asked for).
    package let address: SocketAddressText
    package typealias Handler = @Sendable (_ method: String, _ path: String) -> HTTPResponse
    private let listener: OwnedSocket
    private let handler: Handler
    private let stopped = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let started = Atomic<Bool>(false)
    private let requests = Atomic<Int>(0)

    /// Binds and listens at once, so a taken port fails at start-up with a
    /// clear error, not later on a background thread.
    package init(address: SocketAddressText, handler: @escaping Handler) throws(SocketError) {
        self.handler = handler
        do {
            let (socket, bound) = try withSocketAddress(address) { family, pointer, length -> (OwnedSocket, SocketAddressText) in
                let socket = try OwnedSocket(domain: family, type: Int32(SOCK_STREAM.rawValue))
                var yes: Int32 = 1
                _ = setsockopt(socket.descriptor, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
                guard bind(socket.descriptor, pointer, length) == 0 else { throw SocketError("metrics endpoint \(address)") }
                guard listen(socket.descriptor, 16) == 0 else { throw SocketError("metrics endpoint \(address): listen") }
                return (socket, SocketAddressText(host: address.host, port: Self.boundPort(of: socket.descriptor) ?? address.port))
            }
            listener = socket
            self.address = bound
        } catch let error as SocketError {
            throw error
        } catch {
            throw SocketError("metrics endpoint \(address): \(error)", errno: EINVAL)
        }
    }

    /// Requests answered so far (connections that sent nothing are not counted).
    package var requestsServed: Int { requests.load(ordering: .relaxed) }

    /// Starts serving on a thread of its own.
    package func start() {
        guard !started.exchange(true, ordering: .relaxed) else { return }
        let thread = Thread { [self] in
            acceptLoop()
            finished.signal()
        }
        thread.name = "thermocolor.metrics"
        thread.start()
    }

    /// Stops accepting, waits for the thread, closes the socket.
    package func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        listener.shutdownBoth()
        if started.load(ordering: .relaxed) { finished.wait() }
        listener.close()
    }

    deinit { stop() }

    private func acceptLoop() {
        while !stopped.load(ordering: .relaxed) {
            let descriptor = accept(listener.descriptor, nil, nil)
            if descriptor < 0 {
                if stopped.load(ordering: .relaxed) { return }
                // Out of descriptors or a connection reset before accept: try again shortly.
                if errno != EINTR { usleep(50_000) }
                continue
            }
            let connection = OwnedSocket(adopting: descriptor)
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
            connection.setReceiveTimeout(seconds: 2)
            serve(connection)
        }
    }

    private func serve(_ connection: OwnedSocket) {
        guard let head = readRequestHead(connection) else { return }
        let requestLine = head.split(separator: "\r\n", maxSplits: 1).first.map(String.init) ?? ""
        let parts = requestLine.split(separator: " ")
        var response: HTTPResponse
        var method = ""
        if parts.count == 3, parts[2].hasPrefix("HTTP/1.") {
            method = String(parts[0])
            let path = String(parts[1].split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0])
            if method == "GET" || method == "HEAD" {
                response = handler(method, path)
            } else {
                response = HTTPResponse(status: 405, body: "only GET and HEAD\n")
            }
        } else {
            response = HTTPResponse(status: 400, body: "not an HTTP/1.x request\n")
        }
        let body = Array(response.body.utf8)
        var text = "HTTP/1.1 \(response.status) \(response.reason)\r\n"
        text += "Content-Type: \(response.contentType)\r\n"
        text += "Content-Length: \(body.count)\r\n"
        text += "Cache-Control: no-store\r\n"
        if response.status == 405 { text += "Allow: GET, HEAD\r\n" }
        text += "Connection: close\r\n\r\n"
        var bytes = Array(text.utf8)
        if method != "HEAD" { bytes += body }
        // Counted before sending, so a client that has its answer sees it counted.
        requests.add(1, ordering: .relaxed)
        _ = connection.sendAll(bytes)
        connection.shutdownBoth()
    }

    /// Reads up to the blank line that ends the headers (8 KiB at most).
    private func readRequestHead(_ connection: OwnedSocket) -> String? {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 2048)
        let terminator: [UInt8] = [13, 10, 13, 10]
        while received.count < 8192 {
            let count = buffer.withUnsafeMutableBytes { recv(connection.descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            received += buffer[0..<count]
            let searchStart = max(0, received.count - count - 3)
            if received[searchStart...].firstRange(of: terminator) != nil { break }
        }
        return received.isEmpty ? nil : String(decoding: received, as: UTF8.self)
    }

    private static func boundPort(of descriptor: Int32) -> UInt16? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard result == 0 else { return nil }
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) } }
        case AF_INET6:
            return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) } }
        default:
            return nil
        }
    }
}
