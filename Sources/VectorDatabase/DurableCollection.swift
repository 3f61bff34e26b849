import Dispatch
import WorkControl
import Storage
import Synchronization
import VectorEngine

/// A vector collection that survives restarts and crashes: every change is written to the
/// collection's write-ahead log before it is applied, snapshots capture the whole index,
/// and opening = newest valid snapshot + the log after it. One folder per collection:
/// `collection.bin` (configuration), `wal/`, `snapshots/`, and `LOCK`: an open collection
/// holds its folder's `DirectoryLock`, so a second open (in this process or another) is
/// refused instead of writing a second log over the first. Automatic snapshots (see
/// `DurabilityOptions`) run in the background, beside the writes.
///
/// ```swift
/// let docs = try DurableCollection.create(in: "/data/collections/docs", config: config)
/// try docs.upsert(points)                   // durable when it returns (WAL policy `always`)
/// try docs.snapshot()                     // later: faster restart, older log released
/// ```
public final class DurableCollection: Sendable {
    /// The in-memory collection (search, get, scroll, count are read straight from it).
    public let collection: VectorCollection
    /// What opening found, for the caller's log.
    public let recovery: RecoveryReport
    private let directory: String
    let wal: WriteAheadLog
    private let snapshots: SnapshotStore
    let options: Options
    /// The folder's lock, held until `close`.
    private let lock: DirectoryLock
    /// Orders log appends with their application, so replay order = live order; true once closed.
    let writeLock = Mutex(false)
    /// What the log holds beyond the last snapshot, and the background snapshot job.
    let automaticSnapshots: AutomaticSnapshots
    /// UUID point ids and the internal ids standing for them (changed under `writeLock`).
    let uuids: Mutex<UUIDAssignments>
    /// Serializes snapshots (which encode and write outside `writeLock`).
    private let snapshotting = Mutex(())
    /// Fewest points for the reorder before a snapshot (``HNSWIndex/reorderIfGrown(minimumNodes:)``);
    /// tests lower it.
    let reorderMinimumNodes = Atomic<Int>(HNSWIndex.automaticReorderMinimum)
    /// Applies logged changes to the index in log order. A write acknowledged once logged
    /// (`Acknowledgement.logged`) is queued here; every other change runs here with `sync`,
    /// after whatever is queued (on an idle queue, `sync` runs on the caller's thread).
    let applier = DispatchQueue(label: "ruvector.collection.apply")
    /// Room for queued writes, in permits of `maxQueuedLogBytes / maxQueuedWrites` log bytes
    /// (each write takes at least one): a writer waits (holding `writeLock`, so it is the only
    /// one waiting) until the applier gives back enough.
    let queueRoom = DispatchSemaphore(value: DurableCollection.maxQueuedWrites)
    /// Logged writes not yet applied, the first failure to apply one, and the sequence through
    /// which every record is applied while some wait (see `appliedSequence`).
    let queued = Mutex<(count: Int, failure: String?, appliedThrough: UInt64)>((0, nil, 0))

    /// Writes logged but not yet applied that may wait in the queue (each up to one batch).
    public static let maxQueuedWrites = 8
    /// Log bytes those writes may hold together (a larger write waits for an empty queue). A
    /// crash replays whatever is queued, so this bounds the part of the restart time the queue
    /// adds: about 4,000 points of 128 dimensions, 2,000 of 384, linked on every core.
    public static let maxQueuedLogBytes = 4 << 20

    /// When a write is acknowledged.
    public enum Acknowledgement: Sendable {
        /// Logged (durable per the sync policy) and applied: searchable when the call returns.
        case applied
        /// Logged (durable per the sync policy); applied shortly after, in log order, so a
        /// search right after may not see it yet. Imports go faster: the next batch is
        /// logged while this one is indexed.
        case logged
    }

    /// How the collection keeps its files.
    public typealias Options = DurabilityOptions

    /// What `open` did.
    public typealias RecoveryReport = Storage.RecoveryReport

