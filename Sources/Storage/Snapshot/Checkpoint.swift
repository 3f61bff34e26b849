#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// How an engine made durable through a write-ahead log and snapshots keeps its files
/// (vector collections and the graph both take it).
///
/// Restart time is replay time: the log written since the last snapshot is applied again
/// at open. Automatic snapshots bound it four ways, whichever comes first (each 0 = off):
/// log bytes, changes (points or graph elements), the time those changes took to apply
/// (replay redoes that work) and the age of the oldest unsnapshotted write. They run in the
/// background (`runInBackground`), never inside the write that made them due.
public struct DurabilityOptions: Sendable {
    /// When a write is durable (see `WALSyncPolicy`).
    public var syncPolicy: WALSyncPolicy
    /// A snapshot is taken after this many bytes of log since the last one (0 = off).
    public var autoSnapshotWALBytes: Int
    /// ... or once this many points (a collection) or nodes, relationships and hyperedges (the
    /// graph) were written or deleted since the last one (0 = off).
    public var autoSnapshotChanges: Int
    /// ... or once applying the writes since the last one took this many milliseconds in all,
    /// as measured when they were applied: replaying them at the next open redoes that work,
    /// so this is the replay time bound (0 = off). Collections measure it; the graph, whose
    /// replay applies change sets (no index work), is bounded by bytes and changes.
    public var autoSnapshotReplayMillis: Int
    /// ... or once this much time passed since the last snapshot and something was written
    /// (`.zero` = off).
    public var autoSnapshotInterval: Duration
    /// Threads the log replay at open may use to link replayed points (1 = one by one, as
    /// they were applied live: the recovered index is exactly the one before the restart;
    /// more links batches in parallel: faster, and the links then depend on thread timing).
    public var replayThreads: Int
    /// Snapshot files kept, newest first (older ones are deleted), at least 2 so a damaged
    /// newest snapshot can fall back to the previous one.
    public var retainedSnapshots: Int
    /// Size at which the write-ahead log starts a new segment file; snapshots release whole
    /// segments, so this is also the grain of what a snapshot frees.
    public var walSegmentSizeBytes: Int
    /// Clock for snapshot creation times (microseconds since the Unix epoch).
    public var now: @Sendable () -> Int64
    /// Runs background work (automatic snapshots) off the writer's thread; must not run the
    /// job on the calling thread. Default: one serial queue per options value, so the
    /// collections opened with it snapshot one at a time. A host passes its own bounded pool.
    public var runInBackground: @Sendable (@escaping @Sendable () -> Void) -> Void
    /// Told of every automatic snapshot, taken or failed (for the host's log).
    public var onAutomaticSnapshot: @Sendable (AutomaticSnapshotReport) -> Void

    /// Default log bytes between automatic snapshots.
    public static let defaultAutoSnapshotWALBytes = 256 << 20
    /// Default changes between automatic snapshots.
    public static let defaultAutoSnapshotChanges = 200_000
    /// Default apply (= replay) time between automatic snapshots.
    public static let defaultAutoSnapshotReplayMillis = 2_000
    /// Default age of unsnapshotted writes.
    public static let defaultAutoSnapshotInterval: Duration = .seconds(600)

