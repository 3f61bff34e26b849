import Dispatch
import Synchronization
import Testing
import VectorEngine
import WorkControl
@testable import GraphEngine

/// One call's bounds: a per-query budget drawn from a server budget of its own, and a signal.
private struct Call: Sendable {
    let server = MemoryBudget(limitBytes: 4 << 30)
    let memory: CallBudget
    let cancellation = CancellationSignal()

    init(limitBytes: Int) {
        memory = CallBudget(limitBytes: limitBytes, server: server, work: "the query", limitName: "the test's per-query limit")
    }

    var bounds: WorkBounds { WorkBounds(memory: memory, cancellation: cancellation) }
}

/// When another thread cancelled a call.
private final class CancelStamp: Sendable {
    let instant = Mutex<ContinuousClock.Instant?>(nil)

    /// Cancels `call` from a thread of its own `delay` from now, recording when. (A serial
    /// queue gets a thread even while the queries under test hold every worker of the
    /// global queue that Swift Testing runs them on.)
    func cancel(_ call: Call, after delay: Duration) {
        let millis = Int(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)
        DispatchQueue(label: "cancel").asyncAfter(deadline: .now() + .milliseconds(millis)) {
            self.instant.withLock { $0 = .now }
            call.cancellation.cancel()
        }
    }
}

/// Runs `body` on a thread of its own and returns its result. These tests run seconds of
/// synchronous work; on the few threads Swift Testing runs every async test on (one per core),
/// that work would stall other suites' async tests (and their timing).
private func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue(label: "query-bounds-test").async { continuation.resume(with: Result { try body() }) }
    }
}

/// How a query ended: its error (nil when it answered), its rows, how long it ran, when it
/// stopped, and the nodes left in the store.
private struct Ending: Sendable {
    var error: GraphError?
    var rows: [[Value]] = []
    var elapsed: Duration
    var stoppedAt: ContinuousClock.Instant
    var nodes: Int
}

/// Runs `query` on `db` under `bounds` (streaming its rows when `streaming`), off the pool.
private func ending(_ query: String, on db: GraphDatabase, parameters: [String: Value] = [:], bounds: WorkBounds,
                    streaming: Bool = false) async throws -> Ending {
    try await offPool {
        var db = db
        let started = ContinuousClock.now
        var result: QueryResult? = nil
        var error: GraphError? = nil
        do throws(GraphError) {
            result = streaming
                ? try db.execute(query, parameters: parameters, bounds: bounds, streamingReadsTo: { _ in })
                : try db.execute(query, parameters: parameters, bounds: bounds)
        } catch let failure {
            error = failure
        }
        let stopped = ContinuousClock.now
        return Ending(error: error, rows: result?.rows ?? [], elapsed: stopped - started, stoppedAt: stopped, nodes: db.store.nodeCount)
    }
}

/// A graph of `count` nodes `:N {i}` (built on the store directly: faster than Cypher).
private func numbered(_ count: Int) throws -> GraphDatabase {
    var store = GraphStore()
    for i in 0..<count { try store.createNode(labels: ["N"], properties: ["i": .int(Int64(i))]) }
    return GraphDatabase(store: store)
}

// Serialized: the cases are heavy, and cancel latencies mean little on an oversubscribed CPU.
@Suite("queries are bounded by their call's memory budget and cancellation", .serialized)
struct QueryBoundsTests {
    /// The graphs several tests read, built once (seconds each in a debug build, so first read
    /// off the pool); each test changes only its own copy.
    static let numbered200k = try! numbered(200_000)
    static let fewPerNode100k = try! fewPerNode(100_000)
    static let wide4096 = try! wide()

    // MARK: Memory

