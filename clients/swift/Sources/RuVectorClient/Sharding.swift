/// How a write on a cluster waits for the replicas of the shards it touches before it is
/// acknowledged. The same type names a collection's default (`Sharding.writeConsistency`,
/// `CollectionInfo.writeConsistency`), a single write's choice (`upsert(consistency:)`) and
/// the cluster-wide setting (`ClusterState.replicationMode`).
public enum ReplicationMode: String, Sendable, Hashable, CaseIterable {
    /// Acknowledged by the primary alone; replicas catch up in the background.
    case async
    /// Acknowledged once `minReplicas` replicas (besides the primary) have the write.
    case semiSync = "semi-sync"
    /// Acknowledged once every replica has the write.
    case sync
}

/// Which copy of each shard answers a read on a cluster (`get`, `count`, `scroll`, `search`).
/// A single server has one copy and ignores it.
public enum ReadFrom: String, Sendable, Hashable, CaseIterable {
    /// The shard's primary: sees every acknowledged write (the server's default).
    case primary
    /// Any live copy, the called node's own first: spreads the load and answers while a
    /// primary is being replaced, but may miss the newest asynchronously replicated writes.
    case any
}

/// How a new collection is spread over a cluster (`createCollection(sharding:)`). Every field
/// left nil takes the server's default; a single server ignores all of them (one shard, one copy).
///
/// ```swift
/// try await db.createCollection(name: "docs", dimension: 384,
///                               sharding: Sharding(shards: 6, replicationFactor: 3, writeConsistency: .semiSync, minReplicas: 1))
/// ```
public struct Sharding: Sendable, Hashable {
    /// Shards the points are spread over, 1...1024 (nil: one per member at creation).
    public var shards: Int?
    /// Copies of each shard, primary included, 1...16 and at most the number of members
    /// (nil: the cluster's setting, else min(3, members)).
    public var replicationFactor: Int?
    /// How writes wait for replicas unless a write says otherwise (nil: the cluster's setting,
    /// async unless changed).
    public var writeConsistency: ReplicationMode?
    /// Replicas (besides the primary) a semi-sync write waits for, below 16 (nil: 1).
    public var minReplicas: Int?

    /// Makes sharding options; nil fields take the server's defaults.
    public init(shards: Int? = nil, replicationFactor: Int? = nil, writeConsistency: ReplicationMode? = nil, minReplicas: Int? = nil) {
        self.shards = shards
        self.replicationFactor = replicationFactor
        self.writeConsistency = writeConsistency
        self.minReplicas = minReplicas
    }
}