    public init(syncPolicy: WALSyncPolicy = .always, autoSnapshotWALBytes: Int = defaultAutoSnapshotWALBytes,
                autoSnapshotChanges: Int = defaultAutoSnapshotChanges,
                autoSnapshotReplayMillis: Int = defaultAutoSnapshotReplayMillis,
                autoSnapshotInterval: Duration = defaultAutoSnapshotInterval, replayThreads: Int = 1, retainedSnapshots: Int = 3,
                walSegmentSizeBytes: Int = WALOptions().segmentSizeBytes, now: @escaping @Sendable () -> Int64 = DurabilityOptions.unixMicros,
                runInBackground: (@Sendable (@escaping @Sendable () -> Void) -> Void)? = nil,
                onAutomaticSnapshot: @escaping @Sendable (AutomaticSnapshotReport) -> Void = { _ in }) {
        self.syncPolicy = syncPolicy
        self.autoSnapshotWALBytes = autoSnapshotWALBytes
        self.autoSnapshotChanges = autoSnapshotChanges
        self.autoSnapshotReplayMillis = autoSnapshotReplayMillis
        self.autoSnapshotInterval = autoSnapshotInterval
        self.replayThreads = max(1, replayThreads)
        self.retainedSnapshots = max(2, retainedSnapshots)
        self.walSegmentSizeBytes = walSegmentSizeBytes
        self.now = now
        self.runInBackground = runInBackground ?? Self.serialQueue()
        self.onAutomaticSnapshot = onAutomaticSnapshot
    }

    /// Only snapshots on request: every automatic trigger off.
    public static func manualSnapshots(syncPolicy: WALSyncPolicy = .always, retainedSnapshots: Int = 3) -> DurabilityOptions {
        DurabilityOptions(syncPolicy: syncPolicy, autoSnapshotWALBytes: 0, autoSnapshotChanges: 0, autoSnapshotReplayMillis: 0,
                          autoSnapshotInterval: .zero, retainedSnapshots: retainedSnapshots)
    }

    /// A job runner on a new private serial queue.
    public static func serialQueue() -> @Sendable (@escaping @Sendable () -> Void) -> Void {
        let queue = DispatchQueue(label: "ruvector.storage.background")
        return { job in queue.async(execute: job) }
    }

    /// The wall clock in microseconds since the Unix epoch.
    @Sendable public static func unixMicros() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000_000 + Int64(time.tv_nsec) / 1000
    }
}

extension SnapshotStore {
    /// Writes a snapshot of `sections` covering everything `wal` has logged, releases the log
    /// segments the previous snapshot no longer needs (recovery falls back to it if the newest
    /// is damaged), and deletes snapshots beyond `options.retainedSnapshots`. Call holding the
    /// owner's write lock, so the sections and the log agree.
    @discardableResult
    public func checkpoint(sections: [(name: String, bytes: [UInt8])], wal: WriteAheadLog,
                           options: DurabilityOptions) throws(StorageError) -> SnapshotInfo {
        try checkpoint(sections: sections, coveringThrough: wal.nextSequenceNumber - 1, wal: wal, options: options)
    }

    /// The same for sections that hold the state as of log record `sequence` (the owner copied
    /// its state and read `wal.nextSequenceNumber - 1` under its write lock, then let writes go
    /// on while the copy is encoded and written). Callers serialize their checkpoints.
    @discardableResult
    public func checkpoint(sections: [(name: String, bytes: [UInt8])], coveringThrough sequence: UInt64, wal: WriteAheadLog,
                           options: DurabilityOptions) throws(StorageError) -> SnapshotInfo {
        try checkpoint(sections: sections.map { SnapshotSection($0.name, bytes: $0.bytes) }, coveringThrough: sequence,
                       wal: wal, options: options)
    }

    /// The same for sections of any content (arrays written as they lie in memory).
    @discardableResult
    public func checkpoint(sections: [SnapshotSection], coveringThrough sequence: UInt64, wal: WriteAheadLog,
                           options: DurabilityOptions) throws(StorageError) -> SnapshotInfo {
        let info = try write(sections: sections, walSequence: sequence, createdUnixMicros: options.now())
        let all = try list()
        if all.count >= 2 { try wal.releaseSegments(upTo: all[1].walSequence) }
        for old in all.dropFirst(options.retainedSnapshots) { try remove(old.name) }
        return info
    }
}

extension Duration {
    /// Whole microseconds (for the time reports of logs and responses).
    public var wholeMicroseconds: Int64 {
        components.seconds * 1_000_000 + components.attoseconds / 1_000_000_000_000
    }
}
