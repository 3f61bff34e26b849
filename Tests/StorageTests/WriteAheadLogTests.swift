#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Storage

/// A fresh temporary directory per test.
func temporaryDirectory() -> String {
    var template = Array("/tmp/ruvector-storage-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    return path
}

/// The single segment file of a log directory holding one segment.
func onlySegment(_ directory: String) throws -> String {
    let names = try Directory.entries(directory).filter { $0.hasPrefix("wal-") }
    #expect(names.count == 1)
    return directory + "/" + names[0]
}

/// Copies a file's bytes (for mutating copies of a log).
func fileBytes(_ path: String) throws -> [UInt8] {
    let file = try DurableFile(path: path, create: false)
    return try file.read(count: try file.size(), at: 0)
}

func payload(_ index: Int) -> [UInt8] {
    (0..<(index % 97 + 1)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
}

@Suite("write-ahead log")
struct WriteAheadLogTests {
    @Test("records round-trip across many segments and a reopen")
    func roundTrip() throws {
        let directory = temporaryDirectory()
        let options = WALOptions(segmentSizeBytes: 4096, syncPolicy: .never)
        do {
            let (wal, report) = try WriteAheadLog.open(directory: directory, options: options)
            #expect(report.records == 0)
            for index in 1...500 {
                #expect(try wal.append(type: UInt8(index % 5), payload: payload(index)) == UInt64(index))
            }
            #expect(wal.statistics.segments > 5)
            // With syncs off, the only syncs are the three of each segment roll.
            #expect(wal.statistics.syncs == 3 * (wal.statistics.segments - 1))
            try wal.close()
        }
        let (wal, report) = try WriteAheadLog.open(directory: directory, options: options)
        #expect(report.records == 500 && report.lastSequence == 500 && report.droppedBytes == 0)
        let records = try wal.read(from: 1)
        #expect(records.map(\.sequence) == Array(1...500))
        #expect(records.allSatisfy { $0.payload == payload(Int($0.sequence)) && $0.type == UInt8(Int($0.sequence) % 5) })
        #expect(try wal.read(from: 321, limit: 10).map(\.sequence) == Array(321...330))
        #expect(try wal.append(type: 0, payload: [1]) == 501)
    }

    @Test("a torn last record, cut at every byte offset, is dropped and the rest kept")
    func tornTailAtEveryOffset() throws {
        let directory = temporaryDirectory()
        do {
            let (wal, _) = try WriteAheadLog.open(directory: directory, options: WALOptions(syncPolicy: .never))
            for index in 1...5 { _ = try wal.append(type: 1, payload: payload(index)) }
            try wal.close()
        }
        let segment = try onlySegment(directory)
        let original = try fileBytes(segment)
        let lastRecordStart = original.count - WALFormat.recordHeaderBytes - payload(5).count
        for cut in lastRecordStart..<original.count {
            let copy = temporaryDirectory()
            let file = try DurableFile(path: copy + "/" + WALFormat.segmentName(firstSequence: 1), create: true)
            try file.write(Array(original[..<cut]), at: 0)
            let (wal, report) = try WriteAheadLog.open(directory: copy, options: WALOptions(syncPolicy: .never))
            #expect(report.records == 4, "cut at \(cut)")
            #expect(report.droppedBytes == cut - lastRecordStart, "cut at \(cut)")
            #expect(try wal.read(from: 1).map(\.payload) == (1...4).map(payload))
            // The log continues where the valid records end.
            #expect(try wal.append(type: 9, payload: [42]) == 5)
            #expect(try wal.read(from: 5).map(\.payload) == [[42]])
        }
    }

    @Test("a flipped bit at every byte offset of the last record is detected and the record dropped",
          arguments: [0x01, 0x10, 0x80] as [UInt8])
    func bitFlipInLastRecord(bit: UInt8) throws {
        let directory = temporaryDirectory()
        do {
            let (wal, _) = try WriteAheadLog.open(directory: directory, options: WALOptions(syncPolicy: .never))
            for index in 1...3 { _ = try wal.append(type: 2, payload: payload(index)) }
            try wal.close()
        }
        let original = try fileBytes(try onlySegment(directory))
        let lastRecordStart = original.count - WALFormat.recordHeaderBytes - payload(3).count
        // Every byte, the header's reserved bytes (not under the CRC, but required zero) included.
        for position in lastRecordStart..<original.count {
            var damaged = original
            damaged[position] ^= bit
            let copy = temporaryDirectory()
            try DurableFile(path: copy + "/" + WALFormat.segmentName(firstSequence: 1), create: true).write(damaged, at: 0)
            let (wal, report) = try WriteAheadLog.open(directory: copy, options: WALOptions(syncPolicy: .never))
            #expect(report.records == 2, "flip \(bit) at \(position)")
            #expect(report.droppedBytes == original.count - lastRecordStart, "flip \(bit) at \(position)")
            #expect(report.droppedReason != nil)
            #expect(try wal.read(from: 1).map(\.payload) == (1...2).map(payload))
            #expect(try wal.append(type: 9, payload: [42]) == 3)
        }
    }

    @Test("damage before the last segment's tail is refused, not silently cut")
    func midLogCorruptionRefused() throws {
        let directory = temporaryDirectory()
        do {
            let (wal, _) = try WriteAheadLog.open(directory: directory,
                                                  options: WALOptions(segmentSizeBytes: 4096, syncPolicy: .never))
            for index in 1...200 { _ = try wal.append(type: 1, payload: payload(index)) }
            try wal.close()
        }
        let first = directory + "/" + WALFormat.segmentName(firstSequence: 1)
        var bytes = try fileBytes(first)
        bytes[WALFormat.segmentHeaderBytes + WALFormat.recordHeaderBytes] ^= 0xFF
        try DurableFile(path: first, create: false).write(bytes, at: 0)
        let error = #expect(throws: StorageError.self) {
            _ = try WriteAheadLog.open(directory: directory, options: WALOptions(segmentSizeBytes: 4096))
        }
        #expect(error?.code == .corrupt)
    }

    @Test("a segment written by a newer format version is refused with a clear error")
    func newerFormatRefused() throws {
        let directory = temporaryDirectory()
        var header = WALFormat.segmentHeader()
        header[8] = 2
        try DurableFile(path: directory + "/" + WALFormat.segmentName(firstSequence: 1), create: true).write(header, at: 0)
        let error = #expect(throws: StorageError.self) { _ = try WriteAheadLog.open(directory: directory) }
        #expect(error?.code == .newerFormat)
        #expect(error?.message.contains("upgrade") == true)
    }

    @Test("concurrent appenders get unique consecutive sequences and share syncs (group commit)")
    func groupCommit() throws {
        let directory = temporaryDirectory()
        let (wal, _) = try WriteAheadLog.open(directory: directory, options: WALOptions(syncPolicy: .always))
        let writers = 8, perWriter = 50
        runOnThreads(writers) { writer in
            for index in 0..<perWriter {
                _ = try? wal.append(type: UInt8(writer), payload: payload(writer * 1000 + index))
            }
        }
        let stats = wal.statistics
        #expect(stats.appends == writers * perWriter)
        #expect(stats.syncs < stats.appends, "\(stats.syncs) syncs for \(stats.appends) appends")
        let records = try wal.read(from: 1)
        #expect(records.map(\.sequence) == Array(1...UInt64(writers * perWriter)))
        // Each writer's records are all there, in its own order.
        for writer in 0..<writers {
            #expect(records.filter { $0.type == UInt8(writer) }.map(\.payload) == (0..<perWriter).map { payload(writer * 1000 + $0) })
        }
    }

    @Test("sync policies: always and batch sync before append returns, never leaves it to the OS",
          arguments: [("always", WALSyncPolicy.always), ("batch", .batch(delayMicros: 2000)), ("never", .never)])
    func syncPolicies(name: String, policy: WALSyncPolicy) throws {
        let directory = temporaryDirectory()
        let (wal, _) = try WriteAheadLog.open(directory: directory, options: WALOptions(syncPolicy: policy))
        for index in 1...20 { _ = try wal.append(type: 1, payload: payload(index)) }
        let single = wal.statistics
        #expect(single.appends == 20)
        // One writer: every durable append waited for its own sync; `never` synced nothing.
        #expect(single.syncs == (policy == .never ? 0 : 20), "\(name): \(single.syncs) syncs")
        runOnThreads(8) { writer in
            for index in 0..<25 { _ = try? wal.append(type: UInt8(writer), payload: payload(writer * 100 + index)) }
        }
        let concurrent = wal.statistics
        let syncs = concurrent.syncs - single.syncs
        if policy == .never {
            #expect(syncs == 0)
        } else {
            // Group commit: 200 appends from 8 writers shared syncs.
            #expect(syncs >= 1 && syncs < 200, "\(name): \(syncs) syncs for 200 appends")
        }
        #expect(try wal.read(from: 1).map(\.sequence) == Array(1...220))
        try wal.close()
        // Whatever the policy, a clean close leaves every record on disk.
        let (reopened, report) = try WriteAheadLog.open(directory: directory)
        #expect(report.records == 220 && report.droppedBytes == 0)
        #expect(try reopened.read(from: 201).count == 20)
    }

    @Test("batch: the syncing writer waits delayMicros, so concurrent writers share its sync")
    func batchGathersWriters() throws {
        func syncs(_ policy: WALSyncPolicy) throws -> Int {
            let (wal, _) = try WriteAheadLog.open(directory: temporaryDirectory(), options: WALOptions(syncPolicy: policy))
            runOnThreads(8) { writer in
                for index in 0..<25 { _ = try? wal.append(type: UInt8(writer), payload: payload(writer * 100 + index)) }
            }
            defer { try? wal.close() }
            return wal.statistics.syncs
        }
        // 5 ms: every other writer gets its record in before the sync starts.
        let batched = try syncs(.batch(delayMicros: 5000))
        #expect(batched <= 200 / 4, "\(batched) syncs for 200 appends from 8 writers")
    }

    @Test("segments covered by a snapshot are released; the rest stays readable")
    func releaseSegments() throws {
        let directory = temporaryDirectory()
        let (wal, _) = try WriteAheadLog.open(directory: directory, options: WALOptions(segmentSizeBytes: 4096, syncPolicy: .never))
        for index in 1...300 { _ = try wal.append(type: 1, payload: payload(index)) }
        let before = wal.statistics.segments
        #expect(try wal.releaseSegments(upTo: 150) > 0)
        #expect(wal.statistics.segments < before)
        let remaining = try wal.read(from: 151)
        #expect(remaining.map(\.sequence) == Array(151...300))
        try wal.close()
        let (reopened, report) = try WriteAheadLog.open(directory: directory, options: WALOptions(segmentSizeBytes: 4096))
        #expect(report.lastSequence == 300)
        #expect(try reopened.read(from: 151).count == 150)
    }

    @Test("segment boundaries name where a release cuts: releasing up to one before a boundary deletes one segment at a time")
    func releaseOneSegmentAtATime() throws {
        let directory = temporaryDirectory()
        let (wal, _) = try WriteAheadLog.open(directory: directory, options: WALOptions(segmentSizeBytes: 4096, syncPolicy: .never))
        for index in 1...300 { _ = try wal.append(type: 1, payload: payload(index)) }
        let firsts = wal.segmentFirstSequences
        #expect(firsts.count == wal.statistics.segments && firsts.count > 3 && firsts.first == 1 && firsts == firsts.sorted())
        for (released, next) in firsts.dropFirst().prefix(3).enumerated() {
            #expect(try wal.releaseSegments(upTo: next - 1) == 1)
            #expect(wal.firstRetainedSequence == next && wal.segmentFirstSequences == Array(firsts.dropFirst(released + 1)))
        }
        #expect(try wal.read(from: 1).first?.sequence == firsts[3])
        try wal.close()
    }

    @Test("open skips segments a snapshot covers; reading them later still finds damage and gaps")
    func uncheckedSegments() throws {
        let directory = temporaryDirectory()
        let options = WALOptions(segmentSizeBytes: 4096, syncPolicy: .never)
        do {
            let (wal, _) = try WriteAheadLog.open(directory: directory, options: options)
            for index in 1...300 { _ = try wal.append(type: 1, payload: payload(index)) }
            try wal.close()
        }
        let names = try Directory.entries(directory).filter { $0.hasPrefix("wal-") }.sorted()
        let (wal, report) = try WriteAheadLog.open(directory: directory, options: options, checkingFrom: 200)
        #expect(report.uncheckedSegments > 0 && report.uncheckedSegments < names.count)
        #expect(report.lastSequence == 300 && report.segments == names.count)
        #expect(try wal.read(from: 200).map(\.sequence) == Array(200...300))
        #expect(try wal.read(from: 1).map(\.payload) == (1...300).map(payload))
        try wal.close()

        // Damage in an unchecked segment: open does not see it; a read that needs it does.
        let second = directory + "/" + names[1]
        var bytes = try fileBytes(second)
        bytes[bytes.count / 2] ^= 0x04
        try DurableFile(path: second, create: false).write(bytes, at: 0)
        let (damaged, _) = try WriteAheadLog.open(directory: directory, options: options, checkingFrom: 200)
        #expect(try damaged.read(from: 200).count == 101)
        #expect(throws: StorageError.self) { _ = try damaged.read(from: 1) }
        try damaged.close()
        #expect(throws: StorageError.self) { _ = try WriteAheadLog.open(directory: directory, options: options) }

        // A covered segment cut short: the gap is found when it is read.
        bytes[bytes.count / 2] ^= 0x04
        try DurableFile(path: second, create: false).write(bytes, at: 0)
        try DurableFile(path: second, create: false).truncate(to: bytes.count - 10)
        let (cut, _) = try WriteAheadLog.open(directory: directory, options: options, checkingFrom: 200)
        let error = #expect(throws: StorageError.self) { _ = try cut.read(from: 1) }
        #expect(error?.code == .corrupt)
    }

    @Test("a record over the limit is refused and the log stays usable")
    func recordLimit() throws {
        let (wal, _) = try WriteAheadLog.open(directory: temporaryDirectory(),
                                              options: WALOptions(syncPolicy: .never, maxRecordBytes: 100))
        let error = #expect(throws: StorageError.self) { _ = try wal.append(type: 1, payload: [UInt8](repeating: 0, count: 101)) }
        #expect(error?.code == .invalidArgument)
        #expect(try wal.append(type: 1, payload: [1, 2, 3]) == 1)
    }
}
