import Testing
@testable import VectorEngine

@Suite struct TieredStoreTests {
    @Test func tiersFollowAccessFrequencyAndSaveMemory() throws {
        let all = clusteredData(count: 820, dimension: 32, seed: 31)
        let data = Array(all.prefix(800)), queries = Array(all.suffix(20))
        let store = try TieredVectorStore(dimension: 32, metric: .l2Squared, sample: Array(data.prefix(400)), pqSubspaces: 8)
        let oracle = try BruteForceIndex(dimension: 32, metric: .l2Squared)
        for (i, v) in data.enumerated() { try store.insert(id: UInt64(i), vector: v); try oracle.upsert(id: UInt64(i), vector: v) }
        let fullBytes = store.vectorBytes
        #expect(fullBytes == 800 * 32 * 4)
        // ids 0..<100 read 20x per period, 100..<200 3x, 200..<300 once, the rest never.
        for _ in 0..<7 { // never-read vectors decay 8 -> 0.0625 (archive)
            for id in 0..<100 { for _ in 0..<20 { store.recordAccess(id: UInt64(id)) } }
            for id in 100..<200 { for _ in 0..<3 { store.recordAccess(id: UInt64(id)) } }
            for id in 200..<300 { store.recordAccess(id: UInt64(id)) }
            store.rebalance()
        }
        #expect(store.tier(of: 5) == .hot)
        #expect(store.tier(of: 150) == .warm)
        #expect(store.tier(of: 250) == .cool)
        #expect(store.tier(of: 700) == .archive)
        let counts = store.tierCounts
        #expect(counts[.hot] == 100 && counts[.warm] == 100 && counts[.cool] == 100)
        // Memory: 100 f32 + 100 f16 + 100 PQ8 + 500 binary codes.
        #expect(store.vectorBytes == 100 * 128 + 100 * 64 + 100 * 8 + 500 * 8)
        #expect(store.vectorBytes * 4 < fullBytes) // 24,000 vs 102,400 bytes
        // Hot vectors are exact: each is its own nearest neighbour at distance 0.
        for id in 0..<10 { #expect(try store.search(data[id], k: 1).first == SearchHit(id: UInt64(id), distance: 0)) }
        // Recall@10 of the lossy store (5/8 of it binary) against the exact oracle: a loose floor.
        let r = try recall({ try store.search($0, k: 10) }, oracle: oracle, queries: queries, k: 10)
        #expect(r >= 0.3, "tiered recall \(r)")
        // Promotion: a cold vector read often goes back to hot.
        for _ in 0..<3 { for _ in 0..<40 { store.recordAccess(id: 700) }; store.rebalance() }
        #expect(store.tier(of: 700) == .hot)
    }
}
