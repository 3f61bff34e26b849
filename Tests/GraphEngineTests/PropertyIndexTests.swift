import Testing
import VectorEngine
@testable import GraphEngine

@Suite("property indexes: equality lookups that agree with a scan")
struct PropertyIndexTests {
    private static let key = PropertyIndexes.Key(label: "P", property: "k")

    /// A seeded sequence of writes mixing every way a node can enter or leave the index.
    private func randomWrites(_ db: inout GraphDatabase, seed: UInt64, steps: Int) throws {
        var rng = SeededGenerator(seed: seed)
        func pick(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        for _ in 0..<steps {
            let k = pick(12), id = pick(80)
            let value: String = [String(k), "\(k).0", "'s\(k)'", "true", "[\(k)]", "null"][pick(6)]
            switch pick(7) {
            case 0: try db.execute("CREATE (:P {k: \(value), n: \(id)})")
            case 1: try db.execute("CREATE (:Q {k: \(value), n: \(id)})")
            case 2: try db.execute("MATCH (x {n: \(id)}) SET x.k = \(value)")
            case 3: try db.execute("MATCH (x {n: \(id)}) REMOVE x.k")
            case 4: try db.execute("MATCH (x {n: \(id)}) SET x:P")
            case 5: try db.execute("MATCH (x:P {n: \(id)}) REMOVE x:P")
            default: try db.execute("MATCH (x {n: \(id)}) DETACH DELETE x")
            }
        }
    }

    @Test("after random writes the index holds exactly the nodes a scan finds", arguments: [UInt64(1), 2, 3])
    func indexAgreesWithScan(seed: UInt64) throws {
        var db = GraphDatabase()
        try db.createPropertyIndex(name: "pk", Self.key)      // created first: maintained by every write
        try randomWrites(&db, seed: seed, steps: 600)
        var late = db
        late.store = GraphStore()
        try late.withStore { store throws(GraphError) in try store.apply(db.store.everything) }
        try late.createPropertyIndex(name: "pk", Self.key)    // built from the finished store
        for probe: Value in [.int(3), .float(3), .string("s3"), .bool(true), .int(11), .float(3.5)] {
            let scan = db.store.nodeIds(withLabel: "P").filter { id in
                guard let v = db.store.node(id)?.properties["k"] else { return false }
                return Semantics.equal(v, probe) == true
            }
            #expect(db.store.propertyIndexes.candidates(label: "P", property: "k", equalTo: probe) == scan, "\(probe)")
            #expect(late.store.propertyIndexes.candidates(label: "P", property: "k", equalTo: probe) == scan, "\(probe)")
        }
    }

    @Test("queries answer the same with and without the index", arguments: [
        "MATCH (x:P {k: 3}) RETURN x.n AS n ORDER BY n",
        "MATCH (x:P) WHERE x.k = 3.0 RETURN x.n AS n ORDER BY n",
        "MATCH (x:P) WHERE 's4' = x.k AND x.n > 10 RETURN x.n AS n ORDER BY n",
        "MATCH (x:P) WHERE x.k = $k RETURN count(x) AS c",
        "MATCH (x:P) WHERE x.k = x.n RETURN count(x) AS c",
        "MATCH (a:P {k: 5}), (b:P) WHERE b.k = a.k RETURN count(*) AS c",
        "MATCH (a:Q) OPTIONAL MATCH (b:P) WHERE b.k = a.k RETURN a.n AS a, count(b) AS c ORDER BY a, c",
        "MATCH (x:P) WHERE x.k = 3 OR x.k = 4 RETURN count(x) AS c",
        "MATCH (x:P) WHERE x.k = [3] RETURN count(x) AS c",
        "MATCH (x:P) WHERE x.k = null RETURN count(x) AS c",
        "MATCH (x:P) WHERE id(x) = 5 RETURN x.n AS n",
        "MATCH (x) WHERE id(x) = 5.0 AND x.k = 3 RETURN x.n AS n",
        "MATCH (x:Q), (y:P) WHERE id(y) = id(x) + 1 RETURN x.n AS a, y.n AS b ORDER BY a, b",
        "MATCH (x:P) WHERE id(x) = 'five' OR x.k = 2 RETURN count(x) AS c",
        "MATCH (x:P) WHERE id(x) = -1 RETURN count(x) AS c",
    ])
    func sameAnswers(query: String) throws {
        var plain = GraphDatabase()
        try randomWrites(&plain, seed: 9, steps: 500)
        var indexed = plain
        try indexed.createPropertyIndex(name: "pk", Self.key)
        let parameters: [String: Value] = ["k": .int(7)]
        // The oracle: the same query with every WHERE equality hidden from the planner.
        let hidden = !query.contains("WHERE ") ? query
            : query.replacingOccurrences(of: "WHERE ", with: "WHERE true AND NOT NOT (").replacingOccurrences(of: " RETURN", with: ") RETURN")
        let expected = try plain.execute(hidden, parameters: parameters)
        #expect(try indexed.execute(query, parameters: parameters) == expected)
        #expect(try plain.execute(query, parameters: parameters) == expected)
    }

    @Test("a WHERE equality of one MATCH does not narrow a later MERGE of the same name")
    func hintsStayInTheirMatch() throws {
        var db = GraphDatabase()
        try db.createPropertyIndex(name: "pk", Self.key)
        try db.execute("CREATE (:P {k: 1, y: 2}), (:P {k: 2})")
        try db.execute("MATCH (n:P) WHERE n.k = 2 WITH count(*) AS c MERGE (n:P {y: 2})")
        #expect(try db.execute("MATCH (n:P) RETURN count(n)").rows == [[.int(2)]])
    }

    @Test("a WHERE equality of one MATCH does not narrow a pattern evaluated in a later clause", arguments: [
        // Both read the same name after WITH has dropped it: the pattern's n is a new variable.
        "MATCH (n:P) WHERE n.k = 2 WITH count(*) AS c RETURN size([(n:P)-[:R]->() | 1]) AS m",
        "MATCH (n) WHERE id(n) = 0 WITH count(*) AS c RETURN size([(n)-[:R]->() | 1]) AS m",
        // The same within one pipeline (plain WITHs pass each row on as the MATCH finds it).
        "MATCH (n:P) WHERE n.k = 2 WITH n.k AS k WITH k, [(n:P)-[:R]->() | 1] AS l RETURN size(l) AS m",
        "MATCH (n) WHERE id(n) = 0 WITH id(n) AS i WITH i, [(n)-[:R]->() | 1] AS l RETURN size(l) AS m",
    ])
    func hintsStayInTheirMatchWhenPipelined(query: String) throws {
        var db = GraphDatabase()
        try db.createPropertyIndex(name: "pk", Self.key)
        try db.execute("CREATE (:P {k: 1})-[:R]->(:Q), (:P {k: 2})-[:R]->(:Q)")
        #expect(try db.execute(query).rows == [[.int(2)]])
    }

    @Test("the index narrows the scan: a lookup among many nodes touches only the matches")
    func lookupIsNarrow() throws {
        var db = GraphDatabase()
        try db.execute("UNWIND range(1, 20000) AS i CREATE (:P {k: i % 1000, n: i})")
        try db.createPropertyIndex(name: "pk", Self.key)
        #expect(db.store.propertyIndexes.candidates(label: "P", property: "k", equalTo: .int(7))?.count == 20)
        #expect(db.store.propertyIndexes.count(Self.key) == 20000)
        #expect(try db.execute("MATCH (x:P {k: 7}) RETURN count(x)").rows == [[.int(20)]])
    }

    @Test("names and pairs are unique across property and vector indexes")
    func uniqueness() throws {
        var db = GraphDatabase()
        try db.createPropertyIndex(name: "pk", Self.key)
        #expect(throws: GraphError.self) { try db.createPropertyIndex(name: "pk", .init(label: "P", property: "other")) }
        #expect(throws: GraphError.self) { try db.createPropertyIndex(name: "again", Self.key) }
        #expect(throws: GraphError.self) { try db.createPropertyIndex(name: "", .init(label: "P", property: "z")) }
        #expect(throws: GraphError.self) {
            try db.createVectorIndex(VectorIndexDefinition(name: "pk", label: "P", property: "v", dimension: 2, metric: .l2Squared))
        }
        try db.createVectorIndex(VectorIndexDefinition(name: "vec", label: "P", property: "v", dimension: 2, metric: .l2Squared))
        #expect(throws: GraphError.self) { try db.createPropertyIndex(name: "vec", .init(label: "P", property: "z")) }
    }

