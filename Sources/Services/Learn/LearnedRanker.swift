import LearnEngine
import VectorEngine

/// The active model of a collection as searches use it: re-scores the top `depth` HNSW hits
/// with the GNN over their layer-0 neighbourhood and orders them by the model's score (ties
/// keep the HNSW order, so a model whose learned term is zero changes nothing).
///
/// Sendable by construction of its use: the model is never mutated once it ranks searches
/// (training works on its own copy and hands a new model in when it activates one), and
/// inference keeps its scratch per call.
struct LearnedRanker: @unchecked Sendable {
    /// The model version (what responses report as `model_version`).
    let version: UInt64
    /// The trained model.
    let model: RerankModel

    /// `hits` (HNSW order) with the first `depth` re-ordered by the model and the rest after
    /// them in HNSW order. Hits of points deleted since the walk are dropped from the re-scored
    /// part. Scores stay the vector similarity the walk measured.
    func rerank(query: [Float], hits: [SearchHit], depth: Int, index: HNSWIndex) throws(LearnError) -> [SearchHit] {
        let head = Array(hits.prefix(depth))
        guard head.count > 1 else { return hits }
        let (example, kept) = LearnExamples.serving(query: query, hits: head, index: index, neighbours: model.config.neighbours)
        let order = try model.rerank(example)
        return order.map { kept[$0] } + hits.dropFirst(depth)
    }
}
