import Testing
@testable import Capture

@Suite struct CameraProfileTests {
    @Test func profilesAreFoundByTheirCommandLineNames() {
        #expect(CameraProfile.names == ["generic", "boson", "lepton", "p2pro"])
        #expect(CameraProfile.named("boson") == .boson)
        #expect(CameraProfile.named("Lepton") == .lepton)
        #expect(CameraProfile.named("purethermal") == .lepton)
        #expect(CameraProfile.named("p2pro") == .p2Pro)
        #expect(CameraProfile.named("P2-Pro") == .p2Pro)
        #expect(CameraProfile.named("tc001") == .p2Pro)
        #expect(CameraProfile.named("generic") == .generic)
        #expect(CameraProfile.named("seek") == nil)
    }

    @Test func devicePathsAreToldFromFilesAndURLs() {
        #expect(V4L2Capture.isDevicePath("/dev/video0"))
        #expect(V4L2Capture.isDevicePath("/dev/v4l/by-id/usb-FLIR_Boson_1234-video-index0"))
        #expect(!V4L2Capture.isDevicePath("rtsp://127.0.0.1:8554/thermal"))
        #expect(!V4L2Capture.isDevicePath("/data/clip.mp4"))
    }

    @Test func detectionUsesUSBIDThenCardNameThenTheP2ProMode() {
        #expect(CameraProfile.detect(usbDeviceID: USBDeviceID(vendor: 0x1e4e, product: 0x0100), card: "").profile == .lepton)
        #expect(CameraProfile.detect(usbDeviceID: USBDeviceID(vendor: 0x0bda, product: 0x5830), card: "USB Camera").profile == .p2Pro)
        #expect(CameraProfile.detect(usbDeviceID: nil, card: "Boson: FLIR Video").profile == .boson)
        #expect(CameraProfile.detect(usbDeviceID: nil, card: "PureThermal (fw:v1.3.0)").profile == .lepton)
        #expect(CameraProfile.detect(usbDeviceID: nil, card: "USB Camera", offersP2ProMode: true).profile == .p2Pro)
        let unknown = CameraProfile.detect(usbDeviceID: USBDeviceID(vendor: 0x046d, product: 0x0825), card: "HD Webcam C270")
        #expect(unknown.profile == .generic)
        #expect(unknown.reason == "no known camera matched")
        // The USB id wins over a misleading name.
        #expect(CameraProfile.detect(usbDeviceID: USBDeviceID(vendor: 0x09cb, product: 0x4007), card: "PureThermal").profile == .boson)
    }

    @Test func leptonTelemetryLayouts() throws {
        let lepton3 = try #require(CameraProfile.lepton.extraction(for: VideoFormat(pixelFormat: .y16, width: 160, height: 122, bytesPerLine: 320)))
        #expect(lepton3.rows == 120)
        let lepton2 = try #require(CameraProfile.lepton.extraction(for: VideoFormat(pixelFormat: .y16, width: 80, height: 63, bytesPerLine: 160)))
        #expect(lepton2.rows == 60)
        let plain = try #require(CameraProfile.lepton.extraction(for: VideoFormat(pixelFormat: .y16, width: 160, height: 120, bytesPerLine: 320)))
        #expect(plain.rows == 120)
        // A generic camera's 122 rows are all image.
        #expect(CameraProfile.generic.extraction(for: VideoFormat(pixelFormat: .y16, width: 160, height: 122))?.rows == 122)
    }

    @Test func p2ProOnlyReadsTemperaturesFromItsCombinedMode() throws {
        let combined = try #require(CameraProfile.p2Pro.extraction(for: VideoFormat(pixelFormat: .yuyv, width: 256, height: 384, bytesPerLine: 512)))
        #expect(combined.sample == .word16)
        #expect(combined.firstRow == 192)
        #expect(combined.rows == 192)
        // Its picture-only mode is ordinary 8-bit luma.
        let pictureOnly = try #require(CameraProfile.p2Pro.extraction(for: VideoFormat(pixelFormat: .yuyv, width: 256, height: 192, bytesPerLine: 512)))
        #expect(pictureOnly.sample == .byte(stride: 2, offset: 0))
        #expect(pictureOnly.significantBits == 8)
    }

    @Test func planPrefersNativeFormatsToLibv4lConversions() throws {
        let formats = [
            FormatDescription(pixelFormat: .mjpeg, description: "Motion-JPEG", isCompressed: true),
            FormatDescription(pixelFormat: .yuv420, description: "Planar YUV 4:2:0", isEmulated: true),
            FormatDescription(pixelFormat: .uyvy, description: "UYVY 4:2:2"),
        ]
        let plan = try CaptureEngine.plan(
            formats: formats, sizes: { _ in .discrete([FrameSize(width: 640, height: 480)]) },
            intervals: { _, _ in .discrete([FrameInterval(numerator: 1, denominator: 30), FrameInterval(numerator: 1, denominator: 15)]) },
            currentSize: { nil }, profile: .generic, settings: CaptureSettings(devicePath: "/dev/video0"), path: "/dev/video0")
        #expect(plan == .init(pixelFormat: .uyvy, size: FrameSize(width: 640, height: 480), interval: FrameInterval(numerator: 1, denominator: 30)))

        // An MJPEG-only camera is decoded by capture itself, not through
        // libv4l2's conversion to YU12.
        let mjpegOnly = try CaptureEngine.plan(
            formats: [formats[0], formats[1]], sizes: { _ in .stepwise(minimum: FrameSize(width: 16, height: 16), maximum: FrameSize(width: 1280, height: 720), step: FrameSize(width: 16, height: 16)) },
            intervals: { _, _ in nil }, currentSize: { nil }, profile: .generic,
            settings: CaptureSettings(devicePath: "/dev/video0", framesPerSecond: 10), path: "/dev/video0")
        #expect(mjpegOnly == .init(pixelFormat: .mjpeg, size: FrameSize(width: 1280, height: 720), interval: FrameInterval(numerator: 1, denominator: 10)))
    }

    @Test func anInsistedFormatMustBeOfferedAndReadable() throws {
        let h264 = try #require(PixelFormat(fourCC: "H264"))
        let formats = [FormatDescription(pixelFormat: .mjpeg, description: "Motion-JPEG", isCompressed: true),
                       FormatDescription(pixelFormat: .yuyv, description: "YUYV"),
                       FormatDescription(pixelFormat: h264, description: "H.264", isCompressed: true)]
        func plan(_ format: PixelFormat) throws -> CaptureEngine.StreamPlan {
            try CaptureEngine.plan(formats: formats, sizes: { _ in nil }, intervals: { _, _ in nil },
                                   currentSize: { FrameSize(width: 320, height: 240) }, profile: .generic,
                                   settings: CaptureSettings(devicePath: "/dev/video4", pixelFormat: format), path: "/dev/video4")
        }
        #expect(throws: CaptureError(path: "/dev/video4", detail: "does not offer Y16 (it offers YUYV, MJPG, 1 format capture cannot read)", isPermanent: true)) { try plan(.y16) }
        #expect(throws: CaptureError.self) { try plan(h264) }
        // Offered, readable, but not the default choice: MJPEG when asked.
        #expect(try plan(.mjpeg).pixelFormat == .mjpeg)
        #expect(try plan(.yuyv).size == FrameSize(width: 320, height: 240))
    }
}
