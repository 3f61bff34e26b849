import Storage
import Synchronization
import VectorEngine

/// A vector collection that survives restarts and crashes: every change is written to the
/// collection's write-ahead log before it is applied, snapshots capture the whole index,
/// and opening = newest valid snapshot + the log after it. One folder per collection:
/// `collection.bin` (configuration), `wal/`, `snapshots/`.
///
/// ```swift
/// let docs = try DurableCollection.create(in: "/data/collections/docs", config: config)
/// try docs.upsert(points)                   // durable when it returns (WAL policy `always`)
/// try docs.snapshot(createdUnixMicros: now) // later: faster restart, older log released
/// ```
public final class DurableCollection: Sendable {
    /// The in-memory collection (search, get, scroll, count are read straight from it).
    public let collection: VectorCollection
    /// What opening found, for the caller's log.
    public let recovery: RecoveryReport
    private let directory: String
    private let wal: WriteAheadLog
    private let snapshots: SnapshotStore
    /// Orders log appends with their application, so replay order = live order.
    private let writeLock = Mutex(())

    /// What `open` did.
    public struct RecoveryReport: Sendable {
        /// WAL sequence of the snapshot loaded (0 = none).
        public var snapshotSequence: UInt64
        /// Newer snapshots that were damaged and skipped.
        public var skippedSnapshots: [String]
        /// WAL records replayed after the snapshot.
        public var replayedRecords: Int
        /// What the WAL repair found (a torn tail is cut, and said so here).
        public var wal: WALRecoveryReport
    }

    private init(directory: String, collection: VectorCollection, wal: WriteAheadLog, snapshots: SnapshotStore,
                 recovery: RecoveryReport) {
        self.directory = directory
        self.collection = collection
        self.wal = wal
        self.snapshots = snapshots
        self.recovery = recovery
    }

    /// Creates a new collection folder. Fails when one already exists there.
    public static func create(in directory: String, config: CollectionConfig,
                              syncPolicy: WALSyncPolicy = .always) throws -> DurableCollection {
        let store = try SnapshotStore(directory: directory + "/snapshots")
        if (try? store.list())?.isEmpty == false || AtomicFile.exists(directory + "/collection.bin") {
            throw StorageError(.invalidArgument, "a collection already exists in '\(directory)'")
        }
        _ = try VectorCollection(config)   // validates the configuration before anything is written
        try AtomicFile.write(CollectionCodec.encode(config), to: directory + "/collection.bin")
        return try open(directory, syncPolicy: syncPolicy)
    }

    /// Opens an existing collection folder: newest valid snapshot, then the WAL after it.
    public static func open(_ directory: String, syncPolicy: WALSyncPolicy = .always) throws -> DurableCollection {
        let config = try CollectionCodec.decodeConfig(try AtomicFile.read(directory + "/collection.bin"))
        let snapshots = try SnapshotStore(directory: directory + "/snapshots")
        let (snapshot, skipped) = try snapshots.loadLatestValid()
        let collection: VectorCollection
        if let state = snapshot?.sections["index"] {
            collection = try VectorCollection(config, restoring: try CollectionCodec.decodeState(state))
        } else {
            collection = try VectorCollection(config)
        }
        let (wal, walReport) = try WriteAheadLog.open(directory: directory + "/wal",
                                                      options: WALOptions(syncPolicy: syncPolicy))
        let after = snapshot?.info.walSequence ?? 0
        var replayed = 0
        for record in try wal.read(from: after + 1) {
            try apply(record, to: collection)
            replayed += 1
        }
        let report = RecoveryReport(snapshotSequence: after, skippedSnapshots: skipped, replayedRecords: replayed, wal: walReport)
        return DurableCollection(directory: directory, collection: collection, wal: wal, snapshots: snapshots, recovery: report)
    }

    private static func apply(_ record: WALRecord, to collection: VectorCollection) throws {
        switch CollectionCodec.RecordType(rawValue: record.type) {
        case .upsert?: try collection.upsert(try CollectionCodec.decodeUpsert(record.payload))
        case .delete?: collection.delete(ids: try CollectionCodec.decodeDelete(record.payload))
        case nil: throw StorageError(.corrupt, "unknown record type \(record.type) at sequence \(record.sequence)")
        }
    }

    /// Inserts or replaces points; durable (per the sync policy) when it returns. A batch the
    /// engine refuses (wrong dimension...) is refused before anything is logged.
    @discardableResult
    public func upsert(_ points: [VectorPoint]) throws -> UInt64 {
        try writeLock.withLock { _ in
            try collection.validate(points)
            let sequence = try wal.append(type: CollectionCodec.RecordType.upsert.rawValue,
                                          payload: CollectionCodec.encodeUpsert(points))
            try collection.upsert(points)
            return sequence
        }
    }

    /// Deletes points by id; returns how many existed.
    @discardableResult
    public func delete(ids: [UInt64]) throws -> Int {
        try writeLock.withLock { _ in
            _ = try wal.append(type: CollectionCodec.RecordType.delete.rawValue, payload: CollectionCodec.encodeDelete(ids))
            return collection.delete(ids: ids)
        }
    }

    /// Deletes every point whose payload matches `filter`; returns how many. The matching ids
    /// are resolved and logged under the write lock, so replay deletes exactly these.
    @discardableResult
    public func delete(matching filter: PayloadFilter) throws -> Int {
        try writeLock.withLock { _ in
            let ids = try collection.ids(matching: filter)
            _ = try wal.append(type: CollectionCodec.RecordType.delete.rawValue, payload: CollectionCodec.encodeDelete(ids))
            return collection.delete(ids: ids)
        }
    }

    /// Writes a snapshot of the whole collection and releases the log it covers, keeping
    /// what the previous snapshot needs (recovery falls back to it if the newest is damaged).
    @discardableResult
    public func snapshot(createdUnixMicros: Int64) throws -> SnapshotInfo {
        try writeLock.withLock { _ in
            let sequence = wal.nextSequenceNumber - 1
            let state = CollectionCodec.encode(collection.index.exportState())
            let info = try snapshots.write(sections: [(name: "index", bytes: state)], walSequence: sequence,
                                           createdUnixMicros: createdUnixMicros)
            let all = try snapshots.list()
            if all.count >= 2 { try wal.releaseSegments(upTo: all[1].walSequence) }
            return info
        }
    }

    /// Syncs and closes the log.
    public func close() throws { try wal.close() }
}
