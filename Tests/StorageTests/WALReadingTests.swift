import Foundation
import Testing
@testable import Storage

/// A payload of `bytes` bytes that depends on `index`.
private func sized(_ index: Int, bytes: Int) -> [UInt8] {
    (0..<bytes).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ index) }
}

/// What `records(after:maxRecords:maxBytes:)` must return, from the whole log read from the start.
private func expectedBatch(_ all: [WALRecord], after sequence: UInt64, maxRecords: Int, maxBytes: Int) -> [WALRecord] {
    var batch: [WALRecord] = [], bytes = 0
    for record in all where record.sequence > sequence {
        if batch.count == maxRecords || (!batch.isEmpty && bytes + record.payload.count > maxBytes) { break }
        batch.append(record)
        bytes += record.payload.count
    }
    return batch
}

@Suite("write-ahead log: reading while it is written (replication)")
struct WALReadingTests {
    /// 1 MiB segments of records 200...1200 bytes long: marks every 64 KiB, several segments.
    let options = WALOptions(segmentSizeBytes: 1 << 20, syncPolicy: .never)

    private func filledLog(_ directory: String, records: Int) throws -> WriteAheadLog {
        let (wal, _) = try WriteAheadLog.open(directory: directory, options: options)
        for index in 1...records { _ = try wal.append(type: UInt8(index % 3 + 1), payload: sized(index, bytes: 200 + index % 1000)) }
        return wal
    }

    @Test("records after any sequence match a whole read, across marks and segments, live, reopened and unchecked")
    func recordsAfterMatchWholeRead() throws {
        let directory = temporaryDirectory()
        let wal = try filledLog(directory, records: 3000)
        #expect(wal.statistics.segments >= 2)
        let all = try wal.read(from: 1)
        let starts: [UInt64] = [0, 1, 2, 63, 64, 65, 500, 1234, 1500, 2047, 2999, 3000, 3001]
        let limits = [(1, 1 << 30), (7, 1 << 30), (1000, 1 << 30), (1000, 5000), (1000, 1), (4, 64 << 10)]
        func check(_ log: WriteAheadLog) throws {
            for start in starts {
                for (maxRecords, maxBytes) in limits {
                    let got = try log.records(after: start, maxRecords: maxRecords, maxBytes: maxBytes)
                    let want = expectedBatch(all, after: start, maxRecords: maxRecords, maxBytes: maxBytes)
                    // Sequences first: a failure prints them rather than kilobytes of payload.
                    #expect(got.map(\.sequence) == want.map(\.sequence), "after \(start), \(maxRecords) records, \(maxBytes) bytes")
                    #expect(got == want ? true : false, "payloads after \(start)")
                }
            }
            // Read in batches from 0, a stream's way: every record once, in order.
            var streamed: [WALRecord] = []
            while true {
                let batch = try log.records(after: streamed.last?.sequence ?? 0, maxRecords: 100, maxBytes: 32 << 10)
                if batch.isEmpty { break }
                streamed += batch
            }
            #expect(streamed.map(\.sequence) == all.map(\.sequence))
            #expect(streamed == all ? true : false, "streamed payloads")
        }
        try check(wal)
        try wal.close()
        // Marks rebuilt by open; then segments a snapshot covers, which open leaves unread (no marks).
        let (reopened, _) = try WriteAheadLog.open(directory: directory, options: options)
        try check(reopened)
        try reopened.close()
        let (unchecked, report) = try WriteAheadLog.open(directory: directory, options: options, checkingFrom: 2500)
        #expect(report.uncheckedSegments > 0)
        try check(unchecked)
    }

    @Test("a record over maxBytes still comes alone; bad limits are refused")
    func byteLimit() throws {
        let (wal, _) = try WriteAheadLog.open(directory: temporaryDirectory(), options: options)
        _ = try wal.append(type: 1, payload: sized(1, bytes: 10_000))
        _ = try wal.append(type: 1, payload: sized(2, bytes: 10))
        #expect(try wal.records(after: 0, maxRecords: 10, maxBytes: 100).map(\.sequence) == [1])
        #expect(try wal.records(after: 0, maxRecords: 10, maxBytes: 10_010).map(\.sequence) == [1, 2])
        #expect(try wal.records(after: 2, maxRecords: 10, maxBytes: 100).isEmpty)
        #expect(try wal.records(after: .max, maxRecords: 10, maxBytes: 100).isEmpty)
        #expect(throws: StorageError.self) { _ = try wal.records(after: 0, maxRecords: 0, maxBytes: 100) }
        #expect(throws: StorageError.self) { _ = try wal.records(after: 0, maxRecords: 1, maxBytes: 0) }
    }

    @Test("released records throw notRetained; a retention floor keeps what is after it")
    func retention() throws {
        // 64 KiB segments: about 90 records each.
        let (wal, _) = try WriteAheadLog.open(directory: temporaryDirectory(),
                                              options: WALOptions(segmentSizeBytes: 64 << 10, syncPolicy: .never))
        for index in 1...3000 { _ = try wal.append(type: 1, payload: sized(index, bytes: 200 + index % 1000)) }
        wal.setRetentionFloor { 1000 }
        #expect(try wal.releaseSegments(upTo: 2500) > 0)
        // Every record after the floor is still there.
        #expect(wal.firstRetainedSequence <= 1001 && wal.firstRetainedSequence > 1)
        #expect(try wal.records(after: 1000, maxRecords: 1, maxBytes: 1).map(\.sequence) == [1001])
        let error = #expect(throws: StorageError.self) { _ = try wal.records(after: 0, maxRecords: 1, maxBytes: 1) }
        #expect(error?.code == .notRetained)
        let first = wal.firstRetainedSequence
        #expect(try wal.records(after: first - 1, maxRecords: 1, maxBytes: 1).map(\.sequence) == [first])
        #expect(throws: StorageError.self) { _ = try wal.records(after: first - 2, maxRecords: 1, maxBytes: 1) }
        wal.setRetentionFloor { 0 }
        #expect(try wal.releaseSegments(upTo: 2999) == 0)
        wal.setRetentionFloor { .max }
        #expect(try wal.releaseSegments(upTo: 2999) > 0 && wal.firstRetainedSequence > 2000)
    }

