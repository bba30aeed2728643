/// How ``ImageFuser`` merges thermal intensity into the visible luminance.
package enum FusionMethod: String, CaseIterable, Sendable {
    /// Laplacian pyramid fusion (Burt & Adelson): each band-pass level takes
    /// the detail of the source with more energy there (a soft max-abs), the
    /// coarsest level is a saliency-weighted average. The default: sharp and
    /// the fastest method that keeps both sources' detail.
    case pyramid
    /// Guided-filter fusion after Li, Kang & Hu ("Image fusion with guided
    /// filtering", 2013): a two-scale base/detail split with weight maps
    /// refined by guided filters. Unlike GFF, the base weight comes from
    /// visual saliency (as in ``pyramid``) and the detail choice from local
    /// detail energy rather than the Laplacian, so flat hot objects are not
    /// lost against textured visible backgrounds.
    case guided
    /// Per-pixel average weighted by each source's visual saliency
    /// (histogram contrast, Ma et al. 2017).
    case weighted
    /// The brighter of the two luminances.
    case max
}

/// Why a pair of frames could not be fused.
package enum FusionError: Error, CustomStringConvertible, Equatable {
    case sizeMismatch(thermal: String, visible: String)
    case wrongChannels(image: String, expected: Int, got: Int)

    package var description: String {
        switch self {
        case let .sizeMismatch(thermal, visible):
            return "fusion needs frames of one size: thermal is \(thermal), visible is \(visible) (warp the visible frame onto the thermal grid first)"
        case let .wrongChannels(image, expected, got):
            return "fusion needs a \(expected)-channel \(image) frame, got \(got) channels"
        }
    }
}

/// Fuses a thermal frame into a visible colour frame of the same size.
///
/// The visible frame is split into BT.601 luma and chroma; the luma is fused
/// with the thermal intensity by ``method`` and the visible chroma is kept,
/// so hot objects show up as brightness and the scene keeps its colours.
///
/// Working buffers live inside the fuser and are reused from frame to frame
/// (they are rebuilt only when the frame size changes), so one fuser per
/// stream avoids per-frame allocation. Copies of a fuser share those buffers
/// until one of them fuses, at which point it takes its own.
package struct ImageFuser: Sendable {
    /// The fusion rule.
    package var method: FusionMethod
    /// Levels of the Laplacian pyramid, counting full resolution (2–8).
    package var pyramidLevels: Int {
        didSet { pyramidLevels = min(8, max(2, pyramidLevels)) }
    }

    private var workspace = FusionWorkspace()

    package init(method: FusionMethod = .pyramid, pyramidLevels: Int = 5) {
        self.method = method
        self.pyramidLevels = min(8, max(2, pyramidLevels))
    }

    /// The fused colour frame. `thermal` is 1-channel, `visible` 3-channel
    /// RGB, both the same width and height.
    package mutating func fuse(thermal: Gray8Image, visible: RGBImage) throws(FusionError) -> RGBImage {
        var output = RGBImage(width: 0, height: 0, channels: 3, samples: [])
        try fuse(thermal: thermal, visible: visible, into: &output)
        return output
    }

    /// Like ``fuse(thermal:visible:)`` but writes into `output`, reusing its
    /// storage when it already has the right size.
    package mutating func fuse(thermal: Gray8Image, visible: RGBImage, into output: inout RGBImage) throws(FusionError) {
        guard thermal.channels == 1 else {
            throw .wrongChannels(image: "thermal", expected: 1, got: thermal.channels)
        }
        guard thermal.width == visible.width, thermal.height == visible.height else {
            throw .sizeMismatch(thermal: "\(thermal.width)×\(thermal.height)", visible: "\(visible.width)×\(visible.height)")
        }
        if output.width != visible.width || output.height != visible.height || output.channels != 3 {
            output = RGBImage(width: visible.width, height: visible.height, channels: 3, repeating: 0)
        }
        if !isKnownUniquelyReferenced(&workspace) { workspace = FusionWorkspace() }
        let workspace = self.workspace
        let method = self.method, levels = self.pyramidLevels
        thermal.samples.withUnsafeBufferPointer { thermalSamples in
            visible.samples.withUnsafeBufferPointer { visibleSamples in
                output.samples.withUnsafeMutableBufferPointer { outputSamples in
                    workspace.fuse(method: method, levels: levels,
                                   width: thermal.width, height: thermal.height,
                                   thermal: thermalSamples.baseAddress!, visible: visibleSamples.baseAddress!,
                                   output: outputSamples.baseAddress!)
                }
            }
        }
    }
}

