import Testing
@testable import GraphEngine

@Suite("aggregates: stDev, stDevP, percentileCont, percentileDisc")
struct AggregateFunctionTests {
    /// `query` on a database with (:V {x}) for each of `xs` (nil: no x), planned and interpreted.
    private func answers(_ query: String, _ xs: [Value?]) throws -> [[Value]] {
        var db = GraphDatabase()
        try db.withStore { store throws(GraphError) in
            for (i, x) in xs.enumerated() {
                var properties: [String: Value] = ["g": .int(Int64(i % 2))]
                if let x { properties["x"] = x }
                try store.createNode(labels: ["V"], properties: properties)
            }
        }
        var interpreted = db
        interpreted.usesPlanner = false
        let planned = try db.execute(query).rows
        #expect(planned == (try interpreted.execute(query).rows), "\(query)")
        return planned
    }

    private func float(_ rows: [[Value]], _ row: Int = 0, _ column: Int = 0) -> Double? {
        guard case .float(let d) = rows[row][column] else { return nil }
        return d
    }

    @Test("the standard deviations of a sample and of a population, nulls skipped")
    func standardDeviation() throws {
        let xs: [Value?] = [.int(1), .int(2), nil, .float(3), .int(4), .null]
        let rows = try answers("MATCH (v:V) RETURN stDev(v.x) AS s, stDevP(v.x) AS p", xs)
        #expect(abs((float(rows) ?? 0) - 1.2909944487358056) < 1e-12)
        #expect(abs((float(rows, 0, 1) ?? 0) - 1.118033988749895) < 1e-12)
        // One value, or none: 0.0 (as Neo4j answers).
        #expect(try answers("MATCH (v:V) RETURN stDev(v.x) AS s, stDevP(v.x) AS p", [.int(5)]) == [[.float(0), .float(0)]])
        #expect(try answers("MATCH (v:V) RETURN stDev(v.x) AS s, stDevP(v.x) AS p", []) == [[.float(0), .float(0)]])
        // DISTINCT and grouping.
        let distinct = try answers("MATCH (v:V) RETURN stDevP(DISTINCT v.x) AS p", [.int(1), .int(1), .int(3), .int(3)])
        #expect(float(distinct) == 1)
        let grouped = try answers("MATCH (v:V) RETURN v.g AS g, stDevP(v.x) AS p ORDER BY g", [.int(1), .int(10), .int(3), .int(10)])
        #expect(grouped == [[.int(0), .float(1)], [.int(1), .float(0)]])
    }

    @Test("percentiles: the nearest rank and linear interpolation")
    func percentiles() throws {
        let xs: [Value?] = [.int(4), .int(1), nil, .int(3), .int(2)]
        let query = "MATCH (v:V) RETURN percentileDisc(v.x, $p) AS d, percentileCont(v.x, $p) AS c"
        for (p, disc, cont) in [(0.0, Value.int(1), 1.0), (0.25, .int(1), 1.75), (0.5, .int(2), 2.5), (0.75, .int(3), 3.25), (1.0, .int(4), 4.0)] {
            var db = GraphDatabase()
            try db.withStore { store throws(GraphError) in
                for x in xs { try store.createNode(labels: ["V"], properties: x.map { ["x": $0] } ?? [:]) }
            }
            let rows = try db.execute(query, parameters: ["p": .float(p)]).rows
            #expect(rows == [[disc, .float(cont)]], "percentile \(p)")
        }
        // An odd count: the middle value; floats kept as they are; no values: null.
        #expect(try answers("MATCH (v:V) RETURN percentileDisc(v.x, 0.5) AS d", [.float(2.5), .int(9), .int(1)]) == [[.float(2.5)]])
        #expect(try answers("MATCH (v:V) RETURN percentileCont(v.x, 0.5) AS c", []) == [[.null]])
    }

    @Test("bad percentiles and non-numbers are errors of the right class")
    func errors() throws {
        var db = GraphDatabase()
        try db.execute("CREATE (:V {x: 1}), (:V {x: 'two'})")
        for (query, cypherClass) in [("MATCH (v:V) WHERE v.x = 1 RETURN percentileDisc(v.x, 1.5)", CypherErrorClass.argumentError),
                                     ("MATCH (v:V) WHERE v.x = 1 RETURN percentileCont(v.x, -0.1)", .argumentError),
                                     ("MATCH (v:V) RETURN stDev(v.x)", .typeError),
                                     ("MATCH (v:V) RETURN percentileCont(v.x, 0.5)", .typeError)] {
            #expect(throws: GraphError.self, "\(query)") { try db.execute(query) }
            do { try db.execute(query) } catch { #expect(error.cypherClass == cypherClass, "\(query)") }
        }
        #expect(throws: GraphError.self) { try db.execute("MATCH (v:V) RETURN percentileDisc(v.x)") }
        #expect(throws: GraphError.self) { try db.execute("MATCH (v:V) RETURN stDev(v.x, 0.5)") }
    }
}
