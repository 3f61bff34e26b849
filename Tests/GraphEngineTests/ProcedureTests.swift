import Synchronization
import Testing
import VectorEngine
import GraphEngine

/// `shop.discount(price :: FLOAT) :: (discounted :: FLOAT)`: 90% of the price, no row for null.
private func discount() throws -> GraphProcedure {
    try GraphProcedure(name: "shop.discount", inputs: [.init("price", .float)], outputs: [.init("discounted", .float)]) { arguments in
        guard case .float(let price) = arguments[0] else { return [] }
        return [[.float(price * 0.9)]]
    }
}

/// `shop.pairs(n :: INTEGER) :: (a :: INTEGER, b :: STRING)`: n records (i, "#i").
private func pairs() throws -> GraphProcedure {
    try GraphProcedure(name: "shop.pairs", inputs: [.init("n", .integer)], outputs: [.init("a", .integer), .init("b", .string)]) { arguments in
        guard case .int(let n) = arguments[0] else { return [] }
        return (0..<max(0, n)).map { [.int($0), .string("#\($0)")] }
    }
}

private func expectError(_ db: inout GraphDatabase, _ query: String, parameters: [String: Value] = [:],
                         _ cypherClass: CypherErrorClass?, _ message: String, atCompileTime: Bool = true) {
    let compiles = (try? db.compile(query, parameters: parameters)) != nil
    #expect(compiles != atCompileTime, "\(query): compiles \(compiles)")
    do {
        try db.execute(query, parameters: parameters)
        Issue.record("\(query) ran")
    } catch {
        #expect(error.cypherClass == cypherClass && error.message.contains(message), "\(query): \(error)")
    }
}

@Suite("CALL: procedures an application registers, and the clause's rules")
struct ProcedureTests {
    @Test("a registered procedure runs in a query, once per row, and standalone with every output as a column")
    func registeredProcedureRuns() throws {
        var db = GraphDatabase()
        try db.register(discount())
        try db.register(pairs())
        let rows = try db.execute("UNWIND [10, 20.0, null] AS p CALL shop.discount(p) YIELD discounted RETURN p, discounted").rows
        #expect(rows == [[.int(10), .float(9)], [.float(20), .float(18)]])
        let standalone = try db.execute("CALL shop.pairs(2)")
        #expect(standalone.columns == ["a", "b"] && standalone.rows == [[.int(0), .string("#0")], [.int(1), .string("#1")]])
        let renamed = try db.execute("CALL shop.pairs(3) YIELD b AS label WHERE label <> '#1' RETURN label")
        #expect(renamed.rows == [[.string("#0")], [.string("#2")]])
        // Without parentheses a standalone call reads its inputs from the parameters.
        #expect(try db.execute("CALL shop.pairs", parameters: ["n": .int(1)]).rows == [[.int(0), .string("#0")]])
        #expect(try db.execute("CALL shop.pairs YIELD *", parameters: ["n": .int(1)]).columns == ["a", "b"])
    }

    @Test("a procedure without outputs passes each row on once; standalone it answers no rows")
    func voidProcedure() throws {
        var db = GraphDatabase()
        let calls = CallCounter()
        try db.register(GraphProcedure(name: "audit.touch", inputs: [.init("x", .any)], outputs: []) { _ in
            calls.add()
            return [[], []]
        })
        #expect(try db.execute("UNWIND [1, 2, 3] AS x CALL audit.touch(x) RETURN x").rows == [[.int(1)], [.int(2)], [.int(3)]])
        #expect(calls.count == 3)
        let standalone = try db.execute("CALL audit.touch('a')")
        #expect(standalone.rows.isEmpty && standalone.columns.isEmpty)
    }

