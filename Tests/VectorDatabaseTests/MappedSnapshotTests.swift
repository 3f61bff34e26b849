import Testing
@testable import Storage
@testable import VectorDatabase
@testable import VectorEngine

/// Collections loaded from format-2 snapshots use the file's vectors and links in place
/// (mapped copy-on-write); everything must behave as with copied arrays, and the file must
/// never change.
@Suite("durable collections: memory-mapped snapshots")
struct MappedSnapshotTests {
    let config = CollectionConfig(name: "docs", dimension: 16, metric: .cosine,
                                  hnsw: HNSWParameters(m: 8, efConstruction: 64, efSearch: 32))
    let queries = points(90_000..<90_020, dimension: 16, seed: 99)

    /// A collection folder holding one snapshot of 300 points (some deleted) and nothing after
    /// it; also returns an in-memory twin restored from the same state as plain arrays.
    func snapshotted() throws -> (directory: String, twin: VectorCollection, snapshot: SnapshotInfo) {
        let directory = temporaryDirectory()
        let db = try DurableCollection.create(in: directory, config: config, options: .init(syncPolicy: .never))
        try db.upsert(points(0..<300, dimension: 16, seed: 1))
        try db.delete(ids: Array(40..<50))
        let info = try db.snapshot()
        let twin = try VectorCollection(config, restoring: db.collection.index.exportState())
        try db.close()
        return (directory, twin, info)
    }

    func results(_ collection: VectorCollection) throws -> [[SearchHit]] {
        try queries.map { try collection.search($0.vector, k: 10) }
            + queries.map { try collection.search($0.vector, k: 5, filter: .match("lang", .string("swift"))) }
    }

