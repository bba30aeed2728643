/// A grid of labelled thumbnails for looking over many results at once: one
/// row per subject (say the thermal, visible and fused images of one scene),
/// each row headed by its title and each thumbnail by its label, in the 5×7
/// bitmap font of ``Palette/swatchSheet(_:barWidth:barHeight:)``.
package enum ContactSheet {
    /// One labelled picture; grey (1-channel) or RGB (3-channel) 8-bit.
    package struct Tile: Sendable {
        package var label: String
        package var image: Raster<UInt8>

        package init(label: String, image: Raster<UInt8>) {
            self.label = label
            self.image = image
        }

        package init(label: String, image: RGBImage) {
            self.init(label: label, image: image.raster)
        }
    }

    /// One row of the sheet.
    package struct Row: Sendable {
        package var title: String
        package var tiles: [Tile]

        package init(title: String, tiles: [Tile]) {
            self.title = title
            self.tiles = tiles
        }
    }

    /// Renders `rows` on a dark ground, every thumbnail scaled to
    /// `tileHeight` pixels high (at least 8) with its aspect ratio kept.
    /// Pictures with other than 1 or 3 channels show as grey boxes.
    package static func render(_ rows: [Row], tileHeight: Int = 180) -> RGBImage {
        let tileHeight = max(8, tileHeight)
        let margin = 8, scale = 2
        let textHeight = BitmapFont.glyphHeight * scale
        let glyphAdvance = (BitmapFont.glyphWidth + 1) * scale
        let rowHeight = textHeight + margin + textHeight + 4 + tileHeight
        func tileWidth(_ tile: Tile) -> Int {
            guard tile.image.height > 0 else { return tileHeight }
            return max(1, (tile.image.width * tileHeight + tile.image.height / 2) / tile.image.height)
        }
        let rowWidths = rows.map { row in
            max(row.title.count * glyphAdvance,
                row.tiles.reduce(0) { $0 + max(tileWidth($1), $1.label.count * glyphAdvance) + margin } - margin)
        }
        let width = margin + max(1, rowWidths.max() ?? 1) + margin
        let height = margin + rows.count * (rowHeight + margin) + (rows.isEmpty ? 1 : 0)

        var sheet = RGBImage(width: width, height: height, channels: 3, repeating: 32)
        let titleColor = RGBColor(red: 250, green: 250, blue: 250)
        let labelColor = RGBColor(red: 190, green: 190, blue: 190)
        for (index, row) in rows.enumerated() {
            let top = margin + index * (rowHeight + margin)
            BitmapFont.draw(row.title, into: &sheet, x: margin, y: top, scale: scale, color: titleColor)
            var left = margin
            let labelTop = top + textHeight + margin
            let imageTop = labelTop + textHeight + 4
            for tile in row.tiles {
                let thumbnailWidth = tileWidth(tile)
                BitmapFont.draw(tile.label, into: &sheet, x: left, y: labelTop, scale: scale, color: labelColor)
                paste(thumbnail(tile.image, width: thumbnailWidth, height: tileHeight), into: &sheet, x: left, y: imageTop)
                left += max(thumbnailWidth, tile.label.count * glyphAdvance) + margin
            }
        }
        return sheet
    }

    /// `image` as RGB scaled to `height` pixels high (at least 1) with its
    /// aspect ratio kept, the way ``render(_:tileHeight:)`` shows it: handy
    /// for keeping only small copies while collecting many rows.
    package static func thumbnail(_ image: Raster<UInt8>, height: Int) -> RGBImage {
        let height = max(1, height)
        let width = image.height > 0 ? max(1, (image.width * height + image.height / 2) / image.height) : height
        return thumbnail(image, width: width, height: height)
    }

    /// `image` resampled to `width` × `height` RGB: each output pixel is the
    /// mean of the source pixels under it (the nearest one when enlarging).
    static func thumbnail(_ image: Raster<UInt8>, width: Int, height: Int) -> RGBImage {
        var output = RGBImage(width: width, height: height, channels: 3, repeating: 96)
        guard image.width > 0, image.height > 0, image.channels == 1 || image.channels == 3 else { return output }
        let channels = image.channels
        image.samples.withUnsafeBufferPointer { source in
            output.samples.withUnsafeMutableBufferPointer { target in
                for y in 0..<height {
                    let y0 = y * image.height / height
                    let y1 = max(y0 + 1, (y + 1) * image.height / height)
                    for x in 0..<width {
                        let x0 = x * image.width / width
                        let x1 = max(x0 + 1, (x + 1) * image.width / width)
                        var sums = SIMD3<Int>.zero
                        for sy in y0..<y1 {
                            for sx in x0..<x1 {
                                let i = (sy * image.width + sx) * channels
                                if channels == 1 {
                                    sums &+= SIMD3(repeating: Int(source[i]))
                                } else {
                                    sums &+= SIMD3(Int(source[i]), Int(source[i + 1]), Int(source[i + 2]))
                                }
                            }
                        }
                        let count = (y1 - y0) * (x1 - x0)
                        let o = (y * width + x) * 3
                        for c in 0..<3 { target[o + c] = UInt8((sums[c] + count / 2) / count) }
                    }
                }
            }
        }
        return output
    }

    private static func paste(_ tile: RGBImage, into sheet: inout RGBImage, x: Int, y: Int) {
        for row in 0..<tile.height where y + row < sheet.height {
            for column in 0..<tile.width where x + column < sheet.width {
                let source = (row * tile.width + column) * 3
                let target = ((y + row) * sheet.width + x + column) * 3
                sheet.samples[target] = tile.samples[source]
                sheet.samples[target + 1] = tile.samples[source + 1]
                sheet.samples[target + 2] = tile.samples[source + 2]
            }
        }
    }
}
