#if canImport(Glibc)
import Glibc
#endif
@testable import GraphEngine
import Testing
@testable import GraphPersistence

/// Columns are derived from the nodes, so snapshots and the log hold nodes only: a restart
/// rebuilds each column, as integers or as `Value`s, and reads answer as before it.
@Suite("property columns of both layouts through snapshots and the log")
struct PropertyColumnStorageTests {
    private static func temporaryDirectory() -> String {
        var template = Array("/tmp/ruvector-graph-columns-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    private static let options = DurableGraphDatabase.Options(syncPolicy: .never, autoSnapshotWALBytes: 0)

    private static let queries = [
        "MATCH (n:P) RETURN n.k AS k, count(*) AS c, count(n.k) AS d",
        "MATCH (n:P) RETURN n.m AS m, count(*) AS c",
        "MATCH (n:P) WHERE n.i IN [1, 2, 3, 4, 5, 4000] RETURN n.i AS i, n.k AS k, n.m AS m ORDER BY i",
    ]

    private static func answers(_ db: DurableGraphDatabase) throws -> [[[Value]]] {
        try queries.map { try db.execute($0).value.rows }
    }

    @Test("a snapshot and the log after it restore both layouts and every value with its type")
    func roundTrip() throws {
        let directory = Self.temporaryDirectory()
        var expected: [[[Value]]] = []
        do {
            let db = try DurableGraphDatabase.open(directory, options: Self.options)
            // k: integers (a column of integers); m: integers and one float 1.0 (a column of Values).
            _ = try db.execute("UNWIND range(0, 5999) AS i CREATE (:P {i: i, k: i % 90, m: CASE WHEN i = 4000 THEN 1.0 ELSE i % 7 END})")
            #expect(db.committedStore.propertyColumns.column("k")?.holdsInts == true)
            #expect(db.committedStore.propertyColumns.column("m")?.holdsInts == false)
            try db.snapshot()
            try db.close()
        }
        do {
            let db = try DurableGraphDatabase.open(directory, options: Self.options)
            #expect(db.recovery.replayedRecords == 0)
            #expect(db.committedStore.propertyColumns.column("k")?.holdsInts == true)
            #expect(db.committedStore.propertyColumns.column("m")?.holdsInts == false)
            #expect(try db.execute("MATCH (n:P) WHERE n.i IN [4000, 4001] RETURN n.m AS m ORDER BY n.i").value.rows
                    == [[.float(1.0)], [.int(4001 % 7)]])
            // After the snapshot, in the log: k moves to Values, some removed.
            _ = try db.execute("MATCH (n:P) WHERE n.i = 3 SET n.k = 'three'")
            _ = try db.execute("MATCH (n:P) WHERE n.i % 50 = 1 REMOVE n.k")
            expected = try Self.answers(db)
            try db.close()
        }
        let db = try DurableGraphDatabase.open(directory, options: Self.options)
        #expect(db.recovery.replayedRecords == 2)
        #expect(db.committedStore.propertyColumns.column("k")?.holdsInts == false)
        #expect(try Self.answers(db) == expected)
        #expect(try db.execute("MATCH (n:P) WHERE n.i IN [3, 4] RETURN n.k AS k ORDER BY n.i").value.rows == [[.string("three")], [.int(4)]])
    }
}
