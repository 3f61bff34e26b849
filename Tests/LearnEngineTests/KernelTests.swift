import Testing
@testable import LearnEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every path of the C kernels this CPU runs (portable, AVX2, AVX-512) against scalar Double
/// references, at tile-aligned and ragged sizes: a path this machine lacks is the one thing not run.
@Suite struct KernelTests {
    static func random(_ count: Int, _ rng: inout SeededGenerator) -> [Float] {
        (0..<count).map { _ in Float(rng.nextGaussian()) }
    }

    /// Rows, inner size, columns: single elements, ragged edges on every side, whole tiles, the encoder's shape.
    static let shapes: [(Int, Int, Int)] = [(1, 1, 1), (7, 19, 13), (3, 17, 1), (8, 32, 16), (9, 33, 35), (5, 384, 128)]

    @Test(arguments: LearnKernels.supported)
    func gemmNTMatchesTheScalarReference(level: LearnKernels.Level) {
        var rng = SeededGenerator(seed: 11)
        for (n, k, m) in Self.shapes {
            let x = Self.random(n * k, &rng), w = Self.random(m * k, &rng), b = Self.random(m, &rng)
            for withBias in [true, false] {
                var y = [Float](repeating: .nan, count: n * m)
                y.withUnsafeMutableBufferPointer { yp in
                    LearnKernels.gemmNT(x: x, rows: n, inputs: k, weight: w, outputs: m, bias: withBias ? b : nil,
                                        into: yp.baseAddress!, level: level)
                }
                var worst = 0.0
                for r in 0..<n { for c in 0..<m {
                    var s = withBias ? Double(b[c]) : 0
                    for i in 0..<k { s += Double(x[r * k + i]) * Double(w[c * k + i]) }
                    worst = max(worst, abs(Double(y[r * m + c]) - s))
                } }
                // A float sum of k products of unit Gaussians: rounding grows like sqrt(k).
                #expect(worst <= 2e-6 * Double(k).squareRoot() * 4, "\(level) \(n)x\(k)x\(m): \(worst)")
            }
        }
    }

    @Test(arguments: LearnKernels.supported)
    func gemmAccumulateMatchesTheScalarReferenceInBothLayouts(level: LearnKernels.Level) {
        var rng = SeededGenerator(seed: 12)
        for (n, k, m) in Self.shapes {
            let a = Self.random(n * k, &rng), b = Self.random(k * m, &rng), c0 = Self.random(n * m, &rng)
            // a as stored [n x k], then a^T stored [k x n] read with swapped strides.
            var transposed = [Float](repeating: 0, count: n * k)
            for i in 0..<n { for p in 0..<k { transposed[p * n + i] = a[i * k + p] } }
            for (stored, rowStride, columnStride) in [(a, k, 1), (transposed, 1, n)] {
                var c = c0
                c.withUnsafeMutableBufferPointer { cp in
                    LearnKernels.gemmAccumulate(a: stored, aRowStride: rowStride, aColumnStride: columnStride,
                                                rows: n, depth: k, b: b, columns: m, into: cp.baseAddress!, level: level)
                }
                var worst = 0.0
                for i in 0..<n { for j in 0..<m {
                    var s = Double(c0[i * m + j])
                    for p in 0..<k { s += Double(a[i * k + p]) * Double(b[p * m + j]) }
                    worst = max(worst, abs(Double(c[i * m + j]) - s))
                } }
                #expect(worst <= 2e-6 * Double(k).squareRoot() * 4, "\(level) \(n)x\(k)x\(m) strides \(rowStride),\(columnStride): \(worst)")
            }
        }
    }

    /// Inputs across the whole range the activations see, including where tanh and the logistic saturate.
    static let activationInputs: [Float] = stride(from: -95.0, through: 95.0, by: 0.37).map { Float($0) }
        + [0, -0.0, 1e-8, -1e-8, 1e-4, 0.6249, 0.6251, -0.6251, 8.9, 9.1, 44.3, 44.4, -44.4]

    @Test(arguments: LearnKernels.supported)
    func tanhAndSoftmaxStayWithinFloatToleranceOfLibm(level: LearnKernels.Level) {
        var x = Self.activationInputs
        x.withUnsafeMutableBufferPointer { LearnKernels.tanh($0.baseAddress!, count: $0.count, level: level) }
        for (input, output) in zip(Self.activationInputs, x) {
            let exact = Double.hyperbolicTangent(Double(input))
            #expect(abs(Double(output) - exact) <= 4e-7 * max(abs(exact), 1e-30) + 1e-37, "tanh(\(input)) = \(output), libm \(exact)")
        }
        for count in [1, 5, 16, 33] {
            var rng = SeededGenerator(seed: UInt64(count))
            let logits = Self.random(count, &rng).map { $0 * 30 }
            var p = logits
            p.withUnsafeMutableBufferPointer { LearnKernels.softmax($0.baseAddress!, count: count, level: level) }
            let top = Double(logits.max()!)
            let e = logits.map { Double.exponential(Double($0) - top) }
            let total = e.reduce(0, +)
            // e^(x - max) inherits the float rounding of x - max, |x - max| ulps of it.
            for t in 0..<count {
                let exact = e[t] / total, conditioning = 1 + abs(Double(logits[t]) - top)
                #expect(abs(Double(p[t]) - exact) <= 1e-6 * conditioning * exact + 1e-40, "\(logits[t]): \(p[t]) vs \(exact)")
            }
        }
    }

    @Test(arguments: LearnKernels.supported)
    func gruGatesMatchTheScalarFormula(level: LearnKernels.Level) {
        var rng = SeededGenerator(seed: 13)
        let rows = 3, width = 37
        // Pre-activations up to +-60: the logistic and tanh saturate for some.
        let gi = Self.random(rows * 3 * width, &rng).map { $0 * 20 }, gh = Self.random(rows * 3 * width, &rng)
        let h = Self.random(rows * width, &rng)
        var r = [Float](repeating: 0, count: rows * width), z = r, n = r, out = r
        r.withUnsafeMutableBufferPointer { rp in z.withUnsafeMutableBufferPointer { zp in
            n.withUnsafeMutableBufferPointer { np in out.withUnsafeMutableBufferPointer { op in
                LearnKernels.gruGates(gi: gi, gh: gh, h: h, rows: rows, width: width, r: rp.baseAddress!,
                                      z: zp.baseAddress!, n: np.baseAddress!, out: op.baseAddress!, level: level)
            } }
        } }
        func sigmoid(_ x: Double) -> Double { 1 / (1 + Double.exponential(-x)) }
        for row in 0..<rows { for c in 0..<width {
            let g = row * 3 * width, i = row * width + c
            let er = sigmoid(Double(gi[g + c]) + Double(gh[g + c]))
            let ez = sigmoid(Double(gi[g + width + c]) + Double(gh[g + width + c]))
            let en = Double.hyperbolicTangent(Double(gi[g + 2 * width + c]) + er * Double(gh[g + 2 * width + c]))
            let eo = (1 - ez) * en + ez * Double(h[i])
            #expect(abs(Double(r[i]) - er) <= 1e-6 && abs(Double(z[i]) - ez) <= 1e-6, "row \(row) column \(c)")
            #expect(abs(Double(n[i]) - en) <= 1e-6 && abs(Double(out[i]) - eo) <= 1e-5, "row \(row) column \(c)")
        } }
    }
}
