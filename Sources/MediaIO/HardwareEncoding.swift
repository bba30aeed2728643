internal import CFFmpeg
import Foundation

/// Which H.264 encoder does the work.
package enum EncoderAcceleration: String, CaseIterable, Sendable {
    /// Tries the hardware encoders present (NVENC, VA-API, V4L2 memory-to-memory)
    /// and falls back to libx264, saying so once.
    case auto
    /// libx264 (or the codec's software encoder); the default.
    case software
    /// Intel/AMD GPUs through VA-API, on the first `/dev/dri/renderD*` node.
    case vaapi
    /// SoC encoders behind a V4L2 memory-to-memory device (Raspberry Pi, Rockchip…).
    case v4l2m2m
    /// NVIDIA GPUs.
    case nvenc

    /// libavcodec's encoder for this kind of hardware.
    var encoderName: String? {
        switch self {
        case .vaapi: "h264_vaapi"
        case .v4l2m2m: "h264_v4l2m2m"
        case .nvenc: "h264_nvenc"
        case .auto, .software: nil
        }
    }

    /// Why this hardware cannot be used here, or nil when it is worth trying.
    /// Only looks for device nodes and the encoder in this FFmpeg: cheap, and
    /// never loads a driver.
    var absenceReason: String? {
        guard let encoderName else { return nil }
        guard avcodec_find_encoder_by_name(encoderName) != nil else { return "this FFmpeg has no \(encoderName)" }
        switch self {
        case .vaapi:
            return HardwareDevices.renderNode == nil ? "no /dev/dri render node" : nil
        case .nvenc:
            return FileManager.default.fileExists(atPath: "/dev/nvidiactl") ? nil : "no NVIDIA device (/dev/nvidiactl)"
        case .v4l2m2m:
            return HardwareDevices.videoNodes.isEmpty ? "no /dev/video* device" : nil
        case .auto, .software:
            return nil
        }
    }
}

enum HardwareDevices {
    /// The first DRM render node, for VA-API.
    static var renderNode: String? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/dev/dri")) ?? []
        return names.filter { $0.hasPrefix("renderD") }.sorted().first.map { "/dev/dri/" + $0 }
    }

    static var videoNodes: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/dev")) ?? []
        return names.filter { $0.hasPrefix("video") }.sorted().map { "/dev/" + $0 }
    }
}

/// An `AVBufferRef` (a hardware device or frame pool), unreferenced once.
final class FFBuffer {
    var pointer: UnsafeMutablePointer<AVBufferRef>?

    init(_ pointer: UnsafeMutablePointer<AVBufferRef>?) { self.pointer = pointer }

    deinit { av_buffer_unref(&pointer) }
}

/// VA-API surfaces for the encoder: software NV12 frames are uploaded into
/// a pool of GPU frames before each `avcodec_send_frame`.
final class VAAPIUpload {
    let frames: FFBuffer
    private let device: FFBuffer
    let gpuFrame = FFFrame()

    /// Opens the render node and a frame pool of `width`×`height` NV12 surfaces.
    init(width: Int, height: Int) throws {
        guard let node = HardwareDevices.renderNode else { throw HardwareError("no /dev/dri render node") }
        var deviceReference: UnsafeMutablePointer<AVBufferRef>? = nil
        let created = av_hwdevice_ctx_create(&deviceReference, AV_HWDEVICE_TYPE_VAAPI, node, nil, 0)
        guard created >= 0, deviceReference != nil else { throw HardwareError("cannot open \(node): \(ffmpegErrorText(created))") }
        device = FFBuffer(deviceReference)
        guard let framesReference = av_hwframe_ctx_alloc(deviceReference) else { throw HardwareError("out of memory") }
        frames = FFBuffer(framesReference)
        framesReference.pointee.data.withMemoryRebound(to: AVHWFramesContext.self, capacity: 1) { context in
            context.pointee.format = AV_PIX_FMT_VAAPI
            context.pointee.sw_format = AV_PIX_FMT_NV12
            context.pointee.width = Int32(width)
            context.pointee.height = Int32(height)
            context.pointee.initial_pool_size = 20
        }
        let initialised = av_hwframe_ctx_init(framesReference)
        guard initialised >= 0 else { throw HardwareError("cannot make VA-API surfaces: \(ffmpegErrorText(initialised))") }
    }

    /// Copies `software` (NV12) into a fresh GPU frame and returns it.
    func upload(_ software: UnsafeMutablePointer<AVFrame>) throws -> UnsafeMutablePointer<AVFrame> {
        let target = gpuFrame.pointer
        av_frame_unref(target)
        let got = av_hwframe_get_buffer(frames.pointer, target, 0)
        guard got >= 0 else { throw HardwareError("no free VA-API surface: \(ffmpegErrorText(got))") }
        let copied = av_hwframe_transfer_data(target, software, 0)
        guard copied >= 0 else { throw HardwareError("cannot upload to VA-API: \(ffmpegErrorText(copied))") }
        target.pointee.pts = software.pointee.pts
        target.pointee.pict_type = software.pointee.pict_type
        return target
    }
}

struct HardwareError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
