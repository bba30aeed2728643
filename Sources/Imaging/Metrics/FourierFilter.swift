import Foundation

/// A complex discrete Fourier transform of one length: radix-2 for powers of
/// two, Bluestein's chirp-z algorithm (three power-of-two transforms) for
/// any other length, so arbitrary image sizes transform exactly.
final class FourierPlan {
    let length: Int
    private let radix2: Radix2Plan?
    private let bluestein: BluesteinPlan?

    init(length: Int) {
        self.length = length
        if length & (length - 1) == 0 {
            radix2 = Radix2Plan(length: length)
            bluestein = nil
        } else {
            radix2 = nil
            bluestein = BluesteinPlan(length: length)
        }
    }

    /// In-place forward transform X[k] = Σ x[j] e^(−2πi jk/n) of split
    /// real/imaginary arrays.
    func forward(_ re: UnsafeMutablePointer<Double>, _ im: UnsafeMutablePointer<Double>) {
        if let radix2 { radix2.transform(re, im) } else { bluestein!.transform(re, im) }
    }

    /// In-place inverse transform, scaled by 1/n.
    func inverse(_ re: UnsafeMutablePointer<Double>, _ im: UnsafeMutablePointer<Double>) {
        // IDFT(x) = conj(DFT(conj x)) / n.
        let n = length
        var i = 0
        while i < n { im[i] = -im[i]; i += 1 }
        forward(re, im)
        let scale = 1 / Double(n)
        i = 0
        while i < n { re[i] *= scale; im[i] = -im[i] * scale; i += 1 }
    }
}

/// Iterative decimation-in-time radix-2 FFT.
private final class Radix2Plan {
    let length: Int
    private let cosines: [Double]
    private let sines: [Double]
    private let reversed: [Int]

    init(length n: Int) {
        length = n
        cosines = (0..<max(1, n / 2)).map { cos(-2 * Double.pi * Double($0) / Double(n)) }
        sines = (0..<max(1, n / 2)).map { sin(-2 * Double.pi * Double($0) / Double(n)) }
        var bits = 0
        while (1 << bits) < n { bits += 1 }
        reversed = (0..<n).map { index in
            var r = 0, v = index
            for _ in 0..<bits { r = (r << 1) | (v & 1); v >>= 1 }
            return r
        }
    }

    // Loops here and below are `while` loops over raw pointers: at -Onone
    // (plain `swift test`) range iteration and array subscripts are
    // unspecialised calls, pointer arithmetic is not, and the metrics
    // transform millions of samples.
    func transform(_ re: UnsafeMutablePointer<Double>, _ im: UnsafeMutablePointer<Double>) {
        let n = length
        guard n > 1 else { return }
        reversed.withUnsafeBufferPointer { revBuffer in
            let rev = revBuffer.baseAddress!
            var i = 0
            while i < n {
                let j = rev[i]
                if j > i {
                    let tr = re[i]; re[i] = re[j]; re[j] = tr
                    let ti = im[i]; im[i] = im[j]; im[j] = ti
                }
                i += 1
            }
        }
        cosines.withUnsafeBufferPointer { cosTable in
            sines.withUnsafeBufferPointer { sinTable in
                let c = cosTable.baseAddress!, s = sinTable.baseAddress!
                var half = 1
                while half < n {
                    let step = n / (half * 2)
                    var k = 0, twiddle = 0
                    // Twiddle-outer order: each twiddle is loaded once per stage.
                    while k < half {
                        let wr = c[twiddle], wi = s[twiddle]
                        var j = k
                        while j < n {
                            let xr = re[j + half], xi = im[j + half]
                            let tr = wr * xr - wi * xi, ti = wr * xi + wi * xr
                            re[j + half] = re[j] - tr; im[j + half] = im[j] - ti
                            re[j] += tr; im[j] += ti
                            j += half * 2
                        }
                        k += 1
                        twiddle += step
                    }
                    half *= 2
                }
            }
        }
    }
}

/// Bluestein's algorithm: a length-n DFT as a circular convolution of
/// length m ≥ 2n − 1 (a power of two) with a chirp.
private final class BluesteinPlan {
    let length: Int
    private let inner: Radix2Plan
    private let paddedLength: Int
    /// Chirp w[k] = e^(−πi k²/n), its padded conjugate's spectrum, and work space.
    private let chirpRe: UnsafeMutablePointer<Double>, chirpIm: UnsafeMutablePointer<Double>
    private let kernelRe: UnsafeMutablePointer<Double>, kernelIm: UnsafeMutablePointer<Double>
    private let workRe: UnsafeMutablePointer<Double>, workIm: UnsafeMutablePointer<Double>

