import Dispatch
import Foundation

/// One point seen in both cameras: where it is in the visible image and
/// where it is in the thermal image, in pixels.
///
/// Pixel coordinates put the centre of the top-left pixel at (0, 0), x to the
/// right (columns) and y down (rows).
package struct PointCorrespondence: Sendable, Codable, Equatable {
    package var visible: SIMD2<Double>
    package var thermal: SIMD2<Double>

    package init(visible: SIMD2<Double>, thermal: SIMD2<Double>) {
        self.visible = visible
        self.thermal = thermal
    }
}

/// Why a homography could not be estimated, loaded or used.
package enum HomographyError: Error, CustomStringConvertible, Equatable {
    case tooFewPoints(needed: Int, got: Int)
    case degenerate(String)
    case invalidMatrix(String)
    case unreadable(path: String, reason: String)

    package var description: String {
        switch self {
        case let .tooFewPoints(needed, got):
            return "homography estimation needs at least \(needed) point pairs, got \(got)"
        case let .degenerate(why):
            return "homography estimation failed: \(why)"
        case let .invalidMatrix(why):
            return "invalid homography: \(why)"
        case let .unreadable(path, reason):
            return "cannot read homography file \(path): \(reason)"
        }
    }
}

/// A plane projective transform from visible-image pixel coordinates to
/// thermal-image pixel coordinates: (x', y', w')ᵀ = H (x, y, 1)ᵀ, thermal
/// point = (x'/w', y'/w').
///
/// Calibrating a visible camera to a thermal one means estimating this
/// matrix from a few points clicked in both images
/// (``estimate(from:)-(_:)``), saving it, and then warping every visible
/// frame onto the thermal grid (``warp(_:toWidth:height:)``) so the two can
/// be fused pixel for pixel.
///
/// File format (``write(to:)``, ``init(contentsOf:)``): a JSON object with
/// one key, the nine entries row by row, for example the identity:
///
///     {"homography":[1,0,0,0,1,0,0,0,1]}
package struct Homography: Sendable, Codable, Equatable {
    /// The 3×3 matrix, row-major: [h11, h12, h13, h21, h22, h23, h31, h32, h33].
    package let matrix: [Double]

    /// The identity: both images already share one pixel grid.
    package static let identity = Homography(uncheckedMatrix: [1, 0, 0, 0, 1, 0, 0, 0, 1])

    /// A matrix given row-major; it must have nine finite entries and be invertible.
    package init(matrix: [Double]) throws {
        guard matrix.count == 9 else {
            throw HomographyError.invalidMatrix("expected 9 numbers, got \(matrix.count)")
        }
        guard matrix.allSatisfy(\.isFinite) else {
            throw HomographyError.invalidMatrix("entries must be finite numbers")
        }
        let scale = matrix.map(abs).max() ?? 0
        guard scale > 0, abs(Self.determinant(matrix)) > 1e-12 * scale * scale * scale else {
            throw HomographyError.invalidMatrix("the matrix is singular")
        }
        self.matrix = matrix
    }

    init(uncheckedMatrix: [Double]) {
        matrix = uncheckedMatrix
    }

    /// A pure shift: thermal = visible + (dx, dy).
    package static func translation(dx: Double, dy: Double) -> Homography {
        Homography(uncheckedMatrix: [1, 0, dx, 0, 1, dy, 0, 0, 1])
    }

    /// The thermal position of a visible-image point, or nil when the point
    /// maps to infinity.
    package func map(_ point: SIMD2<Double>) -> SIMD2<Double>? {
        Self.apply(matrix, point)
    }

    /// The transform from thermal coordinates back to visible ones.
    package var inverse: Homography {
        Homography(uncheckedMatrix: Self.normalised(Self.inverted(matrix)))
    }

    // MARK: Estimation

    /// Estimates the homography that best maps each pair's visible point
    /// onto its thermal point, by the normalised direct linear transform
    /// (Hartley & Zisserman, algorithm 4.2): both point sets are moved to
    /// their centroid and scaled to a mean distance of √2, the 2n × 9 system
    /// A h = 0 is solved in the least-squares sense as the eigenvector of AᵀA
    /// with the smallest eigenvalue, and the normalisation is undone.
    ///
    /// Four pairs in general position determine the homography exactly; more
    /// pairs are fitted in the least-squares (algebraic) sense. With exactly
    /// three pairs a homography is underdetermined, so the affine fit of
    /// ``estimateAffine(from:)`` is returned instead.
    package static func estimate(from pairs: [PointCorrespondence]) throws -> Homography {
        // Three pairs are enough for the affine fallback, so that is the minimum.
        guard pairs.count >= 3 else { throw HomographyError.tooFewPoints(needed: 3, got: pairs.count) }
        if pairs.count == 3 { return try estimateAffine(from: pairs) }
        try requireFinite(pairs)
        let visibleFrame = try NormalisingFrame(pairs.map(\.visible), name: "visible")
        let thermalFrame = try NormalisingFrame(pairs.map(\.thermal), name: "thermal")

        var normal = [Double](repeating: 0, count: 81)
        for pair in pairs {
            let p = visibleFrame.apply(pair.visible), q = thermalFrame.apply(pair.thermal)
            let rows: [[Double]] = [
                [-p.x, -p.y, -1, 0, 0, 0, q.x * p.x, q.x * p.y, q.x],
                [0, 0, 0, -p.x, -p.y, -1, q.y * p.x, q.y * p.y, q.y],
            ]
            for row in rows {
                for i in 0..<9 {
                    for j in i..<9 { normal[i * 9 + j] += row[i] * row[j] }
                }
            }
        }
        for i in 0..<9 { for j in 0..<i { normal[i * 9 + j] = normal[j * 9 + i] } }

        let (values, vectors) = SymmetricEigen.decompose(normal, size: 9)
        // A unique solution (up to scale) needs a one-dimensional null space.
        let largest = max(values[8], 1e-300)
        guard values[1] > 1e-10 * largest else {
            throw HomographyError.degenerate("the points do not pin down a unique homography (three or more are collinear)")
        }
        let h = (0..<9).map { vectors[$0 * 9] }   // column 0: smallest eigenvalue
        let denormalised = multiply(thermalFrame.inverseMatrix, multiply(h, visibleFrame.matrix))
        guard abs(determinant(denormalised)) > 0, denormalised.allSatisfy(\.isFinite) else {
            throw HomographyError.degenerate("the fitted matrix is singular")
        }
        return Homography(uncheckedMatrix: normalised(denormalised))
    }

    /// ``estimate(from:)-(_:)`` for pairs given as tuples.
    package static func estimate(from pairs: [(visible: SIMD2<Double>, thermal: SIMD2<Double>)]) throws -> Homography {
        try estimate(from: pairs.map { PointCorrespondence(visible: $0.visible, thermal: $0.thermal) })
    }

    /// Fits an affine transform (last row 0 0 1: rotation, scale, shear and
    /// shift, no perspective) by least squares; three pairs determine it.
    package static func estimateAffine(from pairs: [PointCorrespondence]) throws -> Homography {
        guard pairs.count >= 3 else { throw HomographyError.tooFewPoints(needed: 3, got: pairs.count) }
        try requireFinite(pairs)
        let visibleFrame = try NormalisingFrame(pairs.map(\.visible), name: "visible")
        let thermalFrame = try NormalisingFrame(pairs.map(\.thermal), name: "thermal")
        // Normal equations M [a b c]ᵀ = r, one right-hand side per output coordinate.
        var m = [Double](repeating: 0, count: 9)
        var rx = [Double](repeating: 0, count: 3), ry = rx
        for pair in pairs {
            let p = visibleFrame.apply(pair.visible), q = thermalFrame.apply(pair.thermal)
            let v = [p.x, p.y, 1]
            for i in 0..<3 {
                for j in 0..<3 { m[i * 3 + j] += v[i] * v[j] }
                rx[i] += v[i] * q.x
                ry[i] += v[i] * q.y
            }
        }
        guard abs(determinant(m)) > 1e-10 * Double(pairs.count * pairs.count * pairs.count) else {
            throw HomographyError.degenerate("the visible points are collinear")
        }
        let inverseM = inverted(m)
        let top = (0..<3).map { i in (0..<3).reduce(0) { $0 + inverseM[i * 3 + $1] * rx[$1] } }
        let middle = (0..<3).map { i in (0..<3).reduce(0) { $0 + inverseM[i * 3 + $1] * ry[$1] } }
        let affine = top + middle + [0, 0, 1]
        let denormalised = multiply(thermalFrame.inverseMatrix, multiply(affine, visibleFrame.matrix))
        guard abs(determinant(denormalised)) > 1e-12 else {
            throw HomographyError.degenerate("the thermal points are collinear")
        }
        return Homography(uncheckedMatrix: normalised(denormalised))
    }

    /// ``estimateAffine(from:)`` for pairs given as tuples.
    package static func estimateAffine(from pairs: [(visible: SIMD2<Double>, thermal: SIMD2<Double>)]) throws -> Homography {
        try estimateAffine(from: pairs.map { PointCorrespondence(visible: $0.visible, thermal: $0.thermal) })
    }

    /// How far, in thermal pixels, mapped visible points land from their
    /// thermal partners.
    package struct ReprojectionError: Sendable, Equatable {
        /// Root mean square distance.
        package var rms: Double
        /// Largest distance (infinite when a point maps to infinity).
        package var maximum: Double
    }

    /// The reprojection error of this transform on `pairs`.
    package func reprojectionError(_ pairs: [PointCorrespondence]) -> ReprojectionError {
        guard !pairs.isEmpty else { return ReprojectionError(rms: 0, maximum: 0) }
        var sumSquares = 0.0, largest = 0.0
        for pair in pairs {
            guard let mapped = map(pair.visible) else { return ReprojectionError(rms: .infinity, maximum: .infinity) }
            let d = mapped - pair.thermal
            let squared = d.x * d.x + d.y * d.y
            sumSquares += squared
            largest = max(largest, squared.squareRoot())
        }
        return ReprojectionError(rms: (sumSquares / Double(pairs.count)).squareRoot(), maximum: largest)
    }

    /// ``reprojectionError(_:)-(_:)`` for pairs given as tuples.
    package func reprojectionError(_ pairs: [(visible: SIMD2<Double>, thermal: SIMD2<Double>)]) -> ReprojectionError {
        reprojectionError(pairs.map { PointCorrespondence(visible: $0.visible, thermal: $0.thermal) })
    }

    // MARK: Warping

    /// `warp` for colour: the same resampling, an `RGBImage` in and out.
    package func warp(_ image: RGBImage, toWidth width: Int, height: Int) -> RGBImage {
        RGBImage(warp(image.raster, toWidth: width, height: height))
    }

    /// Resamples a visible image onto the thermal pixel grid: output pixel
    /// (x, y) takes the bilinear sample of `image` at H⁻¹(x, y). Pixels that
    /// fall outside the visible image are black. Works for any channel count.
    package func warp(_ image: Raster<UInt8>, toWidth width: Int, height: Int) -> Raster<UInt8> {
        precondition(width >= 0 && height >= 0, "warp size must not be negative")
        let channels = image.channels
        var output = [UInt8](repeating: 0, count: width * height * channels)
        guard image.width > 0, image.height > 0 else {
            return Raster(width: width, height: height, channels: channels, samples: output)
        }
        let m = Self.inverted(matrix)
        let sourceWidth = image.width, sourceHeight = image.height
        let maxX = Double(sourceWidth - 1), maxY = Double(sourceHeight - 1)
        let lastX = max(0, sourceWidth - 2), lastY = max(0, sourceHeight - 2)
        image.samples.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                let src = source.baseAddress!, dst = destination.baseAddress!
                RowBands.run(rows: height, samplesPerRow: width * 8) { rows in
                    for y in rows {
                        let fy = Double(y)
                        // Homogeneous source coordinates are affine in x along a row.
                        let startX = m[1] * fy + m[2], startY = m[4] * fy + m[5], startW = m[7] * fy + m[8]
                        let out = dst + y * width * channels
                        for x in 0..<width {
                            let fx = Double(x)
                            let hw = startW + m[6] * fx
                            guard hw > 0 else { continue }
                            let inverseW = 1 / hw
                            let sx = (startX + m[0] * fx) * inverseW, sy = (startY + m[3] * fx) * inverseW
                            guard sx >= 0, sy >= 0, sx <= maxX, sy <= maxY else { continue }
                            // The last row/column interpolates with itself (weight 0 beyond it).
                            let x0 = min(Int(sx), lastX), y0 = min(Int(sy), lastY)
                            let ax = Float(sx - Double(x0)), ay = Float(sy - Double(y0))
                            let stepX = x0 + 1 < sourceWidth ? channels : 0
                            let stepY = y0 + 1 < sourceHeight ? sourceWidth * channels : 0
                            let p00 = src + (y0 * sourceWidth + x0) * channels
                            let p01 = p00 + stepX, p10 = p00 + stepY, p11 = p10 + stepX
                            let w00 = (1 - ax) * (1 - ay), w01 = ax * (1 - ay), w10 = (1 - ax) * ay, w11 = ax * ay
                            let o = out + x * channels
                            if channels == 3 {
                                o[0] = Self.blend(p00[0], p01[0], p10[0], p11[0], w00, w01, w10, w11)
                                o[1] = Self.blend(p00[1], p01[1], p10[1], p11[1], w00, w01, w10, w11)
                                o[2] = Self.blend(p00[2], p01[2], p10[2], p11[2], w00, w01, w10, w11)
                            } else {
                                for c in 0..<channels {
                                    o[c] = Self.blend(p00[c], p01[c], p10[c], p11[c], w00, w01, w10, w11)
                                }
                            }
                        }
                    }
                }
            }
        }
        return Raster(width: width, height: height, channels: channels, samples: output)
    }

    @inline(__always)
    private static func blend(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8,
                              _ wa: Float, _ wb: Float, _ wc: Float, _ wd: Float) -> UInt8 {
        // A convex combination of bytes stays within 0…255; + 0.5 rounds.
        UInt8(min(255, wa * Float(a) + wb * Float(b) + wc * Float(c) + wd * Float(d) + 0.5))
    }

    // MARK: File format

    private enum CodingKeys: String, CodingKey { case homography }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(matrix: try container.decode([Double].self, forKey: .homography))
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(matrix, forKey: .homography)
    }

    /// Loads a homography saved by ``write(to:)``.
    package init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw HomographyError.unreadable(path: url.path, reason: "the file cannot be opened")
        }
        do {
            self = try JSONDecoder().decode(Homography.self, from: data)
        } catch let error as HomographyError {
            throw HomographyError.unreadable(path: url.path, reason: error.description)
        } catch {
            throw HomographyError.unreadable(path: url.path, reason: #"expected {"homography":[9 numbers]}"#)
        }
    }

    /// Saves the matrix as `{"homography":[…9 numbers…]}`.
    package func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(self).write(to: url, options: .atomic)
    }

    // MARK: 3×3 helpers

    static func apply(_ m: [Double], _ p: SIMD2<Double>) -> SIMD2<Double>? {
        let w = m[6] * p.x + m[7] * p.y + m[8]
        guard w != 0, w.isFinite else { return nil }
        return SIMD2((m[0] * p.x + m[1] * p.y + m[2]) / w, (m[3] * p.x + m[4] * p.y + m[5]) / w)
    }

    static func multiply(_ a: [Double], _ b: [Double]) -> [Double] {
        var c = [Double](repeating: 0, count: 9)
        for i in 0..<3 { for j in 0..<3 { for k in 0..<3 { c[i * 3 + j] += a[i * 3 + k] * b[k * 3 + j] } } }
        return c
    }

    static func determinant(_ m: [Double]) -> Double {
        m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6])
    }

    static func inverted(_ m: [Double]) -> [Double] {
        let d = determinant(m)
        let adjugate = [
            m[4] * m[8] - m[5] * m[7], m[2] * m[7] - m[1] * m[8], m[1] * m[5] - m[2] * m[4],
            m[5] * m[6] - m[3] * m[8], m[0] * m[8] - m[2] * m[6], m[2] * m[3] - m[0] * m[5],
            m[3] * m[7] - m[4] * m[6], m[1] * m[6] - m[0] * m[7], m[0] * m[4] - m[1] * m[3],
        ]
        return adjugate.map { $0 / d }
    }

    /// Scales so h33 = 1 when possible (the conventional form), otherwise to unit norm.
    static func normalised(_ m: [Double]) -> [Double] {
        let norm = m.reduce(0) { $0 + $1 * $1 }.squareRoot()
        if abs(m[8]) > 1e-12 * norm { return m.map { $0 / m[8] } }
        return m.map { $0 / norm }
    }

    private static func requireFinite(_ pairs: [PointCorrespondence]) throws {
        for (index, pair) in pairs.enumerated()
        where !(pair.visible.x.isFinite && pair.visible.y.isFinite && pair.thermal.x.isFinite && pair.thermal.y.isFinite) {
            throw HomographyError.degenerate("point pair \(index + 1) has a non-finite coordinate")
        }
    }
}

