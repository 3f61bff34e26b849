import Testing
import VectorEngine
@testable import GraphEngine

/// Property columns of integers (`IntColumn`, inside `PropertyColumn`) against a column of
/// `Value`s given the same writes, the move to `Value`s at the first value of another kind, and
/// the store, its queries (row at a time and in blocks) and its transactions over both layouts.
@Suite("property columns hold integers as integers until a value of another kind comes")
struct PropertyColumnTests {
    /// Every read of `column` equals the same read of `expected` (a column of `Value`s).
    private static func check(_ column: PropertyColumn, _ expected: IdTable<Value>, ids: [Int],
                              sourceLocation: SourceLocation = #_sourceLocation) {
        for id in ids {
            #expect(column.value(id) == expected[id], "id \(id)", sourceLocation: sourceLocation)
        }
        #expect(column.count == expected.count, sourceLocation: sourceLocation)
        #expect(column.idBounds == expected.idBounds, sourceLocation: sourceLocation)
        var ints: [[Int64]] = []
        column.forEachInt { id, i in ints.append([Int64(id), i]) }
        var expectedInts: [[Int64]] = []
        expected.forEach { id, value in if case .int(let i) = value { expectedInts.append([Int64(id), i]) } }
        #expect(ints == expectedInts, sourceLocation: sourceLocation)
    }

    @Test("an integer column answers as a column of Values on the same writes, copies included")
    func integersAsValues() {
        var rng = SeededGenerator(seed: 5)
        func pick(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        // Chunks near and far (an id past a transaction's reserved million), values at the extremes.
        let far = 1 << 40
        let ids = Array(0..<20_000) + [far, far + 4_095, far + 4_096]
        let extremes: [Int64] = [0, -1, 1, .min, .max, 1 << 53]
        var column = PropertyColumn(), expected = IdTable<Value>()
        var copies: [(PropertyColumn, IdTable<Value>)] = []
        for step in 0..<30_000 {
            let id = ids[pick(ids.count)]
            let value: Value? = pick(4) == 0 ? nil : .int(pick(5) == 0 ? extremes[pick(extremes.count)] : Int64(pick(200)) - 100)
            column.set(id, value)
            expected[id] = value
            if step % 10_000 == 9_999 { copies.append((column, expected)) }
        }
        // Empty a whole chunk: it is freed, and reads of it answer nothing.
        for id in 4_096..<8_192 {
            column.set(id, nil)
            expected[id] = nil
        }
        #expect(column.holdsInts)
        Self.check(column, expected, ids: [-1, -4_097] + ids)
        // Later writes never show in a copy taken before them.
        for (copy, copyExpected) in copies { Self.check(copy, copyExpected, ids: ids) }
        var empty = PropertyColumn()
        for id in ids { empty.set(id, nil) }
        #expect(empty.count == 0 && empty.idBounds == nil && empty.allocatedSlots == 0 && empty.value(0) == nil)
    }

    @Test("the first value that is not an integer moves the column to Values, every value kept as it was",
          arguments: [Value.float(1.0), .float(-0.5), .string("7"), .list([.int(1)]), .bool(true)])
    func firstOtherValue(other: Value) {
        var column = PropertyColumn(), expected = IdTable<Value>()
        for id in stride(from: 0, to: 9_000, by: 3) {
            column.set(id, .int(Int64(id % 90)))
            expected[id] = .int(Int64(id % 90))
        }
        // Removing a value keeps the integers.
        column.set(3, nil)
        expected[3] = nil
        #expect(column.holdsInts)
        let before = column, beforeExpected = expected
        column.set(6_000, other)
        expected[6_000] = other
        #expect(!column.holdsInts)
        Self.check(column, expected, ids: Array(0..<9_100))
        // Not an integer equal to it: a float 1.0 reads back as a float.
        #expect(column.value(6_000) == other && column.value(9) == .int(9))
        // The copy taken before the move still holds integers and answers as before.
        #expect(before.holdsInts)
        Self.check(before, beforeExpected, ids: Array(0..<9_100))
        // Integers written after the move are read back as integers.
        column.set(1, .int(5))
        expected[1] = .int(5)
        column.set(6_000, nil)
        expected[6_000] = nil
        Self.check(column, expected, ids: Array(0..<9_100))
    }

    /// A database with 6,000 nodes: `k` an integer on most (a column of integers), `f` a float.
    private static func database() throws -> GraphDatabase {
        var db = GraphDatabase()
        try db.execute("UNWIND range(0, 5999) AS i CREATE (:P {k: CASE WHEN i % 10 = 3 THEN null ELSE i % 37 END, f: i * 0.5})")
        try db.execute("MATCH (a:P), (b:P) WHERE id(b) = (id(a) * 7 + 1) % 6000 CREATE (a)-[:R]->(b)")
        return db
    }

    /// The queries the equality checks run, in blocks and row at a time.
    private static let queries = [
        "MATCH (n:P) RETURN n.k AS k, count(*) AS c",
        "MATCH (n:P) RETURN n.k % 3 AS m, sum(n.k) AS s, min(n.k) AS lo, max(n.k) AS hi, count(n.k) AS c",
        "MATCH (n:P) RETURN n.k AS k, avg(n.f) AS a",
        "MATCH (a:P)-[:R]->(b:P) RETURN a.k AS k, avg(b.k) AS a, count(b.k) AS c, min(b.k) AS lo",
        "MATCH (a:P)-[:R]->(b:P) RETURN b.k AS k, count(*) AS c",
        "MATCH (n:P) WHERE n.k = 1 RETURN id(n) AS id, n.k AS k ORDER BY id",
    ]

    /// A query's rows, or its error (`n.k % 3` fails on a string, in both paths alike).
    private static func outcome(_ db: GraphDatabase, _ query: String) -> String {
        var db = db
        do throws(GraphError) {
            return "\(try db.execute(query).rows)"
        } catch {
            return "\(error.code): \(error.message)"
        }
    }

    /// Each query's rows in blocks (on 1 and 3 threads) equal its rows row at a time.
    private static func expectBatchesMatchRows(_ db: GraphDatabase, sourceLocation: SourceLocation = #_sourceLocation) {
        var rows = db
        rows.usesBatches = false
        for query in queries {
            let expected = outcome(rows, query)
            for threads in [1, 3] {
                var batched = db
                batched.queryThreads = threads
                batched.idsPerQueryThread = 256
                #expect(outcome(batched, query) == expected, "\(query), \(threads) threads", sourceLocation: sourceLocation)
            }
        }
    }

    @Test("queries in blocks answer as row at a time before and after the column moves to Values",
          arguments: ["1.0", "'1'", "[1]", "true"])
    func batchesAcrossTheMove(literal: String) throws {
        var db = try Self.database()
        #expect(db.store.propertyColumns.column("k")?.holdsInts == true)
        Self.expectBatchesMatchRows(db)
        // Mid-way through the ids, one node's k becomes another kind of value; others are removed.
        try db.execute("MATCH (n:P) WHERE id(n) = 3001 SET n.k = \(literal)")
        try db.execute("MATCH (n:P) WHERE id(n) % 100 = 7 REMOVE n.k")
        #expect(db.store.propertyColumns.column("k")?.holdsInts == false)
        #expect(try db.execute("MATCH (n) WHERE id(n) IN [3001, 3002] RETURN n.k AS k ORDER BY id(n)").rows
                == [[try db.execute("RETURN \(literal) AS v").rows[0][0]], [.int(3002 % 37)]])
        Self.expectBatchesMatchRows(db)
    }

