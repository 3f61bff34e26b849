import Testing
@testable import VectorEngine

@Suite struct HNSWTests {
    static let dimension = 32

    func build(_ metric: DistanceMetric, count: Int = 2000, seed: UInt64 = 1)
        throws -> (HNSWIndex, BruteForceIndex, [[Float]]) {
        let data = Array(clusteredData(count: count + 50, dimension: Self.dimension, seed: seed).prefix(count))
        let index = try HNSWIndex(dimension: Self.dimension, metric: metric,
                                  parameters: .init(m: 12, efConstruction: 100, seed: seed))
        let oracle = try BruteForceIndex(dimension: Self.dimension, metric: metric)
        for (i, v) in data.enumerated() {
            let payload: Payload = ["group": .int(Int64(i % 10)), "tag": .string(i % 3 == 0 ? "a" : "b")]
            try index.upsert(id: UInt64(i), vector: v, payload: payload)
            try oracle.upsert(id: UInt64(i), vector: v, payload: payload)
        }
        return (index, oracle, data)
    }

    /// Held-out points of the same clusters as `build`'s data (seed 1).
    func queries(_ n: Int = 50, count: Int = 2000) -> [[Float]] {
        Array(clusteredData(count: count + 50, dimension: Self.dimension, seed: 1).suffix(50).prefix(n))
    }

    // Thresholds: the Euclidean-like metrics reach > 0.95 at ef 100 on this data; dot
    // product is not a metric, so HNSW's guarantee is weaker (hnswlib measures 0.996 here
    // and 0.81 on queries from other clusters; threshold 0.9).
    @Test(arguments: [(DistanceMetric.l2Squared, 0.95), (.cosine, 0.95), (.manhattan, 0.93), (.dot, 0.9)])
    func recallAgainstOracle(metric: DistanceMetric, threshold: Double) throws {
        let (index, oracle, _) = try build(metric)
        let r = try recall({ try index.search($0, k: 10, ef: 100) }, oracle: oracle, queries: queries(), k: 10)
        #expect(r >= threshold, "\(metric) recall@10 \(r)")
        #expect(index.invariantViolations().isEmpty)
    }

