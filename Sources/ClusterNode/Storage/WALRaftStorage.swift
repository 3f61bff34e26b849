import ClusterEngine
import Storage

/// A node's Raft state on disk, through `Storage`'s write-ahead log: one record per hard
/// state, entry batch or snapshot, replayed in order at load (a later batch replaces the
/// suffix it overlaps, a snapshot drops what it covers). Appends are fsynced per the log's
/// policy (`always` for Raft: a vote or an acknowledged entry must survive a power loss).
///
/// A compaction (`saveCompaction`) writes the snapshot, then the live suffix and hard state
/// again, so every older segment can be deleted: the log on disk stays about the size of the
/// state it holds. A copy of that state is kept in memory for the rewrite (Raft state here is
/// the cluster's metadata log: small).
public final class WALRaftStorage: RaftStorage, @unchecked Sendable {
    /// `ready` holds a whole Ready (hard state, snapshot, entries) in one record: one fsync,
    /// and never half of it on disk. Types 1-3 are read too (logs written record by record).
    enum RecordType: UInt8 { case hardState = 1, entries = 2, snapshot = 3, suffix = 4, ready = 5 }

    private let wal: WriteAheadLog
    private var state: MemoryRaftStorage

    /// Opens (creating) the log in `directory` and loads it. `segmentSizeBytes` bounds what a
    /// compaction leaves behind besides the live state.
    public init(directory: String, founding: Configuration, syncPolicy: WALSyncPolicy = .always,
                segmentSizeBytes: Int = 4 << 20) throws {
        (wal, _) = try WriteAheadLog.open(directory: directory,
                                          options: WALOptions(segmentSizeBytes: segmentSizeBytes, syncPolicy: syncPolicy))
        state = MemoryRaftStorage(founding: founding)
        for record in try wal.read(from: 1) {
            var r = BinaryReader(record.payload)
            do {
                try Self.replay(RecordType(rawValue: record.type), &r, into: &state)
            } catch let error as BinaryReader.Truncated {
                throw StorageError(.corrupt, "Raft record \(record.sequence) is cut short (\(error))")
            }
        }
    }

    /// True when nothing was ever saved (a node that has not bootstrapped or joined yet).
    public var isEmpty: Bool { wal.nextSequenceNumber == 1 }

    public func save(_ ready: Ready) throws {
        guard ready.hardState != nil || ready.snapshot != nil || !ready.entries.isEmpty else { return }
        var w = BinaryWriter()
        w.u8((ready.hardState != nil ? 1 : 0) | (ready.snapshot != nil ? 2 : 0))
        if let hard = ready.hardState { w.u64(hard.term); w.u64(hard.vote); w.u64(hard.commit) }
        if let snapshot = ready.snapshot { Self.write(snapshot, &w) }
        Self.write(ready.entries, &w)
        _ = try wal.append(type: RecordType.ready.rawValue, payload: w.bytes)
        try state.save(ready)
    }

    public func load() throws -> (hardState: HardState, snapshot: ClusterEngine.Snapshot, entries: [Entry]) {
        try state.load()
    }

    /// Persists a snapshot the host made with `RaftNode.compact`, rewrites the entries after it
    /// and the hard state, and deletes the segments the rewrite made useless.
    public func saveCompaction(_ snapshot: ClusterEngine.Snapshot) throws {
        var ready = Ready()
        ready.snapshot = snapshot
        try state.save(ready)
        let sequence = try appendSnapshot(snapshot)
        var w = BinaryWriter()
        w.u64(snapshot.index + 1)
        Self.write(state.entries, &w)
        _ = try wal.append(type: RecordType.suffix.rawValue, payload: w.bytes)
        var hard = BinaryWriter()
        hard.u64(state.hardState.term); hard.u64(state.hardState.vote); hard.u64(state.hardState.commit)
        _ = try wal.append(type: RecordType.hardState.rawValue, payload: hard.bytes)
        try wal.releaseSegments(upTo: sequence - 1)
    }

