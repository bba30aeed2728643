import Foundation

/// Shared helpers for ThermoColor's test targets: temporary folders, running
/// real tools (ffprobe, ffmpeg, our own binary) and finding optional data.

/// A fresh folder under the system's temporary directory, removed by `cleanup()`.
package struct TemporaryFolder: Sendable {
    package let path: String

    package init(_ label: String = "thermocolor-test") throws {
        path = NSTemporaryDirectory() + "\(label)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    package func file(_ name: String) -> String { path + "/" + name }

    package func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// What a finished process printed and returned.
package struct ProcessResult: Sendable {
    package var status: Int32
    package var output: String
    package var error: String
    /// True when the process was killed by a signal (a crash), not an exit.
    package var crashed: Bool
}

/// Runs `executable` with `arguments` to completion, collecting its output.
/// `timeout` kills it (so a hang fails the test instead of stalling the suite).
/// `currentDirectory` runs it there, for relative paths as a user types them.
@discardableResult
package func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                       currentDirectory: String? = nil, timeout: Double = 300) throws -> ProcessResult {
    let process = Process()
    if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
    process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : "/usr/bin/env")
    process.arguments = executable.hasPrefix("/") ? arguments : [executable] + arguments
    if let environment {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    let folder = try TemporaryFolder("process")
    defer { folder.cleanup() }
    FileManager.default.createFile(atPath: folder.file("out"), contents: nil)
    FileManager.default.createFile(atPath: folder.file("err"), contents: nil)
    let out = try FileHandle(forWritingTo: URL(fileURLWithPath: folder.file("out")))
    let err = try FileHandle(forWritingTo: URL(fileURLWithPath: folder.file("err")))
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let deadline = Date(timeIntervalSinceNow: timeout)
    while process.isRunning, Date() < deadline { usleep(20_000) }
    if process.isRunning {
        process.terminate()
        usleep(500_000)
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
    process.waitUntilExit()
    try out.close()
    try err.close()
    let output = (try? String(contentsOfFile: folder.file("out"), encoding: .utf8)) ?? ""
    let error = (try? String(contentsOfFile: folder.file("err"), encoding: .utf8)) ?? ""
    return ProcessResult(status: process.terminationStatus, output: output, error: error,
                         crashed: process.terminationReason == .uncaughtSignal)
}

/// What ffprobe says of a file's first video stream, read back after decoding every frame.
package struct ProbedVideo: Sendable {
    package var codec: String
    package var width: Int
    package var height: Int
    package var pixelFormat: String
    /// Frames actually decoded (`-count_frames`).
    package var frameCount: Int
    package var duration: Double?
    package var container: String
}

/// Runs the real ffprobe on `path`, decoding every frame to count them.
package func ffprobe(_ path: String) throws -> ProbedVideo {
    let result = try runProcess("ffprobe", ["-v", "error", "-count_frames", "-select_streams", "v:0",
                                            "-show_entries", "stream=codec_name,width,height,pix_fmt,nb_read_frames,duration:format=format_name,duration",
                                            "-of", "json", path])
    guard result.status == 0,
          let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any],
          let streams = object["streams"] as? [[String: Any]], let stream = streams.first else {
        throw TestFailure("ffprobe could not read \(path): \(result.error)")
    }
    let format = object["format"] as? [String: Any]
    let duration = (stream["duration"] as? String).flatMap(Double.init) ?? (format?["duration"] as? String).flatMap(Double.init)
    return ProbedVideo(
        codec: stream["codec_name"] as? String ?? "",
        width: stream["width"] as? Int ?? 0,
        height: stream["height"] as? Int ?? 0,
        pixelFormat: stream["pix_fmt"] as? String ?? "",
        frameCount: Int(stream["nb_read_frames"] as? String ?? "") ?? 0,
        duration: duration,
        container: format?["format_name"] as? String ?? "")
}

/// Decodes `path` with the real ffmpeg to raw RGB frames; nil if ffmpeg fails.
package func ffmpegDecodeRGB(_ path: String, width: Int, height: Int) throws -> [[UInt8]]? {
    let folder = try TemporaryFolder("decode")
    defer { folder.cleanup() }
    let raw = folder.file("frames.rgb")
    let result = try runProcess("ffmpeg", ["-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", raw])
    guard result.status == 0, let data = FileManager.default.contents(atPath: raw) else { return nil }
    let frameSize = width * height * 3
    return stride(from: 0, to: data.count - frameSize + 1, by: frameSize).map { Array(data[$0..<($0 + frameSize)]) }
}

package struct TestFailure: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// The package root, found from this file's place in the tree.
package let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// `../shared/data` beside the checkout (RoadScene, VIFB), or nil where it is absent.
package let sharedDataFolder: String? = {
    let candidate = URL(fileURLWithPath: packageRoot).deletingLastPathComponent().appendingPathComponent("shared/data").path
    return FileManager.default.fileExists(atPath: candidate + "/README.md") ? candidate : nil
}()

/// The built `thermocolor` binary beside the test bundle.
package let thermocolorBinary: String = {
    let candidates = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
        .map { $0.appendingPathComponent("thermocolor").path }
    if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
    // `swift test` runs tests from .build/<config>/; the product sits there too.
    let arguments = CommandLine.arguments.first.map { URL(fileURLWithPath: $0).deletingLastPathComponent() }
    return arguments?.appendingPathComponent("thermocolor").path ?? "thermocolor"
}()
