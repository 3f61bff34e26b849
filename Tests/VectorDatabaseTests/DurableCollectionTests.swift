#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Storage
import Testing
import VectorEngine
@testable import VectorDatabase

func temporaryDirectory() -> String {
    var template = Array("/tmp/ruvector-db-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
}

/// Seeded points: vectors in [-1, 1), a payload with a string, an int and a list.
func points(_ ids: Range<UInt64>, dimension: Int, seed: UInt64) -> [VectorPoint] {
    var state = seed
    func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state) >> 40) / Float(1 << 23)
    }
    return ids.map { id in
        VectorPoint(id: id, vector: (0..<dimension).map { _ in next() },
                    payload: ["lang": .string(id % 3 == 0 ? "swift" : "c"), "n": .int(Int64(id)),
                              "tags": .list([.string("t\(id % 5)"), .null, .double(0.5)]),
                              "meta": .object(["author": .object(["name": .string("a\(id)")]), "refs": .list([.object(["id": .int(1)])])])])
    }
}

@Suite("durable collections: a collection reopens with identical search results")
struct DurableCollectionTests {
    let config = CollectionConfig(name: "docs", dimension: 16, metric: .cosine,
                                  hnsw: HNSWParameters(m: 8, efConstruction: 64, efSearch: 32))

    private func results(_ collection: VectorCollection, queries: [VectorPoint]) throws -> [[SearchHit]] {
        try queries.map { try collection.search($0.vector, k: 10, filter: .match("lang", .string("swift"))) }
            + queries.map { try collection.search($0.vector, k: 5) }
    }

    @Test("writes acknowledged once logged are applied in log order, before deletes, snapshots and close")
    func loggedAcknowledgement() throws {
        let directory = temporaryDirectory()
        let queries = points(10_000..<10_020, dimension: 16, seed: 9)
        // The same writes, each applied before it returns: the reference.
        let reference = try DurableCollection.create(in: temporaryDirectory(), config: config, options: .init(syncPolicy: .never))
        let db = try DurableCollection.create(in: directory, config: config, options: .init(syncPolicy: .never))
        for target in [reference, db] {
            let acknowledge: DurableCollection.Acknowledgement = target === db ? .logged : .applied
            for batch in 0..<20 {
                let first = UInt64(batch * 30)
                try target.upsert(points(first..<first + 40, dimension: 16, seed: UInt64(batch)), acknowledge: acknowledge)
            }
            // A delete after queued upserts sees them (ids 560..<600 were written by the last batches).
            #expect(try target.delete(ids: Array(560..<600)) == 40)
            try target.upsert(points(1000..<1200, dimension: 16, seed: 50), acknowledge: acknowledge)
            #expect(try target.delete(matching: .range("n", .init(gte: 1100, lt: 1150))) == 50)
        }
        try db.upsert(points(2000..<2100, dimension: 16, seed: 60), acknowledge: .logged)
        #expect(db.queuedWrites <= DurableCollection.maxQueuedWrites)
        db.waitUntilApplied()
        #expect(db.queuedWrites == 0)
        try reference.upsert(points(2000..<2100, dimension: 16, seed: 60))
        #expect(try results(db.collection, queries: queries) == results(reference.collection, queries: queries))
        #expect(try db.collection.count() == reference.collection.count())

        // A snapshot taken with writes still queued covers them; close applies what is queued.
        try db.upsert(points(3000..<3300, dimension: 16, seed: 70), acknowledge: .logged)
        try db.snapshot()
        try db.upsert(points(3300..<3600, dimension: 16, seed: 71), acknowledge: .logged)
        try db.close()
        for (range, seed) in [(3000..<3300, 70), (3300..<3600, 71)] as [(Range<UInt64>, UInt64)] {
            try reference.upsert(points(range, dimension: 16, seed: seed))
        }
        let reopened = try DurableCollection.open(directory)
        #expect(reopened.recovery.snapshotSequence > 0 && reopened.recovery.replayedRecords == 1)
        #expect(try reopened.collection.count() == reference.collection.count())
        #expect(reopened.collection.get(id: 3500) == reference.collection.get(id: 3500))
        try reopened.close()
        try reference.close()
    }

