/// Reading a log while it is written: what a replication stream ships (records after the
/// sequence a replica has) and waiting, without a thread, for the next records.
extension WriteAheadLog {
    /// The longest `waitForRecords` waits (about 136 years: a bound, not a setting).
    public static let maxWaitTimeout: Duration = .seconds(1 << 32)

    /// Up to `maxRecords` records after `sequence`, in order, stopping before the one that would
    /// take their payloads past `maxBytes` (at least one record when there is one): what a
    /// replication stream ships next. [] when the log holds nothing after `sequence`; throws
    /// `.notRetained` when records after it were released (`sequence + 1 < firstRetainedSequence`).
    /// Reads from the nearest mark before the first record, not from the segment's start.
    public func records(after sequence: UInt64, maxRecords: Int, maxBytes: Int) throws(StorageError) -> [WALRecord] {
        guard maxRecords >= 1, maxBytes >= 1 else {
            throw StorageError(.invalidArgument, "maxRecords (\(maxRecords)) and maxBytes (\(maxBytes)) must be positive")
        }
        var batch = RecordBatch(maxRecords: maxRecords, maxBytes: maxBytes)
        var next = sequence
        while !batch.isFull {
            guard let range = try openRange(after: next) else { break }
            next = try read(range, into: &batch)
        }
        return batch.records
    }

    /// Records gathered for `records(after:)`, and its limits.
    private struct RecordBatch {
        let maxRecords: Int
        let maxBytes: Int
        var records: [WALRecord] = []
        var payloadBytes = 0
        /// Set once the next record would go over `maxBytes`.
        var stopped = false

        var isFull: Bool { stopped || records.count >= maxRecords }

        /// Whether a record of `payloadBytes` fits (the first always does); marks the batch full if not.
        mutating func admits(_ bytes: Int) -> Bool {
            if !records.isEmpty && payloadBytes + bytes > maxBytes { stopped = true }
            return !stopped
        }

        mutating func append(_ record: WALRecord) {
            records.append(record)
            payloadBytes += record.payload.count
        }
    }

    /// The segment holding the record after `sequence`, opened (under the lock, so a release
    /// cannot delete it first: an open file stays readable), where to start reading it, and
    /// the readable records to read there. nil when there is no record after `sequence`.
    private func openRange(after sequence: UInt64) throws(StorageError)
        -> (file: DurableFile, start: Mark, wanted: ClosedRange<UInt64>)? {
        try monitor.locked { () throws(StorageError) -> (DurableFile, Mark, ClosedRange<UInt64>)? in
            let last = readableSequence
            guard sequence < last else { return nil }
            let wanted = sequence + 1
            guard wanted >= segments[0].firstSequence else {
                throw StorageError(.notRetained,
                    "records after sequence \(sequence) were released (the log starts at \(segments[0].firstSequence)): transfer a snapshot")
            }
            let index = segments.lastIndex { $0.firstSequence <= wanted } ?? 0
            let end = index + 1 < segments.count ? segments[index + 1].firstSequence - 1 : last
            let segment = segments[index]
            return (try DurableFile(path: segment.path, create: false), segment.start(for: wanted), wanted...min(end, last))
        }
    }

    /// Reads the records of `range.wanted` from its segment into `batch`, until the batch is
    /// full; returns the sequence of the last record read (the next read starts after it).
    private func read(_ range: (file: DurableFile, start: Mark, wanted: ClosedRange<UInt64>),
                      into batch: inout RecordBatch) throws(StorageError) -> UInt64 {
        let file = range.file
        // Bytes are read in windows about the size of the batch (plus the skip from the mark).
        let windowBytes = min(max(batch.maxBytes, 4096), 1 << 20) + Self.markSpacingBytes
        var window: [UInt8] = [], windowStart = range.start.offset
        var offset = range.start.offset, expected = range.start.sequence
        func damaged(_ what: String) -> StorageError {
            StorageError(.corrupt, "\(StorageError.fileName(file.path)) is damaged at byte \(offset) (\(what))", path: file.path)
        }
        /// Makes the window hold `count` bytes from `offset`.
        func load(_ count: Int) throws(StorageError) {
            guard offset + count > windowStart + window.count else { return }
            window = try file.read(count: max(count, windowBytes), at: offset)
            windowStart = offset
            guard window.count >= count else { throw damaged("the segment ends before record \(expected)") }
        }
        while expected <= range.wanted.upperBound && !batch.isFull {
            try load(WALFormat.recordHeaderBytes)
            let length = Int(WALFormat.readUInt32(window[...], at: offset - windowStart))
            guard length <= options.maxRecordBytes else { throw damaged("record length \(length) over the limit") }
            let wanted = expected >= range.wanted.lowerBound
            if wanted && !batch.admits(length) { break }
            try load(WALFormat.recordHeaderBytes + length)
            guard case .success(let (record, next)) = WALFormat.decodeRecord(
                window, at: offset - windowStart, expectedSequence: expected, maxRecordBytes: options.maxRecordBytes) else {
                throw damaged("record \(expected) does not check")
            }
            if wanted { batch.append(record) }
            expected += 1
            offset = windowStart + next
        }
        return expected - 1
    }

    /// Suspends (no thread held, no polling) until the log holds a record after `sequence`,
    /// `timeout` passes, the log is closed or the task is cancelled; returns `lastSequence` then.
    /// A timeout over `maxWaitTimeout` waits that long.
    public func waitForRecords(after sequence: UInt64, timeout: Duration) async -> UInt64 {
        if lastSequence <= sequence && timeout > .zero {
            let waiters = self.waiters
            // Task.sleep traps on a deadline past what its clock's seconds can hold.
            let timeout = min(timeout, Self.maxWaitTimeout)
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await waiters.wait(after: sequence) }
                group.addTask { try? await Task.sleep(for: timeout) }
                await group.next()
                group.cancelAll()
            }
        }
        return lastSequence
    }
}
