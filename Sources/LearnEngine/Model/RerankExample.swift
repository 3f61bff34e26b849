/// One query's input to the re-ranker: the query vector, the HNSW candidates in HNSW order
/// (first `candidateCount` rows of `nodes`) followed by extra neighbour nodes, each candidate's
/// layer-0 neighbours as indices into `nodes`, the HNSW scores (higher is better) and, for
/// training, graded relevance per candidate.
public struct RerankExample: Sendable, Equatable {
    /// The query vector (model dimension).
    public var query: [Float]
    /// Candidates first, then neighbours that are not candidates; every row of model dimension.
    public var nodes: [[Float]]
    /// How many leading rows of `nodes` are candidates.
    public var candidateCount: Int
    /// For each candidate, indices into `nodes` of its HNSW neighbours (the model uses the first M).
    public var neighbours: [[Int32]]
    /// One HNSW score per candidate, higher is better (e.g. negated distance).
    public var hnswScores: [Float]
    /// Graded relevance per candidate (click = 1, or 0...10), for training and evaluation.
    public var grades: [Float]?
    /// Per candidate, the weight of its term in the loss: the inverse of the probability that a
    /// user examined it (clicks on a ranked list), so the loss is not biased towards the top.
    /// nil: every candidate weighs 1 (explicit grades). See `RankingLoss`.
    public var weights: [Float]?

    /// An example; `validate(dimension:)` checks that its parts agree.
    public init(query: [Float], nodes: [[Float]], candidateCount: Int, neighbours: [[Int32]],
                hnswScores: [Float], grades: [Float]? = nil, weights: [Float]? = nil) {
        self.query = query
        self.nodes = nodes
        self.candidateCount = candidateCount
        self.neighbours = neighbours
        self.hnswScores = hnswScores
        self.grades = grades
        self.weights = weights
    }

    /// Throws unless every part has the right count, every vector the dimension, every index is in
    /// range and every number is finite: the model never traps on an example that passed.
    public func validate(dimension: Int) throws(LearnError) {
        func fail(_ m: String) -> LearnError { LearnError(.invalidExample, m) }
        guard query.count == dimension else { throw fail("query has \(query.count) values, the model expects \(dimension)") }
        guard candidateCount >= 0, candidateCount <= nodes.count else {
            throw fail("candidateCount \(candidateCount) exceeds the \(nodes.count) nodes")
        }
        guard neighbours.count == candidateCount, hnswScores.count == candidateCount else {
            throw fail("need one neighbour list and one HNSW score per candidate (\(candidateCount))")
        }
        if let grades, grades.count != candidateCount { throw fail("need one grade per candidate (\(candidateCount))") }
        if let weights, weights.count != candidateCount { throw fail("need one loss weight per candidate (\(candidateCount))") }
        for (i, row) in nodes.enumerated() where row.count != dimension {
            throw fail("node \(i) has \(row.count) values, the model expects \(dimension)")
        }
        for list in neighbours { for j in list where j < 0 || Int(j) >= nodes.count {
            throw fail("neighbour index \(j) is outside the \(nodes.count) nodes")
        } }
        guard query.allSatisfy(\.isFinite), hnswScores.allSatisfy(\.isFinite), nodes.allSatisfy({ $0.allSatisfy(\.isFinite) }),
              (grades ?? []).allSatisfy({ $0.isFinite && $0 >= 0 }), (weights ?? []).allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw fail("values must be finite (and grades and weights >= 0)")
        }
    }
}
