internal import CFFmpeg
import Foundation

// Small owners for FFmpeg's heap objects: each frees its pointer exactly once
// in deinit, so stage code never sees a raw pointer and no error path leaks.

/// An `AVFrame` reused from call to call.
final class FFFrame {
    let pointer: UnsafeMutablePointer<AVFrame>

    init() {
        guard let frame = av_frame_alloc() else { fatalError("av_frame_alloc: out of memory") }
        pointer = frame
    }

    deinit {
        var frame: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&frame)
    }
}

/// An `AVPacket` reused from call to call.
final class FFPacket {
    let pointer: UnsafeMutablePointer<AVPacket>

    init() {
        guard let packet = av_packet_alloc() else { fatalError("av_packet_alloc: out of memory") }
        pointer = packet
    }

    deinit {
        var packet: UnsafeMutablePointer<AVPacket>? = pointer
        av_packet_free(&packet)
    }
}

/// An open codec, decoder or encoder.
final class FFCodecContext {
    let pointer: UnsafeMutablePointer<AVCodecContext>

    init(codec: UnsafePointer<AVCodec>) {
        guard let context = avcodec_alloc_context3(codec) else { fatalError("avcodec_alloc_context3: out of memory") }
        pointer = context
    }

    deinit {
        var context: UnsafeMutablePointer<AVCodecContext>? = pointer
        avcodec_free_context(&context)
    }
}

/// A libswscale conversion between two fixed formats and sizes.
final class FFScaler {
    private let pointer: OpaquePointer

    init?(sourceWidth: Int32, sourceHeight: Int32, sourceFormat: AVPixelFormat,
          targetWidth: Int32, targetHeight: Int32, targetFormat: AVPixelFormat,
          flags: Int32 = SWS_BILINEAR) {
        guard let context = sws_getContext(sourceWidth, sourceHeight, sourceFormat,
                                           targetWidth, targetHeight, targetFormat,
                                           flags, nil, nil, nil) else { return nil }
        pointer = context
    }