    private init(directory: String, collection: VectorCollection, uuids: UUIDAssignments, wal: WriteAheadLog,
                 snapshots: SnapshotStore, options: Options, lock: DirectoryLock, recovery: RecoveryReport) {
        self.uuids = Mutex(uuids)
        self.directory = directory
        self.options = options
        self.collection = collection
        self.wal = wal
        self.snapshots = snapshots
        self.lock = lock
        self.recovery = recovery
        automaticSnapshots = AutomaticSnapshots(options: options, directory: directory)
        automaticSnapshots.start { [weak self] in try self?.snapshot() }
        // What recovery replayed is owed too: it is still not in a snapshot.
        if recovery.replayedRecords > 0 {
            automaticSnapshots.logged(bytes: recovery.replayedBytes, changes: recovery.replayedChanges)
            automaticSnapshots.applied(nanos: recovery.replayMicros * 1000)
            automaticSnapshots.scheduleIfDue()
        }
    }

    /// Bytes on disk: configuration, write-ahead log and snapshots.
    public var diskBytes: Int { AtomicFile.treeSize(directory) }

    /// When the collection was created or restored (its configuration file was written), in
    /// microseconds since the Unix epoch; 0 if unknown.
    public var createdUnixMicros: Int64 { AtomicFile.modifiedUnixMicros(directory + "/collection.bin") ?? 0 }

    /// Creates a new collection folder. Fails when one already exists there. The
    /// configuration is checked before anything is written, so a refused one leaves no folder.
    public static func create(in directory: String, config: CollectionConfig,
                              options: Options = Options()) throws -> DurableCollection {
        try config.validate()   // before anything is written
        try AtomicFile.createDirectory(directory)
        let lock = try DirectoryLock(directory: directory, owner: "ruvector collection")
        let store = try SnapshotStore(directory: directory + "/snapshots")
        // A snapshots folder that cannot be listed fails the creation: it might hold a collection.
        if try !store.list().isEmpty || AtomicFile.exists(directory + "/collection.bin") {
            throw StorageError(.invalidArgument, "a collection named \(MessageText.quoted(config.name)) already exists on disk",
                               path: directory)
        }
        try AtomicFile.write(CollectionCodec.encode(config), to: directory + "/collection.bin")
        return try open(directory, options: options, lock: lock)
    }

    /// Creates a collection folder from a snapshot file (uploaded, or copied from another
    /// collection), named `name`. The file is fully validated and decoded first; the new
    /// folder starts with that snapshot and an empty log. With `continuingLog` the log goes on
    /// from the snapshot's WAL sequence (`lastSequence` is that sequence; the next record is
    /// the one after it), so a replica installs its primary's snapshot, then applies the
    /// primary's log after it (`applyReplicated`); without, the log starts again at 1.
    public static func install(snapshotFile bytes: [UInt8], in directory: String, name: String,
                               options: Options = Options(), continuingLog: Bool = false) throws -> DurableCollection {
        let snapshot = try SnapshotStore.parse(bytes)
        guard let configBytes = snapshot.sections["config"], let state = try decodeState(snapshot.sections) else {
            throw StorageError(.invalidArgument, "the file is a snapshot but not of a vector collection (no config or index section)")
        }
        var config = try CollectionCodec.decodeConfig(configBytes)
        config.name = name
        // Restored once to check it whole (on-disk vectors in a scratch file in the nearest
        // existing folder above, on the same file system as the collection will be).
        _ = try VectorCollection(config, restoring: state, vectorArenas: FileVectorArenas(directory: existingAncestor(of: directory)))
        var uuids = UUIDAssignments()
        if let pairs = snapshot.sections["uuids"] { try uuids.apply(pairs) }
        try AtomicFile.createDirectory(directory)
        let lock = try DirectoryLock(directory: directory, owner: "ruvector collection")
        let store = try SnapshotStore(directory: directory + "/snapshots")
        guard try store.list().isEmpty, !AtomicFile.exists(directory + "/collection.bin") else {
            throw StorageError(.invalidArgument, "a collection named \(MessageText.quoted(name)) already exists on disk", path: directory)
        }
        // The uploaded sections as they are (either layout), under the new name. Sequence 0:
        // the new, empty log's first record (1) comes after it; continuing, the snapshot's own
        // sequence (`open` starts the empty log right after the snapshot it loads).
        let sections = snapshot.sections.names.map { section in
            section == "config" ? SnapshotSection(section, bytes: CollectionCodec.encode(config))
                                : SnapshotSection(section, bytes: snapshot.sections[section] ?? [])
        }
        try store.write(sections: sections, walSequence: continuingLog ? snapshot.info.walSequence : 0,
                        createdUnixMicros: snapshot.info.createdUnixMicros)
        try AtomicFile.write(CollectionCodec.encode(config), to: directory + "/collection.bin")
        return try open(directory, options: options, lock: lock)
    }

