import Storage
import Testing
@testable import VectorDatabase
@testable import VectorEngine

/// Snapshots keep the trained quantizer and its codes (section `quantizer`), so a quantized
/// collection reopens with the very search results it gave before it closed.
@Suite("durable collections: quantized collections reopen with identical results")
struct QuantizedSnapshotTests {
    static let kinds: [QuantizationKind] = [
        .scalarInt8, .scalarInt4, .float16, .pq8(subspaces: 8), .pq4(subspaces: 8), .binary,
        .tiered(TierPolicy(hotThreshold: 5_000, retierIntervalQueries: 0)),
    ]
    let queries = Self.drifted(points(90_000..<90_050, dimension: 16, seed: 77), by: 2)

    /// Points spread `scale` times wider than the first ones, as data drifts: a quantizer trained
    /// again on the later data differs from the one trained on the first 500 points.
    static func drifted(_ points: [VectorPoint], by scale: Float) -> [VectorPoint] {
        points.map { VectorPoint(id: $0.id, vector: $0.vector.map { $0 * scale }, payload: $0.payload) }
    }

    func config(_ kind: QuantizationKind) -> CollectionConfig {
        CollectionConfig(name: "q", dimension: 16, metric: .l2Squared, hnsw: HNSWParameters(m: 8, efConstruction: 64, efSearch: 32),
                         quantization: kind, quantizationTrainingCount: 500)
    }

    /// Ids and distances of 50 queries, plain, with the least rescoring, and filtered.
    func results(_ collection: VectorCollection) throws -> [[SearchHit]] {
        try queries.map { try collection.search($0.vector, k: 10) }
            + queries.map { try collection.search($0.vector, k: 10, ef: 10, oversampling: 1) }
            + queries.map { try collection.search($0.vector, k: 5, filter: .match("lang", .string("c"))) }
    }

    /// A collection trained after 500 of its points, with updates and deletes; tiered ones have
    /// had three re-tiering passes with searches, so their vectors are in several tiers.
    func written(_ kind: QuantizationKind, in directory: String) throws -> DurableCollection {
        let db = try DurableCollection.create(in: directory, config: config(kind), options: .init(syncPolicy: .never))
        for batch in 0..<8 {
            let batchPoints = points(UInt64(batch * 100)..<UInt64(batch * 100 + 100), dimension: 16, seed: UInt64(batch))
            try db.upsert(Self.drifted(batchPoints, by: batch < 5 ? 1 : 3))
        }
        #expect(db.collection.index.quantization == kind)
        try db.upsert(points(0..<40, dimension: 16, seed: 99))   // updates
        try db.delete(ids: Array(stride(from: 7, to: 800, by: 53)))
        if case .tiered = kind {
            for pass in 0..<3 {
                for q in points(UInt64(70_000 + pass * 20)..<UInt64(70_020 + pass * 20), dimension: 16, seed: 5) {
                    _ = try db.collection.search(q.vector, k: 10)
                }
                db.collection.index.retier()
            }
            let counts = try #require(db.collection.index.tierStatistics).counts
            #expect(counts.values.filter { $0 > 0 }.count >= 3, "tiers not mixed: \(counts)")
        }
        return db
    }

