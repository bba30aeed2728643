import CaptureTesting
import Foundation
import Imaging
import MediaIO
import TestSupport
import Testing
@testable import Capture

/// The real capture code against a simulated MJPEG camera whose frames are
/// JPEGs made by the real ffmpeg: the luma must come out as ffmpeg decodes
/// it, and frames that do not decode must be skipped, counted, and not stop
/// the stream.
@Suite struct MJPEGCaptureTests {
    static let width = 96
    static let height = 64

    /// Five successive testsrc frames as JPEGs, and ffmpeg's luma of each.
    static func fixtures() throws -> (jpegs: [[UInt8]], luma: [Gray16Image]) {
        let jpegs = try ffmpegJPEGFrames(width: width, height: height, count: 5)
        let luma = try jpegs.map { jpeg in
            Gray16Image(width: width, height: height,
                        samples: try ffmpegDecodeJPEGLuma(jpeg, width: width, height: height).map(UInt16.init))
        }
        return (jpegs, luma)
    }

    @Test func anMJPEGOnlyCameraIsDecodedToFFmpegsLuma() throws {
        let (jpegs, luma) = try Self.fixtures()
        let camera = simulatedCamera(modes: [mode(.mjpeg, [(Self.width, Self.height)])],
                                     frameSource: SimulatedCamera.frameSequence(jpegs))
        let recorder = CaptureRecorder()
        let capture = recorder.capture(settings: CaptureSettings(devicePath: "/dev/video0"), opener: SimulatedDeviceOpener(camera))
        try capture.start()
        #expect(recorder.waitForFrames(8))
        capture.stop()

        let stream = try #require(capture.stream)
        #expect(stream.format.pixelFormat == .mjpeg)
        #expect(stream.imageSize == FrameSize(width: Self.width, height: Self.height))
        #expect(stream.significantBits == 8)
        for frame in recorder.frames {
            #expect(frame.significantBits == 8)
            #expect(frame.image == luma[Int(frame.deviceSequence) % luma.count])
        }
        // Several distinct pictures went through, not one stale one.
        #expect(Set(recorder.frames.map { $0.deviceSequence % 5 }).count > 1)
        #expect(capture.statistics.framesCorrupt == 0)
        #expect(camera.report.openHandles == 0)
        #expect(camera.report.mappedBuffers == 0)
    }

    @Test func undecodableJPEGsAreSkippedAndCountedAndTheStreamGoesOn() throws {
        let (jpegs, luma) = try Self.fixtures()
        let otherSize = try ffmpegJPEGFrames(width: 48, height: 32, count: 1)[0]
        // Every fourth frame is bad, each kind in turn: cut short, its scan
        // overwritten, not a JPEG at all, a whole JPEG of the wrong size.
        let damaged: [[UInt8]] = [
            Array(jpegs[0].prefix(jpegs[0].count / 2)),
            overwrittenScan(jpegs[1]),
            [UInt8](repeating: 0x5A, count: 2000),
            otherSize,
        ]
        // The decoder itself refuses the first three.
        let decoder = try MJPEGDecoder()
        for bytes in damaged.prefix(3) {
            #expect(throws: MediaError.self) { try decoder.decodeLuma(bytes) }
        }
        let source: SimulatedCamera.FrameSource = { _, sequence in
            sequence % 4 == 2 ? damaged[Int(sequence / 4) % damaged.count] : jpegs[Int(sequence) % jpegs.count]
        }
        let camera = simulatedCamera(modes: [mode(.mjpeg, [(Self.width, Self.height)])], frameSource: source)
        let recorder = CaptureRecorder()
        let capture = recorder.capture(settings: CaptureSettings(devicePath: "/dev/video0"), opener: SimulatedDeviceOpener(camera))
        try capture.start()
        // Every kind of damage seen at least once, and good frames after it.
        let deadline = Date(timeIntervalSinceNow: 20)
        while capture.statistics.framesCorrupt < 6 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        // The camera cuts two frames short as well, as a USB glitch does.
        camera.truncateNextFrames(2)
        let delivered = recorder.frames.count
        #expect(recorder.waitForFrames(delivered + 10))
        capture.stop()

        let statistics = capture.statistics
        #expect(statistics.framesCorrupt >= 6)
        #expect(!recorder.events.contains { $0.isDisconnected })
        for frame in recorder.frames {
            #expect(frame.deviceSequence % 4 != 2)
            #expect(frame.image == luma[Int(frame.deviceSequence) % luma.count])
        }
        // Sequence numbers keep counting delivered frames only.
        #expect(recorder.frames.map(\.sequence) == Array(0..<UInt64(recorder.frames.count)))
    }

    @Test func mjpegIsTakenWhenAskedForEvenBesideARawFormat() throws {
        let (jpegs, luma) = try Self.fixtures()
        let source: SimulatedCamera.FrameSource = { format, sequence in
            format.pixelFormat == .mjpeg ? jpegs[Int(sequence) % jpegs.count] : encodedFrame(format, sequence: sequence)
        }
        let camera = simulatedCamera(modes: [mode(.yuyv, [(Self.width, Self.height)]), mode(.mjpeg, [(Self.width, Self.height)])],
                                     frameSource: source)

        // Left to choose, capture takes the raw format.
        let chooser = CaptureRecorder()
        let chosen = chooser.capture(settings: CaptureSettings(devicePath: "/dev/video0"), opener: SimulatedDeviceOpener(camera))
        try chosen.start()
        #expect(chooser.waitForFrames(1))
        chosen.stop()
        #expect(chosen.stream?.format.pixelFormat == .yuyv)

        let recorder = CaptureRecorder()
        let capture = recorder.capture(settings: CaptureSettings(devicePath: "/dev/video0", pixelFormat: .mjpeg),
                                       opener: SimulatedDeviceOpener(camera))
        try capture.start()
        #expect(recorder.waitForFrames(3))
        capture.stop()
        #expect(capture.stream?.format.pixelFormat == .mjpeg)
        for frame in recorder.frames {
            #expect(frame.image == luma[Int(frame.deviceSequence) % luma.count])
        }
    }

    /// `jpeg` with everything from a little into its scan up to the
    /// end-of-image marker overwritten: markers intact, picture undecodable.
    private func overwrittenScan(_ jpeg: [UInt8]) -> [UInt8] {
        guard let scan = (0..<(jpeg.count - 1)).first(where: { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xDA }) else { return jpeg }
        var bytes = jpeg
        var state: UInt32 = 0x2545_F491
        for index in (scan + 20)..<(jpeg.count - 2) {
            state = state &* 1_664_525 &+ 1_013_904_223
            bytes[index] = UInt8(truncatingIfNeeded: state >> 24)
        }
        return bytes
    }
}
