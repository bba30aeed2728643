internal import CFFmpeg
import Synchronization

/// One compressed picture as the encoder produced it, shared by every output
/// that carries the stream (a recording and a live stream, say).
///
/// The packet owns a reference to FFmpeg's refcounted buffer and never changes
/// after the encoder hands it out: outputs on other threads take references of
/// their own (`av_packet_ref`, an atomic count) and never write into the bytes,
/// so passing it between threads is safe.
package final class EncodedPacket: @unchecked Sendable {
    /// The one owner of the AVPacket; this class only shares it read-only.
    private let packet = FFPacket()
    var pointer: UnsafeMutablePointer<AVPacket> { packet.pointer }

    /// Takes over what `source` holds, leaving it empty for the next packet.
    init(movingFrom source: UnsafeMutablePointer<AVPacket>) {
        av_packet_move_ref(packet.pointer, source)
    }

    /// Presentation time in the encoder's time base.
    package var pts: Int64 { pointer.pointee.pts }
    /// Decode time in the encoder's time base; never after `pts`.
    package var dts: Int64 { pointer.pointee.dts }
    /// True for a picture a decoder can start from (an IDR picture for H.264).
    package var isKeyframe: Bool { (pointer.pointee.flags & AV_PKT_FLAG_KEY) != 0 }
    /// Compressed bytes.
    package var size: Int { Int(pointer.pointee.size) }
}

/// What a muxer must know about an encoded stream: codec parameters (with the
/// H.264 parameter sets), picture size, time base and frame rate.
///
/// A snapshot taken once the encoder is open; immutable, so outputs on any
/// thread can open muxers from it, again after each reconnect.
package final class EncodedStreamFormat: @unchecked Sendable {
    let parameters: UnsafeMutablePointer<AVCodecParameters>
    /// The unit of the packets' `pts` and `dts`.
    package let timeBase: Rational
    /// The nominal rate, when known.
    package let frameRate: Rational?

    init(copying context: UnsafePointer<AVCodecContext>, timeBase: Rational, frameRate: Rational?) {
        guard let parameters = avcodec_parameters_alloc() else { fatalError("avcodec_parameters_alloc: out of memory") }
        avcodec_parameters_from_context(parameters, context)
        self.parameters = parameters
        self.timeBase = timeBase
        self.frameRate = frameRate
    }

    deinit {
        var owned: UnsafeMutablePointer<AVCodecParameters>? = parameters
        avcodec_parameters_free(&owned)
    }

    package var width: Int { Int(parameters.pointee.width) }
    package var height: Int { Int(parameters.pointee.height) }
    /// FFmpeg's codec name (`h264`, `hevc`, `ffv1`…).
    package var codecName: String { String(cString: avcodec_get_name(parameters.pointee.codec_id)) }
}

/// Asks an encoder for a keyframe from any thread: the next picture it
/// encodes becomes an IDR picture, so a reconnected stream or a new segment
/// can start there instead of waiting out the GOP.
package final class KeyframeTrigger: Sendable {
    private let requested = Atomic<Bool>(false)

    package init() {}

    /// Makes the next encoded picture a keyframe.
    package func request() { requested.store(true, ordering: .relaxed) }

    /// True once per request; read by the encoder before each picture.
    func consume() -> Bool { requested.exchange(false, ordering: .relaxed) }
}
