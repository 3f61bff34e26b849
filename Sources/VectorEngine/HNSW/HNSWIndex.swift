import Synchronization

/// An approximate nearest-neighbour index: a Hierarchical Navigable Small World graph
/// (Malkov & Yashunin 2016) over contiguous storage, with tombstone deletes, in-place
/// updates that re-link the node, and filtered search.
///
/// ```swift
/// let index = try HNSWIndex(dimension: 128, metric: .cosine, parameters: .init(m: 16))
/// try index.upsert(id: 7, vector: v, payload: ["color": .string("red")])
/// let hits = try index.search(q, k: 10, ef: 100, filter: .match("color", .string("red")))
/// ```
///
/// Thread safety: one `Mutex` owns the graph. Every operation (including searches, which
/// reuse the graph's visited set and heaps) holds it for its duration, so calls from many
/// threads are safe and linearizable but run one at a time.
public final class HNSWIndex: VectorIndex {
    /// Length of every vector.
    public let dimension: Int
    /// Distance used for search.
    public let metric: DistanceMetric
    /// Build parameters.
    public let parameters: HNSWParameters
    /// Selectivity under which ``FilterStrategy/automatic`` scans exactly instead of walking.
    public let exactFilterSelectivity: Double
    let graph: Mutex<HNSWGraph>

    /// Creates an empty index.
    public init(dimension: Int, metric: DistanceMetric, parameters: HNSWParameters = .init(),
                exactFilterSelectivity: Double = 0.05) throws(VectorEngineError) {
        try checkDimension(dimension)
        try parameters.validate()
        self.dimension = dimension
        self.metric = metric
        self.parameters = parameters
        self.exactFilterSelectivity = exactFilterSelectivity
        graph = Mutex(HNSWGraph(dimension: dimension, metric: metric, params: parameters))
    }

    /// Number of live vectors.
    public var count: Int { graph.withLock { $0.liveCount } }

    /// Number of tombstoned vectors still occupying storage (see ``compact()``).
    public var deletedCount: Int { graph.withLock { $0.deletedCount } }

    /// Inserts, or replaces the vector and payload of an existing (or deleted) id and re-links it.
    public func upsert(id: UInt64, vector: [Float], payload: Payload) throws(VectorEngineError) {
        let v = try prepareVector(vector, dimension: dimension, metric: metric)
        try graph.withLock { (g: inout HNSWGraph) throws(VectorEngineError) in
            if let node = g.internalOf[id] {
                g.update(node: node, vector: v, payload: payload)
            } else {
                try checkLimit(g.totalCount < VectorEngineLimits.maxCount, "index is full")
                g.insert(externalId: id, vector: v, payload: payload)
            }
        }
    }

    /// Tombstones `id`: it is skipped in results but still routes searches until ``compact()``.
    /// When more than half of the stored nodes are tombstones the graph is compacted.
    @discardableResult
    public func delete(id: UInt64) -> Bool {
        graph.withLock { g in
            let removed = g.markDeleted(id)
            if removed && g.deletedCount * 2 > g.totalCount && g.totalCount >= 64 {
                g = Self.rebuilt(from: g)
            }
            return removed
        }
    }

    /// Rebuilds the graph from the live nodes only, dropping every tombstone.
    public func compact() {
        graph.withLock { g in g = Self.rebuilt(from: g) }
    }

    private static func rebuilt(from old: HNSWGraph) -> HNSWGraph {
        var fresh = HNSWGraph(dimension: old.dimension, metric: old.metric, params: old.params)
        fresh.rng = old.rng
        fresh.quantized = old.quantized
        fresh.quantized?.clearCodes()
        for i in 0..<old.totalCount where !old.deleted[i] {
            fresh.insert(externalId: old.externalIds[i], vector: old.storage.vectorArray(UInt32(i)),
                         payload: old.payloads[i])
        }
        return fresh
    }

    /// The `k` nearest live vectors with the default `efSearch`.
    public func search(_ query: [Float], k: Int, filter: PayloadFilter?) throws(VectorEngineError) -> [SearchHit] {
        try search(query, k: k, ef: parameters.efSearch, filter: filter)
    }

