import Foundation
import Imaging

/// Decodes image files with the `ffmpeg` and `ffprobe` command-line tools,
/// so these tests can read the JPEG development data without the MediaIO
/// module.
///
/// JPEGs are decoded as MATLAB's `imread` (libjpeg) decodes them, since the
/// VIFB reference values were computed on those pixels: FFmpeg gives the
/// Y, Cb, Cr planes, then libjpeg's "fancy" triangular chroma upsampling and
/// its fixed-point YCbCr → RGB conversion run here. FFmpeg's own RGB output
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
            return libjpegRGB(planes, width: width, height: height, chromaWidth: chromaWidth, chromaHeight: chromaHeight)
        case "yuvj444p":
            let planes = try decode(url, format: format, expected: 3 * width * height)
            return libjpegRGB(planes, width: width, height: height, chromaWidth: width, chromaHeight: height)
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

    /// libjpeg's h2v2 fancy upsampling (jdsample.c) of planar 4:2:0 or 4:4:4
    /// Y, Cb, Cr, then jdcolor.c's fixed-point conversion to RGB.
    static func libjpegRGB(_ planes: [UInt8], width: Int, height: Int, chromaWidth: Int, chromaHeight: Int) -> RGBImage {
        let lumaCount = width * height, chromaCount = chromaWidth * chromaHeight
        let subsampled = chromaWidth != width
        func upsample(_ offset: Int) -> [Int] {
            let c = { (x: Int, y: Int) in Int(planes[offset + y * chromaWidth + x]) }
            guard subsampled else { return (0..<lumaCount).map { c($0 % width, $0 / width) } }
            var out = [Int](repeating: 0, count: lumaCount)
            for cy in 0..<chromaHeight {
                for v in 0..<2 where 2 * cy + v < height {
                    // Each output row mixes its own chroma row (×3) with the
                    // nearer neighbour row; edges repeat the last row.
                    let neighbour = v == 0 ? max(cy - 1, 0) : min(cy + 1, chromaHeight - 1)
                    let column = { (x: Int) in c(x, cy) * 3 + c(x, neighbour) }
                    let y = 2 * cy + v
                    for cx in 0..<chromaWidth {
                        let this = column(cx)
                        let even: Int, odd: Int
                        if chromaWidth == 1 {
                            even = (this * 4 + 8) >> 4; odd = (this * 4 + 7) >> 4
                        } else if cx == 0 {
                            even = (this * 4 + 8) >> 4; odd = (this * 3 + column(cx + 1) + 7) >> 4
                        } else if cx == chromaWidth - 1 {
                            even = (this * 3 + column(cx - 1) + 8) >> 4; odd = (this * 4 + 7) >> 4
                        } else {
                            even = (this * 3 + column(cx - 1) + 8) >> 4; odd = (this * 3 + column(cx + 1) + 7) >> 4
                        }
                        if 2 * cx < width { out[y * width + 2 * cx] = even }
                        if 2 * cx + 1 < width { out[y * width + 2 * cx + 1] = odd }
                    }
                }
            }
            return out
        }
        let cb = upsample(lumaCount), cr = upsample(lumaCount + chromaCount)
        // FIX(x) = round(x · 2¹⁶), as jdcolor.c builds its tables.
        func fix(_ x: Double) -> Int { Int(x * 65536 + 0.5) }
        let half = 1 << 15
        var rgb = [UInt8](repeating: 0, count: 3 * lumaCount)
        for i in 0..<lumaCount {
            let y = Int(planes[i]), u = cb[i] - 128, v = cr[i] - 128
            let r = y + ((fix(1.40200) * v + half) >> 16)
            let g = y + ((-fix(0.34414) * u - fix(0.71414) * v + half) >> 16)
            let b = y + ((fix(1.77200) * u + half) >> 16)
            rgb[3 * i] = UInt8(clamping: r)
            rgb[3 * i + 1] = UInt8(clamping: g)
            rgb[3 * i + 2] = UInt8(clamping: b)
        }
        return RGBImage(width: width, height: height, channels: 3, samples: rgb)
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
        let package = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
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