/// The fuser's buffers and kernels. Only ever used by one fuse call at a
/// time: ``ImageFuser`` takes a fresh workspace whenever its own is shared.
final class FusionWorkspace: @unchecked Sendable {
    private var width = 0, height = 0
    private var planes: [String: FloatPlane] = [:]
    private var pyramidThermal: [FloatPlane] = []
    private var pyramidVisible: [FloatPlane] = []
    private var pyramidFused: [FloatPlane] = []
    private var scratch = ScratchBuffer()
    private var expandScratch = ScratchBuffer()
    private var accumulators = ScratchBuffer()
    private var histogramSlots = [Int32]()
    private var histogram = [Double](repeating: 0, count: 512)
    private var saliencyScratch = [Float](repeating: 0, count: 512)

    private static let bandSlots = RowBands.maximumBands + 1

    func fuse(method: FusionMethod, levels: Int, width: Int, height: Int,
              thermal: UnsafePointer<UInt8>, visible: UnsafePointer<UInt8>, output: UnsafeMutablePointer<UInt8>) {
        guard width > 0, height > 0 else { return }
        if width != self.width || height != self.height {
            self.width = width
            self.height = height
            planes = [:]
            pyramidThermal = []
            pyramidVisible = []
            pyramidFused = []
        }
        switch method {
        case .pyramid: fusePyramid(levels: levels, thermal: thermal, visible: visible, output: output)
        case .guided: fuseGuided(thermal: thermal, visible: visible, output: output)
        case .weighted: fuseWeighted(thermal: thermal, visible: visible, output: output)
        case .max: fuseMax(thermal: thermal, visible: visible, output: output)
        }
    }

    private func plane(_ name: String) -> FloatPlane {
        if let existing = planes[name] { return existing }
        let created = FloatPlane(width: width, height: height)
        planes[name] = created
        return created
    }

    // MARK: Shared passes

    /// Thermal bytes and visible luma into float planes; optionally their
    /// histograms (thermal in bins 0–255, rounded luma in 256–511).
    private func loadInputs(thermal: UnsafePointer<UInt8>, visible: UnsafePointer<UInt8>,
                            into thermalPlane: FloatPlane, _ lumaPlane: FloatPlane, histograms: Bool) {
        let w = width
        let slots = Self.bandSlots
        if histograms {
            if histogramSlots.count != slots * 512 { histogramSlots = [Int32](repeating: 0, count: slots * 512) }
            for i in histogramSlots.indices { histogramSlots[i] = 0 }
        }
        histogramSlots.withUnsafeMutableBufferPointer { slotBuffer in
            let slotBase = slotBuffer.baseAddress
            RowBands.run(rows: height, samplesPerRow: w * 4) { rows, band in
                let t = thermalPlane.row(rows.lowerBound), l = lumaPlane.row(rows.lowerBound)
                let start = rows.lowerBound * w, count = rows.count * w
                let th = thermal + start, vis = visible + 3 * start
                for i in 0..<count {
                    t[i] = Float(th[i])
                    l[i] = ColorConversion.luma(red: Float(vis[3 * i]), green: Float(vis[3 * i + 1]), blue: Float(vis[3 * i + 2]))
                }
                if histograms, let slotBase {
                    let hist = slotBase + band * 512
                    for i in 0..<count {
                        hist[Int(th[i])] &+= 1
                        hist[256 + Int(l[i] + 0.5)] &+= 1
                    }
                }
            }
        }
    }

