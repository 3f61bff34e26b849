import Testing
import VectorEngine
@testable import GraphEngine

/// A graph of `count` `:Doc` nodes (`n`, `year`, `embedding` of `dimension` seeded floats),
/// chained by `:NEXT` relationships, with a vector index `docs` on `embedding`.
private func documentGraph(count: Int, dimension: Int, metric: DistanceMetric, seed: UInt64 = 7) throws -> (GraphDatabase, [[Float]]) {
    var rng = SeededGenerator(seed: seed)
    let vectors = (0..<count).map { _ in (0..<dimension).map { _ in Float(rng.nextGaussian()) } }
    var db = GraphDatabase()
    try db.execute("UNWIND $rows AS row CREATE (:Doc {n: row.n, year: row.year, embedding: row.v})", parameters: [
        "rows": .list(vectors.enumerated().map { i, v in
            .map(["n": .int(Int64(i)), "year": .int(Int64(2000 + i % 25)), "v": .list(v.map { .float(Double($0)) })])
        }),
    ])
    try db.execute("MATCH (a:Doc), (b:Doc) WHERE b.n = a.n + 1 CREATE (a)-[:NEXT]->(b)")
    try db.createVectorIndex(VectorIndexDefinition(name: "docs", label: "Doc", property: "embedding", dimension: dimension, metric: metric))
    return (db, vectors)
}

/// The oracle: every node of `db` with a vector, scored exactly, best first.
private func exactRanking(_ db: GraphDatabase, _ query: [Float], metric: DistanceMetric,
                          where keep: (Node) -> Bool = { _ in true }) -> [Int] {
    let definition = VectorIndexDefinition(name: "oracle", label: "Doc", property: "embedding", dimension: query.count, metric: metric)
    return db.store.nodeIds(withLabel: "Doc").compactMap { id -> (Int, Float)? in
        guard let node = db.store.node(id), keep(node), let v = definition.vector(of: node) else { return nil }
        return (id, definition.score(distance: metric.distance(query, v)))     // normalises for cosine
    }.sorted { ($0.1, $1.0) > ($1.1, $0.0) }.map(\.0)
}

private func recall(_ found: [Int], _ truth: [Int]) -> Double {
    Double(Set(found).intersection(truth).count) / Double(max(truth.count, 1))
}

@Suite("graph vector indexes: hybrid search and CALL db.index.vector.queryNodes")
struct VectorIndexTests {
    @Test("hybrid search finds the nearest nodes (recall against an exact scan)", arguments: [DistanceMetric.l2Squared, .cosine, .dot])
    func recallAgainstOracle(metric: DistanceMetric) throws {
        let (db, _) = try documentGraph(count: 600, dimension: 16, metric: metric)
        #expect(db.vectorIndexes.count("docs") == 600)
        var rng = SeededGenerator(seed: 99)
        var total = 0.0
        for _ in 0..<20 {
            let q = (0..<16).map { _ in Float(rng.nextGaussian()) }
            let hits = try db.hybridSearch(index: "docs", vector: q, k: 10)
            #expect(hits.count == 10)
            #expect(zip(hits, hits.dropFirst()).allSatisfy { $0.score >= $1.score }, "best first")
            total += recall(hits.map(\.node), Array(exactRanking(db, q, metric: metric).prefix(10)))
        }
        #expect(total / 20 >= 0.95)
    }

    @Test("a filter is applied during the search: k matching nodes even when few match")
    func filteredSearch() throws {
        let (db, _) = try documentGraph(count: 500, dimension: 8, metric: .l2Squared)
        let q: [Float] = Array(repeating: 0.1, count: 8)
        // 1 node in 25 has year 2003: the nearest 10 overall rarely include 10 of them.
        let hits = try db.hybridSearch(index: "docs", vector: q, k: 10, filter: "node.year = $y AND node.n >= 0", parameters: ["y": .int(2003)])
        let truth = exactRanking(db, q, metric: .l2Squared) { $0.properties["year"] == .int(2003) }
        #expect(hits.map(\.node) == Array(truth.prefix(10)))
        // A filter nothing satisfies: no hits, no error.
        #expect(try db.hybridSearch(index: "docs", vector: q, k: 5, filter: "node.year > 3000").isEmpty)
    }

