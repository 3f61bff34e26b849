import GraphEngine
import Storage
import Synchronization
import WorkControl

/// A property graph that survives restarts and crashes, with transactions. Every commit
/// (an auto-commit query, or a transaction) writes the changes it made to the write-ahead
/// log before they become visible; snapshots hold the whole store; opening = newest valid
/// snapshot + the log after it. Folder layout: `wal/`, `snapshots/`, `LOCK` (an open
/// database holds its folder's `DirectoryLock`: a second open is refused). Automatic
/// snapshots (see `DurabilityOptions`) run in the background, beside the commits.
///
/// Reads run on a snapshot of the committed state without blocking writers. Isolation
/// levels (see `Isolation`) are implemented over snapshots and change sets:
/// - read committed: each statement sees the latest committed state plus the
///   transaction's own changes; commit applies the changes (the last writer wins).
/// - repeatable read: snapshot isolation: every statement sees the state as of begin plus
///   its own changes; commit aborts if another commit changed an element this one changed.
/// - serializable: as repeatable read, and a transaction that wrote anything aborts at
///   commit if any other commit happened since it began (optimistic, first committer wins).
public final class DurableGraphDatabase: Sendable {
    /// Transaction isolation levels.
    public enum Isolation: Sendable, Equatable {
        case readCommitted, repeatableRead, serializable
    }

    /// How the database keeps its files.
    public typealias Options = DurabilityOptions

    /// What opening found.
    public typealias RecoveryReport = Storage.RecoveryReport

    /// The result of one operation: its value, what it changed, and the store it saw (to
    /// resolve node and relationship references in results).
    public struct Outcome<T: Sendable>: Sendable {
        public var value: T
        public var counts: GraphChangeCounts
        public var store: GraphStore
    }

    struct Transaction: Sendable {
        let isolation: Isolation
        /// The committed state at begin (repeatable read, serializable).
        let base: GraphDatabase
        /// The transaction's view (repeatable read, serializable).
        var working: GraphDatabase
        var changes = GraphChanges()
        let baseVersion: Int
        /// Next id for creations, and the end of the transaction's reserved id range.
        var nextId: Int
        let idLimit: Int
        let idleTimeout: Duration
        var lastUsed: ContinuousClock.Instant
        var busy = false
    }

    struct State: Sendable {
        var committed: GraphDatabase
        var version = 0
        var transactions: [String: Transaction] = [:]
        var closed = false
    }

    private let state: Mutex<State>
    /// Serializes snapshots (which encode and write outside `state`'s lock).
    private let snapshotting = Mutex(())
    private let wal: WriteAheadLog
    private let snapshots: SnapshotStore
    private let options: Options
    /// The folder's lock, held until `close`.
    private let lock: DirectoryLock
    /// What the log holds beyond the last snapshot, and the background snapshot job.
    private let automaticSnapshots: AutomaticSnapshots
    /// What opening found.
    public let recovery: RecoveryReport

    private init(state: State, wal: WriteAheadLog, snapshots: SnapshotStore, options: Options, lock: DirectoryLock,
                 directory: String, recovery: RecoveryReport) {
        self.state = Mutex(state)
        self.wal = wal
        self.snapshots = snapshots
        self.options = options
        self.lock = lock
        self.recovery = recovery
        automaticSnapshots = AutomaticSnapshots(options: options, directory: directory)
        automaticSnapshots.start { [weak self] in try self?.snapshot() }
        // What recovery replayed is still not in a snapshot.
        if recovery.replayedRecords > 0 {
            automaticSnapshots.logged(bytes: recovery.replayedBytes, changes: recovery.replayedChanges)
            automaticSnapshots.scheduleIfDue()
        }
    }

