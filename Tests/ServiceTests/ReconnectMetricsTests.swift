import Foundation
@testable import Service
import TestSupport
import Testing

@Suite("Service metrics for an input that stays down", .serialized)
struct ReconnectMetricsTests {
    @Test("An input that refuses every connection counts each failed attempt, so an alert can fire")
    func failedReconnectsAreCounted() throws {
        let folder = try TemporaryFolder("service-down")
        defer { folder.cleanup() }
        let port = freePort()
        try ServiceProcessTests.configuration(input: "rtsp://127.0.0.1:\(freePort())/none", extraSource: "reconnect_delay = 0.1",
                                              outputs: ServiceProcessTests.recording(folder.file("recordings")), port: port)
            .write(toFile: folder.file("down.toml"), atomically: true, encoding: .utf8)
        let service = try BackgroundProcess(thermocolorBinary, ["run", "--config", folder.file("down.toml")])
        defer { service.stop(signal: SIGKILL) }
        #expect(service.waitForLog("metrics on"), "\(service.log)")
        let deadline = Date(timeIntervalSinceNow: 60)
        var failures = 0.0
        while Date() < deadline {
            failures = (try? ServiceProcessTests.metrics(port: port)["thermocolor_input_reconnect_failures_total"]) ?? 0
            if failures >= 2 { break }
            usleep(100_000)
        }
        #expect(failures >= 2, "\(service.log)")
        #expect(try ServiceProcessTests.metrics(port: port)["thermocolor_ready"] == 0)
        kill(service.processIdentifier, SIGTERM)
        #expect(service.waitForExit(timeout: 30))
        #expect(service.exitStatus == 0, "\(service.log)")
    }
}
