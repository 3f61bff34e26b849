import Storage
import Testing
@_spi(Benchmarks) import VectorEngine
@testable import VectorDatabase

/// Collections whose full vectors live in a memory-mapped scratch file (`vectors: .disk`):
/// the same answers as in memory, through snapshots, log replay, reopening and uploads, with
/// the vectors not counted as memory.
@Suite("durable collections: on-disk vectors")
struct OnDiskVectorsTests {
    let memoryConfig = CollectionConfig(name: "docs", dimension: 24, metric: .l2Squared,
                                        hnsw: HNSWParameters(m: 8, efConstruction: 64, efSearch: 48),
                                        quantization: .scalarInt8, quantizationTrainingCount: 200)
    var diskConfig: CollectionConfig { var c = memoryConfig; c.vectors = .disk; return c }
    let queries = points(90_000..<90_030, dimension: 24, seed: 99)

    func results(_ collection: VectorCollection) throws -> [[SearchHit]] {
        try queries.map { try collection.search($0.vector, k: 10) }
            + queries.map { try collection.search($0.vector, k: 5, filter: .match("lang", .string("swift"))) }
            + queries.map { try collection.search($0.vector, k: 5, exact: true) }
    }

    /// Writes through the log, a snapshot in the middle, more writes after it; the on-disk
    /// collection answers as the in-memory one before and after a reopen (snapshot + replay).
    @Test func sameAnswersAcrossSnapshotAndReopen() throws {
        let dirs = (temporaryDirectory(), temporaryDirectory())
        // No automatic snapshot (a loaded machine could reach the replay-time bound): the reopen
        // below must replay the writes after the explicit snapshot.
        let manual = DurabilityOptions(syncPolicy: .never, autoSnapshotWALBytes: 0, autoSnapshotChanges: 0,
                                       autoSnapshotReplayMillis: 0, autoSnapshotInterval: .zero)
        let disk = try DurableCollection.create(in: dirs.0, config: diskConfig, options: manual)
        let memory = try DurableCollection.create(in: dirs.1, config: memoryConfig, options: manual)
        for db in [disk, memory] {
            try db.upsert(points(0..<400, dimension: 24, seed: 1))
            try db.delete(ids: Array(40..<60))
            try db.snapshot()
            try db.upsert(points(300..<700, dimension: 24, seed: 2))     // updates and inserts after the snapshot
        }
        #expect(disk.collection.index.vectorPlacement == .disk)
        #expect(disk.collection.index.offHeapVectorBytes == 700 * 24 * 4)     // tombstones keep their slots
        #expect(memory.collection.index.memoryBytes - disk.collection.index.memoryBytes == 700 * 24 * 4)
        #expect(try results(disk.collection) == results(memory.collection))
        try disk.close(); try memory.close()
        // Nothing but the usual files in the folder: the scratch file is unnamed.
        #expect(try AtomicFile.entries(dirs.0).sorted() == AtomicFile.entries(dirs.1).sorted())
        let reopened = (try DurableCollection.open(dirs.0), try DurableCollection.open(dirs.1))
        #expect(reopened.0.collection.config.vectors == .disk, "the placement is part of the stored configuration")
        #expect(reopened.0.recovery.replayedRecords > 0)
        #expect(try results(reopened.0.collection) == results(reopened.1.collection))
        for id in [UInt64(0), 45, 399, 650] { #expect(reopened.0.collection.get(id: id) == reopened.1.collection.get(id: id)) }
        // A second snapshot written from the mapping (not copied first) reopens the same again.
        try reopened.0.snapshot()
        try reopened.0.close()
        let again = try DurableCollection.open(dirs.0)
        #expect(again.recovery.replayedRecords == 0)
        #expect(try results(again.collection) == results(reopened.1.collection))
    }

    /// Writes go on while a snapshot runs (they wait for it) and searches never stop; the
    /// snapshot holds exactly the writes before it.
    @Test func snapshotWhileWriting() async throws {
        let directory = temporaryDirectory()
        let db = try DurableCollection.create(in: directory, config: diskConfig, options: .init(syncPolicy: .never))
        try db.upsert(points(0..<500, dimension: 24, seed: 3))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { for i in 0..<20 { try db.upsert(points(UInt64(1000 + i * 10)..<UInt64(1010 + i * 10), dimension: 24, seed: 4)) } }
            group.addTask { for _ in 0..<3 { try db.snapshot() } }
            group.addTask { for q in queries { _ = try db.collection.search(q.vector, k: 5) } }
            try await group.waitForAll()
        }
        let count = try db.collection.count()
        try db.close()
        let reopened = try DurableCollection.open(directory)
        #expect(try reopened.collection.count() == count)
        #expect(count == 700)
    }