    /// Opens (creating if needed) the graph in `directory`: newest valid snapshot, then the log.
    /// Throws `.locked` when the folder is open already (here or in another process).
    /// `wallClock` is what `datetime()` and its siblings read (once per query); tests fix it.
    public static func open(_ directory: String, options: Options = Options(),
                            wallClock: WallClock = .system) throws -> DurableGraphDatabase {
        let started = ContinuousClock.now
        try AtomicFile.createDirectory(directory)
        let lock = try DirectoryLock(directory: directory, owner: "ruvector graph")
        let snapshots = try SnapshotStore(directory: directory + "/snapshots")
        let (snapshot, skipped) = try snapshots.loadLatestValid()
        var store = GraphStore()
        var definitions: [VectorIndexDefinition] = []
        var propertyIndexes: [(name: String, key: PropertyIndexes.Key)] = []
        if let bytes = snapshot?.sections["graph"] { try store.apply(try GraphCodec.decode(bytes)) }
        if let bytes = snapshot?.sections["indexes"] { definitions = try GraphCodec.decodeDefinitions(bytes) }
        if let bytes = snapshot?.sections["propertyIndexes"] { propertyIndexes = try GraphCodec.decodePropertyIndexes(bytes) }
        let loaded = ContinuousClock.now
        let walOptions = WALOptions(segmentSizeBytes: options.walSegmentSizeBytes, syncPolicy: options.syncPolicy)
        let (wal, walReport) = try WriteAheadLog.open(directory: directory + "/wal", options: walOptions)
        let walOpened = ContinuousClock.now
        let after = snapshot?.info.walSequence ?? 0
        var replayed = 0
        var replayedBytes = 0
        var replayedChanges = 0
        for record in try wal.read(from: after + 1) {
            replayedBytes += record.payload.count
            switch record.type {
            case RecordType.changes:
                let changes = try GraphCodec.decode(record.payload)
                replayedChanges += changes.elementCount
                try store.apply(changes)
            case RecordType.indexCreated: definitions += try GraphCodec.decodeDefinitions(record.payload)
            case RecordType.propertyIndexCreated: propertyIndexes += try GraphCodec.decodePropertyIndexes(record.payload)
            default: throw GraphCodec.Damaged(description: "unknown graph log record type \(record.type) at sequence \(record.sequence)")
            }
            replayed += 1
        }
        // Ids start at 1: 0 means "none" in the API (e.g. QueryHyperedges' node_id).
        if store.nextElementId == 0 { _ = store.reserveIds(1) }
        var database = GraphDatabase(store: store)
        database.wallClock = wallClock
        database.leaveVectorIndexesToCommit()
        for definition in definitions { try database.createVectorIndex(definition) }
        for index in propertyIndexes { try database.createPropertyIndex(name: index.name, index.key) }
        let report = RecoveryReport(snapshotSequence: after, skippedSnapshots: skipped, replayedRecords: replayed,
                                    replayedBytes: replayedBytes, replayedChanges: replayedChanges, wal: walReport,
                                    started: started, snapshotLoaded: loaded, walOpened: walOpened, finished: ContinuousClock.now)
        return DurableGraphDatabase(state: State(committed: database), wal: wal, snapshots: snapshots, options: options,
                                    lock: lock, directory: directory, recovery: report)
    }

    /// WAL record types.
    enum RecordType {
        /// A commit's `GraphChanges`.
        static let changes: UInt8 = 1
        /// A created vector index (its definition).
        static let indexCreated: UInt8 = 2
        /// A created property index (name, label, property).
        static let propertyIndexCreated: UInt8 = 3
    }

    // MARK: Vector indexes

    /// Creates a vector index on nodes, fills it from the committed graph (commits wait
    /// meanwhile), and logs its definition. Throws `.conflict` if the name is taken.
    public func createVectorIndex(_ definition: VectorIndexDefinition) throws {
        try state.withLock { state throws in
            try state.committed.createVectorIndex(definition)
            do {
                let record = GraphCodec.encode([definition])
                _ = try wal.append(type: RecordType.indexCreated, payload: record)
                automaticSnapshots.logged(bytes: record.count, changes: 0)
            } catch {
                state.committed.vectorIndexes.drop(definition.name)
                throw error
            }
        }
    }

    /// Creates an equality index on a node property, fills it from the committed graph
    /// (commits wait meanwhile) and logs its definition. Throws `.conflict` if the name or
    /// the (label, property) pair is taken. Transactions begun before see it at commit.
    public func createPropertyIndex(name: String, _ key: PropertyIndexes.Key) throws {
        try state.withLock { state throws in
            var next = state.committed
            try next.createPropertyIndex(name: name, key)
            let record = GraphCodec.encode([(name: name, key: key)])
            _ = try wal.append(type: RecordType.propertyIndexCreated, payload: record)
            state.committed = next
            automaticSnapshots.logged(bytes: record.count, changes: 0)
        }
    }

    /// The property indexes of the committed graph, by name, with the nodes each holds.
    public var propertyIndexes: [(name: String, key: PropertyIndexes.Key, entries: Int)] {
        let indexes = state.withLock { $0.committed.store.propertyIndexes }
        return indexes.definitions.map { ($0.name, $0.key, indexes.count($0.key)) }
    }

