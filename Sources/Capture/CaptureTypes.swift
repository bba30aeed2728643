import Foundation
import Imaging
import MediaIO
import Threading

/// What to capture from a V4L2 camera, and how to behave when it goes away.
package struct CaptureSettings: Sendable, Hashable {
    /// The device node: `/dev/video0`, or better a `/dev/v4l/by-id/...` link,
    /// which keeps naming the camera when it comes back under another number.
    package var devicePath: String
    /// The camera profile; nil detects it from the USB id and card name.
    package var profile: CameraProfile?
    /// A pixel format to insist on instead of capture's choice; the device
    /// must offer it.
    package var pixelFormat: PixelFormat?
    /// A frame size to insist on; the device must list it for the format.
    package var frameSize: FrameSize?
    /// A frame rate to insist on (within 5 %: 29.97 is 30); the device must
    /// list it for the size. Nil takes the fastest the chosen size offers.
    /// What is not named is chosen as `ModeSelection.swift` explains.
    package var framesPerSecond: Double?
    /// Memory-mapped buffers to request; the driver may grant another count.
    package var bufferCount: Int
    /// How long without a good frame counts as the camera being gone.
    package var frameTimeout: Duration
    /// How to wait between attempts to reopen a camera that went away.
    package var reconnect: ReconnectPolicy
    /// Whether `start()` should succeed when the camera is not there yet and
    /// keep trying in the background, instead of failing at once.
    package var waitForDevice: Bool

    package init(
        devicePath: String,
        profile: CameraProfile? = nil,
        pixelFormat: PixelFormat? = nil,
        frameSize: FrameSize? = nil,
        framesPerSecond: Double? = nil,
        bufferCount: Int = 4,
        frameTimeout: Duration = .seconds(2),
        reconnect: ReconnectPolicy = ReconnectPolicy(),
        waitForDevice: Bool = false
    ) {
        self.devicePath = devicePath
        self.profile = profile
        self.pixelFormat = pixelFormat
        self.frameSize = frameSize
        self.framesPerSecond = framesPerSecond
        self.bufferCount = bufferCount
        self.frameTimeout = frameTimeout
        self.reconnect = reconnect
        self.waitForDevice = waitForDevice
    }
}

/// Exponential backoff between reopen attempts: `initialDelay`, multiplied
/// by `multiplier` after each failure, never above `maximumDelay`.
package struct ReconnectPolicy: Sendable, Hashable {
    package var initialDelay: Duration
    package var maximumDelay: Duration
    package var multiplier: Double

    package init(initialDelay: Duration = .milliseconds(250), maximumDelay: Duration = .seconds(5), multiplier: Double = 2) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.multiplier = max(multiplier, 1)
    }

    /// The wait before attempt `attempt` (1 for the first).
    package func delay(beforeAttempt attempt: Int) -> Duration {
        let growth = pow(multiplier, Double(min(max(attempt - 1, 0), 64)))
        let seconds = min(initialDelay.seconds * growth, maximumDelay.seconds)
        return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }
}

/// The stream capture negotiated with a camera.
package struct CaptureStream: Sendable, Hashable, CustomStringConvertible {
    /// The path the camera was opened at this time.
    package var devicePath: String
    package var card: String
    package var driver: String
    package var busInfo: String
    package var profile: CameraProfile
    /// Why that profile: "USB id 09cb:4007", "chosen by name", ...
    package var profileReason: String
    /// The format the driver settled on.
    package var format: VideoFormat
    /// The time per frame the driver settled on, if it takes one.
    package var frameInterval: FrameInterval?
    /// Memory-mapped buffers the driver granted.
    package var bufferCount: Int
    /// The size of the frames capture delivers (without telemetry rows or
    /// the P2 Pro's image half).
    package var imageSize: FrameSize
    /// Significant bits of the delivered samples.
    package var significantBits: Int

    /// "Y16 640×480 at 25 fps", with "-> 160×120" when capture delivers
    /// less than the whole frame (telemetry rows, the P2 Pro's picture half).
    package var mode: String {
        var text = "\(format.pixelFormat) \(format.width)×\(format.height)"
        if let frameInterval, frameInterval.numerator > 0 { text += " at \(frameInterval)" }
        if imageSize != format.size { text += " -> \(imageSize.width)×\(imageSize.height)" }
        return text
    }

    package var description: String {
        var text = "\(devicePath) \"\(card)\" (\(driver)), profile \(profile.name) [\(profileReason)], \(format)"
        if let frameInterval { text += " at \(frameInterval)" }
        text += ", \(bufferCount) buffers -> \(imageSize) \(significantBits)-bit"
        return text
    }
}