/// Hartley's conditioning: a similarity that moves points to their centroid
/// and scales them to a mean distance of √2 from it.
private struct NormalisingFrame {
    let matrix: [Double]
    let inverseMatrix: [Double]

    init(_ points: [SIMD2<Double>], name: String) throws {
        let centroid = points.reduce(SIMD2<Double>.zero, +) / Double(points.count)
        let meanDistance = points.reduce(0.0) { sum, p in
            let d = p - centroid
            return sum + (d.x * d.x + d.y * d.y).squareRoot()
        } / Double(points.count)
        guard meanDistance > 1e-12 * max(1, abs(centroid.x) + abs(centroid.y)) else {
            throw HomographyError.degenerate("all \(name) points coincide")
        }
        let s = 2.0.squareRoot() / meanDistance
        matrix = [s, 0, -s * centroid.x, 0, s, -s * centroid.y, 0, 0, 1]
        inverseMatrix = [1 / s, 0, centroid.x, 0, 1 / s, centroid.y, 0, 0, 1]
    }

    func apply(_ p: SIMD2<Double>) -> SIMD2<Double> {
        SIMD2(matrix[0] * p.x + matrix[2], matrix[4] * p.y + matrix[5])
    }
}

/// Eigen-decomposition of small symmetric matrices by cyclic Jacobi
/// rotations: slow for big matrices, exact and dependable for 9 × 9.
enum SymmetricEigen {
    /// Eigenvalues in ascending order and the matching unit eigenvectors as
    /// the columns of a row-major size × size matrix.
    static func decompose(_ input: [Double], size n: Int) -> (values: [Double], vectors: [Double]) {
        var a = input
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        for _ in 0..<100 {
            var off = 0.0, total = 0.0
            for i in 0..<n {
                for j in 0..<n {
                    total += a[i * n + j] * a[i * n + j]
                    if i != j { off += a[i * n + j] * a[i * n + j] }
                }
            }
            if off <= 1e-30 * total || off == 0 { break }
            for p in 0..<(n - 1) {
                for q in (p + 1)..<n {
                    let apq = a[p * n + q]
                    if apq == 0 { continue }
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        let order = (0..<n).sorted { a[$0 * n + $0] < a[$1 * n + $1] }
        let values = order.map { a[$0 * n + $0] }
        var vectors = [Double](repeating: 0, count: n * n)
        for (column, source) in order.enumerated() {
            for k in 0..<n { vectors[k * n + column] = v[k * n + source] }
        }
        return (values, vectors)
    }
}
