import Dispatch
import Synchronization
import Testing
@testable import VectorEngine

/// Graph reordering (``HNSWIndex/reorder()``, and every compaction): nodes are renumbered in
/// breadth-first order, and nothing a user sees changes but `scroll`'s order.
@Suite struct ReorderTests {
    let data = clusteredData(count: 700, dimension: 16, seed: 11)
    let queries = clusteredData(count: 25, dimension: 16, seed: 12)
    let params = HNSWParameters(m: 8, efConstruction: 60, seed: 3)

    /// 700 points with payloads (half one by one, half in a batch), then `kind`, then 60
    /// tombstones (too few for an automatic compaction).
    func filled(_ kind: QuantizationKind?, arenas: (any VectorArenaProvider)? = nil, graphOnDisk: Bool = false) throws -> HNSWIndex {
        let index = try HNSWIndex(dimension: 16, metric: .l2Squared, parameters: params, vectorArenas: arenas,
                                  graphOnDisk: graphOnDisk)
        for (i, v) in data.prefix(350).enumerated() {
            try index.upsert(id: UInt64(i), vector: v, payload: ["i": .int(Int64(i)), "even": .bool(i % 2 == 0)])
        }
        try index.upsert(data.dropFirst(350).enumerated().map {
            VectorPoint(id: UInt64(350 + $0.offset), vector: $0.element, payload: ["i": .int(Int64(350 + $0.offset))])
        }, threads: 2)
        if let kind { try index.enableQuantization(kind, sampleSize: 700, seed: 1) }
        for id in stride(from: 0, to: 600, by: 10) { index.delete(id: UInt64(id)) }
        return index
    }

    /// Everything a caller can read of an index, except scroll's order.
    struct Observed: Equatable {
        var hits: [[SearchHit]]
        var filtered: [[SearchHit]]
        var exact: [[SearchHit]]
        var live: Set<UInt64>
        var count: Int
        var deletedCount: Int
        var vectors: [[Float]?]
        var payloads: [Payload?]
        var tiers: [CompressionTier?]
    }

    /// Searches walk the codes unless `oversampling` is nil (full vectors).
    func observe(_ index: HNSWIndex, oversampling: Int? = 4) throws -> Observed {
        var live = Set<UInt64>()
        var cursor: Int? = nil
        repeat {
            let page = try index.scroll(after: cursor, limit: 97)
            live.formUnion(page.ids)
            cursor = page.next
        } while cursor != nil
        let ids = (0..<UInt64(data.count))
        return Observed(hits: try queries.map { try index.search($0, k: 10, ef: 40, oversampling: oversampling) },
                        filtered: try queries.map {
                            try index.search($0, k: 5, ef: 40, filter: .match("even", .bool(true)), oversampling: oversampling)
                        },
                        exact: try queries.prefix(5).map { try index.search($0, k: 5, ef: 40, strategy: .exact) },
                        live: live, count: index.count, deletedCount: index.deletedCount,
                        vectors: ids.map { index.vector(id: $0) }, payloads: ids.map { index.payload(id: $0) },
                        tiers: ids.map { index.tier(of: $0) })
    }

