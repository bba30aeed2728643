import Testing
@testable import Imaging

@Suite struct JPEGPlanesTests {
    @Test func rejectsPlanesOfTheWrongSize() {
        #expect(JPEGPlanes(width: 4, height: 4, chromaWidth: 3, chromaHeight: 2, luma: .init(repeating: 0, count: 16),
                           cb: .init(repeating: 0, count: 6), cr: .init(repeating: 0, count: 6)) == nil)
        #expect(JPEGPlanes(width: 4, height: 4, chromaWidth: 2, chromaHeight: 2, luma: .init(repeating: 0, count: 15),
                           cb: .init(repeating: 0, count: 4), cr: .init(repeating: 0, count: 4)) == nil)
    }

    /// Neutral chroma (128) leaves grey: R = G = B = Y.
    @Test func neutralChromaIsGrey() throws {
        let luma = (0..<30).map { UInt8($0 * 8) }
        let planes = try #require(JPEGPlanes(width: 6, height: 5, chromaWidth: 3, chromaHeight: 3, luma: luma,
                                             cb: .init(repeating: 128, count: 9), cr: .init(repeating: 128, count: 9)))
        let rgb = planes.libjpegRGB()
        for i in 0..<30 { #expect([rgb.samples[3 * i], rgb.samples[3 * i + 1], rgb.samples[3 * i + 2]] == [luma[i], luma[i], luma[i]]) }
    }

    /// h2v2 by hand: a 2×2 chroma plane [0 64; 128 255] upsampled to 4×4.
    /// Pixel (1, 1) is (9·0 + 3·64 + 3·128 + 255 + 7) >> 4 = 52 (odd column:
    /// +7); pixel (2, 1) is (9·64 + 3·0 + 3·255 + 128 + 8) >> 4 = 92.
    @Test func fancyUpsamplingMatchesLibjpegByHand() throws {
        let cb: [UInt8] = [0, 64, 128, 255]
        let planes = try #require(JPEGPlanes(width: 4, height: 4, chromaWidth: 2, chromaHeight: 2,
                                             luma: .init(repeating: 128, count: 16), cb: cb, cr: .init(repeating: 128, count: 4)))
        let rgb = planes.libjpegRGB()
        // With Cr neutral, B = Y + round(1.772 · (Cb − 128)) reveals the upsampled Cb.
        func blue(_ x: Int, _ y: Int) -> Int { Int(rgb.samples[3 * (y * 4 + x) + 2]) }
        func expectedBlue(_ cb: Int) -> Int { max(0, min(255, 128 + ((116_130 * (cb - 128) + 32_768) >> 16))) }
        #expect(blue(1, 1) == expectedBlue(52))
        #expect(blue(2, 1) == expectedBlue(92))
        // Corners keep their own sample: (16·c + 8) >> 4 = c.
        #expect(blue(0, 0) == expectedBlue(0))
        #expect(blue(3, 3) == expectedBlue(255))
    }
}
