import CaptureTesting
import Foundation
import Imaging
import Testing
@testable import Capture

/// The real capture code against simulated cameras: each format's pixels
/// must come out exactly, at the right size and depth.
@Suite struct CaptureFormatTests {
    /// Captures a few frames from `camera` and returns them with the stream.
    func captureFrames(
        from camera: SimulatedCamera, count: Int = 3, settings: CaptureSettings? = nil
    ) throws -> (frames: [CapturedFrame], stream: CaptureStream) {
        let recorder = CaptureRecorder()
        let capture = recorder.capture(settings: settings ?? CaptureSettings(devicePath: "/dev/video0"),
                                       opener: SimulatedDeviceOpener(camera))
        try capture.start()
        #expect(recorder.waitForFrames(count))
        capture.stop()
        let stream = try #require(capture.stream)
        // Teardown released everything.
        let report = camera.report
        #expect(report.openHandles == 0)
        #expect(report.mappedBuffers == 0)
        #expect(report.allocatedBuffers == 0)
        #expect(!report.isStreaming)
        #expect(recorder.events.last?.isStopped == true)
        return (recorder.frames, stream)
    }

    @Test func y16IsReadWordForWordDespiteRowPadding() throws {
        let camera = simulatedCamera(modes: [mode(.y16, [(160, 120), (320, 256)])], rowPadding: 12)
        let (frames, stream) = try captureFrames(from: camera)
        #expect(stream.format.pixelFormat == .y16)
        #expect(stream.format.size == FrameSize(width: 320, height: 256))  // the largest
        #expect(stream.format.bytesPerLine == 320 * 2 + 12)
        #expect(stream.bufferCount == 4)
        #expect(stream.frameInterval == testInterval)
        for frame in frames {
            #expect(frame.significantBits == 16)
            #expect(frame.image == expectedThermalImage(width: 320, height: 256, sequence: frame.deviceSequence))
        }
        #expect(frames.map(\.sequence) == Array(0..<UInt64(frames.count)))
        #expect(zip(frames, frames.dropFirst()).allSatisfy { $0.timestampNanoseconds < $1.timestampNanoseconds })
    }

    @Test func y16IsPreferredOverFormatsListedFirst() throws {
        let camera = simulatedCamera(modes: [mode(.yuyv, [(640, 480)]), mode(.grey, [(320, 240)]), mode(.y16, [(160, 120)])])
        let (frames, stream) = try captureFrames(from: camera, count: 1)
        #expect(stream.format.pixelFormat == .y16)
        #expect(frames[0].image == expectedThermalImage(width: 160, height: 120, sequence: frames[0].deviceSequence))
    }

    @Test func greyIsEightSignificantBits() throws {
        let camera = simulatedCamera(modes: [mode(.yuyv, [(64, 48)]), mode(.grey, [(80, 60)])], rowPadding: 3)
        let (frames, stream) = try captureFrames(from: camera)
        #expect(stream.format.pixelFormat == .grey)
        for frame in frames {
            #expect(frame.significantBits == 8)
            #expect(frame.image == expectedLumaImage(width: 80, height: 60, sequence: frame.deviceSequence))
        }
    }

    @Test func yuyvAndUYVYGiveTheirLuma() throws {
        for format in [PixelFormat.yuyv, .uyvy] {
            let camera = simulatedCamera(modes: [mode(.mjpeg, [(640, 480)]), mode(format, [(64, 48)])])
            let (frames, stream) = try captureFrames(from: camera)
            #expect(stream.format.pixelFormat == format)
            for frame in frames {
                #expect(frame.significantBits == 8)
                #expect(frame.image == expectedLumaImage(width: 64, height: 48, sequence: frame.deviceSequence))
            }
        }
    }

    @Test func nv12GivesItsLumaPlane() throws {
        let camera = simulatedCamera(modes: [mode(.nv12, [(96, 64)])], rowPadding: 32)
        let (frames, stream) = try captureFrames(from: camera)
        #expect(stream.format.pixelFormat == .nv12)
        #expect(stream.format.sizeImage == (96 + 32) * 64 * 3 / 2)
        for frame in frames {
            #expect(frame.image == expectedLumaImage(width: 96, height: 64, sequence: frame.deviceSequence))
        }
    }