    /// Visual-saliency lookup tables (Ma et al. 2017): the saliency of a
    /// grey level is its summed absolute difference to every pixel of the
    /// image, from the histogram, scaled so the most salient level present
    /// is 1. Rare levels far from the bulk (a hot target) score high.
    /// Filled in place, thermal then visible, 256 entries each.
    private func saliencyTables() -> [Float] {
        for i in 0..<512 { histogram[i] = 0 }
        for slot in 0..<Self.bandSlots {
            for i in 0..<512 { histogram[i] += Double(histogramSlots[slot * 512 + i]) }
        }
        for offset in [0, 256] {
            var largest = 0.0
            for level in 0..<256 {
                var sum = 0.0
                for j in 0..<256 { sum += histogram[offset + j] * Double(abs(level - j)) }
                saliencyScratch[offset + level] = Float(sum)
                if histogram[offset + level] > 0 { largest = max(largest, sum) }
            }
            for level in 0..<256 {
                saliencyScratch[offset + level] = largest > 0 ? min(1, saliencyScratch[offset + level] / Float(largest)) : 0
            }
        }
        return saliencyScratch
    }

    /// Writes visible RGB shifted by the luma change: replacing Y while
    /// keeping Cb and Cr adds the same ΔY to R, G and B.
    private func writeOutput(fused: FloatPlane, luma: FloatPlane,
                             visible: UnsafePointer<UInt8>, output: UnsafeMutablePointer<UInt8>) {
        let w = width
        RowBands.run(rows: height, samplesPerRow: w * 3) { rows in
            let start = rows.lowerBound * w, count = rows.count * w
            let f = fused.base + start, l = luma.base + start
            let vis = visible + 3 * start, out = output + 3 * start
            for i in 0..<count {
                let delta = f[i] - l[i]
                out[3 * i] = Self.toByte(Float(vis[3 * i]) + delta)
                out[3 * i + 1] = Self.toByte(Float(vis[3 * i + 1]) + delta)
                out[3 * i + 2] = Self.toByte(Float(vis[3 * i + 2]) + delta)
            }
        }
    }

    // MARK: Pyramid

    private func preparePyramid(levels: Int) {
        guard pyramidThermal.count != levels else { return }
        pyramidThermal = []; pyramidVisible = []; pyramidFused = []
        var w = width, h = height
        for _ in 0..<levels {
            pyramidThermal.append(FloatPlane(width: w, height: h))
            pyramidVisible.append(FloatPlane(width: w, height: h))
            pyramidFused.append(FloatPlane(width: w, height: h))
            w = (w + 1) / 2; h = (h + 1) / 2
        }
    }

