import Testing
@testable import VectorEngine

@Suite struct DistanceTests {
    func reference(_ m: DistanceMetric, _ a: [Float], _ b: [Float]) -> Double {
        switch m {
        case .l2Squared: return zip(a, b).reduce(0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
        case .dot: return -zip(a, b).reduce(0) { $0 + Double($1.0 * $1.1) }
        case .manhattan: return zip(a, b).reduce(0) { $0 + Double(abs($1.0 - $1.1)) }
        case .cosine:
            let d = zip(a, b).reduce(0.0) { $0 + Double($1.0 * $1.1) }
            let na = a.reduce(0.0) { $0 + Double($1 * $1) }.squareRoot()
            let nb = b.reduce(0.0) { $0 + Double($1 * $1) }.squareRoot()
            return 1 - d / (na * nb)
        }
    }

    @Test(arguments: DistanceMetric.allCases, [1, 7, 8, 15, 16, 17, 31, 32, 33, 100, 384])
    func kernelMatchesScalarReference(metric: DistanceMetric, dimension: Int) {
        var rng = SeededGenerator(seed: UInt64(dimension))
        let a = (0..<dimension).map { _ in Float(rng.nextGaussian()) }
        let b = (0..<dimension).map { _ in Float(rng.nextGaussian()) }
        let got = Double(metric.distance(a, b))
        let want = reference(metric, a, b)
        #expect(abs(got - want) <= 1e-4 * max(1, abs(want)), "\(metric) d=\(dimension): \(got) vs \(want)")
        // The portable Swift path (used when the CPU lacks AVX2+FMA) agrees too.
        let x = metric.normalizesVectors ? DistanceKernels.normalized(a) : a
        let y = metric.normalizesVectors ? DistanceKernels.normalized(b) : b
        let portable = x.withUnsafeBufferPointer { xp in
            y.withUnsafeBufferPointer { metric.portableDistance(xp.baseAddress!, $0.baseAddress!, count: dimension) }
        }
        #expect(abs(Double(portable) - want) <= 1e-4 * max(1, abs(want)), "portable \(metric) d=\(dimension)")
    }

    @Test func batchDistanceMatchesSingle() {
        let data = clusteredData(count: 50, dimension: 24, seed: 3)
        let flat = data.flatMap { $0 }
        let q = data[7]
        var out = [Float](repeating: 0, count: 50)
        q.withUnsafeBufferPointer { qp in
            flat.withUnsafeBufferPointer { fp in
                out.withUnsafeMutableBufferPointer { op in
                    DistanceMetric.l2Squared.batchDistance(query: qp.baseAddress!, base: fp.baseAddress!,
                                                           count: 50, dimension: 24, into: op.baseAddress!)
                }
            }
        }
        for i in 0..<50 { #expect(out[i] == DistanceMetric.l2Squared.distance(q, data[i])) }
        #expect(out[7] == 0)
    }

    @Test func generatorIsDeterministicAndGaussianLooksNormal() {
        var a = SeededGenerator(seed: 9), b = SeededGenerator(seed: 9)
        #expect((0..<10).map { _ in a.next() } == (0..<10).map { _ in b.next() })
        var g = SeededGenerator(seed: 1)
        let xs = (0..<20_000).map { _ in g.nextGaussian() }
        let mean = xs.reduce(0, +) / Double(xs.count)
        let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count)
        #expect(abs(mean) < 0.03)
        #expect(abs(variance - 1) < 0.05)
        #expect(abs(Double(2.5).logValue - 0.916_290_731_874_155) < 1e-12)
    }
}
