import Foundation

/// JPEG stills made by the real ffmpeg, and its own decode of them, for
/// testing MJPEG decoding against FFmpeg rather than against itself.

/// `count` successive frames of ffmpeg's lavfi `source` (`testsrc`, a
/// colour pattern with a moving counter, by default) at `width`x`height`,
/// each encoded by ffmpeg's MJPEG encoder as one complete JPEG in
/// `pixelFormat` (`yuvj420p`, `yuvj422p` as most webcams send, or
/// `yuvj444p`).
package func ffmpegJPEGFrames(width: Int, height: Int, count: Int, pixelFormat: String = "yuvj422p",
                             source: String = "testsrc") throws -> [[UInt8]] {
    let folder = try TemporaryFolder("jpeg")
    defer { folder.cleanup() }
    let result = try runProcess("ffmpeg", [
        "-v", "error", "-f", "lavfi", "-i", "\(source)=size=\(width)x\(height):rate=25",
        "-frames:v", "\(count)", "-pix_fmt", pixelFormat, "-c:v", "mjpeg", "-q:v", "3",
        folder.file("frame%03d.jpg"),
    ])
    guard result.status == 0 else { throw TestFailure("ffmpeg could not make JPEG frames: \(result.error)") }
    return try (1...count).map { index in
        let path = folder.file(String(format: "frame%03d.jpg", index))
        guard let data = FileManager.default.contents(atPath: path) else { throw TestFailure("ffmpeg wrote no \(path)") }
        return [UInt8](data)
    }
}

/// The luma plane of `jpeg` (`width`x`height`) as the real ffmpeg decodes
/// it: the decoder's own planar output, first plane, with no conversion.
package func ffmpegDecodeJPEGLuma(_ jpeg: [UInt8], width: Int, height: Int) throws -> [UInt8] {
    let folder = try TemporaryFolder("jpeg-decode")
    defer { folder.cleanup() }
    let input = folder.file("frame.jpg")
    let output = folder.file("frame.raw")
    try Data(jpeg).write(to: URL(fileURLWithPath: input))
    let result = try runProcess("ffmpeg", ["-v", "error", "-i", input, "-f", "rawvideo", output])
    guard result.status == 0, let data = FileManager.default.contents(atPath: output), data.count >= width * height else {
        throw TestFailure("ffmpeg could not decode a JPEG: \(result.error)")
    }
    return [UInt8](data.prefix(width * height))
}
