import Testing
@testable import Imaging

@Suite struct PaletteTests {
    @Test func everyPaletteHasAFullTableAUniqueNameAndASummary() {
        #expect(Set(Palette.names).isSuperset(of: [
            "white-hot", "black-hot", "ironbow", "rainbow", "rainbow-hc", "lava", "arctic",
            "inferno", "magma", "plasma", "viridis", "turbo",
        ]))
        #expect(Set(Palette.names).count == Palette.all.count)
        for palette in Palette.all {
            #expect(palette.colors.count == 256, "\(palette.name)")
            #expect(!palette.summary.isEmpty && !palette.summary.contains("\n"), "\(palette.name)")
            #expect(palette.id == palette.name)
        }
    }

    @Test func whiteHotIsGreyAndBlackHotItsInverse() throws {
        let whiteHot = try #require(Palette.named("white-hot"))
        let blackHot = try #require(Palette.named("black-hot"))
        #expect(whiteHot[0] == RGBColor(red: 0, green: 0, blue: 0))
        #expect(whiteHot[255] == RGBColor(red: 255, green: 255, blue: 255))
        #expect(blackHot[0] == RGBColor(red: 255, green: 255, blue: 255))
        #expect(blackHot[255] == RGBColor(red: 0, green: 0, blue: 0))
        for level in 0...255 {
            let value = UInt8(level)
            #expect(whiteHot[value] == RGBColor(red: value, green: value, blue: value))
            #expect(blackHot[value] == RGBColor(red: 255 - value, green: 255 - value, blue: 255 - value))
        }
    }

    /// Reference colours as the maps' authors publish them (matplotlib's
    /// viridis and inferno, Google's turbo), rounded to bytes.
    @Test(arguments: [
        ("viridis", 0, 0x440154), ("viridis", 128, 0x21918C), ("viridis", 255, 0xFDE725),
        ("inferno", 0, 0x000004), ("inferno", 128, 0xBC3754), ("inferno", 255, 0xFCFFA4),
        ("magma", 255, 0xFCFDBF), ("plasma", 0, 0x0D0887), ("plasma", 255, 0xF0F921),
        ("turbo", 0, 0x30123B), ("turbo", 64, 0x28BCEB), ("turbo", 128, 0xA4FC3C), ("turbo", 255, 0x7A0403),
    ])
    func perceptualMapsMatchTheirPublishedTables(name: String, level: Int, hex: UInt32) throws {
        let palette = try #require(Palette.named(name))
        let expected = RGBColor(hex: hex)
        let actual = palette.colors[level]
        #expect(abs(Int(actual.red) - Int(expected.red)) <= 2, "\(name)[\(level)] red")
        #expect(abs(Int(actual.green) - Int(expected.green)) <= 2, "\(name)[\(level)] green")
        #expect(abs(Int(actual.blue) - Int(expected.blue)) <= 2, "\(name)[\(level)] blue")
    }

    @Test func lookupIgnoresCaseAndSeparatorsAndKnowsAliases() {
        #expect(Palette.named("whitehot")?.name == "white-hot")
        #expect(Palette.named("White-Hot")?.name == "white-hot")
        #expect(Palette.named("white_hot")?.name == "white-hot")
        #expect(Palette.named("BLACKHOT")?.name == "black-hot")
        #expect(Palette.named("rainbowhc")?.name == "rainbow-hc")
        #expect(Palette.named("iron")?.name == "ironbow")
        #expect(Palette.named("Turbo")?.name == "turbo")
        #expect(Palette.named("no-such-palette") == nil)
        #expect(Palette.named("") == nil)
    }

    @Test func colorizeLooksEachLevelUp() throws {
        let ironbow = Palette.ironbow
        let gray = Gray8Image(width: 3, height: 2, samples: [0, 17, 128, 200, 254, 255])
        var rgb = RGBImage(width: 1, height: 1, channels: 3, repeating: 0)
        ironbow.colorize(gray, into: &rgb)
        #expect(rgb.width == 3 && rgb.height == 2 && rgb.channels == 3)
        for (index, level) in gray.samples.enumerated() {
            let color = ironbow[level]
            #expect(Array(rgb.samples[(index * 3)..<(index * 3 + 3)]) == [color.red, color.green, color.blue])
        }
        #expect(ironbow.colorize(gray) == rgb)
    }

    @Test func customPalettesNeedAFullTable() {
        #expect(throws: ImagingError.self) {
            try Palette(name: "short", summary: "too few", colors: [RGBColor(hex: 0)])
        }
    }
}
