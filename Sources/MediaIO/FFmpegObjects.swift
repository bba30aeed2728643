internal import CFFmpeg

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