    /// The `k` nearest live vectors that satisfy `filter`, searching with candidate list `ef`
    /// (raised to `k` when smaller). `strategy` picks graph walk or exact scan (`.exact`: brute
    /// force, with or without a filter; `.automatic`: exact only for very selective filters).
    /// When quantization is on (``enableQuantization(_:sampleSize:seed:)``) the walk uses the
    /// codes and the best `k * oversampling` candidates are rescored on full vectors; pass
    /// `oversampling: nil` to walk on full vectors instead.
    public func search(_ query: [Float], k: Int, ef: Int, filter: PayloadFilter? = nil,
                       strategy: FilterStrategy = .automatic,
                       oversampling: Int? = 4) throws(VectorEngineError) -> [SearchHit] {
        if let o = oversampling {
            try checkLimit(o >= 1 && o * k <= VectorEngineLimits.maxEf, "oversampling \(o) times k must be in 1...\(VectorEngineLimits.maxEf)")
        }
        try checkK(k)
        try checkLimit(ef >= 1 && ef <= VectorEngineLimits.maxEf, "ef \(ef) must be in 1...\(VectorEngineLimits.maxEf)")
        try filter?.validate()
        let q = try prepareVector(query, dimension: dimension, metric: metric)
        let threshold = exactFilterSelectivity
        return graph.withLock { g in
            q.withUnsafeBufferPointer { qp -> [SearchHit] in
                guard let qb = qp.baseAddress else { return [] }
                var exact = strategy == .exact
                if let filter, strategy == .automatic { exact = g.estimateSelectivity(filter) < threshold }
                return exact ? g.exactSearch(qb, k: k, filter: filter)
                             : g.knn(qb, k: k, ef: ef, filter: filter,
                                     oversampling: g.quantized == nil ? nil : oversampling)
            }
        }
    }

    /// Trains `kind` on up to `sampleSize` evenly spaced stored vectors and encodes every
    /// vector; later inserts are encoded as they arrive. Searches then walk on the codes.
    public func enableQuantization(_ kind: QuantizationKind, sampleSize: Int = 10_000,
                                   seed: UInt64 = 7) throws(VectorEngineError) {
        try checkLimit(sampleSize >= 1 && sampleSize <= 1_000_000, "sampleSize must be in 1...1000000")
        try graph.withLock { (g: inout HNSWGraph) throws(VectorEngineError) in
            let n = g.totalCount
            let stride = max(1, n / sampleSize)
            let sample = Swift.stride(from: 0, to: n, by: stride).map { g.storage.vectorArray(UInt32($0)) }
            let store = try _QuantizedStore(kind: kind, dimension: g.dimension, metric: g.metric,
                                            sample: sample, seed: seed)
            for i in 0..<n { store.append(g.storage.vectorArray(UInt32(i))) }
            g.quantized = store
        }
    }

    /// The active quantization, if any.
    public var quantization: QuantizationKind? { graph.withLock { $0.quantized?.kind } }

    /// Runs several searches; results are in query order.
    public func searchBatch(_ queries: [[Float]], k: Int, ef: Int,
                            filter: PayloadFilter? = nil) throws(VectorEngineError) -> [[SearchHit]] {
        var out: [[SearchHit]] = []
        out.reserveCapacity(queries.count)
        for q in queries { out.append(try search(q, k: k, ef: ef, filter: filter)) }
        return out
    }

    /// The stored vector of a live id.
    public func vector(id: UInt64) -> [Float]? {
        graph.withLock { g in
            guard let n = g.internalOf[id], !g.deleted[Int(n)] else { return nil }
            return g.storage.vectorArray(n)
        }
    }

    /// The payload of a live id.
    public func payload(id: UInt64) -> Payload? {
        graph.withLock { g in
            guard let n = g.internalOf[id], !g.deleted[Int(n)] else { return nil }
            return g.payloads[Int(n)]
        }
    }

    /// Live ids in internal (insertion) order, starting after position `cursor`; returns the
    /// page and the cursor of the next page (`nil` at the end).
    public func scroll(after cursor: Int?, limit: Int) throws(VectorEngineError) -> (ids: [UInt64], next: Int?) {
        try checkLimit(limit >= 1 && limit <= VectorEngineLimits.maxK, "limit \(limit) must be in 1...\(VectorEngineLimits.maxK)")
        return graph.withLock { g in
            var ids: [UInt64] = []
            var i = max(0, (cursor ?? -1) + 1)
            while i < g.totalCount && ids.count < limit {
                if !g.deleted[i] { ids.append(g.externalIds[i]) }
                i += 1
            }
            return (ids, i < g.totalCount ? i - 1 : nil)
        }
    }

    /// Bytes held for vectors, links, levels, ids and tombstones (payloads excluded).
    public var memoryBytes: Int {
        graph.withLock { g in
            let n = g.totalCount
            var bytes = n * (g.dimension * 4 + (g.params.m0 + 1) * 4 + 1 + 8 + 1 + 16)
            for u in g.upperLinks { bytes += u.count * 4 }
            bytes += g.quantized?.memoryBytes ?? 0
            return bytes
        }
    }

    /// Checks the graph's structural invariants; returns a description of each violation.
    func invariantViolations() -> [String] {
        graph.withLock { g in g.invariantViolations() }
    }
}
