import Foundation

/// A small gzip reader (RFC 1952 around RFC 1951 DEFLATE), so the tokenizer
/// can read CLIP's merges file as it is shipped, `.txt.gz`, without a zlib
/// dependency. Members are decoded one after another and checked by CRC-32.
enum Gzip {
    enum Failure: Error, CustomStringConvertible {
        case notGzip, truncated, unsupportedMethod(UInt8), corrupt(String), checksumMismatch

        var description: String {
            switch self {
            case .notGzip: "not gzip data"
            case .truncated: "gzip data ends early"
            case .unsupportedMethod(let method): "gzip compression method \(method) is not DEFLATE"
            case .corrupt(let what): "corrupt DEFLATE stream: \(what)"
            case .checksumMismatch: "gzip CRC-32 does not match the data"
            }
        }
    }

    static func decompress(_ data: Data) throws -> Data {
        let bytes = [UInt8](data)
        var output: [UInt8] = []
        var offset = 0
        repeat {
            offset = try decompressMember(bytes, from: offset, into: &output)
        } while offset + 1 < bytes.count && bytes[offset] == 0x1F && bytes[offset + 1] == 0x8B
        return Data(output)
    }

    private static func decompressMember(_ bytes: [UInt8], from start: Int, into output: inout [UInt8]) throws -> Int {
        guard bytes.count >= start + 18 else { throw Failure.truncated }
        guard bytes[start] == 0x1F, bytes[start + 1] == 0x8B else { throw Failure.notGzip }
        guard bytes[start + 2] == 8 else { throw Failure.unsupportedMethod(bytes[start + 2]) }
        let flags = bytes[start + 3]
        var offset = start + 10
        if flags & 0x04 != 0 {  // FEXTRA
            guard offset + 2 <= bytes.count else { throw Failure.truncated }
            offset += 2 + (Int(bytes[offset]) | Int(bytes[offset + 1]) << 8)
        }
        for flag in [UInt8(0x08), 0x10] where flags & flag != 0 {  // FNAME, FCOMMENT
            while offset < bytes.count && bytes[offset] != 0 { offset += 1 }
            offset += 1
        }
        if flags & 0x02 != 0 { offset += 2 }  // FHCRC
        guard offset <= bytes.count else { throw Failure.truncated }

        let memberStart = output.count
        var reader = BitReader(bytes: bytes, offset: offset)
        try Inflater.inflate(&reader, into: &output)
        offset = reader.alignedOffset
        guard offset + 8 <= bytes.count else { throw Failure.truncated }
        let storedCRC = littleEndian32(bytes, offset)
        let storedSize = littleEndian32(bytes, offset + 4)
        guard storedCRC == crc32(output[memberStart...]),
              storedSize == UInt32(truncatingIfNeeded: output.count - memberStart)
        else { throw Failure.checksumMismatch }
        return offset + 8
    }

