/// The re-ranker the server uses: a `Float` `RerankNetwork` with inference helpers.
///
/// ```swift
/// let model = RerankModel(config: RerankConfig(), dimension: 384, seed: 7)
/// let order = try model.rerank(example)   // indices of candidates, best first
/// ```
public final class RerankModel {
    /// The network (its parameters are what optimisers, EWC and serialisation see).
    public let network: RerankNetwork<Float>

    /// A fresh model: the same seed gives bit-identical weights; its learned term is zero.
    public init(config: RerankConfig, dimension: Int, seed: UInt64) throws(LearnError) {
        try config.validate(dimension: dimension)
        network = RerankNetwork(config: config, dimension: dimension, seed: seed)
    }

    /// The architecture.
    public var config: RerankConfig { network.config }
    /// The vector dimension.
    public var dimension: Int { network.dimension }
    /// Every parameter, in serialisation order.
    public var parameters: [Parameter<Float>] { network.parameters }
    /// The number of trainable scalars.
    public var parameterCount: Int { network.parameterCount }

    /// The model's score of each candidate (inference: no dropout), higher is better.
    public func scores(_ e: RerankExample) throws(LearnError) -> [Float] {
        try e.validate(dimension: dimension)
        return inferScores(e)
    }

    /// Candidate indices ordered by model score, best first; ties keep HNSW order, so an
    /// untrained model returns 0, 1, 2, ... exactly.
    public func rerank(_ e: RerankExample) throws(LearnError) -> [Int] {
        Self.order(try scores(e))
    }

    /// Indices sorted by descending score, stable on ties.
    public static func order(_ scores: [Float]) -> [Int] {
        scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
    }
}
