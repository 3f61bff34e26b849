/// One search result: the caller's id and its distance to the query (smaller is closer).
public struct SearchHit: Sendable, Hashable {
    /// The external id given at insert time.
    public var id: UInt64
    /// The distance under the index's metric.
    public var distance: Float
    /// Creates a hit.
    public init(id: UInt64, distance: Float) { self.id = id; self.distance = distance }
}

/// The operations every index offers, approximate (``HNSWIndex``) or exact (``BruteForceIndex``).
/// Implementations are `Sendable` and may be called from any thread.
public protocol VectorIndex: Sendable {
    /// Length of every vector.
    var dimension: Int { get }
    /// Distance used for search.
    var metric: DistanceMetric { get }
    /// Number of live (not deleted) vectors.
    var count: Int { get }
    /// Inserts the vector or, when `id` exists, replaces its vector and payload.
    func upsert(id: UInt64, vector: [Float], payload: Payload) throws(VectorEngineError)
    /// Deletes `id`; returns whether it existed.
    @discardableResult func delete(id: UInt64) -> Bool
    /// The `k` nearest live vectors to `query` that satisfy `filter`, closest first.
    func search(_ query: [Float], k: Int, filter: PayloadFilter?) throws(VectorEngineError) -> [SearchHit]
    /// The stored vector of `id` (normalised for `.cosine`), or `nil`.
    func vector(id: UInt64) -> [Float]?
    /// The payload of `id`, or `nil` when absent.
    func payload(id: UInt64) -> Payload?
}

extension VectorIndex {
    /// Unfiltered search.
    public func search(_ query: [Float], k: Int) throws(VectorEngineError) -> [SearchHit] {
        try search(query, k: k, filter: nil)
    }

    /// Inserts without payload.
    public func upsert(id: UInt64, vector: [Float]) throws(VectorEngineError) {
        try upsert(id: id, vector: vector, payload: [:])
    }
}

/// Checks a caller's vector (dimension, finite components) and normalises it for cosine.
func prepareVector(_ v: [Float], dimension: Int, metric: DistanceMetric) throws(VectorEngineError) -> [Float] {
    guard v.count == dimension else {
        throw VectorEngineError(code: .dimensionMismatch,
                                message: "vector has \(v.count) components; this index expects \(dimension)")
    }
    for x in v where !x.isFinite {
        throw VectorEngineError(code: .invalidArgument, message: "vector components must be finite (found \(x))")
    }
    return metric.normalizesVectors ? DistanceKernels.normalized(v) : v
}

func checkDimension(_ dimension: Int) throws(VectorEngineError) {
    try checkLimit(dimension >= 1 && dimension <= VectorEngineLimits.maxDimension,
                   "dimension \(dimension) must be in 1...\(VectorEngineLimits.maxDimension)")
}

func checkK(_ k: Int) throws(VectorEngineError) {
    try checkLimit(k >= 1 && k <= VectorEngineLimits.maxK, "k \(k) must be in 1...\(VectorEngineLimits.maxK)")
}
