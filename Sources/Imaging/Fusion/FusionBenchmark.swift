/// Times the fusion methods, colour transfer and registration warp on a
/// synthetic frame pair, for a `bench-fusion` style command.
///
/// Absolute numbers depend on the machine and its load, so each line also
/// gives its cost relative to a baseline measured in the same run: one pass
/// that converts the visible frame to luma and writes it back as RGB, the
/// minimum any luminance fusion must do.
package enum FusionBenchmark {
    /// Runs every measurement for `frames` frames of `width` × `height` and
    /// returns a plain-text report, one line per measurement.
    package static func run(width: Int = 640, height: Int = 512, frames: Int = 200) -> String {
        let width = max(8, width), height = max(8, height), frames = max(1, frames)
        let (thermal, visible) = syntheticPair(width: width, height: height)
        var lines = ["fusion benchmark: \(width)×\(height), \(frames) frames, \(RowBands.coreCount) cores"]

        var output = RGBImage(width: width, height: height, channels: 3, repeating: 0)
        let baseline = seconds(frames: frames) {
            lumaRoundTrip(visible, into: &output)
        }
        lines.append(line("baseline (RGB→Y→RGB)", baseline, baseline))

        for method in FusionMethod.allCases {
            var fuser = ImageFuser(method: method)
            let time = seconds(frames: frames) {
                // Sizes match by construction, so this cannot throw.
                try? fuser.fuse(thermal: thermal, visible: visible, into: &output)
            }
            lines.append(line("fuse \(method.rawValue)", time, baseline))
        }

        if let transfer = try? ReferenceColorTransfer(reference: visible, regions: 3) {
            let time = seconds(frames: frames) { transfer.colorize(thermal, into: &output) }
            lines.append(line("colour transfer (3 regions)", time, baseline))
        }

        let homography = (try? Homography(matrix: [1.02, 0.01, -4, -0.01, 1.01, 3, 1e-5, 0, 1])) ?? .identity
        let time = seconds(frames: max(1, frames / 4)) {
            output = homography.warp(visible, toWidth: width, height: height)
        }
        lines.append(line("warp (homography, bilinear)", time, baseline))
        return lines.joined(separator: "\n")
    }

    private static func line(_ name: String, _ secondsPerFrame: Double, _ baseline: Double) -> String {
        let milliseconds = secondsPerFrame * 1000
        let fps = secondsPerFrame > 0 ? 1 / secondsPerFrame : .infinity
        let ratio = baseline > 0 ? secondsPerFrame / baseline : .nan
        return "\(name.padding(toLength: 30, withPad: " ", startingAt: 0)) "
            + "\(format(milliseconds, 3)) ms/frame  \(format(fps, 1)) fps  \(format(ratio, 1))× baseline"
    }

    private static func format(_ value: Double, _ decimals: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        return "\(rounded)"
    }

    /// Mean seconds per call of `body` over `frames` calls, after two warm-up calls.
    private static func seconds(frames: Int, _ body: () -> Void) -> Double {
        body(); body()
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for _ in 0..<frames { body() }
        }
        let components = elapsed.components
        return (Double(components.seconds) + Double(components.attoseconds) * 1e-18) / Double(frames)
    }

    private static func lumaRoundTrip(_ visible: RGBImage, into output: inout RGBImage) {
        let n = visible.pixelCount
        visible.samples.withUnsafeBufferPointer { source in
            output.samples.withUnsafeMutableBufferPointer { destination in
                let src = source.baseAddress!, dst = destination.baseAddress!
                RowBands.run(rows: visible.height, samplesPerRow: visible.width * 3) { rows in
                    let start = rows.lowerBound * visible.width, end = min(n, rows.upperBound * visible.width)
                    for i in start..<end {
                        let luma = 0.299 * Float(src[3 * i]) + 0.587 * Float(src[3 * i + 1]) + 0.114 * Float(src[3 * i + 2])
                        let byte = UInt8(min(255, luma) + 0.5)
                        dst[3 * i] = byte; dst[3 * i + 1] = byte; dst[3 * i + 2] = byte
                    }
                }
            }
        }
    }

    /// A thermal frame with warm blobs on a gradient and a colourful visible
    /// frame with stripes and noise: enough structure to exercise every path.
    static func syntheticPair(width: Int, height: Int) -> (thermal: Gray8Image, visible: RGBImage) {
        var state: UInt32 = 0x1234_5678
        func noise() -> Float {
            state = state &* 1_664_525 &+ 1_013_904_223
            return Float(state >> 24) / 255 - 0.5
        }
        var thermal = [UInt8](repeating: 0, count: width * height)
        var visible = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let fx = Float(x) / Float(width), fy = Float(y) / Float(height)
                var heat = 50 + 40 * fy + 6 * noise()
                for (cx, cy, r) in [(0.3, 0.4, 0.08), (0.7, 0.6, 0.12)] as [(Float, Float, Float)] {
                    let d = ((fx - cx) * (fx - cx) + (fy - cy) * (fy - cy)).squareRoot()
                    if d < r { heat += 120 * (1 - d / r) }
                }
                thermal[y * width + x] = ColorConversion.clampToByte(heat)
                let stripe: Float = (x / 8 + y / 8) % 2 == 0 ? 40 : -40
                let base = 120 + stripe + 20 * noise()
                visible[3 * (y * width + x)] = ColorConversion.clampToByte(base + 30 * fx)
                visible[3 * (y * width + x) + 1] = ColorConversion.clampToByte(base)
                visible[3 * (y * width + x) + 2] = ColorConversion.clampToByte(base - 30 * fy)
            }
        }
        return (Gray8Image(width: width, height: height, samples: thermal),
                RGBImage(width: width, height: height, channels: 3, samples: visible))
    }
}
