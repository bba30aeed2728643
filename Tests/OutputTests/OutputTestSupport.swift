import Foundation
import Imaging
import MediaIO
import Outputs
import Pipeline
import Synchronization
import TestSupport

/// Synthetic 14-bit thermal frames (the project's scene generator), optionally
/// paced like a camera, until `count` frames or until `keepGoing` says stop.
final class SceneSource: ThermalFrameSource, @unchecked Sendable {
    let width: Int
    let height: Int
    let rate: Int32
    private let count: Int
    private let pace: Bool
    private let keepGoing: @Sendable (Int) -> Bool
    private var synthesizer: ThermalSceneSynthesizer
    private var index = 0
    private let stopped = Atomic<Bool>(false)

    init(count: Int, width: Int = 160, height: Int = 128, rate: Int32 = 25, pace: Bool = false,
         keepGoing: @escaping @Sendable (Int) -> Bool = { _ in true }) throws {
        self.count = count
        self.width = width
        self.height = height
        self.rate = rate
        self.pace = pace
        self.keepGoing = keepGoing
        synthesizer = try ThermalSceneSynthesizer(width: width, height: height, significantBits: 14, seed: 7)
    }

    var timeBase: Rational { Rational(1, rate) }

    func nextFrame() throws -> ThermalFrame? {
        guard index < count, !stopped.load(ordering: .relaxed), keepGoing(index) else { return nil }
        if pace { usleep(useconds_t(1_000_000 / Int(rate))) }
        let frame = ThermalFrame(image: synthesizer.nextFrame(), significantBits: 14, pts: Int64(index), duration: 1,
                                 timeBase: timeBase, index: index)
        index += 1
        return frame
    }

    func interrupt() { stopped.store(true, ordering: .relaxed) }
}

/// Events collected from an `OutputSet`, readable while it runs.
final class EventLog: Sendable {
    private let events = Mutex<[OutputEvent]>([])

    var handler: @Sendable (OutputEvent) -> Void {
        { [self] event in events.withLock { $0.append(event) } }
    }

    var all: [OutputEvent] { events.withLock { $0 } }

    func of(_ kind: OutputEvent.Kind) -> [OutputEvent] { all.filter { $0.kind == kind } }
}

/// Runs a pipeline on a thread of its own, for tests that act on peers meanwhile.
final class BackgroundRun: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let result = Mutex<Result<Void, any Error>?>(nil)

    init(_ pipeline: FramePipeline) {
        let thread = Thread { [self] in
            let outcome = Result { try pipeline.run() }
            result.withLock { $0 = outcome }
            done.signal()
        }
        thread.start()
    }

    /// Waits for the end and rethrows the pipeline's error.
    func wait() throws {
        done.wait()
        done.signal()  // a second wait returns at once
        try result.withLock { $0 }!.get()
    }
}

/// A child process (an ffmpeg listener) that a test must not leave behind:
/// `stop` ends it politely, then firmly; `deinit` kills it.
final class ChildProcess: @unchecked Sendable {
    let process = Process()
    let errorPath: String

    init(_ executable: String, _ arguments: [String], errorPath: String) throws {
        self.errorPath = errorPath
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        try process.run()
    }

    deinit { kill(signal: SIGKILL) }

    var isRunning: Bool { process.isRunning }

    func kill(signal: Int32) {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    /// Waits up to `seconds` for the process to end by itself, then SIGINT, then SIGKILL.
    /// - Returns: true when it ended by itself.
    @discardableResult
    func waitForExit(seconds: Double) -> Bool {
        if waitUntil(seconds: seconds, { !self.process.isRunning }) { return true }
        Foundation.kill(process.processIdentifier, SIGINT)
        if !waitUntil(seconds: 5, { !self.process.isRunning }) { kill(signal: SIGKILL) }
        process.waitUntilExit()
        return false
    }

    var errorOutput: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }
}

/// Polls `condition` every 20 ms for up to `seconds`. - Returns: whether it held.
@discardableResult
func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date(timeIntervalSinceNow: seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

/// A port on 127.0.0.1 nothing listens on now (TCP or UDP).
func freePort(udp: Bool = false) -> Int {
    let descriptor = socket(AF_INET, Int32(udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
            _ = bind(descriptor, generic, length)
            _ = getsockname(descriptor, generic, &length)
        }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}


/// Size of a file, 0 when it is missing.
func fileSize(_ path: String) -> Int64 {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
}

/// Whether each frame is a keyframe, in order, as ffprobe decodes them.
func keyframeFlags(_ path: String) throws -> [Bool] {
    let result = try runProcess("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "frame=key_frame",
                                            "-of", "json", path])
    guard result.status == 0,
          let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any],
          let frames = object["frames"] as? [[String: Any]] else {
        throw TestFailure("ffprobe could not read \(path): \(result.error)")
    }
    return frames.map { ($0["key_frame"] as? Int) == 1 }
}

/// FFmpeg's complaints while decoding every frame of `path`; empty means it decodes cleanly.
func decodeErrors(_ path: String) throws -> String {
    let result = try runProcess("ffmpeg", ["-v", "error", "-i", path, "-f", "null", "-"])
    return result.status == 0 ? result.error : "exit \(result.status): \(result.error)"
}

/// Presentation time of every frame in seconds, as ffprobe decodes them.
func frameTimes(_ path: String) throws -> [Double] {
    let result = try runProcess("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pts_time",
                                            "-of", "json", path])
    guard result.status == 0,
          let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any],
          let frames = object["frames"] as? [[String: Any]] else {
        throw TestFailure("ffprobe could not read \(path): \(result.error)")
    }
    return frames.compactMap { ($0["pts_time"] as? String).flatMap(Double.init) }
}