/// One thermal frame from a camera.
package struct CapturedFrame: Sendable {
    /// The thermal samples, one per pixel: bytes for 8-bit formats, 16-bit words for Y16.
    package var samples: ThermalSamples
    /// How many low bits of each sample carry data: 8 for GREY and the luma
    /// of colour formats, the profile's Y16 depth otherwise.
    package var significantBits: Int
    /// When the frame was captured, on `MonotonicClock`.
    package var timestampNanoseconds: UInt64
    /// Capture's own frame counter: increases by one per delivered frame,
    /// across reconnects.
    package var sequence: UInt64
    /// The driver's counter for the frame, which restarts on reconnect and
    /// skips where the driver dropped frames.
    package var deviceSequence: UInt32

    package init(samples: ThermalSamples, significantBits: Int, timestampNanoseconds: UInt64, sequence: UInt64, deviceSequence: UInt32) {
        self.samples = samples
        self.significantBits = significantBits
        self.timestampNanoseconds = timestampNanoseconds
        self.sequence = sequence
        self.deviceSequence = deviceSequence
    }

    /// The samples as 16-bit counts, 8-bit frames widened (for checks that want one depth).
    package var image: Gray16Image {
        switch samples {
        case .eightBit(let image): Gray16Image(width: image.width, height: image.height, samples: image.samples.map(UInt16.init))
        case .sixteenBit(let image): image
        }
    }
}

/// What happens to a capture besides frames, in order, on the capture thread.
package enum CaptureEvent: Sendable, Hashable {
    /// The camera is streaming for the first time.
    case started(CaptureStream)
    /// The camera stopped answering or went away; capture will reopen it.
    case disconnected(reason: String)
    /// Capture waits `delay` before reopen attempt `attempt`; `lastError` is
    /// why the camera is not streaming.
    case reconnecting(attempt: Int, delay: Duration, lastError: String)
    /// The camera is streaming again after a disconnect.
    case reconnected(CaptureStream)
    /// Capture has stopped and released the camera; nothing follows.
    case stopped
}

/// Counters since `start()`.
package struct CaptureStatistics: Sendable, Hashable {
    /// Frames handed to the frame handler.
    package var framesDelivered = 0
    /// Filled buffers dequeued together with a newer one and requeued
    /// unread, so that the newest frame goes out first.
    package var framesSkippedAsStale = 0
    /// Frames the driver dropped, from gaps in its sequence numbers.
    package var framesDroppedByDevice = 0
    /// Buffers flagged `V4L2_BUF_FLAG_ERROR` or shorter than a frame.
    package var framesCorrupt = 0
    /// Times the camera went away.
    package var disconnects = 0
    /// Times it came back.
    package var reconnects = 0

    package init() {}
}

/// Why a capture could not start, in one line naming the device and cause.
package struct CaptureError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The device path involved.
    package var path: String
    /// What failed: "open", "VIDIOC_S_FMT", ...; nil for conclusions that
    /// are not one call's failure.
    package var operation: String?
    /// The driver's answer, when a call failed.
    package var errno: Errno?
    /// Words for failures without an errno, or to explain one.
    package var detail: String?
    /// Retrying cannot help: the path names something that is not a
    /// camera capture can use.
    package var isPermanent: Bool

    package init(path: String, operation: String? = nil, errno: Errno? = nil, detail: String? = nil, isPermanent: Bool = false) {
        self.path = path
        self.operation = operation
        self.errno = errno
        self.detail = detail
        self.isPermanent = isPermanent
    }

    /// The cause without the path, for a sentence that names the device
    /// already: "no such video device (ENOENT)", "device or resource busy (EBUSY)".
    package var summary: String {
        switch (detail, errno) {
        case let (detail?, errno?): "\(detail) (\(errno.symbolicName ?? errno.description))"
        case let (detail?, nil): detail
        case let (nil, errno?): errno.sentenceDescription
        case (nil, nil): operation.map { "\($0) failed" } ?? "unknown failure"
        }
    }

    package var description: String {
        var text = "\(path):"
        if let detail { text += " \(detail)" }
        if let operation, let errno {
            text += detail == nil ? " \(operation) failed: \(errno)" : " (\(operation): \(errno))"
        } else if let errno {
            text += " \(errno)"
        }
        return text
    }
}
