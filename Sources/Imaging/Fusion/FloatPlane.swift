import Dispatch
import Foundation

/// A width × height plane of `Float` samples that owns its memory.
///
/// The fusion kernels work on raw pointers so the optimiser can vectorise
/// the inner loops and so a frame costs no array allocations; this class is
/// the one place that memory is allocated and freed.
final class FloatPlane {
    let width: Int
    let height: Int
    let base: UnsafeMutablePointer<Float>

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        let count = max(1, width * height)
        base = .allocate(capacity: count)
        base.initialize(repeating: 0, count: count)
    }

    deinit {
        base.deallocate()
    }

    var count: Int { width * height }

    @inline(__always)
    func row(_ y: Int) -> UnsafeMutablePointer<Float> { base + y * width }
}

/// Splits row loops into bands and runs them on all cores.
///
/// Small planes run inline: below a few tens of thousands of samples the
/// hand-off to other threads costs more than it saves.
enum RowBands {
    static let coreCount = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// The most bands ``run(rows:samplesPerRow:_:)`` uses, so callers can
    /// keep one scratch slot per band.
    static let maximumBands = coreCount * 2

    /// Calls `body` once per band of rows in `0..<rows`, the bands covering
    /// every row exactly once, in parallel when the work is large enough.
    static func run(rows: Int, samplesPerRow: Int, _ body: (Range<Int>) -> Void) {
        run(rows: rows, samplesPerRow: samplesPerRow) { rows, _ in body(rows) }
    }

    /// Like ``run(rows:samplesPerRow:_:)``, also passing each band's index
    /// (below ``maximumBands``) for per-band scratch space.
    static func run(rows: Int, samplesPerRow: Int, _ body: (Range<Int>, Int) -> Void) {
        guard rows > 0 else { return }
        let work = rows * max(1, samplesPerRow)
        let bandCount = work < 24_000 || coreCount == 1 ? 1 : min(rows, maximumBands)
        if bandCount == 1 {
            body(0..<rows, 0)
            return
        }
        // concurrentPerform wants a @Sendable closure, but the kernels'
        // closures capture raw pointers. That is safe here: it returns only
        // after every band has run (so nothing escapes), and bands write
        // disjoint rows.
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendableBox(body)
            DispatchQueue.concurrentPerform(iterations: bandCount) { band in
                let start = rows * band / bandCount
                let end = rows * (band + 1) / bandCount
                if start < end { shared.value(start..<end, band) }
            }
        }
    }
}

/// Carries a value the compiler cannot prove Sendable across a fork-join
/// boundary whose safety ``RowBands`` argues by hand.
struct UncheckedSendableBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// Separable image filters on float planes, all with clamped (replicated)
/// borders unless stated otherwise.
enum PlaneFilters {
    /// Burt–Adelson REDUCE: blur with the 5-tap binomial [1 4 6 4 1]/16 in
    /// both directions and keep every second sample. `destination` must be
    /// (w+1)/2 × (h+1)/2; `scratch` must hold h × (w+1)/2 samples.
    static func reduce(_ source: FloatPlane, into destination: FloatPlane, scratch: UnsafeMutablePointer<Float>) {
        let w = source.width, h = source.height
        let cw = destination.width, ch = destination.height
        precondition(cw == (w + 1) / 2 && ch == (h + 1) / 2, "reduce needs a half-size destination")
        RowBands.run(rows: h, samplesPerRow: w) { rows in
            for y in rows {
                reduceRow(source.row(y), width: w, into: scratch + y * cw, count: cw)
            }
        }
        RowBands.run(rows: ch, samplesPerRow: cw * 2) { rows in
            for cy in rows {
                let y = 2 * cy
                let r0 = scratch + clamp(y - 2, h) * cw
                let r1 = scratch + clamp(y - 1, h) * cw
                let r2 = scratch + clamp(y, h) * cw
                let r3 = scratch + clamp(y + 1, h) * cw
                let r4 = scratch + clamp(y + 2, h) * cw
                let out = destination.row(cy)
                for x in 0..<cw {
                    out[x] = (r0[x] + r4[x] + 4 * (r1[x] + r3[x]) + 6 * r2[x]) * (1 / 256)
                }
            }
        }
    }

    /// One row of REDUCE's horizontal pass, unnormalised (×16).
    @inline(__always)
    private static func reduceRow(_ s: UnsafeMutablePointer<Float>, width w: Int,
                                  into out: UnsafeMutablePointer<Float>, count cw: Int) {
        // Interior outputs need no clamping: 2x-2 >= 0 and 2x+2 <= w-1.
        let firstInterior = 1
        let lastInterior = (w - 3) / 2   // largest x with 2x + 2 <= w - 1
        for x in 0..<cw where x < firstInterior || x > lastInterior {
            let c = 2 * x
            out[x] = s[clamp(c - 2, w)] + s[clamp(c + 2, w)]
                + 4 * (s[clamp(c - 1, w)] + s[clamp(c + 1, w)]) + 6 * s[clamp(c, w)]
        }
        if lastInterior >= firstInterior {
            for x in firstInterior...lastInterior {
                let c = 2 * x
                out[x] = s[c - 2] + s[c + 2] + 4 * (s[c - 1] + s[c + 1]) + 6 * s[c]
            }
        }
    }