    @Test("queries that grow without bound stop at the memory budget and give all of it back", arguments: [
        // Issue 16's three: string doubling, list doubling, a list of a million million-lists.
        "RETURN size(reduce(s = 'xx', i IN range(1, 40) | s + s)) AS n",
        "RETURN size(reduce(l = [1], i IN range(1, 40) | l + l)) AS n",
        "RETURN size([x IN range(1, 1000000) | range(1, 1000000)]) AS n",
        // Two references to one list per level: tiny in memory, 2^60 values once sent or hashed.
        "RETURN size(reduce(x = [1], i IN range(1, 60) | [x, x])) AS n",
        // Rows, sort state, aggregation state, DISTINCT keys.
        "UNWIND range(1, 2000) AS a UNWIND range(1, 2000) AS b RETURN a, b ORDER BY a + b",
        "UNWIND range(1, 2000) AS a UNWIND range(1, 2000) AS b RETURN collect(a * b) AS all",
        "UNWIND range(1, 2000) AS a UNWIND range(1, 2000) AS b RETURN DISTINCT a * 10000 + b AS k",
        "UNWIND range(1, 2000) AS a UNWIND range(1, 2000) AS b RETURN a * 10000 + b AS k, count(*) AS c",
        "UNWIND range(1, 2000) AS a UNWIND range(1, 2000) AS b WITH a, b ORDER BY b RETURN a LIMIT 5",
        "UNWIND range(1, 2000) AS a UNWIND range(1, 2000) AS b CREATE (:T {a: a, b: b})",
        // Builders of big strings and lists.
        "RETURN size(replace(reduce(s = 'ab', i IN range(1, 23) | s + s), 'a', 'xyzxyzxyzxyz')) AS n",
        "RETURN size(split(reduce(s = 'ab', i IN range(1, 22) | s + s), '')) AS n",
        "RETURN size(range(1, 100000000)) AS n",
    ])
    func growthStopsAtTheBudget(query: String) async throws {
        // Small, so each query reaches it quickly (every one of them would pass any budget).
        let call = Call(limitBytes: 16 << 20)
        let end = try await ending(query, on: GraphDatabase(), bounds: call.bounds)
        guard let error = end.error else {
            Issue.record("expected the query to exceed its budget")
            return
        }
        #expect(error.code == .resourceExhausted, "\(error)")
        #expect(error.workLimit?.kind == .callMemory)
        #expect(error.message.contains("16 MiB") && error.message.contains("the test's per-query limit"), "\(error.message)")
        #expect(end.elapsed < .seconds(30))
        #expect(call.memory.chargedBytes == 0, "the query gave back everything it charged")
        #expect(call.memory.peakBytes <= 16 << 20)
        #expect(end.nodes == 0, "nothing the query did was kept")
    }

    @Test("the server's budget for all calls stops a query its own budget would allow")
    func serverBudgetStops() throws {
        let server = MemoryBudget(limitBytes: 32 << 20)
        let other = CallBudget(limitBytes: 64 << 20, server: server)
        try other.charge(24 << 20)            // another call holds most of the server's budget
        let call = CallBudget(limitBytes: 64 << 20, server: server, work: "the query")
        var db = GraphDatabase()
        do {
            try db.execute("RETURN size(range(1, 1000000)) AS n", bounds: WorkBounds(memory: call, cancellation: CancellationSignal()))
            Issue.record("expected the server's budget to stop the query")
        } catch {
            #expect(error.code == .resourceExhausted && error.workLimit?.kind == .serverMemory, "\(error)")
        }
        #expect(call.chargedBytes == 0)
        other.close()
        call.close()
        #expect(server.reservedBytes == 0)
    }

    @Test("lists nested past the depth limit are refused instead of overflowing the stack when freed")
    func nestingIsBounded() throws {
        var db = GraphDatabase()
        do {
            try db.execute("RETURN size(reduce(x = [], i IN range(1, 100000) | [x])) AS n")
            Issue.record("expected the nesting limit")
        } catch {
            #expect(error.code == .runtime && error.message.contains("nest"), "\(error)")
        }
        let nested = try db.execute("RETURN reduce(x = [], i IN range(1, 200) | [x]) AS v")
        guard case .list = nested.rows.first?.first else { Issue.record("a list 200 deep is allowed"); return }
    }

