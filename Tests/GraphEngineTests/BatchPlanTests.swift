import Testing
import VectorEngine
import WorkControl
@testable import GraphEngine

@Suite("aggregations run in blocks (BatchPlan) answer exactly as row at a time")
struct BatchPlanTests {
    /// The graphs the batch path is checked on.
    enum Shape: String, CaseIterable, Sendable {
        /// 6,000 nodes: property columns for the keys most nodes have, label bitsets for the
        /// dense labels, a label scan of several chunks (so a run on threads has parts).
        case columns
        /// 300 nodes: no property column, and a sparse label tested on the node.
        case small
    }

    /// One run: a graph shape, and the threads the batch path may use.
    struct Setup: Sendable, CustomTestStringConvertible {
        var shape: Shape
        var threads: Int
        var testDescription: String { "\(shape.rawValue), \(threads) thread\(threads == 1 ? "" : "s")" }
        static let all = Shape.allCases.flatMap { shape in [1, 3].map { Setup(shape: shape, threads: $0) } }
    }

    /// A seeded graph with what the batch path must get right: labels dense (`P`, `Q`) and sparse
    /// (`S`: a few dozen nodes, no bitset), a key that is mostly integers but also integral and
    /// other floats, strings and missing (`age`), clean integers (`n`), group keys with a float
    /// among the integers (`g`), floats (`f`), integers whose sum overflows (`big`, on a few
    /// nodes: no column), relationships of two types with and without a property, self-loops,
    /// and deleted nodes (holes in the ids, columns and labels).
    static func graph(_ shape: Shape) throws -> GraphDatabase {
        let nodes = shape == .columns ? 6_000 : 300
        var rng = SeededGenerator(seed: shape == .columns ? 11 : 12)
        func pick(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        var db = GraphDatabase()
        try db.withStore { store throws(GraphError) in
            for i in 0..<nodes {
                var labels = [["P"], ["P", "Q"], ["Q"], [], ["P"]][pick(5)]
                if pick(200) == 0 { labels.append("S") }
                var properties: [String: Value] = ["n": .int(Int64(pick(1000))), "name": .string("n\(pick(nodes))"),
                                                   "f": .float(Double(pick(1000)) / 7)]
                switch pick(40) {
                case 0, 1: properties["age"] = .float(Double(pick(20)))
                case 2: properties["age"] = .float(Double(pick(20)) + 0.5)
                case 3: if i > nodes / 2 { properties["age"] = .string("x") }
                case 4, 5: break
                default: properties["age"] = .int(Int64(pick(20)))
                }
                properties["g"] = pick(10) == 0 ? .float(2) : .int(Int64(pick(7)))
                if pick(100) == 0 { properties["big"] = .int(Int64.max / 2 + Int64(pick(10))) }
                try store.createNode(labels: labels, properties: properties)
            }
            for _ in 0..<(4 * nodes) {
                let a = pick(nodes), b = pick(8) == 0 ? a : pick(nodes)
                guard store.node(a) != nil, store.node(b) != nil else { continue }
                let properties: [String: Value] = pick(3) == 0 ? [:] : ["w": .int(Int64(pick(5)))]
                try store.createRelationship(type: pick(4) == 0 ? "T" : "R", from: a, to: b, properties: properties)
            }
            for id in stride(from: 7, to: nodes, by: 13) { try store.deleteNode(id, detach: true) }
        }
        return db
    }

    static let graphs: [Shape: GraphDatabase] = {
        var graphs: [Shape: GraphDatabase] = [:]
        for shape in Shape.allCases { graphs[shape] = try? graph(shape) }
        return graphs
    }()

    /// Queries of the batch path's shape: each must answer (or fail) as the row path does, rows
    /// in the same order (groups in the order first seen), floats to the bit.
    static let queries = [
        "MATCH (n:P) RETURN n.age AS k, count(*) AS c",
        "MATCH (n:P) RETURN n.g AS k, count(n.age) AS c, sum(n.n) AS s, avg(n.n) AS a, min(n.n) AS lo, max(n.n) AS hi",
        "MATCH (n:P) RETURN n.g AS k, avg(n.f) AS a, sum(n.f) AS s, min(n.f) AS lo, max(n.name) AS hi",
        "MATCH (n:Q) RETURN n.age AS k, min(n.age) AS lo, max(n.age) AS hi, count(*) AS c",
        "MATCH (n:P) RETURN avg(n.age) AS a",
        "MATCH (n:Q) RETURN n.g AS k, sum(n.big) AS s",
        "MATCH (n) RETURN sum(n.big) AS s",
        "MATCH (n:P) RETURN n.g AS k, sum(n.age) AS s",
        "MATCH (n:P) RETURN n.g AS g, count(n) AS c",
        "MATCH (n:P) RETURN count(n) AS c, count(n.age) AS d",
        "MATCH (a:P)-[:R]->(b:P) RETURN a.age AS k, avg(b.n) AS a ORDER BY k",
        "MATCH (a:P)-[:R]->(b:P) RETURN a.g AS k, avg(b.f) AS a, count(*) AS c",
        "MATCH (a:P)-[:R]->(b:P) RETURN a.g AS k, min(b.age) AS lo, max(b.age) AS hi",
        "MATCH (a:P)-[:R]->(b) RETURN a.g AS g, b.g AS h, count(*) AS c",
        "MATCH (a:P)-[:R]->(b:P) RETURN a.age AS k, b.age AS j, count(*) AS c",
        "MATCH (a)-[r]->(b:S) RETURN a AS a, count(r) AS c, sum(r.w) AS w",
        "MATCH (a:S)<-[:R]-(b) RETURN b.name AS name, count(*) AS c",
        "MATCH (a:P)-[:R|T]-(b:P) RETURN count(*) AS c, min(b.n) AS m",
        "MATCH (a:P)-[:R]->(b) RETURN count(*) AS c",
        "MATCH (n:P:Q) RETURN count(*) AS c",
        "MATCH (n) RETURN count(*) AS c",
        "MATCH (a:P)-[:R]->(b)-[:R]->(c) RETURN a.g AS g, count(*) AS c, max(c.n) AS m",
        "MATCH (a)-[:R]->(b)-[:T]->(a) RETURN a.g AS g, count(*) AS c",
        "MATCH (a)-[r1]->(b)<-[r2]-(c) RETURN b.g AS g, count(*) AS c",
        "MATCH (a)-[r:R]->(b) RETURN r.w AS w, count(*) AS c",
        "MATCH (a:P)-[r:R]->(b) RETURN a.g AS g, count(r.w) AS c, avg(r.w) AS a",
        "MATCH (a:P)-[r]->(b:Q) RETURN r AS r, count(*) AS c",
        "MATCH (n) RETURN n.g AS g, count(*) AS c",
        "MATCH (n:P:Q) RETURN n.g AS g, max(n.name) AS hi, min(n.name) AS lo",
        "MATCH (n:S:P) RETURN n.g AS g, count(*) AS c",
        "MATCH (n:P) RETURN n.nope AS k, count(*) AS c, sum(n.nope) AS s",
        "MATCH (n:Nope) RETURN n.age AS k, count(*) AS c",
        "MATCH (n:Nope) RETURN count(*) AS c, avg(n.age) AS a",
        "MATCH (a:P)-[:Nope]->(b) RETURN a.g AS g, count(*) AS c",
        "MATCH (n:P) RETURN n.g AS g, count(*) * 2 AS c ORDER BY c DESC, g LIMIT 3",
        "MATCH (n:P) RETURN n.g AS g, count(*) AS c, sum(n.n) / count(*) AS mean ORDER BY mean, g SKIP 1",
        "MATCH (n:Q) RETURN DISTINCT n.g AS g, count(*) > 100 AS many",
    ]

    private enum Outcome: Equatable, CustomStringConvertible {
        case rows([String], [[Value]])
        case error(GraphError.Code, String)

        var description: String {
            switch self {
            case .rows(let columns, let rows): return "\(columns) \(rows.prefix(8))\(rows.count > 8 ? " ... (\(rows.count))" : "")"
            case .error(let code, let message): return "\(code): \(message)"
            }
        }
    }

    private static func outcome(_ db: GraphDatabase, _ query: String) -> Outcome {
        var db = db
        do throws(GraphError) {
            let r = try db.execute(query)
            return .rows(r.columns, r.rows)
        } catch {
            return .error(error.code, error.message)
        }
    }

    @Test("each query answers as the row path does", arguments: queries, Setup.all)
    func matchesRowPath(query: String, setup: Setup) throws {
        var batched = try #require(Self.graphs[setup.shape])
        batched.queryThreads = setup.threads
        batched.idsPerQueryThread = 256
        var rows = batched
        rows.usesBatches = false
        #expect(try batched.execute("EXPLAIN " + query).plan?.operators.contains { $0.name == "BatchAggregation" } == true)
        let expected = Self.outcome(rows, query)
        #expect(Self.outcome(batched, query) == expected)
        // And the interpreter (whose rows may come in another order).
        var interpreted = rows
        interpreted.usesPlanner = false
        switch (expected, Self.outcome(interpreted, query)) {
        case (.rows(let c1, let r1), .rows(let c2, let r2)):
            #expect(c1 == c2 && r1.map(\.description).sorted() == r2.map(\.description).sorted())
        case (.error(let c1, _), .error(let c2, _)):
            #expect(c1 == c2)
        case (let a, let b):
            Issue.record("row path \(a), interpreter \(b)")
        }
    }

    @Test("queries of other shapes are not run in blocks", arguments: [
        "MATCH (n:P) WHERE n.g = 1 RETURN n.age AS k, count(*) AS c",
        "MATCH (n:P) RETURN count(*) AS c",
        "MATCH (n:P) RETURN n.g % 2 AS k, count(*) AS c",
        "MATCH (n:P) RETURN n.g AS k, count(DISTINCT n.age) AS c",
        "MATCH (n:P) RETURN n.g AS k, collect(n.age) AS c",
        "MATCH (n:P {g: 1}) RETURN n.age AS k, count(*) AS c",
        "MATCH (a:P)-[:R*1..2]->(b) RETURN a.g AS k, count(*) AS c",
        "MATCH (a:P)-[r:R {w: 1}]->(b) RETURN a.g AS k, count(*) AS c",
        "MATCH (a:P), (b:Q) RETURN a.g AS k, count(*) AS c",
        "MATCH (n:P) RETURN n.g AS k, sum(n) AS s",
        "MATCH (n:P) RETURN n.age AS k",
    ])
    func otherShapes(query: String) throws {
        var db = try #require(Self.graphs[.small])
        let plan = try #require(try db.execute("EXPLAIN " + query).plan)
        #expect(!plan.operators.contains { $0.name.hasPrefix("Batch") })
    }

    /// One group's integer sum over `values`, taken out of order (as one part of a run on
    /// threads, or a scan of the relationships).
    private static func sum(_ values: [Int64]) throws(GraphError) -> BatchAccumulator {
        var accumulator = BatchAccumulator(.sum, inOrder: false)
        accumulator.addGroup()
        let block = BatchValues()
        for (k, v) in values.enumerated() { block.set(k, .int(v)) }
        let groups = [Int](repeating: 0, count: values.count)
        let control = QueryControl(bounds: .unbounded(work: "the test"), deadline: nil)
        try groups.withUnsafeBufferPointer { (groups) throws(GraphError) in try accumulator.add(block, groups, control) }
        return accumulator
    }

    @Test("integer sums taken out of order give the exact sum, or ask for the rows in order when a running sum might overflow", arguments: [
        // (first part, later part, the sum; nil: its positive or negative values' total overflows,
        // so some order of the rows overflows on the way)
        ([1], [Int64.max, -1], nil),
        ([1], [-1, Int64.max], nil),
        ([-2], [Int64.min + 1, 5], nil),
        ([Int64.max], [-1, 1], nil),
        ([Int64.max - 10], [5, -100, 5], Int64.max - 100),
        ([Int64.min + 5], [-5, 7], Int64.min + 7),
        ([Int64.min], [], Int64.min),
        ([3, 4], [5, -12], 0),
    ] as [([Int64], [Int64], Int64?)])
    func outOfOrderSums(first: [Int64], later: [Int64], expected: Int64?) throws {
        do throws(GraphError) {
            var merged = try Self.sum(first)
            let part = try Self.sum(later)
            try merged.absorb(part, group: 0, into: 0)
            #expect(merged.value(0) == expected.map { .int($0) }, "\(first) then \(later)")
        } catch {
            #expect(expected == nil && error.code == Executor.batchInOrder, "\(first) then \(later): \(error)")
        }
        // All the values in one part: the same.
        do throws(GraphError) {
            #expect(try Self.sum(first + later).value(0) == expected.map { .int($0) }, "\(first + later)")
        } catch {
            #expect(expected == nil && error.code == Executor.batchInOrder, "\(first + later): \(error)")
        }
    }

    @Test("EXPLAIN and PROFILE name the batch operators; PROFILE counts the row path's rows")
    func explainAndProfile() throws {
        var db = try #require(Self.graphs[.columns])
        // Both directions: the scanned nodes' adjacency is walked.
        let query = "MATCH (a:P)-[:R]-(b:P) RETURN a.age AS k, avg(b.n) AS a ORDER BY k"
        let explained = try #require(try db.execute("EXPLAIN " + query).plan)
        #expect(explained.operators.map(\.name) == ["ProduceResults", "BatchAggregation", "BatchExpand(All)", "BatchNodeByLabelScan"])
        #expect(explained.operators[2].details.hasSuffix("in blocks of 1024"))
        var rows = db
        rows.usesBatches = false
        let profiled = try #require(try db.execute("PROFILE " + query).plan)
        let reference = try #require(try rows.execute("PROFILE " + query).plan)
        #expect(profiled.operators.map(\.name) == explained.operators.map(\.name))
        #expect(reference.operators.map(\.name) == ["ProduceResults", "EagerAggregation", "Expand(All)", "NodeByLabelScan"])
        #expect(profiled.operators.map(\.rows) == reference.operators.map(\.rows))
        #expect(profiled.operators.dropFirst().allSatisfy { $0.nanoseconds != nil })
        // On threads, the parts' rows add up to the same.
        db.queryThreads = 3
        db.idsPerQueryThread = 256
        #expect(try db.execute("PROFILE " + query).plan?.operators.map(\.rows) == reference.operators.map(\.rows))
        // A run given up for the row path (a string in an average) fails as the row path does.
        #expect(throws: GraphError.self) { try db.execute("PROFILE MATCH (n:P) RETURN n.g AS k, avg(n.age) AS a") }
    }

    @Test("one expand over most of the graph reads the relationships where they are stored, on one thread or three", arguments: [1, 3])
    func relationshipScan(threads: Int) throws {
        var db = try #require(Self.graphs[.columns])
        db.queryThreads = threads
        db.idsPerQueryThread = 256
        var rows = db
        rows.usesBatches = false
        // Integer keys and arguments (1 and 1.0 among the keys: the group keeps the first row's).
        for query in ["MATCH (a:P)-[:R]->(b:P) RETURN a.age AS k, avg(b.n) AS a, sum(b.n) AS s, min(b.n) AS lo ORDER BY k",
                      "MATCH (a:P)<-[r:R]-(b) RETURN b.age AS k, a.age AS j, count(*) AS c, max(r.w) AS m",
                      "MATCH (a)-[:R|T]->(b:Q) RETURN a.g AS g, b.g AS h, count(b.age) AS c"] {
            let profiled = try #require(try db.execute("PROFILE " + query).plan)
            let reference = try #require(try rows.execute("PROFILE " + query).plan)
            #expect(profiled.operators.map(\.name) == ["ProduceResults", "BatchAggregation", "BatchRelationshipScan"], "\(query)")
            // Its rows are the expand's.
            #expect(profiled.operators.map(\.rows) == reference.operators.prefix(3).map(\.rows), "\(query)")
            #expect(try db.execute(query).rows == rows.execute(query).rows, "\(query)")
        }
        let details = try db.execute("EXPLAIN MATCH (a:P)-[:R]->(b:P) RETURN a.age AS k, count(*) AS c").plan?.operators[2].details
        #expect(details == "(a:P)-[anon_1:R]->(b:P), each relationship where it is stored, in blocks of 1024", "\(details ?? "")")
        // Floats summed, non-integers compared: their order matters, so the adjacency is walked, in order.
        for query in ["MATCH (a:P)-[:R]->(b:P) RETURN a.g AS k, avg(b.f) AS a", "MATCH (a:P)-[:R]->(b:P) RETURN a.g AS k, min(b.age) AS lo"] {
            let profiled = try #require(try db.execute("PROFILE " + query).plan)
            #expect(profiled.operators.map(\.name) == ["ProduceResults", "BatchAggregation", "BatchExpand(All)", "BatchNodeByLabelScan"])
            #expect(try db.execute(query).rows == rows.execute(query).rows, "\(query)")
        }
        // A label on few nodes (`S`): its nodes' adjacency is read, not every relationship.
        let few = "MATCH (a:S)-[:R]->(b) RETURN a.g AS g, count(*) AS c"
        #expect(try db.execute("EXPLAIN " + few).plan?.operators.map(\.name) == ["ProduceResults", "BatchAggregation", "BatchExpand(All)", "BatchNodeByLabelScan"])
        #expect(try db.execute(few).rows == rows.execute(few).rows)
    }
}
