import Foundation
import Logging
import MediaIO
import Pipeline
@testable import Service
import Synchronization
import TestSupport
import Testing

/// One HTTP exchange with the service's endpoint.
func httpRequest(_ address: SocketAddressText, _ request: String, timeout: Double = 10) throws -> (status: Int, headers: String, body: String) {
    try httpExchange(host: address.host, port: address.port, request, timeout: timeout)
}

func get(_ address: SocketAddressText, _ path: String) throws -> (status: Int, headers: String, body: String) {
    try httpRequest(address, "GET \(path) HTTP/1.1\r\nHost: \(address)\r\n\r\n")
}

@Suite("Metrics endpoint, Prometheus text and journald lines")
struct EndpointTests {
    @Test("GET and HEAD are answered, other methods and paths are refused")
    func routes() throws {
        let endpoint = try HTTPEndpoint(address: SocketAddressText(host: "127.0.0.1", port: 0)) { _, path in
            path == "/metrics" ? HTTPResponse(body: "metric 1\n") : .notFound(path)
        }
        endpoint.start()
        defer { endpoint.stop() }
        #expect(endpoint.address.port != 0)
        let metrics = try get(endpoint.address, "/metrics?x=1")
        #expect(metrics.status == 200)
        #expect(metrics.body == "metric 1\n")
        #expect(metrics.headers.contains("Content-Length: 9"))
        let head = try httpRequest(endpoint.address, "HEAD /metrics HTTP/1.1\r\n\r\n")
        #expect(head.status == 200 && head.body.isEmpty)
        #expect(try get(endpoint.address, "/nothing").status == 404)
        #expect(try httpRequest(endpoint.address, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n").status == 405)
        #expect(try httpRequest(endpoint.address, "hello\r\n\r\n").status == 400)
        #expect(endpoint.requestsServed >= 5)
    }

    @Test("A client that connects and says nothing does not block the next scrape for good")
    func idleClient() throws {
        let endpoint = try HTTPEndpoint(address: SocketAddressText(host: "127.0.0.1", port: 0)) { _, _ in HTTPResponse(body: "ok\n") }
        endpoint.start()
        defer { endpoint.stop() }
        let idle = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(idle) }
        var storage = sockaddr_in()
        storage.sin_family = sa_family_t(AF_INET)
        storage.sin_port = endpoint.address.port.bigEndian
        storage.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(idle, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(try get(endpoint.address, "/").body == "ok\n")
    }

    @Test("A taken port fails at once with a clear error")
    func portTaken() throws {
        let first = try HTTPEndpoint(address: SocketAddressText(host: "127.0.0.1", port: 0)) { _, _ in HTTPResponse(body: "") }
        defer { first.stop() }
        #expect {
            try HTTPEndpoint(address: first.address) { _, _ in HTTPResponse(body: "") }
        } throws: { error in
            "\(error)".contains("metrics endpoint 127.0.0.1:\(first.address.port)") && "\(error)".contains("in use")
        }
    }

    @Test("Histograms are cumulative with +Inf, labels are escaped, families have one header")
    func prometheusText() {
        var page = PrometheusText()
        page.counter("frames_total", "Frames.", 3, labels: ["output": "a \"b\"\\c"])
        page.counter("frames_total", "Frames.", 4, labels: ["output": "d"])
        page.gauge("depth", "Depth.", 1.5)
        page.histogram("latency_seconds", "Latency.", upperBounds: [0.01, 0.1], counts: [2, 3, 1], sum: 0.25)
        #expect(page.text == """
        # HELP frames_total Frames.
        # TYPE frames_total counter
        frames_total{output="a \\"b\\"\\\\c"} 3
        frames_total{output="d"} 4
        # HELP depth Depth.
        # TYPE depth gauge
        depth 1.5
        # HELP latency_seconds Latency.
        # TYPE latency_seconds histogram
        latency_seconds_bucket{le="0.01"} 2
        latency_seconds_bucket{le="0.1"} 5
        latency_seconds_bucket{le="+Inf"} 6
        latency_seconds_sum 0.25
        latency_seconds_count 6

        """)
    }

    @Test("Under journald each line carries its syslog priority; elsewhere plain time-stamped lines")
    func logLines() {
        let lines = LockedLines()
        let level = LogLevelControl(.info)
        var journal = Logger(label: "thermocolor") { JournalLogHandler(label: $0, style: .journal, level: level, write: lines.append) }
        journal[metadataKey: "camera"] = "cam0"
        journal.warning("input lost", metadata: ["reason": "timed out after 5 s"])
        journal.error("two\nlines")
        journal.debug("not shown at info")
        level.level = .debug
        journal.debug("shown after a reload")
        let plain = Logger(label: "thermocolor") { JournalLogHandler(label: $0, style: .plain, level: level, write: lines.append) }
        plain.info("ready")
        let all = lines.all
        #expect(all.count == 4)
        #expect(all[0] == "<4>input lost camera=cam0 reason=\"timed out after 5 s\"\n")
        #expect(all[1] == "<3>two\n<3>lines camera=cam0\n")
        #expect(all[2] == "<7>shown after a reload camera=cam0\n")
        #expect(all[3].hasSuffix(" info thermocolor: ready\n"))
        #expect(all[3].hasPrefix("20"))
    }

    @Test("JOURNAL_STREAM counts only when it names the descriptor's own device and inode")
    func journalDetection() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        _ = FileManager.default.createFile(atPath: folder.file("stream"), contents: nil)
        let descriptor = open(folder.file("stream"), O_WRONLY)
        defer { close(descriptor) }
        var status = stat()
        fstat(descriptor, &status)
        let matching = "\(status.st_dev):\(status.st_ino)"
        #expect(JournalLogHandler.detectStyle(environment: ["JOURNAL_STREAM": matching], descriptor: descriptor) == .journal)
        #expect(JournalLogHandler.detectStyle(environment: ["JOURNAL_STREAM": "1:2"], descriptor: descriptor) == .plain)
        #expect(JournalLogHandler.detectStyle(environment: [:], descriptor: descriptor) == .plain)
    }
}

final class LockedLines: Sendable {
    private let lines = Mutex<[String]>([])
    var append: @Sendable (String) -> Void { { line in self.lines.withLock { $0.append(line) } } }
    var all: [String] { lines.withLock { $0 } }
}