    @Test("written past training, snapshotted, more writes logged, closed, reopened: identical results", arguments: kinds)
    func reopenGivesIdenticalResults(kind: QuantizationKind) throws {
        let directory = temporaryDirectory()
        let expected: [[SearchHit]], atSnapshot: [[SearchHit]], tiers: TierStatistics?, file: [UInt8]
        do {
            let db = try written(kind, in: directory)
            let info = try db.snapshot()
            file = try db.openSnapshot(info.name).read(offset: 0, count: info.sizeBytes)
            atSnapshot = try results(db.collection)
            try db.upsert(Self.drifted(points(800..<1000, dimension: 16, seed: 20), by: 3))
            try db.upsert(points(100..<120, dimension: 16, seed: 21))   // updates after the snapshot
            try db.delete(ids: [3, 4, 900])
            expected = try results(db.collection)
            tiers = db.collection.index.tierStatistics
            try db.close()
        }
        let reopened = try DurableCollection.open(directory, options: .init(syncPolicy: .never))
        #expect(reopened.recovery.snapshotSequence > 0 && reopened.recovery.replayedRecords == 3)
        #expect(try SnapshotStore(directory: directory + "/snapshots").loadLatestValid().0?.sections
                    .contains(CollectionCodec.quantizerSection) == true)
        #expect(try results(reopened.collection) == expected)
        #expect(reopened.collection.index.tierStatistics == tiers)
        // The downloaded file installs elsewhere with the results of the moment it was taken.
        let copy = try DurableCollection.install(snapshotFile: file, in: temporaryDirectory() + "/copy", name: "copy",
                                                 options: .init(syncPolicy: .never))
        #expect(try results(copy.collection) == atSnapshot)
    }

    @Test("a snapshot without the quantizer section (older builds) opens and trains again")
    func olderSnapshotTrainsAgain() throws {
        let directory = temporaryDirectory()
        let db = try written(.pq4(subspaces: 8), in: directory)
        try db.snapshot()
        try db.close()
        let store = try SnapshotStore(directory: directory + "/snapshots")
        let snapshot = try #require(try store.loadLatestValid().0)
        let sections = snapshot.sections.names.filter { $0 != CollectionCodec.quantizerSection }
            .map { (name: $0, bytes: snapshot.sections[$0] ?? []) }
        try store.write(sections: sections, walSequence: snapshot.info.walSequence, createdUnixMicros: 0)
        let reopened = try DurableCollection.open(directory, options: .init(syncPolicy: .never))
        #expect(reopened.recovery.skippedSnapshots.isEmpty)
        #expect(reopened.collection.index.quantization == .pq4(subspaces: 8))
        #expect(try reopened.collection.count() == 785)
    }

    @Test("the quantizer section round-trips every kind; every cut and bad count is refused, never trusted", arguments: kinds)
    func sectionCodec(kind: QuantizationKind) throws {
        let index = try HNSWIndex(dimension: 8, metric: .cosine, parameters: .init(m: 4, efConstruction: 16))
        for p in points(0..<40, dimension: 8, seed: 3) { try index.upsert(id: p.id, vector: p.vector, payload: [:]) }
        try index.enableQuantization(kind)
        try index.upsert(id: 40, vector: [1, 2, 3, 4, 5, 6, 7, 8], payload: [:])
        if case .tiered = kind { _ = try index.search([1, 0, 0, 0, 0, 0, 0, 0], k: 3, ef: 8); index.retier() }
        let quantizer = try #require(index.exportState().quantizer)
        let bytes = CollectionCodec.quantizerSectionBytes(quantizer)
        #expect(try CollectionCodec.decodeQuantizer(bytes) == quantizer)
        for cut in 0..<bytes.count {
            #expect(throws: (any Error).self) { _ = try CollectionCodec.decodeQuantizer(Array(bytes[..<cut])) }
        }
        #expect(throws: (any Error).self) { _ = try CollectionCodec.decodeQuantizer(bytes + [0]) }
        // A later layout is not an error: the collection trains again, as older builds do.
        #expect(try CollectionCodec.decodeQuantizer([2, 0, 0, 0] + bytes[4...]) == nil)
        // Counts far beyond the bytes (codes after three empty float arrays) are refused before allocating.
        var huge = BinaryWriter()
        huge.u32(CollectionCodec.quantizerLayout); CollectionCodec.write(kind, &huge)
        for _ in 0..<3 { huge.u64(0) }
        huge.u64(UInt64.max / 2)
        #expect(throws: (any Error).self) { _ = try CollectionCodec.decodeQuantizer(huge.bytes) }
    }
}
