import Foundation
import Imaging
import MediaIO
import Threading
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Live thermal frames from a V4L2 camera, surviving unplugs.
///
/// `start()` opens the camera, negotiates a mode - the one named in its
/// settings, which the device must offer, else its `CameraProfile`'s, else
/// Y16, GREY, then the luma of YUYV, UYVY and 4:2:0 formats, MJPEG last, at
/// the largest size that still runs at 25 fps - sets the rate, and streams
/// through memory-mapped buffers on
/// a thread of its own — never on the Swift concurrency pool, since every
/// call it makes can block. Each frame is copied out as a `Gray16Image`
/// (MJPEG frames are decoded with libavcodec first, and those that do not
/// decode are counted as corrupt and skipped), its buffer goes
/// straight back to the driver, and then `onFrame` runs on that thread: keep
/// it short (hand the frame to a bounded queue). When several filled buffers
/// are waiting, only the newest is read, so a late reader never works
/// through a backlog.
///
/// When the camera disappears (`ENODEV`, `EIO`, no frame for
/// `frameTimeout`), capture reports `.disconnected`, releases it, and reopens
/// it with exponential backoff — by its `/dev/v4l/by-id` name when it has
/// one, since a USB camera often returns under another `/dev/videoN` — until
/// it is back (`.reconnected`) or `stop()` is called.
///
/// ```swift
/// let capture = V4L2Capture(settings: CaptureSettings(devicePath: "/dev/video0"),
///                           onEvent: { print($0) },
///                           onFrame: { frame in queue.offer(frame) })
/// try capture.start()
/// ...
/// capture.stop()
/// ```
///
/// A capture runs once: `start()` after `stop()` fails.
package final class V4L2Capture: Sendable {
    private let engine: CaptureEngine

    /// - Parameters:
    ///   - settings: the device and what to ask it for.
    ///   - opener: how devices are opened; real cameras by default.
    ///   - onEvent: called on the capture thread for each `CaptureEvent`.
    ///   - onFrame: called on the capture thread for each frame.
    package init(
        settings: CaptureSettings,
        opener: any VideoDeviceOpener = LibV4L2Opener(),
        onEvent: @escaping @Sendable (CaptureEvent) -> Void = { _ in },
        onFrame: @escaping @Sendable (CapturedFrame) -> Void
    ) {
        engine = CaptureEngine(settings: settings, opener: opener, onEvent: onEvent, onFrame: onFrame)
    }

    deinit {
        engine.stop()
    }

    package var settings: CaptureSettings { engine.settings }

    /// Whether a `--input` value names a V4L2 device (`/dev/videoN` or a
    /// `/dev/v4l/by-id` or `by-path` link) rather than a file or URL.
    package static func isDevicePath(_ input: String) -> Bool {
        input.hasPrefix("/dev/video") || input.hasPrefix("/dev/v4l/")
    }

    /// Opens the camera and starts streaming; returns once the first frame
    /// buffers are queued. Throws when the camera cannot be opened or used,
    /// unless `settings.waitForDevice` is set and the cause may pass (the
    /// node does not exist yet, the device is busy), in which case capture
    /// keeps trying in the background.
    package func start() throws(CaptureError) {
        try engine.start()
    }

    /// Stops streaming, releases the camera and waits for the capture thread
    /// to end; interrupts a reconnect wait at once. Safe to call twice, and
    /// from the handlers (where it returns without waiting).
    package func stop() {
        engine.stop()
    }

    /// Counters since `start()`.
    package var statistics: CaptureStatistics { engine.statistics }

    /// The stream negotiated on the current (or last) connection.
    package var stream: CaptureStream? { engine.stream }
}

/// The state and thread behind a `V4L2Capture`, kept apart so that dropping
/// the last reference to the capture stops the thread (which holds this).
final class CaptureEngine: @unchecked Sendable {
    let settings: CaptureSettings
    private let opener: any VideoDeviceOpener
    private let onEvent: @Sendable (CaptureEvent) -> Void
    private let onFrame: @Sendable (CapturedFrame) -> Void

    private enum Phase {
        case idle, starting, running, finished
    }

