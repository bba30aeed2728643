internal import CZlib
import Foundation

/// gzip through the system's zlib (every machine with FFmpeg has it): the
/// tokenizer reads CLIP's merges file as it is shipped, `.txt.gz`, and the
/// embedding cache checks its entries with zlib's CRC-32.
enum Gzip {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Every gzip member of `data`, one after another, each checked by its CRC-32.
    static func decompress(_ data: Data) throws -> Data {
        guard data.starts(with: [0x1F, 0x8B]) else { throw Failure(description: "not gzip data") }
        let stream = try InflateStream()
        return try stream.inflateAll(data)
    }

    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBufferPointer { buffer in
            UInt32(CZlib.crc32(0, buffer.baseAddress, uInt(buffer.count)))
        }
    }
}

/// One zlib inflate state, ended when the owner goes.
private final class InflateStream {
    private var stream = z_stream()

    init() throws {
        let status = czlib_inflate_init_gzip(&stream)
        guard status == Z_OK else { throw Gzip.Failure(description: "zlib could not start inflating (status \(status))") }
    }

    deinit { inflateEnd(&stream) }

    func inflateAll(_ data: Data) throws -> Data {
        var output = Data()
        let chunk = 1 << 16
        var scratch = [UInt8](repeating: 0, count: chunk)
        var input = [UInt8](data)
        try input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            while true {
                let status = scratch.withUnsafeMutableBufferPointer { target -> Int32 in
                    stream.next_out = target.baseAddress
                    stream.avail_out = uInt(chunk)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                output.append(contentsOf: scratch[..<(chunk - Int(stream.avail_out))])
                switch status {
                case Z_OK:
                    guard stream.avail_in > 0 || stream.avail_out == 0 else {
                        throw Gzip.Failure(description: "gzip data ends early")
                    }
                case Z_STREAM_END:
                    // Concatenated members (as `cat a.gz b.gz` makes) decode as one text.
                    guard stream.avail_in >= 2, stream.next_in[0] == 0x1F, stream.next_in[1] == 0x8B else { return }
                    guard inflateReset(&stream) == Z_OK else { throw Gzip.Failure(description: "zlib could not restart") }
                case Z_BUF_ERROR:
                    throw Gzip.Failure(description: "gzip data ends early")
                case Z_DATA_ERROR:
                    let reason = stream.msg.map { String(cString: $0) } ?? "corrupt data"
                    throw Gzip.Failure(description: "corrupt gzip data: \(reason)")
                default:
                    throw Gzip.Failure(description: "zlib failed inflating (status \(status))")
                }
            }
        }
        return output
    }
}