    @Test("reopening maps vectors and links: same search results, same points")
    func sameResults() throws {
        let (directory, twin, _) = try snapshotted()
        let reopened = try DurableCollection.open(directory)
        #expect(reopened.collection.index.usesBorrowedStorage == (true, true))
        #expect(reopened.recovery.replayedRecords == 0)
        #expect(try results(reopened.collection) == results(twin))
        for id in [UInt64(0), 17, 45, 299] { #expect(reopened.collection.get(id: id) == twin.get(id: id)) }
        #expect(try reopened.collection.count() == 290)
    }

    @Test("updates, deletes and inserts after a mapped load work, and never change the snapshot file")
    func writesLeaveTheFileAlone() throws {
        let (directory, twin, info) = try snapshotted()
        let path = directory + "/snapshots/" + info.name
        let before = try AtomicFile.read(path)
        let reopened = try DurableCollection.open(directory, options: .init(syncPolicy: .never))
        let updates = points(0..<60, dimension: 16, seed: 7)     // existing ids: vectors rewritten in place, re-linked
        let inserts = points(300..<400, dimension: 16, seed: 8)  // within the mapped room
        for collection in [reopened.collection, twin] {
            try collection.upsert(updates)
            try collection.upsert(inserts)
            collection.delete(ids: Array(100..<120))
        }
        try reopened.upsert(updates)      // the same through the log, so a reopen replays them too
        try reopened.upsert(inserts)
        try reopened.delete(ids: Array(100..<120))
        #expect(reopened.collection.index.usesBorrowedStorage == (true, true))
        #expect(try results(reopened.collection) == results(twin))
        #expect(reopened.collection.get(id: 5) == twin.get(id: 5) && reopened.collection.get(id: 110) == nil)
        #expect(try AtomicFile.read(path) == before)
        try reopened.close()
        #expect(try AtomicFile.read(path) == before)
    }

    @Test("growing past the mapped room copies out of the mapping; results stay identical")
    func growsPastTheRoom() throws {
        let (directory, twin, _) = try snapshotted()
        let reopened = try DurableCollection.open(directory, options: .init(syncPolicy: .never))
        // Room is twice the nodes (600); 400 more inserts cross it.
        for first in stride(from: UInt64(1000), to: 1400, by: 100) {
            let batch = points(first..<(first + 100), dimension: 16, seed: first)
            try reopened.upsert(batch)
            try twin.upsert(batch)
        }
        #expect(reopened.collection.index.usesBorrowedStorage == (false, false))
        #expect(try results(reopened.collection) == results(twin))
        #expect(reopened.collection.get(id: 1399) == twin.get(id: 1399) && reopened.collection.get(id: 7) == twin.get(id: 7))
    }

    @Test("vectors of huge-page size are copied out of the mapping at open; results, writes and the file as with small ones")
    func largeSectionsAreCopied() throws {
        // 1,100 x 512 floats with room for twice the nodes: 4.5 MB of vectors (copied onto huge
        // pages), 150 KB of level-0 links (used in place).
        let wide = CollectionConfig(name: "wide", dimension: 512, metric: .l2Squared,
                                    hnsw: HNSWParameters(m: 8, efConstruction: 32, efSearch: 32))
        let directory = temporaryDirectory()
        let db = try DurableCollection.create(in: directory, config: wide, options: .init(syncPolicy: .never))
        try db.upsert(points(0..<1100, dimension: 512, seed: 5))
        let info = try db.snapshot()
        let twin = try VectorCollection(wide, restoring: db.collection.index.exportState())
        try db.close()
        let path = directory + "/snapshots/" + info.name
        let before = try AtomicFile.read(path)
        let reopened = try DurableCollection.open(directory, options: .init(syncPolicy: .never))
        #expect(reopened.collection.index.usesBorrowedStorage == (false, true))
        let queries = points(50_000..<50_010, dimension: 512, seed: 6)
        #expect(try queries.map { try reopened.collection.search($0.vector, k: 10) } == queries.map { try twin.search($0.vector, k: 10) })
        let updates = points(0..<20, dimension: 512, seed: 9)
        try reopened.upsert(updates)
        try twin.upsert(updates)
        #expect(reopened.collection.get(id: 3) == twin.get(id: 3))
        #expect(try queries.map { try reopened.collection.search($0.vector, k: 10) } == queries.map { try twin.search($0.vector, k: 10) })
        try reopened.close()
        #expect(try AtomicFile.read(path) == before)
    }

    @Test("a damaged byte in the mapped vectors is detected: recovery falls back to the previous snapshot")
    func damagedSectionFallsBack() throws {
        let (directory, twin, first) = try snapshotted()
        let db = try DurableCollection.open(directory, options: .init(syncPolicy: .never))
        try db.upsert(points(300..<320, dimension: 16, seed: 3))
        let newest = try db.snapshot()
        try twin.upsert(points(300..<320, dimension: 16, seed: 3))
        try db.close()
        let store = try SnapshotStore(directory: directory + "/snapshots")
        let vectors = try #require(try store.load(newest.name).sections.ranges["vectors"])
        var bytes = try AtomicFile.read(directory + "/snapshots/" + newest.name)
        bytes[vectors.lowerBound + vectors.count / 2] ^= 0x10
        try DurableFile(path: directory + "/snapshots/" + newest.name, create: false).write(bytes, at: 0)
        let reopened = try DurableCollection.open(directory)
        #expect(reopened.recovery.skippedSnapshots == [newest.name])
        #expect(reopened.recovery.snapshotSequence == first.walSequence && reopened.recovery.replayedRecords == 1)
        #expect(try results(reopened.collection) == results(twin))
    }

    @Test("a collection whose snapshot is in format 1 (one encoded index section) still opens")
    func formatOneOpens() throws {
        let (directory, twin, info) = try snapshotted()
        let state = twin.index.exportState()
        let file = SnapshotFormat.encodeVersion1(sections: [("config", CollectionCodec.encode(config)), ("index", CollectionCodec.encode(state)),
                                                            ("uuids", UUIDAssignments().encoded)], walSequence: info.walSequence)
        try AtomicFile.write(file, to: directory + "/snapshots/" + info.name)
        let reopened = try DurableCollection.open(directory, options: .init(syncPolicy: .never))
        #expect(reopened.recovery.skippedSnapshots.isEmpty && reopened.recovery.snapshotSequence == info.walSequence)
        #expect(reopened.collection.index.usesBorrowedStorage == (false, false))
        #expect(try results(reopened.collection) == results(twin))
        // Its next snapshot is written in format 2 and maps.
        try reopened.upsert(points(500..<510, dimension: 16, seed: 4))
        let next = try reopened.snapshot()
        try reopened.close()
        #expect(try AtomicFile.read(directory + "/snapshots/" + next.name)[8] == 2)
        #expect(try DurableCollection.open(directory).collection.index.usesBorrowedStorage == (true, true))
    }

    @Test("a snapshot of a newer format is refused with a clear error, not skipped as damaged")
    func newerFormatRefused() throws {
        let (directory, _, info) = try snapshotted()
        var bytes = try AtomicFile.read(directory + "/snapshots/" + info.name)
        bytes[8] = 3
        try AtomicFile.write(bytes, to: directory + "/snapshots/" + info.name)
        let error = #expect(throws: StorageError.self) { _ = try DurableCollection.open(directory) }
        #expect(error?.code == .newerFormat && error?.message.contains("upgrade ruvector-server") == true)
    }

    /// Four dimensions, for the edge cases.
    let small = CollectionConfig(name: "docs", dimension: 4, metric: .l2Squared,
                                 hnsw: HNSWParameters(m: 4, efConstruction: 16, efSearch: 16))

    @Test("an empty collection snapshots, reopens, installs from its file, and takes writes")
    func empty() throws {
        let directory = temporaryDirectory()
        let db = try DurableCollection.create(in: directory, config: small, options: .init(syncPolicy: .never))
        let info = try db.snapshot()
        let file = try db.openSnapshot(info.name).read(offset: 0, count: info.sizeBytes)
        try db.close()
        let reopened = try DurableCollection.open(directory, options: .init(syncPolicy: .never))
        try reopened.upsert([VectorPoint(id: 1, vector: [1, 2, 3, 4])])
        #expect(try reopened.collection.search([1, 2, 3, 4], k: 1).map(\.id) == [1])
        let copy = try DurableCollection.install(snapshotFile: file, in: temporaryDirectory() + "/copy", name: "copy",
                                                 options: .init(syncPolicy: .never))
        #expect(try copy.collection.count() == 0)
        try copy.upsert([VectorPoint(id: 2, vector: [0, 0, 0, 1])])
        #expect(copy.collection.get(id: 2)?.vector == [0, 0, 0, 1])
    }

    /// A collection installed from a snapshot file holding `sections` (as an upload is).
    private func installed(_ sections: [SnapshotSection]) throws -> DurableCollection {
        let store = try SnapshotStore(directory: temporaryDirectory())
        let info = try store.write(sections: sections, walSequence: 1, createdUnixMicros: 0)
        let file = try store.open(info.name).read(offset: 0, count: info.sizeBytes)
        return try DurableCollection.install(snapshotFile: file, in: temporaryDirectory() + "/x", name: "x")
    }

    @Test("a crafted upload whose header claims more nodes than its sections hold is refused, not trusted")
    func craftedUpload() throws {
        let source = try DurableCollection.create(in: temporaryDirectory(), config: small, options: .init(syncPolicy: .never))
        try source.upsert((0..<50).map { VectorPoint(id: UInt64($0), vector: [Float($0), 1, 2, 3]) })
        let state = source.collection.index.exportState()
        for count in [50, 51, 1 << 30] {   // 50 is the truth: that file installs
            var sections = [SnapshotSection("config", bytes: CollectionCodec.encode(small))]
            for section in CollectionCodec.stateSections(state) {
                guard section.name == CollectionCodec.stateHeaderSection else { sections.append(section); continue }
                var header = BinaryWriter()
                header.u32(CollectionCodec.stateLayout); header.int(4); header.string("l2Squared")
                header.int(4); header.int(16); header.int(16); header.u64(small.hnsw.seed)
                header.u64(UInt64(count)); header.u64(state.entryPoint.map { UInt64($0) + 1 } ?? 0); header.u64(state.generatorState)
                sections.append(SnapshotSection(section.name, bytes: header.bytes))
            }
            if count == 50 {
                #expect(try installed(sections).collection.count() == 50)
            } else {
                #expect(throws: (any Error).self) { _ = try installed(sections) }
            }
        }
    }

    @Test("the count at the last reorder travels in its own section; one above the node count is refused")
    func orderSection() throws {
        let source = try DurableCollection.create(in: temporaryDirectory(), config: small, options: .init(syncPolicy: .never))
        try source.upsert((0..<50).map { VectorPoint(id: UInt64($0), vector: [Float($0), 1, 2, 3]) })
        let state = source.collection.index.exportState()
        for (ordered, installs) in [(UInt64(30), true), (50, true), (51, false), (.max, false)] {
            var sections = [SnapshotSection("config", bytes: CollectionCodec.encode(small))]
            for section in CollectionCodec.stateSections(state) where section.name != CollectionCodec.orderSection {
                sections.append(section)
            }
            var order = BinaryWriter()
            order.u64(ordered)
            sections.append(SnapshotSection(CollectionCodec.orderSection, bytes: order.bytes))
            if installs {
                #expect(try installed(sections).collection.index.exportState().orderedCount == Int(ordered))
            } else {
                #expect(throws: (any Error).self) { _ = try installed(sections) }
            }
        }
    }
}