    @Test("a result's rows stay charged until the caller drops them; a streamed one holds none")
    func resultRowsStayCharged() throws {
        var db = GraphDatabase()
        let call = Call(limitBytes: 64 << 20)
        let query = "UNWIND range(1, 5000) AS x RETURN x, toString(x) + ' of a padded string value' AS s"
        let result = try db.execute(query, bounds: call.bounds)
        #expect(result.rows.count == 5000)
        #expect(result.memoryBytes > 5000 * 40 && call.memory.chargedBytes == result.memoryBytes)
        call.memory.close()
        #expect(call.server.reservedBytes == 0)

        let streamed = Call(limitBytes: 64 << 20)
        var rows = 0
        _ = try db.execute(query, bounds: streamed.bounds, streamingReadsTo: { event in if case .row = event { rows += 1 } })
        #expect(rows == 5000 && streamed.memory.chargedBytes == 0)
    }

    // MARK: Aggregation without rows

    @Test("count(n) over 250,000 nodes answers within a small budget: no row is held")
    func countWithoutRows() async throws {
        let db = try await offPool { Self.numbered200k }
        for (query, expected) in [("MATCH (n) RETURN count(n) AS c", Value.int(200_000)),
                                  ("MATCH (n:N) RETURN sum(n.i) AS c", .int(19_999_900_000))] {
            let call = Call(limitBytes: 4 << 20)
            let end = try await ending(query, on: db, bounds: call.bounds)
            #expect(end.error == nil && end.rows == [[expected]], "\(query): \(String(describing: end.error))")
            // The scan's list of candidate ids (8 bytes a node) is what it holds, not a row per node.
            #expect(call.memory.peakBytes <= 2 << 20, "\(query): peak \(call.memory.peakBytes) bytes")
        }
        // The same count after a sort, which holds every row, does not fit that budget.
        let sorted = Call(limitBytes: 4 << 20)
        let refused = try await ending("MATCH (n:N) WITH n ORDER BY n.i DESC RETURN count(n) AS c", on: db, bounds: sorted.bounds)
        #expect(refused.error?.code == .resourceExhausted, "\(String(describing: refused.error))")
    }

    @Test("grouped aggregation holds one entry per group, whatever the number of rows")
    func groupedAggregationGrowsWithGroups() async throws {
        let db = try await offPool { Self.numbered200k }
        func peak(rows: Int, groups: Int) async throws -> Int {
            let call = Call(limitBytes: 256 << 20)
            let end = try await ending("MATCH (n:N) WHERE n.i < $rows RETURN n.i % $groups AS k, count(*) AS c", on: db,
                                       parameters: ["rows": .int(Int64(rows)), "groups": .int(Int64(groups))], bounds: call.bounds)
            #expect(end.error == nil && end.rows.count == groups)
            return call.memory.peakBytes
        }
        let tenGroupsFewRows = try await peak(rows: 20_000, groups: 10)
        let tenGroupsManyRows = try await peak(rows: 200_000, groups: 10)
        let manyGroups = try await peak(rows: 200_000, groups: 20_000)
        #expect(tenGroupsManyRows - tenGroupsFewRows < 1 << 20, "180,000 more rows cost \(tenGroupsManyRows - tenGroupsFewRows) bytes")
        #expect(manyGroups - tenGroupsManyRows > 19_990 * 100, "19,990 more groups cost \(manyGroups - tenGroupsManyRows) bytes")
    }

    @Test("an aggregation run in blocks charges each group as it is made, on one thread or several", arguments: [1, 2])
    func batchGroupsAreCharged(threads: Int) async throws {
        var db = try await offPool { Self.numbered200k }
        db.queryThreads = threads
        db.idsPerQueryThread = 4096
        try await expectRefused("MATCH (n:N) RETURN n.i AS k, count(*) AS c", on: db, runningIn: "BatchAggregation")
        // One group of 200,000 rows holds little.
        let one = Call(limitBytes: 8 << 20)
        let counted = try await ending("MATCH (n:N) RETURN count(n) AS c, max(n.i) AS m", on: db, bounds: one.bounds)
        #expect(counted.error == nil && counted.rows == [[.int(200_000), .int(199_999)]])
        #expect(one.memory.peakBytes <= 2 << 20, "peak \(one.memory.peakBytes) bytes")
    }