    /// The vector indexes (definitions and entry counts).
    public var vectorIndexes: GraphVectorIndexes { state.withLock { $0.committed.vectorIndexes } }

    /// Runs a hybrid (vector + graph) search on the committed graph, or inside transaction
    /// `transaction` (the index follows committed data; hits are checked against the
    /// transaction's view). See `GraphDatabase.hybridSearch` (and for `bounds`, `candidates` and `reorder`).
    public func hybridSearch(index: String, vector: [Float], k: Int, filter: String = "", parameters: [String: Value] = [:],
                             expandDepth: Int = 0, deadline: ContinuousClock.Instant? = nil,
                             bounds: WorkBounds = .unbounded(work: "the hybrid search"),
                             transaction: String? = nil, candidates: Int = 0,
                             reorder: ((_ seeds: [VectorIndexHit]) throws(GraphError) -> [VectorIndexHit])? = nil) throws -> Outcome<[HybridHit]> {
        let work: (inout GraphDatabase) throws(GraphError) -> [HybridHit] = { database throws(GraphError) in
            try database.hybridSearch(index: index, vector: vector, k: k, filter: filter, parameters: parameters,
                                      expandDepth: expandDepth, deadline: deadline, bounds: bounds,
                                      candidates: candidates, reorder: reorder)
        }
        if let transaction { return try perform(transaction: transaction, work) }
        return try perform(work)
    }

    /// The committed store (a snapshot; reading it never blocks writers).
    public var committedStore: GraphStore { state.withLock { $0.committed.store } }

    // MARK: Auto-commit

    /// Runs a Cypher query as its own transaction (`randomSeed`, `bounds` and `sink`: see
    /// `GraphDatabase.execute`; a read-only query streams from its snapshot, a write's rows
    /// come back in the outcome once committed, still charged to `bounds.memory`).
    public func execute(_ query: String, parameters: [String: Value] = [:],
                        deadline: ContinuousClock.Instant? = nil, randomSeed: UInt64 = 0,
                        bounds: WorkBounds = .unbounded(work: "the query"),
                        streamingReadsTo sink: ((QueryStreamEvent) throws(GraphError) -> Void)? = nil) throws -> Outcome<QueryResult> {
        // A write that lost the race to commit runs again: the first run's rows are dropped.
        var previousBytes = 0
        return try perform { database throws(GraphError) in
            bounds.memory.refund(previousBytes)
            let result = try database.execute(query, parameters: parameters, deadline: deadline, randomSeed: randomSeed,
                                              bounds: bounds, streamingReadsTo: sink)
            previousBytes = result.memoryBytes
            return result
        }
    }

    /// Runs `work` as its own transaction: first on a snapshot without holding the lock; if it
    /// changed something and another commit came first, once more holding the lock (so it
    /// always finishes, and never applies changes computed from a stale state).
    public func perform<T: Sendable>(_ work: (inout GraphDatabase) throws(GraphError) -> T) throws -> Outcome<T> {
        let (snapshot, version) = state.withLock { ($0.committed, $0.version) }
        var working = snapshot
        let value = try work(&working)
        let changes = working.takeChanges()
        if changes.isEmpty { return Outcome(value: value, counts: GraphChangeCounts(), store: working.store) }
        let committed = try state.withLock { state throws -> Bool in
            guard state.version == version else { return false }
            try commitLocked(changes, result: working, state: &state)
            return true
        }
        if committed {
            snapshotIfDue()
            return Outcome(value: value, counts: changes.counts(against: snapshot.store), store: working.store)
        }
        let outcome = try state.withLock { state throws -> Outcome<T> in
            let before = state.committed
            var working = before
            let value = try work(&working)
            let changes = working.takeChanges()
            if !changes.isEmpty { try commitLocked(changes, result: working, state: &state) }
            return Outcome(value: value, counts: changes.counts(against: before.store), store: working.store)
        }
        snapshotIfDue()
        return outcome
    }

    /// Logs `changes` and installs `result` as the committed state (call holding the lock).
    private func commitLocked(_ changes: GraphChanges, result: GraphDatabase, state: inout State) throws {
        let record = GraphCodec.encode(changes)
        _ = try wal.append(type: RecordType.changes, payload: record)
        state.committed = result
        state.committed.vectorIndexes.apply(changes, from: result.store)
        state.committed.markVectorIndexesCurrent()
        state.version += 1
        automaticSnapshots.logged(bytes: record.count, changes: changes.elementCount)
    }

    // MARK: Transactions

