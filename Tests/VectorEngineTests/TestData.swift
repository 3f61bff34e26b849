@testable import VectorEngine

/// Seeded clustered Gaussian data, as the benchmarks use.
func clusteredData(count: Int, dimension: Int, clusters: Int = 16, seed: UInt64) -> [[Float]] {
    var rng = SeededGenerator(seed: seed)
    let centers = (0..<clusters).map { _ in (0..<dimension).map { _ in Float(rng.nextGaussian()) * 3 } }
    return (0..<count).map { i in
        let c = centers[i % clusters]
        return c.map { $0 + Float(rng.nextGaussian()) }
    }
}

/// Mean recall@k of `index` against `oracle` over `queries`.
func recall(_ index: (([Float]) throws -> [SearchHit]), oracle: BruteForceIndex,
            queries: [[Float]], k: Int, filter: PayloadFilter? = nil) throws -> Double {
    var hit = 0, total = 0
    for q in queries {
        let truth = try oracle.search(q, k: k, filter: filter)
        let got = Set(try index(q).map(\.id))
        total += truth.count
        hit += truth.filter { got.contains($0.id) }.count
    }
    return total == 0 ? 1 : Double(hit) / Double(total)
}
