import Foundation
import Imaging

/// Decodes image files with the `ffmpeg` and `ffprobe` command-line tools,
/// so these tests can read the JPEG development data without the MediaIO
/// module.
///
/// JPEGs are decoded as MATLAB's `imread` (libjpeg) decodes them, since the
/// VIFB reference values were computed on those pixels: FFmpeg gives the
/// Y, Cb, Cr planes, then libjpeg's "fancy" triangular chroma upsampling and
/// its fixed-point YCbCr → RGB conversion run in Imaging's ``JPEGPlanes``
/// (which `thermocolor eval` uses too, on planes from libavcodec). FFmpeg's own RGB output
/// replicates chroma instead, which moves gradient metrics by up to 20 % on
/// images with strong colour edges. Of FFmpeg's IDCTs the floating-point
/// AAN one (`faani`) fits VIFB's values best; the integer one decodes one
/// pixel of carLight's infrared image a level higher, which alone moves
/// that pair's Qcv by 1.5 % (its min–max stretch changes). Grey JPEGs stay
/// one channel, as `imread` returns them; other formats come back as
/// FFmpeg's RGB.
enum FFmpegImageLoader {
    struct LoadError: Error, CustomStringConvertible {
        let description: String
    }

    static func load(_ url: URL) throws -> Raster<UInt8> {
        let probe = try run("ffprobe", ["-v", "error", "-select_streams", "v:0",
                                        "-show_entries", "stream=width,height,pix_fmt", "-of", "csv=p=0", url.path])
        let fields = String(decoding: probe, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",")
        guard fields.count >= 3, let width = Int(fields[0]), let height = Int(fields[1]) else {
            throw LoadError(description: "ffprobe gave no size for \(url.path)")
        }
        let format = String(fields[2])
        let chromaWidth = (width + 1) / 2, chromaHeight = (height + 1) / 2
        switch format {
        case "gray":
            let pixels = try decode(url, format: "gray", expected: width * height)
            return Raster(width: width, height: height, channels: 1, samples: pixels)
        case "yuvj420p":
            let planes = try decode(url, format: format, expected: width * height + 2 * chromaWidth * chromaHeight)
            return libjpegRGB(planes, width: width, height: height, chromaWidth: chromaWidth, chromaHeight: chromaHeight).raster
        case "yuvj444p":
            let planes = try decode(url, format: format, expected: 3 * width * height)
            return libjpegRGB(planes, width: width, height: height, chromaWidth: width, chromaHeight: height).raster
        default:
            let pixels = try decode(url, format: "rgb24", expected: 3 * width * height)
            return Raster(width: width, height: height, channels: 3, samples: pixels)
        }
    }

    private static func decode(_ url: URL, format: String, expected: Int) throws -> [UInt8] {
        let data = try run("ffmpeg", ["-v", "error", "-idct", "faani", "-i", url.path,
                                      "-f", "rawvideo", "-pix_fmt", format, "-"])
        guard data.count == expected else {
            throw LoadError(description: "ffmpeg decoded \(data.count) bytes of \(format) from \(url.path), expected \(expected)")
        }
        return [UInt8](data)
    }

    /// libjpeg's upsampling and colour conversion of planar Y, Cb, Cr, shared
    /// with `thermocolor eval` through ``JPEGPlanes``.
    static func libjpegRGB(_ planes: [UInt8], width: Int, height: Int, chromaWidth: Int, chromaHeight: Int) -> RGBImage {
        let lumaCount = width * height, chromaCount = chromaWidth * chromaHeight
        guard let jpeg = JPEGPlanes(width: width, height: height, chromaWidth: chromaWidth, chromaHeight: chromaHeight,
                                    luma: Array(planes[0..<lumaCount]),
                                    cb: Array(planes[lumaCount..<(lumaCount + chromaCount)]),
                                    cr: Array(planes[(lumaCount + chromaCount)..<(lumaCount + 2 * chromaCount)]))
        else { preconditionFailure("plane sizes were checked when decoding") }
        return jpeg.libjpegRGB()
    }

    private static func run(_ tool: String, _ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read before waiting so a full pipe cannot stall the tool.
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw LoadError(description: "\(tool) failed (\(process.terminationStatus)): \(String(decoding: message, as: UTF8.self))")
        }
        return data
    }
}

/// The shared development data set, when this machine has it.
enum DevelopmentData {
    /// `../shared/data` beside the package (also after resolving links, for
    /// worktrees), or `shared/data` inside it.
    static let root: URL? = {
        // This file is Tests/ImagingTests/Fusion/Support/FFmpegImageLoader.swift.
        let package = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates = [
            package.appendingPathComponent("../shared/data").standardizedFileURL,
            package.resolvingSymlinksInPath().appendingPathComponent("../shared/data").standardizedFileURL,
            package.appendingPathComponent("shared/data"),
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("vifb/reference/metrics.csv").path) }
    }()

    static var vifb: URL? { root?.appendingPathComponent("vifb") }

    static var hasVIFB: Bool { vifb != nil }
}
