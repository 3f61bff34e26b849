import Dispatch
import Testing
import WorkControl
@testable import GraphEngine

/// Collects what a streamed query hands on.
private final class Received {
    var columns: [String]? = nil
    var rows: [[Value]] = []
    /// Rows the MATCH had found when each row arrived (shows rows arrive as found).
    var eventsBeforeEnd = 0
}

private func stream(_ db: inout GraphDatabase, _ query: String) throws(GraphError) -> (QueryResult, Received) {
    let received = Received()
    let result = try db.execute(query, streamingReadsTo: { event in
        switch event {
        case .columns(let names, _):
            #expect(received.columns == nil, "columns come once, first")
            received.columns = names
        case .row(let values):
            #expect(received.columns != nil, "columns come before rows")
            received.rows.append(values)
        }
    })
    return (result, received)
}

@Suite("streamed query results")
struct StreamingTests {
    private func graph() throws -> GraphDatabase {
        var db = GraphDatabase()
        try db.execute("UNWIND range(1, 2000) AS i CREATE (:N {i: i, even: i % 2 = 0})")
        try db.execute("MATCH (a:N) WHERE a.i <= 10 MATCH (b:N {i: a.i + 1}) CREATE (a)-[:NEXT]->(b)")
        return db
    }

    @Test("a streamed MATCH ... RETURN hands on the same rows as a built result", arguments: [
        "MATCH (n:N) WHERE n.even RETURN n.i AS i",
        "MATCH (n:N) RETURN n.i AS i, n SKIP 5 LIMIT 7",
        "MATCH (n:N) WHERE n.i < 5 OPTIONAL MATCH (n)-[:NEXT]->(m) WHERE m.i > 2 RETURN n.i AS i, m.i AS next",
        "MATCH (a:N {i: 1}) MATCH p = (a)-[:NEXT*1..3]->(b) RETURN length(p) AS len, b.i AS b",
        "MATCH (n:N) RETURN *",
        // Not streamable tails: built, then handed on.
        "MATCH (n:N) RETURN n.even AS even, count(*) AS c",
        "MATCH (n:N) RETURN DISTINCT n.even AS even",
        "MATCH (n:N) RETURN n.i AS i ORDER BY i DESC LIMIT 3",
        "UNWIND [1, 2, 3] AS x RETURN x",
        "MATCH (n:N {i: 1}) RETURN n.i AS i UNION MATCH (n:N {i: 2}) RETURN n.i AS i",
    ])
    func sameRowsAsBuilt(query: String) throws {
        var db = try graph()
        let built = try db.execute(query)
        let (result, received) = try stream(&db, query)
        #expect(result.streamed && result.rows.isEmpty)
        #expect(received.columns == built.columns)
        #expect(received.rows == built.rows)
    }

    @Test("LIMIT stops the pattern walk: a LIMIT 1 over a huge cross product returns at once")
    func limitStopsTheWalk() throws {
        var db = try graph()
        // 2000^3 = 8e9 combinations: only an early stop can answer this within the test.
        let started = ContinuousClock.now
        let (_, received) = try stream(&db, "MATCH (a:N), (b:N), (c:N) RETURN a.i, b.i, c.i LIMIT 1")
        #expect(received.rows.count == 1)
        #expect(ContinuousClock.now - started < .seconds(5))
        // Built, the same query stops at its LIMIT too (the pipeline ends the walk).
        let builtStarted = ContinuousClock.now
        #expect(try db.execute("MATCH (a:N), (b:N), (c:N) RETURN a.i, b.i, c.i LIMIT 1").rows == [[.int(1), .int(1), .int(1)]])
        #expect(ContinuousClock.now - builtStarted < .seconds(5))
    }

    @Test("a streamed result is not held: it fits a budget the same result built does not")
    func streamedRowsAreNotHeld() async throws {
        // Seconds of synchronous work: on a thread of its own, not on the threads every async
        // test shares; the checks run back on the test's task.
        let (streamed, streamBudget, builtError, builtBudget, unbounded) = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue(label: "streaming-test").async {
                continuation.resume(with: Result { () throws -> (Int, CallBudget, GraphError?, CallBudget, Int) in
                    var db = GraphDatabase()
                    try db.execute("UNWIND range(1, 1001) AS i CREATE (:N {i: i})")
                    let server = MemoryBudget(limitBytes: 1 << 30)
                    let streamBudget = CallBudget(limitBytes: 1 << 20, server: server)
                    var count = 0
                    _ = try db.execute("MATCH (a:N), (b:N) WHERE b.i <= 300 RETURN a.i + b.i AS s",
                                       bounds: WorkBounds(memory: streamBudget, cancellation: CancellationSignal()),
                                       streamingReadsTo: { event in if case .row = event { count += 1 } })
                    let builtBudget = CallBudget(limitBytes: 1 << 20, server: server)
                    var builtError: GraphError? = nil
                    do throws(GraphError) {
                        try db.execute("MATCH (a:N), (b:N) WHERE b.i <= 300 RETURN a.i + b.i AS s",
                                       bounds: WorkBounds(memory: builtBudget, cancellation: CancellationSignal()))
                    } catch let failure {
                        builtError = failure
                    }
                    // Unbounded (a library caller), a built result of more than 1,000,000 rows
                    // answers: no row count refuses it any more.
                    let unbounded = try db.execute("MATCH (a:N), (b:N) RETURN a.i + b.i AS s").rows.count
                    return (count, streamBudget, builtError, builtBudget, unbounded)
                })
            }
        }
        #expect(streamed == 1001 * 300)     // more rows than a built result of 1 MiB holds
        #expect(streamBudget.chargedBytes == 0 && streamBudget.peakBytes <= 256 << 10, "peak \(streamBudget.peakBytes)")
        #expect(builtError?.code == .resourceExhausted && builtError?.workLimit?.kind == .callMemory, "built: \(builtError?.description ?? "no error")")
        #expect(builtBudget.chargedBytes == 0)
        #expect(unbounded == 1001 * 1001)
    }

    @Test("a query that writes is not streamed: its rows come back to be sent after commit")
    func writesAreNotStreamed() throws {
        var db = try graph()
        let (result, received) = try stream(&db, "MATCH (n:N) WHERE n.i <= 3 SET n.seen = true RETURN n.i AS i")
        #expect(!result.streamed && result.rows.count == 3 && received.columns == nil && received.rows.isEmpty)
        #expect(try db.execute("MATCH (n:N {seen: true}) RETURN count(n)").rows == [[.int(3)]])
    }

    @Test("an error thrown by the consumer stops the query and surfaces")
    func consumerStops() throws {
        var db = try graph()
        var rows = 0
        do {
            _ = try db.execute("MATCH (n:N) RETURN n.i", streamingReadsTo: { event throws(GraphError) in
                guard case .row = event else { return }
                rows += 1
                if rows == 10 { throw GraphError(.cancelled, "client went away") }
            })
            Issue.record("expected the consumer's error")
        } catch {
            #expect(error.code == .cancelled && rows == 10)
        }
    }
}
