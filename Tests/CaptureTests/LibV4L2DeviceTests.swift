import CaptureTesting
import Foundation
import Testing
@testable import Capture

/// The real libv4l2 device on what this machine has: no cameras, so the
/// failures must be the clear ones.
@Suite struct LibV4L2DeviceTests {
    @Test func aMissingPathIsENOENT() {
        #expect(throws: Errno.noSuchFileOrDirectory) {
            _ = try LibV4L2Device(path: "/dev/video-that-does-not-exist")
        }
    }

    @Test func aFileThatIsNotAVideoDeviceIsENOTTY() {
        #expect(throws: Errno.inappropriateIOCTLForDevice) {
            _ = try LibV4L2Device(path: "/dev/null")
        }
    }

    @Test func captureNamesThePathAndTheCause() {
        let missing = V4L2Capture(settings: CaptureSettings(devicePath: "/dev/video-that-does-not-exist"), onFrame: { _ in })
        #expect {
            try missing.start()
        } throws: { error in
            (error as? CaptureError)?.description
                == "/dev/video-that-does-not-exist: no such video device (open: No such file or directory (ENOENT))"
        }

        // Not a camera at all: permanent, so waiting for it would be pointless.
        let notAVideoDevice = V4L2Capture(settings: CaptureSettings(devicePath: "/dev/null", waitForDevice: true), onFrame: { _ in })
        #expect {
            try notAVideoDevice.start()
        } throws: { error in
            let error = error as? CaptureError
            return error?.isPermanent == true
                && error?.description == "/dev/null: is not a V4L2 video device (VIDIOC_QUERYCAP: Inappropriate ioctl for device (ENOTTY))"
        }
    }

    @Test func errnoDescriptionsNameTheMacro() {
        #expect(Errno.noSuchDevice.description == "No such device (ENODEV)")
        #expect(Errno.resourceTemporarilyUnavailable.description == "Resource temporarily unavailable (EAGAIN)")
        #expect(Errno(rawValue: 9999).symbolicName == nil)
    }

    @Test func pixelFormatsMatchTheKernelsCodes() {
        #expect(PixelFormat.y16.fourCC == "Y16")
        #expect(PixelFormat(fourCC: "Y16") == .y16)
        #expect(PixelFormat(fourCC: "YUYV") == .yuyv)
        #expect(PixelFormat(fourCC: "NV12") == .nv12)
        #expect(PixelFormat(fourCC: "GREY") == .grey)
        #expect(PixelFormat(fourCC: "UYVY") == .uyvy)
        #expect(PixelFormat(fourCC: "MJPG") == .mjpeg)
        #expect(PixelFormat(fourCC: "YU12") == .yuv420)
        #expect(PixelFormat(fourCC: "toolong") == nil)
    }

    /// A scratch directory with a fake /dev and /sys, as udev and the USB
    /// core lay them out for a Boson on video2.
    func fakeSystem() throws -> (root: URL, opener: LibV4L2Opener) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("capture-sysfs-\(UUID().uuidString)")
        let files = FileManager.default
        let dev = root.appendingPathComponent("dev")
        try files.createDirectory(at: dev.appendingPathComponent("v4l/by-id"), withIntermediateDirectories: true)
        try files.createDirectory(at: dev.appendingPathComponent("v4l/by-path"), withIntermediateDirectories: true)
        for node in ["video2", "video3", "video10", "vbi0"] {
            try Data().write(to: dev.appendingPathComponent(node))
        }
        try files.createSymbolicLink(atPath: dev.appendingPathComponent("v4l/by-id/usb-FLIR_Boson_1234-video-index0").path,
                                     withDestinationPath: "../../video2")
        try files.createSymbolicLink(atPath: dev.appendingPathComponent("v4l/by-id/usb-FLIR_Boson_1234-video-index1").path,
                                     withDestinationPath: "../../video3")
        try files.createSymbolicLink(atPath: dev.appendingPathComponent("v4l/by-path/pci-0000:00:14.0-usb-0:2:1.0-video-index0").path,
                                     withDestinationPath: "../../video2")

        let sys = root.appendingPathComponent("sys")
        let usbDevice = sys.appendingPathComponent("devices/pci0000:00/0000:00:14.0/usb1/1-2")
        let interface = usbDevice.appendingPathComponent("1-2:1.0")
        try files.createDirectory(at: interface.appendingPathComponent("video4linux/video2"), withIntermediateDirectories: true)
        try "09cb\n".write(to: usbDevice.appendingPathComponent("idVendor"), atomically: true, encoding: .utf8)
        try "4007\n".write(to: usbDevice.appendingPathComponent("idProduct"), atomically: true, encoding: .utf8)
        let classDirectory = sys.appendingPathComponent("class/video4linux/video2")
        try files.createDirectory(at: classDirectory, withIntermediateDirectories: true)
        try files.createSymbolicLink(atPath: classDirectory.appendingPathComponent("device").path,
                                     withDestinationPath: interface.path)
        return (root, LibV4L2Opener(deviceDirectory: dev.path, sysfsRoot: sys.path))
    }

    @Test func usbIDsComeFromSysfsAndStableNamesFromUdevLinks() throws {
        let (root, opener) = try fakeSystem()
        defer { try? FileManager.default.removeItem(at: root) }
        let video2 = root.appendingPathComponent("dev/video2").path
        #expect(opener.usbDeviceID(for: video2) == USBDeviceID(vendor: 0x09cb, product: 0x4007))
        #expect(opener.usbDeviceID(for: root.appendingPathComponent("dev/video3").path) == nil)
        let byID = root.appendingPathComponent("dev/v4l/by-id/usb-FLIR_Boson_1234-video-index0").path
        #expect(opener.usbDeviceID(for: byID) == USBDeviceID(vendor: 0x09cb, product: 0x4007))
        #expect(opener.stablePaths(for: video2) == [
            byID,
            root.appendingPathComponent("dev/v4l/by-path/pci-0000:00:14.0-usb-0:2:1.0-video-index0").path,
        ])
        #expect(CameraProfile.detect(usbDeviceID: opener.usbDeviceID(for: video2), card: "UVC Camera").profile == .boson)
    }

    @Test func videoNodesAreFoundInNumericOrder() throws {
        let (root, _) = try fakeSystem()
        defer { try? FileManager.default.removeItem(at: root) }
        let dev = root.appendingPathComponent("dev").path
        #expect(videoDeviceNodes(in: dev) == ["\(dev)/video2", "\(dev)/video3", "\(dev)/video10"])
        #expect(videoDeviceNodes(in: root.appendingPathComponent("nothing-here").path).isEmpty)
    }
}

