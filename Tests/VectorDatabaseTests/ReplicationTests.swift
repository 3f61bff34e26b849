import Dispatch
import Storage
import Testing
import VectorEngine
import WorkControl
@testable import VectorDatabase

/// Ships a primary's log into a replica in small batches, as a replication stream does;
/// returns how many batches it took.
@discardableResult
private func ship(_ primary: DurableCollection, to replica: DurableCollection, maxRecords: Int = 3, maxBytes: Int = 4000,
                  acknowledge: DurableCollection.Acknowledgement = .applied) throws -> Int {
    var batches = 0
    while true {
        let batch = try primary.logRecords(after: replica.lastSequence, maxRecords: maxRecords, maxBytes: maxBytes)
        if batch.isEmpty { return batches }
        #expect(try replica.applyReplicated(batch, acknowledge: acknowledge) == batch.last?.sequence)
        batches += 1
    }
}

/// Every point of `a` is in `b` under the same key, with the same vector and payload, and
/// the two hold as many points, the same log position and the same checksum.
private func expectSameContent(_ a: DurableCollection, _ b: DurableCollection, sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(a.count == b.count, sourceLocation: sourceLocation)
    #expect(try a.collection.count() == a.count, sourceLocation: sourceLocation)
    #expect(a.lastSequence == b.lastSequence, sourceLocation: sourceLocation)
    #expect(try a.contentChecksum() == b.contentChecksum(), sourceLocation: sourceLocation)
    var cursor: Int? = nil
    repeat {
        let page = try a.collection.scroll(after: cursor, limit: 500)
        for point in page.points {
            let key = a.key(point.id)
            let id = try #require(try b.internalId(key), "\(key) missing", sourceLocation: sourceLocation)
            #expect(b.collection.get(id: id) == point, "\(key)", sourceLocation: sourceLocation)
        }
        cursor = page.next
    } while cursor != nil
}

/// The bytes of a collection's newest snapshot file, read as a download reads them.
private func newestSnapshotFile(_ collection: DurableCollection) throws -> (info: SnapshotInfo, bytes: [UInt8]) {
    let info = try #require(try collection.listSnapshots().first)
    let reader = try collection.openSnapshot(info.name)
    return (info, try reader.read(offset: 0, count: reader.size))
}

@Suite("durable collections: replication primitives (log shipping, replicated apply, snapshot install, checksum)")
struct ReplicationTests {
    let config = CollectionConfig(name: "shard", dimension: 8, metric: .cosine,
                                  hnsw: HNSWParameters(m: 8, efConstruction: 32, efSearch: 32))
    /// No automatic snapshots; 4 KiB log segments so a snapshot releases some.
    let options = DurabilityOptions(syncPolicy: .never, autoSnapshotWALBytes: 0, autoSnapshotChanges: 0, autoSnapshotReplayMillis: 0,
                                    autoSnapshotInterval: .zero, walSegmentSizeBytes: 4096)
    static let uuids = (1...12).map { PointUUID(high: 0x1234_5678_0000_0000 | UInt64($0), low: UInt64($0) &* 0x9E37_79B9) }