    private func fusePyramid(levels requested: Int, thermal: UnsafePointer<UInt8>, visible: UnsafePointer<UInt8>,
                             output: UnsafeMutablePointer<UInt8>) {
        // Stop before a level would be smaller than 2 × 2.
        var levels = 1, w = width, h = height
        while levels < requested && w >= 4 && h >= 4 { levels += 1; w = (w + 1) / 2; h = (h + 1) / 2 }
        preparePyramid(levels: levels)
        let a = pyramidThermal, b = pyramidVisible, f = pyramidFused
        loadInputs(thermal: thermal, visible: visible, into: a[0], b[0], histograms: true)

        let reduceScratch = scratch.pointer(count: height * ((width + 1) / 2))
        for k in 0..<(levels - 1) {
            PlaneFilters.reduce(a[k], into: a[k + 1], scratch: reduceScratch)
            PlaneFilters.reduce(b[k], into: b[k + 1], scratch: reduceScratch)
        }

        // Coarsest level: saliency-weighted average (Ma et al.'s base rule),
        // so a hot region keeps more of its thermal contrast than a plain mean.
        let top = levels - 1
        saliencyTables().withUnsafeBufferPointer { tables in
            let st = tables.baseAddress!, sv = st + 256
            let n = a[top].count
            let at = a[top].base, bt = b[top].base, ft = f[top].base
            for i in 0..<n {
                let weight = 0.5 + 0.5 * (st[Self.byteIndex(at[i])] - sv[Self.byteIndex(bt[i])])
                ft[i] = bt[i] + weight * (at[i] - bt[i])
            }
        }

        // Collapse: F_k = EXPAND(F_k+1) + chosen detail of A_k − EXPAND(A_k+1)
        // and B_k − EXPAND(B_k+1).
        let rowsNeeded = ((height + 1) / 2) * width
        let tempA = expandScratch.pointer(count: rowsNeeded * 3)
        let tempB = tempA + rowsNeeded, tempF = tempB + rowsNeeded
        for k in stride(from: levels - 2, through: 0, by: -1) {
            let fineWidth = a[k].width, fineHeight = a[k].height
            let coarseHeight = a[k + 1].height
            PlaneFilters.expandRows(a[k + 1], fineWidth: fineWidth, into: tempA)
            PlaneFilters.expandRows(b[k + 1], fineWidth: fineWidth, into: tempB)
            PlaneFilters.expandRows(f[k + 1], fineWidth: fineWidth, into: tempF)
            let ak = a[k], bk = b[k], fk = f[k]
            RowBands.run(rows: fineHeight, samplesPerRow: fineWidth * 4) { rows in
                for y in rows {
                    let i = y >> 1
                    // Vertical half of EXPAND as three taps on coarse rows.
                    let r0: Int, r1: Int, r2: Int, w0: Float, w1: Float, w2: Float
                    if y & 1 == 0 {
                        r0 = max(i - 1, 0); r1 = i; r2 = min(i + 1, coarseHeight - 1)
                        w0 = 0.125; w1 = 0.75; w2 = 0.125
                    } else {
                        r0 = i; r1 = min(i + 1, coarseHeight - 1); r2 = r1
                        w0 = 0.5; w1 = 0.5; w2 = 0
                    }
                    let a0 = tempA + r0 * fineWidth, a1 = tempA + r1 * fineWidth, a2 = tempA + r2 * fineWidth
                    let b0 = tempB + r0 * fineWidth, b1 = tempB + r1 * fineWidth, b2 = tempB + r2 * fineWidth
                    let f0 = tempF + r0 * fineWidth, f1 = tempF + r1 * fineWidth, f2 = tempF + r2 * fineWidth
                    let ar = ak.row(y), br = bk.row(y), out = fk.row(y)
                    for x in 0..<fineWidth {
                        let detailA = ar[x] - (w0 * a0[x] + w1 * a1[x] + w2 * a2[x])
                        let detailB = br[x] - (w0 * b0[x] + w1 * b1[x] + w2 * b2[x])
                        let energyA = detailA * detailA, energyB = detailB * detailB
                        // Soft max-abs: the stronger detail dominates, ties blend.
                        let weight = energyA / (energyA + energyB + 0.01)
                        out[x] = (w0 * f0[x] + w1 * f1[x] + w2 * f2[x]) + detailB + weight * (detailA - detailB)
                    }
                }
            }
        }
        writeOutput(fused: f[0], luma: b[0], visible: visible, output: output)
    }

    // MARK: Guided filter fusion

