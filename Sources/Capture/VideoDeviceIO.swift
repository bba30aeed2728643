/// An open V4L2 capture device, at the level of the system calls capture
/// needs: each method is one ioctl (or mmap, or poll) and throws the errno
/// the driver answers with.
///
/// The contract is the V4L2 specification's, single-planar
/// `V4L2_BUF_TYPE_VIDEO_CAPTURE` with `V4L2_MEMORY_MMAP` buffers, on a
/// descriptor opened non-blocking:
/// - `setFormat` and `setFrameInterval` may adjust what they are given and
///   return what the driver chose.
/// - `requestBuffers` may grant fewer (or more) buffers than asked; a count
///   of 0 frees them, which needs them unmapped and streaming off.
/// - A buffer belongs to the application until it is queued, to the driver
///   while queued, and comes back through `dequeueBuffer` once filled.
///   Queueing a buffer the driver already holds is `EINVAL`; dequeueing
///   before `streamOn` is `EINVAL`; with nothing filled yet it is `EAGAIN`.
/// - `streamOff` hands every buffer back to the application, filled or not.
/// - After the device is unplugged every call fails with `ENODEV` (or
///   `EIO`), and `poll` reports `.error` and `.hangUp`.
///
/// Handles are used from one thread at a time; `close` (or deinit) unmaps
/// the buffers and closes the descriptor.
package protocol VideoDeviceIO: AnyObject {
    /// The path it was opened with.
    var path: String { get }

    /// `VIDIOC_QUERYCAP`.
    func queryCapabilities() throws(Errno) -> VideoCapabilities
    /// `VIDIOC_ENUM_FMT` over every index until `EINVAL`.
    func enumerateFormats() throws(Errno) -> [FormatDescription]
    /// `VIDIOC_ENUM_FRAMESIZES` for `pixelFormat`.
    func enumerateFrameSizes(for pixelFormat: PixelFormat) throws(Errno) -> FrameSizes
    /// `VIDIOC_ENUM_FRAMEINTERVALS` for `pixelFormat` at `size`.
    func enumerateFrameIntervals(for pixelFormat: PixelFormat, size: FrameSize) throws(Errno) -> FrameIntervals
    /// `VIDIOC_G_FMT`.
    func getFormat() throws(Errno) -> VideoFormat
    /// `VIDIOC_S_FMT`: returns the format the driver settled on, which may
    /// differ in size and even pixel format from `format`.
    func setFormat(_ format: VideoFormat) throws(Errno) -> VideoFormat
    /// `VIDIOC_S_PARM` with a time per frame; returns the interval the driver
    /// chose, or nil when the driver does not take one
    /// (`V4L2_CAP_TIMEPERFRAME` unset).
    func setFrameInterval(_ interval: FrameInterval) throws(Errno) -> FrameInterval?
    /// `VIDIOC_REQBUFS` for memory-mapped buffers; returns the count granted.
    func requestBuffers(count: Int) throws(Errno) -> Int
    /// `VIDIOC_QUERYBUF` and `mmap` for buffer `index`; returns its length.
    @discardableResult
    func mapBuffer(index: Int) throws(Errno) -> Int
    /// Lends the mapped memory of buffer `index` to `body`, which must not
    /// keep the pointer.
    func withMappedBuffer<Result>(index: Int, _ body: (UnsafeRawBufferPointer) -> Result) throws(Errno) -> Result
    /// Unmaps every mapped buffer (`munmap`).
    func unmapBuffers()
    /// `VIDIOC_QBUF`: hands buffer `index` to the driver to fill.
    func queueBuffer(index: Int) throws(Errno)
    /// `VIDIOC_DQBUF`: takes the oldest filled buffer back; `EAGAIN` when
    /// none is ready.
    func dequeueBuffer() throws(Errno) -> DequeuedBuffer
    /// `poll(2)` for input, waiting at most `timeoutMilliseconds`; returns
    /// the events seen (empty on timeout).
    func poll(timeoutMilliseconds: Int) throws(Errno) -> PollEvents
    /// `VIDIOC_STREAMON`.
    func streamOn() throws(Errno)
    /// `VIDIOC_STREAMOFF`.
    func streamOff() throws(Errno)
    /// Unmaps the buffers and closes the descriptor; later calls fail with
    /// `EBADF`. Safe to call twice.
    func close()
}

/// Opens V4L2 devices by path, and knows the system's other names for them.
///
/// Capture reopens a camera through its opener after an unplug, so a
/// simulated opener lets tests drive the real capture code.
package protocol VideoDeviceOpener: Sendable {
    /// Opens the device at `path` non-blocking for reading and writing.
    func open(path: String) throws(Errno) -> any VideoDeviceIO

    /// Other paths naming the same camera as `path` right now, most stable
    /// first: the `/dev/v4l/by-id` links, which follow a USB camera when it
    /// comes back under another `/dev/videoN` number.
    func stablePaths(for path: String) -> [String]

    /// The USB vendor and product of the device at `path`, if it is on USB.
    func usbDeviceID(for path: String) -> USBDeviceID?
}

extension VideoDeviceOpener {
    package func stablePaths(for path: String) -> [String] { [] }
    package func usbDeviceID(for path: String) -> USBDeviceID? { nil }
}
