import Checksums
import Testing
@testable import Storage

/// A tiny engine for the recovery tests: key -> value, changed by WAL records
/// (payload: key byte, then value bytes; an empty value deletes).
struct KeyValueModel: Equatable {
    var entries: [UInt8: [UInt8]] = [:]

    mutating func apply(_ record: WALRecord) {
        guard let key = record.payload.first else { return }
        let value = Array(record.payload.dropFirst())
        if value.isEmpty { entries[key] = nil } else { entries[key] = value }
    }

    func encoded() -> [UInt8] {
        entries.keys.sorted().flatMap { key in [key, UInt8(entries[key]!.count)] + entries[key]! }
    }

    init() {}

    init(decoding bytes: [UInt8]) {
        var index = 0
        while index + 1 < bytes.count {
            let key = bytes[index], count = Int(bytes[index + 1])
            entries[key] = Array(bytes[(index + 2)..<(index + 2 + count)])
            index += 2 + count
        }
    }
}

@Suite("snapshots and recovery")
struct SnapshotStoreTests {
    @Test("sections round-trip; list is newest first; chunks reassemble the file")
    func roundTrip() throws {
        let store = try SnapshotStore(directory: temporaryDirectory())
        try store.write(sections: [("vectors", [1, 2, 3]), ("graph", [])], walSequence: 10, createdUnixMicros: 111)
        let info = try store.write(sections: [("vectors", Array(repeating: 7, count: 10_000)), ("payloads", [9])],
                                   walSequence: 20, createdUnixMicros: 222)
        #expect(try store.list().map(\.walSequence) == [20, 10])
        let snapshot = try store.load(info.name)
        #expect(snapshot.sections.all == ["vectors": Array(repeating: 7, count: 10_000), "payloads": [9]])
        #expect(snapshot.info.createdUnixMicros == 222 && snapshot.info.crc32c == info.crc32c)
        let reader = try store.open(info.name)
        let chunks = try stride(from: 0, to: info.sizeBytes, by: 4096).map { try reader.read(offset: $0, count: 4096) }
        #expect(reader.size == info.sizeBytes && chunks.count == (info.sizeBytes + 4095) / 4096)
        #expect(try reader.read(offset: info.sizeBytes, count: 4096).isEmpty)
        #expect(CRC32C.checksum(chunks.flatMap { $0 }) == info.fileCRC32C)
        #expect(throws: StorageError.self) { try store.open("../collection.bin") }
        // A well-formed name with no file is the caller's mistake (NOT_FOUND), not a disk failure.
        let missing = #expect(throws: StorageError.self) { try store.open("snapshot-00000000000000009999.rvsnap") }
        #expect(missing?.code == .notFound && missing?.message.contains("snapshot-00000000000000009999") == true)
        // A downloaded copy restores into another store.
        let other = try SnapshotStore(directory: temporaryDirectory())
        let restored = try other.restore(fileBytes: chunks.flatMap { $0 })
        #expect(try other.load(restored.name).sections.all == snapshot.sections.all)
    }

    @Test("a damaged newest snapshot falls back to the previous one; damage is refused on restore")
    func fallback() throws {
        let directory = temporaryDirectory()
        let store = try SnapshotStore(directory: directory)
        try store.write(sections: [("state", [1])], walSequence: 5, createdUnixMicros: 0)
        let newest = try store.write(sections: [("state", [2])], walSequence: 9, createdUnixMicros: 0)
        var bytes = try fileBytes(directory + "/" + newest.name)
        bytes[bytes.count / 2] ^= 0x01
        try DurableFile(path: directory + "/" + newest.name, create: false).write(bytes, at: 0)
        let (latest, skipped) = try store.loadLatestValid()
        #expect(latest?.info.walSequence == 5)
        #expect(latest?.sections["state"] == [1])
        #expect(skipped == [newest.name])
        let error = #expect(throws: StorageError.self) { try store.restore(fileBytes: bytes) }
        #expect(error?.code == .corrupt)
    }

    @Test("every truncation of a snapshot file is detected")
    func truncations() throws {
        let store = try SnapshotStore(directory: temporaryDirectory())
        let info = try store.write(sections: [("a", [1, 2, 3, 4]), ("b", [5])], walSequence: 1, createdUnixMicros: 0)
        let bytes = try fileBytes(store.directory + "/" + info.name)
        for cut in 0..<bytes.count {
            #expect(throws: StorageError.self) { _ = try SnapshotStore.parse(Array(bytes[..<cut])) }
        }
    }

    @Test("a snapshot of a newer format is refused with a clear error")
    func newerFormat() throws {
        let store = try SnapshotStore(directory: temporaryDirectory())
        let info = try store.write(sections: [("a", [1])], walSequence: 1, createdUnixMicros: 0)
        var bytes = try fileBytes(store.directory + "/" + info.name)
        bytes[8] = 3
        let error = #expect(throws: StorageError.self) { _ = try SnapshotStore.parse(bytes) }
        #expect(error?.code == .newerFormat)
        #expect(error?.message.contains("format version 3; this build reads up to 2") == true)
        // Also when it is the store's newest file: loading refuses it (it is not "damaged").
        try DurableFile(path: store.directory + "/" + info.name, create: false).write(bytes, at: 0)
        #expect(throws: StorageError.self) { _ = try store.loadLatestValid() }
    }