    /// Starts a transaction; returns its id. Transactions idle longer than `idleTimeout` are
    /// rolled back.
    public func begin(_ isolation: Isolation, idleTimeout: Duration = .seconds(60)) -> String {
        var generator = SystemRandomNumberGenerator()
        let id = (0..<2).map { _ in String(generator.next() as UInt64, radix: 16) }.joined(separator: "-")
        state.withLock { state in
            Self.sweepExpired(&state)
            let ids = state.committed.withStoreReservingIds()
            var working = state.committed
            working.useIds(ids)
            state.transactions[id] = Transaction(isolation: isolation, base: state.committed, working: working,
                                                 baseVersion: state.version, nextId: ids.lowerBound, idLimit: ids.upperBound,
                                                 idleTimeout: idleTimeout, lastUsed: .now)
        }
        return id
    }

    /// Open transactions (for tests and metrics).
    public var openTransactions: Int { state.withLock { Self.sweepExpired(&$0); return $0.transactions.count } }

    private static func sweepExpired(_ state: inout State) {
        let now = ContinuousClock.now
        state.transactions = state.transactions.filter { _, tx in tx.busy || now - tx.lastUsed < tx.idleTimeout }
    }

    /// Runs a Cypher query inside transaction `id` (bounded by `bounds`, as `execute`).
    public func execute(_ query: String, parameters: [String: Value] = [:], deadline: ContinuousClock.Instant? = nil,
                        randomSeed: UInt64 = 0, bounds: WorkBounds = .unbounded(work: "the query"),
                        streamingReadsTo sink: ((QueryStreamEvent) throws(GraphError) -> Void)? = nil,
                        transaction id: String) throws -> Outcome<QueryResult> {
        try perform(transaction: id) { database throws(GraphError) in
            try database.execute(query, parameters: parameters, deadline: deadline, randomSeed: randomSeed,
                                 bounds: bounds, streamingReadsTo: sink)
        }
    }

    /// Runs `work` inside transaction `id` (one call at a time per transaction).
    public func perform<T: Sendable>(transaction id: String,
                                     _ work: (inout GraphDatabase) throws(GraphError) -> T) throws -> Outcome<T> {
        var tx = try state.withLock { state throws -> Transaction in
            Self.sweepExpired(&state)
            guard var tx = state.transactions[id] else { throw Self.noTransaction(id) }
            guard !tx.busy else {
                throw GraphError(.runtime, "transaction '\(id)' is running another call; send its calls one at a time")
            }
            tx.busy = true
            state.transactions[id] = tx
            if tx.isolation == .readCommitted {
                // The latest committed state plus this transaction's own changes.
                var view = state.committed
                view.useIds(tx.nextId..<tx.idLimit)
                do throws(GraphError) {
                    try view.applyUncommitted(tx.changes)
                } catch {
                    state.transactions[id] = nil
                    throw GraphError(.conflict, "transaction '\(id)' was rolled back: \(error.message)")
                }
                tx.working = view
            }
            return tx
        }
        let before = tx.working.store
        let value: T
        do {
            value = try work(&tx.working)
        } catch {
            state.withLock { state in
                if state.transactions[id] != nil {
                    state.transactions[id]?.busy = false
                    state.transactions[id]?.lastUsed = ContinuousClock.now
                }
            }
            throw error
        }
        let changes = tx.working.takeChanges()
        tx.changes.merge(changes)
        tx.nextId = tx.working.store.nextElementId
        tx.busy = false
        tx.lastUsed = .now
        let store = tx.working.store
        try state.withLock { state throws in
            guard state.transactions[id] != nil else { throw Self.noTransaction(id) }
            state.transactions[id] = tx
        }
        return Outcome(value: value, counts: changes.counts(against: before), store: store)
    }

