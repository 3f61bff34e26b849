#if canImport(Glibc)
import Glibc
#endif

/// How an engine made durable through a write-ahead log and snapshots keeps its files
/// (vector collections and the graph both take it).
public struct DurabilityOptions: Sendable {
    /// When a write is durable (see `WALSyncPolicy`).
    public var syncPolicy: WALSyncPolicy
    /// A snapshot is taken after this many bytes of log since the last one, so restart
    /// replays at most about this much (0 = only on request).
    public var autoSnapshotWALBytes: Int
    /// Snapshot files kept, newest first (older ones are deleted), at least 2 so a damaged
    /// newest snapshot can fall back to the previous one.
    public var retainedSnapshots: Int
    /// Clock for snapshot creation times (microseconds since the Unix epoch).
    public var now: @Sendable () -> Int64

    public init(syncPolicy: WALSyncPolicy = .always, autoSnapshotWALBytes: Int = 256 << 20, retainedSnapshots: Int = 3,
                now: @escaping @Sendable () -> Int64 = DurabilityOptions.unixMicros) {
        self.syncPolicy = syncPolicy
        self.autoSnapshotWALBytes = autoSnapshotWALBytes
        self.retainedSnapshots = max(2, retainedSnapshots)
        self.now = now
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