    /// Syncs and closes the log.
    public func close() throws { try wal.close() }

    @discardableResult
    private func appendSnapshot(_ snapshot: Snapshot) throws -> UInt64 {
        var w = BinaryWriter()
        Self.write(snapshot, &w)
        return try wal.append(type: RecordType.snapshot.rawValue, payload: w.bytes)
    }

    private static func write(_ snapshot: Snapshot, _ w: inout BinaryWriter) {
        w.u64(snapshot.index); w.u64(snapshot.term)
        write(snapshot.configuration, &w)
        w.u8s(snapshot.data)
    }

    private static func readSnapshot(_ r: inout BinaryReader) throws -> Snapshot {
        let index = try r.u64(), term = try r.u64()
        let configuration = try readConfiguration(&r)
        return Snapshot(index: index, term: term, configuration: configuration, data: try r.u8s())
    }

    private static func replay(_ type: RecordType?, _ r: inout BinaryReader, into state: inout MemoryRaftStorage) throws {
        var ready = Ready()
        switch type {
        case .hardState?: ready.hardState = HardState(term: try r.u64(), vote: try r.u64(), commit: try r.u64())
        case .entries?: ready.entries = try readEntries(&r)
        case .snapshot?:
            ready.snapshot = try readSnapshot(&r)
        case .ready?:
            let parts = try r.u8()
            if parts & 1 != 0 { ready.hardState = HardState(term: try r.u64(), vote: try r.u64(), commit: try r.u64()) }
            if parts & 2 != 0 { ready.snapshot = try readSnapshot(&r) }
            ready.entries = try readEntries(&r)
        case .suffix?:
            let first = try r.u64()
            state.truncate(from: first)
            ready.entries = try readEntries(&r)
        case nil:
            throw StorageError(.corrupt, "unknown Raft record type")
        }
        try state.save(ready)
    }

    private static func write(_ configuration: Configuration, _ w: inout BinaryWriter) {
        w.u64(UInt64(configuration.voters.count)); for id in configuration.voters.sorted() { w.u64(id) }
        w.u64(UInt64(configuration.learners.count)); for id in configuration.learners.sorted() { w.u64(id) }
    }

    private static func readConfiguration(_ r: inout BinaryReader) throws -> Configuration {
        var voters = Set<NodeID>(), learners = Set<NodeID>()
        for _ in 0..<(try r.count(elementBytes: 8)) { voters.insert(try r.u64()) }
        for _ in 0..<(try r.count(elementBytes: 8)) { learners.insert(try r.u64()) }
        return Configuration(voters: voters, learners: learners)
    }

    private static func write(_ entries: [Entry], _ w: inout BinaryWriter) {
        w.u64(UInt64(entries.count))
        for entry in entries {
            w.u64(entry.term); w.u64(entry.index)
            switch entry.payload {
            case .empty: w.u8(0)
            case .command(let bytes): w.u8(1); w.u8s(bytes)
            case .configuration(let change):
                switch change {
                case .addLearner(let id): w.u8(2); w.u64(id)
                case .addVoter(let id): w.u8(3); w.u64(id)
                case .remove(let id): w.u8(4); w.u64(id)
                }
            }
        }
    }

    private static func readEntries(_ r: inout BinaryReader) throws -> [Entry] {
        var entries: [Entry] = []
        for _ in 0..<(try r.count(elementBytes: 17)) {
            let term = try r.u64(), index = try r.u64()
            let payload: Entry.Payload
            switch try r.u8() {
            case 0: payload = .empty
            case 1: payload = .command(try r.u8s())
            case 2: payload = .configuration(.addLearner(try r.u64()))
            case 3: payload = .configuration(.addVoter(try r.u64()))
            case 4: payload = .configuration(.remove(try r.u64()))
            case let kind: throw StorageError(.corrupt, "unknown Raft entry kind \(kind)")
            }
            entries.append(Entry(term: term, index: index, payload: payload))
        }
        return entries
    }
}