    /// Sign bits measure whole numbers of differing bits: their walks meet ties, which the heaps
    /// break by internal id, so with them the walk on full vectors is compared.
    @Test("a reordered index answers every search as before, on f32, int8, int4, float16, PQ and sign bits",
          arguments: [nil, QuantizationKind.scalarInt8, .scalarInt4, .float16, .pq8(subspaces: 4), .binary])
    func sameAnswers(kind: QuantizationKind?) throws {
        let index = try filled(kind)
        let walk: Int? = kind == .binary ? nil : 4
        let before = try observe(index, oversampling: walk)
        let stateBefore = index.exportState()
        try index.reorder()
        #expect(try observe(index, oversampling: walk) == before)
        #expect(index.invariantViolations().isEmpty)
        let state = index.exportState()
        // Breadth-first from the entry point: it is node 0, and its level-0 neighbours follow it.
        #expect(state.entryPoint == 0)
        let degree = Int(state.level0Links[0])
        #expect(Array(state.level0Links[1...degree]) == (1...degree).map(UInt32.init))
        #expect(state.externalIds != stateBefore.externalIds, "the order changed")
        #expect(Set(state.externalIds) == Set(stateBefore.externalIds))
        // The renumbered state is a valid one, and restores to the same answers.
        #expect(try observe(try HNSWIndex(state: state), oversampling: walk) == before)
        // Writes keep working after a reorder.
        let moved = data[3].map { $0 + 0.5 }
        try index.upsert(id: 5_000, vector: moved)
        #expect(index.vector(id: 5_000) == moved)
        #expect(try index.search(moved, k: 1, ef: 40, oversampling: nil).first?.id == 5_000)
        #expect(index.invariantViolations().isEmpty)
    }

    @Test("tiers, their rates and codes move with their nodes")
    func tieredIndex() throws {
        let index = try filled(.tiered(.init(hotThreshold: 5_000, retierIntervalQueries: 0)))
        // A few passes with popular queries spread the nodes over several tiers.
        for _ in 0..<3 {
            for q in queries.prefix(10) { _ = try index.search(q, k: 10, ef: 40) }
            index.retier()
        }
        let counts = try #require(index.tierStatistics).counts
        #expect(counts.filter { $0.value > 0 }.count >= 3, "several tiers in use: \(counts)")
        let before = try observe(index)
        try index.reorder()
        #expect(try observe(index) == before)
        #expect(index.tierStatistics?.counts == counts)
        #expect(index.invariantViolations().isEmpty)
    }

    /// With links on the heap, the vectors move through the scratch arena and the links in place.
    @Test("on-disk vectors (and links) are renumbered where they lie through one scratch arena; with no room for it the index stays as it was",
          arguments: [(QuantizationKind.scalarInt8, true), (.scalarInt4, false)])
    func onDisk(kind: QuantizationKind, graphOnDisk: Bool) throws {
        let arenas = MovingArenas()
        let index = try filled(kind, arenas: arenas, graphOnDisk: graphOnDisk)
        let before = try observe(index)
        let made = arenas.made.withLock { $0.count }
        arenas.refuseNew = true
        #expect(throws: VectorEngineError.self) { try index.reorder() }
        #expect(try observe(index) == before)
        arenas.refuseNew = false
        try index.reorder()
        #expect(arenas.made.withLock { $0.count } == made + 1)
        #expect(index.vectorPlacement == .disk && index.graphPlacement == (graphOnDisk ? .disk : .memory))
        #expect(try observe(index) == before)
        #expect(index.invariantViolations().isEmpty)
    }

    @Test("a scroll cursor from before a reorder, a compaction or an open is refused; one from the same numbering pages on")
    func staleCursors() throws {
        let index = try filled(nil)
        let first = try index.scroll(after: nil, limit: 100)
        let cursor = try #require(first.next)
        // The same numbering: the next page follows on.
        let second = try index.scroll(after: cursor, limit: 100)
        #expect(Set(first.ids).isDisjoint(with: second.ids) && second.ids.count == 100)
        // An open (of a state, as from a snapshot) cannot know its order: the cursor is refused there.
        let opened = try HNSWIndex(state: index.exportState())
        let refusedOpen = #expect(throws: VectorEngineError.self) { try opened.scroll(after: cursor, limit: 100) }
        #expect(refusedOpen?.code == .staleCursor)
        try index.reorder()
        let refused = #expect(throws: VectorEngineError.self) { try index.scroll(after: cursor, limit: 100) }
        #expect(refused?.code == .staleCursor)
        let fresh = try #require(try index.scroll(after: nil, limit: 100).next)
        try index.compact()
        #expect(throws: VectorEngineError.self) { try index.scroll(after: fresh, limit: 100) }
        // Not a cursor at all.
        #expect(throws: VectorEngineError.self) { try index.scroll(after: -5, limit: 100) }
        #expect(throws: VectorEngineError.self) { try index.scroll(after: 0x7FFF_0000_0000_0000, limit: 100) }
    }

