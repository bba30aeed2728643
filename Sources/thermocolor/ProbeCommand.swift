import ArgumentParser
import Foundation
import MediaIO

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Print what a video input holds: size, pixel format, bit depth, rate, length."
    )

    @Argument(help: "A file, image sequence or stream URL.")
    var input: String

    @OptionGroup(title: "Input") var inputFormat: InputFormatOptions

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let reader = try VideoReader(input, options: try inputFormat.options(ioTimeout: 10))
        let info = reader.info
        var fields: [(String, String)] = [
            ("input", input),
            ("container", info.container),
            ("codec", info.codec),
            ("size", "\(info.width)x\(info.height)"),
            ("pixel_format", info.pixelFormat),
            ("significant_bits", String(significantBits(reader))),
            ("grey", info.isGray ? "yes" : "no"),
            ("time_base", info.timeBase.description),
        ]
        if let rate = info.frameRate { fields.append(("frame_rate", String(format: "%.3f", rate.doubleValue))) }
        if let duration = info.duration { fields.append(("duration_s", String(format: "%.3f", duration))) }
        if let count = info.frameCount { fields.append(("frames", String(count))) }
        if let bitRate = info.bitRate { fields.append(("bit_rate", String(bitRate))) }
        if json {
            let object = Dictionary(uniqueKeysWithValues: fields)
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        } else {
            let width = fields.map(\.0.count).max() ?? 0
            for (key, value) in fields {
                print(key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value)
            }
        }
    }

    /// A 14-bit core stored as 16-bit grey (FFV1, PNG-16, raw) declares 16 bits: the
    /// container has no field for the sensor's depth. The bits the first frames
    /// really use say more, so that is what probe reports (never more than declared).
    private func significantBits(_ reader: VideoReader) -> Int {
        let declared = reader.info.significantBits
        guard declared > 8, !input.contains("://") else { return declared }
        var highest: UInt16 = 0
        for _ in 0..<Self.framesMeasured {
            guard let frame = try? reader.nextThermalFrame() else { break }
            highest = max(highest, frame.image.samples.max() ?? 0)
        }
        guard highest > 0 else { return declared }
        return min(declared, max(9, UInt16.bitWidth - highest.leadingZeroBitCount))
    }

    private static let framesMeasured = 30
}