    /// Converts `source` into `target`, both already allocated.
    func scale(_ source: UnsafePointer<AVFrame>, into target: UnsafeMutablePointer<AVFrame>) {
        withUnsafePointer(to: source.pointee.data) { sourceData in
            withUnsafePointer(to: source.pointee.linesize) { sourceStrides in
                withUnsafeMutablePointer(to: &target.pointee.data) { targetData in
                    withUnsafeMutablePointer(to: &target.pointee.linesize) { targetStrides in
                        sourceData.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { sd in
                            sourceStrides.withMemoryRebound(to: Int32.self, capacity: 8) { ss in
                                targetData.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { td in
                                    targetStrides.withMemoryRebound(to: Int32.self, capacity: 8) { ts in
                                        _ = sws_scale(pointer, sd, ss, 0, source.pointee.height, td, ts)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    deinit { sws_freeContext(pointer) }
}

/// Converts decoded frames of any size and pixel format to one target format
/// at the same size, into a frame of its own that is reused from call to call.
///
/// The scaler and the output frame are remade whenever the input's size or
/// format changes: a stream may switch resolution mid-way (a new H.264
/// sequence header, a camera reconfigured), and a scaler made for the old
/// size would read and write out of bounds.
final class FFConverter {
    let targetFormat: AVPixelFormat
    private let output = FFFrame()
    private var scaler: FFScaler?
    private var input: (width: Int32, height: Int32, format: Int32)?

    init(to targetFormat: AVPixelFormat) {
        self.targetFormat = targetFormat
    }

    /// `frame` in `targetFormat`; valid until the next call.
    /// - Throws: `MediaError` naming `location` when libswscale has no such
    ///   conversion or the output frame cannot be allocated.
    func convert(_ frame: UnsafeMutablePointer<AVFrame>, location: String) throws -> UnsafeMutablePointer<AVFrame> {
        let width = frame.pointee.width, height = frame.pointee.height, format = frame.pointee.format
        if scaler == nil || input?.width != width || input?.height != height || input?.format != format {
            input = nil
            scaler = FFScaler(sourceWidth: width, sourceHeight: height, sourceFormat: AVPixelFormat(format),
                              targetWidth: width, targetHeight: height, targetFormat: targetFormat)
            guard scaler != nil else {
                throw MediaError("cannot convert", location,
                                 reason: "no conversion from \(AVPixelFormat(format).name) to \(targetFormat.name)")
            }
            let target = output.pointer
            av_frame_unref(target)
            target.pointee.width = width
            target.pointee.height = height
            target.pointee.format = targetFormat.rawValue
            let allocated = av_frame_get_buffer(target, 0)
            guard allocated >= 0 else {
                scaler = nil
                throw MediaError("cannot convert", location, code: allocated)
            }
            input = (width, height, format)
        }
        scaler!.scale(frame, into: output.pointer)
        return output.pointer
    }
}

/// Options for FFmpeg calls that take an `AVDictionary`; frees what FFmpeg did not consume.
struct FFOptions: ~Copyable {
    var dictionary: OpaquePointer?

    init(_ options: [String: String]) {
        for (key, value) in options.sorted(by: { $0.key < $1.key }) {
            av_dict_set(&dictionary, key, value, 0)
        }
    }

    /// The keys FFmpeg left unused, which usually means a misspelt option.
    var unusedKeys: [String] {
        var keys: [String] = []
        var entry: UnsafeMutablePointer<AVDictionaryEntry>? = nil
        while let next = av_dict_get(dictionary, "", entry, AV_DICT_IGNORE_SUFFIX) {
            keys.append(String(cString: next.pointee.key))
            entry = next
        }
        return keys
    }

    deinit {
        var owned = dictionary
        av_dict_free(&owned)
    }
}

extension AVPixelFormat {
    init(_ raw: Int32) { self.init(rawValue: raw) }

    var name: String {
        guard let name = av_get_pix_fmt_name(self) else { return "unknown" }
        return String(cString: name)
    }
}

/// An opened input (`avformat_open_input`), closed when the owner goes: every
/// way out of a reader, early failures included, closes it exactly once.
final class FFInputContext {
    let pointer: UnsafeMutablePointer<AVFormatContext>

    /// Opens `location`; on failure FFmpeg has already freed the context, and the error code is returned.
    init(opening location: String, format: UnsafePointer<AVInputFormat>?, options: inout FFOptions,
         interrupt: AVIOInterruptCB) throws(FFOpenFailure) {
        guard var context = avformat_alloc_context() else { throw FFOpenFailure(code: cffmpeg_averror(ENOMEM)) }
        context.pointee.interrupt_callback = interrupt
        var opened: UnsafeMutablePointer<AVFormatContext>? = context
        let status = avformat_open_input(&opened, location, format, &options.dictionary)
        guard status >= 0, let opened else { throw FFOpenFailure(code: status) }
        context = opened
        pointer = context
    }

    deinit {
        var context: UnsafeMutablePointer<AVFormatContext>? = pointer
        avformat_close_input(&context)
    }
}

/// FFmpeg's negative error code from opening an input or output.
struct FFOpenFailure: Error {
    var code: Int32
}

/// An output muxer context (`avformat_alloc_output_context2`) and, for muxers
/// that write a file, its AVIO handle: `close()` flushes and closes that
/// handle once and reports failure, and the context is freed with the owner.
final class FFOutputContext {
    let pointer: UnsafeMutablePointer<AVFormatContext>
    /// False for muxers that open their own connections (RTSP).
    let needsFile: Bool
    private var fileOpen = false

    init(location: String, format: String?) throws(FFOpenFailure) {
        var context: UnsafeMutablePointer<AVFormatContext>? = nil
        let allocated = avformat_alloc_output_context2(&context, nil, format, location)
        guard allocated >= 0, let context else { throw FFOpenFailure(code: allocated < 0 ? allocated : cffmpeg_averror(EINVAL)) }
        pointer = context
        needsFile = (context.pointee.oformat.pointee.flags & AVFMT_NOFILE) == 0
    }

    /// Opens the AVIO handle for writing, when the muxer needs one.
    func openFile(_ location: String) throws(FFOpenFailure) {
        guard needsFile, !fileOpen else { return }
        let opened = avio_open2(&pointer.pointee.pb, location, AVIO_FLAG_WRITE, &pointer.pointee.interrupt_callback, nil)
        guard opened >= 0 else { throw FFOpenFailure(code: opened) }
        fileOpen = true
    }

    /// Flushes and closes the AVIO handle; its status (0 or a negative code). Safe to call twice.
    @discardableResult
    func close() -> Int32 {
        guard fileOpen else { return 0 }
        fileOpen = false
        return avio_closep(&pointer.pointee.pb)
    }

    deinit {
        close()
        avformat_free_context(pointer)
    }
}
