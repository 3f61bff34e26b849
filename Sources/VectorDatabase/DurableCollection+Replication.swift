import Storage
import VectorEngine
import WorkControl

/// Replication of a collection (one shard) from its primary to its replicas: the primary's log
/// records are shipped (`logRecords`, `waitForRecords`) and applied on each replica under the
/// same sequence numbers (`applyReplicated`), so "applied through sequence s" means the same
/// state everywhere and survives restarts. A replica too far behind installs the primary's
/// snapshot with `install(snapshotFile:in:name:options:continuingLog: true)` and applies the
/// log after it. `contentChecksum` tells whether two copies hold the same points.
///
/// ```swift
/// // primary                                     // replica
/// let batch = try primary.logRecords(after: replicaSequence, maxRecords: 256, maxBytes: 1 << 20)
///                                                try replica.applyReplicated(batch)
/// ```
extension DurableCollection {
    /// Sequence of the last record in this collection's log (0 for an empty log; after a
    /// snapshot install that continues the log, the snapshot's sequence until something is
    /// appended). A record counts once it is as durable as the sync policy promises: a record
    /// written but not yet synced could still vanish in a crash, so it is never shipped.
    public var lastSequence: UInt64 { wal.lastSequence }

    /// First sequence still held by the log (records before it live only in snapshots).
    public var firstRetainedSequence: UInt64 { wal.firstRetainedSequence }

    /// How many points (the same as `collection.count()`).
    public var count: Int { collection.index.count }

    /// Up to `maxRecords` records after `sequence`, in order, stopping before the one that
    /// would take their payloads past `maxBytes` (at least one record when there is one).
    /// Throws `StorageError` `.notRetained` when `sequence + 1 < firstRetainedSequence` (records
    /// the replica needs were released: transfer a snapshot instead); [] when there is nothing
    /// after `sequence`. Reads near the first record wanted, not whole segments.
    public func logRecords(after sequence: UInt64, maxRecords: Int, maxBytes: Int) throws -> [WALRecord] {
        try wal.records(after: sequence, maxRecords: maxRecords, maxBytes: maxBytes)
    }

    /// Suspends (no thread held, no polling) until the log holds a record after `sequence`,
    /// `timeout` passes, the collection is closed or the task is cancelled; returns
    /// `lastSequence` then.
    public func waitForRecords(after sequence: UInt64, timeout: Duration) async -> UInt64 {
        await wal.waitForRecords(after: sequence, timeout: timeout)
    }

    /// A replica applies records its primary logged. Each must be exactly `lastSequence + 1`
    /// (else `StorageError` `.invalidArgument` naming the expected and received sequence, and
    /// nothing is applied); every record is decoded and validated (type, encoding, dimension,
    /// finite values) before any is logged, so a bad batch logs nothing. The batch is appended
    /// to this log under the same sequences, types and payloads (one device sync under the
    /// sync policy), then applied to the index in order: upserts, deletes (which drop the
    /// UUIDs of the points deleted) and UUID assignments, as the primary applied them. Returns
    /// the new `lastSequence`: durable (per the sync policy) when it returns, and searchable
    /// then too unless `acknowledge` is `.logged` (then applied shortly after, in log order,
    /// while the next batch is logged; the queue is bounded as the primary's own is).
    @discardableResult
    public func applyReplicated(_ records: [WALRecord], acknowledge: Acknowledgement = .applied) throws -> UInt64 {
        let last = try writeLock.withLock { closed -> UInt64 in
            guard !closed else { throw StorageError(.closed, "the collection is closed") }
            try checkQueuedWrites()
            // Under the write lock nothing else appends: the log's next sequence is stable.
            let next = wal.nextSequenceNumber
            for (index, record) in records.enumerated() where record.sequence != next + UInt64(index) {
                throw StorageError(.invalidArgument,
                    "expected sequence \(next + UInt64(index)), received \(record.sequence): replicated records must follow the log without gaps or repeats")
            }
            let changes = try records.map(decodeReplicated)
            let last = try logCounted(acknowledge) { try wal.append(records) }
            for (record, change) in zip(records, changes) {
                automaticSnapshots.logged(bytes: record.payload.count, changes: change.points)
            }
            let applyAll: @Sendable () throws -> Void = { [self] in
                for change in changes { try timedApply(workers: linkThreads(change)) { try apply(change) } }
            }
            // Logged but not all applied: the index no longer matches the log until a reopen.
            let failed: @Sendable (any Error) -> Void = { [self] error in
                queued.withLock { $0.failure = $0.failure ?? "replicated records \(next)...\(last): \(error)" }
            }
            switch acknowledge {
            case .applied:
                do { try applier.sync(execute: applyAll) } catch {
                    failed(error)
                    throw error
                }
            case .logged:
                // UUID names change with the index, on the applier: a copy that becomes a
                // primary must let its queue drain before it takes a write
                // (`waitUntilQueuedWritesApplied`), or it could hand out an internal id a queued
                // assignment holds, or resolve a name a queued delete drops.
                let bytes = records.reduce(0) { $0 + $1.payload.count }
                let permits = queuePermits(forBytes: bytes)
                for _ in 0..<permits { queueRoom.wait() }
                applier.async { [self] in
                    do {
                        try applyAll()
                        queued.withLock { $0.appliedThrough = last }
                    } catch { failed(error) }
                    queued.withLock { $0.count -= 1 }
                    for _ in 0..<permits { queueRoom.signal() }
                }
            }
            return last
        }
        automaticSnapshots.scheduleIfDue()
        return last
    }

