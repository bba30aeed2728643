import Imaging
import Testing

@Suite("Reference colour transfer")
struct ReferenceColorTransferTests {
    /// Dark blue at the top to bright orange at the bottom, with texture:
    /// lightness and b rise together.
    static let reference = TestImages.rgb(width: 120, height: 90) { x, y in
        let t = Double(y) / 89, wobble = Double((x * 7 + y * 13) % 21) - 10
        return (20 + 220 * t + wobble, 30 + 130 * t + wobble, 90 - 30 * t + wobble)
    }
    /// A grey thermal frame with other statistics: a ramp over 40…140.
    static let thermal = TestImages.grey(width: 100, height: 80) { x, y in 40 + Double(x) + Double(y % 3) }

    struct LabStatistics {
        var mean: SIMD3<Double>, deviation: SIMD3<Double>
        init(_ image: RGBImage) {
            let lab = ColorConversion.labPlanes(of: image)
            let planes = [lab.l, lab.a, lab.b].map { $0.samples.map(Double.init) }
            mean = SIMD3(planes.map(TestImages.mean))
            deviation = SIMD3(planes.map(TestImages.deviation))
        }
    }

    @Test("global transfer moves lightness mean and spread, and a/b means, to the reference's")
    func globalStatistics() throws {
        let transfer = try ReferenceColorTransfer(reference: Self.reference, regions: 1)
        let output = LabStatistics(transfer.colorize(Self.thermal))
        let target = LabStatistics(Self.reference)
        #expect(abs(output.mean.x - target.mean.x) < 1.5, "L mean \(output.mean.x) vs \(target.mean.x)")
        #expect(abs(output.deviation.x / target.deviation.x - 1) < 0.1, "L spread \(output.deviation.x) vs \(target.deviation.x)")
        #expect(abs(output.mean.y - target.mean.y) < 3, "a mean \(output.mean.y) vs \(target.mean.y)")
        #expect(abs(output.mean.z - target.mean.z) < 3, "b mean \(output.mean.z) vs \(target.mean.z)")
        // b follows lightness in the reference, so its spread carries over too.
        #expect(output.deviation.z > 0.6 * target.deviation.z)
    }

    @Test("region transfer matches statistics and gives dark and bright parts their own colours")
    func regionStatistics() throws {
        let transfer = try ReferenceColorTransfer(reference: Self.reference, regions: 3)
        let colored = transfer.colorize(Self.thermal)
        let output = LabStatistics(colored)
        let target = LabStatistics(Self.reference)
        #expect(abs(output.mean.x - target.mean.x) < 2, "L mean \(output.mean.x) vs \(target.mean.x)")
        #expect(abs(output.deviation.x / target.deviation.x - 1) < 0.15, "L spread \(output.deviation.x) vs \(target.deviation.x)")
        #expect(abs(output.mean.z - target.mean.z) < 4, "b mean \(output.mean.z) vs \(target.mean.z)")
        let dark = ColorConversion.lab(red: colored[2, 40, 0], green: colored[2, 40, 1], blue: colored[2, 40, 2])
        let bright = ColorConversion.lab(red: colored[97, 40, 0], green: colored[97, 40, 1], blue: colored[97, 40, 2])
        #expect(dark.z < 0, "dark thermal pixels should turn blue, b = \(dark.z)")
        #expect(bright.z > 20, "bright thermal pixels should turn orange, b = \(bright.z)")
        #expect(bright.x > dark.x + 30)
    }

    @Test("colours change smoothly from grey level to grey level", arguments: [1, 3, 5])
    func noSeams(regions: Int) throws {
        let transfer = try ReferenceColorTransfer(reference: Self.reference, regions: regions)
        let table = transfer.lookupTable(for: Self.thermal)
        var worst = 0
        for level in 40..<142 {
            for c in 0..<3 { worst = max(worst, abs(Int(table[3 * (level + 1) + c]) - Int(table[3 * level + c]))) }
        }
        #expect(worst <= 8, "a step of \(worst) between neighbouring grey levels")
    }

    @Test("every pixel of one grey level gets one colour, and output storage is reused")
    func lookupConsistency() throws {
        let transfer = try ReferenceColorTransfer(reference: Self.reference)
        let table = transfer.lookupTable(for: Self.thermal)
        var output = RGBImage(width: 100, height: 80, channels: 3, repeating: 0)
        transfer.colorize(Self.thermal, into: &output)
        for i in stride(from: 0, to: Self.thermal.pixelCount, by: 37) {
            let level = Int(Self.thermal.samples[i])
            #expect(Array(output.samples[(3 * i)..<(3 * i + 3)]) == Array(table[(3 * level)..<(3 * level + 3)]))
        }
    }

    @Test("a flat frame and an RGB frame are handled")
    func unusualFrames() throws {
        let transfer = try ReferenceColorTransfer(reference: Self.reference)
        let flat = transfer.colorize(Gray8Image(width: 8, height: 8, repeating: 128))
        #expect(Set(stride(from: 0, to: flat.samples.count, by: 3).map { flat.samples[$0] }).count == 1)
        let fromRGB = transfer.colorize(Self.reference.raster)
        #expect(fromRGB.width == Self.reference.width && fromRGB.channels == 3)
    }

    @Test("unusable references are refused with a clear error")
    func badReference() {
        #expect(throws: ColorTransferError.invalidRegionCount(0)) {
            try ReferenceColorTransfer(reference: Self.reference, regions: 0)
        }
        #expect(throws: ColorTransferError.empty) {
            try ReferenceColorTransfer(reference: RGBImage(width: 0, height: 0, channels: 3, samples: []))
        }
    }
}
