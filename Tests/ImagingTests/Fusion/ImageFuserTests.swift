import Imaging
import Testing

@Suite("Image fusion")
struct ImageFuserTests {
    static let width = 160, height = 120
    /// The thermal-only hot target.
    static let target = (x: 56..<88, y: 40..<72)

    /// Thermal: a flat 60 background with a 200 square the visible camera
    /// cannot see. Visible: 4-pixel vertical stripes (Y ≈ 85 / 165) of one
    /// warm hue everywhere, so any luminance change inside the square comes
    /// from the thermal frame.
    static let thermal = TestImages.grey(width: width, height: height) { x, y in
        target.x.contains(x) && target.y.contains(y) ? 200 : 60
    }
    static let visible = TestImages.rgb(width: width, height: height) { x, _ in
        let v: Double = (x / 4) % 2 == 0 ? 80 : 160
        return (v + 30, v, v - 30)
    }

    static func luma(_ image: RGBImage, xs: Range<Int>, ys: Range<Int>) -> [Double] {
        ys.flatMap { y in xs.map { x in Double(TestImages.ycbcr(image, y * image.width + x).x) } }
    }

    @Test("the hot target appears in the fused luminance", arguments: FusionMethod.allCases)
    func hotTargetAppears(method: FusionMethod) throws {
        var fuser = ImageFuser(method: method)
        let fused = try fuser.fuse(thermal: Self.thermal, visible: Self.visible)
        // Same stripes, same count of each phase: inside vs. a band to the left.
        let inside = TestImages.mean(Self.luma(fused, xs: 60..<84, ys: 44..<68))
        let outside = TestImages.mean(Self.luma(fused, xs: 8..<32, ys: 44..<68))
        let visibleInside = TestImages.mean(Self.luma(Self.visible, xs: 60..<84, ys: 44..<68))
        let visibleOutside = TestImages.mean(Self.luma(Self.visible, xs: 8..<32, ys: 44..<68))
        #expect(abs(visibleInside - visibleOutside) < 0.5)
        #expect(inside - outside > 25, "\(method): target only \(inside - outside) brighter")
    }

    @Test("visible texture survives away from the target", arguments: FusionMethod.allCases)
    func textureKept(method: FusionMethod) throws {
        var fuser = ImageFuser(method: method)
        let fused = try fuser.fuse(thermal: Self.thermal, visible: Self.visible)
        let region = (xs: 8..<40, ys: 8..<32)
        let fusedLuma = Self.luma(fused, xs: region.xs, ys: region.ys)
        let visibleLuma = Self.luma(Self.visible, xs: region.xs, ys: region.ys)
        let ratio = TestImages.deviation(fusedLuma) / TestImages.deviation(visibleLuma)
        #expect(ratio > 0.6, "\(method) keeps \(ratio) of the stripes' contrast")
        // And the stripes stay where they were: strong positive correlation.
        let mf = TestImages.mean(fusedLuma), mv = TestImages.mean(visibleLuma)
        let covariance = zip(fusedLuma, visibleLuma).reduce(0.0) { $0 + ($1.0 - mf) * ($1.1 - mv) } / Double(fusedLuma.count)
        let correlation = covariance / (TestImages.deviation(fusedLuma) * TestImages.deviation(visibleLuma))
        #expect(correlation > 0.95, "\(method) stripe correlation \(correlation)")
    }

    @Test("visible chroma is kept", arguments: FusionMethod.allCases)
    func chromaKept(method: FusionMethod) throws {
        var fuser = ImageFuser(method: method)
        let fused = try fuser.fuse(thermal: Self.thermal, visible: Self.visible)
        var worst: Float = 0, checked = 0
        for i in 0..<fused.pixelCount {
            // Clipping at 0 or 255 legitimately bends chroma; skip those pixels.
            let rgb = fused.samples[(3 * i)..<(3 * i + 3)]
            if rgb.contains(0) || rgb.contains(255) { continue }
            let f = TestImages.ycbcr(fused, i), v = TestImages.ycbcr(Self.visible, i)
            worst = max(worst, abs(f.y - v.y), abs(f.z - v.z))
            checked += 1
        }
        #expect(checked > fused.pixelCount / 2)
        #expect(worst < 1.5, "\(method) moved chroma by \(worst)")
    }

    @Test("fusing a frame with its own luminance changes little", arguments: [FusionMethod.pyramid, .guided, .weighted, .max])
    func selfFusionIsNearIdentity(method: FusionMethod) throws {
        let visible = TestImages.rgb(width: 97, height: 61) { x, y in
            (Double((x * 5 + y * 3) % 200 + 20), Double((x * 2 + y * 7) % 180 + 30), Double((x * y) % 150 + 40))
        }
        let thermal = TestImages.grey(width: 97, height: 61) { x, y in
            Double(TestImages.ycbcr(visible, y * 97 + x).x)
        }
        var fuser = ImageFuser(method: method)
        let fused = try fuser.fuse(thermal: thermal, visible: visible)
        var worst = 0
        for i in 0..<fused.samples.count { worst = max(worst, abs(Int(fused.samples[i]) - Int(visible.samples[i]))) }
        #expect(worst <= 3, "\(method) changed a pixel by \(worst)")
    }

    @Test("a fuser reused across frames and sizes gives the same result as a fresh one")
    func reuse() throws {
        var reused = ImageFuser()
        let first = try reused.fuse(thermal: Self.thermal, visible: Self.visible)
        let smallThermal = TestImages.grey(width: 33, height: 17) { x, y in Double(x * 7 + y) }
        let smallVisible = TestImages.rgb(width: 33, height: 17) { x, y in (Double(x), Double(y * 9), 90) }
        var fresh = ImageFuser()
        #expect(try reused.fuse(thermal: smallThermal, visible: smallVisible) == fresh.fuse(thermal: smallThermal, visible: smallVisible))
        var copy = reused
        #expect(try copy.fuse(thermal: Self.thermal, visible: Self.visible) == first)
        #expect(try reused.fuse(thermal: Self.thermal, visible: Self.visible) == first)
    }

    @Test("tiny frames fuse without trouble", arguments: FusionMethod.allCases)
    func tinyFrames(method: FusionMethod) throws {
        var fuser = ImageFuser(method: method)
        for (w, h) in [(1, 1), (2, 3), (5, 4)] {
            let fused = try fuser.fuse(thermal: Gray8Image(width: w, height: h, repeating: 100),
                                       visible: RGBImage(width: w, height: h, channels: 3, repeating: 100))
            #expect(fused.width == w && fused.height == h && fused.channels == 3)
        }
    }

    @Test("mismatched frames are refused with a clear error")
    func badInput() {
        var fuser = ImageFuser()
        #expect(throws: FusionError.sizeMismatch(thermal: "160×120", visible: "10×10")) {
            try fuser.fuse(thermal: Self.thermal, visible: RGBImage(width: 10, height: 10, channels: 3, repeating: 0))
        }
        #expect(throws: FusionError.wrongChannels(image: "thermal", expected: 1, got: 3)) {
            try fuser.fuse(thermal: Raster(width: 10, height: 10, channels: 3, repeating: 0),
                           visible: RGBImage(width: 10, height: 10, repeating: 0))
        }
        let message = FusionError.sizeMismatch(thermal: "160×120", visible: "10×10").description
        #expect(message.contains("160×120") && message.contains("10×10"))
    }
}
