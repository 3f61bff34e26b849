#if canImport(Glibc)
import Glibc
#endif
import LearnEngine
import VectorDatabase
import VectorEngine
import Wire

/// Builds the re-ranker's inputs (`RerankExample`) the same way for training and for serving:
/// the query (normalised for cosine metrics, like the stored vectors), the candidates with
/// their layer-0 HNSW neighbourhood read from the source's HNSW graph, and each candidate's HNSW
/// score standardised over the list at hand, so the model sees one scale whatever the metric.
enum LearnExamples {
    /// Most candidates a training example keeps from a record's shown list (the reference
    /// trains on the shown top 50; longer lists cost memory and time for little signal).
    static let maxTrainingCandidates = 100
    /// Most loss weight one judgement may carry (inverse propensity clipped, as in the reference).
    static let maxPropensityWeight: Float = 10

    /// Candidates whose scores set the standardisation: the top 50, what users are typically
    /// shown and what most feedback judges, so a candidate's standardised score means the same
    /// in training (the shown list) and in serving (the top `depth`, often 100).
    static let standardisationWindow = 50
    /// Linked points that are not candidates a list reads, per candidate: each one costs an
    /// encoding (the bulk of a re-ranking's time). The top 100's 16 links each reach 1.4 such
    /// points per candidate on clustered 16-d data (NeighbourhoodTests), and more where
    /// clusters are looser; two per candidate bound the cost, by the same rule in training
    /// and serving.
    static let extraNodesPerCandidate = 2

    /// HNSW scores, higher better, standardised: (s - mean) / std with the mean and deviation of
    /// the first `standardisationWindow` (all 0 when those are constant). Order-preserving, and
    /// invariant to the metric's scale and offset.
    static func standardised(distances: [Float]) -> [Float] {
        guard !distances.isEmpty else { return [] }
        let scores = distances.map { -Double($0) }
        let window = scores.prefix(standardisationWindow)
        let mean = window.reduce(0, +) / Double(window.count)
        let variance = window.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(window.count)
        let deviation = variance.squareRoot()
        guard deviation > 1e-12, deviation.isFinite else { return [Float](repeating: 0, count: scores.count) }
        return scores.map { Float(($0 - mean) / deviation) }
    }

    /// The query as the model reads it.
    static func modelQuery(_ query: [Float], metric: DistanceMetric) -> [Float] {
        metric.normalizesVectors ? DistanceKernels.normalized(query) : query
    }

    /// The serving example for `hits` (HNSW order, distances ascending) and the ids the example's
    /// candidates stand for (hits deleted since the walk are left out).
    static func serving(query: [Float], hits: [SearchHit], index: HNSWIndex, neighbours: Int)
        -> (example: RerankExample, hits: [SearchHit]) {
        let area = index.neighbourhood(of: hits.map(\.id), linksPerNode: neighbours, maxExtraNodes: extraNodesPerCandidate * hits.count)
        let live = Set(area.centres)
        let kept = hits.filter { live.contains($0.id) }
        let example = RerankExample(query: modelQuery(query, metric: index.metric), nodes: area.vectors,
                                    candidateCount: area.centres.count, neighbours: area.links,
                                    hnswScores: standardised(distances: kept.map(\.distance)))
        return (example, kept)
    }

    /// A training example from a logged feedback record: the candidates are the shown results
    /// in shown order (at most `maxTrainingCandidates`), then judged ids that were not shown;
    /// with nothing shown, the current HNSW top `maxTrainingCandidates` for the query, then the
    /// judged ids not among them. Grades come from the judgements (0 for the rest); weights are
    /// the inverse examination propensities rank^eta of shown results (capped at `maxWeight`,
    /// 1 for judged ids not shown, nil when `positionBias` <= 0). Points deleted since are left out; nil when no
    /// candidate is left or nothing is judged relevant (such a list carries no signal).
    /// `vectors` shares one copy of each point's vector across the examples of a run.
    static func training(_ record: RuvectorV1.RecordFeedbackRequest, source: any LearnSource, neighbours: Int,
                         positionBias: Float, maxWeight: Float = maxPropensityWeight,
                         vectors: inout [UInt64: [Float]]) throws -> RerankExample? {
        let metric = source.index.metric
        guard let rawQuery = record.query?.values, rawQuery.count == source.dimension else { return nil }
        var grades: [UInt64: Float] = [:]
        var judgedOrder: [UInt64] = []
        for judgement in record.judgements {
            guard let id = try source.internalId(judgement.id) else { continue }
            if grades[id] == nil { judgedOrder.append(id) }
            grades[id] = Float(judgement.grade)
        }
        guard grades.values.contains(where: { $0 > 0 }) else { return nil }
        var candidates: [UInt64] = []
        var shownRank: [UInt64: Int] = [:]
        if record.shown.isEmpty {
            candidates = try source.nearest(rawQuery, k: maxTrainingCandidates)
        } else {
            for (position, id) in record.shown.prefix(maxTrainingCandidates).enumerated() {
                guard let n = try source.internalId(id), shownRank[n] == nil else { continue }
                shownRank[n] = position + 1
                candidates.append(n)
            }
        }
        let listed = Set(candidates)
        candidates += judgedOrder.filter { !listed.contains($0) }
        let area = source.index.neighbourhood(of: candidates, linksPerNode: neighbours,
                                              maxExtraNodes: extraNodesPerCandidate * candidates.count)
        guard !area.centres.isEmpty else { return nil }
        let query = modelQuery(rawQuery, metric: metric)
        var nodes: [[Float]] = []
        nodes.reserveCapacity(area.nodes.count)
        for (id, vector) in zip(area.nodes, area.vectors) {
            if let shared = vectors[id] { nodes.append(shared) } else { vectors[id] = vector; nodes.append(vector) }
        }
        let distances = area.centres.indices.map { metric.distance(query, nodes[$0]) }
        let centreGrades = area.centres.map { grades[$0] ?? 0 }
        guard centreGrades.contains(where: { $0 > 0 }) else { return nil }
        var weights: [Float]?
        if positionBias > 0 {
            weights = area.centres.map { id in
                guard let rank = shownRank[id] else { return 1 }
                return min(maxWeight, powf(Float(rank), positionBias))
            }
        }
        return RerankExample(query: query, nodes: nodes, candidateCount: area.centres.count, neighbours: area.links,
                             hnswScores: standardised(distances: distances), grades: centreGrades, weights: weights)
    }
}
