import Capture
import CaptureTesting
import Foundation
import MediaIO
import Outputs
import Pipeline
import TestSupport
import Testing

@Suite("A V4L2 camera as a live source (simulated camera, real capture code)")
struct CameraSourceTests {
    func boson() -> SimulatedCamera {
        SimulatedCamera(
            configuration: .init(
                card: "Boson: FLIR Video", driver: "uvcvideo", busInfo: "usb-0000:00:14.0-2",
                usbDeviceID: USBDeviceID(vendor: 0x09cb, product: 0x4007),
                modes: [.init(pixelFormat: .y16, sizes: [FrameSize(width: 320, height: 256)],
                              intervals: [FrameInterval(numerator: 1, denominator: 60)])]),
            path: "/dev/video0", stablePaths: ["/dev/v4l/by-id/usb-FLIR_Boson_1-video-index0"])
    }

    @Test("Camera → colourise → file; the camera is unplugged and returns mid-run; the output decodes")
    func unplugAndReturn() throws {
        let camera = boson()
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let output = folder.file("camera.mkv")
        let source = CameraSource(settings: CaptureSettings(devicePath: "/dev/video0"), opener: SimulatedDeviceOpener(camera))
        try source.start()
        #expect(source.streamFormat.width == 320 && source.streamFormat.height == 256)
        let session = try LiveSession(LiveConfiguration(input: "/dev/video0"), source: source,
                                      sinkFactory: LiveSession.writing([output], encoder: EncoderSettings(codec: .ffv1)))
        session.onFrameWritten = { statistics in
            switch statistics.framesWritten {
            case 10: camera.unplug()
            case 30: session.stop()
            default: break
            }
        }
        // No frame arrives while unplugged, so the cable goes back in from another thread.
        let replugger = Thread {
            while (session.statistics?.framesWritten ?? 0) < 10 || camera.isPlugged { usleep(20_000) }
            usleep(200_000)
            camera.plug()
        }
        replugger.start()
        #expect(finishes(within: 60) { try? session.run() })
        let statistics = try #require(session.statistics)
        #expect(statistics.framesWritten >= 30)
        #expect(source.captureStatistics.reconnects >= 1)
        let probed = try ffprobe(output)
        #expect(probed.frameCount == statistics.framesWritten)
        #expect(probed.width == 320)
        #expect(camera.report.openHandles == 0)
    }
}
