import CaptureTesting
import Foundation
import Imaging
@testable import Capture

extension CaptureEvent {
    var isDisconnected: Bool { if case .disconnected = self { true } else { false } }
    var isReconnected: Bool { if case .reconnected = self { true } else { false } }
    var isReconnecting: Bool { if case .reconnecting = self { true } else { false } }
    var isStarted: Bool { if case .started = self { true } else { false } }
    var isStopped: Bool { if case .stopped = self { true } else { false } }

    var disconnectReason: String? { if case .disconnected(let reason) = self { reason } else { nil } }
    var stream: CaptureStream? {
        switch self {
        case .started(let stream), .reconnected(let stream): stream
        default: nil
        }
    }
}

/// Fast frames, so that tests see many of them in little time.
let testInterval = FrameInterval(numerator: 1, denominator: 100)

/// Reconnect quickly in tests.
let quickReconnect = ReconnectPolicy(initialDelay: .milliseconds(20), maximumDelay: .milliseconds(200))

/// A thermal value that depends on position and frame, so that a wrong
/// stride, row or byte order shows.
func thermalValue(x: Int, y: Int, sequence: UInt32) -> UInt16 {
    UInt16(truncatingIfNeeded: 20000 + x * 7 + y * 131 + Int(sequence % 50) * 3)
}

/// An 8-bit value likewise.
func lumaValue(x: Int, y: Int, sequence: UInt32) -> UInt8 {
    UInt8(truncatingIfNeeded: x * 3 + y * 5 + Int(sequence))
}

/// The bytes a driver fills for `format`, with the thermal or luma values
/// above in the right places and filler everywhere else.
func encodedFrame(_ format: VideoFormat, sequence: UInt32) -> [UInt8] {
    var bytes = [UInt8](repeating: 0xEE, count: format.sizeImage)
    let line = format.bytesPerLine
    for y in 0..<format.height {
        for x in 0..<format.width {
            switch format.pixelFormat {
            case .y16:
                let value = thermalValue(x: x, y: y, sequence: sequence)
                bytes[y * line + 2 * x] = UInt8(value & 0xff)
                bytes[y * line + 2 * x + 1] = UInt8(value >> 8)
            case .grey, .nv12, .yuv420, .yvu420:
                bytes[y * line + x] = lumaValue(x: x, y: y, sequence: sequence)
            case .yuyv:
                bytes[y * line + 2 * x] = lumaValue(x: x, y: y, sequence: sequence)
                bytes[y * line + 2 * x + 1] = x % 2 == 0 ? 0x10 : 0xF0  // U, V
            case .uyvy:
                bytes[y * line + 2 * x] = x % 2 == 0 ? 0x10 : 0xF0
                bytes[y * line + 2 * x + 1] = lumaValue(x: x, y: y, sequence: sequence)
            default:
                break
            }
        }
    }
    return bytes
}

/// The P2 Pro's 256x384 YUYV frame: an 8-bit picture on top, the 256x192
/// temperature frame (1/64 K, little-endian) below.
func p2ProFrame(_ format: VideoFormat, sequence: UInt32) -> [UInt8] {
    var bytes = [UInt8](repeating: 0x80, count: format.sizeImage)
    let half = format.height / 2
    for y in 0..<half {
        for x in 0..<format.width {
            let value = thermalValue(x: x, y: y, sequence: sequence)
            let offset = (half + y) * format.bytesPerLine + 2 * x
            bytes[offset] = UInt8(value & 0xff)
            bytes[offset + 1] = UInt8(value >> 8)
        }
    }
    return bytes
}

/// A Lepton 3.x frame with telemetry: 120 image rows, then 2 rows of
/// telemetry words that must not reach the image.
func leptonTelemetryFrame(_ format: VideoFormat, sequence: UInt32) -> [UInt8] {
    var bytes = encodedFrame(format, sequence: sequence)
    for y in (format.height - 2)..<format.height {
        for x in 0..<format.bytesPerLine { bytes[y * format.bytesPerLine + x] = 0xAB }
    }
    return bytes
}

func expectedThermalImage(width: Int, height: Int, sequence: UInt32) -> Gray16Image {
    var image = Gray16Image(width: width, height: height, repeating: 0)
    for y in 0..<height {
        for x in 0..<width { image[x, y] = thermalValue(x: x, y: y, sequence: sequence) }
    }
    return image
}

func expectedLumaImage(width: Int, height: Int, sequence: UInt32) -> Gray16Image {
    var image = Gray16Image(width: width, height: height, repeating: 0)
    for y in 0..<height {
        for x in 0..<width { image[x, y] = UInt16(lumaValue(x: x, y: y, sequence: sequence)) }
    }
    return image
}

func simulatedCamera(
    card: String = "Test Camera",
    usbDeviceID: USBDeviceID? = nil,
    modes: [SimulatedCamera.Mode],
    rowPadding: Int = 0,
    maximumBuffers: Int = 8,
    path: String = "/dev/video0",
    stablePaths: [String] = [],
    frameSource: SimulatedCamera.FrameSource? = nil
) -> SimulatedCamera {
    SimulatedCamera(
        configuration: .init(card: card, usbDeviceID: usbDeviceID, modes: modes, rowPadding: rowPadding,
                             maximumBuffers: maximumBuffers),
        path: path, stablePaths: stablePaths, frameSource: frameSource ?? encodedFrame)
}

func mode(_ format: PixelFormat, _ sizes: [(Int, Int)], intervals: [FrameInterval] = [testInterval]) -> SimulatedCamera.Mode {
    .init(pixelFormat: format, sizes: sizes.map { FrameSize(width: $0.0, height: $0.1) }, intervals: intervals)
}