    @Test("WAL replay alone restores the collection exactly")
    func replayOnly() throws {
        let directory = temporaryDirectory()
        let queries = points(10_000..<10_020, dimension: 16, seed: 9)
        let expected: [[SearchHit]]
        let expectedPoint: VectorPoint?
        do {
            let db = try DurableCollection.create(in: directory, config: config, options: .init(syncPolicy: .never))
            try db.upsert(points(0..<300, dimension: 16, seed: 1))
            try db.upsert(points(100..<150, dimension: 16, seed: 2))     // updates
            try db.delete(ids: Array(200..<230))
            expected = try results(db.collection, queries: queries)
            expectedPoint = db.collection.get(id: 120)
            try db.close()
        }
        let reopened = try DurableCollection.open(directory)
        #expect(reopened.recovery.replayedRecords == 3 && reopened.recovery.snapshotSequence == 0)
        #expect(try results(reopened.collection, queries: queries) == expected)
        #expect(reopened.collection.get(id: 120) == expectedPoint)
        #expect(reopened.collection.get(id: 210) == nil)
        #expect(try reopened.collection.count() == 270)
    }

    @Test("snapshot + later writes + reopen; a damaged newest snapshot falls back to the previous one")
    func snapshotsAndFallback() throws {
        let directory = temporaryDirectory()
        let queries = points(50_000..<50_020, dimension: 16, seed: 7)
        let expected: [[SearchHit]]
        do {
            let db = try DurableCollection.create(in: directory, config: config, options: .init(syncPolicy: .never))
            try db.upsert(points(0..<200, dimension: 16, seed: 3))
            try db.snapshot()
            try db.upsert(points(200..<400, dimension: 16, seed: 4))
            try db.delete(ids: [5, 6, 7])
            try db.snapshot()
            try db.upsert(points(400..<450, dimension: 16, seed: 5))
            expected = try results(db.collection, queries: queries)
            try db.close()
        }
        let reopened = try DurableCollection.open(directory)
        #expect(reopened.recovery.replayedRecords == 1)
        #expect(try results(reopened.collection, queries: queries) == expected)
        try reopened.close()

        // Damage the newest snapshot: recovery uses the older one and replays more of the log.
        let store = try SnapshotStore(directory: directory + "/snapshots")
        let newest = try store.list()[0]
        var bytes = try AtomicFile.read(directory + "/snapshots/" + newest.name)
        bytes[bytes.count / 2] ^= 0xFF
        try AtomicFile.write(bytes, to: directory + "/snapshots/" + newest.name)
        let fallback = try DurableCollection.open(directory)
        #expect(fallback.recovery.skippedSnapshots == [newest.name])
        #expect(fallback.recovery.replayedRecords == 3)
        #expect(try results(fallback.collection, queries: queries) == expected)
    }

    @Test("a bad batch is refused before it is logged; existing data is kept; create twice is refused")
    func refusals() throws {
        let directory = temporaryDirectory()
        let db = try DurableCollection.create(in: directory, config: config, options: .init(syncPolicy: .never))
        try db.upsert(points(0..<10, dimension: 16, seed: 1))
        #expect(throws: VectorEngineError.self) {
            try db.upsert([VectorPoint(id: 99, vector: [1, 2, 3])])
        }
        try db.close()
        let reopened = try DurableCollection.open(directory)
        #expect(try reopened.collection.count() == 10)
        #expect(reopened.recovery.replayedRecords == 1)
        #expect(throws: StorageError.self) { _ = try DurableCollection.create(in: directory, config: config) }
    }

    @Test("codec round-trips every payload kind and refuses truncated bytes")
    func codec() throws {
        let batch = points(0..<5, dimension: 4, seed: 11)
        #expect(try CollectionCodec.decodeUpsert(CollectionCodec.encodeUpsert(batch)) == batch)
        let encoded = CollectionCodec.encodeUpsert(batch)
        for cut in 0..<encoded.count {
            #expect(throws: (any Error).self) { _ = try CollectionCodec.decodeUpsert(Array(encoded[..<cut])) }
        }
        let configs = [config, CollectionConfig(name: "q", dimension: 8, metric: .l2Squared, quantization: .pq4(subspaces: 4))]
        for c in configs { #expect(try CollectionCodec.decodeConfig(CollectionCodec.encode(c)) == c) }
    }
}

@Suite("durable collections: automatic snapshots, retention, install from a snapshot file")
struct SnapshotLifecycleTests {
    let config = CollectionConfig(name: "docs", dimension: 8, metric: .l2Squared,
                                  hnsw: HNSWParameters(m: 8, efConstruction: 32, efSearch: 32))

