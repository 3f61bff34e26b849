import Testing
@testable import GraphEngine

@Suite("parser: hostile nesting is bounded")
struct ParserAdversarialTests {
    @Test("nested node patterns inside property maps parse in linear time or fail fast", arguments: [10, 22, 60])
    func nestedPatternMaps(depth: Int) throws {
        var query = "RETURN "
        for _ in 0..<depth { query += "[(a)-->(b {x: " }
        query += "1"
        for _ in 0..<depth { query += "}), 2]" }
        let started = ContinuousClock.now
        var db = GraphDatabase()
        _ = try? db.execute(query)
        #expect(ContinuousClock.now - started < .seconds(2), "depth \(depth)")
    }

    @Test("a long string against a large pattern stops at the query's deadline")
    func regexHonoursTheDeadline() throws {
        var db = GraphDatabase()
        // (.?){1000} x 3 compiles to thousands of states, all alive at every one of 200,000 scalars.
        let pattern = String(repeating: "(.?){1000}", count: 3)
        let started = ContinuousClock.now
        do {
            _ = try db.execute("WITH reduce(s = '', i IN range(1, 2000) | s + 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa') AS s RETURN s =~ $p",
                               parameters: ["p": .string(pattern)], deadline: .now + .milliseconds(300))
            Issue.record("expected the deadline to stop the match")
        } catch {
            #expect(error.code == .timeout)
        }
        #expect(ContinuousClock.now - started < .seconds(10))
    }
}
