/// Where the points of a sharded collection live: which shard a point belongs to, which
/// nodes hold a shard, and which shards change hands when the nodes change.
///
/// Two levels, so that a membership change moves whole shards and never re-hashes points:
/// a point's shard depends only on its id and the collection's shard count
/// (`shard(of:shards:)`); a shard's nodes depend only on the collection name, the shard
/// number and the ring (`replicas(collection:shard:ring:replicationFactor:)`).
public enum ShardPlacement {
    /// The shard of `key` among `shards`: the high 64 bits of the 128-bit product
    /// `key.stableHash * shards` (multiply-shift, Lemire's "fast range"). So shard `s` owns
    /// the contiguous hash range `[s * 2^64 / shards, (s + 1) * 2^64 / shards)`, and doubling
    /// the shard count splits each shard `s` into `2s` and `2s + 1` without moving points
    /// between unrelated shards.
    /// - Precondition: `shards >= 1`.
    public static func shard(of key: ShardKey, shards: UInt32) -> UInt32 {
        precondition(shards >= 1, "a collection has at least one shard")
        return UInt32(truncatingIfNeeded: key.stableHash.multipliedFullWidth(by: UInt64(shards)).high)
    }

    /// The shard of numeric point id `id` among `shards` (see `shard(of:shards:)`).
    public static func shard(ofNumeric id: UInt64, shards: UInt32) -> UInt32 {
        shard(of: ShardKey(numeric: id), shards: shards)
    }

    /// The shard of the UUID of these 16 bytes (text order) among `shards`.
    /// - Precondition: `bytes.count == 16`.
    public static func shard(ofUUID bytes: [UInt8], shards: UInt32) -> UInt32 {
        shard(of: ShardKey(uuid: bytes), shards: shards)
    }

    /// The key a shard is placed by on the ring: XXH64 of the UTF-8 of `"<collection>/<shard>"`
    /// (decimal shard number). Including the name spreads the shards of different collections
    /// differently, so that shard 0 of every collection does not land on the same nodes.
    public static func ringKey(collection: String, shard: UInt32) -> UInt64 {
        StableHash.xxh64(Array("\(collection)/\(shard)".utf8))
    }

    /// The nodes holding `shard` of `collection`: the ring's owners of its ring key, in ring
    /// order, `replicationFactor` of them (all nodes when there are fewer). The first is the
    /// shard's initial primary.
    public static func replicas(collection: String, shard: UInt32, ring: HashRing, replicationFactor: Int) -> [UInt64] {
        ring.owners(ofKey: ringKey(collection: collection, shard: shard), count: replicationFactor)
    }

    /// The shards of `collection` whose replica set differs between ring `old` and ring `new`,
    /// ascending by shard, with the nodes that leave and join each set: what rebalancing must
    /// copy and drop after a node joins or leaves. A shard whose set is unchanged is absent,
    /// even if its order (and so its initial primary) changed.
    public static func moves(collection: String, shards: UInt32, replicationFactor: Int,
                             from old: HashRing, to new: HashRing) -> [ShardMove] {
        var moves: [ShardMove] = []
        for shard in 0..<shards {
            let before = replicas(collection: collection, shard: shard, ring: old, replicationFactor: replicationFactor)
            let after = replicas(collection: collection, shard: shard, ring: new, replicationFactor: replicationFactor)
            let removed = before.filter { !after.contains($0) }
            let added = after.filter { !before.contains($0) }
            if !removed.isEmpty || !added.isEmpty {
                moves.append(ShardMove(shard: shard, removed: removed, added: added, before: before, after: after))
            }
        }
        return moves
    }
}
