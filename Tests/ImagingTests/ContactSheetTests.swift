import Testing
@testable import Imaging

@Suite struct ContactSheetTests {
    @Test func laysOutRowsOfLabelledThumbnails() {
        let grey = Gray8Image(width: 40, height: 20, repeating: 200)
        let colour = RGBImage(width: 20, height: 20, channels: 3, samples: (0..<400).flatMap { _ in [255, 0, 0] as [UInt8] })
        let rows = [
            ContactSheet.Row(title: "scene_1", tiles: [.init(label: "ir", image: grey), .init(label: "vi", image: colour)]),
            ContactSheet.Row(title: "scene_2", tiles: [.init(label: "ir", image: grey)]),
        ]
        let sheet = ContactSheet.render(rows, tileHeight: 40)
        // Rows: 14 px title, 8 gap, 14 px label, 4 gap, 40 px thumbnails; 8 px margins.
        let rowHeight = 14 + 8 + 14 + 4 + 40
        #expect(sheet.height == 8 + 2 * (rowHeight + 8))
        #expect(sheet.width == 8 + 80 + 8 + 40 + 8)
        let imageTop = 8 + 14 + 8 + 14 + 4
        #expect([sheet[8 + 40, imageTop + 20, 0], sheet[8 + 40, imageTop + 20, 1]] == [200, 200])
        #expect([sheet[8 + 80 + 8 + 20, imageTop + 20, 0], sheet[8 + 80 + 8 + 20, imageTop + 20, 1]] == [255, 0])
        // The titles are drawn in light pixels.
        #expect((0..<14).contains { y in (8..<60).contains { x in sheet[x, 8 + y, 0] > 240 } })
    }

    @Test func thumbnailsAverageWhenShrinking() {
        let stripes = Gray8Image(width: 4, height: 2, samples: [0, 255, 0, 255, 0, 255, 0, 255])
        let small = ContactSheet.thumbnail(stripes, height: 1)
        #expect(small.width == 2 && small.height == 1 && small.channels == 3)
        #expect(small.samples == [128, 128, 128, 128, 128, 128])
    }
}