    @Test("a snapshot is taken after autoSnapshotWALBytes of log; only retainedSnapshots are kept")
    func automaticAndRetention() throws {
        let directory = temporaryDirectory()
        let background = DispatchQueue(label: "test.background")
        let options = DurableCollection.Options(syncPolicy: .never, autoSnapshotWALBytes: 4096, retainedSnapshots: 2,
                                                runInBackground: { background.async(execute: $0) })
        let db = try DurableCollection.create(in: directory, config: config, options: options)
        // Each batch of 20 points x 8 floats is ~1 KB of log: a snapshot every ~4 batches.
        for batch in 0..<20 { try db.upsert(points(UInt64(batch * 20)..<UInt64(batch * 20 + 20), dimension: 8, seed: UInt64(batch))) }
        // The snapshots run in the background: wait for the last one. A job still running when
        // the writes end queues the next one (for the debt logged meanwhile) behind this wait,
        // so wait twice (on a loaded machine the first wait returned before it: CI of 415d524).
        background.sync {}
        background.sync {}
        let listed = try db.listSnapshots()
        #expect(listed.count == 2)
        #expect(listed[0].walSequence > listed[1].walSequence && listed[0].walSequence >= 16)
        try db.close()
        let reopened = try DurableCollection.open(directory, options: options)
        #expect(reopened.recovery.replayedRecords < 5)
        #expect(try reopened.collection.count() == 400)
    }

    @Test("writes go on while a snapshot is written; every one survives a reopen, whatever the snapshot covered")
    func writesDuringSnapshots() async throws {
        let directory = temporaryDirectory()
        let options = DurableCollection.Options(syncPolicy: .never, autoSnapshotWALBytes: 0, retainedSnapshots: 2)
        let db = try DurableCollection.create(in: directory, config: config, options: options)
        try db.upsert(points(0..<2000, dimension: 8, seed: 5))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for batch in 0..<40 {
                    let first = UInt64(10_000 + batch * 25)
                    try db.upsert(points(first..<(first + 25), dimension: 8, seed: UInt64(batch)))
                    if batch % 7 == 0 { try db.delete(ids: [UInt64(batch)]) }
                }
            }
            group.addTask { for _ in 0..<6 { try db.snapshot() } }
            try await group.waitForAll()
        }
        let expected = try db.collection.count()
        try db.close()
        let reopened = try DurableCollection.open(directory, options: options)
        #expect(try reopened.collection.count() == expected && expected == 2000 + 1000 - 6)
        #expect(reopened.collection.get(id: 10_999) != nil && reopened.collection.get(id: 7) == nil)
    }

    @Test("a downloaded snapshot installs as a new collection with identical results, and takes writes")
    func install() throws {
        let source = try DurableCollection.create(in: temporaryDirectory(), config: config, options: .init(syncPolicy: .never))
        try source.upsert(points(0..<300, dimension: 8, seed: 1))
        try source.delete(ids: [3, 4])
        let info = try source.snapshot()
        var file: [UInt8] = []
        let reader = try source.openSnapshot(info.name)
        while true {
            let chunk = try reader.read(offset: file.count, count: 1000)
            if chunk.isEmpty { break }
            file += chunk
        }
        #expect(file.count == info.sizeBytes)

        let directory = temporaryDirectory() + "/copy"
        let copy = try DurableCollection.install(snapshotFile: file, in: directory, name: "copy",
                                                 options: .init(syncPolicy: .never))
        #expect(copy.collection.config.name == "copy" && copy.collection.config.dimension == 8)
        let queries = points(1000..<1010, dimension: 8, seed: 5)
        for query in queries {
            #expect(try copy.collection.search(query.vector, k: 10) == source.collection.search(query.vector, k: 10))
        }
        try copy.upsert(points(300..<310, dimension: 8, seed: 2))
        try copy.close()
        let reopened = try DurableCollection.open(directory)
        #expect(try reopened.collection.count() == 308 && reopened.recovery.replayedRecords == 1)

        // Damaged or foreign files are refused and leave nothing behind.
        var damaged = file
        damaged[damaged.count / 2] ^= 1
        let other = temporaryDirectory() + "/x"
        #expect(throws: StorageError.self) { _ = try DurableCollection.install(snapshotFile: damaged, in: other, name: "x") }
        let store = try SnapshotStore(directory: temporaryDirectory())
        let foreign = try store.write(sections: [("graph", [1, 2])], walSequence: 1, createdUnixMicros: 0)
        let foreignFile = try store.open(foreign.name).read(offset: 0, count: foreign.sizeBytes)
        #expect(throws: StorageError.self) { _ = try DurableCollection.install(snapshotFile: foreignFile, in: other, name: "x") }
        #expect(!AtomicFile.exists(other + "/collection.bin"))
    }
}