    @Test func p2ProGivesTheLowerHalfAsSixteenBitTemperatures() throws {
        let camera = simulatedCamera(
            card: "USB Camera: USB Camera", usbDeviceID: USBDeviceID(vendor: 0x0bda, product: 0x5830),
            modes: [mode(.yuyv, [(256, 192), (256, 384)], intervals: [FrameInterval(numerator: 1, denominator: 25)])],
            frameSource: p2ProFrame)
        let (frames, stream) = try captureFrames(from: camera, count: 2)
        #expect(stream.profile == .p2Pro)
        #expect(stream.profileReason == "USB id 0bda:5830")
        #expect(stream.format.size == FrameSize(width: 256, height: 384))
        #expect(stream.imageSize == FrameSize(width: 256, height: 192))
        for frame in frames {
            #expect(frame.significantBits == 16)
            #expect(frame.image == expectedThermalImage(width: 256, height: 192, sequence: frame.deviceSequence))
        }
        #expect(CameraProfile.p2Pro.countsPerKelvin == 64)
    }

    @Test func p2ProIsRecognisedByItsModeWhenTheNameSaysNothing() throws {
        let camera = simulatedCamera(card: "USB Camera: USB Camera",
                                     modes: [mode(.yuyv, [(256, 192), (256, 384)])], frameSource: p2ProFrame)
        let (frames, stream) = try captureFrames(from: camera, count: 1)
        #expect(stream.profile == .p2Pro)
        #expect(frames[0].image == expectedThermalImage(width: 256, height: 192, sequence: frames[0].deviceSequence))
    }

    @Test func leptonTelemetryRowsAreStripped() throws {
        // A PureThermal whose only Y16 mode carries telemetry.
        let camera = simulatedCamera(
            card: "PureThermal (fw:v1.3.0)",
            modes: [mode(.uyvy, [(160, 120)]), mode(.y16, [(160, 122)])], frameSource: leptonTelemetryFrame)
        let (frames, stream) = try captureFrames(from: camera)
        #expect(stream.profile == .lepton)
        #expect(stream.format.size == FrameSize(width: 160, height: 122))
        #expect(stream.imageSize == FrameSize(width: 160, height: 120))
        for frame in frames {
            #expect(frame.image == expectedThermalImage(width: 160, height: 120, sequence: frame.deviceSequence))
            #expect(!frame.image.samples.contains(0xABAB))
        }
    }

    @Test func leptonWithoutTelemetryIsTakenWhole() throws {
        let camera = simulatedCamera(usbDeviceID: USBDeviceID(vendor: 0x1e4e, product: 0x0100),
                                     modes: [mode(.y16, [(160, 120), (160, 122)])])
        let (frames, stream) = try captureFrames(from: camera, count: 1)
        #expect(stream.profile == .lepton)
        #expect(stream.format.size == FrameSize(width: 160, height: 120))
        #expect(frames[0].image == expectedThermalImage(width: 160, height: 120, sequence: frames[0].deviceSequence))
    }

    @Test func bosonPrefersItsFullSensorSizeAndANamedRate() throws {
        let camera = simulatedCamera(
            card: "Boson: FLIR Video",
            modes: [
                mode(.nv12, [(640, 512)]),
                mode(.y16, [(320, 256), (640, 512), (1280, 1024)],
                     intervals: [FrameInterval(numerator: 1, denominator: 60), FrameInterval(numerator: 1, denominator: 30)]),
            ])
        var settings = CaptureSettings(devicePath: "/dev/video0", framesPerSecond: 29)
        settings.bufferCount = 2
        let (frames, stream) = try captureFrames(from: camera, count: 2, settings: settings)
        #expect(stream.profile == .boson)
        #expect(stream.format == VideoFormat(pixelFormat: .y16, width: 640, height: 512, bytesPerLine: 1280, sizeImage: 1280 * 512))
        #expect(stream.frameInterval == FrameInterval(numerator: 1, denominator: 30))
        #expect(stream.bufferCount == 2)
        #expect(frames[0].image == expectedThermalImage(width: 640, height: 512, sequence: frames[0].deviceSequence))
    }

    @Test func explicitFormatSizeAndProfileAreHonoured() throws {
        let camera = simulatedCamera(card: "Boson: FLIR Video", modes: [mode(.y16, [(320, 256), (640, 512)]), mode(.grey, [(160, 128), (320, 256)])])
        let settings = CaptureSettings(devicePath: "/dev/video0", profile: .generic, pixelFormat: .grey,
                                       frameSize: FrameSize(width: 160, height: 128))
        let (frames, stream) = try captureFrames(from: camera, count: 1, settings: settings)
        #expect(stream.profile == .generic)
        #expect(stream.profileReason == "chosen by name")
        #expect(stream.format.pixelFormat == .grey)
        #expect(stream.format.size == FrameSize(width: 160, height: 128))
        #expect(frames[0].image == expectedLumaImage(width: 160, height: 128, sequence: frames[0].deviceSequence))
    }