    /// Checks that `query` (200,000 groups), run by `db` with the operator named `runningIn`, is
    /// refused in 8 MiB as its group table grows, everything given back.
    private func expectRefused(_ query: String, on db: GraphDatabase, runningIn name: String) async throws {
        var explained = db
        #expect(try explained.execute("EXPLAIN " + query).plan?.operators.contains { $0.name == name } == true)
        let small = Call(limitBytes: 8 << 20)
        let refused = try await ending(query, on: db, bounds: small.bounds)
        #expect(refused.error?.code == .resourceExhausted, "\(String(describing: refused.error))")
        #expect(small.memory.chargedBytes == 0)
        #expect(small.memory.peakBytes <= 8 << 20)
    }

    /// `nodes` `:K {i}` nodes (`i` from 0 to 15), each the start of 4 relationships to others: an
    /// expand from every node reads the relationships where they are stored (`BatchRelationshipScan`).
    private static func fewPerNode(_ nodes: Int) throws -> GraphDatabase {
        var store = GraphStore()
        var rng = SeededGenerator(seed: 7)
        for i in 0..<nodes { try store.createNode(labels: ["K"], properties: ["i": .int(Int64(i % 16))]) }
        for a in 0..<nodes {
            for _ in 0..<4 { try store.createRelationship(type: "E", from: a, to: Int(rng.next() % UInt64(nodes))) }
        }
        return GraphDatabase(store: store)
    }

