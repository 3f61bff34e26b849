import Synchronization
import Testing
@testable import VectorEngine

/// Heap memory standing in for a file mapping: it moves on every resize (as a remap may), counts
/// its resizes and hints, and can be told to refuse growth (a full disk). New room reads as
/// zeros, as a grown file does; a stale pointer into the old memory reads NaN bytes.
final class MovingArena: VectorArena, @unchecked Sendable {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int
    var refuseGrowth = false
    private(set) var resizes = 0
    let hints = Atomic<Int>(0)

    init(bytes: Int) {
        capacity = max(bytes, 16)
        base = .allocate(byteCount: capacity, alignment: 64)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: capacity)
    }

    deinit { base.deallocate() }

    /// The arena's bytes as floats (tests that overwrite stored vectors).
    var floats: UnsafeMutablePointer<Float> { base.assumingMemoryBound(to: Float.self) }

    func resize(toBytes bytes: Int) throws(VectorEngineError) {
        guard bytes > capacity else { return }
        if refuseGrowth { throw VectorEngineError(code: .storageExhausted, message: "no room (test)") }
        let moved = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        moved.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        moved.copyMemory(from: base, byteCount: capacity)
        base.initializeMemory(as: UInt8.self, repeating: 0xFF, count: capacity)   // NaN if read as floats
        base.deallocate()
        base = moved
        capacity = bytes
        resizes += 1
    }

    func willRead(offset: Int, count: Int) {
        precondition(offset >= 0 && offset + count <= capacity)
        hints.add(1, ordering: .relaxed)
    }
}

/// Hands out ``MovingArena``s and remembers them.
final class MovingArenas: VectorArenaProvider, @unchecked Sendable {
    let made = Mutex<[MovingArena]>([])
    var refuseNew = false
    func makeArena(bytes: Int) throws(VectorEngineError) -> any VectorArena {
        if refuseNew { throw VectorEngineError(code: .storageExhausted, message: "no room for a new arena (test)") }
        let arena = MovingArena(bytes: bytes)
        made.withLock { $0.append(arena) }
        return arena
    }
    var last: MovingArena? { made.withLock { $0.last } }
}

@Suite struct VectorArenaTests {
    let data = clusteredData(count: 600, dimension: 16, seed: 4)
    let queries = clusteredData(count: 30, dimension: 16, seed: 5)
    let params = HNSWParameters(m: 8, efConstruction: 60, seed: 7)

    func filled(_ arenas: (any VectorArenaProvider)?, quantized: Bool = true, graphOnDisk: Bool = false) throws -> HNSWIndex {
        let index = try HNSWIndex(dimension: 16, metric: .l2Squared, parameters: params, vectorArenas: arenas,
                                  graphOnDisk: graphOnDisk)
        for (i, v) in data.prefix(300).enumerated() { try index.upsert(id: UInt64(i), vector: v, payload: ["i": .int(Int64(i))]) }
        try index.upsert(data.dropFirst(300).enumerated().map { VectorPoint(id: UInt64(300 + $0.offset), vector: $0.element) },
                         threads: 1)
        if quantized { try index.enableQuantization(.scalarInt8, sampleSize: 600, seed: 1) }
        return index
    }