    private enum StartOutcome {
        case streaming
        case failed(CaptureError)
    }

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var phase = Phase.idle
    private var stopRequested = false
    private var startOutcome: StartOutcome?
    private var counters = CaptureStatistics()
    private var currentStream: CaptureStream?
    private var captureThread: pthread_t?

    // Used only on the capture thread.
    private var nextSequence: UInt64 = 0
    private var stablePaths: [String] = []

    init(settings: CaptureSettings, opener: any VideoDeviceOpener,
         onEvent: @escaping @Sendable (CaptureEvent) -> Void,
         onFrame: @escaping @Sendable (CapturedFrame) -> Void) {
        self.settings = settings
        self.opener = opener
        self.onEvent = onEvent
        self.onFrame = onFrame
    }

    var statistics: CaptureStatistics {
        condition.withLock { counters }
    }

    var stream: CaptureStream? {
        condition.withLock { currentStream }
    }

    // MARK: Control

    func start() throws(CaptureError) {
        condition.lock()
        guard phase == .idle else {
            condition.unlock()
            throw CaptureError(path: settings.devicePath, detail: "a capture runs once and this one was already started or stopped", isPermanent: true)
        }
        phase = .starting
        condition.unlock()

        let thread = Thread { [self] in run() }
        thread.name = "capture \(settings.devicePath)"
        thread.start()

        condition.lock()
        while startOutcome == nil { condition.wait() }
        let outcome = startOutcome
        condition.unlock()
        if case .failed(let error) = outcome {
            // The thread has released everything and is ending on its own.
            condition.withLock { while phase != .finished { condition.wait() } }
            throw error
        }
    }

    func stop() {
        condition.lock()
        defer { condition.unlock() }
        switch phase {
        case .idle:
            phase = .finished
            return
        case .finished:
            return
        case .starting, .running:
            stopRequested = true
            condition.broadcast()
            // A handler calling stop() runs on the capture thread itself,
            // which ends once the handler returns.
            if let captureThread, pthread_equal(captureThread, pthread_self()) != 0 { return }
            while phase != .finished { condition.wait() }
        }
    }

    private var isStopRequested: Bool {
        condition.withLock { stopRequested }
    }

    /// Waits `delay` or until `stop()`; true when stopped.
    private func waitForStop(_ delay: Duration) -> Bool {
        let deadline = Date(timeIntervalSinceNow: delay.seconds)
        condition.lock()
        defer { condition.unlock() }
        while !stopRequested {
            if !condition.wait(until: deadline) { break }
        }
        return stopRequested
    }

    private func update(_ change: (inout CaptureStatistics) -> Void) {
        condition.withLock { change(&counters) }
    }

    private func reportStart(_ outcome: StartOutcome) {
        condition.withLock {
            startOutcome = outcome
            if case .streaming = outcome { phase = .running }
            condition.broadcast()
        }
    }

    // MARK: The capture thread

    private func run() {
        condition.withLock { captureThread = pthread_self() }
        var session: StreamSession?
        var lastError: String
        var hasStreamed = false

        do {
            let opened = try openSession()
            session = opened
            lastError = ""
            hasStreamed = true
            reportStart(.streaming)
            onEvent(.started(opened.stream))
        } catch {
            if !settings.waitForDevice || error.isPermanent {
                finish(startFailure: error)
                return
            }
            lastError = error.summary
            reportStart(.streaming)
        }

        var attempt = 0
        while true {
            if let current = session {
                let reason = stream(current)
                current.close()
                session = nil
                guard let reason else { break }
                update { $0.disconnects += 1 }
                onEvent(.disconnected(reason: reason))
                lastError = reason
                attempt = 0
            }
            attempt += 1
            let delay = settings.reconnect.delay(beforeAttempt: attempt)
            if isStopRequested { break }
            onEvent(.reconnecting(attempt: attempt, delay: delay, lastError: lastError))
            if waitForStop(delay) { break }
            do {
                let opened = try openSession()
                session = opened
                if hasStreamed {
                    update { $0.reconnects += 1 }
                    onEvent(.reconnected(opened.stream))
                } else {
                    onEvent(.started(opened.stream))
                }
                hasStreamed = true
            } catch {
                lastError = error.summary
            }
        }
        onEvent(.stopped)
        finish(startFailure: nil)
    }

