import LearnEngine

/// A seeded retrieval task whose relevance is a hidden class, not vector distance: points sit in
/// clusters that mix classes; the class shows only as a small offset in a few dimensions, so the
/// nearest neighbours of a query are mostly of other classes. Candidates are the exact top
/// `candidates` by L2 (what HNSW approximates), scored by negated distance, each with its 8
/// nearest fellow candidates as neighbours.
struct SyntheticTask {
    var points: [[Float]] = []
    var classes: [Int] = []
    let dimension: Int
    let classCount: Int

    /// Relevant results are of class (query class + shift) mod classCount: shift 0 is "same class";
    /// another shift makes a task that contradicts it (for the forgetting test).
    let relevantClassShift: Int

    init(seed: UInt64, points count: Int = 1500, dimension: Int = 16, clusters: Int = 12, classCount: Int = 4,
         relevantClassShift: Int = 0, classSignal: Float = 1.2) {
        self.dimension = dimension
        self.classCount = classCount
        self.relevantClassShift = relevantClassShift
        var rng = SeededGenerator(seed: seed)
        let centres = (0..<clusters).map { _ in (0..<dimension).map { _ in Float(rng.nextGaussian()) * 2 } }
        let signal = dimension - classCount
        for _ in 0..<count {
            let cluster = Int(rng.next() % UInt64(clusters))
            let cls = Int(rng.next() % UInt64(classCount))
            var v = centres[cluster].map { $0 + Float(rng.nextGaussian()) * 0.6 }
            // The class lives as a small offset in one of the last dimensions.
            v[signal + cls] += classSignal
            points.append(v)
            classes.append(cls)
        }
    }

    /// The query at point `index`; its relevant results are the candidates of the related class.
    func example(query index: Int, candidates: Int = 50, neighbourCount: Int = 8) -> RerankExample {
        let q = points[index]
        func distance(_ a: [Float], _ b: [Float]) -> Float {
            var s: Float = 0
            for i in a.indices { let d = a[i] - b[i]; s += d * d }
            return s
        }
        var ranked: [(index: Int, distance: Float)] = []
        for i in points.indices where i != index { ranked.append((i, distance(q, points[i]))) }
        ranked.sort { $0.distance < $1.distance || ($0.distance == $1.distance && $0.index < $1.index) }
        ranked = Array(ranked.prefix(candidates))
        let ids: [Int] = ranked.map { $0.index }
        let nodes: [[Float]] = ids.map { points[$0] }
        var neighbours: [[Int32]] = []
        for i in nodes.indices {
            var others: [(Int, Float)] = []
            for j in nodes.indices where j != i { others.append((j, distance(nodes[i], nodes[j]))) }
            others.sort { $0.1 < $1.1 }
            neighbours.append(others.prefix(neighbourCount).map { Int32($0.0) })
        }
        let scores: [Float] = ranked.map { -$0.distance.squareRoot() }
        let grades: [Float] = ids.map { classes[$0] == (classes[index] + relevantClassShift) % classCount ? 1 : 0 }
        return RerankExample(query: q, nodes: nodes, candidateCount: nodes.count, neighbours: neighbours,
                             hnswScores: scores, grades: grades)
    }

    /// Examples for query points `range` (queries are dataset points; train and hold-out use disjoint ranges).
    func examples(_ range: Range<Int>) -> [RerankExample] { range.map { example(query: $0) } }

    /// Mean nDCG@10 of HNSW order over `examples`.
    static func baselineNDCG(_ examples: [RerankExample]) -> Double {
        examples.reduce(0) { $0 + RankingMetrics.ndcg(order: Array(0..<$1.candidateCount), grades: $1.grades ?? [], k: 10) }
            / Double(examples.count)
    }
}