    private static func littleEndian32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
    }

    private static let crcTable: [UInt32] = (0..<256).map { entry in
        var value = UInt32(entry)
        for _ in 0..<8 { value = value & 1 != 0 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}

/// Least-significant-bit-first reading, as DEFLATE packs its bits.
private struct BitReader {
    let bytes: [UInt8]
    var offset: Int
    var buffer: UInt64 = 0
    var count = 0

    init(bytes: [UInt8], offset: Int) {
        self.bytes = bytes
        self.offset = offset
    }

    mutating func bits(_ needed: Int) throws -> Int {
        while count < needed {
            guard offset < bytes.count else { throw Gzip.Failure.truncated }
            buffer |= UInt64(bytes[offset]) << UInt64(count)
            offset += 1
            count += 8
        }
        let value = Int(buffer & ((1 << UInt64(needed)) - 1))
        buffer >>= UInt64(needed)
        count -= needed
        return value
    }

    mutating func alignToByte() {
        buffer >>= UInt64(count % 8)
        count -= count % 8
    }

    /// The byte offset after the bits consumed so far, rounded up to a byte.
    var alignedOffset: Int { offset - count / 8 }
}

/// Canonical Huffman decoding tables: symbol counts per length and the
/// symbols in code order (the "puff" approach: small, not the fastest).
private struct Huffman {
    var counts = [Int](repeating: 0, count: 16)
    var symbols: [Int]

    init(lengths: [Int]) throws {
        symbols = [Int](repeating: 0, count: lengths.count)
        for length in lengths { counts[length] += 1 }
        var offsets = [Int](repeating: 0, count: 16)
        for length in 1..<15 { offsets[length + 1] = offsets[length] + counts[length] }
        for (symbol, length) in lengths.enumerated() where length != 0 {
            symbols[offsets[length]] = symbol
            offsets[length] += 1
        }
    }

    func decode(_ reader: inout BitReader) throws -> Int {
        var code = 0, first = 0, index = 0
        for length in 1..<16 {
            code |= try reader.bits(1)
            let count = counts[length]
            if code - count < first { return symbols[index + (code - first)] }
            index += count
            first += count
            first <<= 1
            code <<= 1
        }
        throw Gzip.Failure.corrupt("invalid Huffman code")
    }
}

private enum Inflater {
    static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
                             35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
                              3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
                               257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
                               8193, 12289, 16385, 24577]
    static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
                                7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    static func inflate(_ reader: inout BitReader, into output: inout [UInt8]) throws {
        var last = false
        repeat {
            last = try reader.bits(1) == 1
            switch try reader.bits(2) {
            case 0: try stored(&reader, into: &output)
            case 1: try fixedBlock(&reader, into: &output)
            case 2: try dynamicBlock(&reader, into: &output)
            default: throw Gzip.Failure.corrupt("reserved block type")
            }
        } while !last
    }

    private static func stored(_ reader: inout BitReader, into output: inout [UInt8]) throws {
        reader.alignToByte()
        let length = try reader.bits(16)
        let complement = try reader.bits(16)
        guard length == ~complement & 0xFFFF else { throw Gzip.Failure.corrupt("stored block length") }
        for _ in 0..<length { output.append(UInt8(try reader.bits(8))) }
    }

    private static func fixedBlock(_ reader: inout BitReader, into output: inout [UInt8]) throws {
        let literal = try Huffman(lengths: [Int](repeating: 8, count: 144) + [Int](repeating: 9, count: 112)
            + [Int](repeating: 7, count: 24) + [Int](repeating: 8, count: 8))
        let distance = try Huffman(lengths: [Int](repeating: 5, count: 30))
        try codes(&reader, literal: literal, distance: distance, into: &output)
    }

    private static func dynamicBlock(_ reader: inout BitReader, into output: inout [UInt8]) throws {
        let literalCount = try reader.bits(5) + 257
        let distanceCount = try reader.bits(5) + 1
        let codeLengthCount = try reader.bits(4) + 4
        guard literalCount <= 286, distanceCount <= 30 else { throw Gzip.Failure.corrupt("too many codes") }
        var codeLengths = [Int](repeating: 0, count: 19)
        for index in 0..<codeLengthCount { codeLengths[codeLengthOrder[index]] = try reader.bits(3) }
        let codeLengthCode = try Huffman(lengths: codeLengths)
        var lengths: [Int] = []
        while lengths.count < literalCount + distanceCount {
            let symbol = try codeLengthCode.decode(&reader)
            switch symbol {
            case 0..<16: lengths.append(symbol)
            case 16:
                guard let previous = lengths.last else { throw Gzip.Failure.corrupt("repeat with no length") }
                lengths += [Int](repeating: previous, count: 3 + (try reader.bits(2)))
            case 17: lengths += [Int](repeating: 0, count: 3 + (try reader.bits(3)))
            default: lengths += [Int](repeating: 0, count: 11 + (try reader.bits(7)))
            }
        }
        guard lengths.count == literalCount + distanceCount else { throw Gzip.Failure.corrupt("code lengths overrun") }
        let literal = try Huffman(lengths: Array(lengths[..<literalCount]))
        let distance = try Huffman(lengths: Array(lengths[literalCount...]))
        try codes(&reader, literal: literal, distance: distance, into: &output)
    }

    private static func codes(_ reader: inout BitReader, literal: Huffman, distance: Huffman,
                              into output: inout [UInt8]) throws {
        while true {
            let symbol = try literal.decode(&reader)
            if symbol < 256 {
                output.append(UInt8(symbol))
            } else if symbol == 256 {
                return
            } else {
                let lengthIndex = symbol - 257
                guard lengthIndex < lengthBase.count else { throw Gzip.Failure.corrupt("bad length symbol") }
                let length = lengthBase[lengthIndex] + (try reader.bits(lengthExtra[lengthIndex]))
                let distanceSymbol = try distance.decode(&reader)
                guard distanceSymbol < distanceBase.count else { throw Gzip.Failure.corrupt("bad distance symbol") }
                let back = distanceBase[distanceSymbol] + (try reader.bits(distanceExtra[distanceSymbol]))
                guard back <= output.count else { throw Gzip.Failure.corrupt("distance before the start") }
                let from = output.count - back
                for step in 0..<length { output.append(output[from + step]) }
            }
        }
    }
}
