/// How a collection measures distance.
public enum Metric: String, Sendable, Hashable, CaseIterable {
    /// Squared Euclidean distance; scores are minus the distance.
    case l2
    /// Cosine; vectors are normalised on insert; scores are cosine similarities.
    case cosine
    /// Dot product; scores are dot products.
    case dot
    /// Manhattan (L1) distance; scores are minus the distance.
    case manhattan
}

/// HNSW graph parameters; nil means the server's default.
public struct HNSWConfig: Sendable, Hashable {
    /// Links per node on upper layers (server default 16), 2...256.
    public var m: Int?
    /// Candidate list size while building (default 200).
    public var efConstruction: Int?
    /// Default candidate list size while searching (default 64).
    public var efSearch: Int?
    /// Below this many points search is exact (default 1000; not applied by today's server).
    public var fullScanThreshold: Int?

    /// Makes a configuration; nil parameters take the server's defaults.
    public init(m: Int? = nil, efConstruction: Int? = nil, efSearch: Int? = nil, fullScanThreshold: Int? = nil) {
        self.m = m
        self.efConstruction = efConstruction
        self.efSearch = efSearch
        self.fullScanThreshold = fullScanThreshold
    }
}

/// Compressed vector storage, searched through HNSW with rescoring on full vectors.
public enum Quantization: Sendable, Hashable {
    /// Scalar quantization. `bits` 8: int8 (4x smaller); 4: each vector's residual to the
    /// nearest of up to 256 k-means centroids in 4 bits a component (about 7x smaller, most of
    /// int8's recall where the data clusters). `quantile` is reserved for clipping outliers (the
    /// server accepts only nil or 1 today).
    case scalar(quantile: Float? = nil, bits: Int = 8)
    /// IEEE half precision (2x smaller).
    case float16
    /// Product quantization: `subvectors` at most the dimension (nil: dimension/8);
    /// `bits` is 8 (PQ8) or 4 (PQ4).
    case product(subvectors: Int? = nil, bits: Int = 8)
    /// One bit per dimension (32x smaller).
    case binary
    /// Each vector in the tier its search traffic earns: hot f32, warm f16, cool PQ8, cold PQ4,
    /// archive sign bits. Hot at `hotThreshold` returns per million queries (nil: 1000),
    /// re-tiered every `retierIntervalQueries` searches (nil: 10000), PQ tiers with
    /// `subvectors` (nil: dimension/2).
    case tiered(hotThreshold: Int? = nil, retierIntervalQueries: Int? = nil, subvectors: Int? = nil)
}

/// How many vectors a tiered collection holds in each tier.
public struct TierCounts: Sendable, Hashable {
    /// f32 copies.
    public var hot: UInt64
    /// Half precision.
    public var warm: UInt64
    /// PQ8.
    public var cool: UInt64
    /// PQ4.
    public var cold: UInt64
    /// Sign bits.
    public var archive: UInt64
    /// Bytes of the codes graph walks read (full vectors excluded).
    public var codeBytes: UInt64
    /// Re-tiering passes applied since the tiers were built (carried across restarts by snapshots).
    public var passes: UInt64
}

/// The state of a collection's index.
public enum IndexStatus: String, Sendable, Hashable {
    /// Not reported.
    case unknown
    /// Every point is indexed.
    case ready
    /// Points are being indexed.
    case indexing
    /// The index is being rebuilt.
    case rebuilding
}

/// A collection's configuration and state, as the server reports it.
public struct CollectionInfo: Sendable, Hashable {
    /// Name.
    public var name: String
    /// Vector length.
    public var dimension: Int
    /// Distance measure (nil when the server sent one this client does not know).
    public var metric: Metric?
    /// Effective HNSW parameters.
    public var hnsw: HNSWConfig
    /// Quantization, if any.
    public var quantization: Quantization?
    /// Points stored.
    public var pointsCount: UInt64
    /// Memory used by vectors (unless on disk), graph, payloads and codes (0 when not reported).
    public var memoryBytes: UInt64
    /// Bytes on disk (0 when not reported).
    public var diskBytes: UInt64
    /// Index state.
    public var indexStatus: IndexStatus
    /// Creation time, microseconds since the Unix epoch (0 when not reported).
    public var createdUnixMicros: Int64
    /// Vectors per tier (tiered collections, once trained).
    public var tiers: TierCounts?
    /// Shards the points are spread over (1 on a single server).
    public var shards: Int
    /// Copies of each shard, primary included (1 on a single server).
    public var replicationFactor: Int
    /// How writes wait for replicas unless a write says otherwise (nil when the server sent a
    /// mode this client does not know).
    public var writeConsistency: ReplicationMode?
    /// Replicas (besides the primary) a semi-sync write waits for (0 on a single server).
    public var minReplicas: Int
    /// True when full vectors are kept in a memory-mapped file instead of memory (`onDisk` at
    /// creation, or a tiered collection).
    public var onDisk: Bool = false
    /// Bytes of full vectors in that file (not counted in ``memoryBytes``).
    public var onDiskVectorBytes: UInt64 = 0
    /// True when the graph's level-0 links are in a memory-mapped file too (`onDiskGraph`).
    public var onDiskGraph: Bool = false
    /// Bytes of level-0 links in that file (not counted in ``memoryBytes``).
    public var onDiskGraphBytes: UInt64 = 0
}

/// A snapshot file of a collection on the server.
public struct SnapshotInfo: Sendable, Hashable {
    /// File name, unique per collection.
    public var name: String
    /// The collection it belongs to.
    public var collection: String
    /// Size in bytes.
    public var sizeBytes: UInt64
    /// Creation time, microseconds since the Unix epoch.
    public var createdUnixMicros: Int64
    /// CRC32C of the whole file.
    public var crc32c: UInt32
    /// Write-ahead log sequence the snapshot includes.
    public var walSequence: UInt64
}
