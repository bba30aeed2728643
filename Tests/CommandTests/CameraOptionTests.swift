import Foundation
import TestSupport
import Testing

/// `run`'s camera mode options, checked before any device is opened. (What
/// a real driver does with them is tested in the vivid VM: VividTests.)
@Suite("run --camera-size, --camera-format, --camera-fps")
struct CameraOptionTests {
    func failure(_ arguments: [String]) throws -> (status: Int32, message: String) {
        let result = try runProcess(thermocolorBinary, ["run"] + arguments + ["--output", "/tmp/thermocolor-never.mkv"], timeout: 60)
        return (result.status, result.error.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test("malformed values are one line naming what is expected")
    func malformedValues() throws {
        let size = try failure(["--input", "/dev/video9", "--camera-size", "640"])
        #expect(size.status != 0)
        #expect(size.message.contains("--camera-size must be WIDTHxHEIGHT, such as 640x480 (got '640')"), "\(size.message)")
        let format = try failure(["--input", "/dev/video9", "--camera-format", "H264"])
        #expect(format.message.contains("--camera-format must be one of Y16, GREY, YUYV, UYVY, NV12, YU12, YV12, MJPG (got 'H264')"), "\(format.message)")
        let rate = try failure(["--input", "/dev/video9", "--camera-fps", "0"])
        #expect(rate.message.contains("--camera-fps must be above 0"), "\(rate.message)")
    }

    @Test("they apply to V4L2 cameras only")
    func camerasOnly() throws {
        let file = try failure(["--input", packageRoot + "/Samples/thermal-sample.mkv", "--camera-size", "640x480"])
        #expect(file.status != 0)
        #expect(file.message.contains("apply to V4L2 cameras (/dev/video…)"), "\(file.message)")
    }

    @Test("a camera that is not there is still one line, with the mode options accepted")
    func missingCamera() throws {
        let missing = try failure(["--input", "/dev/video9", "--camera-size", "640x480", "--camera-format", "y16", "--camera-fps", "25"])
        #expect(missing.status != 0)
        #expect(missing.message.split(separator: "\n").count == 1, "\(missing.message)")
        #expect(missing.message.contains("/dev/video9: no such video device"), "\(missing.message)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/thermocolor-never.mkv"))
    }
}