    /// Opens an existing collection folder: newest valid snapshot, then the WAL after it.
    /// Throws `.locked` when the folder is open already (here or in another process).
    public static func open(_ directory: String, options: Options = Options()) throws -> DurableCollection {
        guard AtomicFile.exists(directory + "/collection.bin") else {
            throw StorageError(.invalidArgument, "no collection here (collection.bin is missing)", path: directory)
        }
        return try open(directory, options: options, lock: try DirectoryLock(directory: directory, owner: "ruvector collection"))
    }

    /// Opens the folder whose lock the caller took.
    private static func open(_ directory: String, options: Options, lock: DirectoryLock) throws -> DurableCollection {
        let started = ContinuousClock.now
        let config = try CollectionCodec.decodeConfig(try AtomicFile.read(directory + "/collection.bin"))
        let snapshots = try SnapshotStore(directory: directory + "/snapshots")
        let (snapshot, skipped) = try snapshots.loadLatestValid()
        let collection: VectorCollection
        let arenas = FileVectorArenas(directory: directory)
        if let sections = snapshot?.sections, let state = try decodeState(sections) {
            collection = try VectorCollection(config, restoring: state, vectorArenas: arenas)
        } else {
            collection = try VectorCollection(config, vectorArenas: arenas)
        }
        var uuids = UUIDAssignments()
        if let pairs = snapshot?.sections["uuids"] { try uuids.apply(pairs) }
        let loaded = ContinuousClock.now
        let after = snapshot?.info.walSequence ?? 0
        let walOptions = WALOptions(segmentSizeBytes: options.walSegmentSizeBytes, syncPolicy: options.syncPolicy)
        let (wal, walReport) = try WriteAheadLog.open(directory: directory + "/wal", options: walOptions,
                                                      checkingFrom: after + 1, startingAt: after + 1)
        // A log starting later than the snapshot's next record (a continued log whose snapshot
        // is damaged) would replay a tail onto the wrong state: refused, not served.
        guard wal.firstRetainedSequence <= after + 1 else {
            throw StorageError(.corrupt, "the log starts at sequence \(wal.firstRetainedSequence) but the snapshot loaded covers only through \(after): records between are missing; restore from a snapshot",
                               path: directory)
        }
        let walOpened = ContinuousClock.now
        var replay = Replay(collection: collection, threads: options.replayThreads)
        for record in try wal.read(from: after + 1) {
            try replay.apply(record, uuids: &uuids)
        }
        try replay.flush()
        let finished = ContinuousClock.now
        let report = RecoveryReport(snapshotSequence: after, skippedSnapshots: skipped, replayedRecords: replay.records,
                                    replayedBytes: replay.bytes, replayedChanges: replay.changes, wal: walReport,
                                    started: started, snapshotLoaded: loaded, walOpened: walOpened, finished: finished)
        return DurableCollection(directory: directory, collection: collection, uuids: uuids, wal: wal, snapshots: snapshots,
                                 options: options, lock: lock, recovery: report)
    }

    /// The nearest folder above `directory` that exists ("." for a relative path with none).
    private static func existingAncestor(of directory: String) -> String {
        var path = Substring(directory)
        while let slash = path.lastIndex(of: "/") {
            path = slash == path.startIndex ? "/" : path[..<slash]
            if AtomicFile.exists(String(path)) { return String(path) }
            if path == "/" { break }
        }
        return "."
    }

    /// The index state of a snapshot of either layout (nil when it has none): layout 2's
    /// vectors and links stay in the mapped file.
    private static func decodeState(_ sections: SnapshotSections) throws -> HNSWState? {
        if sections.contains(CollectionCodec.stateHeaderSection) { return try CollectionCodec.decodeState(sections) }
        return try sections["index"].map(CollectionCodec.decodeState)
    }

    /// Inserts or replaces points; durable (per the sync policy) when it returns, and applied
    /// then too unless `acknowledge` is `.logged`. A batch the engine refuses (wrong
    /// dimension...) is refused before anything is logged. `threads` above 1 links new points
    /// in parallel (bulk imports; see ``VectorCollection/upsert(_:threads:)``): the log and the
    /// acknowledgement are the same, but the links then depend on thread timing, so the graph
    /// replayed at the next open may differ slightly from the live one (same points, same
    /// payloads, equivalent recall).
    @discardableResult
    public func upsert(_ points: [VectorPoint], threads: Int = 1, acknowledge: Acknowledgement = .applied) throws -> UInt64 {
        let sequence = try writeLock.withLock { _ in
            try collection.validate(points)
            return try logAndApply(points, threads: threads, acknowledge: acknowledge)
        }
        automaticSnapshots.scheduleIfDue()
        return sequence
    }