    /// Commits transaction `id`; returns the log sequence of its commit record (0 when it
    /// changed nothing). Throws `.conflict` when its isolation level forbids the commit (it is
    /// then rolled back; retry it).
    @discardableResult
    public func commit(_ id: String) throws -> UInt64 {
        let sequence = try state.withLock { state throws -> UInt64 in
            Self.sweepExpired(&state)
            guard let tx = state.transactions[id] else { throw Self.noTransaction(id) }
            guard !tx.busy else { throw GraphError(.runtime, "transaction '\(id)' is running another call; commit after it returns") }
            state.transactions[id] = nil
            if tx.changes.isEmpty { return 0 }
            switch tx.isolation {
            case .serializable:
                guard state.version == tx.baseVersion else {
                    throw GraphError(.conflict, "serializable transaction '\(id)' conflicts with \(state.version - tx.baseVersion) commit(s) made since it began; it was rolled back, retry it")
                }
            case .repeatableRead:
                if let element = Self.firstWriteConflict(tx.changes, base: tx.base.store, now: state.committed.store) {
                    throw GraphError(.conflict, "transaction '\(id)' changed \(element), which another commit changed since it began; it was rolled back, retry it")
                }
            case .readCommitted:
                break
            }
            var next = state.committed
            do throws(GraphError) {
                try next.withStore { store throws(GraphError) in try store.apply(tx.changes) }
            } catch {
                throw GraphError(.conflict, "transaction '\(id)' was rolled back: \(error.message)")
            }
            try commitLocked(tx.changes, result: next, state: &state)
            return wal.nextSequenceNumber - 1
        }
        snapshotIfDue()
        return sequence
    }

    /// Rolls transaction `id` back (nothing it did is kept).
    public func rollback(_ id: String) throws {
        try state.withLock { state throws in
            guard let tx = state.transactions.removeValue(forKey: id) else { throw Self.noTransaction(id) }
            if tx.busy { state.transactions[id] = tx; throw GraphError(.runtime, "transaction '\(id)' is running another call") }
        }
    }

    private static func noTransaction(_ id: String) -> GraphError {
        GraphError(.notFound, "no open transaction \(MessageText.quoted(id)): it was committed, rolled back, or idle past its timeout")
    }

    /// The first element `changes` touches that another commit changed since `base`.
    private static func firstWriteConflict(_ changes: GraphChanges, base: GraphStore, now: GraphStore) -> String? {
        for id in changes.nodes.keys.sorted() where base.node(id) != now.node(id) { return "node \(id)" }
        for id in changes.relationships.keys.sorted() where base.relationship(id) != now.relationship(id) { return "relationship \(id)" }
        for id in changes.hyperedges.keys.sorted() where base.hyperedge(id) != now.hyperedge(id) { return "hyperedge \(id)" }
        return nil
    }

    // MARK: Snapshots

    /// Hands an automatic snapshot to the background when a bound is reached (after a commit,
    /// outside the lock: the committing client never waits for it).
    private func snapshotIfDue() {
        automaticSnapshots.scheduleIfDue()
    }

    /// Writes a snapshot of the committed store and releases the log it covers. Commits wait
    /// only while the committed state is taken (a copy-on-write value), not while it is
    /// encoded and written.
    @discardableResult
    public func snapshot() throws -> SnapshotInfo {
        try snapshotting.withLock { _ in
            let (store, definitions, sequence, debt) = try state.withLock { state in
                guard !state.closed else { throw StorageError(.closed, "the graph is closed") }
                // Definitions too: an index created after this point is in the log after `sequence`.
                return (state.committed.store, state.committed.vectorIndexes.definitions, wal.nextSequenceNumber - 1,
                        automaticSnapshots.take())
            }
            do {
                let sections = [(name: "graph", bytes: GraphCodec.encode(store.everything)),
                                (name: "indexes", bytes: GraphCodec.encode(definitions)),
                                (name: "propertyIndexes", bytes: GraphCodec.encode(store.propertyIndexes.definitions))]
                return try snapshots.checkpoint(sections: sections, coveringThrough: sequence, wal: wal, options: options)
            } catch {
                automaticSnapshots.giveBack(debt)
                throw error
            }
        }
    }

    /// What the log holds beyond the newest snapshot (what the next open would replay).
    public var unsnapshotted: AutomaticSnapshots.Debt { automaticSnapshots.debt }

    /// Waits for a snapshot in progress, syncs and closes the log and releases the folder's
    /// lock. Later commits and snapshots throw `.closed`.
    public func close() throws {
        automaticSnapshots.close()
        defer { lock.release() }
        try snapshotting.withLock { _ in
            try state.withLock { state in
                state.closed = true
                try wal.close()
            }
        }
    }
}

extension GraphChanges {
    /// Nodes, relationships and hyperedges written or deleted.
    var elementCount: Int { nodes.count + relationships.count + hyperedges.count }
}

extension GraphDatabase {
    /// Reserves a transaction's id range in this (committed) database.
    fileprivate mutating func withStoreReservingIds() -> Range<Int> {
        withStore { store in store.reserveIds() }
    }

    /// Makes creations use ids from `range` only.
    fileprivate mutating func useIds(_ range: Range<Int>) {
        withStore { store in store.useIds(range) }
    }
}
