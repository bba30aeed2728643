internal import CFFmpeg
import Foundation

/// Stores or sends encoded packets: a file (MP4, Matroska, MPEG-TS), an RTSP
/// push, MPEG-TS over UDP or SRT, an HLS playlist. Each muxer has its own
/// `AVFormatContext`, so several can carry one encoder's packets.
///
/// Opening writes the header, which for network outputs means connecting;
/// `OutputOptions.ioTimeout` bounds every blocking call, so a dead peer costs a
/// timeout, never a hang. Not thread-safe: one thread writes; only
/// `interruptBlockedWrite` may be called from another.
package final class PacketMuxer {
    package let location: String
    /// FFmpeg's name of the muxer in use (`mp4`, `rtsp`, `mpegts`, `hls`…).
    package let muxerName: String
    package private(set) var packetsWritten = 0
    package private(set) var bytesWritten: Int64 = 0

    /// nil once finished: the trailer is written and the file closed.
    private var output: FFOutputContext?
    private let stream: UnsafeMutablePointer<AVStream>
    private let source: EncodedStreamFormat
    private let packet = FFPacket()
    private let interrupt: InterruptState
    private let startsAtZero: Bool
    private var timestampOffset: Int64?
    private var finished = false

    /// Opens `location` and writes the container header (connecting, for network outputs).
    /// - Parameters:
    ///   - stream: the encoder's `stream`, whose parameters the muxer copies.
    ///   - startsAtZero: shift timestamps so the first packet is shown at 0: each
    ///     segment or reconnected stream then stands alone, whenever it began.
    /// - Throws: `MediaError` naming the location and FFmpeg's reason.
    package init(_ location: String, stream source: EncodedStreamFormat, output: OutputOptions = OutputOptions(),
                startsAtZero: Bool = false) throws {
        self.location = location
        self.source = source
        self.startsAtZero = startsAtZero
        interrupt = InterruptState(timeout: output.ioTimeout)

        let muxer: FFOutputContext
        do { muxer = try FFOutputContext(location: location, format: output.format) } catch {
            throw Self.unknownContainer(location, format: output.format)
        }
        // From here on a failure leaves `muxer` to close and free what was opened.
        let context = muxer.pointer
        muxerName = String(cString: context.pointee.oformat.pointee.name)
        context.pointee.interrupt_callback = interrupt.callback
        guard let stream = avformat_new_stream(context, nil) else {
            throw MediaError("cannot write", location, reason: "out of memory")
        }
        self.stream = stream
        let copied = avcodec_parameters_copy(stream.pointee.codecpar, source.parameters)
        guard copied >= 0 else { throw MediaError("cannot write", location, code: copied) }
        stream.pointee.time_base = source.timeBase.av
        if let frameRate = source.frameRate { stream.pointee.avg_frame_rate = frameRate.av }

        interrupt.arm()
        do { try muxer.openFile(location) } catch {
            throw MediaError("cannot write", location, code: error.code)
        }
        var muxerOptions = output.muxerOptions
        if output.fragmented, muxerName == "mp4" || muxerName == "mov" || muxerName == "ipod" {
            // delay_moov: the moov goes out with the first fragment, once the encoder's
            // B-frame delay (the edit list) is known, so frame times stay right.
            muxerOptions["movflags", default: ""] += "+frag_keyframe+empty_moov+delay_moov+default_base_moof"
            muxerOptions["frag_duration"] = muxerOptions["frag_duration"] ?? "1000000"
        }
        if muxerName == "matroska" || muxerName == "mp4" || muxerName == "mpegts" {
            // Push every packet to the file as it is muxed: what is on disk is what survives a power cut.
            muxerOptions["flush_packets"] = muxerOptions["flush_packets"] ?? "1"
        }
        var dictionary = FFOptions(muxerOptions)
        interrupt.arm()
        var header = avformat_write_header(context, &dictionary.dictionary)
        if header >= 0, let pb = context.pointee.pb, pb.pointee.error < 0 { header = pb.pointee.error }
        guard header >= 0 else {
            throw explained(MediaError("cannot write", location, code: header).explainingConnectionFailure(muxerName))
        }
        self.output = muxer
    }

    deinit {
        try? finish()
    }

    /// True when `format` (or, without one, the container named by `location`'s
    /// extension) keeps codec parameters in its header, so the encoder should
    /// not repeat them in the stream.
    /// - Throws: `MediaError` when no muxer fits.
    package static func wantsGlobalHeader(_ location: String, format: String?) throws -> Bool {
        guard let muxer = av_guess_format(format, format == nil ? location : nil, nil) else {
            throw unknownContainer(location, format: format)
        }
        return (muxer.pointee.flags & AVFMT_GLOBALHEADER) != 0
    }

    /// Writes one packet from the encoder whose `stream` this muxer was opened with.
    package func write(_ encoded: EncodedPacket) throws {
        guard !finished, let formatContext = self.output?.pointer else { throw MediaError("cannot write", location, reason: "the output is already closed") }
        let local = packet.pointer
        let referenced = av_packet_ref(local, encoded.pointer)
        guard referenced >= 0 else { throw MediaError("cannot write", location, code: referenced) }
        if startsAtZero {
            // The first packet (a keyframe) is shown at 0; B-frame delay leaves its dts below,
            // which each muxer handles as it does for any stream.
            let offset = timestampOffset ?? (local.pointee.pts != cffmpeg_nopts_value() ? local.pointee.pts : local.pointee.dts)
            timestampOffset = offset
            if local.pointee.pts != cffmpeg_nopts_value() { local.pointee.pts -= offset }
            if local.pointee.dts != cffmpeg_nopts_value() { local.pointee.dts -= offset }
        }
        av_packet_rescale_ts(local, source.timeBase.av, stream.pointee.time_base)
        local.pointee.stream_index = stream.pointee.index
        let size = Int64(local.pointee.size)
        interrupt.arm()
        // The muxer takes over the packet's reference, written or not.
        let written = av_interleaved_write_frame(formatContext, local)
        if written < 0 { throw explained(MediaError("cannot write", location, code: written)) }
        // A failed write inside AVIO (a full disk, say) is only remembered in
        // the context: a muxer that buffers (MP4 fragments) returns success.
        if let failed = ioError(formatContext) { throw explained(MediaError("cannot write", location, code: failed)) }
        // Some muxers (RTSP's interleaved TCP) ignore a write the interrupt cut
        // short and report success: a write that ran past the timeout lost data.
        if interrupt.shouldInterrupt {
            throw explained(MediaError("cannot write", location, reason: "the write was interrupted", code: cffmpeg_averror_exit()))
        }
        packetsWritten += 1
        bytesWritten += size
    }

    /// The error AVIO has stored for this output, if any.
    private func ioError(_ context: UnsafeMutablePointer<AVFormatContext>) -> Int32? {
        guard let pb = context.pointee.pb, pb.pointee.error < 0 else { return nil }
        return pb.pointee.error
    }

    /// Writes the trailer and closes. Safe to call twice.
    package func finish() throws {
        guard !finished else { return }
        finished = true
        guard let muxer = output else { return }
        output = nil
        interrupt.arm()
        var trailer = av_write_trailer(muxer.pointer)
        if trailer >= 0, let failed = ioError(muxer.pointer) { trailer = failed }
        // Closing flushes what AVIO still holds: its failure is a failed write too.
        let closed = muxer.close()
        if trailer >= 0, closed < 0 { trailer = closed }
        if trailer < 0 { throw explained(MediaError("cannot finish", location, code: trailer)) }
    }

    /// A call cut short by the I/O timeout says so, whatever FFmpeg made of it.
    private func explained(_ error: MediaError) -> MediaError {
        guard interrupt.timedOut, !interrupt.stopRequested, let seconds = interrupt.timeoutSeconds else { return error }
        var copy = error
        copy.reason = "no answer within \(seconds < 1 ? String(seconds) : String(Int(seconds.rounded()))) s (the peer is gone or stuck)"
        return copy
    }

    /// Closes without waiting on the peer: for a connection already lost, whose
    /// trailer nobody would read. Sockets and memory are still released.
    package func abandon() {
        interrupt.requestStop()
        try? finish()
    }

    /// Asks a blocked network write to give up (from another thread).
    package func interruptBlockedWrite() { interrupt.requestStop() }

    private static func unknownContainer(_ location: String, format: String?) -> MediaError {
        let hint = format.map { "FFmpeg has no muxer '\($0)'" } ?? "cannot tell the container from the file name; use --format"
        return MediaError("cannot write", location, reason: hint)
    }
}

extension MediaError {
    /// "Connection refused" says more with the protocol named.
    func explainingConnectionFailure(_ muxer: String) -> MediaError {
        guard isConnectionLoss || code == cffmpeg_averror(ECONNREFUSED) else { return self }
        var copy = self
        copy.reason = "\(reason) (no \(muxer == "rtsp" ? "RTSP server" : "listener") there?)"
        return copy
    }
}
