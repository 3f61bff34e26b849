#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Storage
import Synchronization
import Testing
import VectorEngine
@testable import VectorDatabase

/// A background runner that keeps jobs until the test runs them.
final class HeldJobs: Sendable {
    private let jobs = Mutex<[@Sendable () -> Void]>([])
    var count: Int { jobs.withLock { $0.count } }
    func add(_ job: @escaping @Sendable () -> Void) { jobs.withLock { $0.append(job) } }
    func runAll() {
        while let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { job() }
    }
}

@Suite("durable collections: automatic snapshots run in the background and bound replay")
struct AutomaticSnapshotTests {
    let config = CollectionConfig(name: "docs", dimension: 8, metric: .l2Squared,
                                  hnsw: HNSWParameters(m: 8, efConstruction: 32, efSearch: 32))

    @Test("the write that makes a snapshot due returns before it is taken; the background job takes it")
    func notInsideTheWrite() throws {
        let held = HeldJobs()
        let reports = Mutex<[AutomaticSnapshotReport]>([])
        let options = DurableCollection.Options(syncPolicy: .never, autoSnapshotWALBytes: 0, autoSnapshotChanges: 100,
                                                autoSnapshotReplayMillis: 0, autoSnapshotInterval: .zero,
                                                runInBackground: { held.add($0) },
                                                onAutomaticSnapshot: { report in reports.withLock { $0.append(report) } })
        let directory = temporaryDirectory()
        let db = try DurableCollection.create(in: directory, config: config, options: options)
        try db.upsert(points(0..<60, dimension: 8, seed: 1))
        #expect(held.count == 0)
        try db.upsert(points(60..<120, dimension: 8, seed: 2))
        #expect(held.count == 1, "the write returned; its snapshot is queued")
        #expect(try db.listSnapshots().isEmpty)
        // Writes go on while the job waits, and the job covers them too.
        try db.upsert(points(120..<130, dimension: 8, seed: 3))
        #expect(db.unsnapshotted.changes == 130)
        held.runAll()
        let listed = try db.listSnapshots()
        #expect(listed.count == 1 && db.unsnapshotted.changes == 0 && db.unsnapshotted.oldest == nil)
        #expect(reports.withLock { $0.map(\.reason) } == [.changes])
        #expect(reports.withLock { $0.first?.snapshot?.name } == listed.first?.name)
        try db.close()
        let reopened = try DurableCollection.open(directory, options: options)
        #expect(reopened.recovery.replayedRecords == 0)
        #expect(try reopened.collection.count() == 130)
        try reopened.close()
    }

    @Test("the replay-time bound: writes whose apply time adds up to the bound trigger a snapshot")
    func replayTime() throws {
        let background = DispatchQueue(label: "test.background")
        let options = DurableCollection.Options(syncPolicy: .never, autoSnapshotWALBytes: 0, autoSnapshotChanges: 0,
                                                autoSnapshotReplayMillis: 20, autoSnapshotInterval: .zero,
                                                runInBackground: { background.async(execute: $0) })
        let db = try DurableCollection.create(in: temporaryDirectory(), config: config, options: options)
        var written = 0
        while try db.listSnapshots().isEmpty && written < 200_000 {
            try db.upsert(points(UInt64(written)..<UInt64(written + 500), dimension: 8, seed: UInt64(written)))
            written += 500
            background.sync {}
        }
        #expect(try !db.listSnapshots().isEmpty, "no snapshot after \(written) points")
        #expect(db.unsnapshotted.applyNanos < 20_000_000)
        try db.close()
    }

    @Test("the interval bound snapshots a collection written once, after the interval, and an idle one never")
    func interval() async throws {
        let options = DurableCollection.Options(syncPolicy: .never, autoSnapshotWALBytes: 0, autoSnapshotChanges: 0,
                                                autoSnapshotReplayMillis: 0, autoSnapshotInterval: .milliseconds(300))
        let idle = try DurableCollection.create(in: temporaryDirectory(), config: config, options: options)
        let written = try DurableCollection.create(in: temporaryDirectory(), config: config, options: options)
        try written.upsert(points(0..<10, dimension: 8, seed: 1))
        let deadline = ContinuousClock.now + .seconds(10)
        while try written.listSnapshots().isEmpty && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(try written.listSnapshots().count == 1)
        #expect(try idle.listSnapshots().isEmpty)
        try idle.close()
        try written.close()
    }