    private func fuseGuided(thermal: UnsafePointer<UInt8>, visible: UnsafePointer<UInt8>,
                            output: UnsafeMutablePointer<UInt8>) {
        let t = plane("thermal"), v = plane("luma")
        loadInputs(thermal: thermal, visible: visible, into: t, v, histograms: true)
        let n = width * height
        let boxScratch = scratch.pointer(count: n)
        let acc = accumulators.pointer(count: Self.bandSlots * width)
        func box(_ source: FloatPlane, _ radius: Int, _ destination: FloatPlane) {
            PlaneFilters.boxFilter(source, radius: radius, into: destination, scratch: boxScratch, accumulators: acc)
        }

        // Two-scale split: base = 31 × 31 mean, detail = the rest.
        let baseT = plane("baseT"), baseV = plane("baseV")
        box(t, 15, baseT)
        box(v, 15, baseV)

        // Detail choice: the source with more local detail energy, the mean
        // |detail| over 11 × 11. (GFF uses the local |Laplacian|, which is
        // zero inside a flat object, so an object about the base scale
        // would lose the part of it that the split puts in the detail.)
        let salT = plane("salT"), salV = plane("salV")
        RowBands.run(rows: height, samplesPerRow: width * 2) { rows in
            let start = rows.lowerBound * self.width, count = rows.count * self.width
            let tt = t.base + start, vv = v.base + start, bt = baseT.base + start, bv = baseV.base + start
            let lt = salT.base + start, lv = salV.base + start
            for i in 0..<count {
                lt[i] = abs(tt[i] - bt[i])
                lv[i] = abs(vv[i] - bv[i])
            }
        }
        box(salT, 5, salT)
        box(salV, 5, salV)
        // Base choice from visual saliency instead of GFF's detail-based
        // map: a flat hot object has no local detail, so GFF's rule hands
        // it to a textured visible background and it disappears.
        let choiceT = plane("choiceT"), choiceV = plane("choiceV"), baseChoice = plane("baseChoice")
        saliencyTables().withUnsafeBufferPointer { tables in
            let st = tables.baseAddress!, sv = st + 256
            RowBands.run(rows: height, samplesPerRow: width * 2) { rows in
                let start = rows.lowerBound * self.width, count = rows.count * self.width
                let lt = salT.base + start, lv = salV.base + start
                let tt = t.base + start, vv = v.base + start
                let pt = choiceT.base + start, pv = choiceV.base + start, pb = baseChoice.base + start
                for i in 0..<count {
                    let thermalWins: Float = lt[i] > lv[i] ? 1 : 0
                    pt[i] = thermalWins
                    pv[i] = 1 - thermalWins
                    pb[i] = 0.5 + 0.5 * (st[Self.byteIndex(tt[i])] - sv[Self.byteIndex(vv[i])])
                }
            }
        }

        // Weight maps refined by guided filters. The base weight follows
        // the thermal image's edges (r = 8, ε = 0.01 on 0–1 intensities) so
        // a hot object keeps its outline; the detail weights are GFF's
        // (r = 7, ε = 10⁻⁶, each guided by its own source).
        let scale: Float = 255 * 255
        let baseWeight = plane("wb"), detailWeightT = plane("wdT"), detailWeightV = plane("wdV")
        guidedFilter(guide: t, input: baseChoice, radius: 8, epsilon: 0.01 * scale, into: baseWeight, box: box)
        guidedFilter(guide: t, input: choiceT, radius: 7, epsilon: 1e-6 * scale, into: detailWeightT, box: box)
        guidedFilter(guide: v, input: choiceV, radius: 7, epsilon: 1e-6 * scale, into: detailWeightV, box: box)

        let fused = plane("fused")
        RowBands.run(rows: height, samplesPerRow: width * 3) { rows in
            let start = rows.lowerBound * self.width, count = rows.count * self.width
            let tt = t.base + start, vv = v.base + start, bt = baseT.base + start, bv = baseV.base + start
            let wb = baseWeight.base + start
            let wdt = detailWeightT.base + start, wdv = detailWeightV.base + start
            let out = fused.base + start
            for i in 0..<count {
                let thermalBase = min(1, max(0, wb[i]))
                let detailWeight = Self.share(wdt[i], of: wdv[i])
                let base = bv[i] + thermalBase * (bt[i] - bv[i])
                let detailT = tt[i] - bt[i], detailV = vv[i] - bv[i]
                out[i] = base + detailV + detailWeight * (detailT - detailV)
            }
        }
        writeOutput(fused: fused, luma: v, visible: visible, output: output)
    }

    /// a / (a + b) with both clamped to be non-negative; ½ when both vanish.
    @inline(__always)
    private static func share(_ a: Float, of b: Float) -> Float {
        let pa = max(a, 0), pb = max(b, 0)
        let sum = pa + pb
        return sum > 1e-6 ? pa / sum : 0.5
    }

