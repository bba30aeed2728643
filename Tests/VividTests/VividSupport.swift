import Foundation
import TestSupport

/// The vivid device inside the VM, and the host's side of booting it.
enum Vivid {
    /// Set by the run script the VM test hands the guest.
    static let isGuest = ProcessInfo.processInfo.environment["THERMOCOLOR_VIVID_GUEST"] == "1"
    static let device = "/dev/video0"
    static let driver = "/sys/bus/platform/drivers/vivid"

    /// Test patterns of vivid's `test_pattern` control (drivers/media/common/v4l2-tpg).
    enum Pattern: Int {
        case black = 5, white = 6, grayRamp = 20
    }

    /// Chooses vivid's picture, without its text overlay (which would
    /// spoil a flat or ramp pattern), through the real v4l2-ctl.
    static func show(_ pattern: Pattern) throws {
        let result = try runProcess("v4l2-ctl", ["-d", device, "-c", "test_pattern=\(pattern.rawValue),osd_text_mode=2"], timeout: 30)
        guard result.status == 0 else { throw TestFailure("v4l2-ctl failed: \(result.error)") }
    }

    /// Takes the device away as pulling a USB camera's cable does: the
    /// driver unbinds, open descriptors get ENODEV, the node disappears.
    static func unplug() throws {
        try "vivid.0".write(toFile: "\(driver)/unbind", atomically: false, encoding: .utf8)
        wait { !FileManager.default.fileExists(atPath: device) }
    }

    /// Brings it back, as a new device with default controls.
    static func plug() throws {
        try "vivid.0".write(toFile: "\(driver)/bind", atomically: false, encoding: .utf8)
        wait { FileManager.default.fileExists(atPath: device) }
    }

    /// Plugs the device back if a test left it unplugged.
    static func ensurePlugged() {
        if !FileManager.default.fileExists(atPath: device) { try? plug() }
    }

    private static func wait(limit: Double = 10, _ condition: () -> Bool) {
        let deadline = Date(timeIntervalSinceNow: limit)
        while !condition(), Date() < deadline { usleep(20_000) }
    }
}

/// `GET path` from 127.0.0.1:`port`; the body, or nil when nothing answered.
func httpGet(port: Int, _ path: String) -> String? {
    try? httpExchange(port: UInt16(port), "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").body
}

/// The samples of a Prometheus page, by name (labels included).
func metricValues(_ page: String) -> [String: Double] {
    var values: [String: Double] = [:]
    for line in page.split(separator: "\n") where !line.hasPrefix("#") {
        let parts = line.split(separator: " ")
        if parts.count == 2, let value = Double(parts[1]) { values[String(parts[0])] = value }
    }
    return values
}

/// Waits up to `limit` seconds for `condition`.
@discardableResult
func eventually(limit: Double = 30, _ condition: () -> Bool) -> Bool {
    let deadline = Date(timeIntervalSinceNow: limit)
    while Date() < deadline {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
}
