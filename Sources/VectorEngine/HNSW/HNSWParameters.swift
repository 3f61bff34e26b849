/// Build parameters of an HNSW graph (Malkov & Yashunin).
public struct HNSWParameters: Sendable, Hashable {
    /// Links per node on levels above 0; level 0 keeps up to `2 * m` (`M0`).
    public var m: Int
    /// Size of the dynamic candidate list while inserting.
    public var efConstruction: Int
    /// Default `ef` of searches that do not give one.
    public var efSearch: Int
    /// Seed of the level generator: the same seed and the same inserts give the same graph.
    public var seed: UInt64

    /// Creates parameters; `m` in 2...256, `ef` values in 1...100000.
    public init(m: Int = 16, efConstruction: Int = 200, efSearch: Int = 64, seed: UInt64 = 42) {
        self.m = m; self.efConstruction = efConstruction; self.efSearch = efSearch; self.seed = seed
    }

    /// Links kept on level 0.
    public var m0: Int { 2 * m }

    func validate() throws(VectorEngineError) {
        try checkLimit(m >= 2 && m <= VectorEngineLimits.maxM, "m \(m) must be in 2...\(VectorEngineLimits.maxM)")
        try checkLimit(efConstruction >= 1 && efConstruction <= VectorEngineLimits.maxEf,
                       "efConstruction \(efConstruction) must be in 1...\(VectorEngineLimits.maxEf)")
        try checkLimit(efSearch >= 1 && efSearch <= VectorEngineLimits.maxEf,
                       "efSearch \(efSearch) must be in 1...\(VectorEngineLimits.maxEf)")
    }
}

/// How a filtered search runs.
public enum FilterStrategy: Sendable, Hashable {
    /// Estimate the filter's selectivity on a sample and scan exactly when few points match.
    case automatic
    /// Always walk the graph, evaluating the filter on each visited node.
    case graph
    /// Always scan all points exactly.
    case exact
}
