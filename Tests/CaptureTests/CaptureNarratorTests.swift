import Testing
@testable import Capture

/// Camera events as the sentences `run` prints and the service logs.
@Suite struct CaptureNarratorTests {
    static let stream = CaptureStream(
        devicePath: "/dev/video0", card: "vivid", driver: "vivid", busInfo: "platform:vivid-000", profile: .generic,
        profileReason: "no known camera matched", format: VideoFormat(pixelFormat: .y16, width: 640, height: 480),
        frameInterval: FrameInterval(numerator: 1, denominator: 25), bufferCount: 4,
        imageSize: FrameSize(width: 640, height: 480), significantBits: 16)

    @Test func aLossAndItsReturnReadAsSentences() {
        let narrator = CaptureNarrator(devicePath: "/dev/video0")
        func text(_ event: CaptureEvent) -> [String] { narrator.lines(for: event).map(\.text) }
        #expect(text(.started(Self.stream)) == ["camera /dev/video0 streaming: Y16 640×480 at 25 fps (\"vivid\", vivid driver, profile generic)"])
        #expect(text(.disconnected(reason: "no such device (ENODEV)")).isEmpty)
        #expect(text(.reconnecting(attempt: 1, delay: .milliseconds(250), lastError: "no such device (ENODEV)"))
            == ["camera /dev/video0 lost: no such device (ENODEV); retrying in 0.25 s"])
        #expect(text(.reconnecting(attempt: 2, delay: .milliseconds(500), lastError: "no such video device (ENOENT)"))
            == ["camera /dev/video0 still away: no such video device (ENOENT); retrying in 0.5 s (attempt 2)"])
        #expect(text(.reconnecting(attempt: 3, delay: .seconds(1), lastError: "x")).count == 1)
        // A camera away for long is told about once a minute, not every 5 s.
        #expect((4...24).flatMap { text(.reconnecting(attempt: $0, delay: .seconds(5), lastError: "x")) }.count == 2)
        var back = Self.stream
        back.devicePath = "/dev/v4l/by-id/usb-vivid-video-index0"
        #expect(text(.reconnected(back)) == ["camera /dev/video0 back: Y16 640×480 at 25 fps, opened as /dev/v4l/by-id/usb-vivid-video-index0"])
        #expect(narrator.lines(for: .stopped) == [.init(level: .debug, text: "camera /dev/video0 released")])
    }

    @Test func waitingForACameraNotPluggedInYet() {
        let narrator = CaptureNarrator(devicePath: "/dev/video2")
        #expect(narrator.lines(for: .reconnecting(attempt: 1, delay: .milliseconds(250), lastError: "no such video device (ENOENT)")).map(\.text)
            == ["camera /dev/video2 not there yet: no such video device (ENOENT); retrying in 0.25 s"])
        // Stopped right after a loss: the loss is still told.
        _ = narrator.lines(for: .started(Self.stream))
        _ = narrator.lines(for: .disconnected(reason: "no frame for 2 s"))
        #expect(narrator.lines(for: .stopped).map(\.text) == ["camera /dev/video2 lost: no frame for 2 s", "camera /dev/video2 released"])
    }

    @Test func modesAsUsersWriteThem() {
        #expect(FrameSize(parsing: "640x480") == FrameSize(width: 640, height: 480))
        #expect(FrameSize(parsing: "640×480") == FrameSize(width: 640, height: 480))
        #expect(FrameSize(parsing: "640") == nil)
        #expect(FrameSize(parsing: "0x480") == nil)
        #expect(PixelFormat(cameraFormat: "y16") == .y16)
        #expect(PixelFormat(cameraFormat: "MJPEG") == .mjpeg)
        #expect(PixelFormat(cameraFormat: "NV12") == .nv12)
        #expect(PixelFormat(cameraFormat: "RGB3") == nil)
        #expect(CaptureError(path: "/dev/video0", operation: "open", errno: .noSuchFileOrDirectory, detail: "no such video device").summary
            == "no such video device (ENOENT)")
        #expect(Errno.noSuchDevice.sentenceDescription == "no such device (ENODEV)")
    }
}
