import Storage

/// Where a node's persistent state lives: what a Ready says to persist is saved before its
/// messages are sent, and a restarting node loads it back.
public protocol RaftStorage {
    /// Persists a Ready's hard state, snapshot and entries (durably, before sending).
    mutating func save(_ ready: Ready) throws
    /// The node's persisted state, to construct a `RaftNode` after a restart.
    func load() throws -> (hardState: HardState, snapshot: Snapshot, entries: [Entry])
}

extension RaftStorage {
    /// Persists a snapshot the host made with `RaftNode.compact` (dropping the entries it covers).
    public mutating func saveCompaction(_ snapshot: Snapshot) throws {
        var ready = Ready()
        ready.snapshot = snapshot
        try save(ready)
    }
}

/// In memory (tests, simulators).
public struct MemoryRaftStorage: RaftStorage, Sendable {
    public private(set) var hardState = HardState()
    public private(set) var snapshot: Snapshot
    public private(set) var entries: [Entry] = []

    /// A node of a new group starts from the founding configuration.
    public init(founding: Configuration) {
        snapshot = Snapshot(index: 0, term: 0, configuration: founding, data: [])
    }

    public mutating func save(_ ready: Ready) throws {
        if let hard = ready.hardState { hardState = hard }
        if let new = ready.snapshot {
            snapshot = new
            entries.removeAll { $0.index <= new.index }
        }
        if let first = ready.entries.first {
            entries.removeAll { $0.index >= first.index }
            entries += ready.entries
        }
    }

    public func load() throws -> (hardState: HardState, snapshot: Snapshot, entries: [Entry]) {
        (hardState, snapshot, entries)
    }
}

/// On disk, through `Storage`'s write-ahead log: one record per hard state, entry batch or
/// snapshot, replayed in order at load (a later batch replaces the suffix it overlaps, a
/// snapshot drops what it covers). Appends are fsynced per the log's policy (`always` for
/// Raft: a vote or an acknowledged entry must survive a power loss).
public final class WALRaftStorage: RaftStorage, @unchecked Sendable {
    enum RecordType: UInt8 { case hardState = 1, entries = 2, snapshot = 3 }

    private let wal: WriteAheadLog
    private let founding: Configuration

    /// Opens (creating) the log in `directory`.
    public init(directory: String, founding: Configuration, syncPolicy: WALSyncPolicy = .always) throws {
        (wal, _) = try WriteAheadLog.open(directory: directory, options: WALOptions(syncPolicy: syncPolicy))
        self.founding = founding
    }

    public func save(_ ready: Ready) throws {
        if let hard = ready.hardState {
            var w = BinaryWriter()
            w.u64(hard.term); w.u64(hard.vote); w.u64(hard.commit)
            _ = try wal.append(type: RecordType.hardState.rawValue, payload: w.bytes)
        }
        if let snapshot = ready.snapshot {
            var w = BinaryWriter()
            w.u64(snapshot.index); w.u64(snapshot.term)
            Self.write(snapshot.configuration, &w)
            w.u64(UInt64(snapshot.data.count))
            var bytes = w.bytes
            bytes += snapshot.data
            _ = try wal.append(type: RecordType.snapshot.rawValue, payload: bytes)
        }
        if !ready.entries.isEmpty {
            var w = BinaryWriter()
            w.u64(UInt64(ready.entries.count))
            for entry in ready.entries { Self.write(entry, &w) }
            _ = try wal.append(type: RecordType.entries.rawValue, payload: w.bytes)
        }
    }

    public func load() throws -> (hardState: HardState, snapshot: Snapshot, entries: [Entry]) {
        var memory = MemoryRaftStorage(founding: founding)
        for record in try wal.read(from: 1) {
            var r = BinaryReader(record.payload)
            var ready = Ready()
            switch RecordType(rawValue: record.type) {
            case .hardState?: ready.hardState = HardState(term: try r.u64(), vote: try r.u64(), commit: try r.u64())
            case .entries?:
                for _ in 0..<(try r.count(elementBytes: 17)) { ready.entries.append(try Self.readEntry(&r)) }
            case .snapshot?:
                let index = try r.u64(), term = try r.u64()
                let configuration = try Self.readConfiguration(&r)
                let size = try r.count(elementBytes: 1)
                var data: [UInt8] = []
                for _ in 0..<size { data.append(try r.u8()) }
                ready.snapshot = Snapshot(index: index, term: term, configuration: configuration, data: data)
            case nil:
                throw StorageError(.corrupt, "unknown Raft record type \(record.type) at sequence \(record.sequence)")
            }
            try memory.save(ready)
        }
        return try memory.load()
    }

    /// Syncs and closes the log.
    public func close() throws { try wal.close() }

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

    private static func write(_ entry: Entry, _ w: inout BinaryWriter) {
        w.u64(entry.term); w.u64(entry.index)
        switch entry.payload {
        case .empty: w.u8(0)
        case .command(let bytes): w.u8(1); w.u64(UInt64(bytes.count)); for b in bytes { w.u8(b) }
        case .configuration(let change):
            switch change {
            case .addLearner(let id): w.u8(2); w.u64(id)
            case .addVoter(let id): w.u8(3); w.u64(id)
            case .remove(let id): w.u8(4); w.u64(id)
            }
        }
    }

    private static func readEntry(_ r: inout BinaryReader) throws -> Entry {
        let term = try r.u64(), index = try r.u64()
        let payload: Entry.Payload
        switch try r.u8() {
        case 0: payload = .empty
        case 1:
            var bytes: [UInt8] = []
            for _ in 0..<(try r.count(elementBytes: 1)) { bytes.append(try r.u8()) }
            payload = .command(bytes)
        case 2: payload = .configuration(.addLearner(try r.u64()))
        case 3: payload = .configuration(.addVoter(try r.u64()))
        case 4: payload = .configuration(.remove(try r.u64()))
        case let kind: throw StorageError(.corrupt, "unknown Raft entry kind \(kind)")
        }
        return Entry(term: term, index: index, payload: payload)
    }
}
