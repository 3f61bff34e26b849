/// What opening a durable store (a collection, the graph) found and did: the snapshot loaded,
/// the log replayed after it, and how long each part took. One type for every store, so the
/// server logs and measures recovery the same way whatever was recovered.
public struct RecoveryReport: Sendable {
    /// WAL sequence of the snapshot loaded (0 = none).
    public var snapshotSequence: UInt64
    /// Newer snapshots that were damaged and skipped.
    public var skippedSnapshots: [String]
    /// WAL records replayed after the snapshot.
    public var replayedRecords: Int
    /// Their bytes.
    public var replayedBytes: Int
    /// Elements they changed (points upserted or deleted; graph nodes, relationships, hyperedges).
    public var replayedChanges: Int
    /// What the WAL repair found (a torn tail is cut, and said so here).
    public var wal: WALRecoveryReport
    /// Time to open: snapshot load and log replay, in microseconds.
    public var durationMicros: Int64
    /// Part of it spent reading, checking and decoding the snapshot.
    public var snapshotLoadMicros: Int64
    /// Part of it spent opening (checking) the log.
    public var walOpenMicros: Int64
    /// Part of it spent reading and applying the log records after the snapshot.
    public var replayMicros: Int64

    /// A report; the phases are measured between `started`, `snapshotLoaded`, `walOpened` and `finished`.
    public init(snapshotSequence: UInt64, skippedSnapshots: [String], replayedRecords: Int, replayedBytes: Int, replayedChanges: Int,
                wal: WALRecoveryReport, started: ContinuousClock.Instant, snapshotLoaded: ContinuousClock.Instant,
                walOpened: ContinuousClock.Instant, finished: ContinuousClock.Instant) {
        self.snapshotSequence = snapshotSequence
        self.skippedSnapshots = skippedSnapshots
        self.replayedRecords = replayedRecords
        self.replayedBytes = replayedBytes
        self.replayedChanges = replayedChanges
        self.wal = wal
        durationMicros = (finished - started).wholeMicroseconds
        snapshotLoadMicros = (snapshotLoaded - started).wholeMicroseconds
        walOpenMicros = (walOpened - snapshotLoaded).wholeMicroseconds
        replayMicros = (finished - walOpened).wholeMicroseconds
    }
}