    @Test("a filtered count that pages while the index is reordered starts again and counts right")
    func countDuringReorders() throws {
        let collection = try VectorCollection(.init(name: "c", dimension: 16, metric: .l2Squared, hnsw: params))
        try collection.upsert(data.enumerated().map { VectorPoint(id: UInt64($0.offset), vector: $0.element,
                                                                  payload: ["even": .bool($0.offset % 2 == 0)]) })
        let filter = PayloadFilter.match("even", .bool(true))
        let stop = Atomic<Bool>(false)
        let reorders = Atomic<Int>(0)
        let finished = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            while !stop.load(ordering: .relaxed) {
                try? collection.index.reorder()
                reorders.add(1, ordering: .relaxed)
            }
            finished.signal()
        }
        var counts = 0
        var wrong: [Int] = []
        let deadline = ContinuousClock.now + .seconds(60)
        while (counts < 200 || reorders.load(ordering: .relaxed) < 20) && ContinuousClock.now < deadline {
            let ids = try collection.ids(matching: filter, cancellation: .never, pageSize: 7)
            if ids.count != 350 || Set(ids).count != 350 { wrong.append(ids.count) }
            counts += 1
        }
        stop.store(true, ordering: .relaxed)
        finished.wait()
        #expect(wrong.isEmpty, "\(wrong.count) of \(counts) counts were wrong: \(wrong.prefix(10))")
        #expect(reorders.load(ordering: .relaxed) >= 20)
    }

    @Test("reorderIfGrown: only past the minimum and once a quarter of the index came after its last reorder, kept in the state")
    func reorderWhenGrown() throws {
        let index = try HNSWIndex(dimension: 16, metric: .l2Squared, parameters: params)
        for (i, v) in data.prefix(120).enumerated() { try index.upsert(id: UInt64(i), vector: v) }
        #expect(try !index.reorderIfGrown(minimumNodes: 200))
        #expect(try index.reorderIfGrown(minimumNodes: 50))
        #expect(try !index.reorderIfGrown(minimumNodes: 50))
        // 39 new of 159 is under a quarter; the 40th of 160 is a quarter.
        for (i, v) in data[120..<159].enumerated() { try index.upsert(id: UInt64(120 + i), vector: v) }
        #expect(try !index.reorderIfGrown(minimumNodes: 50))
        try index.upsert(id: 159, vector: data[159])
        #expect(try index.reorderIfGrown(minimumNodes: 50))
        // An opened index counts from the last reorder its state records (160 nodes), not from
        // its size at the open (190): the 54th new node makes a quarter of 214.
        for (i, v) in data[160..<190].enumerated() { try index.upsert(id: UInt64(160 + i), vector: v) }
        let state = index.exportState()
        #expect(state.orderedCount == 160)
        let opened = try HNSWIndex(state: state)
        #expect(try !opened.reorderIfGrown(minimumNodes: 50))
        for (i, v) in data[190..<213].enumerated() { try opened.upsert(id: UInt64(190 + i), vector: v) }
        #expect(try !opened.reorderIfGrown(minimumNodes: 50))
        try opened.upsert(id: 213, vector: data[213])
        #expect(try opened.reorderIfGrown(minimumNodes: 50))
        // A state that does not say (an older snapshot) counts from its size at the open.
        var unsaid = state
        unsaid.orderedCount = nil
        let older = try HNSWIndex(state: unsaid)
        for (i, v) in data[190..<253].enumerated() { try older.upsert(id: UInt64(190 + i), vector: v) }
        #expect(try !older.reorderIfGrown(minimumNodes: 50))
        try older.upsert(id: 253, vector: data[253])
        #expect(try older.reorderIfGrown(minimumNodes: 50))
        // More ordered nodes than nodes is refused.
        var wrong = state
        wrong.orderedCount = 191
        #expect(throws: VectorEngineError.self) { try HNSWIndex(state: wrong) }
    }

    @Test("a compaction leaves the graph in breadth-first order")
    func compactionReorders() throws {
        let index = try filled(.scalarInt4)
        try index.compact()
        let state = index.exportState()
        #expect(state.deleted.allSatisfy { !$0 } && state.externalIds.count == 640)
        #expect(state.entryPoint == 0)
        let degree = Int(state.level0Links[0])
        #expect(Array(state.level0Links[1...degree]) == (1...degree).map(UInt32.init))
        #expect(index.invariantViolations().isEmpty)
    }

    /// Everything a graph stores, node by node, in its own numbering.
    struct Stored: Equatable {
        var levels: [UInt8], ids: [UInt64], deleted: [Bool], payloads: [Payload], entry: UInt32?
        var internalOf: [UInt64: UInt32], vectors: [[Float]], links: [[[UInt32]]], codes: [UInt8]?
        init(_ g: HNSWGraph) {
            (levels, ids, deleted, payloads, entry, internalOf) = (g.levels, g.externalIds, g.deleted, g.payloads, g.entryPoint, g.internalOf)
            vectors = (0..<g.totalCount).map { g.storage.vectorArray(UInt32($0)) }
            links = (0..<g.totalCount).map { node in
                (0...Int(g.levels[node])).map { Array(g.storage.neighbors(UInt32(node), level: $0)) }
            }
            codes = g.quantized?.codes.array
        }
    }

    @Test("renumbering in place stores exactly what the renumbered copy does, on the heap and in arenas",
          arguments: [(QuantizationKind?.none, false, false), (.scalarInt4, false, false), (.scalarInt8, true, false),
                      (.scalarInt4, true, true)])
    func inPlaceMatchesCopy(kind: QuantizationKind?, vectorsOnDisk: Bool, graphOnDisk: Bool) throws {
        let arenas = MovingArenas()
        let index = try filled(kind, arenas: vectorsOnDisk ? arenas : nil, graphOnDisk: graphOnDisk)
        var rng = SeededGenerator(seed: 5)
        try index.access.exclusive { (g: inout HNSWGraph, _: inout HNSWSearchScratch) throws(VectorEngineError) in
            for order in [g.breadthFirstOrder(), Array(0..<UInt32(g.totalCount)).shuffled(using: &rng)] {
                let copy = try g.renumbered(order)
                let before = g.layout
                try g.renumberInPlace(order)
                #expect(Stored(g) == Stored(copy))
                #expect(g.layout != before && g.orderedCount == g.totalCount)
            }
        }
        #expect(index.invariantViolations().isEmpty)
    }

}

/// ``InPlacePermutation`` against the plain gather it replaces.
@Suite struct InPlacePermutationTests {
    @Test("arrays and rows end as a copy in the new order would, for every cycle shape")
    func matchesGather() {
        var rng = SeededGenerator(seed: 9)
        var orders: [[UInt32]] = [[], [0], [1, 0], [0, 1, 2], [1, 2, 0], [2, 0, 1, 4, 3]]
        for n in [7, 100, 1_000] { orders.append(Array(0..<UInt32(n)).shuffled(using: &rng)) }
        for order in orders {
            let values = order.indices.map { "v\($0)" }
            var moved = values
            InPlacePermutation.apply(order, to: &moved)
            #expect(moved == order.map { values[Int($0)] })
            let rowBytes = 3
            var bytes = (0..<order.count * rowBytes).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            let expected = order.flatMap { old in bytes[Int(old) * rowBytes..<(Int(old) + 1) * rowBytes] }
            bytes.withUnsafeMutableBytes { raw in
                if let base = raw.baseAddress { InPlacePermutation.apply(order, rows: base, rowBytes: rowBytes) }
            }
            #expect(bytes == expected)
        }
    }
}
