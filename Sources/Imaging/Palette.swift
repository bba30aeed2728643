/// One 8-bit sRGB colour.
package struct RGBColor: Sendable, Hashable {
    package var red: UInt8
    package var green: UInt8
    package var blue: UInt8

    package init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// A colour from 0xRRGGBB.
    package init(hex: UInt32) {
        self.init(red: UInt8(truncatingIfNeeded: hex >> 16),
                  green: UInt8(truncatingIfNeeded: hex >> 8),
                  blue: UInt8(truncatingIfNeeded: hex))
    }
}

/// A false-colour map from 8-bit grey to RGB (and BT.601 YUV).
///
/// Every palette holds 256 colours plus precomputed Y, Cb and Cr tables, so
/// colourising costs table lookups only.
package struct Palette: Sendable, Identifiable, Equatable {
    /// Canonical lower-case name, e.g. `white-hot`.
    package let name: String
    /// One line saying what the palette is good for.
    package let summary: String
    /// Other names `named(_:)` accepts.
    package let aliases: [String]
    /// The colour for each grey level, 256 entries, cold (0) first.
    package let colors: [RGBColor]

    package var id: String { name }

    /// R, G, B interleaved, 768 bytes, for the RGB hot loop.
    private let interleaved: [UInt8]
    /// BT.601 limited-range Y for each grey level.
    private let lumaTable: [UInt8]
    /// Cb in the low and Cr in the high 16 bits, so one addition per pixel
    /// sums both chroma channels of a 2×2 block.
    private let chromaTable: [UInt32]

    /// Creates a palette from 256 colours.
    /// - Throws: `ImagingError` when `colors` does not hold 256 entries or the name is empty.
    package init(name: String, summary: String, aliases: [String] = [], colors: [RGBColor]) throws(ImagingError) {
        guard colors.count == 256 else {
            throw ImagingError("palette \(name): needs 256 colours, got \(colors.count)")
        }
        guard !name.isEmpty else {
            throw ImagingError("palette: name must not be empty")
        }
        self.name = name
        self.summary = summary
        self.aliases = aliases
        self.colors = colors
        interleaved = colors.flatMap { [$0.red, $0.green, $0.blue] }
        lumaTable = colors.map { BT601.luma($0.red, $0.green, $0.blue) }
        chromaTable = colors.map { color in
            let red = Int(color.red), green = Int(color.green), blue = Int(color.blue)
            let cb = BT601.chroma(fromScaledSum: BT601.blueDifference(red, green, blue), samples: 1)
            let cr = BT601.chroma(fromScaledSum: BT601.redDifference(red, green, blue), samples: 1)
            return UInt32(cb) | UInt32(cr) << 16
        }
    }

    package static func == (lhs: Palette, rhs: Palette) -> Bool {
        lhs.name == rhs.name && lhs.colors == rhs.colors
    }

    /// The colour for a grey level.
    package subscript(level: UInt8) -> RGBColor { colors[Int(level)] }

    /// The BT.601 limited-range (Y, Cb, Cr) the YUV path uses for a grey level.
    package func yuv(for level: UInt8) -> (luma: UInt8, chromaBlue: UInt8, chromaRed: UInt8) {
        let chroma = chromaTable[Int(level)]
        return (lumaTable[Int(level)], UInt8(truncatingIfNeeded: chroma), UInt8(truncatingIfNeeded: chroma >> 16))
    }

    // MARK: Lookup

    /// The palette whose name or alias matches, ignoring case, spaces,
    /// hyphens and underscores (`whitehot`, `White-Hot`, `white_hot`).
    package static func named(_ name: String) -> Palette? {
        let key = normalized(name)
        return all.first { palette in
            normalized(palette.name) == key || palette.aliases.contains { normalized($0) == key }
        }
    }

    /// Canonical names of all built-in palettes, in `all` order.
    package static var names: [String] { all.map(\.name) }

    private static func normalized(_ name: String) -> String {
        String(name.lowercased().unicodeScalars.filter { $0 != "-" && $0 != "_" && $0 != " " })
    }

    // MARK: Colourising

    /// Colours `gray` into interleaved RGB, reallocating `rgb` only when its
    /// shape differs. `gray` must have one channel.
    package func colorize(_ gray: Gray8Image, into rgb: inout RGBImage) {
        precondition(gray.channels == 1, "palette \(name): colourising needs one grey channel, got \(gray.channels)")
        if rgb.width != gray.width || rgb.height != gray.height || rgb.channels != 3 {
            rgb = RGBImage(width: gray.width, height: gray.height, channels: 3, repeating: 0)
        }
        interleaved.withUnsafeBufferPointer { table in
            gray.samples.withUnsafeBufferPointer { source in
                rgb.samples.withUnsafeMutableBufferPointer { destination in
                    for index in 0..<source.count {
                        let entry = Int(source[index]) &* 3
                        let offset = index &* 3
                        destination[offset] = table[entry]
                        destination[offset &+ 1] = table[entry &+ 1]
                        destination[offset &+ 2] = table[entry &+ 2]
                    }
                }
            }
        }
    }

    /// Colours `gray` into a new RGB image.
    package func colorize(_ gray: Gray8Image) -> RGBImage {
        var rgb = RGBImage(width: gray.width, height: gray.height, channels: 3, repeating: 0)
        colorize(gray, into: &rgb)
        return rgb
    }

    /// Colours `gray` straight into I420, reallocating `yuv` only when its
    /// size differs. Luma comes from the per-level Y table; each chroma
    /// sample is the rounded mean of its 2×2 block's Cb and Cr (one or two
    /// pixels at odd edges). `gray` must have one channel.
    package func colorize(_ gray: Gray8Image, into yuv: inout YUV420Image) {
        precondition(gray.channels == 1, "palette \(name): colourising needs one grey channel, got \(gray.channels)")
        if yuv.width != gray.width || yuv.height != gray.height {
            yuv = YUV420Image(width: gray.width, height: gray.height)
        }
        let width = gray.width, height = gray.height
        let chromaWidth = yuv.chromaWidth, chromaHeight = yuv.chromaHeight
        let pairsPerRow = width / 2
        let oddWidth = width % 2 == 1

        lumaTable.withUnsafeBufferPointer { lumaOf in
            chromaTable.withUnsafeBufferPointer { chromaOf in
                gray.samples.withUnsafeBufferPointer { source in
                    yuv.luma.withUnsafeMutableBufferPointer { lumaPlane in
                        yuv.chromaBlue.withUnsafeMutableBufferPointer { bluePlane in
                            yuv.chromaRed.withUnsafeMutableBufferPointer { redPlane in
                                for chromaY in 0..<chromaHeight {
                                    let top = 2 * chromaY * width
                                    let chromaRow = chromaY * chromaWidth
                                    if 2 * chromaY + 1 < height {
                                        let bottom = top + width
                                        for pair in 0..<pairsPerRow {
                                            let i = top &+ 2 &* pair, j = bottom &+ 2 &* pair
                                            let a = Int(source[i]), b = Int(source[i &+ 1])
                                            let c = Int(source[j]), d = Int(source[j &+ 1])
                                            lumaPlane[i] = lumaOf[a]
                                            lumaPlane[i &+ 1] = lumaOf[b]
                                            lumaPlane[j] = lumaOf[c]
                                            lumaPlane[j &+ 1] = lumaOf[d]
                                            let sum = chromaOf[a] &+ chromaOf[b] &+ chromaOf[c] &+ chromaOf[d]
                                            bluePlane[chromaRow &+ pair] = UInt8(truncatingIfNeeded: ((sum & 0xFFFF) &+ 2) >> 2)
                                            redPlane[chromaRow &+ pair] = UInt8(truncatingIfNeeded: ((sum >> 16) &+ 2) >> 2)
                                        }
                                        if oddWidth {
                                            let i = top + width - 1, j = bottom + width - 1
                                            let a = Int(source[i]), c = Int(source[j])
                                            lumaPlane[i] = lumaOf[a]
                                            lumaPlane[j] = lumaOf[c]
                                            let sum = chromaOf[a] &+ chromaOf[c]
                                            bluePlane[chromaRow + pairsPerRow] = UInt8(truncatingIfNeeded: ((sum & 0xFFFF) &+ 1) >> 1)
                                            redPlane[chromaRow + pairsPerRow] = UInt8(truncatingIfNeeded: ((sum >> 16) &+ 1) >> 1)
                                        }
                                    } else {
                                        // The last row of an odd height: blocks of one row.
                                        for pair in 0..<pairsPerRow {
                                            let i = top &+ 2 &* pair
                                            let a = Int(source[i]), b = Int(source[i &+ 1])
                                            lumaPlane[i] = lumaOf[a]
                                            lumaPlane[i &+ 1] = lumaOf[b]
                                            let sum = chromaOf[a] &+ chromaOf[b]
                                            bluePlane[chromaRow &+ pair] = UInt8(truncatingIfNeeded: ((sum & 0xFFFF) &+ 1) >> 1)
                                            redPlane[chromaRow &+ pair] = UInt8(truncatingIfNeeded: ((sum >> 16) &+ 1) >> 1)
                                        }
                                        if oddWidth {
                                            let i = top + width - 1
                                            let a = Int(source[i])
                                            lumaPlane[i] = lumaOf[a]
                                            bluePlane[chromaRow + pairsPerRow] = UInt8(truncatingIfNeeded: chromaOf[a])
                                            redPlane[chromaRow + pairsPerRow] = UInt8(truncatingIfNeeded: chromaOf[a] >> 16)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Colours `gray` into a new I420 frame.
    package func colorizeYUV(_ gray: Gray8Image) -> YUV420Image {
        var yuv = YUV420Image(width: gray.width, height: gray.height)
        colorize(gray, into: &yuv)
        return yuv
    }
}

// MARK: - Built-in palettes

extension Palette {
    package static let whiteHot = builtIn(
        "white-hot", "Grey, hot is white: the neutral default most thermal operators read fastest.",
        aliases: ["white", "grey", "gray", "greyscale", "grayscale"],
        stops: [(0, 0x000000), (1, 0xFFFFFF)])

    package static let blackHot = builtIn(
        "black-hot", "Grey, hot is black: makes warm people and engines stand out against a light background.",
        aliases: ["black"],
        stops: [(0, 0xFFFFFF), (1, 0x000000)])

    // The thermal-camera palettes below have no single published table;
    // they are our own control points after the familiar looks, linearly
    // interpolated in sRGB.

    package static let ironbow = builtIn(
        "ironbow", "Black through indigo, magenta, orange and yellow to white: the classic heat look.",
        aliases: ["iron", "iron-bow"],
        stops: [(0.00, 0x00000A), (0.12, 0x1C006E), (0.28, 0x6A009E), (0.42, 0xB01090),
                (0.55, 0xDE3A3A), (0.68, 0xF27210), (0.82, 0xFBB400), (0.93, 0xFFE640), (1.00, 0xFFFFF0)])

    package static let rainbow = builtIn(
        "rainbow", "Blue through cyan, green, yellow and red to white: many distinct hues for small differences.",
        stops: [(0.00, 0x100050), (0.14, 0x0000FF), (0.30, 0x00C8FF), (0.44, 0x00FF60), (0.58, 0xA0FF00),
                (0.70, 0xFFFF00), (0.82, 0xFF8000), (0.93, 0xFF0000), (1.00, 0xFFFFFF)])

    package static let rainbowHighContrast = builtIn(
        "rainbow-hc", "High-contrast rainbow that runs through the hues twice: finest detail, least intuitive.",
        aliases: ["rainbowhc", "rainbow-high-contrast"],
        stops: [(0.00, 0x000000), (0.08, 0x3000A0), (0.16, 0x0040FF), (0.24, 0x00C0FF), (0.32, 0x00FF80),
                (0.40, 0x80FF00), (0.48, 0xFFFF00), (0.56, 0xFF8000), (0.64, 0xFF0000), (0.72, 0xFF0080),
                (0.80, 0xC000FF), (0.88, 0x8080FF), (0.94, 0xC0FFFF), (1.00, 0xFFFFFF)])

    package static let lava = builtIn(
        "lava", "Black and cool blues for the cold, molten reds and yellows for the heat.",
        stops: [(0.00, 0x000000), (0.18, 0x1A1A60), (0.32, 0x3A4A8A), (0.45, 0x7A2A6A), (0.58, 0xC8202A),
                (0.72, 0xF05A10), (0.86, 0xFFB020), (1.00, 0xFFFFC8)])

    package static let arctic = builtIn(
        "arctic", "Blues for everything cool, gold for the warmest: hot targets glow against a cold scene.",
        stops: [(0.00, 0x000010), (0.20, 0x001A5A), (0.40, 0x0A50A0), (0.55, 0x40A0D8), (0.65, 0xB0A040),
                (0.80, 0xF0A010), (0.92, 0xFFD040), (1.00, 0xFFFFF0)])

    package static let inferno = published(
        "inferno", "Perceptually uniform black-purple-orange-yellow (matplotlib); prints well in grey.",
        table: PublishedColorMaps.inferno)

    package static let magma = published(
        "magma", "Perceptually uniform black-purple-pink-cream (matplotlib).",
        table: PublishedColorMaps.magma)

    package static let plasma = published(
        "plasma", "Perceptually uniform blue-magenta-yellow (matplotlib) with no black end.",
        table: PublishedColorMaps.plasma)

    package static let viridis = published(
        "viridis", "Perceptually uniform blue-green-yellow (matplotlib), readable with colour-vision deficiency.",
        table: PublishedColorMaps.viridis)

    package static let turbo = published(
        "turbo", "Google's smooth rainbow: rainbow contrast without false bands.",
        table: PublishedColorMaps.turbo)

    /// Every built-in palette, the neutral ones first.
    package static let all: [Palette] = [
        whiteHot, blackHot, ironbow, rainbow, rainbowHighContrast, lava, arctic,
        inferno, magma, plasma, viridis, turbo,
    ]

    /// Builds a palette by linear interpolation between (position 0–1, 0xRRGGBB) stops.
    private static func builtIn(
        _ name: String, _ summary: String, aliases: [String] = [], stops: [(position: Double, hex: UInt32)]
    ) -> Palette {
        let colors = (0..<256).map { level -> RGBColor in
            let position = Double(level) / 255
            let upper = stops.firstIndex { $0.position >= position } ?? stops.count - 1
            let lower = max(0, upper - 1)
            let from = RGBColor(hex: stops[lower].hex), to = RGBColor(hex: stops[upper].hex)
            let span = stops[upper].position - stops[lower].position
            let t = span > 0 ? (position - stops[lower].position) / span : 0
            func mix(_ a: UInt8, _ b: UInt8) -> UInt8 {
                UInt8((Double(a) + (Double(b) - Double(a)) * t).rounded())
            }
            return RGBColor(red: mix(from.red, to.red), green: mix(from.green, to.green), blue: mix(from.blue, to.blue))
        }
        return try! Palette(name: name, summary: summary, aliases: aliases, colors: colors)
    }

    /// Builds a palette from a table of 256 "rrggbb" words.
    private static func published(_ name: String, _ summary: String, table: String) -> Palette {
        let colors = table.split(whereSeparator: \.isWhitespace).map { word in
            RGBColor(hex: UInt32(word, radix: 16)!)
        }
        return try! Palette(name: name, summary: summary, colors: colors)
    }
}