    @Test("version 2 puts every section on its own pages; a mapped section is copy-on-write")
    func mappedSections() throws {
        let store = try SnapshotStore(directory: temporaryDirectory())
        let floats = (0..<5000).map { Float($0) * 0.5 }
        let info = try store.write(sections: [SnapshotSection("small", bytes: [1, 2, 3]), SnapshotSection("floats", values: floats),
                                              SnapshotSection("empty", bytes: [])],
                                   walSequence: 3, createdUnixMicros: 0)
        let path = store.directory + "/" + info.name
        let before = try fileBytes(path)
        #expect(before.count % 4096 == 4 && before[8] == 2)
        let snapshot = try store.load(info.name)
        #expect(snapshot.sections.names == ["empty", "floats", "small"])
        #expect(snapshot.sections["small"] == [1, 2, 3] && snapshot.sections["empty"] == [])
        let region = try #require(try snapshot.sections.region("floats", reservingBytes: 1 << 20))
        #expect(Int(bitPattern: region.base) % 4096 == 0 && region.count == floats.count * 4 && region.capacity >= 1 << 20)
        let mapped = region.base.bindMemory(to: Float.self, capacity: region.capacity / 4)
        #expect(Array(UnsafeBufferPointer(start: mapped, count: floats.count)) == floats)
        #expect(mapped[floats.count] == 0 && mapped[region.capacity / 4 - 1] == 0)   // room past the section is zeros
        mapped[0] = 42                                   // private pages: the file does not change
        mapped[region.capacity / 4 - 1] = 7
        #expect(try fileBytes(path) == before)
        #expect(try store.load(info.name).sections["floats"] == floats.withUnsafeBytes { Array($0) })
        #expect(try snapshot.sections.region("missing") == nil)
    }

