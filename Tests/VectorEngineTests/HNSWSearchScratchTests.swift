import Testing
@_spi(Benchmarks) @testable import VectorEngine

@Suite struct HNSWSearchScratchTests {
    @Test func visitedMarksStartEmptyAndGrow() {
        let memory = _HNSWUnsafeScratch(maxDegree: 4)
        memory.startVisit(nodeCount: 10)
        #expect(!memory.testAndSetVisited(3))
        #expect(memory.testAndSetVisited(3))
        #expect(!memory.testAndSetVisited(9))
        memory.startVisit(nodeCount: 10)
        #expect(!memory.testAndSetVisited(3) && !memory.testAndSetVisited(9))
        // Growing keeps no stale marks either.
        memory.startVisit(nodeCount: 5000)
        #expect((0..<5000).allSatisfy { !memory.testAndSetVisited(UInt32($0)) })
    }

    /// The marks are 16-bit epochs: 65,535 walks after a node was marked the epoch comes round
    /// to the same value, and the node must not look visited then (nor in the walks between).
    @Test func visitedMarksAreClearedWhenTheEpochWraps() {
        let memory = _HNSWUnsafeScratch(maxDegree: 4)
        memory.startVisit(nodeCount: 100)
        _ = memory.testAndSetVisited(7)
        var staleSeen = 0
        for _ in 1...Int(UInt16.max) {
            memory.startVisit(nodeCount: 100)
            if memory.testAndSetVisited(8) { staleSeen += 1 }
        }
        #expect(staleSeen == 0)
        #expect(!memory.testAndSetVisited(7), "a mark from 65,535 walks ago counts as visited")
        #expect(memory.testAndSetVisited(7))
    }
}

@Suite struct HugePageMemoryTests {
    @Test func largeBuffersAreAlignedUsableAndFreed() {
        let capacity = (_HugePageMemory.thresholdBytes + 12_345) / 4
        let p = _HugePageMemory.allocate(UInt32.self, capacity: capacity)
        #if os(Linux)
        #expect(UInt(bitPattern: p) % UInt(_HugePageMemory.hugePageBytes) == 0)
        #endif
        p.initialize(repeating: 7, count: capacity)
        p[capacity - 1] = 9
        #expect(p[0] == 7 && p[capacity / 2] == 7 && p[capacity - 1] == 9)
        _HugePageMemory.deallocate(p, capacity: capacity)
        let small = _HugePageMemory.allocate(UInt32.self, capacity: 16)
        small.initialize(repeating: 1, count: 16)
        _HugePageMemory.deallocate(small, capacity: 16)
    }

    /// An index whose vectors and links outgrow the threshold (so they move from the ordinary
    /// allocator to mapped huge-page buffers as it grows) answers as the oracle does, and
    /// exports and re-imports into the same buffers.
    @Test func indexAcrossTheThresholdMatchesTheOracle() throws {
        let dimension = 1024, count = 1100
        #expect(count * dimension * 4 > _HugePageMemory.thresholdBytes)
        let data = clusteredData(count: count + 20, dimension: dimension, seed: 4)
        let index = try HNSWIndex(dimension: dimension, metric: .l2Squared, parameters: .init(m: 8, efConstruction: 60))
        let oracle = try BruteForceIndex(dimension: dimension, metric: .l2Squared)
        for i in 0..<count {
            try index.upsert(id: UInt64(i), vector: data[i])
            try oracle.upsert(id: UInt64(i), vector: data[i])
        }
        let queries = Array(data.suffix(20))
        let r = try recall({ try index.search($0, k: 10, ef: 80) }, oracle: oracle, queries: queries, k: 10)
        #expect(r >= 0.95, "recall@10 \(r)")
        let copy = try HNSWIndex(state: index.exportState())
        for q in queries { #expect(try copy.search(q, k: 10, ef: 80) == index.search(q, k: 10, ef: 80)) }
        #expect(copy.invariantViolations().isEmpty)
    }

    /// `walkWork` (vector-bench --floor) counts what one search's level-0 walk does: at least
    /// one expansion, never more distances than expansions times the level-0 degree, more work
    /// at a larger ef, and the same counts for the same query twice (the counters of earlier
    /// walks on the same scratch are not included).
    @Test func walkWorkCountsOneSearch() throws {
        let params = HNSWParameters(m: 8, efConstruction: 60, seed: 5)
        let index = try HNSWIndex(dimension: 16, metric: .l2Squared, parameters: params)
        let data = clusteredData(count: 2_000, dimension: 16, seed: 8)
        try index.upsert(data.enumerated().map { VectorPoint(id: UInt64($0.offset), vector: $0.element) }, threads: 2)
        let query = clusteredData(count: 1, dimension: 16, seed: 9)[0]
        let small = try index.walkWork(query, k: 10, ef: 10, oversampling: nil)
        let large = try index.walkWork(query, k: 10, ef: 200, oversampling: nil)
        #expect(small.expansions >= 1 && small.distances <= small.expansions * params.m0)
        #expect(large.expansions > small.expansions && large.distances > small.distances)
        #expect(try index.walkWork(query, k: 10, ef: 200, oversampling: nil) == large)
        try index.enableQuantization(.scalarInt8, sampleSize: 2_000)
        let onCodes = try index.walkWork(query, k: 10, ef: 200, oversampling: 4)
        #expect(onCodes.expansions >= 1)
        #expect(throws: VectorEngineError.self) { try index.walkWork(query, k: 10, ef: 0, oversampling: nil) }
    }
}
