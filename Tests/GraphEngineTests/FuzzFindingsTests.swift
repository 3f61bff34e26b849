import Testing
import GraphEngine

/// Queries `ruvector-fuzz cypher` found crashing the process (see docs/fuzzing.md): each is
/// refused now with a clear error.
@Suite("fuzz findings: Cypher")
struct CypherFuzzFindingsTests {
    @Test("a SET or REMOVE target with thousands of property links is refused (evaluating it overflowed the stack)",
          arguments: ["MATCH (n) REMOVE n", "MATCH (n) SET n", "CREATE (n) SET n"])
    func longPropertyTargetChain(clause: String) throws {
        var db = GraphDatabase()
        try db.execute("CREATE ({name: 'a'})")
        let value = clause.hasSuffix("REMOVE n") ? "" : " = 1"
        let error = #expect(throws: GraphError.self) { try db.execute(clause + String(repeating: ".name", count: 5000) + value) }
        #expect(error?.code == .limitExceeded)
        try db.execute(clause + ".name" + value)

    }

    @Test("UNWIND and WITH over many rows, each evaluating a list comprehension, stop at the deadline (they ran on past it)")
    func rowsOfComprehensionsHonourTheDeadline() throws {
        var db = GraphDatabase()
        let query = """
            UNWIND range(1, 300) AS a
            WITH a, [y IN range(1, 300) WHERE y > a | y] AS l
            UNWIND l AS b
            WITH a, b, [y IN range(1, 300) WHERE y % 7 = b % 7 | y] AS m
            RETURN count(*) AS n ORDER BY n
            """
        let started = ContinuousClock.now
        let error = #expect(throws: GraphError.self) { try db.execute(query, deadline: .now + .milliseconds(100)) }
        #expect(error?.code == .timeout)
        #expect(ContinuousClock.now - started < .seconds(2))
    }

    @Test("SKIP and LIMIT as large as Int64.max answer (adding or doubling them overflowed and trapped)",
          arguments: ["MATCH (a) WITH a, a.k AS k ORDER BY k DESC LIMIT 9223372036854775807 RETURN a.k AS k",
                      "MATCH (a) RETURN a.k AS k ORDER BY k SKIP 9223372036854775807 LIMIT 9223372036854775807",
                      "MATCH (a) RETURN a.k AS k SKIP 1 LIMIT 9223372036854775807",
                      "UNWIND range(1, 3) AS i WITH i SKIP 9223372036854775807 LIMIT 9223372036854775807 RETURN i"])
    func hugeSkipAndLimit(query: String) throws {
        var db = GraphDatabase()
        try db.execute("UNWIND range(1, 5) AS i CREATE (:N {k: i})")
        let rows = try db.execute(query).rows
        #expect(rows.count <= 5)
        if query.contains("DESC") { #expect(rows.map { $0[0] } == (1...5).reversed().map { Value.int(Int64($0)) }) }
    }

    @Test("^ with a NaN or infinite exponent answers NaN or infinity (NaN reached an Int conversion in exp and trapped)",
          arguments: ["RETURN 1 + (2 - (3 * (4 / (5 ^ (6 % 0.0))))) AS a",   // CI fuzz run, seed 178404790143760
                      "RETURN 1.0 ^ (1.0 / 0.0) AS a", "RETURN (0.0 / 0.0) ^ 2 AS a", "RETURN 2 ^ (0.0 / 0.0) AS a",
                      "RETURN 0.5 ^ (1.0 / 0.0) AS a", "RETURN 2.0 ^ (1.0 / 0.0) AS a", "RETURN 2.0 ^ (-1.0 / 0.0) AS a"])
    func powerOfNaN(query: String) throws {
        var db = GraphDatabase()
        let rows = try db.execute(query).rows
        guard case .float(let x)? = rows.first?.first else {
            Issue.record("\(query) answered \(rows), not one float")
            return
        }
        if query.hasPrefix("RETURN 0.5") || query.hasPrefix("RETURN 2.0 ^ (-1") { #expect(x == 0) }
        else if query.hasPrefix("RETURN 2.0 ^ (1.0") { #expect(x == .infinity) }
        else { #expect(x.isNaN) }
    }

    @Test("a chain of hundreds of clauses is refused (the row pipeline recursed once per clause and overflowed the stack)")
    func longClauseChain() throws {
        var db = GraphDatabase()
        try db.execute("CREATE ()")
        let error = #expect(throws: GraphError.self) { try db.execute(String(repeating: "MATCH ()", count: 514)) }
        #expect(error?.code == .limitExceeded && error?.message.contains("clauses") == true)
        let error2 = #expect(throws: GraphError.self) { try db.execute(String(repeating: "OPTIONAL MATCH () ", count: 500) + "RETURN 1") }
        #expect(error2?.code == .limitExceeded)
        let chain = String(repeating: "OPTIONAL MATCH () ", count: 249) + "RETURN count(*) AS n"
        #expect(try db.execute(chain).rows == [[.int(1)]])
    }
}
