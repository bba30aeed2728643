import Foundation
import Imaging
import Testing

/// Checks the metrics against the values VIFB's own MATLAB code reported for
/// the GFF and CBF fusions of its 21 image pairs.
@Suite("VIFB metric agreement")
struct VIFBAgreementTests {
    /// Reference values by image, method and metric name.
    static let reference: [String: [String: [String: Double]]] = {
        guard let vifb = DevelopmentData.vifb,
              let text = try? String(contentsOf: vifb.appendingPathComponent("reference/metrics.csv"), encoding: .utf8)
        else { return [:] }
        var table: [String: [String: [String: Double]]] = [:]
        for line in text.split(whereSeparator: \.isNewline).dropFirst() {
            let fields = line.split(separator: ",").map(String.init)
            guard fields.count == 4, let value = Double(fields[3]) else { continue }
            table[fields[0], default: [:]][fields[1], default: [:]][fields[2]] = value
        }
        return table
    }()

    /// Debug builds score every fourth pair (Qcb and Qcv are slow unoptimised)
    /// to keep the suite's time down; THERMOCOLOR_VIFB_ALL=1 or a release build
    /// scores all 21. docs/FUSION.md has the full table from `thermocolor eval`.
    static let images: [String] = {
        let all = reference.keys.sorted()
        #if DEBUG
        if ProcessInfo.processInfo.environment["THERMOCOLOR_VIFB_ALL"] != "1" {
            return stride(from: 0, to: all.count, by: 4).map { all[$0] }
        }
        #endif
        return all
    }()

    /// JPEG decoders differ slightly (FFmpeg here, libjpeg in MATLAB), and
    /// the reference is printed to five significant digits; 1% covers both.
    static let tolerance = 0.01

    // Skips where ../shared/data is absent: the data is never in the repository.
    @Test("metrics match VIFB for GFF and CBF", .enabled(if: DevelopmentData.hasVIFB, "no ../shared/data/vifb on this machine"),
          arguments: images)
    func matchesReference(image: String) throws {
        let vifb = try #require(DevelopmentData.vifb)
        let infrared = try FFmpegImageLoader.load(vifb.appendingPathComponent("ir/\(image).jpg"))
        let visible = try FFmpegImageLoader.load(vifb.appendingPathComponent("vi/\(image).jpg"))
        for method in ["GFF", "CBF"] {
            let fused = try FFmpegImageLoader.load(vifb.appendingPathComponent("reference/fused/\(image)_\(method).jpg"))
            let expected = try #require(Self.reference[image]?[method], "no reference rows for \(image) \(method)")
            let metrics = try FusionMetrics.evaluate(fused: fused, infrared: infrared, visible: visible)
            var report: [String] = []
            for metric in FusionMetric.allCases {
                guard let want = expected[metric.name], let got = metrics[metric] else { continue }
                let relative = abs(got - want) / max(abs(want), 1e-12)
                report.append("\(metric.name)=\(got) ref \(want) rel \(relative)")
                #expect(relative <= Self.tolerance, "\(image) \(method) \(metric.name): \(got) vs VIFB \(want)")
            }
            print("VIFB \(image) \(method): " + report.joined(separator: "; "))
        }
    }
}