    /// Order-independent checksum of the points: each point's key, vector bit patterns and
    /// payload, encoded canonically and combined so insertion order and graph shape do not
    /// matter. Two replicas holding the same points give the same value. Writes wait while it
    /// runs (it covers exactly the log through `lastSequence`); `cancellation` is checked every
    /// 1024 points.
    public func contentChecksum(cancellation: CancellationSignal = .never) throws -> UInt64 {
        try contentSummary(cancellation: cancellation).checksum
    }

    /// The checksum of `contentChecksum` with the points it covered and the log position they
    /// are the state of, taken together (a replica indexes behind its log: a count read apart
    /// from the checksum may be of fewer records).
    public func contentSummary(cancellation: CancellationSignal = .never) throws -> (checksum: UInt64, points: Int, lastSequence: UInt64) {
        try writeLock.withLock { _ in
            try applier.sync {
                var checksum = ContentChecksum()
                var points = 0
                var cursor: Int? = nil
                repeat {
                    try cancellation.check()
                    let page = try collection.index.scroll(after: cursor, limit: 1024)
                    let keys = uuids.withLock { known in page.ids.map(known.key) }
                    for (id, key) in zip(page.ids, keys) {
                        guard let vector = collection.index.vector(id: id), let payload = collection.index.payload(id: id) else { continue }
                        checksum.add(key: key, vector: vector, payload: payload)
                        points += 1
                    }
                    cursor = page.next
                } while cursor != nil
                return (checksum.value, points, lastSequence)
            }
        }
    }

    /// Snapshots never release log segments holding records after `floor()` (the primary keeps
    /// what a lagging replica still needs); `floor` is asked at each snapshot, outside the
    /// write lock and the log's lock (it may read `lastSequence`; it must not take a snapshot).
    /// Default: no floor (segments are released as the snapshots allow).
    public func setLogRetentionFloor(_ floor: @escaping @Sendable () -> UInt64) {
        wal.setRetentionFloor(floor)
    }

    /// A replicated record, decoded and checked, ready to apply.
    private enum ReplicatedChange {
        case upsert([VectorPoint])
        case delete([UInt64])
        /// UUID ↔ id pairs, as logged (checked: applying them cannot fail).
        case assignUUIDs([UInt8])

        /// Points upserted or deleted (the automatic-snapshot change count).
        var points: Int {
            switch self {
            case .upsert(let points): return points.count
            case .delete(let ids): return ids.count
            case .assignUUIDs: return 0
            }
        }
    }

    private func decodeReplicated(_ record: WALRecord) throws -> ReplicatedChange {
        do {
            switch CollectionCodec.RecordType(rawValue: record.type) {
            case .upsert?:
                let points = try CollectionCodec.decodeUpsert(record.payload, exact: true)
                try collection.validate(points)
                return .upsert(points)
            case .delete?:
                return .delete(try CollectionCodec.decodeDelete(record.payload, exact: true))
            case .assignUUIDs?:
                var scratch = UUIDAssignments()
                try scratch.apply(record.payload)
                return .assignUUIDs(record.payload)
            case nil:
                throw StorageError(.invalidArgument, "unknown record type \(record.type)")
            }
        } catch {
            let reason = (error as? StorageError)?.message ?? (error as? VectorEngineError)?.message ?? String(describing: error)
            throw StorageError(.invalidArgument, "replicated record \(record.sequence) is refused, nothing was logged: \(reason)")
        }
    }

    /// Threads linking a change: a large upsert on the replay threads, as replay at open does
    /// (a bulk import's batches), anything else one point at a time, as the primary linked it.
    private func linkThreads(_ change: ReplicatedChange) -> Int {
        guard case .upsert(let points) = change, points.count >= Replay.parallelMinPoints else { return 1 }
        return options.replayThreads
    }

    /// Applies one change (on the applier, in log order), as the primary did.
    private func apply(_ change: ReplicatedChange) throws {
        switch change {
        case .upsert(let points):
            try collection.upsert(points, threads: linkThreads(change))
        case .delete(let ids):
            collection.delete(ids: ids)
            uuids.withLock { $0.remove(ids) }
        case .assignUUIDs(let bytes):
            try uuids.withLock { try $0.apply(bytes) }
        }
    }
}
