import ArgumentParser
import Imaging
import MediaIO

struct PalettesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "palettes",
        abstract: "List the thermal palettes, or render their swatches to a PNG."
    )

    @Option(help: "Write a PNG with one labelled gradient per palette.")
    var preview: String?

    func run() throws {
        if let preview {
            try ImageFile.writePNG(Palette.swatchSheet(), to: preview)
            print("wrote \(preview)")
            return
        }
        let width = Palette.all.map(\.name.count).max() ?? 0
        for palette in Palette.all {
            print(palette.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + palette.summary)
        }
    }
}
