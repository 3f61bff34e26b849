/// One shard whose replica set changes between two rings (`ShardPlacement.moves`).
public struct ShardMove: Hashable, Sendable {
    /// The shard number.
    public var shard: UInt32
    /// Nodes that hold the shard on the old ring and not on the new one (old ring order):
    /// they may drop it once the new replicas have caught up.
    public var removed: [UInt64]
    /// Nodes that hold the shard on the new ring and not on the old one (new ring order):
    /// they must receive a copy.
    public var added: [UInt64]
    /// The replicas on the old ring, in ring order (where a copy can come from).
    public var before: [UInt64]
    /// The replicas on the new ring, in ring order.
    public var after: [UInt64]

    /// A move of `shard`; `before` and `after` are the full replica lists it was derived from.
    public init(shard: UInt32, removed: [UInt64], added: [UInt64], before: [UInt64], after: [UInt64]) {
        self.shard = shard; self.removed = removed; self.added = added; self.before = before; self.after = after
    }
}
