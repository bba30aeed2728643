import Testing
@testable import Imaging

@Suite struct SwatchSheetTests {
    @Test func drawsOneLabelledGradientPerPalette() throws {
        let palettes = Palette.all
        let sheet = Palette.swatchSheet(palettes, barWidth: 256, barHeight: 20)
        #expect(sheet.channels == 3)
        // Rows of 20 pixels (the bar is taller than the 14-pixel text) with 8-pixel gaps.
        #expect(sheet.height == 8 + palettes.count * 28)
        let labelWidth = palettes.map(\.name.count).max()! * 12
        #expect(sheet.width == 8 + labelWidth + 8 + 256 + 8)

        let barLeft = 8 + labelWidth + 8
        for (row, palette) in palettes.enumerated() {
            let y = 8 + row * 28 + 10
            for level in [0, 100, 255] {
                let color = palette.colors[level]
                #expect([sheet[barLeft + level, y, 0], sheet[barLeft + level, y, 1], sheet[barLeft + level, y, 2]]
                        == [color.red, color.green, color.blue], "\(palette.name) level \(level)")
            }
            // The label is drawn in light pixels left of the bar.
            var lit = 0
            for labelY in (8 + row * 28)..<(8 + row * 28 + 20) {
                for labelX in 8..<(8 + labelWidth) where sheet[labelX, labelY, 0] > 200 { lit += 1 }
            }
            #expect(lit > palette.name.count * 20, "label of \(palette.name)")
        }
    }

    @Test func fontCoversEveryPaletteName() {
        for palette in Palette.all {
            for character in palette.name.lowercased() {
                #expect(BitmapFont.glyphs[character] != nil, "glyph for \(character)")
            }
        }
        #expect(BitmapFont.glyphs.values.allSatisfy { $0.count == 7 && $0.allSatisfy { $0 < 32 } })
    }
}
