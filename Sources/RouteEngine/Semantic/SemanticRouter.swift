import LearnEngine

/// Named routes, each with example utterance embeddings, matched by similarity: a query's score for a
/// route is the mean cosine similarity of its `topK` most similar examples of that route; the best route
/// wins if its score reaches `threshold`, else no route matches. Exact (every example is compared):
/// routes hold tens to thousands of examples, where a scan is fast and an index buys nothing.
public struct SemanticRouter: Equatable, Sendable {
    /// One route.
    public struct Route: Equatable, Sendable {
        /// Its name.
        public let name: String
        /// Unit-length examples, row-major `[count x dimension]`.
        let examples: [Float]
        /// The number of examples.
        public let exampleCount: Int
    }

    /// The embeddings' width.
    public let dimension: Int
    /// Examples averaged per route.
    public var topK: Int
    /// The least score that matches (set by hand or by `fitThreshold`).
    public var threshold: Double
    /// The routes, in registration order.
    public private(set) var routes: [Route] = []

    /// Bounds on what a request may register.
    public static let maximumDimension = 65_536, maximumExamplesPerRoute = 100_000

    /// An empty router.
    public init(dimension: Int, topK: Int = 3, threshold: Double = 0.5) throws(LearnError) {
        guard (1...Self.maximumDimension).contains(dimension) else {
            throw LearnError(.invalidConfiguration, "dimension \(dimension) not in 1...\(Self.maximumDimension)")
        }
        guard topK >= 1 else { throw LearnError(.invalidConfiguration, "top k must be >= 1") }
        self.dimension = dimension
        self.topK = topK
        self.threshold = threshold
    }

    /// Adds a route, or replaces the one of that name.
    public mutating func register(name: String, examples: [[Float]]) throws(LearnError) {
        guard !name.isEmpty else { throw LearnError(.invalidExample, "a route needs a name") }
        guard (1...Self.maximumExamplesPerRoute).contains(examples.count) else {
            throw LearnError(.invalidExample, "route \(name): \(examples.count) examples, 1...\(Self.maximumExamplesPerRoute) accepted")
        }
        var flat = [Float]()
        flat.reserveCapacity(examples.count * dimension)
        for e in examples { flat += try unit(e) }
        let route = Route(name: name, examples: flat, exampleCount: examples.count)
        if let i = routes.firstIndex(where: { $0.name == name }) { routes[i] = route } else { routes.append(route) }
    }

    /// Deletes the route called `name`; false when there was none.
    @discardableResult
    public mutating func remove(name: String) -> Bool {
        guard let i = routes.firstIndex(where: { $0.name == name }) else { return false }
        routes.remove(at: i)
        return true
    }

    /// Every route's score for `query`, in registration order.
    public func scores(_ query: [Float]) throws(LearnError) -> [Double] {
        let q = try unit(query)
        return routes.map { route in
            var similarities = [Float](repeating: 0, count: route.exampleCount)
            q.withUnsafeBufferPointer { qp in route.examples.withUnsafeBufferPointer { ep in
                for e in 0..<route.exampleCount {
                    similarities[e] = DenseKernels.dot(qp.baseAddress!, ep.baseAddress! + e * dimension, count: dimension)
                }
            } }
            let k = min(topK, route.exampleCount)
            let best = similarities.sorted(by: >).prefix(k)
            return Double(best.reduce(0, +)) / Double(k)
        }
    }

    /// The result of matching a query.
    public struct Match: Equatable, Sendable {
        /// The matching route's name, nil when the best score is below the threshold (or there are no routes).
        public var route: String?
        /// The best route's name, matched or not.
        public var nearest: String?
        /// Its score.
        public var score: Double
    }

    /// The route `query` matches.
    public func match(_ query: [Float]) throws(LearnError) -> Match {
        let s = try scores(query)
        guard !s.isEmpty else { return Match(route: nil, nearest: nil, score: 0) }
        let best = ClassScores.argmax(s)
        return Match(route: s[best] >= threshold ? routes[best].name : nil, nearest: routes[best].name, score: s[best])
    }

    /// Sets `threshold` from labelled queries (a route name, or nil for "should match nothing") and returns
    /// the accuracy it gives on them. The rule: with each query's best score s, accuracy is a step function
    /// of the threshold t (a query is accepted when s ≥ t); of the thresholds at the distinct scores (and one
    /// above them all), those with the highest accuracy are taken, the middle one of them is chosen, and t is
    /// placed halfway between it and the next lower score, so a margin separates accepted from refused.
    @discardableResult
    public mutating func fitThreshold(_ labelled: [(query: [Float], route: String?)]) throws(LearnError) -> Double {
        guard !labelled.isEmpty else { throw LearnError(.invalidExample, "no labelled queries to fit a threshold on") }
        var scored = [(score: Double, nearest: String?, route: String?)]()
        for item in labelled {
            let m = try match(item.query)
            scored.append((m.score, m.nearest, item.route))
        }
        let distinct = Array(Set(scored.map(\.score))).sorted()
        let candidates = distinct + [distinct[distinct.count - 1].nextUp]
        func accuracy(_ t: Double) -> Int {
            scored.reduce(0) { $0 + (($1.score >= t ? $1.nearest : nil) == $1.route ? 1 : 0) }
        }
        let accuracies = candidates.map(accuracy)
        let best = accuracies.max() ?? 0
        let tied = accuracies.indices.filter { accuracies[$0] == best }
        let j = tied[tied.count / 2]
        threshold = j == 0 ? candidates[0] : (candidates[j] + distinct[j - 1]) / 2
        return Double(best) / Double(labelled.count)
    }

    /// `v` scaled to unit length; throws for a wrong width, a non-finite value or a zero vector.
    func unit(_ v: [Float]) throws(LearnError) -> [Float] {
        guard v.count == dimension else { throw LearnError(.invalidExample, "vector of \(v.count) values, routes take \(dimension)") }
        var norm: Float = 0
        for x in v {
            guard x.isFinite else { throw LearnError(.invalidExample, "a vector value is not finite") }
            norm += x * x
        }
        guard norm > 0, norm.isFinite else { throw LearnError(.invalidExample, "a zero or overflowing vector has no direction") }
        let scale = 1 / norm.squareRoot()
        return v.map { $0 * scale }
    }
}