    @Test func aModeTheCameraDoesNotOfferFailsListingWhatItDoes() throws {
        let camera = simulatedCamera(modes: [
            mode(.y16, [(320, 256), (640, 512)], intervals: [FrameInterval(numerator: 1, denominator: 30), FrameInterval(numerator: 1, denominator: 9)]),
            mode(.grey, [(320, 256)]),
        ])
        func failure(_ settings: CaptureSettings) -> String? {
            let capture = V4L2Capture(settings: settings, opener: SimulatedDeviceOpener(camera), onFrame: { _ in })
            do {
                try capture.start()
                capture.stop()
                return nil
            } catch {
                #expect(error.isPermanent)
                return error.description
            }
        }
        #expect(failure(CaptureSettings(devicePath: "/dev/video0", frameSize: FrameSize(width: 300, height: 200)))
            == "/dev/video0: does not offer 300x200 in any format capture reads (Y16 comes in 320x256, 640x512)")
        #expect(failure(CaptureSettings(devicePath: "/dev/video0", pixelFormat: .y16, frameSize: FrameSize(width: 300, height: 200)))
            == "/dev/video0: does not offer 300x200 in Y16 (it offers 320x256, 640x512)")
        #expect(failure(CaptureSettings(devicePath: "/dev/video0", pixelFormat: .mjpeg))
            == "/dev/video0: does not offer MJPG (it offers Y16, GREY)")
        #expect(failure(CaptureSettings(devicePath: "/dev/video0", pixelFormat: .y16, frameSize: FrameSize(width: 640, height: 512), framesPerSecond: 60))
            == "/dev/video0: does not offer 60 fps for Y16 640x512 (it offers 30, 9 fps)")
        // Nearly the same rate is the same rate.
        #expect(failure(CaptureSettings(devicePath: "/dev/video0", pixelFormat: .y16, framesPerSecond: 29.97)) == nil)
        #expect(camera.report.openHandles == 0)
    }

    @Test func withNothingAskedTheLargestSizeThatStillRunsAt25fpsIsTaken() throws {
        // As vivid offers its webcam input: large sizes only at low rates.
        let rates: [(Int, Int, [Int])] = [(320, 180, [60, 30, 5]), (640, 360, [40, 25]), (640, 480, [25, 10]),
                                          (1280, 720, [12]), (3840, 2160, [2, 1])]
        var bySize: [FrameSize: [FrameInterval]] = [:]
        for (width, height, list) in rates {
            bySize[FrameSize(width: width, height: height)] = list.map { FrameInterval(numerator: 1, denominator: $0) }
        }
        let sizes = rates.map { FrameSize(width: $0.0, height: $0.1) }
        let webcam = simulatedCamera(modes: [
            .init(pixelFormat: .yuyv, sizes: sizes, intervals: [], intervalsBySize: bySize),
            .init(pixelFormat: .y16, sizes: sizes, intervals: [], intervalsBySize: bySize),
        ])
        let (frames, stream) = try captureFrames(from: webcam, count: 1)
        #expect(stream.format.pixelFormat == .y16)
        #expect(stream.format.size == FrameSize(width: 640, height: 480))
        #expect(stream.frameInterval == FrameInterval(numerator: 1, denominator: 25))
        #expect(stream.mode == "Y16 640×480 at 25 fps")
        #expect(frames[0].image == expectedThermalImage(width: 640, height: 480, sequence: frames[0].deviceSequence))

        // A rate asked for picks the largest size that offers it.
        let plan = try CaptureEngine.plan(
            formats: [FormatDescription(pixelFormat: .y16, description: "Y16")],
            sizes: { _ in .discrete(sizes) }, intervals: { _, size in bySize[size].map { .discrete($0) } },
            currentSize: { nil }, profile: .generic,
            settings: CaptureSettings(devicePath: "/dev/video0", framesPerSecond: 12), path: "/dev/video0")
        #expect(plan == .init(pixelFormat: .y16, size: FrameSize(width: 1280, height: 720), interval: FrameInterval(numerator: 1, denominator: 12)))

        // Nothing reaches 25 fps: the fastest size, not the largest.
        let slow: [FrameSize: FrameIntervals] = [
            FrameSize(width: 160, height: 120): .discrete([FrameInterval(numerator: 1, denominator: 9)]),
            FrameSize(width: 640, height: 480): .discrete([FrameInterval(numerator: 1, denominator: 2)]),
        ]
        let slowPlan = try CaptureEngine.plan(
            formats: [FormatDescription(pixelFormat: .grey, description: "GREY")],
            sizes: { _ in .discrete(Array(slow.keys).sorted()) }, intervals: { _, size in slow[size] },
            currentSize: { nil }, profile: .generic, settings: CaptureSettings(devicePath: "/dev/video0"), path: "/dev/video0")
        #expect(slowPlan.size == FrameSize(width: 160, height: 120))
    }

    @Test func aDriverGrantingFewerBuffersStillStreams() throws {
        let camera = simulatedCamera(modes: [mode(.y16, [(32, 24)])], maximumBuffers: 2)
        let (frames, stream) = try captureFrames(from: camera, count: 5)
        #expect(stream.bufferCount == 2)
        #expect(frames.count >= 5)
    }

    @Test func corruptAndShortFramesAreSkippedAndCounted() throws {
        let camera = simulatedCamera(modes: [mode(.y16, [(32, 24)])])
        // The first two frames come flagged V4L2_BUF_FLAG_ERROR.
        camera.corruptNextFrames(2)
        let recorder = CaptureRecorder()
        let capture = recorder.capture(settings: CaptureSettings(devicePath: "/dev/video0"), opener: SimulatedDeviceOpener(camera))
        try capture.start()
        #expect(recorder.waitForFrames(2))
        #expect(capture.statistics.framesCorrupt == 2)
        // Then two frames cut short.
        camera.truncateNextFrames(2)
        // Frames already filled may come first; wait for the short ones.
        let deadline = Date(timeIntervalSinceNow: 20)
        while capture.statistics.framesCorrupt < 4 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        let delivered = recorder.frames.count
        #expect(recorder.waitForFrames(delivered + 1))
        capture.stop()
        #expect(capture.statistics.framesCorrupt == 4)
        #expect(recorder.frames.first?.deviceSequence ?? 0 >= 2)
        for frame in recorder.frames {
            #expect(frame.image == expectedThermalImage(width: 32, height: 24, sequence: frame.deviceSequence))
        }
    }

    @Test func aSlowHandlerGetsTheNewestFrameNotABacklog() throws {
        let camera = simulatedCamera(modes: [mode(.y16, [(32, 24)])])
        let recorder = CaptureRecorder()
        recorder.frameDelay = 0.05  // five frame intervals
        let capture = recorder.capture(settings: CaptureSettings(devicePath: "/dev/video0"), opener: SimulatedDeviceOpener(camera))
        try capture.start()
        #expect(recorder.waitForFrames(6))
        capture.stop()
        let statistics = capture.statistics
        #expect(statistics.framesSkippedAsStale + statistics.framesDroppedByDevice > 0)
        // Delivered frames move forward in the device's sequence by more than one.
        let sequences = recorder.frames.map(\.deviceSequence)
        #expect(zip(sequences, sequences.dropFirst()).allSatisfy { $0 < $1 })
        #expect(sequences.last! - sequences.first! > UInt32(sequences.count))
    }

    @Test func aCameraWithNoReadableFormatFailsWithAClearError() {
        let h264 = PixelFormat(fourCC: "H264")!
        let camera = simulatedCamera(modes: [mode(h264, [(640, 480)])])
        let capture = V4L2Capture(settings: CaptureSettings(devicePath: "/dev/video0"),
                                  opener: SimulatedDeviceOpener(camera), onFrame: { _ in })
        #expect {
            try capture.start()
        } throws: { error in
            let error = error as? CaptureError
            return error?.isPermanent == true
                && error?.description == "/dev/video0: offers no format capture can read (it offers H264)"
        }
        #expect(camera.report.openHandles == 0)
    }

    @Test func aMetadataNodeIsRefused() {
        let camera = SimulatedCamera(
            configuration: .init(card: "Boson: FLIR Video", driver: "uvcvideo", modes: [mode(.y16, [(320, 256)])],
                                 deviceCapabilities: VideoCapabilities.streamingBit),
            path: "/dev/video1")
        let capture = V4L2Capture(settings: CaptureSettings(devicePath: "/dev/video1"),
                                  opener: SimulatedDeviceOpener(camera), onFrame: { _ in })
        #expect {
            try capture.start()
        } throws: { error in
            (error as? CaptureError)?.description.contains("does not capture video") == true
        }
    }

    @Test func startingTwiceIsRefused() throws {
        let camera = simulatedCamera(modes: [mode(.grey, [(16, 16)])])
        let capture = V4L2Capture(settings: CaptureSettings(devicePath: "/dev/video0"),
                                  opener: SimulatedDeviceOpener(camera), onFrame: { _ in })
        try capture.start()
        #expect(throws: CaptureError.self) { try capture.start() }
        capture.stop()
        capture.stop()
    }
}