@Suite struct DeviceListingTests {
    @Test func listsNameDriverFormatsSizesAndRates() {
        let boson = SimulatedCamera(
            configuration: .init(
                card: "Boson: FLIR Video", driver: "uvcvideo", busInfo: "usb-0000:00:14.0-2",
                usbDeviceID: USBDeviceID(vendor: 0x09cb, product: 0x4007),
                modes: [
                    .init(pixelFormat: .y16, description: "16-bit Greyscale",
                          sizes: [FrameSize(width: 640, height: 512)],
                          intervals: [FrameInterval(numerator: 1, denominator: 60), FrameInterval(numerator: 1, denominator: 30)]),
                    .init(pixelFormat: .mjpeg, description: "Motion-JPEG",
                          sizes: [FrameSize(width: 640, height: 512)], intervals: [FrameInterval(numerator: 1, denominator: 30)]),
                ]),
            path: "/dev/video0", stablePaths: ["/dev/v4l/by-id/usb-FLIR_Boson_1234-video-index0"])
        let metadata = SimulatedCamera(
            configuration: .init(card: "Boson: FLIR Video", driver: "uvcvideo", busInfo: "usb-0000:00:14.0-2",
                                 modes: [mode(.y16, [(640, 512)])], deviceCapabilities: VideoCapabilities.streamingBit),
            path: "/dev/video1")
        let opener = SimulatedDeviceOpener(boson, metadata)
        let devices = listVideoDevices(paths: ["/dev/video0", "/dev/video1", "/dev/video7"], opener: opener)
        #expect(devices.count == 3)
        #expect(devices[0].isVideoCapture)
        #expect(devices[0].profile?.profile == .boson)
        #expect(devices[0].formats.map(\.format.pixelFormat) == [.y16, .mjpeg])
        #expect(!devices[1].isVideoCapture)

        let text = videoDeviceListing(devices)
        #expect(text == """
            /dev/video0: Boson: FLIR Video (uvcvideo, usb-0000:00:14.0-2)
              by-id: /dev/v4l/by-id/usb-FLIR_Boson_1234-video-index0
              USB 09cb:4007, profile boson (USB id 09cb:4007)
              capture takes Y16 640x512 at 60 fps unless told otherwise
              Y16  16-bit Greyscale: 640x512 (60 fps)
              MJPG Motion-JPEG [compressed]: 640x512 (30 fps)

            /dev/video1: Boson: FLIR Video (uvcvideo, usb-0000:00:14.0-2)
              not a video capture node (metadata or output)

            /dev/video7: cannot open: No such file or directory (ENOENT)
            """)
        // Listing opened and closed every device.
        #expect(boson.report.openHandles == 0)
        #expect(metadata.report.openHandles == 0)
    }

    @Test func formatsCaptureCannotReadAreCountedUnlessAllAreAsked() throws {
        let rgb = try #require(PixelFormat(fourCC: "RGB3"))
        let bayer = try #require(PixelFormat(fourCC: "BA81"))
        let sizes = [FrameSize(width: 320, height: 180), FrameSize(width: 640, height: 360), FrameSize(width: 640, height: 480),
                     FrameSize(width: 3840, height: 2160)]
        let bySize: [FrameSize: [FrameInterval]] = [
            sizes[0]: [FrameInterval(numerator: 1, denominator: 60), FrameInterval(numerator: 1, denominator: 30)],
            sizes[1]: [FrameInterval(numerator: 1, denominator: 25)], sizes[2]: [FrameInterval(numerator: 1, denominator: 25)],
            sizes[3]: [FrameInterval(numerator: 1, denominator: 2)],
        ]
        func webcamMode(_ format: PixelFormat, _ description: String) -> SimulatedCamera.Mode {
            .init(pixelFormat: format, description: description, sizes: sizes, intervals: [], intervalsBySize: bySize)
        }
        let vivid = SimulatedCamera(
            configuration: .init(card: "vivid", driver: "vivid", busInfo: "platform:vivid-000", modes: [
                webcamMode(.yuyv, "YUYV 4:2:2"), webcamMode(rgb, "24-bit RGB 8-8-8"), webcamMode(.grey, "8-bit Greyscale"),
                webcamMode(bayer, "8-bit Bayer BGBG/GRGR"), webcamMode(.y16, "16-bit Greyscale"),
            ]),
            path: "/dev/video0")
        let devices = listVideoDevices(paths: ["/dev/video0"], opener: SimulatedDeviceOpener(vivid))
        #expect(videoDeviceListing(devices) == """
            /dev/video0: vivid (vivid, platform:vivid-000)
              profile generic (no known camera matched)
              capture takes Y16 640x480 at 25 fps unless told otherwise
              Y16  16-bit Greyscale: 320x180 (60 fps), 640x360, 640x480 (25), 3840x2160 (2)
              GREY 8-bit Greyscale: 320x180 (60 fps), 640x360, 640x480 (25), 3840x2160 (2)
              YUYV YUYV 4:2:2: 320x180 (60 fps), 640x360, 640x480 (25), 3840x2160 (2)
              and 2 formats capture cannot read (--all lists them)
            """)
        let everything = videoDeviceListing(devices, all: true).split(separator: "\n")
        #expect(everything.count == 8)
        #expect(everything.last == "  BA81 8-bit Bayer BGBG/GRGR [not readable by capture]: 320x180 (60 fps), 640x360, 640x480 (25), 3840x2160 (2)")
    }

    @Test func noDevicesSaysSo() {
        #expect(videoDeviceListing([]).hasPrefix("No video devices found"))
    }
}