    @Test("the neighbourhood holds one shortest path to every node within the depth")
    func neighbourhood() throws {
        let (db, vectors) = try documentGraph(count: 50, dimension: 4, metric: .l2Squared)
        // Query with node n=10's own vector: it is the first hit.
        let hits = try db.hybridSearch(index: "docs", vector: vectors[10], k: 1, expandDepth: 2)
        let seed = try #require(hits.first)
        #expect(db.store.node(seed.node)?.properties["n"] == .int(10))
        let reached = seed.neighbourhood.map { path in db.store.node(path.nodes.last ?? -1)?.properties["n"] }
        #expect(Set(reached) == [.int(9), .int(11), .int(8), .int(12)])
        #expect(seed.neighbourhood.map(\.relationships.count) == [1, 1, 2, 2], "nearer nodes first")
        for path in seed.neighbourhood {
            #expect(path.nodes.first == seed.node && path.nodes.count == path.relationships.count + 1)
            for (i, r) in path.relationships.enumerated() {
                let rel = try #require(db.store.relationship(r))
                #expect(Set([rel.start, rel.end]) == Set([path.nodes[i], path.nodes[i + 1]]))
            }
        }
        #expect(try db.hybridSearch(index: "docs", vector: vectors[10], k: 1).first?.neighbourhood == [])
    }