    private func finish(startFailure: CaptureError?) {
        condition.withLock {
            if let startFailure { startOutcome = .failed(startFailure) }
            phase = .finished
            condition.broadcast()
        }
    }

    // MARK: Opening and negotiating

    /// Opens the camera and starts it streaming. Everything opened is
    /// released again on failure.
    ///
    /// Once the camera's stable names are known (its by-id and by-path
    /// links), only they are tried: a `/dev/videoN` number freed by an
    /// unplug can be given to another camera, which must not be taken for
    /// this one.
    private func openSession() throws(CaptureError) -> StreamSession {
        let candidates = stablePaths.isEmpty ? [settings.devicePath] : stablePaths
        var firstError: CaptureError?
        for path in candidates {
            let device: any VideoDeviceIO
            do {
                device = try opener.open(path: path)
            } catch {
                let failure = Self.openError(path: path, errno: error)
                if error == .noSuchFileOrDirectory || error == .noSuchDevice || error == .noSuchDeviceOrAddress {
                    // Gone from this name; another may still be there.
                    if firstError == nil || path == settings.devicePath { firstError = failure }
                    continue
                }
                throw failure
            }
            let session = StreamSession(device: device)
            do {
                try configure(session, path: path)
            } catch {
                session.close()
                throw error
            }
            let found = opener.stablePaths(for: path)
            if !found.isEmpty { stablePaths = found }
            condition.withLock { currentStream = session.stream }
            return session
        }
        throw firstError ?? CaptureError(path: settings.devicePath, detail: "no device path to open")
    }

    private static func openError(path: String, errno: Errno) -> CaptureError {
        switch errno {
        case .inappropriateIOCTLForDevice:
            return CaptureError(path: path, operation: "VIDIOC_QUERYCAP", errno: errno,
                                detail: "is not a V4L2 video device", isPermanent: true)
        case .noSuchFileOrDirectory:
            return CaptureError(path: path, operation: "open", errno: errno, detail: "no such video device")
        default:
            return CaptureError(path: path, operation: "open", errno: errno)
        }
    }

    private func configure(_ session: StreamSession, path: String) throws(CaptureError) {
        let device = session.device
        @discardableResult
        func call<Value>(_ operation: String, _ body: () throws(Errno) -> Value) throws(CaptureError) -> Value {
            do {
                return try body()
            } catch {
                throw CaptureError(path: path, operation: operation, errno: error)
            }
        }

        let capabilities = try call("VIDIOC_QUERYCAP") { () throws(Errno) in try device.queryCapabilities() }
        guard capabilities.canCaptureVideo else {
            throw CaptureError(path: path, detail: "\"\(capabilities.card)\" (\(capabilities.driver)) does not capture video; it may be a metadata node", isPermanent: true)
        }
        guard capabilities.canStream else {
            throw CaptureError(path: path, detail: "\"\(capabilities.card)\" (\(capabilities.driver)) does not support streaming I/O", isPermanent: true)
        }
        let formats = try call("VIDIOC_ENUM_FMT") { () throws(Errno) in try device.enumerateFormats() }

        let match: ProfileMatch
        if let chosen = settings.profile {
            match = ProfileMatch(profile: chosen, reason: "chosen by name")
        } else {
            let offersP2ProMode = formats.contains { $0.pixelFormat == .yuyv }
                && (try? device.enumerateFrameSizes(for: .yuyv))?.contains(CameraProfile.p2ProFrameSize) == true
            match = CameraProfile.detect(usbDeviceID: opener.usbDeviceID(for: path), card: capabilities.card,
                                         offersP2ProMode: offersP2ProMode)
        }

        let plan = try Self.plan(
            formats: formats,
            sizes: { try? device.enumerateFrameSizes(for: $0) },
            intervals: { try? device.enumerateFrameIntervals(for: $0, size: $1) },
            currentSize: { (try? device.getFormat())?.size },
            profile: match.profile, settings: settings, path: path)

        let requested = VideoFormat(pixelFormat: plan.pixelFormat, width: plan.size.width, height: plan.size.height)
        let format = try call("VIDIOC_S_FMT") { () throws(Errno) in try device.setFormat(requested) }
        guard let extraction = match.profile.extraction(for: format) else {
            throw CaptureError(path: path, detail: "the driver chose \(format) when asked for \(requested), and capture cannot read \(format.pixelFormat)", isPermanent: true)
        }
        if extraction.sample == .jpeg {
            do {
                session.jpegDecoder = try MJPEGDecoder(source: path)
            } catch {
                throw CaptureError(path: path, detail: "cannot read \(format.pixelFormat): \((error as? MediaError)?.reason ?? "\(error)")", isPermanent: true)
            }
        }

        var interval: FrameInterval?
        if let wanted = plan.interval {
            do {
                interval = try device.setFrameInterval(wanted)
            } catch {
                // A rate the driver will not take is not worth failing over;
                // a device that has gone is.
                if error == .noSuchDevice || error == .ioError {
                    throw CaptureError(path: path, operation: "VIDIOC_S_PARM", errno: error)
                }
            }
        }

        let granted = try call("VIDIOC_REQBUFS") { () throws(Errno) in try device.requestBuffers(count: max(settings.bufferCount, 1)) }
        session.grantedBuffers = granted
        guard granted > 0 else {
            throw CaptureError(path: path, operation: "VIDIOC_REQBUFS", detail: "the driver granted no buffers")
        }
        for index in 0..<granted {
            try call("mmap") { () throws(Errno) in try device.mapBuffer(index: index) }
            try call("VIDIOC_QBUF") { () throws(Errno) in try device.queueBuffer(index: index) }
        }
        try call("VIDIOC_STREAMON") { () throws(Errno) in try device.streamOn() }
        session.isStreaming = true
        session.extraction = extraction
        session.bytesPerLine = format.bytesPerLine
        session.stream = CaptureStream(
            devicePath: path, card: capabilities.card, driver: capabilities.driver, busInfo: capabilities.busInfo,
            profile: match.profile, profileReason: match.reason, format: format, frameInterval: interval,
            bufferCount: granted, imageSize: FrameSize(width: extraction.width, height: extraction.rows),
            significantBits: extraction.significantBits)
    }