    /// Logs validated `points`, then applies them or queues them (call holding `writeLock`).
    /// Returns the record's sequence.
    private func logAndApply(_ points: [VectorPoint], threads: Int = 1, acknowledge: Acknowledgement) throws -> UInt64 {
        try checkQueuedWrites()
        let record = CollectionCodec.encodeUpsert(points)
        let sequence = try logCounted(acknowledge) { try wal.append(type: CollectionCodec.RecordType.upsert.rawValue, payload: record) }
        automaticSnapshots.logged(bytes: record.count, changes: points.count)
        // Threads that can link at once: one per point at most.
        let workers = max(1, min(threads, points.count))
        switch acknowledge {
        case .applied:
            try applier.sync { try timedApply(workers: workers) { try collection.upsert(points, threads: workers) } }
        case .logged:
            let permits = queuePermits(forBytes: record.count)
            for _ in 0..<permits { queueRoom.wait() }
            applier.async { [self] in
                do {
                    try timedApply(workers: workers) { try collection.upsert(points, threads: workers) }
                    queued.withLock { $0.appliedThrough = sequence }
                } catch {
                    queued.withLock { $0.failure = $0.failure ?? "sequence \(sequence): \(error)" }
                }
                queued.withLock { $0.count -= 1 }
                for _ in 0..<permits { queueRoom.signal() }
            }
        }
        return sequence
    }

    /// The places in the queue of logged, not yet applied writes that a record of `bytes`
    /// takes: one per `maxQueuedLogBytes / maxQueuedWrites` bytes, at least one, at most all.
    func queuePermits(forBytes bytes: Int) -> Int {
        let permitBytes = Self.maxQueuedLogBytes / Self.maxQueuedWrites
        return min(Self.maxQueuedWrites, max(1, (bytes + permitBytes - 1) / permitBytes))
    }

    /// Runs `apply` and counts its time as replay time owed (see `autoSnapshotReplayMillis`).
    /// Replay at open links one point at a time (`replayThreads` 1), redoing the work of every
    /// thread that linked the batch live: a batch linked on `workers` threads owes its wall
    /// time that many times over (more than replay takes when those threads shared a core,
    /// so snapshots come early rather than late).
    func timedApply<T>(workers: Int = 1, _ apply: () throws -> T) rethrows -> T {
        let started = ContinuousClock.now
        defer { automaticSnapshots.applied(nanos: (ContinuousClock.now - started).wholeNanoseconds * Int64(workers)) }
        return try apply()
    }

    /// Refuses writes once a queued write failed to apply: the index no longer matches the log.
    /// (Batches are validated before they are logged, so this means a bug or no memory.)
    func checkQueuedWrites() throws {
        if let failure = queued.withLock({ $0.failure }) {
            throw StorageError(.io, "applying a logged write failed (\(failure)); reopen the collection to replay its log")
        }
    }

    /// Logged writes not yet applied (searches do not see them yet).
    public var queuedWrites: Int { queued.withLock { $0.count } }

    /// The sequence through which the log's records are applied to the index (searchable):
    /// `lastSequence` unless writes acknowledged once logged (`Acknowledgement.logged`, as a
    /// replica acknowledges) still wait for the applier, then the last record of the newest one
    /// applied. (A write acknowledged once applied may be counted just before its call returns.)
    public var appliedSequence: UInt64 {
        let last = wal.lastSequence
        // Read after `last`: a queued write is counted before it is logged.
        return queued.withLock { $0.count == 0 ? last : min(last, $0.appliedThrough) }
    }

    /// Runs `append` (a log append, holding `writeLock`); a write acknowledged once logged is
    /// counted as waiting before it is logged, so `appliedSequence` never covers it early (the
    /// first of a run of them marks everything logged before it as applied), and uncounted
    /// when the append fails.
    func logCounted<T>(_ acknowledge: Acknowledgement, _ append: () throws -> T) throws -> T {
        guard acknowledge == .logged else { return try append() }
        let last = wal.lastSequence
        queued.withLock { q in
            if q.count == 0 { q.appliedThrough = last }
            q.count += 1
        }
        do {
            return try append()
        } catch {
            queued.withLock { $0.count -= 1 }
            throw error
        }
    }

