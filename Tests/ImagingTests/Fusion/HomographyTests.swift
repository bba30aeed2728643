import Foundation
import Imaging
import Testing

@Suite("Homography")
struct HomographyTests {
    /// A visible → thermal map with rotation, scale, shift and some perspective.
    static let truth = try! Homography(matrix: [0.52, -0.03, 12.5, 0.02, 0.49, -7.25, 2e-5, -1.5e-5, 1])

    static func pairs(_ points: [SIMD2<Double>], through h: Homography) -> [PointCorrespondence] {
        points.map { PointCorrespondence(visible: $0, thermal: h.map($0)!) }
    }

    static func maxEntryDifference(_ a: Homography, _ b: Homography) -> Double {
        zip(a.matrix, b.matrix).map { abs($0 - $1) }.max()!
    }

    @Test("four exact pairs recover the homography")
    func exactFourPoints() throws {
        let points: [SIMD2<Double>] = [[40, 30], [1200, 60], [1180, 900], [70, 950]]
        let estimated = try Homography.estimate(from: Self.pairs(points, through: Self.truth))
        #expect(Self.maxEntryDifference(estimated, Self.truth) < 1e-9)
        #expect(estimated.reprojectionError(Self.pairs(points, through: Self.truth)).maximum < 1e-6)
    }

    @Test("many exact pairs recover the homography by least squares")
    func exactManyPoints() throws {
        let points = (0..<25).map { i in SIMD2<Double>(Double(i % 5) * 300 + 17, Double(i / 5) * 230 + 11) }
        let estimated = try Homography.estimate(from: Self.pairs(points, through: Self.truth))
        #expect(Self.maxEntryDifference(estimated, Self.truth) < 1e-9)
    }

    @Test("noisy pairs give a small error")
    func noisyPoints() throws {
        var state: UInt64 = 42
        func noise() -> Double {   // uniform in ±0.5 pixel
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53) - 0.5
        }
        let points = (0..<40).map { i in SIMD2<Double>(Double(i % 8) * 160 + 20, Double(i / 8) * 220 + 15) }
        let noisy = Self.pairs(points, through: Self.truth).map {
            PointCorrespondence(visible: $0.visible, thermal: $0.thermal + SIMD2(noise(), noise()))
        }
        let estimated = try Homography.estimate(from: noisy)
        let error = estimated.reprojectionError(noisy)
        #expect(error.rms < 0.5, "rms \(error.rms)")
        // Away from the calibration points the fit still lands within a pixel of the truth.
        for probe: SIMD2<Double> in [[600, 500], [100, 900], [1100, 100]] {
            let d = estimated.map(probe)! - Self.truth.map(probe)!
            #expect((d.x * d.x + d.y * d.y).squareRoot() < 1)
        }
    }

    @Test("three pairs give the exact affine transform")
    func affineThreePoints() throws {
        let affine = try Homography(matrix: [0.5, 0.1, 20, -0.05, 0.45, 8, 0, 0, 1])
        let points: [SIMD2<Double>] = [[10, 10], [600, 40], [300, 400]]
        let pairs = Self.pairs(points, through: affine)
        #expect(Self.maxEntryDifference(try Homography.estimateAffine(from: pairs), affine) < 1e-9)
        // estimate(from:) with three pairs falls back to the affine fit.
        #expect(Self.maxEntryDifference(try Homography.estimate(from: pairs), affine) < 1e-9)
    }

    @Test("degenerate input is refused with a clear error")
    func degenerate() {
        #expect(throws: HomographyError.tooFewPoints(needed: 3, got: 2)) {
            try Homography.estimate(from: [(visible: SIMD2(0, 0), thermal: SIMD2(0, 0)), (visible: SIMD2(1, 1), thermal: SIMD2(1, 1))])
        }
        let collinear = (0..<6).map { i in PointCorrespondence(visible: [Double(i) * 10, Double(i) * 5], thermal: [Double(i) * 4, Double(i) * 2]) }
        #expect(throws: HomographyError.self) { try Homography.estimate(from: collinear) }
        #expect(throws: HomographyError.self) { try Homography.estimateAffine(from: Array(collinear.prefix(3))) }
        #expect(throws: HomographyError.invalidMatrix("expected 9 numbers, got 3")) { try Homography(matrix: [1, 2, 3]) }
        #expect(throws: HomographyError.self) { try Homography(matrix: [1, 0, 0, 0, 0, 0, 0, 0, 1]) }
    }

    @Test("identity warp returns the image unchanged")
    func identityWarp() {
        let image = TestImages.rgb(width: 23, height: 17) { x, y in (Double(x * 11), Double(y * 15), Double((x + y) * 6)) }
        #expect(Homography.identity.warp(image, toWidth: 23, height: 17) == image)
    }

    @Test("translation warp shifts pixels and blackens what it uncovers")
    func translationWarp() {
        let image = TestImages.rgb(width: 20, height: 12) { x, y in (Double(x * 12 + 1), Double(y * 20 + 1), 77) }
        // thermal = visible + (3, 2): thermal pixel (x, y) shows visible (x − 3, y − 2).
        let warped = Homography.translation(dx: 3, dy: 2).warp(image, toWidth: 20, height: 12)
        for y in 0..<12 {
            for x in 0..<20 {
                for c in 0..<3 {
                    let expected: UInt8 = x >= 3 && y >= 2 ? image[x - 3, y - 2, c] : 0
                    #expect(warped[x, y, c] == expected)
                }
            }
        }
    }

    @Test("half-pixel shifts interpolate bilinearly")
    func bilinear() {
        let image = TestImages.grey(width: 4, height: 1) { x, _ in Double(x * 80) }
        let warped = Homography.translation(dx: -0.5, dy: 0).warp(image, toWidth: 3, height: 1)
        #expect(warped.samples == [40, 120, 200])
    }

    @Test("warping a visible frame onto the thermal grid lines it up with the thermal frame")
    func registration() {
        // A bright square at visible (40…59, 30…49) must land at the thermal
        // position the homography gives for its centre.
        let visible = TestImages.rgb(width: 160, height: 120) { x, y in
            (40..<60).contains(x) && (30..<50).contains(y) ? (250, 250, 250) : (10, 10, 10)
        }
        let h = try! Homography(matrix: [0.5, 0, 5, 0, 0.5, 3, 0, 0, 1])
        let warped = h.warp(visible, toWidth: 80, height: 60)
        let centre = h.map([49.5, 39.5])!
        #expect(warped[Int(centre.x.rounded()), Int(centre.y.rounded()), 0] > 240)
        #expect(warped[2, 2, 0] < 20)
    }

    @Test("the JSON file round-trips and reports bad files by name")
    func fileRoundTrip() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("homography-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("calibration.json")
        try Self.truth.write(to: url)
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text.hasPrefix(#"{"homography":["#))
        #expect(try Homography(contentsOf: url) == Self.truth)

        let identity = directory.appendingPathComponent("identity.json")
        try #"{"homography":[1,0,0,0,1,0,0,0,1]}"#.write(to: identity, atomically: true, encoding: .utf8)
        #expect(try Homography(contentsOf: identity) == .identity)

        let broken = directory.appendingPathComponent("broken.json")
        try #"{"homography":[1,2]}"#.write(to: broken, atomically: true, encoding: .utf8)
        do {
            _ = try Homography(contentsOf: broken)
            Issue.record("a two-number matrix loaded")
        } catch let error as HomographyError {
            #expect(error.description.contains("broken.json") && error.description.contains("9 numbers"))
        }
        #expect(throws: HomographyError.self) { try Homography(contentsOf: directory.appendingPathComponent("missing.json")) }
    }
}