    // MARK: Streaming

    /// Streams until stopped (returns nil) or until the camera fails
    /// (returns why).
    private func stream(_ session: StreamSession) -> String? {
        let device = session.device
        let timeout = settings.frameTimeout.nanoseconds
        var lastGoodFrame = MonotonicClock.nanoseconds()
        var lastDeviceSequence: UInt32?

        while !isStopRequested {
            let waited = MonotonicClock.nanoseconds() &- lastGoodFrame
            if waited >= timeout {
                return "no frame for \(Self.seconds(timeout)) s"
            }
            // Short slices keep stop() prompt without a wake-up descriptor.
            let slice = Int(min((timeout - waited) / 1_000_000 + 1, 100))
            let events: PollEvents
            do {
                events = try device.poll(timeoutMilliseconds: slice)
            } catch {
                return error.sentenceDescription
            }
            if events.isEmpty { continue }

            // Take every filled buffer; all but the newest go straight back.
            // Poll again before each further dequeue: a dequeue that finds
            // nothing is EAGAIN, which libv4l2 would print on stderr. After
            // POLLERR or POLLHUP one dequeue is still tried, for the errno
            // that says why (ENODEV after an unplug).
            var newest: DequeuedBuffer?
            var failure: String?
            var mayDequeue = events.contains(.readable) || !events.isDisjoint(with: [.error, .hangUp])
            while mayDequeue {
                do {
                    let buffer = try device.dequeueBuffer()
                    // Buffers come back in the order they were filled, so a
                    // gap in their sequence numbers is frames the driver lost.
                    if let lastDeviceSequence, buffer.sequence > lastDeviceSequence &+ 1 {
                        let gap = Int(buffer.sequence - lastDeviceSequence - 1)
                        update { $0.framesDroppedByDevice += gap }
                    }
                    lastDeviceSequence = buffer.sequence
                    // A damaged buffer goes straight back; a good one
                    // replaces (and returns) the older one held so far.
                    let isDamaged = session.isDamaged(buffer)
                    let returned = isDamaged ? buffer : newest
                    if isDamaged {
                        update { $0.framesCorrupt += 1 }
                    } else {
                        if newest != nil { update { $0.framesSkippedAsStale += 1 } }
                        newest = buffer
                    }
                    if let returned {
                        do {
                            try device.queueBuffer(index: returned.index)
                        } catch {
                            failure = error.sentenceDescription
                            break
                        }
                    }
                } catch {
                    if error != .resourceTemporarilyUnavailable { failure = error.sentenceDescription }
                    break
                }
                mayDequeue = (try? device.poll(timeoutMilliseconds: 0))?.contains(.readable) == true
            }

            if let buffer = newest {
                let image = read(buffer, from: session)
                if failure == nil {
                    do {
                        try device.queueBuffer(index: buffer.index)
                    } catch {
                        failure = error.sentenceDescription
                    }
                }
                if let image, let extraction = session.extraction {
                    lastGoodFrame = MonotonicClock.nanoseconds()
                    let frame = CapturedFrame(
                        samples: image, significantBits: extraction.significantBits,
                        timestampNanoseconds: buffer.monotonicTimestampNanoseconds ?? lastGoodFrame,
                        sequence: nextSequence, deviceSequence: buffer.sequence)
                    nextSequence += 1
                    update { $0.framesDelivered += 1 }
                    onFrame(frame)
                } else {
                    update { $0.framesCorrupt += 1 }
                }
            }
            if let failure { return failure }
            if newest == nil, !events.isDisjoint(with: [.error, .hangUp]) {
                return events.contains(.hangUp) ? "the device hung up (POLLHUP)" : "the device reported an error (POLLERR)"
            }
        }
        return nil
    }

