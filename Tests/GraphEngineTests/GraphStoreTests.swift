import Testing
@testable import GraphEngine

@Suite struct GraphStoreTests {
    @Test func nodesRelationshipsHyperedgesAndLabelIndex() throws {
        var s = GraphStore()
        let a = try s.createNode(labels: ["Person", "Person"], properties: ["name": .string("Ann"), "gone": .null])
        let b = try s.createNode(labels: ["Person"])
        let c = try s.createNode(labels: ["City"])
        let r = try s.createRelationship(type: "KNOWS", from: a, to: b, properties: ["since": .int(2020)])
        let h = try s.createHyperedge(type: "MEETING", members: [a, b, c])
        #expect(s.node(a)?.labels == ["Person"])
        #expect(s.node(a)?.properties == ["name": .string("Ann")])
        #expect(s.nodeIds(withLabel: "Person") == [a, b])
        #expect(s.outgoingRelationships(of: a) == [r])
        #expect(s.incomingRelationships(of: b) == [r])
        #expect(s.hyperedges(of: c) == [h])
        #expect(throws: GraphError.self) { try s.createHyperedge(type: "X", members: [a, b]) }
        #expect(throws: GraphError.self) { try s.deleteNode(a, detach: false) }
        try s.deleteNode(a, detach: true)
        #expect(s.relationshipCount == 0 && s.hyperedgeCount == 0 && s.nodeIds(withLabel: "Person") == [b])
        #expect(throws: GraphError.self) { try s.createNode(properties: ["m": .map([:])]) }
    }
}

@Suite struct CypherTests {
    @Test func createMatchAggregateOrder() throws {
        var db = GraphDatabase()
        try db.execute("UNWIND range(1, 5) AS i CREATE (:N {v: i, even: i % 2 = 0})")
        let r = try db.execute("MATCH (n:N) RETURN n.even AS e, count(*) AS c, sum(n.v) AS s ORDER BY e")
        #expect(r.columns == ["e", "c", "s"])
        #expect(r.rows == [[.bool(false), .int(3), .int(9)], [.bool(true), .int(2), .int(6)]])
        let p = try db.execute("MATCH (n:N) WHERE n.v IN $vs RETURN n.v ORDER BY n.v DESC SKIP 1 LIMIT 1",
                               parameters: ["vs": .list([.int(2), .int(4), .int(5)])])
        #expect(p.rows == [[.int(4)]])
    }

    @Test func threeValuedLogic() throws {
        var db = GraphDatabase()
        let r = try db.execute("RETURN null AND false, null OR true, null XOR true, NOT null, 1 IN [null, 2]")
        #expect(r.rows == [[.bool(false), .bool(true), .null, .null, .null]])
    }

    @Test func relationshipDirectionAndVarLength() throws {
        var db = GraphDatabase()
        try db.execute("CREATE (a:A {n: 1})-[:T]->(b:B {n: 2})-[:T]->(c:C {n: 3})")
        #expect(try db.execute("MATCH (x)<-[:T]-(y) RETURN x.n, y.n ORDER BY x.n").rows == [[.int(2), .int(1)], [.int(3), .int(2)]])
        #expect(try db.execute("MATCH (a:A)-[*1..2]->(x) RETURN x.n ORDER BY x.n").rows == [[.int(2)], [.int(3)]])
    }

    @Test func failedQueryLeavesStoreUnchanged() throws {
        var db = GraphDatabase()
        #expect(throws: GraphError.self) { try db.execute("CREATE (:A) WITH 1 AS x RETURN 1 / 0") }
        #expect(db.store.nodeCount == 0)
    }

    @Test func syntaxErrorsCarryLineAndColumn() throws {
        var db = GraphDatabase()
        do { try db.execute("MATCH (n)\nRETURN n +"); Issue.record("expected error") } catch {
            #expect(error.code == .syntax && error.message.hasPrefix("2:11:"))
        }
        do { try db.execute("MATCH (n) FOREACH (x IN [1] | SET n.x = x)"); Issue.record("expected error") } catch {
            #expect(error.code == .unsupported)
        }
        let deep = String(repeating: "(", count: 500) + "1" + String(repeating: ")", count: 500)
        #expect(throws: GraphError.self) { try db.execute("RETURN " + deep) }
        let chain = Array(repeating: "1", count: 5000).joined(separator: " + ")
        #expect(throws: GraphError.self) { try db.execute("RETURN " + chain) }
        let parts = Array(repeating: "()", count: 5000).joined(separator: ", ")
        #expect(throws: GraphError.self) { try db.execute("MATCH " + parts + " RETURN 1") }
        #expect(try db.execute("RETURN " + Array(repeating: "1", count: 100).joined(separator: " + ") + " AS s").rows == [[.int(100)]])
    }
}

