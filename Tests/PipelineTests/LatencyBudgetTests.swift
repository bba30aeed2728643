import Capture
import CaptureTesting
import Foundation
import Imaging
import MediaIO
import Outputs
import Pipeline
import TestSupport
import Testing
import Threading

@Suite("Live drops: late frames only, every one counted")
struct LatencyBudgetTests {
    @Test("A burst that arrives together is taken whole; a frame that waited past the budget goes while a newer one waits")
    func dropLateKeepsBursts() {
        let queue = BoundedQueue<Int>(capacity: 64, policy: .dropLate(after: 0.05))
        for value in 0..<40 { queue.push(value) }
        var taken: [Int] = []
        while queue.depth > 0, let value = queue.pop(timeout: 1) { taken.append(value) }
        #expect(taken == Array(0..<40))
        #expect(queue.dropped == 0)

        // Three frames wait far longer than the budget: the consumer catches up on the newest.
        for value in 100..<103 { queue.push(value) }
        usleep(200_000)
        #expect(queue.pop(timeout: 1) == 102)
        #expect(queue.dropped == 2)
        // A lone late frame is still taken: dropping it would only make the consumer idle.
        queue.push(200)
        usleep(200_000)
        #expect(queue.pop(timeout: 1) == 200)
        #expect(queue.dropped == 2)
        // A full queue still drops its oldest.
        let small = BoundedQueue<Int>(capacity: 2, policy: .dropLate(after: 10))
        for value in 0..<5 { small.push(value) }
        #expect(small.dropped == 3)
    }

    @Test("Frames the camera's own hand-over drops count in the pipeline's drops: captured = written + dropped")
    func cameraSlotDropsAreCounted() throws {
        let camera = SimulatedCamera(
            configuration: .init(
                card: "Boson: FLIR Video", driver: "uvcvideo", busInfo: "usb-0000:00:14.0-2",
                usbDeviceID: USBDeviceID(vendor: 0x09cb, product: 0x4007),
                modes: [.init(pixelFormat: .y16, sizes: [FrameSize(width: 64, height: 48)],
                              intervals: [FrameInterval(numerator: 1, denominator: 60)])]),
            path: "/dev/video0", stablePaths: [])
        let source = CameraSource(settings: CaptureSettings(devicePath: "/dev/video0"), opener: SimulatedDeviceOpener(camera))
        try source.start()
        // Nobody takes frames for a while: the camera keeps delivering into its small slot.
        let deadline = Date(timeIntervalSinceNow: 30)
        while source.framesDroppedBySource == 0, Date() < deadline { usleep(20_000) }
        #expect(source.framesDroppedBySource > 0)

        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let session = try LiveSession(LiveConfiguration(input: "/dev/video0"), source: source,
                                      sinkFactory: LiveSession.writing([folder.file("camera.mkv")], encoder: EncoderSettings(codec: .ffv1)))
        session.onFrameWritten = { statistics in
            if statistics.framesWritten == 20 { session.stop() }
        }
        #expect(finishes(within: 60) { try? session.run() })
        let statistics = try #require(session.statistics)
        #expect(statistics.framesDroppedBySource > 0)
        #expect(statistics.framesDropped >= statistics.framesDroppedBySource)
        #expect(statistics.framesCaptured == statistics.framesWritten + statistics.framesDropped)
    }
}
