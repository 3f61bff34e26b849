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

    @Test func temporalParametersRoundTrip() async throws {
        try await TestServer.with { db, _ in
            // 2015-07-21 is day 16637; 21:40:32.142 is 78,032.142 s after midnight.
            let day: Int64 = 16637, time: Int64 = 78_032_142_000_000
            let sent: [String: GraphTemporal] = [
                "d": .date(epochDay: day), "lt": .localTime(nanoOfDay: time), "t": .time(nanoOfDay: time, offsetSeconds: 3600),
                "ldt": .localDateTime(epochDay: day, nanoOfDay: time),
                "dt": .dateTime(epochDay: day, nanoOfDay: time, offsetSeconds: 7200, zone: "Europe/Stockholm"),
                "dur": .duration(months: 14, days: 3, seconds: 14_400, nanos: 5),
            ]
            let result = try await db.cypher("RETURN $d AS d, $lt AS lt, $t AS t, $ldt AS ldt, $dt AS dt, $dur AS dur, $d + duration('P1D') AS next",
                                             temporalParameters: sent)
            let texts = result.rows[0].map { value -> String in
                guard case .temporal(let t) = value else { return "not temporal: \(value)" }
                return t.text
            }
            #expect(texts == ["2015-07-21", "21:40:32.142", "21:40:32.142+01:00", "2015-07-21T21:40:32.142",
                              "2015-07-21T21:40:32.142+02:00[Europe/Stockholm]", "P1Y2M3DT4H0.000000005S", "2015-07-22"])
            for (i, name) in ["d", "lt", "t", "ldt", "dt", "dur"].enumerated() {
                guard case .temporal(var back) = result.rows[0][i] else { continue }
                back.text = ""
                #expect(back == sent[name], "\(name)")
            }
            // Stored and read back as a property, then found by equality.
            _ = try await db.cypher("CREATE (:Event {at: $dt})", temporalParameters: ["dt": sent["dt"]!])
            #expect(try await db.cypher("MATCH (e:Event) WHERE e.at = $dt RETURN count(e)", temporalParameters: ["dt": sent["dt"]!]).rows
                    == [[.value(.int(1))]])
            let twice = await #expect(throws: RuVectorClientError.self) {
                try await db.cypher("RETURN $d", parameters: ["d": 1], temporalParameters: ["d": sent["d"]!])
            }
            #expect(twice?.code == .invalidInput)
            let range = await #expect(throws: RuVectorClientError.self) {
                try await db.cypher("RETURN $t", temporalParameters: ["t": .time(nanoOfDay: -1, offsetSeconds: 0)])
            }
            #expect(range?.code == .invalidArgument)

            // In a map and as a property, a temporal value stays exact.
            let mapped = try await db.cypher("MATCH (e:Event) RETURN {at: e.at, e: e} AS m", temporalParameters: [:])
            guard case .map(let m)? = mapped.rows.first?.first, case .temporal(let at)? = m["at"], case .node(let event)? = m["e"],
                  case .temporal(let property)? = event.typedProperties["at"] else {
                Issue.record("expected a map of a temporal value and a node, got \(mapped.rows)")
                return
            }
            #expect(at.text == "2015-07-21T21:40:32.142+02:00[Europe/Stockholm]" && property == at)
            #expect(event.properties["at"] == .string(at.text))

            // EXPLAIN and PROFILE: the plan comes with the result.
            let profiled = try await db.cypher("PROFILE MATCH (e:Event) RETURN count(e) AS c")
            #expect(profiled.rows == [[.value(.int(1))]] && profiled.plan?.mode == "PROFILE" && profiled.plan?.planned == true)
            #expect(profiled.plan?.operators.map(\.name) == ["ProduceResults", "EagerAggregation", "NodeByLabelScan"])
            #expect(profiled.plan?.operators.last?.rows == 1 && profiled.plan?.table.contains("+NodeByLabelScan") == true)
            let explained = try await db.cypher("EXPLAIN CREATE (:Ghost)")
            #expect(explained.rows.isEmpty && explained.plan?.planned == true
                    && explained.plan?.operators.map(\.name) == ["ProduceResults", "EmptyResult", "Create"])
            #expect(try await db.cypher("PROFILE MATCH (g:Ghost) RETURN count(g)").rows == [[.value(.int(0))]])
        }
    }
}
