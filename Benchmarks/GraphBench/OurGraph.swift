import GraphEngine

/// A seed node of a hybrid search and the nodes one hop away from it (either direction,
/// the seed itself excluded), ascending: what both engines answer.
struct HybridAnswer: Codable, Equatable {
    var node: Int
    var neighbours: [Int]
}

/// Our side of the benchmark: each query as a user runs it, through the Cypher executor
/// (`GraphDatabase.execute`) or `hybridSearch`, plus a breadth-first search on the store API.
struct OurGraph {
    static let vectorIndex = "doc_vector"

    var database: GraphDatabase

    /// Distinct nodes reachable from `start` in 1 to `hops` outgoing `:KNOWS` hops, as the issue
    /// writes it (the executor starts from the node `WHERE id(a) = $id` names).
    mutating func kHop(from start: Int, hops: Int) throws -> Int {
        try count(database.execute("MATCH (a:Person)-[:KNOWS*1..\(hops)]->(b) WHERE id(a) = $id RETURN count(DISTINCT b)",
                                   parameters: ["id": .int(Int64(start))]))
    }

    /// The same answer from the store API: breadth-first, outgoing relationships of any type.
    func kHopOnStore(from start: Int, hops: Int) -> Int {
        let store = database.store
        var reached = Set<Int>(), frontier = [start]
        for _ in 0..<hops {
            var next: [Int] = []
            for node in frontier {
                for id in store.outgoingRelationships(of: node) {
                    guard let end = store.relationship(id)?.end, reached.insert(end).inserted else { continue }
                    next.append(end)
                }
            }
            frontier = next
        }
        return reached.count
    }

    /// Names of `start`'s `:KNOWS` successors older than `minAge`, one per relationship, sorted.
    mutating func olderNeighbours(of start: Int, minAge: Int) throws -> [String] {
        let result = try database.execute("MATCH (a:Person)-[:KNOWS]->(b:Person) WHERE id(a) = $id AND b.age > $minAge RETURN b.name",
                                          parameters: ["id": .int(Int64(start)), "minAge": .int(Int64(minAge))])
        return try strings(result)
    }

    /// How many people have exactly `age` (through the property index on :Person(age)).
    mutating func count(age: Int) throws -> Int {
        try count(database.execute("MATCH (n:Person) WHERE n.age = $age RETURN count(n)", parameters: ["age": .int(Int64(age))]))
    }

    /// (id, age) of the person called `name` (through the property index on :Person(name)).
    mutating func lookup(name: String) throws -> [Int] {
        let result = try database.execute("MATCH (n:Person) WHERE n.name = $name RETURN id(n), n.age", parameters: ["name": .string(name)])
        guard result.rows.count == 1, result.rows[0].count == 2, case .int(let id) = result.rows[0][0], case .int(let age) = result.rows[0][1] else {
            throw BenchError("expected one (id, age) row for \(name), got \(result.rows)")
        }
        return [Int(id), Int(age)]
    }

    /// Distinct people older than `minAge` reachable from `start` in 1 to `hops` :KNOWS hops.
    mutating func varLength(from start: Int, hops: Int, minAge: Int) throws -> Int {
        try count(database.execute("MATCH (a:Person)-[:KNOWS*1..\(hops)]->(b:Person) WHERE id(a) = $id AND b.age > $minAge RETURN count(DISTINCT b)",
                                   parameters: ["id": .int(Int64(start)), "minAge": .int(Int64(minAge))]))
    }

    /// Length of a shortest outgoing :KNOWS path from `start` to `end`, -1 when none is within `maxHops`.
    /// Both ends are bound first, so the search knows its target.
    mutating func shortest(from start: Int, to end: Int, maxHops: Int) throws -> Int {
        let result = try database.execute(
            "MATCH (a:Person), (b:Person) WHERE id(a) = $s AND id(b) = $t MATCH p = shortestPath((a)-[:KNOWS*..\(maxHops)]->(b)) RETURN length(p)",
            parameters: ["s": .int(Int64(start)), "t": .int(Int64(end))])
        return result.rows.isEmpty ? -1 : try count(result)
    }

    /// (age, people of that age) over the whole graph, by age.
    mutating func countPerAge() throws -> [[Int]] {
        try database.execute("MATCH (n:Person) RETURN n.age, count(*) ORDER BY n.age").rows.map { row in
            guard row.count == 2, case .int(let age) = row[0], case .int(let n) = row[1] else { throw BenchError("expected (age, count), got \(row)") }
            return [Int(age), Int(n)]
        }
    }

    /// (age, average age of the people they know) over every :KNOWS relationship, by age.
    mutating func friendsAge() throws -> [[Double]] {
        try database.execute("MATCH (a:Person)-[:KNOWS]->(b:Person) RETURN a.age, avg(b.age) ORDER BY a.age").rows.map { row in
            guard row.count == 2, case .int(let age) = row[0], case .float(let average) = row[1] else {
                throw BenchError("expected (age, average), got \(row)")
            }
            return [Double(age), average]
        }
    }

    /// Relationships from people of `age` to `:Doc` people older than `minAge`: two labels, two filters.
    mutating func labelPattern(age: Int, minAge: Int) throws -> Int {
        try count(database.execute("MATCH (a:Person)-[:KNOWS]->(d:Doc) WHERE a.age = $age AND d.age > $minAge RETURN count(*)",
                                   parameters: ["age": .int(Int64(age)), "minAge": .int(Int64(minAge))]))
    }

    /// The `k` `:Doc` nodes nearest to `vector` with `age >= minAge`, each with its 1-hop neighbourhood.
    func hybrid(_ vector: [Float], k: Int, minAge: Int) throws -> [HybridAnswer] {
        try database.hybridSearch(index: Self.vectorIndex, vector: vector, k: k, filter: "node.age >= $minAge",
                                  parameters: ["minAge": .int(Int64(minAge))], expandDepth: 1).map { hit in
            HybridAnswer(node: hit.node, neighbours: hit.neighbourhood.compactMap(\.nodes.last).sorted())
        }
    }

    private func count(_ result: QueryResult) throws -> Int {
        guard result.rows.count == 1, result.rows[0].count == 1, case .int(let n) = result.rows[0][0] else {
            throw BenchError("expected one count, got \(result.rows)")
        }
        return Int(n)
    }

    private func strings(_ result: QueryResult) throws -> [String] {
        try result.rows.map { row in
            guard row.count == 1, case .string(let s) = row[0] else { throw BenchError("expected one string per row, got \(row)") }
            return s
        }.sorted()
    }
}

/// A benchmark failure with a message for the person running it.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
