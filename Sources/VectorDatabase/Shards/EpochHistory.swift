import Storage

/// Which epoch wrote which part of a shard's log: the first sequence each epoch (each primary)
/// logged, in order. Every copy of a shard keeps its own, persisted beside the shard, so a
/// primary can tell whether a replica's log is a prefix of its own: a former primary may hold a
/// tail its successor never received, and that copy must be transferred again, not continued.
public struct EpochHistory: Sendable, Equatable {
    /// (epoch, first sequence it logged), epochs increasing, sequences non-decreasing.
    public private(set) var starts: [(epoch: UInt64, firstSequence: UInt64)] = []

    public init() {}

    public static func == (a: EpochHistory, b: EpochHistory) -> Bool {
        a.starts.elementsEqual(b.starts) { $0.epoch == $1.epoch && $0.firstSequence == $1.firstSequence }
    }

    /// The epoch that logged `sequence` (0 before the first recorded epoch).
    public func epoch(of sequence: UInt64) -> UInt64 {
        starts.last(where: { $0.firstSequence <= sequence })?.epoch ?? 0
    }

    /// Records that `epoch` logs from `firstSequence` on; ignored unless newer than the last.
    /// Returns whether it changed anything.
    @discardableResult
    public mutating func begin(_ epoch: UInt64, at firstSequence: UInt64) -> Bool {
        guard epoch > (starts.last?.epoch ?? 0) else { return false }
        // An epoch that logged nothing is replaced by its successor at the same position.
        while let last = starts.last, last.firstSequence >= firstSequence { starts.removeLast() }
        starts.append((epoch, firstSequence))
        return true
    }

    /// Whether a copy whose last record is `lastSequence`, written in `lastEpoch`, holds only
    /// records this log (ending at `ownLastSequence`) also has. One primary logs per epoch, so
    /// the same sequence written in the same epoch is the same record, and so is everything
    /// before it (as in Raft's log matching). A former primary's tail that its successor never
    /// received fails the test: this log wrote those sequences in a later epoch, or not at all.
    public func isPrefix(lastSequence: UInt64, lastEpoch: UInt64, ownLastSequence: UInt64) -> Bool {
        guard lastSequence > 0 else { return true }
        return lastSequence <= ownLastSequence && epoch(of: lastSequence) == lastEpoch
    }

    /// The history as far as `sequence` (what a snapshot at that sequence carries).
    public func through(_ sequence: UInt64) -> EpochHistory {
        var cut = EpochHistory()
        cut.starts = starts.filter { $0.firstSequence <= sequence }
        return cut
    }

    /// The bytes of the history (file and wire form).
    public var encoded: [UInt8] {
        var w = BinaryWriter()
        w.u64(UInt64(starts.count))
        for start in starts { w.u64(start.epoch); w.u64(start.firstSequence) }
        return w.bytes
    }

    /// A history from `encoded` bytes; throws on anything else.
    public init(decoding bytes: [UInt8]) throws {
        var r = BinaryReader(bytes)
        do {
            for _ in 0..<(try r.count(elementBytes: 16)) {
                let epoch = try r.u64(), first = try r.u64()
                guard epoch > (starts.last?.epoch ?? 0), first >= (starts.last?.firstSequence ?? 0) else {
                    throw StorageError(.corrupt, "epoch history out of order")
                }
                starts.append((epoch, first))
            }
        } catch is BinaryReader.Truncated {
            throw StorageError(.corrupt, "epoch history cut short")
        }
    }
}
