/// A width × height grid of samples with `channels` interleaved samples per
/// pixel and rows packed without padding.
///
/// Thermal frames, 8-bit grey and float working planes are rasters of
/// different sample types, so stages agree on layout by type; colour is
/// `RGBImage`, a type of its own. A raster may hold three channels where
/// code takes grey and colour alike (an image file as read, a metric).
package struct Raster<Sample: Sendable & Equatable>: Sendable, Equatable {
    package let width: Int
    package let height: Int
    package let channels: Int
    package var samples: [Sample]

    package init(width: Int, height: Int, channels: Int = 1, samples: [Sample]) {
        precondition(width >= 0 && height >= 0 && channels > 0, "raster dimensions must be positive")
        precondition(samples.count == width * height * channels,
                     "a \(width)×\(height)×\(channels) raster needs \(width * height * channels) samples, got \(samples.count)")
        self.width = width
        self.height = height
        self.channels = channels
        self.samples = samples
    }

    package init(width: Int, height: Int, channels: Int = 1, repeating value: Sample) {
        self.init(width: width, height: height, channels: channels,
                  samples: Array(repeating: value, count: width * height * channels))
    }

    package var pixelCount: Int { width * height }

    /// The sample at column `x`, row `y`, channel `channel`.
    @inlinable
    package subscript(x: Int, y: Int, channel: Int = 0) -> Sample {
        get { samples[(y * width + x) * channels + channel] }
        set { samples[(y * width + x) * channels + channel] = newValue }
    }
}

/// A thermal frame as sensors deliver it: one 16-bit count per pixel.
package typealias Gray16Image = Raster<UInt16>
/// An 8-bit grey image, one sample per pixel.
package typealias Gray8Image = Raster<UInt8>
/// Interleaved 8-bit R, G, B, rows packed without padding: a type of its own
/// (not a `Raster<UInt8>` that happens to have three channels), so a grey
/// frame can never be handed to code that expects colour, or the reverse.
package struct RGBImage: Sendable, Equatable {
    package let width: Int
    package let height: Int
    /// R, G, B of each pixel in turn, `width × height × 3` values.
    package var samples: [UInt8]
    package var channels: Int { 3 }
    package var pixelCount: Int { width * height }

    /// - Parameter channels: always 3; named so call sites read like a raster's.
    package init(width: Int, height: Int, channels: Int = 3, samples: [UInt8]) {
        precondition(channels == 3, "an RGB image has three channels, not \(channels)")
        precondition(width >= 0 && height >= 0, "image dimensions must not be negative")
        precondition(samples.count == width * height * 3,
                     "a \(width)×\(height) RGB image needs \(width * height * 3) samples, got \(samples.count)")
        self.width = width
        self.height = height
        self.samples = samples
    }

    package init(width: Int, height: Int, channels: Int = 3, repeating value: UInt8) {
        self.init(width: width, height: height, channels: channels, samples: Array(repeating: value, count: width * height * 3))
    }

    /// A three-channel raster's pixels as colour.
    package init(_ raster: Raster<UInt8>) {
        self.init(width: raster.width, height: raster.height, channels: raster.channels, samples: raster.samples)
    }

    /// The same pixels as a raster, for code that takes grey and colour alike (metrics, warps, thumbnails).
    package var raster: Raster<UInt8> { Raster(width: width, height: height, channels: 3, samples: samples) }

    /// The sample at column `x`, row `y`, channel `channel` (0 red, 1 green, 2 blue).
    @inlinable
    package subscript(x: Int, y: Int, channel: Int) -> UInt8 {
        get { samples[(y * width + x) * 3 + channel] }
        set { samples[(y * width + x) * 3 + channel] = newValue }
    }
}
/// A float working image (fusion, metrics), usually on 0–1 or 0–255.
package typealias FloatImage = Raster<Float>
