internal import CFFmpeg
import Foundation
import Imaging

// Moving pixels between FFmpeg's planes, whose rows are padded to `linesize`,
// and the images of `Imaging`, whose rows are not. Shared by every reader and
// decoder so each conversion exists once.

/// 8-bit limited-range luma (16–235) opened up to 0–255: 8-bit grey then
/// means the same whatever carried it.
let limitedToFullRangeTable: [UInt8] = (0..<256).map {
    UInt8(max(0, min(255, ((Double($0) - 16) * 255 / 219).rounded())))
}

/// The `rows` rows of one plane, `rowBytes` bytes each, without the padding.
func unpaddedBytes(of plane: UnsafePointer<UInt8>, stride: Int, rowBytes: Int, rows: Int) -> [UInt8] {
    guard rowBytes > 0, rows > 0 else { return [] }
    return [UInt8](unsafeUninitializedCapacity: rowBytes * rows) { target, count in
        for row in 0..<rows {
            memcpy(target.baseAddress! + row * rowBytes, plane + row * stride, rowBytes)
        }
        count = rowBytes * rows
    }
}

/// A packed RGB24 frame as an `RGBImage`.
func rgbImage(ofPacked frame: UnsafeMutablePointer<AVFrame>) -> RGBImage {
    let width = Int(frame.pointee.width), height = Int(frame.pointee.height)
    let samples = unpaddedBytes(of: frame.pointee.data.0!, stride: Int(frame.pointee.linesize.0), rowBytes: width * 3, rows: height)
    return RGBImage(width: width, height: height, channels: 3, samples: samples)
}

/// An 8-bit plane as samples, rows packed, through `table` when given (limited to full range).
func bytePlane(_ plane: UnsafePointer<UInt8>, stride: Int, width: Int, height: Int, table: [UInt8]? = nil) -> Gray8Image {
    let samples = [UInt8](unsafeUninitializedCapacity: width * height) { target, count in
        for row in 0..<height {
            let source = plane + row * stride
            let destination = target.baseAddress! + row * width
            if let table {
                table.withUnsafeBufferPointer { lookup in
                    for x in 0..<width { destination[x] = lookup[Int(source[x])] }
                }
            } else {
                destination.update(from: source, count: width)
            }
        }
        count = width * height
    }
    return Gray8Image(width: width, height: height, samples: samples)
}

/// A 16-bit plane as samples, byte-swapped when it is big-endian.
func sixteenBitPlane(_ plane: UnsafePointer<UInt8>, stride: Int, width: Int, height: Int, bigEndian: Bool) -> Gray16Image {
    let samples = [UInt16](unsafeUninitializedCapacity: width * height) { target, count in
        for row in 0..<height {
            let source = UnsafeRawPointer(plane + row * stride)
            let destination = target.baseAddress! + row * width
            for x in 0..<width {
                let value = source.loadUnaligned(fromByteOffset: x * 2, as: UInt16.self)
                destination[x] = bigEndian ? value.byteSwapped : value
            }
        }
        count = width * height
    }
    return Gray16Image(width: width, height: height, samples: samples)
}