    init(length n: Int) {
        length = n
        var m = 1
        while m < 2 * n - 1 { m <<= 1 }
        paddedLength = m
        let plan = Radix2Plan(length: m)
        inner = plan
        chirpRe = .allocate(capacity: n); chirpIm = .allocate(capacity: n)
        kernelRe = .allocate(capacity: m); kernelIm = .allocate(capacity: m)
        workRe = .allocate(capacity: m); workIm = .allocate(capacity: m)
        kernelRe.initialize(repeating: 0, count: m); kernelIm.initialize(repeating: 0, count: m)
        workRe.initialize(repeating: 0, count: m); workIm.initialize(repeating: 0, count: m)
        for k in 0..<n {
            // k² is reduced mod 2n first to keep the angle exact.
            let angle = Double.pi * Double((k * k) % (2 * n)) / Double(n)
            (chirpRe + k).initialize(to: cos(angle))
            (chirpIm + k).initialize(to: -sin(angle))
            kernelRe[k] = cos(angle); kernelIm[k] = sin(angle)
            if k > 0 { kernelRe[m - k] = cos(angle); kernelIm[m - k] = sin(angle) }
        }
        plan.transform(kernelRe, kernelIm)
    }

    deinit {
        chirpRe.deallocate(); chirpIm.deallocate()
        kernelRe.deallocate(); kernelIm.deallocate()
        workRe.deallocate(); workIm.deallocate()
    }

    func transform(_ re: UnsafeMutablePointer<Double>, _ im: UnsafeMutablePointer<Double>) {
        let n = length, m = paddedLength
        let cr = chirpRe, ci = chirpIm, kr = kernelRe, ki = kernelIm, wr = workRe, wi = workIm
        var k = 0
        while k < n {
            wr[k] = re[k] * cr[k] - im[k] * ci[k]
            wi[k] = re[k] * ci[k] + im[k] * cr[k]
            k += 1
        }
        while k < m { wr[k] = 0; wi[k] = 0; k += 1 }
        inner.transform(wr, wi)
        k = 0
        while k < m {
            let r = wr[k] * kr[k] - wi[k] * ki[k]
            let i = wr[k] * ki[k] + wi[k] * kr[k]
            // Conjugated so the forward plan computes the inverse.
            wr[k] = r; wi[k] = -i
            k += 1
        }
        inner.transform(wr, wi)
        let scale = 1 / Double(m)
        k = 0
        while k < n {
            let r = wr[k] * scale, i = -wi[k] * scale
            re[k] = r * cr[k] - i * ci[k]
            im[k] = r * ci[k] + i * cr[k]
            k += 1
        }
    }
}

/// Filters real images by a real frequency response that is even in both
/// frequencies, computing real(IDFT2(DFT2(x) · H)) as MATLAB's
/// `ifft2(ifftshift(fftshift(fft2(x)) .* H))` does.
///
/// Pairs of real rows share one complex transform, and only the
/// non-negative column frequencies are transformed along columns (the rest
/// follow by symmetry), half the work of a plain complex 2-D FFT.
final class FourierFilter {
    let width: Int
    let height: Int
    private let halfWidth: Int
    private let rowPlan: FourierPlan
    private let columnPlan: FourierPlan
    /// H for column frequencies 0…w/2, indexed [column][row].
    private let gains: [Double]

    /// `response(rowFrequency, columnFrequency)` takes signed frequency
    /// indices (see ``signedFrequency(_:_:)``).
    init(width: Int, height: Int, response: (Int, Int) -> Double) {
        self.width = width
        self.height = height
        halfWidth = width / 2 + 1
        rowPlan = FourierPlan(length: width)
        columnPlan = FourierPlan(length: height)
        var gains = [Double](repeating: 0, count: halfWidth * height)
        for k in 0..<halfWidth {
            let column = Self.signedFrequency(k, width)
            for q in 0..<height { gains[k * height + q] = response(Self.signedFrequency(q, height), column) }
        }
        self.gains = gains
    }

