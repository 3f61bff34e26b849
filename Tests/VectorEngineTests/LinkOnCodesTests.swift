import Testing
@_spi(Benchmarks) @testable import VectorEngine

/// On-disk indexes link new nodes on their int8 / int4 / float16 codes: construction then reads no
/// full vector but the new node's own (a build needs no room for the vectors in memory), and
/// the graph answers as well as one linked on full vectors.
@Suite struct LinkOnCodesTests {
    static let dimension = 32
    let data = clusteredData(count: 3_000, dimension: Self.dimension, seed: 11)
    let queries = clusteredData(count: 100, dimension: Self.dimension, seed: 12)
    let params = HNSWParameters(m: 12, efConstruction: 100, seed: 3)

    func exact(_ q: [Float], k: Int) -> Set<UInt64> {
        Set(data.enumerated().map { (i, v) in (DistanceMetric.l2Squared.distance(q, v), UInt64(i)) }
            .sorted { $0 < $1 }.prefix(k).map(\.1))
    }

    /// Each query's exact 10 nearest, computed once (sorting them again for every recall was
    /// most of the suite's time in a debug build).
    static let truth: [Set<UInt64>] = {
        let suite = LinkOnCodesTests()
        return suite.queries.map { suite.exact($0, k: 10) }
    }()

    func recall(_ index: HNSWIndex, ef: Int) throws -> Double {
        var hits = 0
        for (q, truth) in zip(queries, Self.truth) {
            hits += Set(try index.search(q, k: 10, ef: ef).map(\.id)).intersection(truth).count
        }
        return Double(hits) / Double(queries.count * 10)
    }

    /// Trained after 500 points, the rest linked on int8 codes: recall within 0.02 of the same
    /// index linked on full vectors, at two efs.
    @Test(arguments: [QuantizationKind.scalarInt8, .scalarInt4, .float16])
    func recallHolds(kind: QuantizationKind) throws {
        func build(onCodes: Bool) throws -> HNSWIndex {
            let index = try HNSWIndex(dimension: Self.dimension, metric: .l2Squared, parameters: params)
            index.linksOnCodes = onCodes
            for (i, v) in data.prefix(500).enumerated() { try index.upsert(id: UInt64(i), vector: v) }
            try index.enableQuantization(kind, sampleSize: 500, seed: 1)
            try index.upsert(data.dropFirst(500).enumerated().map { VectorPoint(id: UInt64(500 + $0.offset), vector: $0.element) },
                             threads: 2)
            return index
        }
        let full = try build(onCodes: false), codes = try build(onCodes: true)
        #expect(full.exportState().level0Links != codes.exportState().level0Links, "the rule changed the graph")
        for ef in [32, 96] {
            let (a, b) = (try recall(full, ef: ef), try recall(codes, ef: ef))
            #expect(b >= a - 0.02, "ef \(ef): recall \(b) on codes vs \(a) on full vectors")
        }
    }

    /// With on-disk vectors the rule is on; once the codes exist, linking reads no other node's
    /// full vector: the same writes give the same graph when every stored vector but the newest
    /// is overwritten with NaN before each insert. Linked on full vectors, the NaN changes it.
    @Test func readsOnlyTheNewVector() throws {
        func build(poison: Bool, onCodes: Bool = true) throws -> HNSWIndex {
            let arenas = MovingArenas()
            let index = try HNSWIndex(dimension: Self.dimension, metric: .l2Squared, parameters: params, vectorArenas: arenas)
            #expect(index.linksOnCodes, "on for on-disk vectors")
            index.linksOnCodes = onCodes
            for (i, v) in data.prefix(300).enumerated() { try index.upsert(id: UInt64(i), vector: v) }
            try index.enableQuantization(.scalarInt8, sampleSize: 300, seed: 1)
            for (i, v) in data[300..<800].enumerated() {
                if poison, let arena = arenas.last {
                    arena.floats.update(repeating: .nan, count: (300 + i) * Self.dimension)
                }
                try index.upsert(id: UInt64(300 + i), vector: v)
            }
            return index
        }
        let clean = try build(poison: false), poisoned = try build(poison: true)
        #expect(clean.exportState().level0Links == poisoned.exportState().level0Links)
        #expect(clean.exportState().upperLinks == poisoned.exportState().upperLinks)
        let fullClean = try build(poison: false, onCodes: false), fullPoisoned = try build(poison: true, onCodes: false)
        #expect(fullClean.exportState().level0Links != fullPoisoned.exportState().level0Links)
    }
}
