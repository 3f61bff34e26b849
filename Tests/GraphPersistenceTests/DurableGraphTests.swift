#if canImport(Glibc)
import Glibc
#endif
@testable import GraphEngine
import Testing
@testable import GraphPersistence

private func temporaryDirectory() -> String {
    var template = Array("/tmp/ruvector-graph-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
}

/// Everything in a store, comparable.
private func contents(_ store: GraphStore) -> [AnyHashable] {
    store.allNodeIds().map { AnyHashable(store.node($0)) } + store.allRelationshipIds().map { AnyHashable(store.relationship($0)) }
        + store.allHyperedgeIds().map { AnyHashable(store.hyperedge($0)) }
}

private let fast = DurableGraphDatabase.Options(syncPolicy: .never, autoSnapshotWALBytes: 0)

@Suite("durable graph: commits survive a restart")
struct DurableGraphTests {
    @Test("log replay and snapshot + replay restore the exact store; ids are never reused")
    func persistence() throws {
        let directory = temporaryDirectory()
        var expected: [AnyHashable] = []
        do {
            let db = try DurableGraphDatabase.open(directory, options: fast)
            _ = try db.execute("UNWIND range(1, 50) AS i CREATE (:Doc {n: i, tags: ['a', 'b'], score: i * 0.5})")
            _ = try db.execute("MATCH (a:Doc), (b:Doc) WHERE b.n = a.n + 1 CREATE (a)-[:NEXT {w: a.n}]->(b)")
            _ = try db.perform { database throws(GraphError) in
                try database.withStore { store throws(GraphError) in try store.createHyperedge(type: "GROUP", members: [1, 2, 3], properties: ["k": .string("x")]) }
            }
            try db.snapshot()
            _ = try db.execute("MATCH (d:Doc) WHERE d.n > 45 DETACH DELETE d")
            _ = try db.execute("MATCH (d:Doc {n: 3}) SET d:Pinned, d.score = null REMOVE d:Doc")
            expected = contents(db.committedStore)
            try db.close()
        }
        let reopened = try DurableGraphDatabase.open(directory, options: fast)
        #expect(reopened.recovery.replayedRecords == 2)
        #expect(contents(reopened.committedStore) == expected)
        let created = try reopened.execute("CREATE (n:New) RETURN id(n) AS id")
        guard case .int(let id)? = created.value.rows.first?.first else { Issue.record("no id"); return }
        #expect(id >= 50 + 49 + 1)      // past every id ever used, deleted ones included
        #expect(created.counts.nodesCreated == 1 && created.counts.labelsAdded == 1)
    }

    @Test("vector indexes survive a restart (from the log and from a snapshot) and follow every commit")
    func vectorIndexes() throws {
        let directory = temporaryDirectory()
        let definition = VectorIndexDefinition(name: "docs", label: "Doc", property: "v", dimension: 2, metric: .l2Squared)
        func nearest(_ db: DurableGraphDatabase, _ q: [Float]) throws -> Value? {
            let outcome = try db.hybridSearch(index: "docs", vector: q, k: 1)
            return outcome.value.first.flatMap { outcome.store.node($0.node)?.properties["n"] }
        }
        do {
            let db = try DurableGraphDatabase.open(directory, options: fast)
            _ = try db.execute("UNWIND range(1, 20) AS i CREATE (:Doc {n: i, v: [toFloat(i), 0.0]})")
            try db.createVectorIndex(definition)
            #expect(throws: (any Error).self) { try db.createVectorIndex(definition) }
            #expect(db.vectorIndexes.count("docs") == 20)
            _ = try db.execute("CREATE (:Doc {n: 100, v: [100.0, 0.0]})")
            #expect(try nearest(db, [99, 0]) == .int(100))
            // A transaction's changes reach the index at commit, not before.
            let tx = db.begin(.serializable)
            _ = try db.execute("MATCH (d:Doc {n: 100}) DETACH DELETE d", transaction: tx)
            #expect(try nearest(db, [99, 0]) == .int(100))
            try db.commit(tx)
            #expect(try nearest(db, [99, 0]) == .int(20))
            // Inside a transaction, searches see its own writes from earlier statements.
            for isolation in [DurableGraphDatabase.Isolation.readCommitted, .repeatableRead] {
                let writer = db.begin(isolation)
                _ = try db.execute("CREATE (:Doc {n: 500, v: [500.0, 0.0]})", transaction: writer)
                _ = try db.execute("MATCH (d:Doc {n: 20}) SET d.v = [-1.0, 0.0]", transaction: writer)
                let inside = try db.hybridSearch(index: "docs", vector: [499, 0], k: 2, transaction: writer)
                #expect(inside.value.compactMap { inside.store.node($0.node)?.properties["n"] } == [.int(500), .int(19)])
                #expect(try nearest(db, [499, 0]) == .int(20), "not visible outside before commit")
                try db.rollback(writer)
            }
            try db.close()
        }
        do {
            let db = try DurableGraphDatabase.open(directory, options: fast)
            #expect(db.vectorIndexes.definitions == [definition])
            #expect(db.vectorIndexes.count("docs") == 20)
            #expect(try nearest(db, [99, 0]) == .int(20))
            try db.snapshot()
            _ = try db.execute("MATCH (d:Doc {n: 20}) SET d.v = [-5.0, 0.0]")
            try db.close()
        }
        let db = try DurableGraphDatabase.open(directory, options: fast)
        #expect(db.recovery.replayedRecords == 1)
        #expect(db.vectorIndexes.definitions == [definition])
        #expect(try nearest(db, [99, 0]) == .int(19))
        #expect(try nearest(db, [-9, 0]) == .int(20))
    }

    @Test("property indexes survive a restart (from the log and from a snapshot) and follow commits and transactions")
    func propertyIndexes() throws {
        let directory = temporaryDirectory()
        let key = PropertyIndexes.Key(label: "User", property: "email")
        func lookup(_ db: DurableGraphDatabase, _ email: String) -> [Int]? {
            db.committedStore.propertyIndexes.candidates(label: "User", property: "email", equalTo: .string(email))
        }
        do {
            let db = try DurableGraphDatabase.open(directory, options: fast)
            _ = try db.execute("UNWIND range(1, 50) AS i CREATE (:User {email: 'u' + toString(i) + '@x'})")
            let tx = db.begin(.repeatableRead)          // begun before the index exists
            try db.createPropertyIndex(name: "email", key)
            #expect(throws: (any Error).self) { try db.createPropertyIndex(name: "email", .init(label: "User", property: "name")) }
            #expect(db.propertyIndexes.map(\.entries) == [50])
            _ = try db.execute("CREATE (:User {email: 'late@x'})", transaction: tx)
            try db.commit(tx)
            #expect(lookup(db, "late@x")?.count == 1, "a transaction's writes reach the index at commit")
            _ = try db.execute("MATCH (u:User {email: 'u7@x'}) SET u.email = 'seven@x'")
            #expect(lookup(db, "u7@x") == [] && lookup(db, "seven@x")?.count == 1)
            try db.close()
        }
        do {
            let db = try DurableGraphDatabase.open(directory, options: fast)
            #expect(db.propertyIndexes.map(\.name) == ["email"] && db.propertyIndexes.map(\.entries) == [51])
            #expect(lookup(db, "seven@x")?.count == 1)
            try db.snapshot()
            _ = try db.execute("MATCH (u:User {email: 'u8@x'}) DETACH DELETE u")
            try db.close()
        }
        let db = try DurableGraphDatabase.open(directory, options: fast)
        #expect(db.propertyIndexes.map(\.entries) == [50])
        #expect(lookup(db, "u8@x") == [] && lookup(db, "u9@x")?.count == 1)
        let found = try db.execute("MATCH (u:User) WHERE u.email = $e RETURN count(u) AS c", parameters: ["e": .string("u9@x")])
        #expect(found.value.rows == [[.int(1)]])
    }

    @Test("commits and index creations go on while snapshots are written; a reopen has them all")
    func commitsDuringSnapshots() async throws {
        let directory = temporaryDirectory()
        do {
            let db = try DurableGraphDatabase.open(directory, options: fast)
            _ = try db.execute("UNWIND range(1, 3000) AS i CREATE (:N {i: i})")
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for i in 0..<60 { _ = try db.execute("CREATE (:M {i: $i})", parameters: ["i": .int(Int64(i))]) }
                    try db.createVectorIndex(VectorIndexDefinition(name: "v", label: "M", property: "v", dimension: 2, metric: .l2Squared))
                    try db.createPropertyIndex(name: "mi", .init(label: "M", property: "i"))
                }
                group.addTask { for _ in 0..<5 { try db.snapshot() } }
                try await group.waitForAll()
            }
            try db.close()
        }
        let db = try DurableGraphDatabase.open(directory, options: fast)
        #expect(try db.execute("MATCH (m:M) RETURN count(m)").value.rows == [[.int(60)]])
        #expect(db.vectorIndexes.definitions.map(\.name) == ["v"] && db.propertyIndexes.map(\.name) == ["mi"])
    }

    @Test("codec round-trips every value kind and refuses damage")
    func codec() throws {
        var store = GraphStore()
        let a = try store.createNode(labels: ["A", "B"], properties: ["s": .string("x"), "i": .int(-3), "f": .float(2.5),
                                                                      "b": .bool(true), "l": .list([.int(1), .string("y")])])
        let b = try store.createNode()
        let c = try store.createNode()
        try store.createRelationship(type: "R", from: a, to: b, properties: ["w": .float(1)])
        try store.createHyperedge(type: "H", members: [a, b, c])
        let changes = store.takeChanges()
        let bytes = GraphCodec.encode(changes)
        #expect(try GraphCodec.decode(bytes) == changes)
        for cut in stride(from: 0, to: bytes.count, by: 3) {
            #expect(throws: (any Error).self) { _ = try GraphCodec.decode(Array(bytes[..<cut])) }
        }
    }
}

