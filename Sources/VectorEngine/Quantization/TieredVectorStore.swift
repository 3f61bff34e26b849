import Synchronization

/// Compression tier of one vector, from most to least accessed:
/// hot = f32, warm = f16, cool = PQ8, cold = PQ4, archive = binary.
public enum CompressionTier: Int, Sendable, Hashable, CaseIterable {
    /// Full `Float` vector.
    case hot
    /// Half precision.
    case warm
    /// Product quantization, 8-bit codes.
    case cool
    /// Product quantization, 4-bit codes.
    case cold
    /// Sign bits.
    case archive
}

/// Chooses a tier from a vector's decayed access frequency.
public struct TierPolicy: Sendable, Hashable {
    /// Minimum frequency for hot, warm, cool and cold (descending); below the last is archive.
    public var thresholds: [Double]
    /// Factor applied to every frequency at each ``TieredVectorStore/rebalance()``.
    public var decay: Double

    /// Creates a policy; the defaults put a vector read 8+ times per period in hot.
    public init(thresholds: [Double] = [8, 2, 0.5, 0.1], decay: Double = 0.5) {
        self.thresholds = thresholds; self.decay = decay
    }

    /// The tier for `frequency`.
    public func tier(forFrequency frequency: Double) -> CompressionTier {
        for (i, t) in thresholds.prefix(4).enumerated() where frequency >= t {
            return CompressionTier(rawValue: i) ?? .archive
        }
        return .archive
    }
}

/// Vectors stored each in the tier its access frequency earns: reads raise a vector's
/// frequency, ``rebalance()`` decays all frequencies and promotes or demotes vectors,
/// re-encoding them from their current representation (so a demoted vector that is
/// promoted again keeps the loss of its coldest tier). Search is an exact scan over the
/// reconstructions. Thread-safe: one `Mutex` owns the state.
public final class TieredVectorStore: Sendable {
    private struct Entry { var tier: CompressionTier; var code: [UInt8]; var full: [Float]; var frequency: Double }
    private struct State { var entries: [UInt64: Entry] = [:] }

    /// Vector length.
    public let dimension: Int
    /// Metric.
    public let metric: DistanceMetric
    /// Tier policy.
    public let policy: TierPolicy
    private let encoders: [CompressionTier: _QuantizedStoreBox]
    private let state = Mutex(State())

    /// Trains the f16/PQ8/PQ4/binary encoders on `sample`; `pqSubspaces` must divide into the dimension range.
    public init(dimension: Int, metric: DistanceMetric, sample: [[Float]], pqSubspaces: Int,
                policy: TierPolicy = .init(), seed: UInt64 = 7) throws(VectorEngineError) {
        try checkDimension(dimension)
        try checkLimit(policy.thresholds.count == 4, "a tier policy needs 4 thresholds")
        let prepared = try sample.map { (v) throws(VectorEngineError) in try prepareVector(v, dimension: dimension, metric: metric) }
        self.dimension = dimension
        self.metric = metric
        self.policy = policy
        var enc: [CompressionTier: _QuantizedStoreBox] = [:]
        let kinds: [(CompressionTier, QuantizationKind)] = [(.warm, .float16), (.cool, .pq8(subspaces: pqSubspaces)),
                                                          (.cold, .pq4(subspaces: pqSubspaces)), (.archive, .binary)]
        for (tier, kind) in kinds {
            enc[tier] = _QuantizedStoreBox(try _QuantizedStore(kind: kind, dimension: dimension, metric: metric,
                                                              sample: prepared, seed: seed))
        }
        encoders = enc
    }

    /// Stores `vector` in the hot tier (frequency starts at the hot threshold).
    public func insert(id: UInt64, vector: [Float]) throws(VectorEngineError) {
        let v = try prepareVector(vector, dimension: dimension, metric: metric)
        let f = policy.thresholds[0]
        state.withLock { $0.entries[id] = Entry(tier: .hot, code: [], full: v, frequency: f) }
    }

    /// Counts one read of `id`.
    public func recordAccess(id: UInt64) {
        state.withLock { s in s.entries[id]?.frequency += 1 }
    }

    /// Decays frequencies and moves every vector to its policy tier; returns how many moved.
    @discardableResult
    public func rebalance() -> Int {
        state.withLock { s in
            var moved = 0
            for (id, var e) in s.entries {
                e.frequency *= policy.decay
                let target = policy.tier(forFrequency: e.frequency)
                if target != e.tier {
                    let v = reconstruct(e)
                    e.tier = target
                    if target == .hot { e.full = v; e.code = [] } else {
                        e.full = []
                        e.code = encoders[target]?.store.encode(v) ?? []
                    }
                    moved += 1
                }
                s.entries[id] = e
            }
            return moved
        }
    }

    private func reconstruct(_ e: Entry) -> [Float] {
        e.tier == .hot ? e.full : (encoders[e.tier]?.store.decode(e.code) ?? [])
    }

    /// The tier of `id`.
    public func tier(of id: UInt64) -> CompressionTier? { state.withLock { $0.entries[id]?.tier } }

    /// The (possibly lossy) vector of `id`.
    public func vector(id: UInt64) -> [Float]? { state.withLock { s in s.entries[id].map(reconstruct) } }

    /// How many vectors each tier holds.
    public var tierCounts: [CompressionTier: Int] {
        state.withLock { s in s.entries.values.reduce(into: [:]) { $0[$1.tier, default: 0] += 1 } }
    }

    /// Bytes of vector data (f32 values and codes; codebooks excluded).
    public var vectorBytes: Int {
        state.withLock { s in s.entries.values.reduce(0) { $0 + $1.full.count * 4 + $1.code.count } }
    }

    /// Exact k nearest over the reconstructions.
    public func search(_ query: [Float], k: Int) throws(VectorEngineError) -> [SearchHit] {
        try checkK(k)
        let q = try prepareVector(query, dimension: dimension, metric: metric)
        return state.withLock { s in
            var hits = s.entries.map { SearchHit(id: $0.key, distance: metric.distance(q, reconstruct($0.value))) }
            hits.sort { ($0.distance, $0.id) < ($1.distance, $1.id) }
            return Array(hits.prefix(k))
        }
    }
}

/// Lets the immutable, trained encoders be shared across threads: after `init` they are only read
/// through `encode`/`decode`, which touch no mutable state.
final class _QuantizedStoreBox: @unchecked Sendable {
    let store: _QuantizedStore
    init(_ store: _QuantizedStore) { self.store = store }
}