    /// Rescoring asks for its vectors ahead only while pages go missing: in an arena whose memory
    /// stays put (heap memory, as a mapping with every page in), the asks stop after
    /// `RescoringPrefetch.quietLimit` rescorings without a fault, and the answers stay the same.
    @Test func rescoringStopsAskingOnceNothingIsMissing() throws {
        let arenas = MovingArenas()
        let onDisk = try filled(arenas)
        let inMemory = try filled(nil)
        let arena = try #require(arenas.last)
        var asked: [Int] = []
        for _ in 0..<6 {
            for q in queries { #expect(try onDisk.search(q, k: 10, ef: 50) == inMemory.search(q, k: 10, ef: 50)) }
            asked.append(arena.hints.load(ordering: .relaxed))
        }
        // 30 queries a round: the first rounds ask (a slot needs 64 quiet rescorings), the last ones do not.
        #expect(asked[0] > 0)
        #expect(asked[5] == asked[4], "still asking after \(6 * queries.count) rescorings without a fault: \(asked)")
    }

    @Test func rescoringPrefetchRule() {
        var rule = RescoringPrefetch()
        for _ in 0..<(RescoringPrefetch.quietLimit - 1) { rule.record(faults: 0) }
        #expect(rule.asks)
        rule.record(faults: 0)
        #expect(!rule.asks)
        rule.record(faults: 0)
        #expect(!rule.asks && rule.quiet == RescoringPrefetch.quietLimit)
        rule.record(faults: 3)
        #expect(rule.asks && rule.quiet == 0)
        // Touching fresh memory (a mapping of its own: above malloc's threshold) counts faults.
        let before = RescoringPrefetch.threadFaults()
        let fresh = UnsafeMutableRawPointer.allocate(byteCount: 1 << 22, alignment: 4096)
        for offset in stride(from: 0, to: 1 << 22, by: 4096) { fresh.storeBytes(of: 1, toByteOffset: offset, as: UInt8.self) }
        fresh.deallocate()
        #expect(RescoringPrefetch.threadFaults() > before)
    }

    /// The same writes give the same graph and answers whether vectors are on the heap or in an
    /// arena that moves as it grows; only the memory counted differs.
    @Test func arenaIndexMatchesHeapIndex() throws {
        let arenas = MovingArenas()
        let onDisk = try filled(arenas)
        let inMemory = try filled(nil)
        #expect(onDisk.vectorPlacement == .disk && inMemory.vectorPlacement == .memory)
        #expect((arenas.last?.resizes ?? 0) >= 3, "the arena should have grown (and moved) several times")
        for q in queries {
            #expect(try onDisk.search(q, k: 10, ef: 50) == inMemory.search(q, k: 10, ef: 50))
            #expect(try onDisk.search(q, k: 5, ef: 50, oversampling: nil) == inMemory.search(q, k: 5, ef: 50, oversampling: nil))
        }
        #expect(onDisk.vector(id: 123) == inMemory.vector(id: 123))
        #expect(onDisk.offHeapVectorBytes == 600 * 16 * 4 && inMemory.offHeapVectorBytes == 0)
        #expect(inMemory.memoryBytes - onDisk.memoryBytes == 600 * 16 * 4)
        // Rescoring told the arena which vectors it was about to read.
        #expect((arenas.last?.hints.load(ordering: .relaxed) ?? 0) > 0)
        let exported = onDisk.exportState(), expected = inMemory.exportState()
        #expect(exported == expected, "an arena index exports the same state as a heap one")
    }

    /// Level-0 links in an arena of their own (an on-disk graph), moving as it grows: the same
    /// graph, answers and exported state as on the heap; they are counted off the heap; an export
    /// restores into new arenas, and a compaction builds into new ones.
    @Test func graphArenaMatchesHeapIndex() throws {
        let arenas = MovingArenas()
        let onDisk = try filled(arenas, graphOnDisk: true)
        let inMemory = try filled(nil)
        #expect(arenas.made.withLock { $0.count } == 2)
        #expect(onDisk.graphPlacement == .disk && inMemory.graphPlacement == .memory)
        #expect(arenas.made.withLock { $0.allSatisfy { $0.resizes >= 3 } }, "both arenas grew (and moved)")
        for q in queries { #expect(try onDisk.search(q, k: 10, ef: 50) == inMemory.search(q, k: 10, ef: 50)) }
        #expect(onDisk.exportState() == inMemory.exportState())
        #expect(onDisk.offHeapGraphBytes == 600 * 17 * 4)
        #expect(inMemory.memoryBytes - onDisk.memoryBytes == 600 * 16 * 4 + 600 * 17 * 4)
        #expect(throws: VectorEngineError.self) {
            _ = try HNSWIndex(dimension: 16, metric: .l2Squared, parameters: params, graphOnDisk: true)
        }

        let restored = try HNSWIndex(state: onDisk.exportState(borrowingVectors: true), vectorArenas: arenas, graphOnDisk: true)
        #expect(arenas.made.withLock { $0.count } == 4 && restored.graphPlacement == .disk)
        for q in queries { #expect(try restored.search(q, k: 10, ef: 50) == inMemory.search(q, k: 10, ef: 50)) }

        for id in 0..<300 { _ = onDisk.delete(id: UInt64(id)) }
        try onDisk.compact()
        #expect(onDisk.graphPlacement == .disk && onDisk.offHeapGraphBytes == 300 * 17 * 4)
        #expect(onDisk.invariantViolations().isEmpty)
    }

    /// A link arena that cannot grow refuses the write, as a full vector arena does, and changes
    /// nothing.
    @Test func graphGrowthRefusedLeavesTheIndexUnchanged() throws {
        let arenas = MovingArenas()
        let index = try HNSWIndex(dimension: 16, metric: .l2Squared, parameters: params, vectorArenas: arenas, graphOnDisk: true)
        for (i, v) in data.prefix(64).enumerated() { try index.upsert(id: UInt64(i), vector: v) }
        let links = try #require(arenas.made.withLock { $0.last })
        links.refuseGrowth = true
        let before = index.exportState()
        let error = #expect(throws: VectorEngineError.self) { try index.upsert(id: 1000, vector: data[64]) }
        #expect(error?.code == .storageExhausted)
        #expect(index.exportState() == before)
        for q in queries.prefix(5) { _ = try index.search(q, k: 5, ef: 20) }
        links.refuseGrowth = false
        try index.upsert(id: 1000, vector: data[64])
        #expect(index.count == 65 && index.invariantViolations().isEmpty)
    }

    /// Exported with borrowed vectors, the state points into the arena (no copy) and restores,
    /// into a fresh arena, an index that answers as the original.
    @Test func borrowedExportRestoresIntoANewArena() throws {
        let arenas = MovingArenas()
        let index = try filled(arenas)
        let state = index.exportState(borrowingVectors: true)
        #expect(state.vectors.isEmpty)
        let borrowed = try #require(state.borrowedVectors)
        #expect(UnsafeMutableRawPointer(borrowed.base) == arenas.last?.base && borrowed.count == 600 * 16)
        let restored = try HNSWIndex(state: state, vectorArenas: arenas)
        #expect(arenas.made.withLock { $0.count } == 2)
        #expect(restored.vectorPlacement == .disk)
        for q in queries { #expect(try restored.search(q, k: 10, ef: 50) == index.search(q, k: 10, ef: 50)) }
        // Without borrowing, the vectors are copied out as for a heap index.
        #expect(index.exportState().vectors.count == 600 * 16)
    }

    /// A borrowing export lends the index's own vectors and links (a snapshot writes them from
    /// there); an index made from it copies them, so writing to either leaves the other as it was.
    @Test func borrowedExportIsNeverShared() throws {
        let index = try filled(MovingArenas())
        let state = index.exportState(borrowingVectors: true)
        #expect(state.level0Links.isEmpty && state.borrowedLevel0Links?.count == 600 * 17)
        #expect(state.borrowedVectors?.isAdoptable == false && state.borrowedLevel0Links?.isAdoptable == false)
        let before = try queries.map { try index.search($0, k: 10, ef: 50) }
        let copy = try HNSWIndex(state: state)             // on the heap: copies, never adopts
        #expect(copy.vectorPlacement == .memory && copy.usesBorrowedStorage == (false, false))
        for (i, v) in data.suffix(200).enumerated() { try copy.upsert(id: UInt64(i), vector: v) }   // overwrites ids 0..<200
        #expect(try queries.map { try index.search($0, k: 10, ef: 50) } == before)
        #expect(try queries.map { try copy.search($0, k: 10, ef: 50) } != before)
    }

    /// A full disk refuses the write that needed room, with `.storageExhausted`, and changes
    /// nothing; the index keeps answering and accepts writes again once there is room.
    @Test func growthRefusedLeavesTheIndexUnchanged() throws {
        let arenas = MovingArenas()
        let index = try HNSWIndex(dimension: 16, metric: .l2Squared, parameters: params, vectorArenas: arenas)
        for (i, v) in data.prefix(64).enumerated() { try index.upsert(id: UInt64(i), vector: v) }
        let arena = try #require(arenas.last)
        arena.refuseGrowth = true
        let before = index.exportState()
        #expect(throws: VectorEngineError.self) { try index.upsert(id: 1000, vector: data[64]) }
        do {
            try index.upsert([VectorPoint(id: 2000, vector: data[65]), VectorPoint(id: 2001, vector: data[66])], threads: 2)
            Issue.record("a batch needing room should have been refused")
        } catch {
            #expect(error.code == .storageExhausted)
        }
        #expect(index.exportState() == before, "a refused write changed the index")
        // An update in place needs no room.
        try index.upsert(id: 3, vector: data[70])
        #expect(index.vector(id: 3) == data[70])
        arena.refuseGrowth = false
        try index.upsert(id: 1000, vector: data[64])
        #expect(index.count == 65)
    }

    /// Compaction builds the new graph in a new arena; without room for one, `compact()` throws
    /// and the tombstoned graph stays as it was (deletes still succeed).
    @Test func compactionNeedsASecondArena() throws {
        let arenas = MovingArenas()
        let index = try filled(arenas, quantized: false)
        for id in 0..<200 { index.delete(id: UInt64(id)) }
        arenas.refuseNew = true
        #expect(throws: VectorEngineError.self) { try index.compact() }
        #expect(index.count == 400 && index.deletedCount == 200)
        // Past half tombstoned, a delete tries to compact, fails quietly and still deletes.
        for id in 200..<320 { #expect(index.delete(id: UInt64(id))) }
        #expect(index.count == 280 && index.deletedCount == 320)
        arenas.refuseNew = false
        try index.compact()
        #expect(index.deletedCount == 0 && index.count == 280)
        #expect(index.vectorPlacement == .disk)
        let oracle = try BruteForceIndex(dimension: 16, metric: .l2Squared)
        for (i, v) in data.enumerated() where i >= 320 { try oracle.upsert(id: UInt64(i), vector: v, payload: [:]) }
        let r = try recall({ try index.search($0, k: 10, ef: 80) }, oracle: oracle, queries: queries, k: 10)
        #expect(r >= 0.9, "recall after compaction into a new arena: \(r)")
    }

    /// A collection configured for on-disk vectors needs somewhere to put them.
    @Test func diskCollectionWithoutArenasIsRefused() throws {
        let config = CollectionConfig(name: "d", dimension: 4, metric: .cosine, quantization: .scalarInt8, vectors: .disk)
        #expect(throws: VectorEngineError.self) { try VectorCollection(config) }
        let collection = try VectorCollection(config, vectorArenas: MovingArenas())
        #expect(collection.index.vectorPlacement == .disk)
    }
}
