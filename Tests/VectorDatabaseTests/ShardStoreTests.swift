import Storage
import Testing
import VectorEngine
@testable import VectorDatabase

@Suite("Shard copies: epoch history and the store")
struct ShardStoreTests {
    private let config = CollectionConfig(name: "docs", dimension: 4, metric: .l2Squared)

    @Test("the epoch history names the epoch of every sequence, and tells a prefix from a diverged log")
    func epochHistory() throws {
        var history = EpochHistory()
        #expect(history.epoch(of: 5) == 0)
        var began: [Bool] = []
        began.append(history.begin(1, at: 1))
        began.append(history.begin(1, at: 9))       // not newer: ignored
        began.append(history.begin(2, at: 11))      // epoch 1 wrote 1...10
        began.append(history.begin(3, at: 11))      // epoch 2 wrote nothing: replaced at the same place
        #expect(began == [true, false, true, true])
        #expect(history.starts.map(\.epoch) == [1, 3])
        #expect(history.epoch(of: 10) == 1 && history.epoch(of: 11) == 3 && history.epoch(of: 99) == 3)
        // A copy through 10 written in epoch 1: a prefix. Through 12 in epoch 2 (a former primary's
        // tail this log never had): not. Ahead of this log: not.
        #expect(history.isPrefix(lastSequence: 10, lastEpoch: 1, ownLastSequence: 20))
        #expect(!history.isPrefix(lastSequence: 12, lastEpoch: 2, ownLastSequence: 20))
        #expect(!history.isPrefix(lastSequence: 11, lastEpoch: 1, ownLastSequence: 20))
        #expect(!history.isPrefix(lastSequence: 21, lastEpoch: 3, ownLastSequence: 20))
        #expect(history.isPrefix(lastSequence: 0, lastEpoch: 0, ownLastSequence: 0))
        #expect(history.through(10).starts.map(\.epoch) == [1])
        #expect(try EpochHistory(decoding: history.encoded) == history)
        #expect(throws: (any Error).self) { try EpochHistory(decoding: Array(history.encoded.dropLast())) }
        var backwards = BinaryWriter()
        backwards.u64(2); backwards.u64(3); backwards.u64(1); backwards.u64(1); backwards.u64(5)
        #expect(throws: (any Error).self) { try EpochHistory(decoding: backwards.bytes) }
    }

    @Test("copies are created, found again after a reopen with their history, installed from a primary's snapshot, and deleted")
    func store() throws {
        let root = temporaryDirectory()
        let primaryStore = try ShardStore(dataDirectory: root + "/a")
        let id = ShardStore.ShardID("docs", 2)
        let primary = try primaryStore.create(id, config: config, incarnation: 7)
        #expect(try primaryStore.create(id, config: config, incarnation: 7) === primary)   // idempotent
        try primary.beginEpoch(1, at: 1)
        try primary.durable.upsert((0..<50).map { VectorPoint(id: UInt64($0), vector: [Float($0), 1, 2, 3]) })
        try primary.beginEpoch(2, at: primary.durable.lastSequence + 1)
        try primary.durable.upsert([VectorPoint(id: 99, vector: [9, 9, 9, 9])])
        let snapshot = try primary.durable.snapshot()
        let reader = try primary.durable.openSnapshot(snapshot.name)
        let file = try reader.read(offset: 0, count: reader.size)
        try primary.durable.upsert([VectorPoint(id: 100, vector: [1, 0, 0, 0])])   // the tail after the snapshot

        // A replica installs the snapshot with the history through it, then applies the tail.
        let replicaStore = try ShardStore(dataDirectory: root + "/b")
        _ = try replicaStore.create(id, config: config, incarnation: 7)
        let installed = try replicaStore.install(id, snapshotFile: file, history: primary.epochHistory.through(snapshot.walSequence), incarnation: 7)
        #expect(installed.durable.lastSequence == snapshot.walSequence)
        #expect(installed.lastRecordEpoch == 2)
        try installed.durable.applyReplicated(try primary.durable.logRecords(after: snapshot.walSequence, maxRecords: 10, maxBytes: 1 << 20))
        #expect(try installed.durable.contentChecksum() == primary.durable.contentChecksum())
        #expect(primaryStore.close().isEmpty && replicaStore.close().isEmpty)

        // Reopened: the same copies, histories and points.
        let reopened = try ShardStore(dataDirectory: root + "/b")
        let copy = try #require(reopened.get(id))
        #expect(copy.epochHistory == primary.epochHistory && copy.incarnation == 7)
        #expect(try copy.durable.collection.count() == 52)
        #expect(try reopened.delete(id))
        #expect(reopened.get(id) == nil && reopened.list().isEmpty)
        #expect(!(try reopened.delete(id)))
        #expect(reopened.close().isEmpty)
        #expect(try ShardStore(dataDirectory: root + "/b").list().isEmpty)
    }

    @Test("a damaged snapshot is refused and the copy it was meant to replace stays")
    func damagedInstall() throws {
        let store = try ShardStore(dataDirectory: temporaryDirectory())
        let id = ShardStore.ShardID("docs", 0)
        let copy = try store.create(id, config: config, incarnation: 7)
        try copy.durable.upsert([VectorPoint(id: 1, vector: [1, 2, 3, 4])])
        #expect(throws: (any Error).self) { try store.install(id, snapshotFile: [1, 2, 3], history: EpochHistory(), incarnation: 7) }
        #expect(try store.get(id)?.durable.collection.count() == 1)
        #expect(store.close().isEmpty)
    }
}