    @Test("a rolled-back transaction or failed query leaves the column of integers as it was")
    func rollbackAcrossTheMove() throws {
        var db = try Self.database()
        let before = Self.outcome(db, "MATCH (n:P) RETURN n.k AS k, count(*) AS c")
        // A query that fails after its SET changes nothing.
        #expect(throws: GraphError.self) { try db.execute("MATCH (n:P) WHERE id(n) = 5 SET n.k = 2.5 WITH n RETURN 1 / 0 AS x") }
        #expect(db.store.propertyColumns.column("k")?.holdsInts == true)
        #expect(db.store.nodeProperty(5, "k") == .int(5))
        // A transaction sees its own move; dropped, the database never does.
        var tx = db.beginTransaction()
        try tx.execute("MATCH (n:P) WHERE id(n) = 5 SET n.k = 2.5")
        try tx.execute("MATCH (n:P) WHERE id(n) = 6 SET n.k = 40")
        #expect(tx.store.propertyColumns.column("k")?.holdsInts == false)
        #expect(try tx.execute("MATCH (n:P) WHERE id(n) IN [5, 6] RETURN n.k AS k ORDER BY id(n)").rows == [[.float(2.5)], [.int(40)]])
        #expect(db.store.propertyColumns.column("k")?.holdsInts == true)
        #expect(db.store.nodeProperty(5, "k") == .int(5) && db.store.nodeProperty(6, "k") == .int(6))
        #expect(Self.outcome(db, "MATCH (n:P) RETURN n.k AS k, count(*) AS c") == before)
        // Committed, it is the database's.
        try db.commit(tx)
        #expect(db.store.propertyColumns.column("k")?.holdsInts == false)
        #expect(db.store.nodeProperty(5, "k") == .float(2.5) && db.store.nodeProperty(6, "k") == .int(40))
        Self.expectBatchesMatchRows(db)
    }
}