    /// Waits until every logged write is applied.
    public func waitUntilApplied() { applier.sync {} }

    /// Waits, without holding a thread, until every write logged before this call is applied;
    /// throws when one of the queued writes failed to apply (the index no longer matches the log).
    public func waitUntilQueuedWritesApplied() async throws {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in applier.async { done.resume() } }
        try checkQueuedWrites()
    }

    /// A point to upsert, named as users name it.
    public struct KeyedPoint: Sendable {
        public var key: PointKey
        public var vector: [Float]
        public var payload: Payload
        /// A point.
        public init(key: PointKey, vector: [Float], payload: Payload = [:]) {
            self.key = key; self.vector = vector; self.payload = payload
        }
    }

    /// Inserts or replaces points named by number or UUID: a UUID seen for the first time gets
    /// an internal id, and the new pairs are logged before the points. Refused batches log nothing.
    /// `threads` as in ``upsert(_:threads:acknowledge:)``.
    @discardableResult
    public func upsert(keyed points: [KeyedPoint], threads: Int = 1, acknowledge: Acknowledgement = .applied) throws -> UInt64 {
        let sequence = try writeLock.withLock { _ in
            // New UUIDs get ids from `next` up; they join the shared pairs only once logged
            // (no other writer runs meanwhile: this holds `writeLock`).
            var fresh: [PointUUID: UInt64] = [:]
            let (engine, next) = try uuids.withLock { (known: inout UUIDAssignments) throws -> ([VectorPoint], UInt64) in
                var next = known.nextInternalId
                let engine = try points.map { point -> VectorPoint in
                    var id = try known.internalId(point.key)
                    if id == nil, case .uuid(let uuid) = point.key {
                        id = fresh[uuid] ?? next
                        if fresh[uuid] == nil { fresh[uuid] = next; next += 1 }
                    }
                    return VectorPoint(id: id ?? 0, vector: point.vector, payload: point.payload)
                }
                return (engine, next)
            }
            try collection.validate(engine)
            if !fresh.isEmpty {
                let pairs = fresh.sorted { $0.value < $1.value }.map { ($0.key, $0.value) }
                let record = UUIDAssignments.encode(pairs, next: next)
                _ = try wal.append(type: CollectionCodec.RecordType.assignUUIDs.rawValue, payload: record)
                uuids.withLock { known in for (uuid, id) in pairs { known.assign(uuid, id) } }
                automaticSnapshots.logged(bytes: record.count, changes: 0)
            }
            return try logAndApply(engine, threads: threads, acknowledge: acknowledge)
        }
        automaticSnapshots.scheduleIfDue()
        return sequence
    }

    /// The engine's id for `key`; nil for a UUID this collection has never seen. Throws
    /// (invalid argument) for a number of 2^63 or more.
    public func internalId(_ key: PointKey) throws -> UInt64? { try uuids.withLock { try $0.internalId(key) } }

    /// The key users know the engine's id `id` by.
    public func key(_ id: UInt64) -> PointKey { uuids.withLock { $0.key(id) } }

    /// Deletes points by id; returns how many existed.
    @discardableResult
    public func delete(ids: [UInt64]) throws -> Int {
        defer { automaticSnapshots.scheduleIfDue() }
        return try writeLock.withLock { _ in try logDelete(ids) }
    }

    /// Deletes are applied before they return (after any queued writes), so the count is exact.
    private func logDelete(_ ids: [UInt64]) throws -> Int {
        try checkQueuedWrites()
        let record = CollectionCodec.encodeDelete(ids)
        _ = try wal.append(type: CollectionCodec.RecordType.delete.rawValue, payload: record)
        automaticSnapshots.logged(bytes: record.count, changes: ids.count)
        defer { uuids.withLock { $0.remove(ids) } }
        return applier.sync { timedApply { collection.delete(ids: ids) } }
    }

    /// Deletes every point whose payload matches `filter`; returns how many. The matching ids
    /// are resolved and logged under the write lock, so replay deletes exactly these.
    /// A raised `cancellation` stops the scan before anything is logged.
    @discardableResult
    public func delete(matching filter: PayloadFilter, cancellation: CancellationSignal = .never) throws -> Int {
        defer { automaticSnapshots.scheduleIfDue() }
        return try writeLock.withLock { _ in
            try logDelete(try applier.sync { try collection.ids(matching: filter, cancellation: cancellation) })
        }
    }

    /// Writes a snapshot of the whole collection (configuration and index), releases the log
    /// it covers while keeping what the previous snapshot needs (recovery falls back to it if
    /// the newest is damaged), and deletes snapshots beyond `retainedSnapshots`. Writes wait
    /// only while the state is copied, not while it is encoded and written; except with on-disk
    /// vectors, which are written from where they lie (a copy could exceed memory), so writes
    /// wait for the whole snapshot (searches do not).
    @discardableResult
    public func snapshot() throws -> SnapshotInfo {
        try snapshotting.withLock { _ in
            if collection.config.vectors == .disk {
                return try writeLock.withLock { closed in
                    let taken = try takeState(closed: closed, borrowingVectors: true)
                    return try write(taken)
                }
            }
            return try write(try writeLock.withLock { closed in try takeState(closed: closed, borrowingVectors: false) })
        }
    }

    /// What a snapshot holds, taken under `writeLock`; every logged write is applied first, so
    /// the state covers the whole log. An index a quarter of which came after its last reorder is
    /// reordered first (``HNSWIndex/reorderIfGrown(minimumNodes:)``), so the snapshot, and every
    /// open of it, holds the breadth-first order: an in-memory one as a copy while searches go on,
    /// an on-disk or tiered one in place while searches wait (a copy of its in-memory part would
    /// not fit where it is kept: a 1M x 128 int4 import inside 320 MiB was killed by the limit
    /// at its 800,000-point snapshot when it was copied).
    private func takeState(closed: Bool, borrowingVectors: Bool) throws
        -> (state: HNSWState, uuids: [UInt8], sequence: UInt64, debt: AutomaticSnapshots.Debt) {
        guard !closed else { throw StorageError(.closed, "the collection is closed") }
        let state = applier.sync {
            _ = try? collection.index.reorderIfGrown(minimumNodes: reorderMinimumNodes.load(ordering: .relaxed))
            return collection.index.exportState(borrowingVectors: borrowingVectors)
        }
        return (state, uuids.withLock { $0.encoded }, wal.nextSequenceNumber - 1, automaticSnapshots.take())
    }

    private func write(_ taken: (state: HNSWState, uuids: [UInt8], sequence: UInt64, debt: AutomaticSnapshots.Debt)) throws -> SnapshotInfo {
        let config = collection.config
        do {
            let sections = [SnapshotSection("config", bytes: CollectionCodec.encode(config))]
                + CollectionCodec.stateSections(taken.state) + [SnapshotSection("uuids", bytes: taken.uuids)]
            return try snapshots.checkpoint(sections: sections, coveringThrough: taken.sequence, wal: wal, options: options)
        } catch {
            automaticSnapshots.giveBack(taken.debt)     // not covered after all: owed again
            throw (error as? StorageError)?.during("snapshot of collection '\(config.name)'") ?? error
        }
    }

    /// What the log holds beyond the newest snapshot (what the next open would replay).
    public var unsnapshotted: AutomaticSnapshots.Debt { automaticSnapshots.debt }

    /// The snapshot files, newest first.
    public func listSnapshots() throws -> [SnapshotInfo] { try snapshots.list() }

    /// Opens snapshot file `name` for chunked reading (downloads).
    public func openSnapshot(_ name: String) throws -> SnapshotFileReader { try snapshots.open(name) }

    /// Log activity since open: records, bytes, device syncs; segment files now.
    public var logStatistics: (appends: Int, bytes: Int, syncs: Int, segments: Int) { wal.statistics }

    /// Applies queued writes, writes a snapshot first when at least `snapshotAfterLogBytes` of
    /// log came after the last one (so the next open replays little), then syncs and closes the
    /// log. Returns the snapshot written, if any.
    @discardableResult
    public func close(snapshotAfterLogBytes: Int) throws -> SnapshotInfo? {
        let snapshot = automaticSnapshots.debt.logBytes >= snapshotAfterLogBytes ? try self.snapshot() : nil
        try close()
        return snapshot
    }

    /// Applies queued writes, waits for a snapshot in progress, syncs and closes the log and
    /// releases the folder's lock. Later writes and snapshots throw `.closed`.
    public func close() throws {
        automaticSnapshots.close()
        defer { lock.release() }
        try snapshotting.withLock { _ in
            try writeLock.withLock { closed in
                closed = true
                applier.sync {}
                try wal.close()
            }
        }
    }
}

extension Duration {
    /// Whole nanoseconds (apply times).
    var wholeNanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