    @Test("an index of thousands of values spread over buckets: lookups and counts follow random writes, and a snapshot keeps its own")
    func bucketsFollowWrites() throws {
        var rng = SeededGenerator(seed: 11)
        var indexes = PropertyIndexes()
        let key = PropertyIndexes.Key(label: "P", property: "v")
        indexes.create(key, name: "pv", nodes: [Node]())
        var model: [Int: Int] = [:]   // id -> value
        var snapshot: (indexes: PropertyIndexes, model: [Int: Int])? = nil
        func node(_ id: Int, _ value: Int?) -> Node? {
            value.map { Node(id: id, labels: ["P"], properties: ["v": .int(Int64($0))]) }
        }
        for step in 0..<40_000 {
            let id = Int(rng.next() % 12_000), value = Int(rng.next() % 6_000)
            let old = model[id]
            let new: Int? = rng.next() % 4 == 0 ? nil : value
            indexes.update(id, from: node(id, old), to: node(id, new))
            model[id] = new
            if step == 20_000 { snapshot = (indexes, model) }
        }
        for (indexes, model) in [(indexes, model), snapshot!] {
            var expected: [Int: [Int]] = [:]
            for (id, value) in model { expected[value, default: []].append(id) }
            #expect(indexes.count(key) == model.count)
            for value in 0..<6_000 {
                let found = indexes.candidates(label: "P", property: "v", equalTo: .int(Int64(value)))
                #expect(found == (expected[value] ?? []).sorted())
            }
        }
    }
}