@Suite("graph transactions: each isolation level allows exactly the anomalies it promises")
struct IsolationTests {
    private func database(_ setup: String) throws -> DurableGraphDatabase {
        let db = try DurableGraphDatabase.open(temporaryDirectory(), options: fast)
        _ = try db.execute(setup)
        return db
    }

    private func value(_ outcome: DurableGraphDatabase.Outcome<QueryResult>) -> Value? { outcome.value.rows.first?.first }

    private static let levels: [DurableGraphDatabase.Isolation] = [.readCommitted, .repeatableRead, .serializable]

    @Test("dirty read never happens", arguments: levels)
    func dirtyRead(level: DurableGraphDatabase.Isolation) throws {
        let db = try database("CREATE (:X {v: 1})")
        let writer = db.begin(level)
        _ = try db.execute("MATCH (x:X) SET x.v = 2", transaction: writer)
        let reader = db.begin(level)
        #expect(value(try db.execute("MATCH (x:X) RETURN x.v", transaction: reader)) == .int(1))
        #expect(value(try db.execute("MATCH (x:X) RETURN x.v")) == .int(1))
        #expect(value(try db.execute("MATCH (x:X) RETURN x.v", transaction: writer)) == .int(2))   // its own write
        try db.rollback(writer)
        #expect(value(try db.execute("MATCH (x:X) RETURN x.v")) == .int(1))
    }

