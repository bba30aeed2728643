import Capture
import Foundation
import Imaging
import MediaIO
import Threading

/// A V4L2 camera simulated in memory, for tests and demonstrations without
/// hardware.
///
/// It follows the V4L2 specification where capture depends on it:
/// - `S_FMT` adjusts an unsupported pixel format to the camera's first one
///   and an unsupported size to the nearest it has, and is `EBUSY` while
///   buffers are allocated; `S_PARM` picks the nearest interval the size
///   offers (sizes may offer different intervals, as on UVC cameras).
/// - `REQBUFS` grants between `minimumBuffers` and `maximumBuffers`, is
///   `EBUSY` while streaming, while buffers are mapped (count 0) or when
///   another open handle owns the queue.
/// - Buffers belong to the application until queued; `QBUF` of a queued or
///   filled buffer, or of an index out of range, is `EINVAL`. `DQBUF` before
///   `STREAMON` or without buffers is `EINVAL`, and `EAGAIN` when nothing is
///   filled. `STREAMOFF` hands every buffer back.
/// - Frames arrive in real time at the negotiated interval into queued
///   buffers, oldest queued first; a frame due while no buffer is queued is
///   dropped, and the sequence number skips it, as drivers do.
/// - `poll` reports `POLLERR` before `STREAMON` or with nothing queued, and
///   waits for the next frame otherwise.
/// - After `unplug()` the node disappears (`open` is `ENOENT`), every call
///   on a handle opened before is `ENODEV` and `poll` reports `POLLERR |
///   POLLHUP`; `plug(at:)` brings it back as a new device, possibly under
///   another node, while its stable names follow it.
package final class SimulatedCamera: @unchecked Sendable {
    /// A pixel format the camera offers, with its sizes and intervals.
    package struct Mode: Sendable, Hashable {
        package var pixelFormat: PixelFormat
        package var description: String
        package var sizes: [FrameSize]
        /// The intervals of every size not in `intervalsBySize`.
        package var intervals: [FrameInterval]
        /// Intervals of particular sizes, as UVC cameras and vivid list
        /// them: large sizes often run slower than small ones.
        package var intervalsBySize: [FrameSize: [FrameInterval]]

        package init(pixelFormat: PixelFormat, description: String? = nil, sizes: [FrameSize], intervals: [FrameInterval],
                    intervalsBySize: [FrameSize: [FrameInterval]] = [:]) {
            self.pixelFormat = pixelFormat
            self.description = description ?? pixelFormat.description
            self.sizes = sizes
            self.intervals = intervals
            self.intervalsBySize = intervalsBySize
        }

        /// The intervals offered at `size`.
        package func intervals(at size: FrameSize) -> [FrameInterval] {
            intervalsBySize[size] ?? intervals
        }
    }

    /// What the camera is and offers.
    package struct Configuration: Sendable, Hashable {
        package var card: String
        package var driver: String
        package var busInfo: String
        package var usbDeviceID: USBDeviceID?
        /// Offered formats, the first being the default.
        package var modes: [Mode]
        /// Extra bytes at the end of every row, as some drivers pad.
        package var rowPadding: Int
        package var minimumBuffers: Int
        package var maximumBuffers: Int
        /// Whether `S_PARM` takes a time per frame.
        package var supportsFrameInterval: Bool
        /// `device_caps`; clear the capture bit to simulate a metadata node.
        package var deviceCapabilities: UInt32

        package init(
            card: String, driver: String = "simulated", busInfo: String = "platform:simulated",
            usbDeviceID: USBDeviceID? = nil, modes: [Mode], rowPadding: Int = 0,
            minimumBuffers: Int = 2, maximumBuffers: Int = 8, supportsFrameInterval: Bool = true,
            deviceCapabilities: UInt32 = VideoCapabilities.videoCaptureBit | VideoCapabilities.streamingBit
        ) {
            self.card = card
            self.driver = driver
            self.busInfo = busInfo
            self.usbDeviceID = usbDeviceID
            self.modes = modes
            self.rowPadding = rowPadding
            self.minimumBuffers = minimumBuffers
            self.maximumBuffers = maximumBuffers
            self.supportsFrameInterval = supportsFrameInterval
            self.deviceCapabilities = deviceCapabilities
        }
    }

    /// Makes the bytes of frame `sequence` in `format`; it may return fewer
    /// bytes than `format.sizeImage` to simulate a cut-off frame.
    package typealias FrameSource = @Sendable (_ format: VideoFormat, _ sequence: UInt32) -> [UInt8]

    /// What is open, mapped and queued, for checking that a user of the
    /// camera let go of everything.
    package struct Report: Sendable, Hashable {
        /// Handles opened and not closed.
        package var openHandles: Int
        /// Buffers mapped and not unmapped, over every plug-in.
        package var mappedBuffers: Int
        /// Buffers allocated on the current plug-in.
        package var allocatedBuffers: Int
        /// Buffers the driver holds (queued or filled).
        package var buffersHeldByDriver: Int
        package var isStreaming: Bool
        /// Times a handle was opened.
        package var opens: Int
        /// Frames put into buffers.
        package var framesFilled: Int
        /// Frames due while no buffer was queued.
        package var framesDroppedForLackOfBuffers: Int
    }

    package let configuration: Configuration
    private let frameSource: FrameSource
    private let condition = NSCondition()

    // Guarded by `condition`.
    private var nodePath: String?
    private var lastNodePath: String
    private var stableNames: [String]
    private var instance: Instance
    private var allInstances: [Instance] = []
    private var openHandles = 0
    private var opens = 0
    private var framesFilled = 0
    private var framesDropped = 0
    private var isStalled = false
    private var corruptFrames = 0
    private var truncateFrames = 0
    private var dequeueFailures: [Errno] = []

    /// A camera plugged in at `path`, also reachable through `stablePaths`
    /// (its `/dev/v4l/by-id` names), producing frames from `frameSource`
    /// (a moving test pattern by default).
    package init(configuration: Configuration, path: String, stablePaths: [String] = [], frameSource: FrameSource? = nil) {
        self.configuration = configuration
        self.frameSource = frameSource ?? SimulatedCamera.testPattern
        nodePath = path
        lastNodePath = path
        stableNames = stablePaths
        instance = Instance(configuration: configuration)
        allInstances = [instance]
    }

    // MARK: The physical camera

    /// Pulls the cable: the node disappears and open handles fail with ENODEV.
    package func unplug() {
        condition.withLock {
            nodePath = nil
            instance.isGone = true
            condition.broadcast()
        }
    }

    /// Plugs the camera back in, at `path` (its last node if nil), as a new
    /// device with default settings.
    package func plug(at path: String? = nil) {
        condition.withLock {
            let node = path ?? lastNodePath
            nodePath = node
            lastNodePath = node
            instance = Instance(configuration: configuration)
            allInstances.append(instance)
            condition.broadcast()
        }
    }

    package var isPlugged: Bool { condition.withLock { nodePath != nil } }

    /// Stops (true) or resumes (false) frame delivery with the device still
    /// present, like a sensor that hangs.
    package func setStalled(_ stalled: Bool) {
        condition.withLock {
            if isStalled && !stalled { instance.restartClock() }
            isStalled = stalled
            condition.broadcast()
        }
    }

    /// Flags the next `count` frames with `V4L2_BUF_FLAG_ERROR`.
    package func corruptNextFrames(_ count: Int = 1) {
        condition.withLock { corruptFrames += count }
    }

    /// Cuts the next `count` frames to half their length.
    package func truncateNextFrames(_ count: Int = 1) {
        condition.withLock { truncateFrames += count }
    }

    /// Makes the next `DQBUF` calls fail with `errors`, in order, as a
    /// driver does on a transfer error (`EIO`).
    package func failNextDequeues(with errors: [Errno]) {
        condition.withLock { dequeueFailures += errors }
    }

    package var report: Report {
        condition.withLock {
            Report(
                openHandles: openHandles,
                mappedBuffers: allInstances.reduce(0) { $0 + $1.slots.filter(\.isMapped).count },
                allocatedBuffers: instance.slots.count,
                buffersHeldByDriver: instance.slots.filter { $0.state != .application }.count,
                isStreaming: instance.isStreaming,
                opens: opens,
                framesFilled: framesFilled,
                framesDroppedForLackOfBuffers: framesDropped)
        }
    }

    // MARK: Names

    func answers(to path: String) -> Bool {
        condition.withLock { nodePath != nil && (nodePath == path || stableNames.contains(path)) }
    }

    func stablePaths(for path: String) -> [String] {
        condition.withLock { nodePath == path ? stableNames : [] }
    }

    func open(path: String) throws(Errno) -> SimulatedVideoDevice {
        try condition.locked { () throws(Errno) -> SimulatedVideoDevice in
            guard nodePath != nil else { throw .noSuchFileOrDirectory }
            openHandles += 1
            opens += 1
            return SimulatedVideoDevice(camera: self, instance: instance, path: path)
        }
    }

    // MARK: The device, per plug-in

    enum BufferState { case application, queued, filled }

    struct Slot {
        var storage: [UInt8]
        var state = BufferState.application
        var isMapped = false
        var bytesUsed = 0
        var sequence: UInt32 = 0
        var timestamp: UInt64 = 0
        var hasError = false
    }

    /// One plug-in of the camera: a fresh driver state.
    final class Instance {
        var isGone = false
        var format: VideoFormat
        var interval: FrameInterval
        var slots: [Slot] = []
        var owner: ObjectIdentifier?
        var incoming: [Int] = []
        var outgoing: [Int] = []
        var isStreaming = false
        var clockStart: UInt64 = 0
        var framesDue: UInt64 = 0
        var sequence: UInt32 = 0
        let configuration: Configuration

        init(configuration: Configuration) {
            self.configuration = configuration
            let mode = configuration.modes[0]
            format = Self.layout(mode.pixelFormat, size: mode.sizes[0], padding: configuration.rowPadding)
            interval = mode.intervals(at: mode.sizes[0]).first ?? FrameInterval(numerator: 1, denominator: 30)
        }

        func restartClock() {
            clockStart = MonotonicClock.nanoseconds()
            framesDue = 0
        }

        var intervalNanoseconds: UInt64 {
            max(UInt64(interval.seconds * 1e9), 1)
        }

        /// Bytes per line and image size as a driver computes them.
        static func layout(_ pixelFormat: PixelFormat, size: FrameSize, padding: Int) -> VideoFormat {
            let bytesPerLine: Int
            let sizeImage: Int
            switch pixelFormat {
            case .y16, .yuyv, .uyvy:
                bytesPerLine = size.width * 2 + padding
                sizeImage = bytesPerLine * size.height
            case .grey:
                bytesPerLine = size.width + padding
                sizeImage = bytesPerLine * size.height
            case .nv12, .yuv420, .yvu420:
                bytesPerLine = size.width + padding
                sizeImage = bytesPerLine * size.height * 3 / 2
            case .mjpeg:
                // Compressed: no rows, and room for the largest frame, as
                // uvcvideo sizes MJPEG buffers.
                bytesPerLine = 0
                sizeImage = size.width * size.height * 2 + 4096
            default:
                bytesPerLine = 0
                sizeImage = size.width * size.height * 2
            }
            return VideoFormat(pixelFormat: pixelFormat, width: size.width, height: size.height,
                               bytesPerLine: bytesPerLine, sizeImage: sizeImage)
        }
    }

    /// Fills queued buffers with every frame due by `now`.
    private func produceFrames(in instance: Instance, now: UInt64) {
        guard instance.isStreaming, !instance.isGone, !isStalled else { return }
        let step = instance.intervalNanoseconds
        var due = (now &- instance.clockStart) / step
        if due > instance.framesDue + 1000 {
            // Long gaps (a paused test) would otherwise replay thousands of frames.
            instance.framesDue = due - 1
        }
        due = (now &- instance.clockStart) / step
        while instance.framesDue < due {
            instance.framesDue += 1
            let sequence = instance.sequence
            instance.sequence &+= 1
            guard !instance.incoming.isEmpty else {
                framesDropped += 1
                continue
            }
            let index = instance.incoming.removeFirst()
            var data = frameSource(instance.format, sequence)
            if truncateFrames > 0 {
                truncateFrames -= 1
                data = Array(data.prefix(data.count / 2))
            }
            var slot = instance.slots[index]
            let count = min(data.count, slot.storage.count)
            slot.storage.replaceSubrange(0..<count, with: data[0..<count])
            slot.bytesUsed = count
            slot.sequence = sequence
            slot.timestamp = instance.clockStart + instance.framesDue * step
            slot.hasError = corruptFrames > 0
            if corruptFrames > 0 { corruptFrames -= 1 }
            slot.state = .filled
            instance.slots[index] = slot
            instance.outgoing.append(index)
            framesFilled += 1
        }
    }

    /// When the next frame falls due, if one will.
    private func nextFrameTime(of instance: Instance) -> UInt64? {
        guard instance.isStreaming, !instance.isGone, !isStalled else { return nil }
        return instance.clockStart + (instance.framesDue + 1) * instance.intervalNanoseconds
    }

    // MARK: Calls from handles, each under the lock

    func perform<Value>(_ handle: SimulatedVideoDevice, _ body: (Instance) throws(Errno) -> Value) throws(Errno) -> Value {
        try condition.locked { () throws(Errno) -> Value in
            guard !handle.isClosed else { throw .badFileDescriptor }
            guard !handle.instance.isGone else { throw .noSuchDevice }
            return try body(handle.instance)
        }
    }

    func setFormat(_ requested: VideoFormat, handle: SimulatedVideoDevice) throws(Errno) -> VideoFormat {
        try perform(handle) { (instance) throws(Errno) -> VideoFormat in
            guard instance.slots.isEmpty else { throw .resourceBusy }
            let mode = configuration.modes.first { $0.pixelFormat == requested.pixelFormat } ?? configuration.modes[0]
            let size = mode.sizes.min {
                abs($0.width - requested.width) + abs($0.height - requested.height)
                    < abs($1.width - requested.width) + abs($1.height - requested.height)
            } ?? mode.sizes[0]
            instance.format = Instance.layout(mode.pixelFormat, size: size, padding: configuration.rowPadding)
            // Like a driver, keep the rate where the new size offers it.
            let offered = mode.intervals(at: size)
            if !offered.contains(instance.interval), let first = offered.first {
                instance.interval = first
            }
            return instance.format
        }
    }

    func setFrameInterval(_ wanted: FrameInterval, handle: SimulatedVideoDevice) throws(Errno) -> FrameInterval? {
        try perform(handle) { (instance) throws(Errno) -> FrameInterval? in
            guard configuration.supportsFrameInterval else { return nil }
            guard !instance.isStreaming else { throw .resourceBusy }
            let mode = configuration.modes.first { $0.pixelFormat == instance.format.pixelFormat }
            if let closest = mode?.intervals(at: instance.format.size).min(by: {
                abs($0.framesPerSecond - wanted.framesPerSecond) < abs($1.framesPerSecond - wanted.framesPerSecond)
            }) {
                instance.interval = closest
            }
            return instance.interval
        }
    }

    func requestBuffers(_ count: Int, handle: SimulatedVideoDevice) throws(Errno) -> Int {
        try perform(handle) { (instance) throws(Errno) -> Int in
            let me = ObjectIdentifier(handle)
            if let owner = instance.owner, owner != me { throw .resourceBusy }
            guard !instance.isStreaming else { throw .resourceBusy }
            guard !instance.slots.contains(where: \.isMapped) else { throw .resourceBusy }
            instance.slots = []
            instance.incoming = []
            instance.outgoing = []
            guard count > 0 else {
                instance.owner = nil
                return 0
            }
            let granted = min(max(count, configuration.minimumBuffers), configuration.maximumBuffers)
            instance.slots = Array(repeating: Slot(storage: [UInt8](repeating: 0, count: instance.format.sizeImage)), count: granted)
            instance.owner = me
            return granted
        }
    }

    /// The owner's buffer `index`, or EINVAL.
    private func checkIndex(_ index: Int, of instance: Instance, handle: SimulatedVideoDevice) throws(Errno) {
        guard instance.owner == ObjectIdentifier(handle) else {
            throw instance.owner == nil ? .invalidArgument : .resourceBusy
        }
        guard instance.slots.indices.contains(index) else { throw .invalidArgument }
    }

    func mapBuffer(_ index: Int, handle: SimulatedVideoDevice) throws(Errno) -> Int {
        try perform(handle) { (instance) throws(Errno) -> Int in
            try checkIndex(index, of: instance, handle: handle)
            instance.slots[index].isMapped = true
            return instance.slots[index].storage.count
        }
    }

    func withMappedBuffer<Result>(_ index: Int, handle: SimulatedVideoDevice, _ body: (UnsafeRawBufferPointer) -> Result) throws(Errno) -> Result {
        // Mapped memory stays readable after an unplug, as it does in the kernel.
        try condition.locked { () throws(Errno) -> Result in
            let instance = handle.instance
            guard !handle.isClosed, instance.owner == ObjectIdentifier(handle),
                  instance.slots.indices.contains(index), instance.slots[index].isMapped else { throw .invalidArgument }
            return instance.slots[index].storage.withUnsafeBytes(body)
        }
    }

    func unmapBuffers(handle: SimulatedVideoDevice) {
        condition.withLock {
            let instance = handle.instance
            guard instance.owner == ObjectIdentifier(handle) else { return }
            for index in instance.slots.indices { instance.slots[index].isMapped = false }
        }
    }

    func queueBuffer(_ index: Int, handle: SimulatedVideoDevice) throws(Errno) {
        try perform(handle) { (instance) throws(Errno) in
            try checkIndex(index, of: instance, handle: handle)
            guard instance.slots[index].state == .application else { throw .invalidArgument }
            instance.slots[index].state = .queued
            instance.incoming.append(index)
            condition.broadcast()
        }
    }

    func dequeueBuffer(handle: SimulatedVideoDevice) throws(Errno) -> DequeuedBuffer {
        try perform(handle) { (instance) throws(Errno) -> DequeuedBuffer in
            guard instance.owner == ObjectIdentifier(handle), !instance.slots.isEmpty else {
                throw instance.owner == nil ? .invalidArgument : .resourceBusy
            }
            guard instance.isStreaming else { throw .invalidArgument }
            if !dequeueFailures.isEmpty { throw dequeueFailures.removeFirst() }
            produceFrames(in: instance, now: MonotonicClock.nanoseconds())
            guard !instance.outgoing.isEmpty else { throw .resourceTemporarilyUnavailable }
            let index = instance.outgoing.removeFirst()
            instance.slots[index].state = .application
            let slot = instance.slots[index]
            return DequeuedBuffer(index: index, bytesUsed: slot.bytesUsed, sequence: slot.sequence,
                                  monotonicTimestampNanoseconds: slot.timestamp, hasError: slot.hasError)
        }
    }

    func poll(timeoutMilliseconds: Int, handle: SimulatedVideoDevice) throws(Errno) -> PollEvents {
        let deadline = MonotonicClock.nanoseconds() + UInt64(max(timeoutMilliseconds, 0)) * 1_000_000
        return try condition.locked { () throws(Errno) -> PollEvents in
            while true {
                guard !handle.isClosed else { throw .badFileDescriptor }
                let instance = handle.instance
                if instance.isGone { return [.error, .hangUp] }
                guard instance.isStreaming, instance.owner == ObjectIdentifier(handle) else { return .error }
                let now = MonotonicClock.nanoseconds()
                produceFrames(in: instance, now: now)
                if !instance.outgoing.isEmpty { return .readable }
                if instance.incoming.isEmpty { return .error }
                guard now < deadline else { return [] }
                let wakeUp = min(nextFrameTime(of: instance) ?? deadline, deadline)
                let seconds = Double(wakeUp &- now) / 1e9
                _ = condition.wait(until: Date(timeIntervalSinceNow: max(seconds, 0)))
            }
        }
    }

    func streamOn(handle: SimulatedVideoDevice) throws(Errno) {
        try perform(handle) { (instance) throws(Errno) in
            guard instance.owner == ObjectIdentifier(handle), !instance.slots.isEmpty else { throw .invalidArgument }
            guard !instance.isStreaming else { return }
            instance.isStreaming = true
            instance.sequence = 0
            instance.restartClock()
        }
    }

    func streamOff(handle: SimulatedVideoDevice) throws(Errno) {
        try perform(handle) { (instance) throws(Errno) in
            if let owner = instance.owner, owner != ObjectIdentifier(handle) { throw .resourceBusy }
            instance.isStreaming = false
            instance.incoming = []
            instance.outgoing = []
            for index in instance.slots.indices { instance.slots[index].state = .application }
        }
    }

    func close(handle: SimulatedVideoDevice) {
        condition.withLock {
            let instance = handle.instance
            if instance.owner == ObjectIdentifier(handle) {
                // Closing the owner releases the queue; mappings of a gone
                // device are dropped with it.
                instance.isStreaming = false
                instance.incoming = []
                instance.outgoing = []
                for index in instance.slots.indices {
                    instance.slots[index].isMapped = false
                }
                instance.slots = []
                instance.owner = nil
            }
            openHandles -= 1
            handle.isClosed = true
            condition.broadcast()
        }
    }

    func capabilities() -> VideoCapabilities {
        VideoCapabilities(driver: configuration.driver, card: configuration.card, busInfo: configuration.busInfo,
                          deviceCapabilities: configuration.deviceCapabilities)
    }

    // MARK: A default picture

    /// The given frames in turn (frame `sequence % frames.count`), whatever
    /// the format negotiated: for an MJPEG mode, whole JPEGs as a camera
    /// sends them, one per buffer.
    package static func frameSequence(_ frames: [[UInt8]]) -> FrameSource {
        { _, sequence in frames.isEmpty ? [] : frames[Int(sequence) % frames.count] }
    }

    /// A warm spot circling over a gradient, in any raw format the camera
    /// offers: 16-bit counts around 30000 for Y16, 8-bit luma otherwise.
    /// It makes no JPEGs: give an MJPEG camera `frameSequence(_:)`.
    package static let testPattern: FrameSource = { format, sequence in
        var bytes = [UInt8](repeating: 128, count: format.sizeImage)
        let angle = Double(sequence) * 0.1
        let centerX = Double(format.width) * (0.5 + 0.3 * cos(angle))
        let centerY = Double(format.height) * (0.5 + 0.3 * sin(angle))
        let radius = Double(min(format.width, format.height)) / 6
        func heat(_ x: Int, _ y: Int) -> Double {
            let dx = Double(x) - centerX, dy = Double(y) - centerY
            let spot = max(0, 1 - (dx * dx + dy * dy).squareRoot() / radius)
            return 0.3 * Double(y) / Double(max(format.height, 1)) + 0.7 * spot
        }
        for y in 0..<format.height {
            for x in 0..<format.width {
                let value = heat(x, y)
                switch format.pixelFormat {
                case .y16:
                    let count = UInt16(29000 + value * 3000)
                    bytes[y * format.bytesPerLine + 2 * x] = UInt8(count & 0xff)
                    bytes[y * format.bytesPerLine + 2 * x + 1] = UInt8(count >> 8)
                case .yuyv:
                    bytes[y * format.bytesPerLine + 2 * x] = UInt8(value * 255)
                case .uyvy:
                    bytes[y * format.bytesPerLine + 2 * x + 1] = UInt8(value * 255)
                default:
                    if format.bytesPerLine > 0 { bytes[y * format.bytesPerLine + x] = UInt8(value * 255) }
                }
            }
        }
        return bytes
    }
}