    @Test("what recovery replayed counts as owed: a restart over a long log snapshots in the background")
    func replayedLogIsOwed() throws {
        let directory = temporaryDirectory()
        let db = try DurableCollection.create(in: directory, config: config, options: .manualSnapshots(syncPolicy: .never))
        for batch in 0..<5 { try db.upsert(points(UInt64(batch * 100)..<UInt64(batch * 100 + 100), dimension: 8, seed: UInt64(batch))) }
        try db.close()
        let background = DispatchQueue(label: "test.background")
        let options = DurableCollection.Options(syncPolicy: .never, autoSnapshotWALBytes: 0, autoSnapshotChanges: 300,
                                                autoSnapshotReplayMillis: 0, autoSnapshotInterval: .zero,
                                                runInBackground: { background.async(execute: $0) })
        let reopened = try DurableCollection.open(directory, options: options)
        #expect(reopened.recovery.replayedRecords == 5 && reopened.recovery.replayedChanges == 500)
        background.sync {}
        #expect(try reopened.listSnapshots().count == 1)
        try reopened.close()
        #expect(try DurableCollection.open(directory, options: options).recovery.replayedRecords == 0)
    }

    @Test("replay linking batches on several threads recovers every point and the same exact-search answers")
    func parallelReplay() throws {
        let directory = temporaryDirectory()
        let db = try DurableCollection.create(in: directory, config: config, options: .manualSnapshots(syncPolicy: .never))
        try db.upsert(points(0..<500, dimension: 8, seed: 1))
        try db.snapshot()
        // Runs between deletes of 300, 2,700 (twice: linked in parallel) and 320 points.
        for batch in 0..<20 {
            let first = UInt64(500 + batch * 300)
            try db.upsert(points(first..<first + 300, dimension: 8, seed: UInt64(batch)))
            if batch % 9 == 0 { try db.delete(ids: [first, first + 1, 3]) }
        }
        try db.upsert(points(600..<620, dimension: 8, seed: 99))      // updates of replayed points
        let queries = points(9_000..<9_020, dimension: 8, seed: 7).map(\.vector)
        let expected = try queries.map { try db.collection.search($0, k: 10, exact: true) }
        let count = try db.collection.count()
        try db.close()
        let options = DurableCollection.Options(syncPolicy: .never, replayThreads: 2)
        let reopened = try DurableCollection.open(directory, options: options)
        #expect(reopened.recovery.replayedRecords == 24)
        #expect(try reopened.collection.count() == count)
        #expect(try queries.map { try reopened.collection.search($0, k: 10, exact: true) } == expected)
        #expect(reopened.collection.get(id: 610) == points(600..<620, dimension: 8, seed: 99)[10])
        try reopened.close()
    }

    @Test("a short log replays a point at a time even with replay threads: the same graph, the same approximate answers")
    func shortLogReplaysExactly() throws {
        let directory = temporaryDirectory()
        let db = try DurableCollection.create(in: directory, config: config, options: .manualSnapshots(syncPolicy: .never))
        try db.upsert(points(0..<300, dimension: 8, seed: 1))
        try db.snapshot()
        for batch in 0..<6 {
            let first = UInt64(300 + batch * 300)
            try db.upsert(points(first..<first + 300, dimension: 8, seed: UInt64(batch + 10)))
        }
        let queries = points(9_000..<9_040, dimension: 8, seed: 7).map(\.vector)
        let expected = try queries.map { try db.collection.search($0, k: 10, ef: 16) }
        let links = db.collection.index.exportState()
        try db.close()
        let reopened = try DurableCollection.open(directory, options: DurableCollection.Options(syncPolicy: .never, replayThreads: 2))
        defer { try? reopened.close() }
        #expect(reopened.recovery.replayedChanges == 1_800)
        let replayed = reopened.collection.index.exportState()
        #expect(replayed.level0Links == links.level0Links && replayed.upperLinks == links.upperLinks)
        #expect(replayed.entryPoint == links.entryPoint)
        #expect(try queries.map { try reopened.collection.search($0, k: 10, ef: 16) } == expected)
    }
}