    @Test("calls the spec refuses are refused before anything runs, with the TCK's error class")
    func refusedAtCompileTime() throws {
        var db = GraphDatabase()
        try db.register(pairs())
        expectError(&db, "CALL shop.nothing()", .procedureError, "there is no procedure 'shop.nothing'")
        expectError(&db, "CALL shop.pairs(1, 2)", .syntaxError, "takes 1 argument (n), got 2")
        expectError(&db, "CALL shop.pairs(true)", .syntaxError, "n is INTEGER, not true")
        expectError(&db, "CALL shop.pairs(1.5)", .syntaxError, "n is INTEGER")
        expectError(&db, "CALL shop.pairs('x') YIELD a RETURN a", .syntaxError, "n is INTEGER")
        expectError(&db, "UNWIND [1] AS x CALL shop.pairs YIELD a RETURN a", .syntaxError, "pass them in parentheses")
        expectError(&db, "UNWIND [1] AS x CALL shop.pairs(x) YIELD * RETURN a", .syntaxError, "YIELD * is only allowed")
        expectError(&db, "UNWIND [1] AS a CALL shop.pairs(a) YIELD a RETURN a", .syntaxError, "already bound")
        expectError(&db, "CALL shop.pairs(1) YIELD a AS c, b AS c RETURN c", .syntaxError, "already bound")
        expectError(&db, "CALL shop.pairs(1) YIELD z RETURN z", .syntaxError, "yields a, b, not 'z'")
        expectError(&db, "UNWIND [1] AS x CALL shop.pairs(count(x)) YIELD a RETURN a", .syntaxError, "cannot aggregate")
        // In a query, a call without YIELD binds nothing.
        expectError(&db, "UNWIND [1] AS x CALL shop.pairs(x) RETURN a", .syntaxError, "'a'")
        expectError(&db, "CALL shop.pairs", .parameterMissing, "$n")
    }

    @Test("argument values are checked when the call runs: a wrong type is a TypeError, a missing parameter ParameterMissing")
    func checkedAtRunTime() throws {
        var db = GraphDatabase()
        try db.register(pairs())
        try db.register(discount())
        expectError(&db, "CALL shop.pairs($n)", parameters: ["n": .string("two")], .typeError, "n must be INTEGER", atCompileTime: false)
        expectError(&db, "CALL shop.pairs($n)", .parameterMissing, "$n", atCompileTime: false)
        // An integer is passed to a FLOAT input as a float.
        #expect(try db.execute("CALL shop.discount($p)", parameters: ["p": .int(100)]).rows == [[.float(90)]])
        // A body that breaks its signature is an error, not a wrong row.
        try db.register(GraphProcedure(name: "bad.arity", inputs: [], outputs: [.init("x", .integer)]) { _ in [[.int(1), .int(2)]] })
        expectError(&db, "CALL bad.arity()", nil, "returned a record of 2 values for its 1 outputs", atCompileTime: false)
    }

