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

    @Test func syntaxErrorsCarryLineAndColumn() {
        var db = GraphDatabase()
        do { try db.execute("MATCH (n)\nRETURN n +"); Issue.record("expected error") } catch {
            #expect(error.code == .syntax && error.message.hasPrefix("2:11:"))
        }
        do { try db.execute("MATCH p = shortestPath((a)-->(b)) RETURN p"); Issue.record("expected error") } catch {
            #expect(error.code == .unsupported)
        }
        let deep = String(repeating: "(", count: 500) + "1" + String(repeating: ")", count: 500)
        #expect(throws: GraphError.self) { try db.execute("RETURN " + deep) }
    }
}
