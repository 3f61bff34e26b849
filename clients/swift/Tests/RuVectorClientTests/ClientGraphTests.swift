import RuVectorClient
import Testing

/// Cypher and transactions through the Swift client against the real server.
@Suite struct ClientGraphTests {
    @Test func cypherAndTransactions() async throws {
        try await TestServer.with { db, _ in
            let created = try await db.cypher("CREATE (a:Doc {title: $t})-[:CITES]->(b:Doc {title: 'B'}) RETURN a, b",
                                              parameters: ["t": "A"])
            #expect(created.columns == ["a", "b"] && created.summary["nodes_created"] == 2)
            guard case .node(let a)? = created.rows.first?.first else { Issue.record("no node"); return }
            #expect(a.labels == ["Doc"] && a.properties == ["title": "A"])
            let paths = try await db.cypher("MATCH p = (:Doc)-[r]->(:Doc) RETURN p, r")
            guard case .path(let nodes, let rels)? = paths.rows.first?.first, case .relationship(let r)? = paths.rows.first?.last else {
                Issue.record("no path"); return
            }
            #expect(nodes.map(\.id) == [a.id, r.end] && rels == [r] && r.type == "CITES")

            // Serializable: the second of two conflicting writers is aborted.
            let t1 = try await db.beginTransaction(.serializable), t2 = try await db.beginTransaction(.serializable)
            _ = try await db.cypher("MATCH (d:Doc {title: 'A'}) SET d.n = 1", transaction: t1)
            _ = try await db.cypher("MATCH (d:Doc {title: 'A'}) SET d.n = 2", transaction: t2)
            #expect(try await db.cypher("MATCH (d:Doc {title: 'A'}) RETURN d.n", transaction: t2).rows == [[.value(.int(2))]])
            #expect(try await db.commit(t1) > 0)
            let aborted = await #expect(throws: RuVectorClientError.self) { try await db.commit(t2) }
            #expect(aborted?.code == .aborted)
            let rolledBack = try await db.beginTransaction()
            _ = try await db.cypher("CREATE (:Ghost)", transaction: rolledBack)
            try await db.rollback(rolledBack)
            #expect(try await db.cypher("MATCH (g:Ghost) RETURN count(g)").rows == [[.value(.int(0))]])
            #expect(try await db.cypher("MATCH (d:Doc {title: 'A'}) RETURN d.n").rows == [[.value(.int(1))]])
            let syntax = await #expect(throws: RuVectorClientError.self) { try await db.cypher("MATCH (n RETURN n") }
            #expect(syntax?.code == .invalidArgument && syntax?.message.contains("line 1") == true)
        }
    }
}