    @Test("the writer reads each section once, table last, and writes the file byte for byte as laid out")
    func sectionsReadOnce() throws {
        let store = try SnapshotStore(directory: temporaryDirectory())
        let big = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 37) }, small: [UInt8] = [5, 6, 7]
        let counter = ReadCounter()
        let sections = [SnapshotSection("big", content: CountedBytes(bytes: big, counter: counter)),
                        SnapshotSection("empty", bytes: []), SnapshotSection("small", content: CountedBytes(bytes: small, counter: counter))]
        let info = try store.write(sections: sections, walSequence: 9, createdUnixMicros: 99)
        #expect(counter.reads == 2)
        // The same file assembled in memory: the table with every section's checksum, each section
        // on its own pages, zeros between, the whole file's checksum last.
        let (table, offsets) = SnapshotFormat.table(names: ["big", "empty", "small"].map { Array($0.utf8) },
                                                    lengths: [big.count, 0, small.count],
                                                    crcs: [CRC32C.checksum(big), 0, CRC32C.checksum(small)],
                                                    walSequence: 9, createdUnixMicros: 99)
        var expected = table
        for (bytes, offset) in zip([big, [], small], offsets) {
            expected += [UInt8](repeating: 0, count: offset - expected.count) + bytes
        }
        expected += [UInt8](repeating: 0, count: SnapshotFormat.alignUp(expected.count) - expected.count)
        expected += WALFormat.littleEndian(CRC32C.checksum(expected))
        #expect(try fileBytes(store.directory + "/" + info.name) == expected)
        #expect(info.sizeBytes == expected.count && info.crc32c == CRC32C.checksum(Array(expected.dropLast(4))))
        #expect(try store.load(info.name).sections["big"] == big)
    }

    @Test("version 1 files (sections one after the other) still load")
    func versionOne() throws {
        let store = try SnapshotStore(directory: temporaryDirectory())
        let file = SnapshotFormat.encodeVersion1(sections: [("config", [1, 2]), ("index", Array(repeating: 9, count: 1000))], walSequence: 77)
        try AtomicFile.write(file, to: store.directory + "/" + SnapshotStore.fileName(walSequence: 77))
        let (snapshot, skipped) = try store.loadLatestValid()
        #expect(skipped.isEmpty && snapshot?.info.walSequence == 77)
        #expect(snapshot?.sections.all == ["config": [1, 2], "index": Array(repeating: 9, count: 1000)])
        let region = try #require(try snapshot?.sections.region("index", reservingBytes: 4096))
        #expect(Array(region.bytes) == Array(repeating: 9, count: 1000))
        #expect(try SnapshotStore.parse(file).sections.all == snapshot?.sections.all)
        var damaged = file
        damaged[60] ^= 1
        #expect(throws: StorageError.self) { _ = try SnapshotStore.parse(damaged) }
    }

    @Test("a checkpoint releases the log segments no retained fallback needs, and keeps the newest snapshots")
    func checkpointReleasesSegments() throws {
        let root = temporaryDirectory()
        let options = DurabilityOptions(syncPolicy: .never, retainedSnapshots: 2, now: { 0 })
        let (wal, _) = try WriteAheadLog.open(directory: root + "/wal", options: WALOptions(segmentSizeBytes: 4096, syncPolicy: .never))
        let store = try SnapshotStore(directory: root + "/snapshots")
        var live = KeyValueModel()
        var checkpoints: [SnapshotInfo] = []
        for step in 1...900 {
            let record = [UInt8(step % 64)] + (0..<40).map { UInt8(truncatingIfNeeded: step &+ $0) }
            let sequence = try wal.append(type: 1, payload: record)
            live.apply(WALRecord(sequence: sequence, type: 1, payload: record))
            if step % 300 == 0 {
                let before = wal.statistics.segments
                checkpoints.append(try store.checkpoint(sections: [("kv", live.encoded())], wal: wal, options: options))
                // The first checkpoint has no previous snapshot: nothing is released yet.
                #expect(checkpoints.count == 1 ? wal.statistics.segments == before : wal.statistics.segments < before)
            }
        }
        #expect(try store.list().map(\.walSequence) == [900, 600])       // the oldest was deleted
        // What is left of the log starts at or before the previous snapshot's sequence + 1 ...
        let first = try Directory.entries(root + "/wal").compactMap(WALFormat.firstSequence(ofSegment:)).min()
        #expect(try #require(first) <= 601)
        #expect(try #require(first) > 300)                             // ... and what only the deleted one needed is gone
        try wal.close()

        // The newest snapshot damaged: recovery falls back to the previous one and replays the kept log.
        let newest = root + "/snapshots/" + checkpoints[2].name
        var bytes = try fileBytes(newest)
        bytes[40] ^= 0x01
        try DurableFile(path: newest, create: false).write(bytes, at: 0)
        let (snapshot, skipped) = try store.loadLatestValid()
        #expect(skipped == [checkpoints[2].name] && snapshot?.info.walSequence == 600)
        var recovered = KeyValueModel(decoding: try #require(snapshot?.sections["kv"]))
        let (reopened, _) = try WriteAheadLog.open(directory: root + "/wal", options: WALOptions(segmentSizeBytes: 4096),
                                                   checkingFrom: 601)
        for record in try reopened.read(from: 601) { recovered.apply(record) }
        #expect(recovered == live)
    }

    @Test("latest snapshot + WAL replay after it equals the state that was never interrupted")
    func snapshotPlusReplay() throws {
        let root = temporaryDirectory()
        var live = KeyValueModel()
        var rng = UInt64(0xC0FFEE)
        func next() -> UInt8 { rng = rng &* 6364136223846793005 &+ 1442695040888963407; return UInt8(truncatingIfNeeded: rng >> 33) }
        do {
            let (wal, _) = try WriteAheadLog.open(directory: root + "/wal", options: WALOptions(segmentSizeBytes: 4096, syncPolicy: .never))
            let snapshots = try SnapshotStore(directory: root + "/snapshots")
            for step in 1...600 {
                let key = next() % 32
                let payload = [key] + (next() % 5 == 0 ? [] : (0..<Int(next() % 8 + 1)).map { _ in next() })
                let sequence = try wal.append(type: 1, payload: payload)
                live.apply(WALRecord(sequence: sequence, type: 1, payload: payload))
                if step % 250 == 0 {
                    try snapshots.write(sections: [("kv", live.encoded())], walSequence: sequence, createdUnixMicros: Int64(step))
                    try wal.releaseSegments(upTo: sequence)
                }
            }
            try wal.close()
        }
        // Recovery: latest valid snapshot, then the records after it.
        let (snapshot, skipped) = try SnapshotStore(directory: root + "/snapshots").loadLatestValid()
        #expect(skipped.isEmpty)
        var recovered = KeyValueModel(decoding: try #require(snapshot?.sections["kv"]))
        let (wal, _) = try WriteAheadLog.open(directory: root + "/wal", options: WALOptions(segmentSizeBytes: 4096))
        for record in try wal.read(from: try #require(snapshot).info.walSequence + 1) { recovered.apply(record) }
        #expect(recovered == live)
    }
}

/// Counts how many times the writer reads sections (``SnapshotStoreTests/sectionsReadOnce()``).
private final class ReadCounter: @unchecked Sendable {
    var reads = 0
}

private struct CountedBytes: _SnapshotSectionContent {
    let bytes: [UInt8]
    let counter: ReadCounter
    var byteCount: Int { bytes.count }
    func forEachPart(_ body: (UnsafeRawBufferPointer) -> Void) {
        counter.reads += 1
        bytes.withUnsafeBytes(body)
    }
}
