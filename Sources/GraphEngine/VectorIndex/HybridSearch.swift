import VectorEngine
import WorkControl

/// A hybrid search result: a seed node found by vector similarity, and the graph around it.
public struct HybridHit: Sendable, Hashable {
    /// The seed node.
    public var node: Int
    /// Its similarity to the query (larger is better).
    public var score: Float
    /// One shortest path from the seed to each node within the expansion depth, relationships
    /// followed in either direction, nearer nodes first (ties by relationship id).
    public var neighbourhood: [GraphPath]
}

/// A path: `nodes.count == relationships.count + 1`; relationship `i` joins nodes `i` and `i + 1`.
public struct GraphPath: Sendable, Hashable {
    /// Node ids, from the start.
    public var nodes: [Int]
    /// Relationship ids.
    public var relationships: [Int]
}

extension GraphDatabase {
    /// Deepest expansion around a hybrid search seed.
    public static let maxExpandDepth = 3
    /// Most neighbourhood paths returned per seed (nearest first).
    public static let maxNeighbourhood = 1_000
    /// Longest hybrid search filter, in bytes.
    public static let maxFilterBytes = 64 * 1024

    /// The `k` nodes of vector index `index` nearest to `vector` that satisfy `filter` (a Cypher
    /// predicate over the variable `node`, e.g. `node.year > $year`; empty for none), each with
    /// its neighbourhood up to `expandDepth` relationship hops. Reads this database's store;
    /// see ``GraphVectorIndexes`` for how index and store agree. The hits and neighbourhoods
    /// are charged to `bounds.memory` as they are found (and stay charged: they are the
    /// result); a raised `bounds.cancellation` stops the search.
    ///
    /// `reorder`, when given, sees the nearest `max(k, candidates)` seeds that pass the filter
    /// (best first) and returns them in the order to keep (a learned re-ranker); the first `k`
    /// of its answer are expanded. It runs under the search's deadline and cancellation.
    public func hybridSearch(index: String, vector: [Float], k: Int, filter: String = "",
                             parameters: [String: Value] = [:], expandDepth: Int = 0,
                             deadline: ContinuousClock.Instant? = nil,
                             bounds: WorkBounds = .unbounded(work: "the hybrid search"),
                             candidates: Int = 0,
                             reorder: ((_ seeds: [VectorIndexHit]) throws(GraphError) -> [VectorIndexHit])? = nil) throws(GraphError) -> [HybridHit] {
        guard (0...Self.maxExpandDepth).contains(expandDepth) else {
            throw GraphError(.runtime, "expand depth must be 0 to \(Self.maxExpandDepth), got \(expandDepth)")
        }
        guard filter.utf8.count <= Self.maxFilterBytes else {
            throw GraphError(.limitExceeded, "the filter is \(filter.utf8.count) bytes; at most \(Self.maxFilterBytes)")
        }
        let control = QueryControl(bounds: bounds, deadline: deadline)
        let executor = Executor(store: store, params: parameters, control: control)
        var predicate: Expr? = nil
        if !filter.allSatisfy(\.isWhitespace) {
            let expr = try Parser.parseExpression(filter)
            try Analyzer.checkExpr(expr, ["node": .node])
            guard !Executor.containsAggregate(expr) else {
                throw GraphError(.semantic, "a hybrid search filter cannot aggregate (count, collect, ...)")
            }
            predicate = expr
        }
        do throws(GraphError) {
            let walked = reorder == nil ? k : min(max(k, candidates), VectorEngineLimits.maxK)
            var seeds = try vectorIndexes.search(index, vector: vector, k: walked, in: store, unindexed: nodesNotInVectorIndexes) { node throws(GraphError) in
                try control.check()
                guard let predicate else { return true }
                return try executor.test(predicate, ["node": .node(node.id)])
            }
            if let reorder {
                try control.check()
                seeds = Array(try reorder(seeds).prefix(k))
            }
            var hits: [HybridHit] = []
            for seed in seeds {
                try control.check()
                try control.charge(MemoryLayout<HybridHit>.stride)
                hits.append(HybridHit(node: seed.node, score: seed.score,
                                      neighbourhood: try neighbourhood(of: seed.node, depth: expandDepth, control: control)))
            }
            control.finish(keeping: control.chargedBytes)
            return hits
        } catch {
            control.finish(keeping: 0)
            throw error
        }
    }

    /// Breadth-first paths from `start`, one per node reached, at most `maxNeighbourhood`.
    private func neighbourhood(of start: Int, depth: Int, control: QueryControl) throws(GraphError) -> [GraphPath] {
        var paths: [GraphPath] = []
        var reached: Set<Int> = [start]
        var frontier = [GraphPath(nodes: [start], relationships: [])]
        for _ in 0..<depth {
            var next: [GraphPath] = []
            for path in frontier {
                try control.check()
                let at = path.nodes[path.nodes.count - 1]
                let relationships = (store.outgoingRelationships(of: at) + store.incomingRelationships(of: at)).sorted()
                for id in relationships {
                    guard let r = store.relationship(id) else { continue }
                    let other = r.start == at ? r.end : r.start
                    guard reached.insert(other).inserted else { continue }
                    try control.charge(2 * MemoryEstimate.idListBytes(count: path.nodes.count + 1) + MemoryLayout<GraphPath>.stride)
                    let longer = GraphPath(nodes: path.nodes + [other], relationships: path.relationships + [id])
                    paths.append(longer)
                    if paths.count == Self.maxNeighbourhood { return paths }
                    next.append(longer)
                }
            }
            frontier = next
        }
        return paths
    }
}
