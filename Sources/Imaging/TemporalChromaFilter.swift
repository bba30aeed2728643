/// Steadies the colour of a neural colouriser's video without smearing what moves.
///
/// A network colours each frame on its own, so small changes of the thermal
/// input (sensor noise, a few pixels of camera motion) can swing a region's
/// hue from frame to frame: flicker. This filter keeps each frame's luma as it
/// is (detail and motion stay sharp) and blends its chroma with the previous
/// output's, pixel by pixel, by a weight that falls to zero where the thermal
/// input itself changed: a warm person walking in gets new colour at once,
/// while a still road keeps a steady one.
///
/// Chroma is blended in BT.601 Cb/Cr, the space the encoder works in, so the
/// filter costs a few multiplications per pixel. Frames must come in display
/// order; a change of size starts afresh.
package struct TemporalChromaFilter: Sendable {
    /// How much of the previous chroma a perfectly still pixel keeps, 0–1 (0 turns the filter off).
    package let strength: Float
    /// A thermal change (8-bit levels) at or above this counts as motion: that pixel takes the new chroma alone.
    package let motionThreshold: Float

    private var previousBlue: [Float] = []
    private var previousRed: [Float] = []
    private var previousThermal: [UInt8] = []
    private var width = 0
    private var height = 0

    package init(strength: Float, motionThreshold: Float = 24) {
        precondition((0...1).contains(strength), "temporal smoothing strength must be 0–1")
        self.strength = min(strength, 0.95)
        self.motionThreshold = max(1, motionThreshold)
    }

    /// Forgets the previous frame (after a cut, a reconnect, a seek).
    package mutating func reset() {
        previousBlue = []
        previousRed = []
        previousThermal = []
    }

    /// Returns `image` with its chroma steadied against the previous call's output.
    /// - Parameter thermal: the 8-bit thermal frame `image` was coloured from, at the same size.
    package mutating func filter(_ image: RGBImage, thermal: Gray8Image) -> RGBImage {
        precondition(image.channels == 3 && thermal.channels == 1, "an RGB image and a grey thermal frame")
        precondition(image.width == thermal.width && image.height == thermal.height, "the thermal frame must match the image")
        guard strength > 0 else { return image }
        let count = image.pixelCount
        if image.width != width || image.height != height || previousThermal.count != count {
            width = image.width
            height = image.height
            previousBlue = [Float](repeating: 0, count: count)
            previousRed = [Float](repeating: 0, count: count)
            previousThermal = thermal.samples
            seed(from: image)
            return image
        }
        var output = image
        let strength = self.strength
        let inverseThreshold = 1 / motionThreshold
        output.samples.withUnsafeMutableBufferPointer { rgb in
            previousBlue.withUnsafeMutableBufferPointer { blue in
                previousRed.withUnsafeMutableBufferPointer { red in
                    previousThermal.withUnsafeMutableBufferPointer { lastThermal in
                        thermal.samples.withUnsafeBufferPointer { currentThermal in
                            for index in 0..<count {
                                let change = abs(Float(currentThermal[index]) - Float(lastThermal[index]))
                                lastThermal[index] = currentThermal[index]
                                let keep = strength * max(0, 1 - change * inverseThreshold)
                                let r = Float(rgb[index * 3]), g = Float(rgb[index * 3 + 1]), b = Float(rgb[index * 3 + 2])
                                let luma = 0.299 * r + 0.587 * g + 0.114 * b
                                let cb = keep * blue[index] + (1 - keep) * (b - luma) * 0.564
                                let cr = keep * red[index] + (1 - keep) * (r - luma) * 0.713
                                blue[index] = cb
                                red[index] = cr
                                rgb[index * 3] = Self.byte(luma + 1.403 * cr)
                                rgb[index * 3 + 1] = Self.byte(luma - 0.344 * cb - 0.714 * cr)
                                rgb[index * 3 + 2] = Self.byte(luma + 1.773 * cb)
                            }
                        }
                    }
                }
            }
        }
        return output
    }

    private mutating func seed(from image: RGBImage) {
        for index in 0..<image.pixelCount {
            let r = Float(image.samples[index * 3]), g = Float(image.samples[index * 3 + 1]), b = Float(image.samples[index * 3 + 2])
            let luma = 0.299 * r + 0.587 * g + 0.114 * b
            previousBlue[index] = (b - luma) * 0.564
            previousRed[index] = (r - luma) * 0.713
        }
    }

    @inline(__always)
    private static func byte(_ value: Float) -> UInt8 {
        UInt8(max(0, min(255, value.rounded())))
    }
}
