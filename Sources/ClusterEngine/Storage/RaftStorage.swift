/// Where a node's persistent state lives: what a Ready says to persist is saved before its
/// messages are sent, and a restarting node loads it back.
public protocol RaftStorage {
    /// Persists a Ready's hard state, snapshot and entries (durably, before sending).
    mutating func save(_ ready: Ready) throws
    /// The node's persisted state, to construct a `RaftNode` after a restart.
    func load() throws -> (hardState: HardState, snapshot: Snapshot, entries: [Entry])
    /// Persists a snapshot the host made with `RaftNode.compact` (dropping the entries it covers).
    mutating func saveCompaction(_ snapshot: Snapshot) throws
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
            // Entries are consecutive: drop the suffix the new ones replace by position, not by
            // scanning every entry on every save.
            truncate(from: first.index)
            entries += ready.entries
        }
    }

    public func load() throws -> (hardState: HardState, snapshot: Snapshot, entries: [Entry]) {
        (hardState, snapshot, entries)
    }

    /// Drops the entries from `index` on (a storage rewriting its log after a compaction).
    public mutating func truncate(from index: UInt64) {
        guard let head = entries.first?.index, let tail = entries.last?.index, index <= tail else { return }
        guard index > head, Int(tail - head) + 1 == entries.count else {
            entries.removeAll { $0.index >= index }     // from the start, or not consecutive: scan
            return
        }
        entries.removeLast(Int(tail - index) + 1)
    }
}