@Suite struct CypherRobustnessTests {
    @Test func namedPathsBindNodesAndRelationships() throws {
        var db = GraphDatabase()
        try db.execute("CREATE (:A {n: 1})-[:T]->(:B {n: 2})<-[:T]-(:C {n: 3})")
        let r = try db.execute("MATCH p = (a:A)-->(b)<--(c) RETURN length(p), [x IN nodes(p) | x.n] AS ns")
        #expect(r.rows.count == 1)
        #expect(r.rows.first == [.int(2), .list([.int(1), .int(2), .int(3)])])
        #expect(try db.execute("RETURN [x IN range(1, 6) WHERE x % 2 = 0 | x * 10] AS l").rows == [[.list([.int(20), .int(40), .int(60)])]])
        do { _ = try db.execute("MATCH (n) CALL { RETURN 1 AS x } RETURN n"); Issue.record("expected unsupported") } catch {
            #expect(error.code == .unsupported)
        }
        let q = try db.execute("MATCH p = (:C)-[*2]-(:A) RETURN nodes(p) AS ns")
        #expect(q.rows.count == 1)
    }

    /// Random token soup must produce a result or a GraphError, never a crash.
    @Test func randomQueriesNeverCrash() {
        let pieces = ["MATCH", "(", ")", "[", "]", "{", "}", "-", "->", "<-", ":", "n", "r", "RETURN", "WITH", "*",
                      "1", "'x'", ",", ".", "AS", "WHERE", "=", "<>", "AND", "NOT", "null", "$p", "UNWIND", "CREATE",
                      "count", "DELETE", "SET", "..", "2", "ORDER BY", "LIMIT", "+", "/", "0", "CASE", "WHEN", "END", "IN",
                      "=~", "'a.*'", "EXISTS", "shortestPath", "allShortestPaths", "|", "CALL", "db.index.vector.queryNodes",
                      "YIELD", "reduce", "all", "any", "OPTIONAL", "id", "(n)-->(m)", "[(n)-->(m) | m]", "0x1F", "0o7"]
        var state: UInt64 = 0x9E3779B97F4A7C15
        func next() -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(state % UInt64(pieces.count))
        }
        var db = GraphDatabase()
        _ = try? db.execute("CREATE (:A {v: 1})-[:T]->(:B {v: 2})")
        var ok = 0, failed = 0
        for _ in 0..<6000 {
            let q = (0..<(1 + next() % 14)).map { _ in pieces[next()] }.joined(separator: " ")
            do { try db.execute(q, parameters: ["p": .int(1)]); ok += 1 } catch { failed += 1 }
        }
        #expect(ok + failed == 6000 && failed > 0)
    }
}

@Suite struct TransactionTests {
    @Test func commitRollbackAndConflict() throws {
        var db = GraphDatabase()
        var tx = db.beginTransaction()
        try tx.execute("CREATE (:A)")
        #expect(db.store.nodeCount == 0 && tx.store.nodeCount == 1)
        try db.commit(tx)
        #expect(db.store.nodeCount == 1)

        var rolledBack = db.beginTransaction()
        try rolledBack.execute("MATCH (a:A) DELETE a")
        #expect(db.store.nodeCount == 1)   // dropped, never committed

        let stale = db.beginTransaction()
        try db.execute("CREATE (:B)")
        do { try db.commit(stale); Issue.record("expected conflict") } catch {
            #expect(error.code == .conflict)
        }
        #expect(db.store.nodeCount == 2)
    }

    @Test func readsInBetweenDoNotConflict() throws {
        var db = GraphDatabase()
        try db.execute("CREATE (:A {v: 1})")
        var tx = db.beginTransaction()
        try tx.execute("MATCH (a:A) SET a.v = 2")
        // Reads (planned, interpreted, profiled) change nothing a transaction could conflict with.
        #expect(try db.execute("MATCH (a:A) RETURN a.v").rows == [[.int(1)]])
        #expect(try db.execute("MATCH (a:A) RETURN collect(a.v) AS vs").rows == [[.list([.int(1)])]])
        #expect(try db.execute("PROFILE MATCH (a:A) WHERE a.v = 1 RETURN count(*)").rows == [[.int(1)]])
        try db.commit(tx)
        #expect(try db.execute("MATCH (a:A) RETURN a.v").rows == [[.int(2)]])
    }

    @Test func anInMemoryDatabaseForgetsItsChangesOnceSettled() throws {
        // Nobody takes them: kept, the touched ids would grow with every write and be copied by
        // the next one. A copy that leaves its vector indexes to its owner still collects them.
        var db = GraphDatabase()
        for i in 0..<50 { try db.execute("CREATE (:N {i: $i})-[:R]->(:M)", parameters: ["i": .int(Int64(i))]) }
        try db.execute("MATCH (n:N) SET n.seen = true")
        var tx = db.beginTransaction()
        try tx.execute("MATCH (n:N) WHERE n.i < 3 DETACH DELETE n")
        try db.commit(tx)
        #expect(db.store.touchedNodes.isEmpty && db.store.touchedRelationships.isEmpty)
        var collecting = db
        collecting.leaveVectorIndexesToCommit()
        try collecting.execute("MATCH (n:N) WHERE n.i = 7 SET n.x = 1")
        #expect(Set(collecting.takeChanges().nodes.keys) == Set(db.store.nodeIds(withLabel: "N").filter { id in
            db.store.node(id)?.properties["i"] == .int(7)
        }))
    }
}