    /// The horizontal half of Burt–Adelson EXPAND: `coarse` rows upsampled
    /// to `fineWidth` columns, written to `destination` (coarse.height rows
    /// of `fineWidth`). Even outputs are (c[i-1] + 6c[i] + c[i+1]) / 8, odd
    /// ones (c[i] + c[i+1]) / 2, which is the 5-tap binomial applied to the
    /// zero-stuffed signal.
    static func expandRows(_ coarse: FloatPlane, fineWidth: Int, into destination: UnsafeMutablePointer<Float>) {
        let cw = coarse.width
        RowBands.run(rows: coarse.height, samplesPerRow: fineWidth) { rows in
            for y in rows {
                let c = coarse.row(y)
                let out = destination + y * fineWidth
                for x in 0..<fineWidth {
                    let i = x >> 1
                    if x & 1 == 0 {
                        out[x] = (c[clamp(i - 1, cw)] + 6 * c[i] + c[clamp(i + 1, cw)]) * 0.125
                    } else {
                        out[x] = (c[i] + c[clamp(i + 1, cw)]) * 0.5
                    }
                }
            }
        }
    }

    /// Box (mean) filter of radius `radius` ((2r+1)² window), normalised by
    /// the number of samples inside the image so borders are not darkened.
    /// Running sums make the cost independent of the radius. `scratch` must
    /// hold w × h samples and `accumulators` `RowBands.maximumBands + 1`
    /// rows of w (one per band, plus one for the column counts). `source`
    /// and `destination` may be the same plane.
    static func boxFilter(_ source: FloatPlane, radius r: Int, into destination: FloatPlane,
                          scratch: UnsafeMutablePointer<Float>, accumulators: UnsafeMutablePointer<Float>) {
        let w = source.width, h = source.height
        // Horizontal pass, each row divided by its column counts. A running
        // sum is a chain of dependent adds, so four rows go in lock-step to
        // keep four independent chains in flight.
        let inverseCounts = accumulators + RowBands.maximumBands * w
        for x in 0..<w { inverseCounts[x] = 1 / Float(min(x + r, w - 1) - max(x - r, 0) + 1) }
        RowBands.run(rows: h, samplesPerRow: w) { rows in
            var y = rows.lowerBound
            while y + 4 <= rows.upperBound {
                let s0 = source.row(y), s1 = source.row(y + 1), s2 = source.row(y + 2), s3 = source.row(y + 3)
                let o0 = scratch + y * w, o1 = o0 + w, o2 = o1 + w, o3 = o2 + w
                var sum0: Float = 0, sum1: Float = 0, sum2: Float = 0, sum3: Float = 0
                for x in 0..<min(r, w) { sum0 += s0[x]; sum1 += s1[x]; sum2 += s2[x]; sum3 += s3[x] }
                for x in 0..<w {
                    if x + r < w {
                        sum0 += s0[x + r]; sum1 += s1[x + r]; sum2 += s2[x + r]; sum3 += s3[x + r]
                    }
                    if x - r - 1 >= 0 {
                        let old = x - r - 1
                        sum0 -= s0[old]; sum1 -= s1[old]; sum2 -= s2[old]; sum3 -= s3[old]
                    }
                    let scale = inverseCounts[x]
                    o0[x] = sum0 * scale; o1[x] = sum1 * scale; o2[x] = sum2 * scale; o3[x] = sum3 * scale
                }
                y += 4
            }
            while y < rows.upperBound {
                let s = source.row(y), out = scratch + y * w
                var sum: Float = 0
                for x in 0..<min(r, w) { sum += s[x] }
                for x in 0..<w {
                    if x + r < w { sum += s[x + r] }
                    if x - r - 1 >= 0 { sum -= s[x - r - 1] }
                    out[x] = sum * inverseCounts[x]
                }
                y += 1
            }
        }
        // Vertical pass: one running column sum per band.
        RowBands.run(rows: h, samplesPerRow: w) { rows, band in
            let acc = accumulators + band * w
            for x in 0..<w { acc[x] = 0 }
            // Rows y0-r-1 ..< y0+r, so the first step's add and subtract leave
            // exactly the window y0-r ... y0+r.
            for yy in max(0, rows.lowerBound - r - 1)..<min(h, rows.lowerBound + r) {
                let t = scratch + yy * w
                for x in 0..<w { acc[x] += t[x] }
            }
            for y in rows {
                if y + r < h {
                    let add = scratch + (y + r) * w
                    for x in 0..<w { acc[x] += add[x] }
                }
                if y - r - 1 >= 0 {
                    let sub = scratch + (y - r - 1) * w
                    for x in 0..<w { acc[x] -= sub[x] }
                }
                let scale = 1 / Float(min(y + r, h - 1) - max(y - r, 0) + 1)
                let out = destination.row(y)
                for x in 0..<w { out[x] = acc[x] * scale }
            }
        }
    }

    @inline(__always)
    static func clamp(_ i: Int, _ n: Int) -> Int { i < 0 ? 0 : (i >= n ? n - 1 : i) }
}
