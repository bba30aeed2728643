import CaptureTesting
import Foundation
import Testing
@testable import Capture

/// Unplug and return: the capture must report, release, reopen and carry on
/// without a restart, and stop() must always end it.
///
/// Each test blocks a Swift concurrency thread while it waits for frames and
/// events, and a whole test run shares one such thread per core. A time limit
/// is a timer task started beside the test's body, not a measure of the body's
/// own running time: whatever the body then waits for a thread, behind other
/// suites' synchronous tests on two loaded cores, counts against it. One test
/// at a time keeps this suite from holding every thread itself and lets only
/// one of its limits run at once (the nine take about a second together); the
/// limit is there to catch a capture that never stops, which five minutes
/// still does.
@Suite(.serialized, .timeLimit(.minutes(5))) struct CaptureReconnectTests {
    func settings(_ path: String = "/dev/video0", timeout: Duration = .seconds(2),
                  reconnect: ReconnectPolicy = quickReconnect, waitForDevice: Bool = false) -> CaptureSettings {
        CaptureSettings(devicePath: path, frameTimeout: timeout, reconnect: reconnect, waitForDevice: waitForDevice)
    }

    @Test func unplugMidStreamDisconnectsAndFramesFlowAgainAfterReplug() throws {
        let camera = simulatedCamera(modes: [mode(.y16, [(32, 24)])])
        let recorder = CaptureRecorder()
        let capture = recorder.capture(settings: settings(), opener: SimulatedDeviceOpener(camera))
        try capture.start()
        #expect(recorder.waitForFrames(3))

        camera.unplug()
        #expect(recorder.waitUntil { _, events in events.contains(where: \.isDisconnected) })
        // While it is away, capture keeps trying and fails to open.
        #expect(recorder.waitUntil { _, events in events.filter(\.isReconnecting).count >= 2 })
        let reason = try #require(recorder.events.compactMap(\.disconnectReason).first)
        #expect(reason.contains("ENODEV"))
        // The dead device was let go of while away.
        #expect(camera.report.openHandles == 0)
        #expect(camera.report.mappedBuffers == 0)

        let framesBefore = recorder.frames.count
        camera.plug()
        #expect(recorder.waitUntil { frames, events in
            events.contains(where: \.isReconnected) && frames.count >= framesBefore + 3
        })
        capture.stop()

        let events = recorder.events
        #expect(events.first?.isStarted == true)
        #expect(events.last?.isStopped == true)
        #expect(events.filter(\.isReconnected).count == 1)
        if case .reconnecting(let attempt, _, let lastError)? = events.first(where: \.isReconnecting) {
            #expect(attempt == 1)
            #expect(lastError.contains("ENODEV"))
        }
        let statistics = capture.statistics
        #expect(statistics.disconnects == 1)
        #expect(statistics.reconnects == 1)
        // Capture's own counter runs on across the reconnect.
        let sequences = recorder.frames.map(\.sequence)
        #expect(sequences == Array(0..<UInt64(sequences.count)))
        #expect(camera.report.openHandles == 0)
        #expect(camera.report.mappedBuffers == 0)
        #expect(camera.report.allocatedBuffers == 0)
    }

    @Test func aCameraBackUnderAnotherNodeIsFoundByItsByIDName() throws {
        let byID = "/dev/v4l/by-id/usb-FLIR_Boson_1234-video-index0"
        let camera = simulatedCamera(card: "Boson: FLIR Video", modes: [mode(.y16, [(320, 256)])],
                                     path: "/dev/video0", stablePaths: [byID])
        let recorder = CaptureRecorder()
        let capture = recorder.capture(settings: settings("/dev/video0"), opener: SimulatedDeviceOpener(camera))
        try capture.start()
        #expect(recorder.waitForFrames(2))
        camera.unplug()
        #expect(recorder.waitUntil { _, events in events.contains(where: \.isReconnecting) })
        camera.plug(at: "/dev/video2")
        #expect(recorder.waitUntil { _, events in events.contains(where: \.isReconnected) })
        #expect(recorder.events.first(where: \.isReconnected)?.stream?.devicePath == byID)
        let framesBefore = recorder.frames.count
        #expect(recorder.waitForFrames(framesBefore + 2))
        capture.stop()
    }

    @Test func anotherCameraGivenTheFreedNodeIsNotTakenForTheLostOne() throws {
        let byID = "/dev/v4l/by-id/usb-GroupGets_PureThermal_0001-video-index0"
        let lepton = simulatedCamera(card: "PureThermal (fw:v1.3.0)", modes: [mode(.y16, [(160, 120)])],
                                     path: "/dev/video0", stablePaths: [byID])
        let webcam = simulatedCamera(card: "HD Webcam", modes: [mode(.yuyv, [(640, 480)])], path: "/dev/video0")
        webcam.unplug()
        let recorder = CaptureRecorder()
        let capture = recorder.capture(settings: settings("/dev/video0"), opener: SimulatedDeviceOpener(lepton, webcam))
        try capture.start()
        #expect(recorder.waitForFrames(2))
        lepton.unplug()
        webcam.plug(at: "/dev/video0")
        #expect(recorder.waitUntil { _, events in events.filter(\.isReconnecting).count >= 3 })
        #expect(webcam.report.opens == 0)
        lepton.plug(at: "/dev/video1")
        #expect(recorder.waitUntil { _, events in events.contains(where: \.isReconnected) })
        let stream = try #require(recorder.events.compactMap(\.stream).last)
        #expect(stream.card == "PureThermal (fw:v1.3.0)")
        #expect(stream.devicePath == byID)
        capture.stop()
        #expect(webcam.report.opens == 0)
        #expect(lepton.report.openHandles == 0)
    }

    @Test func aStalledCameraIsReopened() throws {
        let camera = simulatedCamera(modes: [mode(.grey, [(16, 16)])])
        let recorder = CaptureRecorder()
        let capture = recorder.capture(settings: settings(timeout: .milliseconds(300)), opener: SimulatedDeviceOpener(camera))
        try capture.start()
        #expect(recorder.waitForFrames(2))
        camera.setStalled(true)
        #expect(recorder.waitUntil { _, events in events.contains(where: \.isDisconnected) })
        #expect(recorder.events.compactMap(\.disconnectReason).first == "no frame for 0.30 s")
        camera.setStalled(false)
        #expect(recorder.waitUntil { _, events in events.contains(where: \.isReconnected) })
        let framesBefore = recorder.frames.count
        #expect(recorder.waitForFrames(framesBefore + 2))
        capture.stop()
        #expect(camera.report.openHandles == 0)
    }

    @Test func anIOErrorFromTheDriverReopensTheCamera() throws {
        let camera = simulatedCamera(modes: [mode(.y16, [(16, 16)])])
        let recorder = CaptureRecorder()
        let capture = recorder.capture(settings: settings(), opener: SimulatedDeviceOpener(camera))
        try capture.start()
        #expect(recorder.waitForFrames(2))
        camera.failNextDequeues(with: [.ioError])
        #expect(recorder.waitUntil { _, events in events.contains(where: \.isReconnected) })
        #expect(recorder.events.compactMap(\.disconnectReason).first == "input/output error (EIO)")
        let framesBefore = recorder.frames.count
        #expect(recorder.waitForFrames(framesBefore + 2))
        capture.stop()
        #expect(camera.report.opens == 2)
        #expect(camera.report.openHandles == 0)
    }

    @Test func stopDuringBackoffReturnsWithoutWaitingItOut() throws {
        let camera = simulatedCamera(modes: [mode(.y16, [(16, 16)])])
        let recorder = CaptureRecorder()
        // A backoff of an hour: only an interrupted wait lets this test end
        // inside its time limit.
        let patient = ReconnectPolicy(initialDelay: .seconds(3600), maximumDelay: .seconds(3600))
        let capture = recorder.capture(settings: settings(reconnect: patient), opener: SimulatedDeviceOpener(camera))
        try capture.start()
        #expect(recorder.waitForFrames(1))
        camera.unplug()
        #expect(recorder.waitUntil { _, events in events.contains(where: \.isReconnecting) })
        capture.stop()
        #expect(recorder.events.last?.isStopped == true)
        #expect(camera.report.openHandles == 0)
        #expect(camera.report.mappedBuffers == 0)
    }

    @Test func stopFromTheFrameHandlerEndsCapture() throws {
        let camera = simulatedCamera(modes: [mode(.grey, [(16, 16)])])
        let recorder = CaptureRecorder()
        let box = CaptureBox()
        let capture = V4L2Capture(settings: settings(), opener: SimulatedDeviceOpener(camera),
                                  onEvent: { recorder.record($0) },
                                  onFrame: { frame in
                                      recorder.record(frame)
                                      if frame.sequence == 2 { box.capture?.stop() }
                                  })
        box.capture = capture
        try capture.start()
        #expect(recorder.waitUntil { _, events in events.last?.isStopped == true })
        #expect(recorder.frames.count == 3)
        capture.stop()
        #expect(camera.report.openHandles == 0)
    }

    @Test func startFailsAtOnceForAMissingDeviceUnlessAskedToWait() throws {
        let camera = simulatedCamera(modes: [mode(.y16, [(16, 16)])])
        camera.unplug()
        let failing = V4L2Capture(settings: settings(), opener: SimulatedDeviceOpener(camera), onFrame: { _ in })
        #expect {
            try failing.start()
        } throws: { error in
            (error as? CaptureError)?.description
                == "/dev/video0: no such video device (open: No such file or directory (ENOENT))"
        }

        let recorder = CaptureRecorder()
        let waiting = recorder.capture(settings: settings(waitForDevice: true), opener: SimulatedDeviceOpener(camera))
        try waiting.start()
        #expect(recorder.waitUntil { _, events in events.contains(where: \.isReconnecting) })
        camera.plug()
        #expect(recorder.waitUntil { frames, events in events.contains(where: \.isStarted) && frames.count >= 2 })
        waiting.stop()
        #expect(recorder.events.allSatisfy { !$0.isReconnected })
        #expect(waiting.statistics.reconnects == 0)
    }

    @Test func backoffDoublesUpToItsCeiling() {
        let policy = ReconnectPolicy()
        let delays = (1...7).map { policy.delay(beforeAttempt: $0) }
        #expect(delays == [.milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(5), .seconds(5)])
        #expect(policy.delay(beforeAttempt: 10_000) == .seconds(5))
    }
}

/// Lets a frame handler reach the capture it belongs to.
final class CaptureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: V4L2Capture?
    var capture: V4L2Capture? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
