import Testing
import VectorEngine
@testable import VectorDatabase

/// A snapshot reorders an index a quarter of which came after its last reorder (a count the
/// snapshot keeps), so the snapshot, and the restarts that open it, hold the breadth-first order.
@Suite("durable collections: reorder before a snapshot")
struct SnapshotReorderTests {
    let config = CollectionConfig(name: "docs", dimension: 16, metric: .l2Squared,
                                  hnsw: HNSWParameters(m: 8, efConstruction: 64, efSearch: 40),
                                  quantization: .scalarInt8, quantizationTrainingCount: 100)

    private func results(_ collection: VectorCollection, _ queries: [VectorPoint]) throws -> [[SearchHit]] {
        try queries.map { try collection.search($0.vector, k: 10) }
            + queries.map { try collection.search($0.vector, k: 5, filter: .match("lang", .string("swift"))) }
    }

    @Test("searches answer as before, the scroll cursor of the old order is refused, and a reopen keeps the order")
    func snapshotReorders() throws {
        let directory = temporaryDirectory()
        let queries = points(10_000..<10_020, dimension: 16, seed: 3)
        var db = try DurableCollection.create(in: directory, config: config, options: .init(syncPolicy: .never))
        db.reorderMinimumNodes.store(100, ordering: .relaxed)
        _ = try db.upsert(points(0..<300, dimension: 16, seed: 1))
        let before = try results(db.collection, queries)
        let insertionOrder = db.collection.index.exportState().externalIds
        let cursor = try #require(try db.collection.scroll(after: nil, limit: 50).next)

        try db.snapshot()
        let reordered = db.collection.index.exportState().externalIds
        #expect(reordered != insertionOrder && Set(reordered) == Set(insertionOrder))
        #expect(try results(db.collection, queries) == before)
        let refused = #expect(throws: VectorEngineError.self) { try db.collection.scroll(after: cursor, limit: 50) }
        #expect(refused?.code == .staleCursor)
        // 90 new of 390 is under a quarter: the next snapshot keeps the order.
        _ = try db.upsert(points(300..<390, dimension: 16, seed: 2))
        try db.snapshot()
        let kept = db.collection.index.exportState().externalIds
        #expect(Array(kept.prefix(300)) == reordered)
        let afterWrites = try results(db.collection, queries)
        try db.close()

        db = try DurableCollection.open(directory)
        #expect(db.collection.index.exportState().externalIds == kept)
        #expect(try results(db.collection, queries) == afterWrites)
        // The snapshot kept the count at the last reorder (300), not the size at the open (390):
        // 10 more make a quarter of 400, and the next snapshot reorders.
        #expect(db.collection.index.exportState().orderedCount == 300)
        db.reorderMinimumNodes.store(100, ordering: .relaxed)
        _ = try db.upsert(points(390..<400, dimension: 16, seed: 4))
        try db.snapshot()
        #expect(db.collection.index.exportState().orderedCount == 400)
        try db.close()
    }

    @Test("an on-disk collection is reordered in place by a snapshot, with links on disk or on the heap, and reopens in that order",
          arguments: [VectorPlacement.disk, .memory])
    func onDiskSnapshotReorders(graph: VectorPlacement) throws {
        var diskConfig = config
        diskConfig.vectors = .disk
        diskConfig.graph = graph
        let directory = temporaryDirectory()
        let queries = points(10_000..<10_020, dimension: 16, seed: 3)
        var db = try DurableCollection.create(in: directory, config: diskConfig, options: .init(syncPolicy: .never))
        db.reorderMinimumNodes.store(100, ordering: .relaxed)
        _ = try db.upsert(points(0..<300, dimension: 16, seed: 1))
        let before = try results(db.collection, queries)
        let insertionOrder = db.collection.index.exportState().externalIds
        let cursor = try #require(try db.collection.scroll(after: nil, limit: 50).next)
        try db.snapshot()
        let reordered = db.collection.index.exportState().externalIds
        #expect(reordered != insertionOrder && Set(reordered) == Set(insertionOrder))
        #expect(try results(db.collection, queries) == before)
        #expect(throws: VectorEngineError.self) { try db.collection.scroll(after: cursor, limit: 50) }
        try db.close()

        // Opened from the snapshot (small buffers borrowed from its mapping), grown by more than a third,
        // and reordered in place again.
        db = try DurableCollection.open(directory)
        db.reorderMinimumNodes.store(100, ordering: .relaxed)
        #expect(db.collection.index.exportState().externalIds == reordered)
        #expect(try results(db.collection, queries) == before)
        _ = try db.upsert(points(300..<700, dimension: 16, seed: 2))
        let grown = try results(db.collection, queries)
        let appended = db.collection.index.exportState().externalIds
        try db.snapshot()
        let again = db.collection.index.exportState().externalIds
        #expect(again != appended && Set(again) == Set(appended))
        #expect(try results(db.collection, queries) == grown)
        try db.close()
        db = try DurableCollection.open(directory)
        #expect(db.collection.index.exportState().externalIds == again)
        #expect(try results(db.collection, queries) == grown)
        try db.close()
    }
}
