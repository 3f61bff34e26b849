#if canImport(Glibc)
import Glibc
#endif
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

    @Test(arguments: [1e-300, 1e-9, 0.001, 0.3, 0.5, 0.999_999, 1, 2, 2.5, 1e10])
    func seriesLogarithmOfHNSWLevels(_ x: Double) {
        #expect(abs(x.logValue - log(x)) <= max(1e-15, 8 * log(x).ulp), "\(x): \(x.logValue) vs libm \(log(x))")
    }
}