    @Test("reorder sees the nearest max(k, candidates) filtered seeds and its first k are expanded")
    func reorderedSeeds() throws {
        let (db, vectors) = try documentGraph(count: 50, dimension: 4, metric: .l2Squared)
        let plain = try db.hybridSearch(index: "docs", vector: vectors[10], k: 20, filter: "node.n <> 11")
        var seen: [VectorIndexHit] = []
        // Reversing the 20 nearest: the farthest of them comes first, expanded.
        let hits = try db.hybridSearch(index: "docs", vector: vectors[10], k: 3, filter: "node.n <> 11", expandDepth: 1,
                                       candidates: 20) { seeds in
            seen = seeds
            return seeds.reversed()
        }
        #expect(seen.map(\.node) == plain.map(\.node))
        #expect(hits.map(\.node) == plain.reversed().prefix(3).map(\.node))
        #expect(hits.map(\.score) == plain.reversed().prefix(3).map(\.score), "scores stay the similarity")
        #expect(hits.allSatisfy { !$0.neighbourhood.isEmpty })
        // Without reorder, candidates changes nothing.
        #expect(try db.hybridSearch(index: "docs", vector: vectors[10], k: 3, candidates: 20)
                == db.hybridSearch(index: "docs", vector: vectors[10], k: 3))
    }

    @Test("the index follows SET, REMOVE, DELETE and label changes")
    func maintenance() throws {
        var (db, vectors) = try documentGraph(count: 100, dimension: 4, metric: .l2Squared)
        let target = vectors[42]
        func top() throws -> Int64? {
            guard let id = try db.hybridSearch(index: "docs", vector: target, k: 1).first?.node,
                  case .int(let n)? = db.store.node(id)?.properties["n"] else { return nil }
            return n
        }
        #expect(try top() == 42)
        try db.execute("MATCH (d:Doc {n: 42}) SET d.embedding = [100.0, 100.0, 100.0, 100.0]")
        #expect(try top() != 42)
        try db.execute("MATCH (d:Doc {n: 7}) SET d.embedding = $v", parameters: ["v": .list(target.map { .float(Double($0)) })])
        #expect(try top() == 7)
        try db.execute("MATCH (d:Doc {n: 7}) REMOVE d:Doc")
        #expect(try top() != 7)
        try db.execute("MATCH (d {n: 7}) SET d:Doc")
        #expect(try top() == 7)
        try db.execute("MATCH (d:Doc {n: 7}) SET d.embedding = 'not a vector'")
        #expect(try top() != 7)
        #expect(db.vectorIndexes.count("docs") == 99)
        try db.execute("MATCH (d:Doc) WHERE d.n < 50 DETACH DELETE d")
        #expect(db.vectorIndexes.count("docs") == 50)
        try db.execute("CREATE (:Doc {n: 1000, embedding: [1, 2, 3, 4]})")
        #expect(db.vectorIndexes.count("docs") == 51)
        #expect(try db.hybridSearch(index: "docs", vector: [1, 2, 3, 4], k: 1).first?.score == 0)
    }

    @Test("CALL db.index.vector.queryNodes yields the same nodes and scores as hybrid search")
    func procedure() throws {
        var (db, vectors) = try documentGraph(count: 200, dimension: 8, metric: .cosine)
        let q = vectors[3].map { $0 + 0.01 }
        let expected = try db.hybridSearch(index: "docs", vector: q, k: 5)
        let parameters: [String: Value] = ["q": .list(q.map { .float(Double($0)) })]
        let r = try db.execute("CALL db.index.vector.queryNodes('docs', 5, $q) YIELD node, score RETURN id(node) AS id, score",
                               parameters: parameters)
        #expect(r.columns == ["id", "score"])
        #expect(r.rows == expected.map { [.int(Int64($0.node)), .float(Double($0.score))] })
        let standalone = try db.execute("CALL db.index.vector.queryNodes('docs', 2, $q)", parameters: parameters)
        #expect(standalone.columns == ["node", "score"] && standalone.rows.count == 2)
        let renamed = try db.execute("""
            CALL db.index.vector.queryNodes('docs', 5, $q) YIELD node AS d, score WHERE d.n <> 3
            MATCH (d)-[:NEXT]->(next) RETURN d.n AS n, next.n AS after ORDER BY score DESC
            """, parameters: parameters)
        #expect(renamed.rows.allSatisfy { $0[0] != .int(3) } && renamed.rows.count >= 3)
        #expect(renamed.rows.allSatisfy { row in
            if case .int(let n) = row[0], case .int(let after) = row[1] { return after == n + 1 }
            return false
        })
    }

    @Test("bad calls fail with a clear error", arguments: [
        ("CALL db.index.vector.queryNodes('nope', 5, [1.0, 2.0])", "no vector index named 'nope'"),
        ("CALL db.index.vector.queryNodes('docs', 5, [1.0, 2.0])", "2 components; index 'docs' holds 4"),
        ("CALL db.index.vector.queryNodes('docs', 0, [1.0, 2.0, 3.0, 4.0])", "k must be a positive integer"),
        ("CALL db.index.vector.queryNodes('docs', 5, ['a', 2.0, 3.0, 4.0])", "list of finite numbers"),
        ("CALL db.index.vector.queryNodes('docs', 5)", "takes 3 arguments"),
        ("CALL db.labels()", "there is no procedure 'db.labels'"),
        ("CALL db.index.vector.queryNodes('docs', 1, [1, 2, 3, 4]) YIELD nodes", "yields node, score, not 'nodes'"),
        ("MATCH (node) CALL db.index.vector.queryNodes('docs', 1, [1, 2, 3, 4]) YIELD node RETURN node", "already bound"),
    ])
    func errors(query: String, message: String) throws {
        var (db, _) = try documentGraph(count: 10, dimension: 4, metric: .l2Squared)
        do {
            _ = try db.execute(query)
            Issue.record("expected an error from \(query)")
        } catch {
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test("hybrid search and index definitions refuse bad input")
    func limits() throws {
        var (db, _) = try documentGraph(count: 10, dimension: 4, metric: .l2Squared)
        let q: [Float] = [0, 0, 0, 0]
        #expect(throws: GraphError.self) { try db.hybridSearch(index: "docs", vector: q, k: 1, expandDepth: 4) }
        #expect(throws: GraphError.self) { try db.hybridSearch(index: "docs", vector: q, k: 0) }
        #expect(throws: GraphError.self) { try db.hybridSearch(index: "docs", vector: [.nan, 0, 0, 0], k: 1) }
        #expect(throws: GraphError.self) { try db.hybridSearch(index: "docs", vector: q, k: 1, filter: "count(node) > 1") }
        #expect(throws: GraphError.self) { try db.hybridSearch(index: "docs", vector: q, k: 1, filter: "node.n = ") }
        #expect(throws: GraphError.self) { try db.hybridSearch(index: "docs", vector: q, k: 1, filter: "other.n = 1") }
        #expect(throws: GraphError.self) {
            try db.createVectorIndex(VectorIndexDefinition(name: "docs", label: "Doc", property: "embedding", dimension: 4, metric: .dot))
        }
        #expect(throws: GraphError.self) {
            try db.createVectorIndex(VectorIndexDefinition(name: "", label: "Doc", property: "embedding", dimension: 4, metric: .dot))
        }
        #expect(throws: GraphError.self) {
            try db.createVectorIndex(VectorIndexDefinition(name: "big", label: "Doc", property: "e", dimension: 1 << 20, metric: .dot))
        }
        // A failed query leaves the index as it was.
        #expect(throws: GraphError.self) { try db.execute("MATCH (d:Doc) DETACH DELETE d WITH 1 AS x RETURN 1 / 0") }
        #expect(db.vectorIndexes.count("docs") == 10)
    }

    @Test("inside a transaction, hits are checked against the transaction's own view")
    func transactionView() throws {
        var (db, vectors) = try documentGraph(count: 30, dimension: 4, metric: .l2Squared)
        var tx = db.beginTransaction()
        try tx.database.execute("MATCH (d:Doc {n: 5}) DETACH DELETE d")
        let inside = try tx.database.hybridSearch(index: "docs", vector: vectors[5], k: 3)
        #expect(inside.allSatisfy { tx.database.store.node($0.node)?.properties["n"] != .int(5) })
        #expect(db.vectorIndexes.count("docs") == 30, "uncommitted changes stay out of the shared index")
        let outside = try db.hybridSearch(index: "docs", vector: vectors[5], k: 1)
        #expect(db.store.node(outside[0].node)?.properties["n"] == .int(5))
        try db.commit(tx)
        #expect(db.vectorIndexes.count("docs") == 29)
    }
}
