import Foundation  // sin for per-frame motion only; the pixel loops use integers.

/// Makes a deterministic synthetic thermal video for samples, demos and
/// tests when no camera or recording is at hand.
///
/// The scene: a cool sky with a vertical gradient above a horizon, warmer
/// ground, a sun-warmed road with lane marks, buildings with warm windows;
/// people (ellipses with warmer heads) walking along the pavement and a
/// vehicle with hot wheels, engine and exhaust driving along the road.
/// On top come what a real microbolometer adds: per-pixel noise, fixed
/// column offsets and a slow drift of the whole level. All of it follows
/// from the seed; the same seed gives the same frames.
///
/// Levels are fractions of the full scale `2^significantBits` (sky ≈ 0.37,
/// ground ≈ 0.48, people ≈ 0.57–0.61, engine ≈ 0.68), so the scene looks
/// alike at any bit depth.
package struct ThermalSceneSynthesizer: Sendable {
    package let width: Int
    package let height: Int
    package let significantBits: Int
    package let seed: UInt64
    /// Index of the frame the next call returns, counting from 0.
    package private(set) var frameIndex = 0

    /// The static scene without noise, as counts.
    private let background: [UInt16]
    /// Fixed-pattern offset of each column, as counts.
    private let columnOffsets: [Int32]
    private let people: [Walker]
    private let vehicle: Vehicle
    private var noise: SplitMix64
    /// Noise per unit of the triangular variate, in 1/4096 counts.
    private let noiseGain: Int32
    private let maximumCount: Int32

    /// - Throws: `ImagingError` when the size is not positive or the bit depth is not 8–16.
    package init(width: Int, height: Int, significantBits: Int = 14, seed: UInt64 = 1) throws(ImagingError) {
        guard width > 0, height > 0 else {
            throw ImagingError("thermal scene: size must be positive, got \(width)×\(height)")
        }
        guard (8...16).contains(significantBits) else {
            throw ImagingError("thermal scene: significant bits must be 8–16, got \(significantBits)")
        }
        self.width = width
        self.height = height
        self.significantBits = significantBits
        self.seed = seed
        let fullScale = Double(1 << significantBits)
        maximumCount = Int32((1 << significantBits) - 1)

        var layout = SplitMix64(seed: seed)
        background = Self.paintBackground(width: width, height: height, fullScale: fullScale, random: &layout)

        // Column offsets uniform within ±0.175 % of full scale (σ ≈ 16 counts at 14 bits).
        columnOffsets = (0..<width).map { _ in
            Int32((layout.nextUnit() - 0.5) * 0.0035 * fullScale)
        }

        let scale = Double(width) / 640
        people = (0..<4).map { _ in
            Walker(
                startX: layout.nextUnit() * Double(width),
                speed: (0.6 + 1.8 * layout.nextUnit()) * scale * (layout.nextUnit() < 0.5 ? -1 : 1),
                footY: (0.60 + 0.07 * layout.nextUnit()) * Double(height),
                bodyHeight: (0.13 + 0.05 * layout.nextUnit()) * Double(height),
                stridePhase: layout.nextUnit() * 6.283
            )
        }
        vehicle = Vehicle(
            startX: layout.nextUnit() * Double(width),
            speed: (2.5 + 2.5 * layout.nextUnit()) * scale * (layout.nextUnit() < 0.5 ? -1 : 1),
            baseY: (0.80 + 0.03 * layout.nextUnit()) * Double(height),
            length: 0.22 * Double(width),
            bodyHeight: 0.09 * Double(height)
        )

        // σ ≈ 0.09 % of full scale (≈ 15 counts at 14 bits): two uniform bytes
        // summed give a triangular variate with σ ≈ 104.5.
        noiseGain = Int32((0.0009 * fullScale / 104.5 * 4096).rounded())
        noise = SplitMix64(seed: seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next frame of the video.
    package mutating func nextFrame() -> Gray16Image {
        var frame = Gray16Image(width: width, height: height, repeating: 0)
        nextFrame(into: &frame)
        return frame
    }

    /// Writes the next frame into `frame`, reallocating it only when its
    /// shape differs.
    package mutating func nextFrame(into frame: inout Gray16Image) {
        if frame.width != width || frame.height != height || frame.channels != 1 {
            frame = Gray16Image(width: width, height: height, repeating: 0)
        }
        let time = Double(frameIndex)
        frameIndex += 1
        let fullScale = Double(1 << significantBits)

        frame.samples.withUnsafeMutableBufferPointer { pixels in
            background.withUnsafeBufferPointer { scene in
                _ = pixels.update(fromContentsOf: scene)
            }
            let canvas = Canvas(pixels: pixels, width: width, height: height, fullScale: fullScale)
            vehicle.paint(on: canvas, time: time)
            for walker in people {
                walker.paint(on: canvas, time: time)
            }
        }

        // The whole image drifts slowly, as an uncooled sensor's does between
        // shutter corrections: ±1.2 % of full scale over ~15 s at 30 fps.
        let drift = Int32((0.012 * sin(time * 2 * .pi / 450) + 0.004 * sin(time * 2 * .pi / 131 + 1)) * fullScale)
        addSensorArtifacts(to: &frame.samples, drift: drift)
    }

    /// Where frame `index` draws each person's torso centre, for checks that
    /// warm objects really are warm.
    func walkerCenters(inFrame index: Int) -> [(x: Int, y: Int)] {
        people.map { walker in
            let placement = walker.placement(time: Double(index), width: width)
            return (Int(placement.x.rounded()), Int((placement.footY - walker.bodyHeight * 0.58).rounded()))
        }
    }

    // MARK: Sensor

    private mutating func addSensorArtifacts(to samples: inout [UInt16], drift: Int32) {
        let width = self.width, height = self.height
        let gain = noiseGain, maximum = maximumCount
        var random = noise
        samples.withUnsafeMutableBufferPointer { pixels in
            columnOffsets.withUnsafeBufferPointer { offsets in
                for y in 0..<height {
                    let row = y &* width
                    var x = 0
                    // One 64-bit draw gives four pixels two bytes each.
                    while x < width {
                        var bits = random.next()
                        let end = min(x &+ 4, width)
                        while x < end {
                            let triangular = Int32(truncatingIfNeeded: bits & 0xFF) &+ Int32(truncatingIfNeeded: (bits >> 8) & 0xFF) &- 255
                            bits >>= 16
                            let noise = (triangular &* gain &+ 2048) >> 12
                            let value = Int32(pixels[row &+ x]) &+ offsets[x] &+ drift &+ noise
                            pixels[row &+ x] = UInt16(truncatingIfNeeded: min(maximum, max(0, value)))
                            x &+= 1
                        }
                    }
                }
            }
        }
        noise = random
    }

    // MARK: Static scene

    private static func paintBackground(width: Int, height: Int, fullScale: Double, random: inout SplitMix64) -> [UInt16] {
        var scene = [UInt16](repeating: 0, count: width * height)
        let horizon = Int(0.42 * Double(height))
        let roadTop = Int(0.70 * Double(height)), roadBottom = Int(0.90 * Double(height))
        let laneY = (roadTop + roadBottom) / 2
        let laneThickness = max(1, height / 170)
        let dashLength = max(2, width / 16)

        scene.withUnsafeMutableBufferPointer { pixels in
            let canvas = Canvas(pixels: pixels, width: width, height: height, fullScale: fullScale)
            for y in 0..<height {
                let level: Double
                if y < horizon {
                    // Sky: coldest overhead, a little warmer towards the horizon.
                    level = 0.36 + 0.06 * Double(y) / Double(max(1, horizon))
                } else {
                    level = 0.46 + 0.04 * Double(y - horizon) / Double(max(1, height - horizon))
                }
                canvas.fillRectangle(x: 0, y: y, width: width, height: 1, level: level)
            }
            // Asphalt stores the day's heat; painted lane marks stay cooler.
            canvas.fillRectangle(x: 0, y: roadTop, width: width, height: roadBottom - roadTop, level: 0.52)
            for dash in stride(from: 0, to: width, by: 2 * dashLength) {
                canvas.fillRectangle(x: dash, y: laneY - laneThickness / 2, width: dashLength, height: laneThickness, level: 0.49)
            }
            // A kerb line where pavement meets road.
            canvas.fillRectangle(x: 0, y: roadTop - max(1, height / 128), width: width, height: max(1, height / 128), level: 0.475)

            // Buildings standing on the horizon, with a grid of windows of
            // which some are lit (warm) and some dark.
            var left = Int(random.nextUnit() * 0.05 * Double(width))
            while left < width {
                let buildingWidth = Int((0.08 + 0.10 * random.nextUnit()) * Double(width))
                let buildingHeight = Int((0.10 + 0.16 * random.nextUnit()) * Double(height))
                let wallLevel = 0.445 + 0.02 * random.nextUnit()
                let top = horizon - buildingHeight
                canvas.fillRectangle(x: left, y: top, width: buildingWidth, height: buildingHeight, level: wallLevel)
                let windowSize = max(1, buildingWidth / 10)
                var windowY = top + windowSize
                while windowY + windowSize < horizon - windowSize {
                    var windowX = left + windowSize
                    while windowX + windowSize < left + buildingWidth - windowSize / 2 {
                        let lit = random.nextUnit() < 0.4
                        canvas.fillRectangle(x: windowX, y: windowY, width: windowSize, height: windowSize,
                                             level: lit ? 0.50 + 0.04 * random.nextUnit() : wallLevel - 0.01)
                        windowX += 2 * windowSize
                    }
                    windowY += 2 * windowSize
                }
                left += buildingWidth + Int((0.02 + 0.10 * random.nextUnit()) * Double(width))
            }
        }
        return scene
    }
}

// MARK: - Scene parts

/// Writes absolute levels (fractions of full scale) into a frame, clipped
/// to the image.
private struct Canvas {
    let pixels: UnsafeMutableBufferPointer<UInt16>
    let width: Int
    let height: Int
    let fullScale: Double

    func count(_ level: Double) -> UInt16 {
        UInt16(min(fullScale - 1, max(0, level * fullScale)))
    }

    func fillRectangle(x: Int, y: Int, width rectangleWidth: Int, height rectangleHeight: Int, level: Double) {
        let value = count(level)
        let left = max(0, x), right = min(width, x + rectangleWidth)
        guard left < right else { return }
        for row in max(0, y)..<max(max(0, y), min(height, y + rectangleHeight)) {
            let start = row * width
            for column in left..<right { pixels[start + column] = value }
        }
    }

    func fillEllipse(centerX: Double, centerY: Double, radiusX: Double, radiusY: Double, level: Double) {
        guard radiusX > 0, radiusY > 0 else { return }
        let value = count(level)
        let top = max(0, Int((centerY - radiusY).rounded(.up)))
        let bottom = min(height - 1, Int((centerY + radiusY).rounded(.down)))
        guard top <= bottom else { return }
        for row in top...bottom {
            let dy = (Double(row) - centerY) / radiusY
            let halfWidth = radiusX * (1 - dy * dy).squareRoot()
            let left = max(0, Int((centerX - halfWidth).rounded(.up)))
            let right = min(width - 1, Int((centerX + halfWidth).rounded(.down)))
            guard left <= right else { continue }
            let start = row * width
            for column in left...right { pixels[start + column] = value }
        }
    }
}

/// Wraps a position moving at `speed` pixels per frame around a strip a
/// little wider than the image, so objects leave on one side and return on
/// the other.
private func wrappedPosition(start: Double, speed: Double, time: Double, width: Int, margin: Double) -> Double {
    let span = Double(width) + 2 * margin
    var position = (start + speed * time + margin).truncatingRemainder(dividingBy: span)
    if position < 0 { position += span }
    return position - margin
}

private struct Walker: Sendable {
    let startX: Double
    let speed: Double
    let footY: Double
    let bodyHeight: Double
    let stridePhase: Double

    func placement(time: Double, width: Int) -> (x: Double, footY: Double) {
        let x = wrappedPosition(start: startX, speed: speed, time: time, width: width, margin: bodyHeight)
        // A slight bob with each step.
        let bob = abs(sin(time * 0.35 + stridePhase)) * bodyHeight * 0.02
        return (x, footY - bob)
    }

    func paint(on canvas: Canvas, time: Double) {
        let (x, footY) = placement(time: time, width: canvas.width)
        // Legs swing apart and together with the stride; clothes keep legs
        // and torso cooler than the bare head.
        let swing = sin(time * 0.35 + stridePhase) * bodyHeight * 0.07
        for side in [-1.0, 1.0] {
            canvas.fillEllipse(centerX: x + side * swing, centerY: footY - bodyHeight * 0.2,
                               radiusX: bodyHeight * 0.05, radiusY: bodyHeight * 0.21, level: 0.555)
        }
        canvas.fillEllipse(centerX: x, centerY: footY - bodyHeight * 0.58, radiusX: bodyHeight * 0.14,
                           radiusY: bodyHeight * 0.24, level: 0.565)
        let headRadius = bodyHeight * 0.085
        canvas.fillEllipse(centerX: x, centerY: footY - bodyHeight * 0.9, radiusX: headRadius, radiusY: headRadius * 1.2, level: 0.61)
    }
}

private struct Vehicle: Sendable {
    let startX: Double
    let speed: Double
    /// Bottom of the wheels.
    let baseY: Double
    let length: Double
    let bodyHeight: Double

    func paint(on canvas: Canvas, time: Double) {
        let left = wrappedPosition(start: startX, speed: speed, time: time, width: canvas.width, margin: length) - length / 2
        let wheelRadius = bodyHeight * 0.28
        let bodyBottom = baseY - wheelRadius
        let bodyTop = bodyBottom - bodyHeight * 0.55
        let facesRight = speed >= 0

        // Body, then a cabin whose glass mirrors the cold sky.
        canvas.fillRectangle(x: Int(left), y: Int(bodyTop), width: Int(length), height: Int(bodyBottom - bodyTop), level: 0.535)
        let cabinLeft = left + length * (facesRight ? 0.22 : 0.33)
        canvas.fillRectangle(x: Int(cabinLeft), y: Int(bodyTop - bodyHeight * 0.45), width: Int(length * 0.45),
                             height: Int(bodyHeight * 0.45), level: 0.53)
        canvas.fillRectangle(x: Int(cabinLeft + length * 0.04), y: Int(bodyTop - bodyHeight * 0.38), width: Int(length * 0.37),
                             height: Int(bodyHeight * 0.32), level: 0.44)
        // Engine at the front, exhaust at the back, wheels (tyres and brakes) hot.
        let engineLeft = facesRight ? left + length * 0.75 : left
        canvas.fillRectangle(x: Int(engineLeft), y: Int(bodyTop + bodyHeight * 0.05), width: Int(length * 0.25),
                             height: Int(bodyHeight * 0.4), level: 0.68)
        let exhaustX = facesRight ? left - length * 0.02 : left + length * 1.02
        canvas.fillEllipse(centerX: exhaustX, centerY: bodyBottom - bodyHeight * 0.08, radiusX: length * 0.025,
                           radiusY: bodyHeight * 0.07, level: 0.74)
        for wheelX in [left + length * 0.2, left + length * 0.8] {
            canvas.fillEllipse(centerX: wheelX, centerY: bodyBottom, radiusX: wheelRadius, radiusY: wheelRadius, level: 0.64)
            canvas.fillEllipse(centerX: wheelX, centerY: bodyBottom, radiusX: wheelRadius * 0.45, radiusY: wheelRadius * 0.45, level: 0.69)
        }
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast and deterministic,
/// unlike `SystemRandomNumberGenerator`.
struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    @inline(__always)
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in 0..<1.
    mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }
}