    /// He, Sun & Tang's guided filter: q = mean(a)·I + mean(b) with
    /// a = cov(I, p) / (var(I) + ε), b = mean(p) − a·mean(I) over
    /// (2r+1)² windows.
    private func guidedFilter(guide: FloatPlane, input: FloatPlane, radius: Int, epsilon: Float,
                              into output: FloatPlane, box: (FloatPlane, Int, FloatPlane) -> Void) {
        let meanI = plane("gfMeanI"), meanP = plane("gfMeanP")
        let corrIP = plane("gfCorrIP"), corrII = plane("gfCorrII")
        let w = width
        RowBands.run(rows: height, samplesPerRow: w) { rows in
            let start = rows.lowerBound * w, count = rows.count * w
            let g = guide.base + start, p = input.base + start
            let ip = corrIP.base + start, ii = corrII.base + start
            for i in 0..<count { ip[i] = g[i] * p[i]; ii[i] = g[i] * g[i] }
        }
        box(guide, radius, meanI)
        box(input, radius, meanP)
        box(corrIP, radius, corrIP)
        box(corrII, radius, corrII)
        // a into corrIP, b into meanP.
        RowBands.run(rows: height, samplesPerRow: w * 2) { rows in
            let start = rows.lowerBound * w, count = rows.count * w
            let mi = meanI.base + start, mp = meanP.base + start
            let ip = corrIP.base + start, ii = corrII.base + start
            for i in 0..<count {
                let variance = max(ii[i] - mi[i] * mi[i], 0)
                let a = (ip[i] - mi[i] * mp[i]) / (variance + epsilon)
                ip[i] = a
                mp[i] = mp[i] - a * mi[i]
            }
        }
        box(corrIP, radius, corrIP)
        box(meanP, radius, meanP)
        RowBands.run(rows: height, samplesPerRow: w) { rows in
            let start = rows.lowerBound * w, count = rows.count * w
            let g = guide.base + start, a = corrIP.base + start, b = meanP.base + start
            let q = output.base + start
            for i in 0..<count { q[i] = a[i] * g[i] + b[i] }
        }
    }

    // MARK: Weighted and max

    private func fuseWeighted(thermal: UnsafePointer<UInt8>, visible: UnsafePointer<UInt8>,
                              output: UnsafeMutablePointer<UInt8>) {
        let t = plane("thermal"), v = plane("luma"), fused = plane("fused")
        loadInputs(thermal: thermal, visible: visible, into: t, v, histograms: true)
        let w = width
        saliencyTables().withUnsafeBufferPointer { tables in
            let st = tables.baseAddress!, sv = st + 256
            RowBands.run(rows: height, samplesPerRow: w * 2) { rows in
                let start = rows.lowerBound * w, count = rows.count * w
                let tt = t.base + start, vv = v.base + start, out = fused.base + start
                for i in 0..<count {
                    let s1 = st[Self.byteIndex(tt[i])], s2 = sv[Self.byteIndex(vv[i])]
                    let weight = s1 + s2 > 1e-6 ? s1 / (s1 + s2) : 0.5
                    out[i] = vv[i] + weight * (tt[i] - vv[i])
                }
            }
        }
        writeOutput(fused: fused, luma: v, visible: visible, output: output)
    }

    private func fuseMax(thermal: UnsafePointer<UInt8>, visible: UnsafePointer<UInt8>,
                         output: UnsafeMutablePointer<UInt8>) {
        let w = width
        RowBands.run(rows: height, samplesPerRow: w * 3) { rows in
            let start = rows.lowerBound * w, count = rows.count * w
            let th = thermal + start, vis = visible + 3 * start, out = output + 3 * start
            for i in 0..<count {
                let r = Float(vis[3 * i]), g = Float(vis[3 * i + 1]), b = Float(vis[3 * i + 2])
                let luma = ColorConversion.luma(red: r, green: g, blue: b)
                let delta = max(Float(th[i]) - luma, 0)
                out[3 * i] = Self.toByte(r + delta)
                out[3 * i + 1] = Self.toByte(g + delta)
                out[3 * i + 2] = Self.toByte(b + delta)
            }
        }
    }

    @inline(__always)
    private static func toByte(_ value: Float) -> UInt8 {
        // At most 255.5, which truncates to 255.
        UInt8(min(255, max(0, value)) + 0.5)
    }

    @inline(__always)
    private static func byteIndex(_ value: Float) -> Int {
        Int(min(255, max(0, value + 0.5)))
    }

}

/// A growable raw float buffer kept between frames.
struct ScratchBuffer: ~Copyable {
    private var storage: UnsafeMutablePointer<Float>?
    private var capacity = 0

    init() {}

    mutating func pointer(count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity || storage == nil {
            storage?.deallocate()
            capacity = max(count, 1)
            storage = .allocate(capacity: capacity)
            storage!.initialize(repeating: 0, count: capacity)
        }
        return storage!
    }

    deinit {
        storage?.deallocate()
    }
}
