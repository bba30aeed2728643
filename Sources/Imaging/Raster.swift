/// A width × height grid of samples with `channels` interleaved samples per
/// pixel and rows packed without padding.
///
/// It is the one image type every domain passes around: 16-bit thermal
/// frames, 8-bit grey, interleaved RGB and float working images are all
/// rasters of different sample types, so stages agree on layout by type.
public struct Raster<Sample: Sendable & Equatable>: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public var samples: [Sample]

    public init(width: Int, height: Int, channels: Int = 1, samples: [Sample]) {
        precondition(width >= 0 && height >= 0 && channels > 0, "raster dimensions must be positive")
        precondition(samples.count == width * height * channels,
                     "a \(width)×\(height)×\(channels) raster needs \(width * height * channels) samples, got \(samples.count)")
        self.width = width
        self.height = height
        self.channels = channels
        self.samples = samples
    }

    public init(width: Int, height: Int, channels: Int = 1, repeating value: Sample) {
        self.init(width: width, height: height, channels: channels,
                  samples: Array(repeating: value, count: width * height * channels))
    }

    public var pixelCount: Int { width * height }

    /// The sample at column `x`, row `y`, channel `channel`.
    @inlinable
    public subscript(x: Int, y: Int, channel: Int = 0) -> Sample {
        get { samples[(y * width + x) * channels + channel] }
        set { samples[(y * width + x) * channels + channel] = newValue }
    }
}

/// A thermal frame as sensors deliver it: one 16-bit count per pixel.
public typealias Gray16Image = Raster<UInt16>
/// An 8-bit grey image, one sample per pixel.
public typealias Gray8Image = Raster<UInt8>
/// Interleaved 8-bit R, G, B.
public typealias RGBImage = Raster<UInt8>
/// A float working image (fusion, metrics), usually on 0–1 or 0–255.
public typealias FloatImage = Raster<Float>