    /// The graph's level-0 links in a mapped file too (`graph: .disk`): answers as the in-memory
    /// twin through a snapshot, log replay, reopen and a second snapshot; neither vectors nor
    /// links counted as memory; the placement is stored; a graph on disk needs vectors on disk.
    @Test func graphOnDisk() throws {
        var config = diskConfig
        config.graph = .disk
        let dirs = (temporaryDirectory(), temporaryDirectory())
        let manual = DurabilityOptions(syncPolicy: .never, autoSnapshotWALBytes: 0, autoSnapshotChanges: 0,
                                       autoSnapshotReplayMillis: 0, autoSnapshotInterval: .zero)
        let disk = try DurableCollection.create(in: dirs.0, config: config, options: manual)
        let memory = try DurableCollection.create(in: dirs.1, config: memoryConfig, options: manual)
        memory.collection.index.linksOnCodes = true      // built as an on-disk collection is
        for db in [disk, memory] {
            try db.upsert(points(0..<400, dimension: 24, seed: 1))
            try db.delete(ids: Array(40..<60))
            try db.snapshot()
            try db.upsert(points(300..<700, dimension: 24, seed: 2))
        }
        #expect(disk.collection.index.graphPlacement == .disk && disk.collection.index.offHeapGraphBytes == 700 * 17 * 4)
        #expect(memory.collection.index.memoryBytes - disk.collection.index.memoryBytes == 700 * (24 + 17) * 4)
        #expect(try results(disk.collection) == results(memory.collection))
        try disk.close()
        let reopened = try DurableCollection.open(dirs.0)
        #expect(reopened.collection.config.graph == .disk && reopened.collection.index.graphPlacement == .disk)
        #expect(reopened.recovery.replayedRecords > 0)
        #expect(try results(reopened.collection) == results(memory.collection))
        try reopened.snapshot()
        try reopened.close()
        let again = try DurableCollection.open(dirs.0)
        #expect(try results(again.collection) == results(memory.collection))

        var bad = config
        bad.vectors = .memory
        #expect(throws: VectorEngineError.self) { try bad.validate() }
        var bytes = CollectionCodec.encode(config)
        #expect(bytes.suffix(2) == [1, 1], "vector then graph placement, last")
        bytes[bytes.count - 2] = 0
        #expect(throws: (any Error).self) { try CollectionCodec.decodeConfig(bytes) }
    }

    /// The quantizer's codes are the bulk a snapshot holds besides the vectors: an on-disk
    /// collection's snapshot writes them from the index's own buffer (no copy) and loading reads
    /// them in place from the mapped file, so neither doubles them on the heap. Tier codes, which
    /// background passes move outside the write lock, are copied.
    @Test func codesAreBorrowedNotCopied() throws {
        let directory = temporaryDirectory()
        let db = try DurableCollection.create(in: directory, config: diskConfig, options: .init(syncPolicy: .never))
        try db.upsert(points(0..<400, dimension: 24, seed: 6))
        let exported = db.collection.index.exportState(borrowingVectors: true)
        let codes = try #require(exported.quantizer?.borrowedCodes)
        #expect(exported.quantizer?.codes == [] && codes.count == 400 * 24)
        #expect(db.collection.index.exportState().quantizer?.borrowedCodes == nil, "a plain export copies")
        #expect(db.collection.index.exportState().quantizer == exported.quantizer, "equal wherever the codes lie")
        let info = try db.snapshot()
        try db.close()

        let snapshot = try SnapshotStore(directory: directory + "/snapshots").load(info.name)
        let state = try CollectionCodec.decodeState(snapshot.sections)
        let loaded = try #require(state.quantizer?.borrowedCodes)
        let (section, _) = try #require(snapshot.sections.borrow(CollectionCodec.quantizerSection))
        #expect(UnsafeRawPointer(loaded.base) >= section.baseAddress! && UnsafeRawPointer(loaded.base + loaded.count) <= section.baseAddress! + section.count)
        #expect(state.quantizer == exported.quantizer)

        var tieredConfig = diskConfig
        tieredConfig.quantization = .tiered(TierPolicy())
        let tiered = try VectorCollection(tieredConfig, vectorArenas: FileVectorArenas(directory: temporaryDirectory()))
        try tiered.upsert(points(0..<400, dimension: 24, seed: 7))
        let tieredState = tiered.index.exportState(borrowingVectors: true)
        #expect(tieredState.borrowedVectors != nil && tieredState.quantizer?.tiers != nil)
        #expect(tieredState.quantizer?.tiers?.encoders.allSatisfy { $0.borrowedCodes == nil } == true)
    }

    /// An uploaded snapshot of an on-disk collection installs as one (its vectors copied into a
    /// new scratch file), and the configuration file of an older release (no placement byte)
    /// still reads as vectors in memory.
    @Test func installAndOlderConfiguration() throws {
        let directory = temporaryDirectory()
        let db = try DurableCollection.create(in: directory, config: diskConfig, options: .init(syncPolicy: .never))
        try db.upsert(points(0..<300, dimension: 24, seed: 5))
        let info = try db.snapshot()
        let bytes = try AtomicFile.read(directory + "/snapshots/" + info.name)
        let installed = try DurableCollection.install(snapshotFile: bytes, in: temporaryDirectory() + "/staging/0", name: "copy")
        #expect(installed.collection.config.vectors == .disk && installed.collection.index.vectorPlacement == .disk)
        #expect(try results(installed.collection) == results(db.collection))

        var old = CollectionCodec.encode(diskConfig)
        #expect(old.removeLast() == 0, "the graph's placement is the last byte")
        #expect(try CollectionCodec.decodeConfig(old) == diskConfig, "files before it: the graph in memory")
        #expect(old.removeLast() == 1, "the vectors' placement before it")
        #expect(try CollectionCodec.decodeConfig(old).vectors == .memory, "files before that: vectors in memory")
        var bad = CollectionCodec.encode(diskConfig)
        bad[bad.count - 1] = 7
        #expect(throws: (any Error).self) { try CollectionCodec.decodeConfig(bad) }
    }
}