    /// Upserts (numbers and UUIDs), deletes by id and by filter, payload changes.
    private func writeHistory(_ primary: DurableCollection) throws {
        try primary.upsert(points(0..<120, dimension: 8, seed: 1))
        try primary.upsert(keyed: Self.uuids.enumerated().map { index, uuid in
            DurableCollection.KeyedPoint(key: .uuid(uuid), vector: (0..<8).map { Float(($0 + index) % 5) - 1.5 },
                                         payload: ["uuid": .string(uuid.description), "n": .int(Int64(index))])
        } + [DurableCollection.KeyedPoint(key: .number(500), vector: [1, 2, 3, 4, 5, 6, 7, 8])])
        try primary.delete(ids: [5, 6, 7, 1000])
        let deleted = try [3, 4].map { try #require(try primary.internalId(.uuid(Self.uuids[$0]))) }
        try primary.delete(ids: deleted)
        #expect(try primary.delete(matching: .match("lang", .string("swift"))) > 0)
        // The same ids again with other payloads (and vectors), and one payload alone.
        try primary.upsert(points(100..<110, dimension: 8, seed: 2).map {
            VectorPoint(id: $0.id, vector: $0.vector, payload: ["changed": .bool(true), "n": .int(Int64($0.id))])
        })
        let eleven = try #require(primary.collection.get(id: 11))
        try primary.upsert([VectorPoint(id: 11, vector: eleven.vector, payload: ["only": .string("payload changed")])])
        // A UUID upserted again after its point was deleted gets a new internal id.
        try primary.upsert(keyed: [.init(key: .uuid(Self.uuids[3]), vector: [1, 1, 1, 1, 0, 0, 0, 0])])
    }

    @Test("a replica that acknowledges once logged (index applied behind) ends with the same points, names and checksum, and keeps them across a reopen")
    func loggedAcknowledgement() async throws {
        let primary = try DurableCollection.create(in: temporaryDirectory(), config: config, options: options)
        try writeHistory(primary)
        let replicaDirectory = temporaryDirectory()
        let replica = try DurableCollection.create(in: replicaDirectory, config: config, options: options)
        #expect(try ship(primary, to: replica, acknowledge: .logged) > 2)
        #expect(replica.lastSequence == primary.lastSequence)
        try await replica.waitUntilQueuedWritesApplied()
        #expect(replica.queuedWrites == 0)
        try expectSameContent(primary, replica)
        #expect(try replica.internalId(.uuid(Self.uuids[3])) == primary.internalId(.uuid(Self.uuids[3])))
        #expect(try replica.internalId(.uuid(Self.uuids[4])) == nil)
        // A write after the queue drained (as a promoted copy's first write) assigns the next
        // internal id, as the primary would.
        let fresh = PointUUID(high: 0xFEED, low: 1)
        try primary.upsert(keyed: [.init(key: .uuid(fresh), vector: [1, 0, 0, 0, 0, 0, 0, 1])])
        try replica.upsert(keyed: [.init(key: .uuid(fresh), vector: [1, 0, 0, 0, 0, 0, 0, 1])])
        #expect(try replica.internalId(.uuid(fresh)) == primary.internalId(.uuid(fresh)))
        try replica.close()
        let reopened = try DurableCollection.open(replicaDirectory, options: options)
        try expectSameContent(primary, reopened)
        try reopened.close()
        try primary.close()
    }

    @Test("appliedSequence: the log position searches see; it trails a replica's log while batches wait for the applier, never covers a waiting one, then catches up")
    func appliedSequence() async throws {
        let primary = try DurableCollection.create(in: temporaryDirectory(), config: config, options: options)
        try writeHistory(primary)
        let replica = try DurableCollection.create(in: temporaryDirectory(), config: config, options: options)
        let first = try primary.logRecords(after: 0, maxRecords: 2, maxBytes: 1 << 20)
        try replica.applyReplicated(first, acknowledge: .applied)
        #expect(replica.appliedSequence == replica.lastSequence && replica.appliedSequence == first.last?.sequence)
        // Hold the applier: batches acknowledged once logged wait behind it.
        let hold = DispatchSemaphore(value: 0), held = DispatchSemaphore(value: 0)
        replica.applier.async { held.signal(); hold.wait() }
        held.wait()
        let applied = replica.appliedSequence
        let indexed = try replica.collection.count()
        var batches = 0
        while true {
            let batch = try primary.logRecords(after: replica.lastSequence, maxRecords: 2, maxBytes: 1 << 20)
            if batch.isEmpty { break }
            try replica.applyReplicated(batch, acknowledge: .logged)
            batches += 1
            #expect(replica.appliedSequence == applied, "nothing queued is applied while the applier is held")
        }
        #expect(batches >= 2 && replica.lastSequence == primary.lastSequence && applied < replica.lastSequence)
        #expect(try replica.collection.count() == indexed, "the index has not seen the queued batches")
        hold.signal()
        try await replica.waitUntilQueuedWritesApplied()
        #expect(replica.appliedSequence == replica.lastSequence)
        try expectSameContent(primary, replica)
        // The primary's own writes acknowledged once logged count the same way.
        primary.applier.async { held.signal(); hold.wait() }
        held.wait()
        let before = primary.lastSequence
        let sequence = try primary.upsert(points(200..<210, dimension: 8, seed: 3), acknowledge: .logged)
        #expect(sequence == before + 1 && primary.appliedSequence == before && primary.queuedWrites == 1)
        hold.signal()
        try await primary.waitUntilQueuedWritesApplied()
        #expect(primary.appliedSequence == sequence && primary.queuedWrites == 0)
        try replica.close()
        try primary.close()
    }

    @Test("a replica fed the primary's log in small batches holds the same points, log position and checksum, and keeps them across a reopen")
    func roundTrip() throws {
        let primary = try DurableCollection.create(in: temporaryDirectory(), config: config, options: options)
        try writeHistory(primary)
        let replicaDirectory = temporaryDirectory()
        let replica = try DurableCollection.create(in: replicaDirectory, config: config, options: options)
        #expect(replica.lastSequence == 0)
        #expect(try ship(primary, to: replica) > 2)
        try expectSameContent(primary, replica)
        #expect(try replica.internalId(.uuid(Self.uuids[3])) == primary.internalId(.uuid(Self.uuids[3])))
        #expect(try replica.internalId(.uuid(Self.uuids[0])) == primary.internalId(.uuid(Self.uuids[0])))
        // A deleted UUID's pair is dropped on the replica too.
        #expect(try replica.internalId(.uuid(Self.uuids[4])) == nil && primary.internalId(.uuid(Self.uuids[4])) == nil)

        // Searches agree too (the same points, linked one at a time in the same order).
        for query in points(9000..<9010, dimension: 8, seed: 3) {
            #expect(try replica.collection.search(query.vector, k: 5, exact: true) == primary.collection.search(query.vector, k: 5, exact: true))
        }

        try replica.close()
        let reopened = try DurableCollection.open(replicaDirectory, options: options)
        try expectSameContent(primary, reopened)
        // It goes on from where it was.
        try primary.upsert(points(2000..<2010, dimension: 8, seed: 4))
        #expect(try ship(primary, to: reopened) >= 1)
        try expectSameContent(primary, reopened)

        // The checksum sees one payload differ (and the count alone would not).
        let point = try #require(reopened.collection.get(id: 2005))
        try reopened.upsert([VectorPoint(id: 2005, vector: point.vector, payload: point.payload.merging(["x": .int(1)]) { $1 })])
        #expect(reopened.count == primary.count)
        #expect(try reopened.contentChecksum() != primary.contentChecksum())
        try reopened.close()
        try primary.close()
    }

    @Test("the checksum ignores insertion order and graph shape, and sees keys, vector bits and payloads")
    func checksum() throws {
        let forward = try DurableCollection.create(in: temporaryDirectory(), config: config, options: options)
        let backward = try DurableCollection.create(in: temporaryDirectory(), config: config, options: options)
        let all = points(0..<200, dimension: 8, seed: 5)
        try forward.upsert(all)
        for point in all.reversed() { try backward.upsert([point]) }
        #expect(try forward.contentChecksum() == backward.contentChecksum())
        let empty = try DurableCollection.create(in: temporaryDirectory(), config: config, options: options)
        #expect(try empty.contentChecksum() != forward.contentChecksum())

        let base = try forward.contentChecksum()
        var changed = all[17]
        changed.vector[3] = changed.vector[3].nextUp
        try backward.upsert([changed])
        #expect(try backward.contentChecksum() != base, "one vector bit")
        try backward.upsert([all[17]])
        #expect(try backward.contentChecksum() == base)
        try backward.delete(ids: [17])
        try backward.upsert([VectorPoint(id: 100_017, vector: all[17].vector, payload: all[17].payload)])
        #expect(try backward.contentChecksum() != base, "the same point under another key")

        let cancelled = CancellationSignal()
        cancelled.cancel()
        #expect(throws: (any Error).self) { _ = try forward.contentChecksum(cancellation: cancelled) }
    }

    @Test("gaps and repeats are refused with nothing applied; a damaged record is refused before it is logged")
    func refusals() throws {
        let primary = try DurableCollection.create(in: temporaryDirectory(), config: config, options: options)
        try writeHistory(primary)
        let records = try primary.logRecords(after: 0, maxRecords: 100, maxBytes: .max)
        #expect(records.count >= 8 && records.map(\.sequence) == Array(1...UInt64(records.count)))
        let replicaDirectory = temporaryDirectory()
        let replica = try DurableCollection.create(in: replicaDirectory, config: config, options: options)

        func expectRefused(_ batch: [WALRecord], saying words: String, _ comment: Comment) {
            let appends = replica.logStatistics.appends, last = replica.lastSequence, count = replica.count
            let error = #expect(throws: StorageError.self, comment) { try replica.applyReplicated(batch) }
            #expect(error?.code == .invalidArgument, comment)
            #expect(error?.message.contains(words) == true, "\(comment): \(error?.message ?? "")")
            #expect(replica.logStatistics.appends == appends && replica.lastSequence == last && replica.count == count, comment)
        }
        expectRefused([records[1]], saying: "expected sequence 1, received 2", "a gap at the start")
        expectRefused([records[0], records[2]], saying: "expected sequence 2, received 3", "a gap inside")
        try replica.applyReplicated([records[0]])
        #expect(replica.lastSequence == 1 && replica.count == 120)
        expectRefused([records[0]], saying: "expected sequence 2, received 1", "a repeat")
        expectRefused([records[1], records[1]], saying: "expected sequence 3, received 2", "a repeat inside")

        // Damaged records, each behind a good one that must not be applied either.
        let next = records[1]
        var bad: [(WALRecord, String)] = [
            (WALRecord(sequence: 3, type: next.type, payload: Array(next.payload.dropLast(3))), "cut short"),
            (WALRecord(sequence: 3, type: next.type, payload: next.payload + [0]), "trailing byte"),
            (WALRecord(sequence: 3, type: 99, payload: next.payload), "unknown type"),
            (WALRecord(sequence: 3, type: CollectionCodec.RecordType.upsert.rawValue,
                       payload: CollectionCodec.encodeUpsert(points(0..<2, dimension: 3, seed: 1))), "wrong dimension"),
            (WALRecord(sequence: 3, type: CollectionCodec.RecordType.upsert.rawValue,
                       payload: CollectionCodec.encodeUpsert([VectorPoint(id: 1, vector: [.nan, 0, 0, 0, 0, 0, 0, 0])])), "not finite"),
            (WALRecord(sequence: 3, type: CollectionCodec.RecordType.delete.rawValue, payload: [0xFF, 0xFF, 0xFF, 0xFF, 1]), "delete cut short"),
            (WALRecord(sequence: 3, type: CollectionCodec.RecordType.assignUUIDs.rawValue,
                       payload: UUIDAssignments.encode([(PointUUID(high: 1, low: 1), 5)], next: 6)), "a UUID mapped to a numeric id"),
        ]
        let upsertType = CollectionCodec.RecordType.upsert.rawValue, deleteType = CollectionCodec.RecordType.delete.rawValue
        bad += [
            (WALRecord(sequence: 3, type: upsertType, payload: CollectionCodec.encodeUpsert(points(0..<2, dimension: 8, seed: 1)) + [0]),
             "upsert with a trailing byte"),
            (WALRecord(sequence: 3, type: deleteType, payload: CollectionCodec.encodeDelete([1]) + [7]), "delete with a trailing byte"),
        ]
        for (record, comment) in bad {
            expectRefused([next, record], saying: "record 3 is refused", Comment(rawValue: comment))
        }
        #expect(replica.count == 120 && replica.lastSequence == 1)
        // Nothing refused reached the disk: a reopen holds the one record applied.
        try replica.close()
        let reopened = try DurableCollection.open(replicaDirectory, options: options)
        #expect(reopened.lastSequence == 1 && reopened.recovery.replayedRecords == 1 && reopened.count == 120)
        try ship(primary, to: reopened)
        try expectSameContent(primary, reopened)
        #expect(throws: StorageError.self) { try reopened.applyReplicated([WALRecord(sequence: 0, type: 1, payload: [])]) }
        #expect(try reopened.applyReplicated([]) == reopened.lastSequence)
        try reopened.close()
        let closed = #expect(throws: StorageError.self) { try reopened.applyReplicated([]) }
        #expect(closed?.code == .closed)
    }

    @Test("records a snapshot released throw notRetained; a retention floor of 0 keeps them all")
    func retention() throws {
        for floor in [nil, 0] as [UInt64?] {
            let primary = try DurableCollection.create(in: temporaryDirectory(), config: config, options: options)
            if let floor { primary.setLogRetentionFloor { floor } }
            for batch in 0..<10 { try primary.upsert(points(UInt64(batch * 20)..<UInt64(batch * 20 + 20), dimension: 8, seed: UInt64(batch))) }
            try primary.snapshot()
            for batch in 10..<20 { try primary.upsert(points(UInt64(batch * 20)..<UInt64(batch * 20 + 20), dimension: 8, seed: UInt64(batch))) }
            try primary.snapshot()   // releases what the first snapshot covers (the second is kept for fallback)
            #expect(primary.lastSequence == 20)
            if floor == nil {
                #expect(primary.firstRetainedSequence > 1)
                let error = #expect(throws: StorageError.self) { _ = try primary.logRecords(after: 0, maxRecords: 10, maxBytes: 1 << 20) }
                #expect(error?.code == .notRetained)
                let first = primary.firstRetainedSequence
                #expect(try primary.logRecords(after: first - 1, maxRecords: 1, maxBytes: 1).map(\.sequence) == [first])
            } else {
                #expect(primary.firstRetainedSequence == 1)
                #expect(try primary.logRecords(after: 0, maxRecords: 100, maxBytes: .max).map(\.sequence) == Array(1...20))
            }
            try primary.close()
        }
    }

    @Test("a lagging replica installs the primary's snapshot continuing its log, applies the tail, and reopens equal")
    func installContinuingLog() throws {
        let primary = try DurableCollection.create(in: temporaryDirectory(), config: config, options: options)
        try writeHistory(primary)
        try primary.snapshot()
        try primary.upsert(points(3000..<3050, dimension: 8, seed: 6))
        try primary.snapshot()
        let tail = points(4000..<4030, dimension: 8, seed: 7)
        for point in tail { try primary.upsert([point]) }
        try primary.delete(ids: [4001])

        // An empty replica cannot start from 0: the records it needs are gone.
        let error = #expect(throws: StorageError.self) { _ = try primary.logRecords(after: 0, maxRecords: 10, maxBytes: 1 << 20) }
        #expect(error?.code == .notRetained)
        let (info, file) = try newestSnapshotFile(primary)
        #expect(info.walSequence + 1 >= primary.firstRetainedSequence)
        let directory = temporaryDirectory() + "/replica"
        let replica = try DurableCollection.install(snapshotFile: file, in: directory, name: "shard", options: options, continuingLog: true)
        #expect(replica.lastSequence == info.walSequence && replica.firstRetainedSequence == info.walSequence + 1)
        #expect(replica.recovery.snapshotSequence == info.walSequence)
        #expect(try ship(primary, to: replica, maxRecords: 4) >= 8)
        try expectSameContent(primary, replica)
        try replica.close()

        let reopened = try DurableCollection.open(directory, options: options)
        #expect(reopened.recovery.snapshotSequence == info.walSequence && reopened.recovery.replayedRecords == 31)
        try expectSameContent(primary, reopened)
        try primary.upsert(points(5000..<5005, dimension: 8, seed: 8))
        try ship(primary, to: reopened)
        try expectSameContent(primary, reopened)
        // A snapshot of the replica and a reopen from it keep the sequence.
        try reopened.snapshot()
        try reopened.close()
        let again = try DurableCollection.open(directory, options: options)
        #expect(again.recovery.replayedRecords == 0)
        try expectSameContent(primary, again)
        try again.close()

        // Without continuingLog the installed copy starts a log of its own, at 1.
        let copy = try DurableCollection.install(snapshotFile: file, in: temporaryDirectory() + "/copy", name: "copy", options: options)
        #expect(copy.lastSequence == 0)
        try copy.close()
        try primary.close()
    }

    @Test("a continued log whose snapshot is lost is refused at open, not replayed onto an empty index")
    func continuedLogWithoutItsSnapshot() throws {
        let primary = try DurableCollection.create(in: temporaryDirectory(), config: config, options: options)
        try primary.upsert(points(0..<50, dimension: 8, seed: 1))
        try primary.snapshot()
        let (info, file) = try newestSnapshotFile(primary)
        let directory = temporaryDirectory() + "/replica"
        let replica = try DurableCollection.install(snapshotFile: file, in: directory, name: "shard", options: options, continuingLog: true)
        try primary.upsert(points(50..<60, dimension: 8, seed: 2))
        try ship(primary, to: replica)
        try replica.close()
        try AtomicFile.removeTree(directory + "/snapshots/" + info.name)
        let error = #expect(throws: StorageError.self) { _ = try DurableCollection.open(directory, options: options) }
        #expect(error?.code == .corrupt && error?.message.contains("records between are missing") == true)
        try primary.close()
    }

    @Test("waitForRecords wakes on an append from another thread (not at its timeout), and returns after its timeout when nothing comes")
    func waiting() async throws {
        let primary = try DurableCollection.create(in: temporaryDirectory(), config: config,
                                                   options: DurabilityOptions.manualSnapshots(syncPolicy: .always))
        try primary.upsert(points(0..<10, dimension: 8, seed: 1))
        let last = primary.lastSequence
        #expect(await primary.waitForRecords(after: last - 1, timeout: .seconds(30)) == last)

        // The append syncs (policy `always`): the waiter wakes once the record is durable, so
        // the bound is from the append's return. The append resumes the waiter at once, but the
        // resumed task runs when the shared pool has a thread: other suites running beside this
        // one have held every thread for seconds in the full run (3.4 s measured in CI while a
        // control task resumed just after the append ran 0.3 s late; a WAL test beside it once
        // waited 96 s for a thread), so the bound is "long before the 600 s timeout", and the
        // latency is printed.
        let (ticks, tick) = AsyncStream<Void>.makeStream()
        let control = Task {
            for await _ in ticks { break }
            return ContinuousClock.now
        }
        let writer = Task.detached {
            try await Task.sleep(for: .milliseconds(100))
            try primary.upsert(points(10..<11, dimension: 8, seed: 2))
            let appended = ContinuousClock.now
            tick.yield()
            tick.finish()
            return appended
        }
        #expect(await primary.waitForRecords(after: last, timeout: .seconds(600)) == last + 1)
        let woke = ContinuousClock.now
        let appended = try await writer.value
        let poolDelay = max(.zero, await control.value - appended)
        #expect(woke - appended < .seconds(300),
                "woke \(woke - appended) after the append returned; the pool delayed the control \(poolDelay)")
        print("waitForRecords woke \(woke - appended) after the append; a control task resumed \(poolDelay) late")
        #expect(try primary.logRecords(after: last, maxRecords: 10, maxBytes: 1 << 20).map(\.sequence) == [last + 1])

        let before = ContinuousClock.now
        #expect(await primary.waitForRecords(after: last + 1, timeout: .milliseconds(150)) == last + 1)
        let waited = ContinuousClock.now - before
        #expect(waited >= .milliseconds(150) && waited < .seconds(20))
        try primary.close()
    }
}