    /// The frame in `buffer`, or nil when the driver flagged it, it is
    /// shorter than a frame, or (MJPEG) it does not decode.
    private func read(_ buffer: DequeuedBuffer, from session: StreamSession) -> ThermalSamples? {
        guard !buffer.hasError else { return nil }
        let image = try? session.device.withMappedBuffer(index: buffer.index) { bytes in
            session.image(from: UnsafeRawBufferPointer(rebasing: bytes.prefix(min(buffer.bytesUsed, bytes.count))))
        }
        return image ?? nil
    }

    private static func seconds(_ nanoseconds: UInt64) -> String {
        let value = Double(nanoseconds) / 1e9
        return value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }
}

/// An open, possibly streaming device and what was negotiated with it;
/// `close()` releases it in the order V4L2 wants: stream off, unmap, free
/// the buffers, close.
final class StreamSession {
    let device: any VideoDeviceIO
    var grantedBuffers = 0
    var isStreaming = false
    var extraction: FrameExtraction?
    var bytesPerLine = 0
    /// Decodes the frames of an MJPEG stream; nil for raw formats.
    var jpegDecoder: MJPEGDecoder?
    var stream: CaptureStream!

    /// Flagged by the driver, or too short to hold a frame.
    func isDamaged(_ buffer: DequeuedBuffer) -> Bool {
        guard let extraction else { return true }
        let bytesPerLine = max(bytesPerLine, extraction.packedBytesPerLine)
        return buffer.hasError || buffer.bytesUsed < extraction.requiredBytes(bytesPerLine: bytesPerLine)
    }

    /// The frame in a buffer's used bytes: read out of a raw format, or
    /// decoded from a JPEG. Nil when the bytes are too short, do not decode,
    /// or decode to another size than the one negotiated (frames downstream
    /// keep one size).
    func image(from bytes: UnsafeRawBufferPointer) -> ThermalSamples? {
        guard let extraction else { return nil }
        guard extraction.sample == .jpeg else {
            return extraction.extract(from: bytes, bytesPerLine: bytesPerLine)
        }
        guard let decoded = try? jpegDecoder?.decodeLuma(bytes),
              decoded.width == extraction.width, decoded.height == extraction.rows else { return nil }
        return .eightBit(decoded)
    }

    private var isClosed = false

    init(device: any VideoDeviceIO) {
        self.device = device
    }

    deinit {
        close()
    }

    /// Releases the device; errors are ignored, since after an unplug every
    /// call fails and the point is only to let go.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        if isStreaming {
            try? device.streamOff()
            isStreaming = false
        }
        device.unmapBuffers()
        if grantedBuffers > 0 {
            _ = try? device.requestBuffers(count: 0)
            grantedBuffers = 0
        }
        device.close()
    }
}
