import Foundation
import Imaging
import MediaIO
import TestSupport
import Testing

@Suite("Bad input gives clear errors, never a crash or a hang")
struct BadInputTests {
    @Test("A missing file names the file and says it is missing")
    func missingFile() {
        #expect {
            _ = try VideoReader("/nonexistent/thermal.mp4")
        } throws: { error in
            "\(error)" == "cannot open '/nonexistent/thermal.mp4': no such file"
        }
    }

    @Test("A text file is not video")
    func textFile() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let path = folder.file("notes.mp4")
        try "this is not a video, just some words\n".write(toFile: path, atomically: true, encoding: .utf8)
        let error = #expect(throws: MediaError.self) { _ = try VideoReader(path) }
        #expect(error?.location == path)
        #expect(error?.description.hasPrefix("cannot open '\(path)'") == true)
    }

    @Test("Random bytes never crash the decode path", arguments: [1, 2, 3, 4, 5, 6, 7, 8])
    func randomBytes(seed: UInt64) throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let path = folder.file("random-\(seed).bin")
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        var bytes = [UInt8](repeating: 0, count: 4096 + Int(seed) * 1000)
        for i in bytes.indices {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            bytes[i] = UInt8(truncatingIfNeeded: state)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            let reader = try VideoReader(path)
            while try reader.nextThermalFrame() != nil {}
        } catch let error as MediaError {
            #expect(error.location == path)
        }
    }

    @Test("A truncated recording yields the frames before the cut", arguments: [0.2, 0.5, 0.9])
    func truncatedFile(fraction: Double) throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let whole = folder.file("whole.mkv")
        let writer = try VideoWriter(whole, width: 64, height: 48, timeBase: Rational(1, 30), frameRate: Rational(30, 1),
                                     settings: EncoderSettings(codec: .ffv1), gray16: true)
        for index in 0..<30 { try writer.write(.gray16(rampFrame(width: 64, height: 48, index: index)), pts: Int64(index)) }
        try writer.finish()
        let data = try Data(contentsOf: URL(fileURLWithPath: whole))
        let cut = folder.file("cut.mkv")
        try data.prefix(Int(Double(data.count) * fraction)).write(to: URL(fileURLWithPath: cut))

        var count = 0
        do {
            let reader = try VideoReader(cut)
            while let frame = try reader.nextThermalFrame() {
                // Whatever decodes is a real frame of the clip, not garbage.
                #expect(frame.image.width == 64)
                count += 1
            }
        } catch let error as MediaError {
            #expect(error.location == cut)
        }
        #expect(count < 30)
        if fraction >= 0.5 { #expect(count > 0) }
    }

    @Test("An output in a folder that does not exist is refused with the path")
    func unwritableOutput() {
        let error = #expect(throws: MediaError.self) {
            _ = try VideoWriter("/nonexistent-folder/out.mp4", width: 64, height: 64, timeBase: Rational(1, 25), frameRate: nil)
        }
        #expect(error?.description.hasPrefix("cannot write '/nonexistent-folder/out.mp4'") == true)
    }

    @Test("An unknown container is refused before anything is written")
    func unknownContainer() {
        #expect(throws: MediaError.self) {
            _ = try VideoWriter("/tmp/out.unknownext", width: 64, height: 64, timeBase: Rational(1, 25), frameRate: nil)
        }
    }

    @Test("16-bit grey cannot go to H.264, and says which codecs can hold it")
    func grayToH264() {
        let error = #expect(throws: MediaError.self) {
            _ = try VideoWriter("/tmp/x.mkv", width: 64, height: 64, timeBase: Rational(1, 25), frameRate: nil, gray16: true)
        }
        #expect(error?.reason.contains("ffv1") == true)
    }
}
