import Dispatch
import Testing
@testable import VectorEngine

@Suite struct TieredQuantizationTests {
    /// 2,000 clustered points, tiered (manual passes) after the first 1,900, so the last 100 start hot.
    func build(_ metric: DistanceMetric, policy: TierPolicy = .init(hotThreshold: 5_000, retierIntervalQueries: 0))
        throws -> (HNSWIndex, BruteForceIndex, [[Float]]) {
        let data = clusteredData(count: 2_000, dimension: 32, seed: 41)
        let index = try HNSWIndex(dimension: 32, metric: metric, parameters: .init(m: 12, efConstruction: 100))
        let oracle = try BruteForceIndex(dimension: 32, metric: metric)
        for (i, v) in data.enumerated() {
            if i == 1_900 { try index.enableQuantization(.tiered(policy), sampleSize: 500) }
            try index.upsert(id: UInt64(i), vector: v)
            try oracle.upsert(id: UInt64(i), vector: v)
        }
        return (index, oracle, data)
    }

    @Test func tiersFollowHowOftenVectorsAreReturned() throws {
        let (index, oracle, data) = try build(.l2Squared)
        var stats = try #require(index.tierStatistics)
        #expect(stats.counts[.warm] == 1_900 && stats.counts[.hot] == 100 && stats.passes == 0)
        let fullBytes = 2_000 * 32 * 4
        // Ids 0..<20 are searched for 10 times a pass; nothing else is.
        for _ in 0..<7 {
            for id in 0..<20 { for _ in 0..<10 { _ = try index.search(data[id], k: 10, ef: 64) } }
            index.retier()
        }
        stats = try #require(index.tierStatistics)
        #expect(stats.passes == 7)
        for id in 0..<20 { #expect(index.tier(of: UInt64(id)) == .hot, "id \(id)") }
        // Never returned: warm (rate H/2) halves each pass, below H/80 after 7 passes.
        let returned = try Set((0..<20).flatMap { try oracle.search(data[$0], k: 10, filter: nil).map(\.id) })
        let neverReturned = (0..<2_000).filter { !returned.contains(UInt64($0)) }
        // A vector counts as 1/8 of its busiest neighbour's rate, up to cool: never hot or warm
        // unless returned; in this small graph most of the rest link to the searched-for
        // clusters and stay cool, the others are archived.
        let neverReturnedTiers = neverReturned.map { index.tier(of: UInt64($0))! }
        #expect(neverReturnedTiers.allSatisfy { $0 >= .cool })
        #expect(stats.counts[.archive]! >= 400 && stats.counts[.hot]! <= 300, "\(stats.counts)")
        #expect(stats.counts.values.reduce(0, +) == 2_000)
        // The walk reads f32 for the searched-for region and sign bits elsewhere: 5x less than f32.
        let policy = TierPolicy()
        #expect(stats.codeBytes >= CompressionTier.allCases.reduce(0) { $0 + stats.counts[$1]! * policy.codeBytes($1, dimension: 32) })
        #expect(stats.codeBytes * 5 < fullBytes, "\(stats.codeBytes) code bytes")
        // The searched-for vectors keep near-exact recall (hot, and their neighbours hot too).
        let hotRecall = try recall({ try index.search($0, k: 10, ef: 64) }, oracle: oracle,
                                   queries: Array(data.prefix(20)), k: 10)
        #expect(hotRecall >= 0.98, "hot recall \(hotRecall)")
        // Elsewhere recall rests on the archive walk plus rescoring: a lower, stated floor.
        let coldRecall = try recall({ try index.search($0, k: 10, ef: 64, oversampling: 8) }, oracle: oracle,
                                    queries: Array(data[1_000..<1_050]), k: 10)
        #expect(coldRecall >= 0.80, "archive recall \(coldRecall)")
        // Returned distances are exact whatever the tier.
        for hit in try index.search(data[1_500], k: 5, ef: 64) {
            #expect(abs(hit.distance - DistanceMetric.l2Squared.distance(data[1_500], data[Int(hit.id)])) < 1e-3)
        }
        // Promotion: an archived vector searched for often comes back hot, exact again.
        let archived = UInt64(neverReturned[neverReturnedTiers.firstIndex(of: .archive)!])
        for _ in 0..<2 {
            for _ in 0..<50 { _ = try index.search(data[Int(archived)], k: 10, ef: 64) }
            index.retier()
        }
        #expect(index.tier(of: archived) == .hot)
        #expect(index.invariantViolations().isEmpty)
    }

    // Recall@10 (ef 64) with every vector in one tier, per metric: each tier's oversampling
    // (rescoring pool = k times it) and threshold.
    static let uniformTiers: [(passesWithoutSearches: Int, tier: CompressionTier, oversampling: Int, threshold: Double)] = [
        (0, .warm, 4, 0.95), (1, .cool, 4, 0.93), (3, .cold, 8, 0.85), (6, .archive, 10, 0.75),
    ]

    /// Each metric's `build` as exported state: building is most of a recall case's time in a
    /// debug build, and each case needs an index of its own to retier. (One per metric, so a
    /// case waits only for its own metric's build.)
    static let l2State = try! TieredQuantizationTests().build(.l2Squared).0.exportState()
    static let cosineState = try! TieredQuantizationTests().build(.cosine).0.exportState()
    static let dotState = try! TieredQuantizationTests().build(.dot).0.exportState()
    static let manhattanState = try! TieredQuantizationTests().build(.manhattan).0.exportState()
    static func builtState(_ metric: DistanceMetric) -> HNSWState {
        switch metric {
        case .l2Squared: return l2State
        case .cosine: return cosineState
        case .dot: return dotState
        case .manhattan: return manhattanState
        }
    }

    @Test(arguments: DistanceMetric.allCases, uniformTiers.indices)
    func recallInEachTier(metric: DistanceMetric, caseIndex: Int) throws {
        let (passes, tier, oversampling, threshold) = Self.uniformTiers[caseIndex]
        let index = try HNSWIndex(state: Self.builtState(metric))
        let data = clusteredData(count: 2_000, dimension: 32, seed: 41)
        let oracle = try BruteForceIndex(dimension: 32, metric: metric)
        for (i, v) in data.enumerated() { try oracle.upsert(id: UInt64(i), vector: v) }
        for _ in 0..<passes { index.retier() }
        // The 100 vectors that started hot are one band ahead; the rest are all in `tier`.
        #expect(index.tierStatistics?.counts[tier] ?? 0 >= 1_900, "\(String(describing: index.tierStatistics))")
        let queries = (0..<40).map { i in data[i * 47].map { $0 + 0.1 } }
        let r = try recall({ try index.search($0, k: 10, ef: 64, oversampling: oversampling) }, oracle: oracle,
                           queries: queries, k: 10)
        #expect(r >= threshold, "\(metric) \(tier): recall@10 \(r)")
    }

    /// After a skewed workload (every search in one of 16 clusters), the other clusters sit
    /// in the cold and archive tiers, whose codes cannot tell a cluster's vectors apart: with
    /// a fixed rescoring pool and only their codes to steer by, queries there reached recall@10
    /// 0.49 here (0.46 with seed 42). Coarse nodes near the candidate list are now measured on
    /// their full vectors, so those queries reach the recall of the searched-for cluster
    /// (0.99), tiers unchanged.
    @Test func rarelySearchedRegionsKeepTheirRecall() throws {
        let seed: UInt64 = 41
        let dimension = 32, count = 3_000
        let data = clusteredData(count: count, dimension: dimension, seed: seed)
        let index = try HNSWIndex(dimension: dimension, metric: .l2Squared, parameters: .init(m: 12, efConstruction: 100))
        let oracle = try BruteForceIndex(dimension: dimension, metric: .l2Squared)
        for (i, v) in data.enumerated() {
            try index.upsert(id: UInt64(i), vector: v)
            try oracle.upsert(id: UInt64(i), vector: v)
        }
        try index.enableQuantization(.tiered(.init(hotThreshold: 5_000, retierIntervalQueries: 0)), sampleSize: 1_000, seed: 3)
        // Cluster 0 (ids 0, 16, 32, ...) takes every search; seven passes age the rest.
        let popular = (0..<20).map { data[$0 * 16] }
        for _ in 0..<7 {
            for q in popular { for _ in 0..<10 { _ = try index.search(q, k: 10, ef: 64) } }
            index.retier()
        }
        let stats = try #require(index.tierStatistics)
        let coarse = (stats.counts[.cold] ?? 0) + (stats.counts[.archive] ?? 0)
        #expect(coarse >= count / 2, "\(stats.counts)")
        // Tiers keep their savings: the walk codes are under a quarter of the f32 vectors.
        #expect(stats.codeBytes * 4 < count * dimension * 4, "\(stats.codeBytes) code bytes")
        // Queries next to vectors of the other clusters, which now sit in the coarse tiers.
        let rare = (0..<60).map { i in data[(i * 37) % count | 1].map { $0 + 0.05 } }
        let rareRecall = try recall({ try index.search($0, k: 10, ef: 64) }, oracle: oracle, queries: rare, k: 10)
        let popularRecall = try recall({ try index.search($0, k: 10, ef: 64) }, oracle: oracle,
                                       queries: popular.map { $0.map { $0 + 0.05 } }, k: 10)
        #expect(popularRecall >= 0.95, "popular recall@10 \(popularRecall)")
        #expect(rareRecall >= 0.95, "rare-region recall@10 \(rareRecall)")
        // Returned distances stay exact.
        for hit in try index.search(rare[0], k: 5, ef: 64) {
            #expect(abs(hit.distance - DistanceMetric.l2Squared.distance(rare[0], data[Int(hit.id)])) < 1e-3)
        }
    }

    @Test func aBackgroundPassRunsEveryIntervalOfSearches() throws {
        let (index, _, data) = try build(.cosine, policy: .init(hotThreshold: 5_000, retierIntervalQueries: 50))
        for i in 0..<50 { _ = try index.search(data[i], k: 10) }
        let deadline = DispatchTime.now().uptimeNanoseconds + 20_000_000_000
        while (index.tierStatistics?.passes ?? 0) < 1 && DispatchTime.now().uptimeNanoseconds < deadline {
            _ = try index.search(data[0], k: 1)   // not a full interval: no second pass queued
        }
        #expect(index.tierStatistics?.passes == 1)
    }

    @Test func compactionKeepsEachVectorsTier() throws {
        let (index, _, data) = try build(.l2Squared)
        for _ in 0..<10 { _ = try index.search(data[1_999], k: 10) }
        for _ in 0..<6 { index.retier() }
        let before = (1_001..<2_000).map { index.tier(of: UInt64($0)) }
        #expect(Set(before).count >= 2)
        for id in 0..<1_001 { index.delete(id: UInt64(id)) }    // past half: rebuilt without tombstones
        #expect(index.deletedCount == 0)
        #expect((1_001..<2_000).map { index.tier(of: UInt64($0)) } == before)
        #expect(index.tierStatistics?.counts.values.reduce(0, +) == 999)
    }

    @Test func searchesWritesAndPassesRunTogether() throws {
        let (index, _, data) = try build(.l2Squared, policy: .init(hotThreshold: 5_000, retierIntervalQueries: 25))
        let extra = clusteredData(count: 400, dimension: 32, seed: 43)
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for i in 0..<200 {
                switch worker {
                case 0: try? index.upsert(id: UInt64(2_000 + i), vector: extra[i])
                case 1: try? index.upsert(id: UInt64(i), vector: extra[200 + i])     // replaced in place
                case 2: if i % 20 == 0 { index.retier() } else { _ = try? index.search(data[i], k: 10) }
                default: _ = try? index.search(data[1_000 + i], k: 10)
                }
            }
        }
        index.retier()
        #expect(index.count == 2_200)
        #expect(index.invariantViolations().isEmpty)
        // Replaced vectors are stored at their new value, and their walk codes follow it
        // (the code decodes nearer the new vector than the old one), whatever tier they are in.
        for i in 0..<200 {
            #expect(index.vector(id: UInt64(i)) == extra[200 + i])
            let code = try #require(index.tierReconstruction(of: UInt64(i)))
            let metric = DistanceMetric.l2Squared
            #expect(metric.distance(code, extra[200 + i]) < metric.distance(code, data[i]), "id \(i) in \(index.tier(of: UInt64(i))!)")
        }
    }

    @Test func badPoliciesAreRefused() throws {
        let index = try HNSWIndex(dimension: 8, metric: .l2Squared)
        for policy in [TierPolicy(hotThreshold: 0), TierPolicy(hotThreshold: .nan), TierPolicy(decay: 1),
                       TierPolicy(retierIntervalQueries: -1), TierPolicy(pqSubspaces: 9)] {
            #expect(throws: VectorEngineError.self) { try index.enableQuantization(.tiered(policy)) }
        }
    }
}