    @Test("non-repeatable read: occurs under read committed only", arguments: levels)
    func nonRepeatableRead(level: DurableGraphDatabase.Isolation) throws {
        let db = try database("CREATE (:X {v: 1})")
        let tx = db.begin(level)
        #expect(value(try db.execute("MATCH (x:X) RETURN x.v", transaction: tx)) == .int(1))
        _ = try db.execute("MATCH (x:X) SET x.v = 2")
        let again = value(try db.execute("MATCH (x:X) RETURN x.v", transaction: tx))
        #expect(again == (level == .readCommitted ? .int(2) : .int(1)))
    }

    @Test("phantom: occurs under read committed only", arguments: levels)
    func phantom(level: DurableGraphDatabase.Isolation) throws {
        let db = try database("CREATE (:Item), (:Item)")
        let tx = db.begin(level)
        #expect(value(try db.execute("MATCH (i:Item) RETURN count(i)", transaction: tx)) == .int(2))
        _ = try db.execute("CREATE (:Item)")
        let again = value(try db.execute("MATCH (i:Item) RETURN count(i)", transaction: tx))
        #expect(again == (level == .readCommitted ? .int(3) : .int(2)))
    }

    @Test("lost update: occurs under read committed; the second committer aborts above it", arguments: levels)
    func lostUpdate(level: DurableGraphDatabase.Isolation) throws {
        let db = try database("CREATE (:Counter {v: 1})")
        let t1 = db.begin(level), t2 = db.begin(level)
        _ = try db.execute("MATCH (c:Counter) SET c.v = c.v + 1", transaction: t1)
        _ = try db.execute("MATCH (c:Counter) SET c.v = c.v + 1", transaction: t2)
        try db.commit(t1)
        if level == .readCommitted {
            try db.commit(t2)
            #expect(value(try db.execute("MATCH (c:Counter) RETURN c.v")) == .int(2))   // one increment lost
        } else {
            #expect(throws: GraphError.self) { try db.commit(t2) }
            #expect(value(try db.execute("MATCH (c:Counter) RETURN c.v")) == .int(2))
        }
    }

