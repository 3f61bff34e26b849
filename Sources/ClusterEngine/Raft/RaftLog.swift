/// A node's log: a snapshot standing in for a compacted prefix, then the entries after it.
/// Tracks what is persisted (`stable`), committed and handed to the application.
struct RaftLog: Sendable {
    private(set) var snapshot: Snapshot
    private(set) var entries: [Entry]
    var committed: UInt64
    /// Handed to the application (in a Ready) up to here.
    var applied: UInt64
    /// Persisted up to here (entries after it are in the next Ready).
    var stable: UInt64
    /// A snapshot received from the leader, not yet handed to the host.
    var pendingSnapshot: Snapshot?
    /// Set when an append dropped a conflicting suffix (the owner recomputes what depends on it).
    var truncated = false

    init(snapshot: Snapshot, entries: [Entry], committed: UInt64) {
        self.snapshot = snapshot
        self.entries = entries
        self.committed = min(max(committed, snapshot.index), snapshot.index + UInt64(entries.count))
        applied = snapshot.index
        stable = snapshot.index + UInt64(entries.count)
    }

    var firstIndex: UInt64 { snapshot.index + 1 }
    var lastIndex: UInt64 { snapshot.index + UInt64(entries.count) }
    var lastTerm: UInt64 { term(lastIndex) ?? 0 }

    /// The term of entry `index`, nil when it is compacted away or not there yet.
    func term(_ index: UInt64) -> UInt64? {
        if index == snapshot.index { return snapshot.term }
        guard index > snapshot.index, index <= lastIndex else { return nil }
        return entries[Int(index - snapshot.index - 1)].term
    }

    /// Is a log ending at (`index`, `term`) at least as up to date as this one (§5.4.1)?
    func isUpToDate(index: UInt64, term: UInt64) -> Bool {
        term > lastTerm || (term == lastTerm && index >= lastIndex)
    }

    /// Entries in `from...to`, at most `limit` of them (from must be > snapshot index).
    func slice(from: UInt64, to: UInt64, limit: Int = .max) -> [Entry] {
        guard from <= to, from > snapshot.index, to <= lastIndex else { return [] }
        let start = Int(from - snapshot.index - 1)
        return Array(entries[start..<(start + min(Int(to - from + 1), limit))])
    }

    /// The first index of the term of entry `index` (for a follower's fast back-off hint).
    func firstIndex(ofTermAt index: UInt64) -> UInt64 {
        guard let t = term(index) else { return firstIndex }
        var i = index
        while i > firstIndex, term(i - 1) == t { i -= 1 }
        return i
    }

    mutating func append(_ new: [Entry]) { entries += new }

    /// A follower's append (§5.3): if the entry before `new` matches, drop any conflicting
    /// suffix, append what is new, and advance the commit index. Returns the index of the
    /// last entry known to match the leader, or nil on a mismatch.
    mutating func maybeAppend(previousIndex: UInt64, previousTerm: UInt64, _ new: [Entry], commit: UInt64) -> UInt64? {
        guard term(previousIndex) == previousTerm else { return nil }
        for entry in new {
            if entry.index <= snapshot.index { continue }
            if let existing = term(entry.index) {
                if existing == entry.term { continue }
                // A correct leader never contradicts a committed entry; refuse rather than lose it.
                guard entry.index > committed else { return nil }
                entries.removeLast(Int(lastIndex - entry.index + 1))
                stable = min(stable, entry.index - 1)
                truncated = true
            }
            guard entry.index == lastIndex + 1 else { return nil }
            entries.append(entry)
        }
        let lastNew = previousIndex + UInt64(new.count)
        if commit > committed { committed = min(commit, lastNew) }
        return lastNew
    }

    /// Replaces everything with a snapshot from the leader.
    mutating func restore(_ snapshot: Snapshot) {
        self.snapshot = snapshot
        entries = []
        committed = snapshot.index
        stable = snapshot.index
        pendingSnapshot = snapshot
    }

    /// Drops entries up to `index` (applied), keeping `snapshot` in their place.
    mutating func compact(_ snapshot: Snapshot) {
        let drop = Int(min(snapshot.index, lastIndex) - self.snapshot.index)
        entries.removeFirst(drop)
        self.snapshot = snapshot
    }
}