    @Test("a scan of the relationships charges each group as it is made, on one thread or several", arguments: [1, 2])
    func relationshipScanGroupsAreCharged(threads: Int) async throws {
        var db = try await offPool { Self.fewPerNode100k }
        db.queryThreads = threads
        db.idsPerQueryThread = 4096
        try await expectRefused("MATCH (a:K)-[r:E]->(b) RETURN r AS r, count(*) AS c", on: db, runningIn: "BatchRelationshipScan")
        // 16 x 16 groups of 400,000 rows hold little.
        let few = Call(limitBytes: 8 << 20)
        let counted = try await ending("MATCH (a:K)-[:E]->(b) RETURN a.i AS i, b.i AS j, count(*) AS c, sum(b.i) AS s", on: db,
                                       bounds: few.bounds)
        #expect(counted.error == nil && counted.rows.count == 256 && counted.rows.reduce(Int64(0)) { total, row in
            guard case .int(let c) = row[2] else { return total }
            return total + c
        } == 400_000)
        #expect(few.memory.peakBytes <= 4 << 20, "peak \(few.memory.peakBytes) bytes")
        // After it, the call holds its result rows, as after the row path.
        var rowPath = db
        rowPath.usesBatches = false
        let rowsCall = Call(limitBytes: 8 << 20)
        let reference = try await ending("MATCH (a:K)-[:E]->(b) RETURN a.i AS i, b.i AS j, count(*) AS c, sum(b.i) AS s", on: rowPath,
                                         bounds: rowsCall.bounds)
        #expect(counted.rows == reference.rows)
        #expect(few.memory.chargedBytes == rowsCall.memory.chargedBytes)
    }

    @Test("ORDER BY with LIMIT keeps only the best rows, and returns the same as a full sort")
    func topRowsOnly() async throws {
        let call = Call(limitBytes: 8 << 20)
        let end = try await ending("UNWIND range(1, 1000) AS a UNWIND range(1, 300) AS b RETURN a, b ORDER BY (a * b) % 997 DESC, a SKIP 3 LIMIT 10",
                                   on: GraphDatabase(), bounds: call.bounds)
        var all: [(Int, Int)] = []
        for a in 1...1000 { for b in 1...300 { all.append((a, b)) } }
        let expected = all.enumerated().sorted { x, y in
            let (kx, ky) = ((x.element.0 * x.element.1) % 997, (y.element.0 * y.element.1) % 997)
            if kx != ky { return kx > ky }
            if x.element.0 != y.element.0 { return x.element.0 < y.element.0 }
            return x.offset < y.offset
        }.dropFirst(3).prefix(10).map { [Value.int(Int64($0.element.0)), .int(Int64($0.element.1))] }
        #expect(end.error == nil && end.rows == Array(expected))
        #expect(call.memory.peakBytes < 8 << 20)
    }

    @Test("a WITH ... LIMIT in the middle of a query stops the walk before it")
    func middleLimitStopsTheWalk() throws {
        var db = try numbered(2000)
        let started = ContinuousClock.now
        // 8e9 combinations: only an early stop answers.
        let result = try db.execute("MATCH (a:N), (b:N), (c:N) WITH a, b, c LIMIT 3 RETURN count(*) AS c")
        #expect(result.rows == [[.int(3)]])
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    // MARK: Cancellation

    /// A complete directed graph of 12 nodes: billions of paths up to 12 long.
    private func dense() throws -> GraphDatabase {
        var db = GraphDatabase()
        try db.execute("UNWIND range(1, 12) AS i CREATE (:K {i: i})")
        try db.execute("MATCH (a:K), (b:K) WHERE a <> b CREATE (a)-[:E]->(b)")
        return db
    }

    @Test("a cancel from another thread stops a long query within milliseconds", arguments: [
        "MATCH p = (a:K)-[*1..12]->(b) RETURN count(p) AS c",
        "MATCH p = (a:K)-[*1..12]->(b) RETURN p",
        "MATCH (a:K) RETURN a.i AS i, size([(a)-[*1..10]->(b) | b]) AS reach",
        "UNWIND range(1, 20000) AS a UNWIND range(1, 20000) AS b RETURN count(*) AS c",
        "UNWIND range(1, 2000) AS a RETURN a, reduce(t = 0, i IN range(1, 1000000) | t + i) AS s",
        "UNWIND range(1, 300) AS a UNWIND range(1, 300) AS b UNWIND range(1, 300) AS c RETURN a, b, c ORDER BY a + b + c DESC",
        "WITH reduce(s = '', i IN range(1, 2000) | s + '0123456789012345678901234567890123456789012345678901234567890123456789') AS s "
            + "RETURN s =~ $pattern AS m",
    ])
    func cancelStopsQuickly(query: String) async throws {
        let db = try dense()
        let call = Call(limitBytes: 2 << 30)
        let stamp = CancelStamp()
        stamp.cancel(call, after: .milliseconds(400))
        let pattern = Value.string(String(repeating: "(.?){1000}", count: 3))
        let end = try await ending(query, on: db, parameters: ["pattern": pattern], bounds: call.bounds, streaming: true)
        guard let error = end.error else {
            Issue.record("expected the cancel to stop the query")
            return
        }
        #expect(error.code == .cancelled && error.workLimit?.kind == .stopped(.cancelled), "\(error)")
        let stopped = end.stoppedAt
        guard let cancelled = stamp.instant.withLock({ $0 }) else {
            Issue.record("the query ended before the cancel")
            return
        }
        let latency = stopped - cancelled
        print("cancel latency \(latency) for \(query.prefix(60))")
        #expect(latency < .milliseconds(100), "stopped \(latency) after the cancel")
        #expect(call.memory.chargedBytes == 0)
    }

    /// 4,096 `:K {i}` nodes, each with 40 relationships to others: walks of four steps from every
    /// node are 10 billion rows, and the scan has several chunks (a run on threads has parts).
    private static func wide() throws -> GraphDatabase {
        var store = GraphStore()
        var rng = SeededGenerator(seed: 5)
        for i in 0..<4096 { try store.createNode(labels: ["K"], properties: ["i": .int(Int64(i % 16))]) }
        for a in 0..<4096 {
            for _ in 0..<40 { try store.createRelationship(type: "E", from: a, to: Int(rng.next() % 4096)) }
        }
        return GraphDatabase(store: store)
    }

    @Test("an aggregation run in blocks stops within milliseconds of a cancel, and at its deadline", arguments: [1, 2])
    func batchStops(threads: Int) async throws {
        var db = try await offPool { Self.wide4096 }
        db.queryThreads = threads
        db.idsPerQueryThread = 1024
        try await expectStops("MATCH (a:K)-->(b)-->(c)-->(d)-->(e) RETURN a.i AS i, count(*) AS c, max(e.i) AS m", on: db,
                              runningIn: "BatchExpand(All)", cancelAfter: .milliseconds(400), deadlineAfter: .milliseconds(300),
                              deadlineLatency: .milliseconds(200))
    }

    @Test("a scan of the relationships stops within milliseconds of a cancel, and at its deadline", arguments: [1, 2])
    func relationshipScanStops(threads: Int) async throws {
        var db = try await offPool { Self.fewPerNode100k }
        db.queryThreads = threads
        db.idsPerQueryThread = 4096
        // A group per relationship: a long scan.
        try await expectStops("MATCH (a:K)-[r:E]->(b) RETURN r AS r, count(*) AS c, max(b.i) AS m", on: db,
                              runningIn: "BatchRelationshipScan", cancelAfter: .milliseconds(30), deadlineAfter: .milliseconds(30),
                              deadlineLatency: .milliseconds(100))
    }

    /// Checks that `query`, run by `db` with the operator named `runningIn`, ends with `cancelled`
    /// within 100 ms of a cancel `cancelAfter` from its start, and with `timeout` within
    /// `deadlineLatency` of a deadline `deadlineAfter` from its start, everything given back.
    private func expectStops(_ query: String, on db: GraphDatabase, runningIn name: String, cancelAfter: Duration,
                             deadlineAfter: Duration, deadlineLatency: Duration) async throws {
        var explained = db
        #expect(try explained.execute("EXPLAIN " + query).plan?.operators.contains { $0.name == name } == true)
        let call = Call(limitBytes: 1 << 30)
        let stamp = CancelStamp()
        stamp.cancel(call, after: cancelAfter)
        let end = try await ending(query, on: db, bounds: call.bounds)
        #expect(end.error?.code == .cancelled, "\(String(describing: end.error)) after \(end.elapsed)")
        if let cancelled = stamp.instant.withLock({ $0 }) {
            let latency = end.stoppedAt - cancelled
            print("\(name) cancel latency \(latency), \(db.queryThreads) thread(s)")
            #expect(latency < .milliseconds(100), "stopped \(latency) after the cancel")
        } else {
            Issue.record("the query ended before the cancel")
        }
        #expect(call.memory.chargedBytes == 0)
        // A deadline stops it too (`timeout`), everything given back.
        let timed = try await offPool {
            var db = db
            let deadline = ContinuousClock.now + deadlineAfter
            let bounds = Call(limitBytes: 1 << 30)
            do throws(GraphError) {
                try db.execute(query, deadline: deadline, bounds: bounds.bounds)
                return (GraphError.Code.runtime, ContinuousClock.now - deadline, bounds.memory.chargedBytes)
            } catch {
                return (error.code, ContinuousClock.now - deadline, bounds.memory.chargedBytes)
            }
        }
        #expect(timed.0 == .timeout && timed.1 < deadlineLatency && timed.2 == 0, "\(timed)")
    }

    @Test("a call cancelled before the query starts does nothing")
    func cancelledBeforeStart() throws {
        var db = GraphDatabase()
        let call = Call(limitBytes: 1 << 20)
        call.cancellation.cancel(.deadlineExceeded)
        #expect { try db.execute("CREATE (:A)", bounds: call.bounds) } throws: { error in
            (error as? GraphError)?.code == .timeout
        }
        #expect(db.store.nodeCount == 0)
    }
}