    @Test func sameSeedSameGraph() throws {
        let (a, _, _) = try build(.l2Squared, count: 400)
        let (b, _, _) = try build(.l2Squared, count: 400)
        for q in queries(5) { #expect(try a.search(q, k: 10, ef: 30) == b.search(q, k: 10, ef: 30)) }
    }

    @Test func deleteSkipsTombstonesAndCompactKeepsRecall() throws {
        let (index, oracle, _) = try build(.l2Squared, count: 1500)
        for id in stride(from: 0, to: 1500, by: 3) {
            #expect(index.delete(id: UInt64(id)))
            oracle.delete(id: UInt64(id))
        }
        #expect(!index.delete(id: 0))
        #expect(index.count == 1000)
        #expect(index.vector(id: 3) == nil)
        let qs = queries()
        for q in qs { #expect(try index.search(q, k: 10, ef: 100).allSatisfy { $0.id % 3 != 0 }) }
        let before = try recall({ try index.search($0, k: 10, ef: 100) }, oracle: oracle, queries: qs, k: 10)
        #expect(before >= 0.93)
        try index.compact()
        #expect(index.deletedCount == 0 && index.count == 1000)
        #expect(index.invariantViolations().isEmpty)
        let after = try recall({ try index.search($0, k: 10, ef: 100) }, oracle: oracle, queries: qs, k: 10)
        #expect(after >= 0.93)
    }

    @Test func updateMovesVectorAndRelinks() throws {
        let (index, oracle, data) = try build(.l2Squared, count: 1000)
        // Move 200 points onto other points' positions (plus a shift) and check they are found there.
        for i in 0..<200 {
            let target = data[(i * 7 + 500) % 1000].map { $0 + 0.01 }
            try index.upsert(id: UInt64(i), vector: target, payload: ["moved": .bool(true)])
            try oracle.upsert(id: UInt64(i), vector: target, payload: ["moved": .bool(true)])
        }
        #expect(index.count == 1000)
        #expect(index.payload(id: 5) == ["moved": .bool(true)])
        for i in 0..<20 {
            let v = try #require(index.vector(id: UInt64(i)))
            #expect(try index.search(v, k: 1, ef: 50).first?.id == UInt64(i))
        }
        let r = try recall({ try index.search($0, k: 10, ef: 100) }, oracle: oracle, queries: queries(), k: 10)
        #expect(r >= 0.93)
        #expect(index.invariantViolations().isEmpty)
    }

    @Test func randomOperationSequencesKeepInvariants() throws {
        for seed in UInt64(1)...3 {
            var rng = SeededGenerator(seed: seed)
            let index = try HNSWIndex(dimension: 8, metric: .l2Squared, parameters: .init(m: 4, efConstruction: 20, seed: seed))
            let oracle = try BruteForceIndex(dimension: 8, metric: .l2Squared)
            for _ in 0..<600 {
                let id = rng.next() % 150
                switch rng.next() % 4 {
                case 0:
                    index.delete(id: id); oracle.delete(id: id)
                default:
                    let v = (0..<8).map { _ in Float(rng.nextGaussian()) }
                    try index.upsert(id: id, vector: v); try oracle.upsert(id: id, vector: v)
                }
            }
            #expect(index.invariantViolations().isEmpty, "seed \(seed): \(index.invariantViolations().prefix(3))")
            #expect(index.count == oracle.count, "seed \(seed)")
            // With ef >= count the walk is exhaustive over the connected graph.
            let r = try recall({ try index.search($0, k: 10, ef: 300) }, oracle: oracle,
                               queries: (0..<20).map { _ in (0..<8).map { _ in Float(rng.nextGaussian()) } }, k: 10)
            #expect(r >= 0.97, "seed \(seed) recall \(r)")
        }
    }

    @Test func boundsAreEnforced() throws {
        let index = try HNSWIndex(dimension: 4, metric: .l2Squared)
        #expect(throws: VectorEngineError.self) { try index.upsert(id: 1, vector: [1, 2, 3]) }
        #expect(throws: VectorEngineError.self) { try index.upsert(id: 1, vector: [1, 2, 3, .nan]) }
        try index.upsert(id: 1, vector: [1, 2, 3, 4])
        #expect(throws: VectorEngineError.self) { try index.search([1, 2, 3, 4], k: 0) }
        #expect(throws: VectorEngineError.self) { try index.search([1, 2, 3, 4], k: 10_001) }
        #expect(throws: VectorEngineError.self) { try index.search([1, 2, 3, 4], k: 1, ef: 100_001) }
        #expect(throws: VectorEngineError.self) { try HNSWIndex(dimension: 65_537, metric: .dot) }
        #expect(throws: VectorEngineError.self) { try HNSWIndex(dimension: 4, metric: .dot, parameters: .init(m: 1)) }
        var deep = PayloadFilter.exists("x")
        for _ in 0..<16 { deep = .must([deep]) }
        #expect(throws: VectorEngineError.self) { try index.search([1, 2, 3, 4], k: 1, filter: deep) }
        #expect(try index.search([1, 2, 3, 4], k: 5).map(\.id) == [1])
    }

    @Test func scrollVisitsEveryLiveIdOnce() throws {
        let (index, _, _) = try build(.l2Squared, count: 300)
        for id in stride(from: 0, to: 300, by: 4) { index.delete(id: UInt64(id)) }
        var seen: [UInt64] = []
        var cursor: Int? = nil
        repeat {
            let page = try index.scroll(after: cursor, limit: 17)
            seen += page.ids
            cursor = page.next
        } while cursor != nil
        #expect(seen == (0..<300).filter { $0 % 4 != 0 }.map(UInt64.init))
    }

    @Test func parallelInsertsWhileSearching() async throws {
        let data = clusteredData(count: 1200, dimension: 16, seed: 5)
        let index = try HNSWIndex(dimension: 16, metric: .l2Squared, parameters: .init(m: 8, efConstruction: 60))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<4 {
                group.addTask {
                    for i in stride(from: w, to: 1200, by: 4) { try index.upsert(id: UInt64(i), vector: data[i]) }
                }
            }
            for _ in 0..<2 {
                group.addTask {
                    for i in 0..<200 {
                        let hits = try index.search(data[i], k: 5, ef: 20)
                        #expect(hits.count <= 5)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(index.count == 1200)
        #expect(index.invariantViolations().isEmpty)
        for i in stride(from: 0, to: 1200, by: 97) { #expect(try index.search(data[i], k: 1, ef: 50).first?.id == UInt64(i)) }
    }
}
