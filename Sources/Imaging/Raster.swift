/// A width × height grid of samples with `channels` interleaved samples per
/// pixel and rows packed without padding.
///
/// It is the one image type every domain passes around: 16-bit thermal
/// frames, 8-bit grey, interleaved RGB and float working images are all
/// rasters of different sample types, so stages agree on layout by type.
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
/// Interleaved 8-bit R, G, B.
package typealias RGBImage = Raster<UInt8>
/// A float working image (fusion, metrics), usually on 0–1 or 0–255.
package typealias FloatImage = Raster<Float>
