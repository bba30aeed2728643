import Foundation
import Imaging
import MediaIO
import TestSupport
import Testing

/// eval, calibrate and bench-fusion through the real binary.
@Suite("thermocolor eval, calibrate, bench-fusion")
struct FusionToolCommandTests {
    /// A thermal-looking grey image and a colourful visible one of the same scene.
    static func scenePair(width: Int = 64, height: Int = 48) -> (thermal: Gray8Image, visible: RGBImage) {
        var thermal = [UInt8](repeating: 0, count: width * height)
        var visible = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let dx = Double(x - width / 3), dy = Double(y - height / 2)
                let warm = max(0, 160 - (dx * dx + dy * dy).squareRoot() * 12)
                thermal[y * width + x] = UInt8(min(255, 40 + Double(y) + warm))
                let stripe = (x / 6 + y / 6) % 2 == 0 ? 50.0 : -50.0
                visible[3 * (y * width + x)] = UInt8(max(0, min(255, 120 + stripe + Double(x))))
                visible[3 * (y * width + x) + 1] = UInt8(max(0, min(255, 110 + stripe)))
                visible[3 * (y * width + x) + 2] = UInt8(max(0, min(255, 140 + stripe - Double(y))))
            }
        }
        return (Gray8Image(width: width, height: height, samples: thermal),
                RGBImage(width: width, height: height, channels: 3, samples: visible))
    }

    /// image → method → metric → value from a CSV in VIFB's layout.
    static func readMetricsCSV(_ path: String) throws -> [String: [String: [String: Double]]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(whereSeparator: \.isNewline)
        #expect(lines.first == "image,method,metric,value")
        var table: [String: [String: [String: Double]]] = [:]
        for line in lines.dropFirst() {
            let fields = line.split(separator: ",").map(String.init)
            guard fields.count == 4, let value = Double(fields[3]) else { continue }
            table[fields[0], default: [:]][fields[1], default: [:]][fields[2]] = value
        }
        return table
    }

    private func expectOneLineFailure(_ result: ProcessResult, mentioning words: [String]) {
        #expect(result.status != 0)
        #expect(!result.crashed, "the process crashed: \(result.error)")
        let lines = result.error.split(separator: "\n").filter { !$0.isEmpty }
        #expect(lines.count == 1, "expected one error line, got: \(result.error)")
        for word in words { #expect(result.error.contains(word), "'\(word)' not in: \(result.error)") }
    }

    // MARK: eval

    @Test("eval of one triple agrees with FusionMetrics in-process and writes the CSV and contact sheet")
    func evalTriple() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let (thermal, visible) = Self.scenePair()
        let ir = folder.file("scene.png"), vi = folder.file("scene-vi.png"), fused = folder.file("scene_copy.png")
        // PNG is lossless, so the binary reads exactly these pixels.
        try ImageFile.writePNG(Gray16Image(width: thermal.width, height: thermal.height, samples: thermal.samples.map { UInt16($0) << 8 }),
                               to: ir)
        try ImageFile.writePNG(visible, to: vi)
        try ImageFile.writePNG(visible, to: fused)
        let csv = folder.file("metrics.csv"), sheet = folder.file("sheet.png")
        let result = try runProcess(thermocolorBinary, ["eval", "--fused", fused, "--ir", ir, "--vi", vi,
                                                        "--csv", csv, "--contact-sheet", sheet, "--tile-height", "48"])
        #expect(result.status == 0, "\(result.error)")
        for metric in FusionMetric.allCases { #expect(result.output.contains(metric.name)) }
        #expect(result.output.contains("scene") && result.output.contains("copy"))

        let values = try #require(try Self.readMetricsCSV(csv)["scene"]?["copy"])
        #expect(values.count == FusionMetric.allCases.count)
        let expected = try FusionMetrics.evaluate(fused: visible.raster, infrared: thermal, visible: visible.raster)
        for metric in FusionMetric.allCases {
            let got = try #require(values[metric.name]), want = try #require(expected[metric])
            #expect(abs(got - want) <= 1e-9 * max(1, abs(want)), "\(metric.name): \(got) vs \(want)")
        }
        // The fused image is the visible one: its SSIM with the visible image
        // is 1 per channel, leaving 1 + SSIM(thermal, visible).
        let thermalOnly = try FusionMetrics.value(of: .structuralSimilarity, fused: visible.raster, infrared: thermal, visible: thermal)
        #expect(abs(try #require(values["Ssim"]) - (1 + thermalOnly / 2)) < 1e-9)
        // …and its error against the visible image is nil, so RMSE is half the thermal one.
        let thermalError = try FusionMetrics.value(of: .rootMeanSquareError, fused: visible.raster, infrared: thermal, visible: thermal)
        #expect(abs(try #require(values["Rmse"]) - thermalError / 2) < 1e-12)

        let probed = try ffprobe(sheet)
        #expect(probed.codec == "png")
        // Three 64-pixel-wide thumbnails in one row of 48-pixel tiles under two text lines.
        #expect(probed.width >= 3 * 64 && probed.height == 8 + 14 + 8 + 14 + 4 + 48 + 8)
    }

    @Test("eval --metrics picks metrics; fused and inputs of different sizes fail in one line")
    func evalChoicesAndMismatch() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let (thermal, visible) = Self.scenePair()
        let ir = folder.file("a.png"), vi = folder.file("a-vi.png"), small = folder.file("a_small.png")
        try ImageFile.writePNG(RGBImage(width: 64, height: 48, channels: 3, samples: thermal.samples.flatMap { [$0, $0, $0] }), to: ir)
        try ImageFile.writePNG(visible, to: vi)
        try ImageFile.writePNG(Self.scenePair(width: 32, height: 24).visible, to: small)

        let chosen = try runProcess(thermocolorBinary, ["eval", "--fused", vi, "--ir", ir, "--vi", vi, "--metrics", "entropy,Qabf"])
        #expect(chosen.status == 0, "\(chosen.error)")
        #expect(chosen.output.contains("Entropy") && chosen.output.contains("Qabf") && !chosen.output.contains("Ssim"))

        let mismatch = try runProcess(thermocolorBinary, ["eval", "--fused", small, "--ir", ir, "--vi", vi])
        expectOneLineFailure(mismatch, mentioning: ["sizes differ", small, "32×24", "64×48"])
        let missing = try runProcess(thermocolorBinary, ["eval", "--fused", folder.file("none.png"), "--ir", ir, "--vi", vi])
        expectOneLineFailure(missing, mentioning: [folder.file("none.png"), "no such file"])
        let unknown = try runProcess(thermocolorBinary, ["eval", "--fused", vi, "--ir", ir, "--vi", vi, "--metrics", "Sharpness"])
        #expect(unknown.status != 0 && unknown.error.contains("Sharpness") && unknown.error.contains("Qcv"))
    }

    @Test("eval in folder form reports an image without its visible or fused partner")
    func evalFolderMissingPartner() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let (thermal, visible) = Self.scenePair()
        for name in ["ir", "vi", "fused"] {
            try FileManager.default.createDirectory(atPath: folder.file(name), withIntermediateDirectories: true)
        }
        try ImageFile.writePNG(RGBImage(width: 64, height: 48, channels: 3, samples: thermal.samples.flatMap { [$0, $0, $0] }),
                               to: folder.file("ir/one.png"))
        try ImageFile.writePNG(visible, to: folder.file("vi/one.png"))
        let arguments = ["eval", "--fused-dir", folder.file("fused"), "--ir-dir", folder.file("ir"), "--vi-dir", folder.file("vi")]
        expectOneLineFailure(try runProcess(thermocolorBinary, arguments), mentioning: ["no fused image", "one"])
        try ImageFile.writePNG(visible, to: folder.file("fused/one_X.png"))
        try ImageFile.writePNG(visible, to: folder.file("ir/two.png"))
        expectOneLineFailure(try runProcess(thermocolorBinary, arguments), mentioning: ["no visible image", "two"])
    }

    /// VIFB's published values for a few images, within the 1 % its agreement
    /// test allows (JPEG decoding and five printed digits). Qcb and Qcv are
    /// left out to keep a debug build quick; docs/FUSION.md has all 13.
    @Test("eval in folder form reproduces VIFB's reference metrics for GFF",
          .enabled(if: sharedDataFolder != nil, "no ../shared/data on this machine (VIFB pairs)"))
    func evalFolderMatchesVIFB() throws {
        let vifb = try #require(sharedDataFolder) + "/vifb"
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        // manWalking's thermal image is a grey JPEG; "man" is a prefix of it.
        let images = ["carLight", "man", "manWalking"]
        // Links to a few pairs stand in for the whole set.
        for kind in ["ir", "vi"] {
            try FileManager.default.createDirectory(atPath: folder.file(kind), withIntermediateDirectories: true)
            for image in images {
                try FileManager.default.createSymbolicLink(atPath: folder.file("\(kind)/\(image).jpg"),
                                                           withDestinationPath: "\(vifb)/\(kind)/\(image).jpg")
            }
        }
        let metrics = ["Avg_gradient", "Entropy", "Mutinf", "Psnr", "Qabf", "Ssim", "Variance"]
        let csv = folder.file("gff.csv")
        let result = try runProcess(thermocolorBinary, [
            "eval", "--fused-dir", "\(vifb)/reference/fused", "--ir-dir", folder.file("ir"), "--vi-dir", folder.file("vi"),
            "--method-suffix", "_GFF", "--metrics", metrics.joined(separator: ","), "--csv", csv,
        ])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("mean (3)"))
        let ours = try Self.readMetricsCSV(csv)
        let reference = try Self.readMetricsCSV("\(vifb)/reference/metrics.csv")
        for image in images {
            for metric in metrics {
                let want = try #require(reference[image]?["GFF"]?[metric]), got = try #require(ours[image]?["GFF"]?[metric])
                #expect(abs(got - want) <= 0.01 * abs(want), "\(image) GFF \(metric): \(got) vs VIFB \(want)")
            }
        }

        // Without a suffix every NAME_METHOD file is found, and "man_*" stays man's, not manWalking's.
        let all = try runProcess(thermocolorBinary, [
            "eval", "--fused-dir", "\(vifb)/reference/fused", "--ir-dir", folder.file("ir"), "--vi-dir", folder.file("vi"),
            "--metrics", "Entropy", "--csv", folder.file("all.csv"),
        ])
        #expect(all.status == 0, "\(all.error)")
        let found = try Self.readMetricsCSV(folder.file("all.csv"))
        #expect(found.keys.sorted() == images)
        for image in images { #expect(found[image]?.keys.sorted() == ["CBF", "GFF"]) }
        #expect(abs((found["man"]?["CBF"]?["Entropy"] ?? 0) - (reference["man"]?["CBF"]?["Entropy"] ?? 1)) < 0.01)
    }

    // MARK: calibrate

    static let knownHomography: [Double] = [0.98, 0.02, -12.5, -0.015, 1.01, 7.25, 2e-5, -1e-5, 1]

    static func mapped(_ x: Double, _ y: Double, _ h: [Double]) -> (Double, Double) {
        let w = h[6] * x + h[7] * y + h[8]
        return ((h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w)
    }

    @Test("calibrate recovers a known homography from CSV points and writes the JSON file")
    func calibrateRecoversHomography() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        var lines = ["vx,vy,tx,ty", "# corners and inner points of a calibration board"]
        for (x, y) in [(12.0, 20.0), (600, 15), (610, 440), (25, 450), (300, 230), (150, 100), (480, 330), (90, 380)] {
            let (tx, ty) = Self.mapped(x, y, Self.knownHomography)
            lines.append("\(x),\(y),\(tx),\(ty)")
        }
        let points = folder.file("points.csv"), out = folder.file("h.json")
        try lines.joined(separator: "\n").write(toFile: points, atomically: true, encoding: .utf8)
        let result = try runProcess(thermocolorBinary, ["calibrate", "--points", points, "--out", out])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("8 point pairs") && result.output.contains("RMS 0.000 px"))
        let homography = try Homography(contentsOf: URL(fileURLWithPath: out))
        for (got, want) in zip(homography.matrix, Self.knownHomography) {
            #expect(abs(got - want) <= 1e-6 * max(1e-3, abs(want)), "\(homography.matrix)")
        }
    }

    @Test("calibrate reads JSON points, fits affine on request, and checks with an overlay")
    func calibrateJSONAffineOverlay() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        // thermal = visible shifted by (−4, 3): an affine map fits exactly.
        let entries = [(10.0, 10.0), (50, 12), (30, 40), (55, 44)].map { x, y in
            #"{"visible":[\#(x),\#(y)],"thermal":[\#(x - 4),\#(y + 3)]}"#
        }
        let points = folder.file("points.json"), out = folder.file("h.json")
        try ("[" + entries.joined(separator: ",") + "]").write(toFile: points, atomically: true, encoding: .utf8)
        let (thermal, visible) = Self.scenePair()
        let thermalPath = folder.file("t.png"), visiblePath = folder.file("v.png"), overlay = folder.file("overlay.png")
        try ImageFile.writePNG(RGBImage(width: 64, height: 48, channels: 3, samples: thermal.samples.flatMap { [$0, $0, $0] }),
                               to: thermalPath)
        try ImageFile.writePNG(visible, to: visiblePath)
        let result = try runProcess(thermocolorBinary, ["calibrate", "--points", points, "--out", out, "--affine",
                                                        "--check", visiblePath, "--thermal", thermalPath, "--overlay", overlay])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("affine from 4 point pairs"))
        let homography = try Homography(contentsOf: URL(fileURLWithPath: out))
        let expected: [Double] = [1, 0, -4, 0, 1, 3, 0, 0, 1]
        for (got, want) in zip(homography.matrix, expected) { #expect(abs(got - want) < 1e-9) }
        let probed = try ffprobe(overlay)
        #expect(probed.codec == "png" && probed.width == 64 && probed.height == 48)
    }

    @Test("calibrate fails in one line on too few points and on a malformed line")
    func calibrateBadPoints() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let few = folder.file("few.csv"), bad = folder.file("bad.csv")
        try "1,2,3,4\n5,6,7,8\n".write(toFile: few, atomically: true, encoding: .utf8)
        try "vx,vy,tx,ty\n1,2,3,4\n5,6,7\n".write(toFile: bad, atomically: true, encoding: .utf8)
        expectOneLineFailure(try runProcess(thermocolorBinary, ["calibrate", "--points", few, "--out", folder.file("h.json")]),
                             mentioning: ["at least 3 point pairs", "got 2"])
        expectOneLineFailure(try runProcess(thermocolorBinary, ["calibrate", "--points", bad, "--out", folder.file("h.json")]),
                             mentioning: ["line 3", "vx,vy,tx,ty"])
        #expect(!FileManager.default.fileExists(atPath: folder.file("h.json")))
    }

    // MARK: bench-fusion

    @Test("bench-fusion prints a line per method against the baseline")
    func benchFusion() throws {
        let result = try runProcess(thermocolorBinary, ["bench-fusion", "--size", "48x32", "--frames", "2"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("baseline"))
        for method in FusionMethod.allCases {
            #expect(result.output.contains("fuse \(method.rawValue)"), "no line for \(method.rawValue): \(result.output)")
        }
        #expect(try runProcess(thermocolorBinary, ["bench-fusion", "--size", "big"]).status != 0)
    }
}