    @Test("records appended under their own sequences: only the next one, one sync, nothing written on a gap")
    func appendReplicated() throws {
        let directory = temporaryDirectory()
        let (wal, _) = try WriteAheadLog.open(directory: directory, options: WALOptions(syncPolicy: .always), startingAt: 101)
        #expect(wal.lastSequence == 100 && wal.firstRetainedSequence == 101 && wal.nextSequenceNumber == 101)
        let records = (101...110).map { WALRecord(sequence: UInt64($0), type: 2, payload: sized($0, bytes: 50)) }
        for bad in [Array(records[1...]), [records[0], records[2]], [records[0], records[0]]] {
            let error = #expect(throws: StorageError.self) { try wal.append(bad) }
            #expect(error?.code == .invalidArgument && error?.message.contains("expected sequence") == true)
        }
        #expect(wal.statistics.appends == 0 && wal.lastSequence == 100)
        let syncs = wal.statistics.syncs
        #expect(try wal.append(records) == 110)
        #expect(wal.statistics.syncs == syncs + 1)
        #expect(try wal.append(type: 1, payload: [1]) == 111)
        #expect(throws: StorageError.self) { try wal.append([records[9]]) }
        try wal.close()
        let (reopened, report) = try WriteAheadLog.open(directory: directory, options: options)
        #expect(report.lastSequence == 111 && reopened.firstRetainedSequence == 101)
        #expect(try reopened.read(from: 101).prefix(10) == records[...])
    }

    @Test("a waiter wakes promptly on an append from another thread, after its timeout, on cancel and on close")
    func waiting() async throws {
        let (wal, _) = try WriteAheadLog.open(directory: temporaryDirectory(), options: options)
        _ = try wal.append(type: 1, payload: [1])
        // Already there: no wait.
        #expect(await wal.waitForRecords(after: 0, timeout: .seconds(30)) == 1)

        // Woken by an append on another thread, long before its timeout (how soon, within the
        // shared pool's scheduling, is measured in ReplicationTests). The appender is a thread of
        // its own, and the timeout is long: in the full run other suites have held every thread
        // of the shared pool for up to 96 s, so a 60 s bound failed with nothing wrong here.
        let appended = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 0.1)
            _ = try? wal.append(type: 1, payload: [2])
            appended.signal()
        }
        let waitStarted = ContinuousClock.now
        #expect(await wal.waitForRecords(after: 1, timeout: .seconds(600)) == 2)
        #expect(ContinuousClock.now - waitStarted < .seconds(300))
        appended.wait()

        // Nothing comes: back after the timeout, not before. (The upper bound only shows that
        // it comes back at all: its resumption waits for a thread of the shared pool, which
        // other suites' synchronous tests held for more than 5 s in a full run.)
        let before = ContinuousClock.now
        #expect(await wal.waitForRecords(after: 2, timeout: .milliseconds(100)) == 2)
        let waited = ContinuousClock.now - before
        #expect(waited >= .milliseconds(100) && waited < .seconds(120))

        // Cancelled: back at once, and it leaves no waiter behind (a timeout past what the
        // clock holds is cut to maxWaitTimeout, not a trap).
        let task = Task { await wal.waitForRecords(after: 2, timeout: .seconds(Int64.max)) }
        try await Task.sleep(for: .milliseconds(50))
        let cancelled = ContinuousClock.now
        task.cancel()
        #expect(await task.value == 2)
        #expect(ContinuousClock.now - cancelled < .seconds(5))
        #expect(wal.waiters.count == 0)

        // Closed: every waiter returns.
        let waiting = Task { await wal.waitForRecords(after: 2, timeout: .seconds(60)) }
        try await Task.sleep(for: .milliseconds(50))
        try wal.close()
        #expect(await waiting.value == 2)
    }

    @Test("waiters hold no thread: 200 of them on the shared pool all wake on one append")
    func manyWaiters() async throws {
        let (wal, _) = try WriteAheadLog.open(directory: temporaryDirectory(), options: options)
        // Were a waiter to block its thread, the pool (one thread per core) would be full long
        // before the 200th waiter and the appender ran: they would all time out and return 0.
        let woken = await withTaskGroup(of: UInt64.self) { group in
            for _ in 0..<200 { group.addTask { await wal.waitForRecords(after: 0, timeout: .seconds(60)) } }
            group.addTask {
                // Appends once every other waiter is registered (each adds one), from the same pool.
                while wal.waiters.count < 200 { try? await Task.sleep(for: .milliseconds(5)) }
                return (try? wal.append(type: 1, payload: [1])) ?? 0
            }
            return await group.reduce(into: [UInt64]()) { $0.append($1) }
        }
        #expect(woken.count == 201 && woken.allSatisfy { $0 == 1 })
        #expect(wal.waiters.count == 0)
    }
}
