import Dispatch
import Foundation
import Imaging

// Moving pixels between interleaved 8-bit images and the planar float
// tensors networks take: bilinear resizing, normalising, packing NCHW, and
// back, with Lab chroma joined to the thermal lightness. The loops work on
// raw buffers with per-axis tap tables computed once per call, so no
// allocation happens per pixel; large images are split into row bands that
// run in parallel.

/// Bilinear taps along one axis with half-pixel centres, the convention of
/// PyTorch's `interpolate(..., align_corners=False)` and OpenCV's resize.
struct BilinearTaps {
    var low: [Int32]
    var high: [Int32]
    var weight: [Float]

    init(source: Int, destination: Int) {
        low = [Int32](repeating: 0, count: destination)
        high = low
        weight = [Float](repeating: 0, count: destination)
        let scale = Double(source) / Double(destination)
        for index in 0..<destination {
            let position = max(0, (Double(index) + 0.5) * scale - 0.5)
            let lower = min(Int(position), source - 1)
            low[index] = Int32(lower)
            high[index] = Int32(min(lower + 1, source - 1))
            weight[index] = lower < source - 1 ? Float(position - Double(lower)) : 0
        }
    }
}

/// Row bands for splitting `rows` rows over the cores; one band for small images.
func rowBands(_ rows: Int) -> [Range<Int>] {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let count = max(1, min(rows / 32, 4 * cores))
    return (0..<count).map { band in (rows * band / count)..<(rows * (band + 1) / count) }
}

/// Resizes an interleaved 8-bit image bilinearly into planar floats scaled
/// by 1/255: channel c lands at `planes + c * planeStride`.
func packPlanes(source: UnsafeBufferPointer<UInt8>, width: Int, height: Int, channels: Int,
                into planes: UnsafeMutablePointer<Float>, planeWidth: Int, planeHeight: Int) {
    let planeStride = planeWidth * planeHeight
    let xTaps = BilinearTaps(source: width, destination: planeWidth)
    let yTaps = BilinearTaps(source: height, destination: planeHeight)
    let identity = width == planeWidth && height == planeHeight
    let scale: Float = 1 / 255
    let bands = rowBands(planeHeight)
    guard let sourceBase = source.baseAddress else { return }
    let sendablePlanes = UncheckedPointer(planes)
    let sendableSource = UncheckedPointer(UnsafeMutablePointer(mutating: sourceBase))
    DispatchQueue.concurrentPerform(iterations: bands.count) { bandIndex in
        let planes = sendablePlanes.pointer
        let base = UnsafePointer(sendableSource.pointer)
        xTaps.low.withUnsafeBufferPointer { xLow in
        xTaps.high.withUnsafeBufferPointer { xHigh in
        xTaps.weight.withUnsafeBufferPointer { xWeight in
            for y in bands[bandIndex] {
                for channel in 0..<channels {
                    let out = planes + channel * planeStride + y * planeWidth
                    if identity {
                        let row = base + y * width * channels + channel
                        for x in 0..<planeWidth { out[x] = Float(row[x * channels]) * scale }
                        continue
                    }
                    let top = base + Int(yTaps.low[y]) * width * channels + channel
                    let bottom = base + Int(yTaps.high[y]) * width * channels + channel
                    let wy = yTaps.weight[y]
                    for x in 0..<planeWidth {
                        let left = Int(xLow[x]) * channels, right = Int(xHigh[x]) * channels
                        let wx = xWeight[x]
                        let upper = Float(top[left]) + (Float(top[right]) - Float(top[left])) * wx
                        let lower = Float(bottom[left]) + (Float(bottom[right]) - Float(bottom[left])) * wx
                        out[x] = (upper + (lower - upper) * wy) * scale
                    }
                }
            }
        }}}
    }
}

/// Resizes `channels` float planes bilinearly to width × height, calling
/// `emit(y, rows)` per output row with the resized channel rows.
private func resizePlanes(_ planes: UnsafePointer<Float>, channels: Int, planeWidth: Int, planeHeight: Int,
                          width: Int, height: Int,
                          emit: @escaping (Int, [UnsafeMutablePointer<Float>]) -> Void) {
    let planeStride = planeWidth * planeHeight
    let xTaps = BilinearTaps(source: planeWidth, destination: width)
    let yTaps = BilinearTaps(source: planeHeight, destination: height)
    let bands = rowBands(height)
    let sendablePlanes = UncheckedPointer(UnsafeMutablePointer(mutating: planes))
    let emitter = UncheckedBox(emit)
    if planeWidth == width, planeHeight == height {
        // A network that answers at the video size (a guided-upsampling
        // head): the rows are the planes' own, nothing to blend.
        DispatchQueue.concurrentPerform(iterations: bands.count) { bandIndex in
            let base = sendablePlanes.pointer
            var rows = [UnsafeMutablePointer<Float>](repeating: base, count: channels)
            for y in bands[bandIndex] {
                for channel in 0..<channels { rows[channel] = base + channel * planeStride + y * width }
                emitter.value(y, rows)
            }
        }
        return
    }
    DispatchQueue.concurrentPerform(iterations: bands.count) { bandIndex in
        let planes = UnsafePointer(sendablePlanes.pointer)
        // Per band: one vertically blended source row and one output row per channel.
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: channels * (planeWidth + width))
        defer { scratch.deallocate() }
        let blended = (0..<channels).map { scratch + $0 * planeWidth }
        let resized = (0..<channels).map { scratch + channels * planeWidth + $0 * width }
        xTaps.low.withUnsafeBufferPointer { xLow in
        xTaps.high.withUnsafeBufferPointer { xHigh in
        xTaps.weight.withUnsafeBufferPointer { xWeight in
            for y in bands[bandIndex] {
                let wy = yTaps.weight[y]
                for channel in 0..<channels {
                    let top = planes + channel * planeStride + Int(yTaps.low[y]) * planeWidth
                    let bottom = planes + channel * planeStride + Int(yTaps.high[y]) * planeWidth
                    let row = blended[channel]
                    for x in 0..<planeWidth { row[x] = top[x] + (bottom[x] - top[x]) * wy }
                    let out = resized[channel]
                    for x in 0..<width {
                        let left = row[Int(xLow[x])], right = row[Int(xHigh[x])]
                        out[x] = left + (right - left) * xWeight[x]
                    }
                }
                emitter.value(y, resized)
            }
        }}}
    }
}