    /// The signed frequency index of DFT bin `index` of a length-`n`
    /// transform, in MATLAB's `fftshift`/`freqspace` order:
    /// −⌊n/2⌋ … ⌈n/2⌉ − 1.
    static func signedFrequency(_ index: Int, _ n: Int) -> Int {
        index < n - n / 2 ? index : index - n
    }

    /// The filtered copy of a row-major real image of this filter's size.
    func apply(_ image: [Double]) -> [Double] {
        let w = width, h = height, hw = halfWidth
        let specRe = UnsafeMutablePointer<Double>.allocate(capacity: h * hw)
        let specIm = UnsafeMutablePointer<Double>.allocate(capacity: h * hw)
        let rowRe = UnsafeMutablePointer<Double>.allocate(capacity: w)
        let rowIm = UnsafeMutablePointer<Double>.allocate(capacity: w)
        let colRe = UnsafeMutablePointer<Double>.allocate(capacity: h)
        let colIm = UnsafeMutablePointer<Double>.allocate(capacity: h)
        defer {
            specRe.deallocate(); specIm.deallocate(); rowRe.deallocate(); rowIm.deallocate()
            colRe.deallocate(); colIm.deallocate()
        }
        var output = [Double](repeating: 0, count: w * h)
        image.withUnsafeBufferPointer { sourceBuffer in
            gains.withUnsafeBufferPointer { gainBuffer in
                output.withUnsafeMutableBufferPointer { outputBuffer in
                    let source = sourceBuffer.baseAddress!, gain = gainBuffer.baseAddress!
                    let out = outputBuffer.baseAddress!
                    // Rows, two at a time: z = a + i b gives
                    // A[k] = (Z[k] + conj Z[−k]) / 2, B[k] = (Z[k] − conj Z[−k]) / 2i.
                    var y = 0
                    while y < h {
                        let hasSecond = y + 1 < h
                        let a = source + y * w, b = source + (y + 1) * w
                        var x = 0
                        while x < w { rowRe[x] = a[x]; rowIm[x] = hasSecond ? b[x] : 0; x += 1 }
                        rowPlan.forward(rowRe, rowIm)
                        var k = 0
                        while k < hw {
                            let mirror = k == 0 ? 0 : w - k
                            let zr = rowRe[k], zi = rowIm[k], mr = rowRe[mirror], mi = -rowIm[mirror]
                            specRe[y * hw + k] = (zr + mr) * 0.5
                            specIm[y * hw + k] = (zi + mi) * 0.5
                            if hasSecond {
                                specRe[(y + 1) * hw + k] = (zi - mi) * 0.5
                                specIm[(y + 1) * hw + k] = (mr - zr) * 0.5
                            }
                            k += 1
                        }
                        y += 2
                    }
                    // Columns: transform, weight, transform back.
                    var k = 0
                    while k < hw {
                        var q = 0
                        while q < h { colRe[q] = specRe[q * hw + k]; colIm[q] = specIm[q * hw + k]; q += 1 }
                        columnPlan.forward(colRe, colIm)
                        let g = gain + k * h
                        q = 0
                        while q < h { colRe[q] *= g[q]; colIm[q] *= g[q]; q += 1 }
                        columnPlan.inverse(colRe, colIm)
                        q = 0
                        while q < h { specRe[q * hw + k] = colRe[q]; specIm[q * hw + k] = colIm[q]; q += 1 }
                        k += 1
                    }
                    // Rows back, two at a time: Z = A + i B, each row's
                    // spectrum Hermitian because its output row is real.
                    y = 0
                    while y < h {
                        let hasSecond = y + 1 < h
                        var k = 0
                        while k < w {
                            let stored = k < hw ? k : w - k
                            let sign = k < hw ? 1.0 : -1.0
                            let ar = specRe[y * hw + stored], ai = sign * specIm[y * hw + stored]
                            var br = 0.0, bi = 0.0
                            if hasSecond { br = specRe[(y + 1) * hw + stored]; bi = sign * specIm[(y + 1) * hw + stored] }
                            rowRe[k] = ar - bi
                            rowIm[k] = ai + br
                            k += 1
                        }
                        rowPlan.inverse(rowRe, rowIm)
                        let first = out + y * w, second = out + (y + 1) * w
                        var x = 0
                        while x < w {
                            first[x] = rowRe[x]
                            if hasSecond { second[x] = rowIm[x] }
                            x += 1
                        }
                        y += 2
                    }
                }
            }
        }
        return output
    }
}
