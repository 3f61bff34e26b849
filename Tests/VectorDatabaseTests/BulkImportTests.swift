import Storage
import Testing
import VectorEngine
@testable import VectorDatabase

/// Seeded clustered Gaussians (20 centres), the shape of the benchmarks' data.
private func clustered(_ count: Int, dimension: Int, seed: UInt64) -> [[Float]] {
    var rng = SeededGenerator(seed: seed)
    let centres = (0..<20).map { _ in (0..<dimension).map { _ in Float(rng.nextGaussian() * 3) } }
    return (0..<count).map { _ in
        let centre = centres[Int(rng.next() % 20)]
        return centre.map { $0 + Float(rng.nextGaussian()) }
    }
}

/// Mean recall@k of the collection's HNSW search against exact neighbours (the oracle).
private func recall(_ collection: VectorCollection, queries: [[Float]], k: Int = 10) throws -> Double {
    var found = 0
    for query in queries {
        let exact = Set(try collection.search(query, k: k, exact: true).map(\.id))
        found += try collection.search(query, k: k).filter { exact.contains($0.id) }.count
    }
    return Double(found) / Double(k * queries.count)
}

@Suite("bulk imports: batches linked on several threads, logged and acknowledged as before")
struct BulkImportTests {
    let config = CollectionConfig(name: "bulk", dimension: 24, metric: .l2Squared,
                                  hnsw: HNSWParameters(m: 12, efConstruction: 100, efSearch: 64))

    @Test("a parallel-linked import answers like brute force, and reopens whole from snapshot + log")
    func parallelImportRecallAndReopen() async throws {
        let directory = temporaryDirectory()
        let vectors = clustered(6000, dimension: 24, seed: 3)
        let queries = clustered(40, dimension: 24, seed: 4)
        let db = try DurableCollection.create(in: directory, config: config, options: .manualSnapshots(syncPolicy: .never))
        for start in stride(from: 0, to: vectors.count, by: 500) {
            let batch = (start..<start + 500).map {
                DurableCollection.KeyedPoint(key: .number(UInt64($0)), vector: vectors[$0], payload: ["n": .int(Int64($0))])
            }
            try db.upsert(keyed: batch, threads: 4, acknowledge: .logged)
            // Half the import in the snapshot, half replayed from the log at the next open.
            if start == 2500 { try db.snapshot() }
        }
        try await db.waitUntilQueuedWritesApplied()
        #expect(db.queuedWrites == 0)
        #expect(try db.collection.count() == 6000)
        #expect(try recall(db.collection, queries: queries) >= 0.9)
        try db.close()

        let reopened = try DurableCollection.open(directory)
        defer { try? reopened.close() }
        #expect(reopened.recovery.replayedRecords == 6)
        #expect(try reopened.collection.count() == 6000)
        for id in stride(from: 0, to: 6000, by: 7) {
            #expect(reopened.collection.get(id: UInt64(id)) == VectorPoint(id: UInt64(id), vector: vectors[id], payload: ["n": .int(Int64(id))]))
        }
        #expect(try recall(reopened.collection, queries: queries) >= 0.9)
    }

    @Test("a batch linked on n threads owes n times its apply time to the replay bound")
    func parallelApplyOwesThreadTime() throws {
        let vectors = clustered(3000, dimension: 24, seed: 5)
        let points = vectors.enumerated().map { VectorPoint(id: UInt64($0.offset), vector: $0.element) }
        let db = try DurableCollection.create(in: temporaryDirectory(), config: config, options: .manualSnapshots(syncPolicy: .never))
        defer { try? db.close() }
        let started = ContinuousClock.now
        try db.upsert(points, threads: 2)
        let wall = (ContinuousClock.now - started).wholeNanoseconds
        // Replay at open links one point at a time: it redoes both threads' work. The call's
        // wall time also holds validation and logging, hence 1.5 rather than 2.
        #expect(Double(db.unsnapshotted.applyNanos) >= 1.5 * Double(wall))
        #expect(db.unsnapshotted.changes == 3000)
    }

    @Test("waiting for queued writes reports a write that failed to apply")
    func waitingReportsQueuedFailures() async throws {
        let db = try DurableCollection.create(in: temporaryDirectory(), config: config, options: .manualSnapshots(syncPolicy: .never))
        defer { try? db.close() }
        let points = clustered(200, dimension: 24, seed: 6).enumerated().map {
            DurableCollection.KeyedPoint(key: .number(UInt64($0.offset)), vector: $0.element)
        }
        try db.upsert(keyed: points, threads: 2, acknowledge: .logged)
        try await db.waitUntilQueuedWritesApplied()
        #expect(try db.collection.count() == 200)
        // More threads than the engine takes (at most 1024): the points are valid and logged,
        // then refused when linked; the wait says so, and so does every later write.
        let many = clustered(1100, dimension: 24, seed: 7).enumerated().map {
            DurableCollection.KeyedPoint(key: .number(UInt64(1000 + $0.offset)), vector: $0.element)
        }
        try db.upsert(keyed: many, threads: 1100, acknowledge: .logged)
        await #expect(throws: StorageError.self) { try await db.waitUntilQueuedWritesApplied() }
        #expect(throws: StorageError.self) { try db.upsert(keyed: Array(points.prefix(1))) }
    }
}
