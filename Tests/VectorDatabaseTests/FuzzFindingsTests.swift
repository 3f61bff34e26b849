import Checksums
import Testing
@testable import Storage
import VectorEngine
import VectorDatabase

/// Files `ruvector-fuzz snapshot` found crashing recovery (see docs/fuzzing.md).
@Suite("fuzz findings: collection recovery")
struct CollectionFuzzFindingsTests {
    @Test("a newest snapshot naming a WAL sequence beyond any log is skipped: the collection opens from the previous one (adding 1 to it trapped)")
    func snapshotBeyondAnyLog() throws {
        let directory = temporaryDirectory()
        let db = try DurableCollection.create(in: directory, config: CollectionConfig(name: "docs", dimension: 4, metric: .l2Squared),
                                              options: .init(syncPolicy: .never))
        try db.upsert(points(0..<10, dimension: 4, seed: 1))
        _ = try db.snapshot()
        try db.upsert(points(10..<20, dimension: 4, seed: 2))
        let newest = try db.snapshot()
        try db.close()
        // Every checksum right, the header's WAL sequence 2^64 - 1.
        let path = directory + "/snapshots/" + newest.name
        var bytes = Array(try AtomicFile.read(path).dropLast(4))
        bytes.replaceSubrange(16..<24, with: WALFormat.littleEndian(UInt64.max))
        bytes += WALFormat.littleEndian(CRC32C.checksum(bytes))
        try DurableFile(path: path, create: false).write(bytes, at: 0)
        let reopened = try DurableCollection.open(directory, options: .init(syncPolicy: .never))
        #expect(reopened.recovery.skippedSnapshots == [newest.name])
        #expect(try reopened.collection.count() == 20)
    }

    @Test("a delete record claiming 2^32 - 1 ids in 8 bytes is refused as damaged (decoding it reserved 32 GiB and aborted)")
    func deleteRecordWithAHugeCount() throws {
        let directory = temporaryDirectory()
        let db = try DurableCollection.create(in: directory, config: CollectionConfig(name: "docs", dimension: 4, metric: .l2Squared),
                                              options: .init(syncPolicy: .never))
        try db.upsert(points(0..<5, dimension: 4, seed: 1))
        try db.close()
        // Appended through the log itself: a record with a valid checksum, damaged inside.
        let (wal, _) = try WriteAheadLog.open(directory: directory + "/wal", options: WALOptions(syncPolicy: .never))
        _ = try wal.append(type: 2, payload: [0xFF, 0xFF, 0xFF, 0xFF, 1, 0, 0, 0, 0, 0, 0, 0])
        try wal.close()
        #expect(throws: (any Error).self) { _ = try DurableCollection.open(directory, options: .init(syncPolicy: .never)) }
    }
}