@Suite("durable collections: UUID point ids")
struct UUIDPointIdTests {
    let config = CollectionConfig(name: "docs", dimension: 4, metric: .l2Squared,
                                  hnsw: HNSWParameters(m: 8, efConstruction: 32, efSearch: 32))
    static let a = PointUUID("550e8400-e29b-41d4-a716-446655440000")!
    static let b = PointUUID("6BA7B810-9DAD-11D1-80B4-00C04FD430C8")!

    @Test("UUID text is parsed strictly and printed canonically")
    func parsing() {
        #expect(Self.b.description == "6ba7b810-9dad-11d1-80b4-00c04fd430c8")
        #expect(PointUUID(Self.a.description) == Self.a)
        for bad in ["", "550e8400e29b41d4a716446655440000", "550e8400-e29b-41d4-a716-44665544000g",
                    "{550e8400-e29b-41d4-a716-446655440000}", "550e8400-e29b-41d4-a716_446655440000", "550e8400-e29b-41d4-a716-4466554400000"] {
            #expect(PointUUID(bad) == nil, "\(bad)")
        }
    }

    @Test("UUIDs and numbers live side by side; the pairs survive the log, a snapshot and an install")
    func survivesRestarts() throws {
        let directory = temporaryDirectory()
        func point(_ key: PointKey, _ x: Float) -> DurableCollection.KeyedPoint { .init(key: key, vector: [x, 0, 0, 0], payload: ["k": .string(key.description)]) }
        do {
            let c = try DurableCollection.create(in: directory, config: config, options: .init(syncPolicy: .never, autoSnapshotWALBytes: 0))
            try c.upsert(keyed: [point(.uuid(Self.a), 1), point(.number(7), 2), point(.uuid(Self.b), 3), point(.uuid(Self.a), 4)])
            #expect(try c.collection.count() == 3)
            let ida = try #require(try c.internalId(.uuid(Self.a)))
            #expect(ida >= PointKey.numberLimit && c.key(ida) == .uuid(Self.a))
            #expect(c.collection.get(id: ida)?.vector == [4, 0, 0, 0], "the second upsert of a UUID replaces the point")
            #expect(try c.internalId(.number(7)) == 7 && c.key(7) == .number(7))
            #expect(throws: (any Error).self) { try c.internalId(.number(PointKey.numberLimit)) }
            #expect(throws: (any Error).self) { try c.upsert(keyed: [point(.number(1 << 63), 1)]) }
            // A refused batch assigns nothing.
            let unseen = PointUUID(high: 1, low: 2)
            #expect(throws: (any Error).self) { try c.upsert(keyed: [.init(key: .uuid(unseen), vector: [1, 2])]) }
            #expect(try c.internalId(.uuid(unseen)) == nil)
            try c.close()
        }
        var firstB: UInt64 = 0
        do {
            let c = try DurableCollection.open(directory, options: .init(syncPolicy: .never, autoSnapshotWALBytes: 0))
            let hits = try c.collection.search([3, 0, 0, 0], k: 1)
            #expect(hits.map { c.key($0.id) } == [.uuid(Self.b)])
            firstB = try #require(try c.internalId(.uuid(Self.b)))
            try c.snapshot()
            // Deleting drops the pair; upserting the UUID again gives it a new internal id.
            try c.delete(ids: [firstB])
            #expect(try c.internalId(.uuid(Self.b)) == nil)
            try c.upsert(keyed: [point(.uuid(Self.b), 9)])
            #expect(try c.internalId(.uuid(Self.b)).map { $0 > firstB } == true)
            try c.close()
        }
        let c = try DurableCollection.open(directory, options: .init(syncPolicy: .never, autoSnapshotWALBytes: 0))
        #expect(try c.internalId(.uuid(Self.b)).map { $0 > firstB } == true)
        #expect(c.collection.get(id: try #require(try c.internalId(.uuid(Self.b))))?.vector == [9, 0, 0, 0])
        #expect(try c.internalId(.uuid(Self.a)) != nil)
        // A snapshot file installed elsewhere keeps the pairs.
        try c.snapshot()
        let newest = try #require(try c.listSnapshots().first)
        let reader = try c.openSnapshot(newest.name)
        let bytes = try reader.read(offset: 0, count: reader.size)
        let copy = try DurableCollection.install(snapshotFile: bytes, in: temporaryDirectory(), name: "copy")
        #expect(try copy.internalId(.uuid(Self.a)) == c.internalId(.uuid(Self.a)))
        #expect(copy.collection.get(id: try #require(try copy.internalId(.uuid(Self.b))))?.vector == [9, 0, 0, 0])
    }
}
