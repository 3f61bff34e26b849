#if canImport(Glibc)
import Glibc
#endif
@testable import GraphEngine
import Testing
@testable import GraphPersistence

/// One of every temporal kind, at the edges of their ranges, as properties.
private let temporals: [String: Value] = [
    "date": .temporal(.date(epochDay: CivilCalendar.minEpochDay)),
    "localtime": .temporal(.localTime(nanoOfDay: Temporal.nanosPerDay - 1)),
    "time": .temporal(.time(nanoOfDay: 1, offsetSeconds: -64_800)),
    "localdatetime": .temporal(.localDateTime(epochDay: CivilCalendar.maxEpochDay, nanoOfDay: 0)),
    "datetime": .temporal(.dateTime(epochDay: 17_467, nanoOfDay: 43_200_000_000_000, offsetSeconds: 7200, zone: "Europe/Stockholm")),
    "fixed": .temporal(.dateTime(epochDay: -1, nanoOfDay: 5, offsetSeconds: 0, zone: nil)),
    "duration": .temporal(.duration(CypherDuration(months: -13, days: 40, seconds: -1, nanos: 999_999_999)!)),
    "list": .list([.temporal(.date(epochDay: 0)), .temporal(.date(epochDay: 1))]),
]

@Suite("durable graph: temporal properties")
struct TemporalStorageTests {
    @Test("the codec round-trips every temporal kind and refuses every cut of it")
    func codecRoundTrip() throws {
        var store = GraphStore()
        _ = try store.createNode(labels: ["T"], properties: temporals)
        let changes = store.takeChanges()
        let bytes = GraphCodec.encode(changes)
        #expect(try GraphCodec.decode(bytes) == changes)
        for cut in 0..<bytes.count {
            #expect(throws: (any Error).self) { _ = try GraphCodec.decode(Array(bytes[..<cut])) }
        }
    }

    @Test("out-of-range fields and unknown kinds in the bytes are damage, not values", arguments: [
        Value.temporal(.date(epochDay: CivilCalendar.maxEpochDay + 1)),
        .temporal(.localTime(nanoOfDay: -1)),
        .temporal(.time(nanoOfDay: 0, offsetSeconds: 64_801)),
        .temporal(.dateTime(epochDay: 0, nanoOfDay: Temporal.nanosPerDay, offsetSeconds: 0, zone: nil)),
        .temporal(.dateTime(epochDay: 0, nanoOfDay: 0, offsetSeconds: 0, zone: "../etc/passwd")),
    ])
    func hostileBytes(value: Value) throws {
        var store = GraphStore()
        _ = try store.createNode(properties: ["v": value])
        let changes = store.takeChanges()
        let bytes = GraphCodec.encode(changes)
        #expect(throws: (any Error).self) { _ = try GraphCodec.decode(bytes) }
        // Every byte of a valid record flipped in turn: decoded or refused, never a crash, and
        // what decodes holds only valid temporal values.
        var valid = GraphStore()
        _ = try valid.createNode(properties: temporals)
        let good = GraphCodec.encode(valid.takeChanges())
        for i in good.indices {
            var damaged = good
            damaged[i] ^= 0xA5
            guard let decoded = try? GraphCodec.decode(damaged) else { continue }
            for case let node? in decoded.nodes.values {
                for case .temporal(let t) in node.properties.values { #expect(t.isValid) }
            }
        }
    }

    @Test("temporal properties written by queries survive log replay and a snapshot, and compare as before")
    func survivesRestart() throws {
        var template = Array("/tmp/ruvector-temporal-XXXXXX".utf8CString)
        let directory = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        let options = DurableGraphDatabase.Options(syncPolicy: .never, autoSnapshotWALBytes: 0)
        let query = "MATCH (e:E) WHERE e.at < datetime('2017-10-29T03:00+01:00') RETURN toString(e.at), toString(e.d)"
        var before: [[Value]] = []
        do {
            let db = try DurableGraphDatabase.open(directory, options: options)
            _ = try db.execute("CREATE (:E {at: datetime('2017-10-29T02:30+02:00[Europe/Stockholm]'), d: duration('P1Y2M3DT4.5S')})")
            try db.snapshot()
            _ = try db.execute("CREATE (:E {at: localdatetime('2017-01-01T00:00'), d: [date('2017-01-01')]})")
            before = try db.execute(query).value.rows
            try db.close()
        }
        #expect(before == [[.string("2017-10-29T02:30+02:00[Europe/Stockholm]"), .string("P1Y2M3DT4.5S")]])
        // Reopened with a fixed clock: datetime() in a query and in a transaction reads it.
        let reopened = try DurableGraphDatabase.open(directory, options: options, wallClock: .fixed(epochNanos: 1_500_000_000_000_000_000))
        #expect(try reopened.execute(query).value.rows == before)
        #expect(try reopened.execute("RETURN toString(datetime()) AS now").value.rows == [[.string("2017-07-14T02:40Z")]])
        let transaction = reopened.begin(.serializable)
        #expect(try reopened.execute("RETURN toString(date()) AS today", transaction: transaction).value.rows == [[.string("2017-07-14")]])
        try reopened.rollback(transaction)
        #expect(try reopened.execute("MATCH (e:E) WHERE e.d IS NOT NULL RETURN count(*)").value.rows == [[.int(2)]])
    }
}
