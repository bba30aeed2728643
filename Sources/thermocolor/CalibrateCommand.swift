import ArgumentParser
import Foundation
import Imaging
import MediaIO

struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Compute the visible-to-thermal homography from matched points, for fusing two cameras.",
        discussion: """
        The points file lists the same scene points in both images, in pixels (x right, y down, \
        the top-left pixel's centre at 0,0): CSV lines 'vx,vy,tx,ty' (a header line is allowed, \
        '#' starts a comment), or JSON [{"visible":[x,y],"thermal":[x,y]}, …]. Four pairs in \
        general position fix a homography; more are fitted in the least-squares sense, and 8–12 \
        spread over the whole frame and depth range give a dependable result. The file written \
        is {"homography":[9 numbers, row by row]}, which `convert --homography` reads. \
        --check with --thermal writes an overlay to judge the fit by eye: thermal in magenta, \
        the warped visible image in green, so misaligned edges show as coloured fringes.
        """
    )

    @Option(help: "Matched points: .csv (vx,vy,tx,ty per line) or .json.")
    var points: String

    @Option(help: "Where to write the homography JSON.")
    var out: String

    @Flag(help: "Fit an affine transform (no perspective): steadier with few or nearly collinear points.")
    var affine = false

    @Option(help: "A visible image to warp onto the thermal one for an overlay (needs --thermal and --overlay).")
    var check: String?

    @Option(help: "The thermal image for --check.")
    var thermal: String?

    @Option(help: "Where to write the --check overlay PNG.")
    var overlay: String?

    func validate() throws {
        let checking = [check, thermal, overlay].filter { $0 != nil }.count
        guard checking == 0 || checking == 3 else {
            throw ValidationError("--check, --thermal and --overlay go together")
        }
    }

    func run() throws {
        let pairs = try PointFile.read(points)
        let homography: Homography
        do {
            homography = affine ? try Homography.estimateAffine(from: pairs) : try Homography.estimate(from: pairs)
        } catch let error as HomographyError {
            throw CommandFailure("\(points): \(error.description)")
        }
        let error = homography.reprojectionError(pairs)
        do {
            try homography.write(to: URL(fileURLWithPath: out))
        } catch {
            throw CommandFailure("cannot write '\(out)': \((error as NSError).localizedFailureReason ?? error.localizedDescription)")
        }
        let kind = affine ? "affine" : (pairs.count == 3 ? "affine (3 pairs)" : "homography")
        print("\(kind) from \(pairs.count) point pairs: reprojection error RMS \(String(format: "%.3f", error.rms)) px, "
            + "max \(String(format: "%.3f", error.maximum)) px")
        print("matrix (visible → thermal):")
        for row in 0..<3 {
            print("  " + (0..<3).map { String(format: "%14.6g", homography.matrix[row * 3 + $0]) }.joined(separator: " "))
        }
        print("wrote \(out)")
        if let check, let thermal, let overlay {
            let thermalImage = try ImageFile.readLikeImread(thermal)
            let visibleImage = try ImageFile.readRGB(check)
            let warped = homography.warp(visibleImage, toWidth: thermalImage.width, height: thermalImage.height)
            try ImageFile.writePNG(Self.overlay(thermal: thermalImage, warpedVisible: warped), to: overlay)
            print("wrote \(overlay)")
        }
    }

    /// Thermal intensity in red and blue, visible luma in green: where the
    /// two agree the picture is grey, where edges miss each other they show
    /// magenta on one side and green on the other.
    static func overlay(thermal: Raster<UInt8>, warpedVisible: RGBImage) -> RGBImage {
        var output = RGBImage(width: thermal.width, height: thermal.height, channels: 3, repeating: 0)
        for i in 0..<thermal.pixelCount {
            let heat: UInt8
            if thermal.channels == 1 {
                heat = thermal.samples[i]
            } else {
                let c = thermal.channels * i
                heat = UInt8(ColorConversion.luma(red: Float(thermal.samples[c]), green: Float(thermal.samples[c + 1]),
                                                  blue: Float(thermal.samples[c + 2])).rounded().clamped(to: 0...255))
            }
            let luma = ColorConversion.luma(red: Float(warpedVisible.samples[3 * i]), green: Float(warpedVisible.samples[3 * i + 1]),
                                            blue: Float(warpedVisible.samples[3 * i + 2]))
            output.samples[3 * i] = heat
            output.samples[3 * i + 1] = UInt8(luma.rounded().clamped(to: 0...255))
            output.samples[3 * i + 2] = heat
        }
        return output
    }
}

private extension Float {
    func clamped(to range: ClosedRange<Float>) -> Float { Swift.min(range.upperBound, Swift.max(range.lowerBound, self)) }
}

/// Matched point pairs from a CSV or JSON file.
enum PointFile {
    static func read(_ path: String) throws -> [PointCorrespondence] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file"
            throw CommandFailure("cannot read points '\(path)': \(reason)")
        }
        let text = String(decoding: data, as: UTF8.self)
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if path.lowercased().hasSuffix(".json") || trimmed.hasPrefix("[") || trimmed.hasPrefix("{") {
            return try parseJSON(data, path: path)
        }
        return try parseCSV(text, path: path)
    }

    /// `vx,vy,tx,ty` per line; blank lines and `#` comments skipped; a first
    /// line that is not numbers is a header.
    static func parseCSV(_ text: String, path: String) throws -> [PointCorrespondence] {
        var pairs: [PointCorrespondence] = []
        var sawContent = false
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first
                .map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard !line.isEmpty else { continue }
            let fields = line.split(separator: line.contains(",") ? "," : ";", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            let numbers = fields.compactMap(Double.init)
            let isFirst = !sawContent
            sawContent = true
            if isFirst, numbers.count < fields.count, fields.contains(where: { $0.rangeOfCharacter(from: .letters) != nil }) {
                continue  // a header such as vx,vy,tx,ty
            }
            guard fields.count == 4, numbers.count == 4, numbers.allSatisfy(\.isFinite) else {
                throw CommandFailure("\(path) line \(index + 1): expected four numbers vx,vy,tx,ty, got '\(line)'")
            }
            pairs.append(PointCorrespondence(visible: SIMD2(numbers[0], numbers[1]), thermal: SIMD2(numbers[2], numbers[3])))
        }
        return pairs
    }

    /// `[{"visible":[x,y],"thermal":[x,y]}, …]`, or the same under a "points" key.
    static func parseJSON(_ data: Data, path: String) throws -> [PointCorrespondence] {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw CommandFailure("\(path) is not valid JSON")
        }
        let list = (object as? [Any]) ?? ((object as? [String: Any])?["points"] as? [Any])
        guard let list else {
            throw CommandFailure(#"\#(path): expected a JSON array of {"visible":[x,y],"thermal":[x,y]}"#)
        }
        return try list.enumerated().map { index, entry in
            func point(_ key: String) -> SIMD2<Double>? {
                guard let values = (entry as? [String: Any])?[key] as? [Any], values.count == 2,
                      let x = (values[0] as? NSNumber)?.doubleValue, let y = (values[1] as? NSNumber)?.doubleValue,
                      x.isFinite, y.isFinite else { return nil }
                return SIMD2(x, y)
            }
            guard let visible = point("visible"), let thermal = point("thermal") else {
                throw CommandFailure(#"\#(path) entry \#(index + 1): expected {"visible":[x,y],"thermal":[x,y]}"#)
            }
            return PointCorrespondence(visible: visible, thermal: thermal)
        }
    }
}