/// An open handle on a `SimulatedCamera`.
package final class SimulatedVideoDevice: VideoDeviceIO {
    package let path: String
    let camera: SimulatedCamera
    let instance: SimulatedCamera.Instance
    fileprivate(set) var isClosed = false

    fileprivate init(camera: SimulatedCamera, instance: SimulatedCamera.Instance, path: String) {
        self.camera = camera
        self.instance = instance
        self.path = path
    }

    deinit {
        close()
    }

    package func queryCapabilities() throws(Errno) -> VideoCapabilities {
        try camera.perform(self) { (_) throws(Errno) in camera.capabilities() }
    }

    package func enumerateFormats() throws(Errno) -> [FormatDescription] {
        try camera.perform(self) { (_) throws(Errno) in
            camera.configuration.modes.map {
                FormatDescription(pixelFormat: $0.pixelFormat, description: $0.description,
                                  isCompressed: $0.pixelFormat == .mjpeg)
            }
        }
    }

    package func enumerateFrameSizes(for pixelFormat: PixelFormat) throws(Errno) -> FrameSizes {
        try camera.perform(self) { (_) throws(Errno) -> FrameSizes in
            guard let mode = camera.configuration.modes.first(where: { $0.pixelFormat == pixelFormat }) else {
                throw .invalidArgument
            }
            return .discrete(mode.sizes)
        }
    }

    package func enumerateFrameIntervals(for pixelFormat: PixelFormat, size: FrameSize) throws(Errno) -> FrameIntervals {
        try camera.perform(self) { (_) throws(Errno) -> FrameIntervals in
            guard let mode = camera.configuration.modes.first(where: { $0.pixelFormat == pixelFormat }),
                  mode.sizes.contains(size) else { throw .invalidArgument }
            return .discrete(mode.intervals(at: size))
        }
    }

    package func getFormat() throws(Errno) -> VideoFormat {
        try camera.perform(self) { (instance) throws(Errno) in instance.format }
    }

    package func setFormat(_ format: VideoFormat) throws(Errno) -> VideoFormat {
        try camera.setFormat(format, handle: self)
    }

    package func setFrameInterval(_ interval: FrameInterval) throws(Errno) -> FrameInterval? {
        try camera.setFrameInterval(interval, handle: self)
    }

    package func requestBuffers(count: Int) throws(Errno) -> Int {
        try camera.requestBuffers(count, handle: self)
    }

    @discardableResult
    package func mapBuffer(index: Int) throws(Errno) -> Int {
        try camera.mapBuffer(index, handle: self)
    }

    package func withMappedBuffer<Result>(index: Int, _ body: (UnsafeRawBufferPointer) -> Result) throws(Errno) -> Result {
        try camera.withMappedBuffer(index, handle: self, body)
    }

    package func unmapBuffers() {
        camera.unmapBuffers(handle: self)
    }

    package func queueBuffer(index: Int) throws(Errno) {
        try camera.queueBuffer(index, handle: self)
    }

    package func dequeueBuffer() throws(Errno) -> DequeuedBuffer {
        try camera.dequeueBuffer(handle: self)
    }

    package func poll(timeoutMilliseconds: Int) throws(Errno) -> PollEvents {
        try camera.poll(timeoutMilliseconds: timeoutMilliseconds, handle: self)
    }

    package func streamOn() throws(Errno) {
        try camera.streamOn(handle: self)
    }

    package func streamOff() throws(Errno) {
        try camera.streamOff(handle: self)
    }

    package func close() {
        guard !isClosed else { return }
        camera.close(handle: self)
    }
}

/// Opens `SimulatedCamera`s by their node paths and stable names.
package struct SimulatedDeviceOpener: VideoDeviceOpener {
    package let cameras: [SimulatedCamera]

    package init(_ cameras: SimulatedCamera...) {
        self.cameras = cameras
    }

    package init(cameras: [SimulatedCamera]) {
        self.cameras = cameras
    }

    package func open(path: String) throws(Errno) -> any VideoDeviceIO {
        guard let camera = cameras.first(where: { $0.answers(to: path) }) else { throw .noSuchFileOrDirectory }
        return try camera.open(path: path)
    }

    package func stablePaths(for path: String) -> [String] {
        cameras.lazy.map { $0.stablePaths(for: path) }.first { !$0.isEmpty } ?? []
    }

    package func usbDeviceID(for path: String) -> USBDeviceID? {
        cameras.first { $0.answers(to: path) }?.configuration.usbDeviceID
    }
}
