extension Palette {
    /// A preview of `palettes`: one row per palette with its name on the
    /// left (built-in 5×7 font, capitals, scaled 2×) and a horizontal
    /// gradient from level 0 to 255 on the right, on a dark grey ground.
    ///
    /// - Parameters:
    ///   - barWidth: width of each gradient in pixels (at least 1).
    ///   - barHeight: height of each gradient in pixels (at least 1).
    package static func swatchSheet(_ palettes: [Palette] = Palette.all, barWidth: Int = 512, barHeight: Int = 24) -> RGBImage {
        let barWidth = max(1, barWidth), barHeight = max(1, barHeight)
        let scale = 2
        let margin = 8
        let glyphAdvance = (BitmapFont.glyphWidth + 1) * scale
        let labelWidth = (palettes.map(\.name.count).max() ?? 0) * glyphAdvance
        let textHeight = BitmapFont.glyphHeight * scale
        let rowHeight = max(barHeight, textHeight)
        let width = margin + labelWidth + margin + barWidth + margin
        let height = margin + palettes.count * (rowHeight + margin)

        var sheet = RGBImage(width: width, height: height, channels: 3, repeating: 32)
        for (row, palette) in palettes.enumerated() {
            let top = margin + row * (rowHeight + margin)
            BitmapFont.draw(palette.name, into: &sheet, x: margin, y: top + (rowHeight - textHeight) / 2,
                            scale: scale, color: RGBColor(red: 235, green: 235, blue: 235))
            let barLeft = margin + labelWidth + margin
            let barTop = top + (rowHeight - barHeight) / 2
            for x in 0..<barWidth {
                let level = barWidth == 1 ? 0 : (x * 255 + (barWidth - 1) / 2) / (barWidth - 1)
                let color = palette.colors[level]
                for y in barTop..<(barTop + barHeight) {
                    sheet[barLeft + x, y, 0] = color.red
                    sheet[barLeft + x, y, 1] = color.green
                    sheet[barLeft + x, y, 2] = color.blue
                }
            }
        }
        return sheet
    }
}

/// A tiny 5×7 bitmap font for labels: a–z (drawn as capitals), 0–9 and
/// `- _ . : /`; other characters draw as blanks.
enum BitmapFont {
    static let glyphWidth = 5
    static let glyphHeight = 7

    /// Draws `text` with its top-left corner at (x, y); pixels outside the
    /// image are skipped.
    static func draw(_ text: String, into image: inout RGBImage, x: Int, y: Int, scale: Int, color: RGBColor) {
        var penX = x
        for character in text.lowercased() {
            if let rows = glyphs[character] {
                for (row, bits) in rows.enumerated() {
                    for column in 0..<glyphWidth where bits & (1 << (glyphWidth - 1 - column)) != 0 {
                        fill(&image, x: penX + column * scale, y: y + row * scale, size: scale, color: color)
                    }
                }
            }
            penX += (glyphWidth + 1) * scale
        }
    }

    private static func fill(_ image: inout RGBImage, x: Int, y: Int, size: Int, color: RGBColor) {
        for py in max(0, y)..<min(image.height, y + size) {
            for px in max(0, x)..<min(image.width, x + size) {
                image[px, py, 0] = color.red
                image[px, py, 1] = color.green
                image[px, py, 2] = color.blue
            }
        }
    }

    /// Each glyph is seven rows of five bits, most significant bit left.
    static let glyphs: [Character: [UInt8]] = {
        let pictures: [Character: [String]] = [
            "a": [" ### ", "#   #", "#   #", "#####", "#   #", "#   #", "#   #"],
            "b": ["#### ", "#   #", "#   #", "#### ", "#   #", "#   #", "#### "],
            "c": [" ### ", "#   #", "#    ", "#    ", "#    ", "#   #", " ### "],
            "d": ["#### ", "#   #", "#   #", "#   #", "#   #", "#   #", "#### "],
            "e": ["#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#####"],
            "f": ["#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#    "],
            "g": [" ### ", "#   #", "#    ", "# ###", "#   #", "#   #", " ####"],
            "h": ["#   #", "#   #", "#   #", "#####", "#   #", "#   #", "#   #"],
            "i": [" ### ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "],
            "j": ["  ###", "   # ", "   # ", "   # ", "   # ", "#  # ", " ##  "],
            "k": ["#   #", "#  # ", "# #  ", "##   ", "# #  ", "#  # ", "#   #"],
            "l": ["#    ", "#    ", "#    ", "#    ", "#    ", "#    ", "#####"],
            "m": ["#   #", "## ##", "# # #", "# # #", "#   #", "#   #", "#   #"],
            "n": ["#   #", "#   #", "##  #", "# # #", "#  ##", "#   #", "#   #"],
            "o": [" ### ", "#   #", "#   #", "#   #", "#   #", "#   #", " ### "],
            "p": ["#### ", "#   #", "#   #", "#### ", "#    ", "#    ", "#    "],
            "q": [" ### ", "#   #", "#   #", "#   #", "# # #", "#  # ", " ## #"],
            "r": ["#### ", "#   #", "#   #", "#### ", "# #  ", "#  # ", "#   #"],
            "s": [" ####", "#    ", "#    ", " ### ", "    #", "    #", "#### "],
            "t": ["#####", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  "],
            "u": ["#   #", "#   #", "#   #", "#   #", "#   #", "#   #", " ### "],
            "v": ["#   #", "#   #", "#   #", "#   #", "#   #", " # # ", "  #  "],
            "w": ["#   #", "#   #", "#   #", "# # #", "# # #", "# # #", " # # "],
            "x": ["#   #", "#   #", " # # ", "  #  ", " # # ", "#   #", "#   #"],
            "y": ["#   #", "#   #", " # # ", "  #  ", "  #  ", "  #  ", "  #  "],
            "z": ["#####", "    #", "   # ", "  #  ", " #   ", "#    ", "#####"],
            "0": [" ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### "],
            "1": ["  #  ", " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "],
            "2": [" ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####"],
            "3": ["#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### "],
            "4": ["   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # "],
            "5": ["#####", "#    ", "#### ", "    #", "    #", "#   #", " ### "],
            "6": ["  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### "],
            "7": ["#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   "],
            "8": [" ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### "],
            "9": [" ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  "],
            "-": ["     ", "     ", "     ", "#####", "     ", "     ", "     "],
            "_": ["     ", "     ", "     ", "     ", "     ", "     ", "#####"],
            ".": ["     ", "     ", "     ", "     ", "     ", " ##  ", " ##  "],
            ":": ["     ", " ##  ", " ##  ", "     ", " ##  ", " ##  ", "     "],
            "/": ["    #", "    #", "   # ", "  #  ", " #   ", "#    ", "#    "],
        ]
        return pictures.mapValues { rows in
            rows.map { row in row.reduce(UInt8(0)) { bits, pixel in bits << 1 | (pixel == "#" ? 1 : 0) } }
        }
    }()
}
