/// A cluster as one of its nodes sees it (`ClusterService/GetState`, `clusterState(...)`).
public struct ClusterState: Sendable, Equatable {
    /// A node of the cluster.
    public struct Member: Sendable, Equatable {
        /// Its part in the consensus group.
        public enum Role: String, Sendable {
            /// Votes and may lead.
            case voter
            /// Receives the log, does not vote yet (catching up).
            case learner
            /// Recorded in the metadata but not (or no longer) in the group.
            case none
        }
        /// Node id (unique, non-zero).
        public var id: UInt64
        /// Its gRPC address, HOST:PORT.
        public var address: String
        /// Voter or learner.
        public var role: Role
        /// Heard from by the leader within an election timeout (false when no leader answered).
        public var healthy: Bool
        /// Highest log index the leader knows it holds.
        public var matchIndex: UInt64
        /// Milliseconds since the leader last heard from it.
        public var lastSeenMillis: UInt64
        /// Entries it is behind the leader.
        public var lagEntries: UInt64
        /// The memory it may hold (its memory limit), as it reported it; 0 until it does.
        public var capacityBytes: UInt64
    }

    /// A collection in the cluster's metadata.
    public struct Collection: Sendable, Equatable {
        /// Its name.
        public var name: String
        /// Its vector length.
        public var dimension: Int
        /// The log index that created it.
        public var createdIndex: UInt64
    }

    /// Where one shard of a sharded collection lives, and (with `withShardProgress`) how far
    /// its replicas are behind its primary.
    public struct ShardAssignment: Sendable, Equatable {
        /// One replica's distance behind the primary, as the primary measured it.
        public struct ReplicaLag: Sendable, Equatable {
            /// The replica's node.
            public var nodeID: UInt64
            /// Write-ahead log records it has not acknowledged yet (0: caught up).
            public var records: UInt64
            /// Age in milliseconds of the oldest write it does not have yet (0: caught up;
            /// `UInt64.max`: the primary has no acknowledgement from it at all).
            public var millis: UInt64
        }

        /// The collection.
        public var collection: String
        /// The shard's number within the collection, from 0.
        public var shard: Int
        /// The node holding the primary copy: it takes the shard's writes.
        public var primary: UInt64
        /// The nodes holding the other copies.
        public var replicas: [UInt64]
        /// Grows on every change of primary (writes of an older epoch are refused).
        public var epoch: UInt64
        /// Each replica's lag, in the order of `replicas`; nil when not asked for
        /// (`withShardProgress`) or when the primary did not answer in time. Empty for a shard
        /// without replicas.
        public var replicaLag: [ReplicaLag]?
        /// Sequence of the primary's last logged record (0 when unknown or the shard is empty).
        public var primarySequence: UInt64
        /// Nodes receiving a copy (a move in progress): they follow the primary's log, and no
        /// write waits for them until the move switches them in.
        public var incoming: [UInt64] = []
        /// The copy the primary is being handed to (a planned move; 0: none): until the
        /// switch the primary takes no writes (the node that forwards them retries).
        public var handoff: UInt64 = 0
    }

    /// Every member: voters and learners.
    public var members: [Member]
    /// The leader (0 when none is known).
    public var leaderID: UInt64
    /// The Raft term of the answer.
    public var term: UInt64
    /// The highest log index known committed.
    public var commitIndex: UInt64
    /// How far the answering node applied the log.
    public var appliedIndex: UInt64
    /// The node that answered.
    public var answeredBy: UInt64
    /// True when the answer is that node's local view (`staleOK`), not confirmed by the leader.
    public var stale: Bool
    /// The collections, created and deleted cluster-wide through the log.
    public var collections: [Collection]
    /// The shards of every sharded collection, by collection name then shard number.
    public var shards: [ShardAssignment]
    /// Default copies per shard of new collections, primary included (0: min(3, members)).
    public var replicationFactor: Int
    /// Default write mode of new collections (nil: not set, which means async).
    public var replicationMode: ReplicationMode?
}

/// What one node holds of each shard (`ClusterService/ShardStatus`, `shardStatus(...)`): the
/// state of its copies, and on a primary what it knows of its replicas.
public struct ShardStatus: Sendable, Equatable {
    /// A replica's progress as its primary sees it.
    public struct ReplicaProgress: Sendable, Equatable {
        /// The replica's node.
        public var nodeID: UInt64
        /// Highest sequence it acknowledged.
        public var ackedSequence: UInt64
        /// Records it is behind the primary's log.
        public var lagRecords: UInt64
        /// Age in milliseconds of the oldest write it does not have yet (0: caught up).
        public var lagMillis: UInt64
        /// Its replication stream is open now.
        public var connected: Bool
    }

    /// One copy of a shard on the node that answered.
    public struct Copy: Sendable, Equatable {
        /// The collection.
        public var collection: String
        /// The shard's number.
        public var shard: Int
        /// This node is the shard's primary in its metadata.
        public var isPrimary: Bool
        /// The shard-map epoch this node knows.
        public var epoch: UInt64
        /// Sequence of the last record in this copy's log.
        public var lastSequence: UInt64
        /// Sequence through which this copy's records are applied to its index (what its
        /// searches and counts see): a replica applies just after it logs, so this may trail
        /// `lastSequence` by the records waiting to be applied.
        public var appliedSequence: UInt64
        /// The epoch in which that record was written.
        public var lastRecordEpoch: UInt64
        /// Points in this copy.
        public var points: UInt64
        /// Order-independent checksum of the points, when asked for (`checksums: true`):
        /// copies holding the same points have the same checksum.
        public var checksum: UInt64?
        /// On a primary: each replica's progress (empty elsewhere).
        public var replicas: [ReplicaProgress]
    }

    /// The node that answered.
    public var nodeID: UInt64
    /// Its copies, by collection name then shard number.
    public var copies: [Copy]
}
