import Checksums
import Testing
@testable import Storage

/// Inputs `ruvector-fuzz wal` and `ruvector-fuzz snapshot` found crashing the process (see
/// docs/fuzzing.md): each is refused now with a clear error.
@Suite("fuzz findings: logs and snapshots that name impossible sequences")
struct StorageFuzzFindingsTests {
    /// A segment file holding `records` (type 1, one payload byte each) from `first` on.
    private func writeSegment(in directory: String, first: UInt64, records: Int) throws {
        var bytes = WALFormat.segmentHeader()
        for offset in 0..<UInt64(records) { bytes += WALFormat.encodeRecord(type: 1, sequence: first &+ offset, payload: [7]) }
        try DurableFile(path: directory + "/" + WALFormat.segmentName(firstSequence: first), create: true).write(bytes, at: 0)
    }

    @Test("a segment named after sequence 0 is refused (opening it computed 0 - 1 and trapped)")
    func segmentStartingAtZero() throws {
        for records in [0, 1] {
            let directory = temporaryDirectory()
            try writeSegment(in: directory, first: 0, records: records)
            let error = #expect(throws: StorageError.self) { _ = try WriteAheadLog.open(directory: directory) }
            #expect(error?.code == .corrupt)
            #expect(error?.message.contains("starts at sequence 0") == true)
        }
    }

    @Test("a segment whose records reach the top of UInt64 is refused (sequence + 1 trapped)")
    func segmentAtTheTopOfTheRange() throws {
        for first in [UInt64.max, UInt64.max - 1, WALFormat.maxSequence + 1] {
            let directory = temporaryDirectory()
            try writeSegment(in: directory, first: first, records: 2)
            let error = #expect(throws: StorageError.self) { _ = try WriteAheadLog.open(directory: directory) }
            #expect(error?.code == .corrupt)
        }
        // The highest sequence a log may name still opens, and appends after it.
        let directory = temporaryDirectory()
        try writeSegment(in: directory, first: WALFormat.maxSequence, records: 1)
        let (wal, report) = try WriteAheadLog.open(directory: directory, options: WALOptions(syncPolicy: .never))
        #expect(report.lastSequence == WALFormat.maxSequence)
        #expect(try wal.append(type: 1, payload: [8]) == WALFormat.maxSequence + 1)
    }

    @Test("a snapshot naming a WAL sequence beyond any log is damaged: refused, and recovery falls back")
    func snapshotBeyondAnyLog() throws {
        let store = try SnapshotStore(directory: temporaryDirectory())
        try store.write(sections: [("state", [1])], walSequence: 3, createdUnixMicros: 0)
        let newest = try store.write(sections: [("state", [2])], walSequence: 9, createdUnixMicros: 0)
        // Its header names sequence 2^64 - 1, with every checksum right (a file made to look
        // valid: DurableCollection.open added 1 to it and trapped).
        var bytes = Array(try fileBytes(store.directory + "/" + newest.name).dropLast(4))
        bytes.replaceSubrange(16..<24, with: WALFormat.littleEndian(UInt64.max))
        bytes += WALFormat.littleEndian(CRC32C.checksum(bytes))
        let error = #expect(throws: StorageError.self) { _ = try SnapshotStore.parse(bytes) }
        #expect(error?.code == .corrupt)
        try DurableFile(path: store.directory + "/" + newest.name, create: false).write(bytes, at: 0)
        let (latest, skipped) = try store.loadLatestValid()
        #expect(latest?.sections["state"] == [1])
        #expect(skipped == [newest.name])
    }
}