    @Test("names are checked, built-in procedures cannot be replaced, and a registration replaces the application's own")
    func registration() throws {
        var db = GraphDatabase()
        #expect(throws: GraphError.self) { try GraphProcedure(name: "bad name", inputs: [], outputs: []) { _ in [] } }
        #expect(throws: GraphError.self) { try GraphProcedure(name: "a..b", inputs: [], outputs: []) { _ in [] } }
        #expect(throws: GraphError.self) {
            try GraphProcedure(name: "a.b", inputs: [.init("x", .any), .init("x", .any)], outputs: []) { _ in [] }
        }
        #expect(throws: GraphError.self) {
            try db.register(GraphProcedure(name: "db.index.vector.queryNodes", inputs: [], outputs: []) { _ in [] })
        }
        try db.register(GraphProcedure(name: "app.version", inputs: [], outputs: [.init("v", .integer)]) { _ in [[.int(1)]] })
        #expect(try db.execute("CALL app.version()").rows == [[.int(1)]])
        try db.register(GraphProcedure(name: "app.version", inputs: [], outputs: [.init("v", .integer)]) { _ in [[.int(2)]] })
        #expect(try db.execute("CALL app.version()").rows == [[.int(2)]])
        #expect(db.procedures.all.map(\.name) == ["app.version", "db.index.vector.queryNodes"])
        #expect(db.procedures["app.version"]?.signature == "app.version() :: (v :: INTEGER)")
    }

    @Test("the plan cache keys a query by the procedures it was checked against")
    func planCacheFollowsProcedures() throws {
        var db = GraphDatabase()
        let before = db
        #expect(throws: GraphError.self) { try db.execute("CALL shop.pairs(1)") }
        try db.register(pairs())
        #expect(try db.execute("CALL shop.pairs(1)").rows == [[.int(0), .string("#0")]])
        // A copy made before the registration shares the cache but not the procedure.
        var old = before
        #expect(throws: GraphError.self) { try old.execute("CALL shop.pairs(1)") }
    }

    @Test("the planner runs CALL: the same rows as the clause interpreter, a ProcedureCall operator in EXPLAIN, its rows in PROFILE")
    func plannedCalls() throws {
        var planned = GraphDatabase()
        try planned.execute("UNWIND range(1, 6) AS i CREATE (d:Doc {n: i, v: [toFloat(i), 0.0]})-[:CITES]->(:Doc {n: 10 * i, v: [0.0, toFloat(i)]})")
        try planned.createVectorIndex(VectorIndexDefinition(name: "docs", label: "Doc", property: "v", dimension: 2, metric: .l2Squared))
        try planned.register(discount())
        try planned.register(pairs())
        var interpreted = planned
        interpreted.usesPlanner = false
        let parameters: [String: Value] = ["q": .list([.float(5), .float(0)]), "n": .int(3)]
        for query in [
            "CALL shop.pairs(3)",
            "CALL shop.pairs YIELD b",
            "CALL shop.pairs(4) YIELD a, b WHERE a % 2 = 0 RETURN b ORDER BY b",
            "UNWIND [10, 20.0, null] AS p CALL shop.discount(p) YIELD discounted RETURN p, discounted",
            "MATCH (d:Doc) WHERE d.n < 4 CALL shop.pairs(d.n) YIELD a RETURN d.n AS n, count(a) AS c ORDER BY n",
            "CALL db.index.vector.queryNodes('docs', 3, $q) YIELD node, score RETURN node.n AS n, score",
            "CALL db.index.vector.queryNodes('docs', 4, $q) YIELD node MATCH (node)-[:CITES]->(m) RETURN node.n AS n, m.n AS m ORDER BY n",
            "CALL db.index.vector.queryNodes('docs', 2, $q) YIELD node AS d, score WHERE score < 2.0 RETURN d.n AS n",
        ] {
            let a = try planned.execute(query, parameters: parameters), b = try interpreted.execute(query, parameters: parameters)
            #expect(a.columns == b.columns && a.rows == b.rows, "\(query): \(a.rows) vs \(b.rows)")
            let plan = try #require(try planned.execute("EXPLAIN " + query, parameters: parameters).plan)
            #expect(plan.planned && plan.operators.contains { $0.name == "ProcedureCall" }, "\(query): \(plan.table)")
        }
        let hybrid = try #require(try planned.execute("PROFILE CALL db.index.vector.queryNodes('docs', 4, $q) YIELD node MATCH (node)-[:CITES]->(m) RETURN m.n",
                                                      parameters: parameters).plan)
        #expect(hybrid.operators.map(\.name) == ["ProduceResults", "Projection", "Expand(All)", "ProcedureCall"])
        #expect(hybrid.operators.last?.details == "db.index.vector.queryNodes YIELD node" && hybrid.operators.last?.rows == 4)
        // Errors as the interpreter gives them: a wrong argument type when the call runs.
        #expect(throws: GraphError.self) { try planned.execute("UNWIND ['x'] AS p CALL shop.discount(p) YIELD discounted RETURN discounted") }
    }

    @Test("the built-in vector procedure takes its arguments from the parameters when called standalone without parentheses")
    func builtInImplicitArguments() throws {
        var db = GraphDatabase()
        try db.execute("UNWIND range(1, 5) AS i CREATE (:Doc {n: i, v: [toFloat(i), 0.0]})")
        try db.createVectorIndex(VectorIndexDefinition(name: "docs", label: "Doc", property: "v", dimension: 2, metric: .l2Squared))
        let result = try db.execute("CALL db.index.vector.queryNodes YIELD node, score",
                                    parameters: ["indexName": .string("docs"), "k": .int(2), "vector": .list([.float(5), .float(0)])])
        #expect(result.columns == ["node", "score"] && result.rows.count == 2)
        expectError(&db, "CALL db.index.vector.queryNodes", parameters: ["indexName": .string("docs")], .parameterMissing, "$k")
    }
}

/// Counts calls from a procedure's body.
private final class CallCounter: Sendable {
    private let calls = Mutex(0)
    func add() { calls.withLock { $0 += 1 } }
    var count: Int { calls.withLock { $0 } }
}
