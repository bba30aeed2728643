internal import CFFmpeg

/// A failed media operation, with enough context for a one-line report:
/// what was being done, to which file or URL, and FFmpeg's (or the OS's) reason.
package struct MediaError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, in a few words ("cannot open", "no video stream in").
    package var operation: String
    /// The file, URL or device concerned.
    package var location: String
    /// The cause as FFmpeg or the system words it.
    package var reason: String
    /// FFmpeg's negative error code, when there is one.
    package var code: Int32?

    package init(_ operation: String, _ location: String, reason: String, code: Int32? = nil) {
        self.operation = operation
        self.location = location
        self.reason = reason
        self.code = code
    }

    package var description: String {
        "\(operation) '\(location)': \(reason)"
    }

    /// True when the error means "the network peer went away or timed out", the
    /// kind of failure a live source answers by reconnecting.
    package var isConnectionLoss: Bool {
        guard let code else { return false }
        return [cffmpeg_averror(ETIMEDOUT), cffmpeg_averror(ECONNRESET), cffmpeg_averror(ECONNREFUSED),
                cffmpeg_averror(EPIPE), cffmpeg_averror(EIO), cffmpeg_averror_exit()].contains(code)
    }
}

/// FFmpeg's text for an error code (what `av_err2str` gives in C).
func ffmpegErrorText(_ code: Int32) -> String {
    withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { buffer in
        cffmpeg_error_string(code, buffer.baseAddress, buffer.count)
        return String(cString: buffer.baseAddress!)
    }
}

extension MediaError {
    /// Wraps a negative FFmpeg return value.
    init(_ operation: String, _ location: String, code: Int32) {
        self.init(operation, location, reason: ffmpegErrorText(code), code: code)
    }
}

/// FFmpeg's console chatter stays off unless asked: errors reach users through
/// `MediaError`, once, in our words.
package enum MediaLogging {
    package static func setVerbose(_ verbose: Bool) {
        cffmpeg_set_log_level(verbose ? AV_LOG_INFO : AV_LOG_QUIET)
    }
}