    @Test("write skew: occurs under repeatable read (snapshot isolation), not under serializable", arguments: levels)
    func writeSkew(level: DurableGraphDatabase.Isolation) throws {
        // Invariant the application keeps: at least one doctor on call.
        let db = try database("CREATE (:Doctor {name: 'a', onCall: true}), (:Doctor {name: 'b', onCall: true})")
        let t1 = db.begin(level), t2 = db.begin(level)
        for (tx, name) in [(t1, "a"), (t2, "b")] {
            #expect(value(try db.execute("MATCH (d:Doctor {onCall: true}) RETURN count(d)", transaction: tx)) == .int(2))
            _ = try db.execute("MATCH (d:Doctor {name: $n}) SET d.onCall = false", parameters: ["n": .string(name)], transaction: tx)
        }
        try db.commit(t1)
        if level == .serializable {
            #expect(throws: GraphError.self) { try db.commit(t2) }
            #expect(value(try db.execute("MATCH (d:Doctor {onCall: true}) RETURN count(d)")) == .int(1))
        } else {
            try db.commit(t2)
            #expect(value(try db.execute("MATCH (d:Doctor {onCall: true}) RETURN count(d)")) == .int(0))
        }
    }

    @Test("read-only serializable transactions always commit; creations in concurrent transactions never collide")
    func readOnlyAndIds() throws {
        let db = try database("CREATE (:X)")
        let reader = db.begin(.serializable)
        _ = try db.execute("MATCH (x) RETURN count(x)", transaction: reader)
        _ = try db.execute("CREATE (:Y)")
        #expect(try db.commit(reader) == 0)
        let t1 = db.begin(.readCommitted), t2 = db.begin(.readCommitted)
        _ = try db.execute("UNWIND range(1, 10) AS i CREATE (:A {i: i})", transaction: t1)
        _ = try db.execute("UNWIND range(1, 10) AS i CREATE (:B {i: i})", transaction: t2)
        try db.commit(t2)
        try db.commit(t1)
        #expect(value(try db.execute("MATCH (n) WHERE n:A OR n:B RETURN count(n)")) == .int(20))
    }

    @Test("a transaction idle past its timeout is rolled back; a deleted node cannot gain a relationship at commit")
    func timeoutAndIntegrity() throws {
        let db = try database("CREATE (:X {v: 1}), (:Y)")
        let idle = db.begin(.readCommitted, idleTimeout: .milliseconds(30))
        _ = try db.execute("MATCH (x:X) SET x.v = 5", transaction: idle)
        usleep(80_000)
        #expect(throws: GraphError.self) { _ = try db.execute("MATCH (x:X) RETURN x.v", transaction: idle) }
        #expect(db.openTransactions == 0)
        #expect(value(try db.execute("MATCH (x:X) RETURN x.v")) == .int(1))

        let linker = db.begin(.readCommitted)
        _ = try db.execute("MATCH (x:X), (y:Y) CREATE (x)-[:R]->(y)", transaction: linker)
        _ = try db.execute("MATCH (y:Y) DETACH DELETE y")
        #expect(throws: GraphError.self) { try db.commit(linker) }
        #expect(value(try db.execute("MATCH ()-[r]->() RETURN count(r)")) == .int(0))
    }

    @Test("a query past its deadline stops with .timeout and changes nothing")
    func deadline() throws {
        // 90^3 = 729,000 rows: under the row limit, far more than 20 ms of work.
        let db = try database("UNWIND range(1, 90) AS i CREATE (:N {i: i})")
        let started = ContinuousClock.now
        do {
            _ = try db.execute("MATCH (a:N), (b:N), (c:N) CREATE (:Triple)", deadline: .now + .milliseconds(20))
            Issue.record("the query finished despite its deadline")
        } catch let error as GraphError {
            #expect(error.code == .timeout)
        }
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(value(try db.execute("MATCH (t:Triple) RETURN count(t)")) == .int(0))
    }
}
