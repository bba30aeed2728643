import CaptureTesting
import Foundation
import Testing
@testable import Capture

/// The simulated camera must keep the V4L2 rules the capture code relies
/// on, or the capture tests prove nothing.
@Suite struct SimulatedCameraTests {
    let camera = simulatedCamera(modes: [
        mode(.y16, [(160, 120), (320, 256)]),
        mode(.yuyv, [(256, 384)], intervals: [FrameInterval(numerator: 1, denominator: 25), FrameInterval(numerator: 1, denominator: 9)]),
    ], maximumBuffers: 3)

    func open() throws -> any VideoDeviceIO {
        try SimulatedDeviceOpener(camera).open(path: "/dev/video0")
    }

    @Test func formatNegotiationAdjustsToWhatTheCameraHas() throws {
        let device = try open()
        // An unsupported size becomes the nearest one.
        let adjusted = try device.setFormat(VideoFormat(pixelFormat: .y16, width: 300, height: 250))
        #expect(adjusted.size == FrameSize(width: 320, height: 256))
        #expect(adjusted.bytesPerLine == 640)
        #expect(adjusted.sizeImage == 640 * 256)
        // An unsupported pixel format becomes the camera's default.
        let substituted = try device.setFormat(VideoFormat(pixelFormat: .mjpeg, width: 640, height: 480))
        #expect(substituted.pixelFormat == .y16)
        #expect(try device.getFormat() == substituted)
        // The rate goes to the nearest interval of the format.
        _ = try device.setFormat(VideoFormat(pixelFormat: .yuyv, width: 256, height: 384))
        #expect(try device.setFrameInterval(FrameInterval(framesPerSecond: 10)) == FrameInterval(numerator: 1, denominator: 9))
    }

    @Test func enumerationFollowsTheDriver() throws {
        let device = try open()
        #expect(try device.enumerateFormats().map(\.pixelFormat) == [.y16, .yuyv])
        #expect(try device.enumerateFrameSizes(for: .y16) == .discrete([FrameSize(width: 160, height: 120), FrameSize(width: 320, height: 256)]))
        #expect(throws: Errno.invalidArgument) { try device.enumerateFrameSizes(for: .nv12) }
        #expect(throws: Errno.invalidArgument) {
            try device.enumerateFrameIntervals(for: .y16, size: FrameSize(width: 1, height: 1))
        }
    }

    @Test func requestBuffersGrantsWhatTheDriverCan() throws {
        let device = try open()
        #expect(try device.requestBuffers(count: 10) == 3)
        #expect(try device.requestBuffers(count: 1) == 2)
        // Format changes while buffers exist are refused.
        #expect(throws: Errno.resourceBusy) { try device.setFormat(VideoFormat(pixelFormat: .y16, width: 160, height: 120)) }
        // Freeing mapped buffers is refused until they are unmapped.
        try device.mapBuffer(index: 0)
        #expect(throws: Errno.resourceBusy) { try device.requestBuffers(count: 0) }
        device.unmapBuffers()
        #expect(try device.requestBuffers(count: 0) == 0)
    }

    @Test func buffersAreOwnedByOneSideAtATime() throws {
        let device = try open()
        // Nothing allocated yet: queueing and dequeueing are invalid.
        #expect(throws: Errno.invalidArgument) { try device.queueBuffer(index: 0) }
        #expect(throws: Errno.invalidArgument) { try device.dequeueBuffer() }
        #expect(throws: Errno.invalidArgument) { try device.streamOn() }
        let count = try device.requestBuffers(count: 2)
        for index in 0..<count { try device.mapBuffer(index: index) }
        try device.queueBuffer(index: 0)
        #expect(throws: Errno.invalidArgument) { try device.queueBuffer(index: 0) }
        #expect(throws: Errno.invalidArgument) { try device.queueBuffer(index: count) }
        // Before STREAMON: poll says error, dequeue is invalid.
        #expect(try device.poll(timeoutMilliseconds: 0) == .error)
        #expect(throws: Errno.invalidArgument) { try device.dequeueBuffer() }
        try device.streamOn()
        try device.streamOn()  // a second STREAMON is harmless
        // Wait for a frame, then take it: only queued buffers come back.
        #expect(try device.poll(timeoutMilliseconds: 5000).contains(.readable))
        let buffer = try device.dequeueBuffer()
        #expect(buffer.index == 0)
        #expect(buffer.bytesUsed == 320 * 256 * 2 || buffer.bytesUsed == 160 * 120 * 2)
        #expect(buffer.monotonicTimestampNanoseconds != nil)
        // Nothing else was queued: EAGAIN, and poll reports error.
        #expect(throws: Errno.resourceTemporarilyUnavailable) { try device.dequeueBuffer() }
        #expect(try device.poll(timeoutMilliseconds: 0) == .error)
        // Streaming off returns every buffer to the application.
        try device.queueBuffer(index: 1)
        try device.streamOff()
        try device.queueBuffer(index: 1)
        device.close()
        #expect(camera.report.openHandles == 0)
        #expect(camera.report.mappedBuffers == 0)
    }

    @Test func anotherHandleCannotTakeTheQueue() throws {
        let owner = try open()
        let intruder = try open()
        _ = try owner.requestBuffers(count: 2)
        #expect(throws: Errno.resourceBusy) { try intruder.requestBuffers(count: 2) }
        #expect(throws: Errno.resourceBusy) { try intruder.queueBuffer(index: 0) }
        owner.close()
        #expect(try intruder.requestBuffers(count: 2) == 2)
    }

    @Test func unplugFailsEveryCallWithENODEVAndTheNodeDisappears() throws {
        let device = try open()
        _ = try device.requestBuffers(count: 2)
        try device.mapBuffer(index: 0)
        try device.queueBuffer(index: 0)
        try device.streamOn()
        camera.unplug()
        #expect(throws: Errno.noSuchDevice) { try device.dequeueBuffer() }
        #expect(throws: Errno.noSuchDevice) { try device.queueBuffer(index: 1) }
        #expect(throws: Errno.noSuchDevice) { try device.queryCapabilities() }
        #expect(try device.poll(timeoutMilliseconds: 1000) == [.error, .hangUp])
        #expect(throws: Errno.noSuchFileOrDirectory) { try SimulatedDeviceOpener(camera).open(path: "/dev/video0") }
        // Letting go still works on a dead device.
        device.unmapBuffers()
        device.close()
        camera.plug()
        let again = try open()
        #expect(try again.queryCapabilities().card == "Test Camera")
        // The old handle stays dead after the camera is back.
        #expect(throws: Errno.badFileDescriptor) { try device.queryCapabilities() }
        #expect(camera.report.mappedBuffers == 0)
    }
}
