import Synchronization

/// An exact index: every search scans all vectors. It is the oracle the tests compare
/// ``HNSWIndex`` against, and a fine choice for small collections.
///
/// Thread safety: one `Mutex` owns all state; every call holds it for its duration.
public final class BruteForceIndex: VectorIndex {
    private struct State {
        var vectors: [Float] = []
        var ids: [UInt64] = []
        var payloads: [Payload] = []
        var slotOf: [UInt64: Int] = [:]
    }

    /// Length of every vector.
    public let dimension: Int
    /// Distance used for search.
    public let metric: DistanceMetric
    private let state = Mutex(State())

    /// Creates an empty index.
    public init(dimension: Int, metric: DistanceMetric) throws(VectorEngineError) {
        try checkDimension(dimension)
        self.dimension = dimension
        self.metric = metric
    }

    /// Number of stored vectors.
    public var count: Int { state.withLock { $0.ids.count } }

    /// Inserts or replaces.
    public func upsert(id: UInt64, vector: [Float], payload: Payload) throws(VectorEngineError) {
        let v = try prepareVector(vector, dimension: dimension, metric: metric)
        let d = dimension
        state.withLock { s in
            if let slot = s.slotOf[id] {
                s.vectors.replaceSubrange(slot * d..<(slot + 1) * d, with: v)
                s.payloads[slot] = payload
            } else {
                s.slotOf[id] = s.ids.count
                s.ids.append(id)
                s.vectors.append(contentsOf: v)
                s.payloads.append(payload)
            }
        }
    }

    /// Deletes by moving the last vector into the hole.
    @discardableResult
    public func delete(id: UInt64) -> Bool {
        let d = dimension
        return state.withLock { s in
            guard let slot = s.slotOf.removeValue(forKey: id) else { return false }
            let last = s.ids.count - 1
            if slot != last {
                let lastId = s.ids[last]
                s.ids[slot] = lastId
                s.payloads[slot] = s.payloads[last]
                for j in 0..<d { s.vectors[slot * d + j] = s.vectors[last * d + j] }
                s.slotOf[lastId] = slot
            }
            s.ids.removeLast()
            s.payloads.removeLast()
            s.vectors.removeLast(d)
            return true
        }
    }

    /// Exact k nearest neighbours; ties are broken by smaller id.
    public func search(_ query: [Float], k: Int, filter: PayloadFilter?) throws(VectorEngineError) -> [SearchHit] {
        try checkK(k)
        try filter?.validate()
        let q = try prepareVector(query, dimension: dimension, metric: metric)
        let d = dimension, metric = metric
        return state.withLock { s in
            var hits: [SearchHit] = []
            q.withUnsafeBufferPointer { qp in
                s.vectors.withUnsafeBufferPointer { vp in
                    guard let qb = qp.baseAddress, let vb = vp.baseAddress else { return }
                    for i in 0..<s.ids.count {
                        if let f = filter, !f.matches(s.payloads[i], id: s.ids[i]) { continue }
                        hits.append(SearchHit(id: s.ids[i], distance: metric.distance(qb, vb + i * d, count: d)))
                    }
                }
            }
            hits.sort { ($0.distance, $0.id) < ($1.distance, $1.id) }
            return Array(hits.prefix(k))
        }
    }

    /// The stored vector.
    public func vector(id: UInt64) -> [Float]? {
        let d = dimension
        return state.withLock { s in
            guard let slot = s.slotOf[id] else { return nil }
            return Array(s.vectors[slot * d..<(slot + 1) * d])
        }
    }

    /// The stored payload.
    public func payload(id: UInt64) -> Payload? {
        state.withLock { s in s.slotOf[id].map { s.payloads[$0] } }
    }
}