/// Turns a [3,h,w] RGB 0–1 output plane set into an interleaved 8-bit
/// image of width × height, resizing bilinearly and clamping.
func unpackRGB(planes: UnsafePointer<Float>, planeWidth: Int, planeHeight: Int,
               width: Int, height: Int) -> RGBImageSamples {
    var samples = [UInt8](repeating: 0, count: width * height * 3)
    samples.withUnsafeMutableBufferPointer { buffer in
        let out = UncheckedPointer(buffer.baseAddress!)
        resizePlanes(planes, channels: 3, planeWidth: planeWidth, planeHeight: planeHeight,
                     width: width, height: height) { y, rows in
            let pixel = out.pointer + y * width * 3
            let red = rows[0], green = rows[1], blue = rows[2]
            for x in 0..<width {
                pixel[3 * x] = quantize(red[x])
                pixel[3 * x + 1] = quantize(green[x])
                pixel[3 * x + 2] = quantize(blue[x])
            }
        }
    }
    return samples
}

/// Turns a [2,h,w] Lab chroma output into an interleaved 8-bit RGB image of
/// width × height: a and b (times `abScale`) are resized bilinearly and
/// joined with `lightness` (the 8-bit thermal frame, 0–255 → L 0–100).
func unpackAB(planes: UnsafePointer<Float>, planeWidth: Int, planeHeight: Int, abScale: Float,
              lightness: UnsafeBufferPointer<UInt8>, width: Int, height: Int) -> RGBImageSamples {
    var samples = [UInt8](repeating: 0, count: width * height * 3)
    let table = SRGBEncoding.shared
    samples.withUnsafeMutableBufferPointer { buffer in
        let out = UncheckedPointer(buffer.baseAddress!)
        let luminance = UncheckedPointer(UnsafeMutablePointer(mutating: lightness.baseAddress!))
        resizePlanes(planes, channels: 2, planeWidth: planeWidth, planeHeight: planeHeight,
                     width: width, height: height) { y, rows in
            let pixel = out.pointer + y * width * 3
            let grey = luminance.pointer + y * width
            let aRow = rows[0], bRow = rows[1]
            for x in 0..<width {
                let linear = ColorConversion.linearRGB(lab: SIMD3(Float(grey[x]) * (100 / 255), aRow[x] * abScale,
                                                                  bRow[x] * abScale))
                pixel[3 * x] = table.encode(linear.x)
                pixel[3 * x + 1] = table.encode(linear.y)
                pixel[3 * x + 2] = table.encode(linear.z)
            }
        }
    }
    return samples
}

typealias RGBImageSamples = [UInt8]

@inline(__always)
func quantize(_ value: Float) -> UInt8 {
    UInt8(min(max(value * 255 + 0.5, 0), 255))
}

/// Linear light to 8-bit sRGB through a table: 65,536 steps keep the
/// result within rounding of the exact curve, whose steepest slope is
/// about 3,300 codes per unit near black.
final class SRGBEncoding: Sendable {
    static let shared = SRGBEncoding()
    private let table: [UInt8]

    private init() {
        table = (0...65535).map { index in
            let linear = Double(index) / 65535
            let encoded = linear <= 0.0031308 ? 12.92 * linear : 1.055 * pow(linear, 1 / 2.4) - 0.055
            return UInt8(min(max(encoded * 255 + 0.5, 0), 255))
        }
    }

    @inline(__always)
    func encode(_ linear: Float) -> UInt8 {
        let index = Int(min(max(linear, 0), 1) * 65535 + 0.5)
        return table.withUnsafeBufferPointer { $0[index] }
    }
}

/// A raw pointer handed to concurrentPerform's workers, each of which
/// writes a disjoint range of it.
struct UncheckedPointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}

/// A closure handed to concurrentPerform's workers; it only touches
/// disjoint rows of its output.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
