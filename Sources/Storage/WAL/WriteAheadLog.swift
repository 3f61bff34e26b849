#if canImport(Glibc)
import Glibc
#endif

/// When appends reach the disk.
public enum WALSyncPolicy: Sendable, Equatable {
    /// `append` returns once the record is on the device (fdatasync). Concurrent appenders
    /// share one sync (group commit).
    case always
    /// Like `always`, but the syncing writer first waits up to `delayMicros` so more
    /// records share the sync: higher throughput, a little more latency.
    case batch(delayMicros: Int)
    /// `append` returns once the record is written to the OS; a power loss may lose it.
    case never
}

/// Settings of a write-ahead log.
public struct WALOptions: Sendable {
    /// A segment is closed and a new one started past this size.
    public var segmentSizeBytes: Int
    /// Durability of `append`.
    public var syncPolicy: WALSyncPolicy
    /// Largest payload accepted.
    public var maxRecordBytes: Int

    public init(segmentSizeBytes: Int = 64 << 20, syncPolicy: WALSyncPolicy = .always, maxRecordBytes: Int = 64 << 20) {
        self.segmentSizeBytes = segmentSizeBytes
        self.syncPolicy = syncPolicy
        self.maxRecordBytes = maxRecordBytes
    }
}

/// What opening a log found, for the caller to log.
public struct WALRecoveryReport: Sendable, Equatable {
    /// Segment files found.
    public var segments: Int
    /// Valid records kept.
    public var records: Int
    /// Sequence of the last valid record (0 when the log is empty).
    public var lastSequence: UInt64
    /// Bytes cut from a torn or corrupt tail (0 when the tail was clean).
    public var droppedBytes: Int
    /// Why the tail was cut, when it was.
    public var droppedReason: String?
    /// Segments not read because a snapshot covers all their records (see `checkingFrom`).
    public var uncheckedSegments = 0
}

/// An append-only log of records in segment files, the basis of durability: a record whose
/// `append` returned (with `.always` or `.batch`) survives a crash or power loss. Opening a
/// log repairs a torn tail (a record cut short by a crash) and refuses anything else that is
/// damaged. Thread-safe; appends are ordered by sequence. Readers (replication streams) take
/// records after a sequence with `records(after:maxRecords:maxBytes:)` and wait for new ones
/// with `waitForRecords(after:timeout:)`.
///
/// ```swift
/// let (wal, report) = try WriteAheadLog.open(directory: "/data/docs/wal")
/// let sequence = try wal.append(type: 1, payload: bytes)
/// for record in try wal.read(from: 1) { apply(record) }
/// ```
public final class WriteAheadLog: @unchecked Sendable {
    // Every mutable field below is guarded by `monitor` (readers in WriteAheadLog+Reading.swift).
    let monitor = Monitor()
    private let directory: String
    let options: WALOptions
    /// Oldest first; never empty.
    private(set) var segments: [Segment]
    private var current: DurableFile
    private var currentSize: Int
    private var nextSequence: UInt64
    private var syncedSequence: UInt64
    private var syncInProgress = false
    private var failure: StorageError?
    private var closed = false
    private var appendCount = 0
    private var appendedBytes = 0
    private var syncCount = 0
    /// Records after this stay (see `setRetentionFloor`); nil = no floor.
    private var retentionFloor: (@Sendable () -> UInt64)?
    /// Tasks waiting for records (`waitForRecords`), woken by appends.
    let waiters: RecordWaiters

    /// A segment file, and where some of its records start: a mark at least every
    /// `markSpacingBytes`, so a reader seeks near a record instead of reading from the start.
    /// Segments open did not check (covered by a snapshot) have no marks.
    struct Segment {
        let firstSequence: UInt64
        let path: String
        var marks: [Mark] = []

        /// Marks the record at `offset` when it is `markSpacingBytes` past the last mark.
        mutating func mark(_ sequence: UInt64, at offset: Int) {
            if offset - (marks.last?.offset ?? WALFormat.segmentHeaderBytes) >= WriteAheadLog.markSpacingBytes {
                marks.append(Mark(sequence: sequence, offset: offset))
            }
        }

        /// Where to start reading for record `sequence` (in this segment): the last mark at or
        /// before it, else the first record.
        func start(for sequence: UInt64) -> Mark {
            var low = 0, high = marks.count   // the first mark past `sequence` is in low...high
            while low < high {
                let middle = (low + high) / 2
                if marks[middle].sequence <= sequence { low = middle + 1 } else { high = middle }
            }
            return low > 0 ? marks[low - 1] : Mark(sequence: firstSequence, offset: WALFormat.segmentHeaderBytes)
        }
    }

    /// A record's sequence and byte offset in its segment.
    struct Mark {
        let sequence: UInt64
        let offset: Int
    }

    /// Record bytes between marks: a read skips at most this much before its first record.
    static let markSpacingBytes = 64 << 10

    private init(directory: String, options: WALOptions, segments: [Segment], current: DurableFile,
                 currentSize: Int, nextSequence: UInt64) {
        self.directory = directory
        self.options = options
        self.segments = segments
        self.current = current
        self.currentSize = currentSize
        self.nextSequence = nextSequence
        self.syncedSequence = nextSequence - 1
        waiters = RecordWaiters(published: nextSequence - 1)
    }

    /// Opens (creating if needed) the log in `directory`, repairing a torn tail. Records before
    /// `checkingFrom` are covered by a snapshot: segments holding only such records are not read
    /// now (they stay, for a fallback to an older snapshot, and `read(from:)` checks whatever it
    /// reads); every other segment is checked record by record. A log with no segment yet
    /// starts at `startingAt` (a log continuing after a snapshot of another log's sequence).
    public static func open(directory: String, options: WALOptions = WALOptions(), checkingFrom: UInt64 = 1,
                            startingAt firstSequence: UInt64 = 1) throws(StorageError) -> (WriteAheadLog, WALRecoveryReport) {
        guard options.segmentSizeBytes >= 4096, options.maxRecordBytes > 0 else {
            throw StorageError(.invalidArgument, "segment size must be at least 4 KiB and the record limit positive")
        }
        guard firstSequence >= 1, firstSequence <= WALFormat.maxSequence else {
            throw StorageError(.invalidArgument, "a log starts at a sequence in 1...\(WALFormat.maxSequence), not \(firstSequence)")
        }
        try Directory.create(directory)
        let found = try Directory.entries(directory)
            .compactMap { name in WALFormat.firstSequence(ofSegment: name).map { ($0, directory + "/" + name) } }
            .sorted { $0.0 < $1.0 }
        var report = WALRecoveryReport(segments: found.count, records: 0, lastSequence: 0, droppedBytes: 0)
        var expected = found.first?.0 ?? firstSequence
        var segments = found.map { Segment(firstSequence: $0.0, path: $0.1) }
        for (index, (first, path)) in found.enumerated() {
            guard first >= 1, first <= WALFormat.maxSequence else {
                throw StorageError(.corrupt, "segment '\(path)' starts at sequence \(first), outside 1...\(WALFormat.maxSequence): it was not written by this log")
            }
            guard first == expected else {
                throw StorageError(.corrupt, "segment \(StorageError.fileName(path)) starts at \(first) but \(expected) was expected: a segment is missing",
                                   path: path)
            }
            let isLast = index == found.count - 1
            if !isLast, found[index + 1].0 <= checkingFrom {
                expected = found[index + 1].0
                report.uncheckedSegments += 1
                continue
            }
            let file = try DurableFile(path: path, create: false)
            let bytes = try file.read(count: try file.size(), at: 0)
            if bytes.count < WALFormat.segmentHeaderBytes && isLast {
                // Crashed while creating the segment: start it again.
                report.droppedBytes += bytes.count
                report.droppedReason = "segment header torn"
                _ = try createSegment(path: path, directory: directory)
                continue
            }
            try WALFormat.checkSegmentHeader(bytes[...], path: path)
            var offset = WALFormat.segmentHeaderBytes
            while offset < bytes.count {
                switch WALFormat.decodeRecord(bytes, at: offset, expectedSequence: expected,
                                              maxRecordBytes: options.maxRecordBytes) {
                case .success(let (record, next)):
                    segments[index].mark(record.sequence, at: offset)
                    expected = record.sequence + 1
                    report.records += 1
                    report.lastSequence = record.sequence
                    offset = next
                case .failure(let box):
                    let reason: String
                    switch box.problem {
                    case .truncated: reason = "record cut short"
                    case .tooLarge(let length): reason = "record length \(length) over the limit"
                    case .badChecksum: reason = "checksum mismatch"
                    case .reservedNotZero: reason = "reserved header bytes not zero"
                    case .wrongSequence(let want, let found): reason = "sequence \(found) where \(want) was expected"
                    }
                    guard isLast else {
                        throw StorageError(.corrupt,
                            "\(StorageError.fileName(path)) is damaged at byte \(offset) (\(reason)) before the end of the log; restore from a snapshot",
                            path: path)
                    }
                    report.droppedBytes += bytes.count - offset
                    report.droppedReason = "\(reason) at byte \(offset) of \(StorageError.fileName(path))"
                    try file.truncate(to: offset)
                    try file.sync()
                    offset = bytes.count
                }
            }
        }
        // Continue in the last segment, or start the first one.
        let current: DurableFile
        var size: Int
        if let last = found.last {
            current = try DurableFile(path: last.1, create: false)
            size = try current.size()
        } else {
            let path = directory + "/" + WALFormat.segmentName(firstSequence: firstSequence)
            current = try createSegment(path: path, directory: directory)
            segments = [Segment(firstSequence: firstSequence, path: path)]
            size = WALFormat.segmentHeaderBytes
        }
        let log = WriteAheadLog(directory: directory, options: options, segments: segments, current: current,
                                currentSize: size, nextSequence: expected)
        return (log, report)
    }

    /// Appends a record and returns its sequence, once it is as durable as the sync policy
    /// promises. After a failed sync the log refuses further appends (the OS may have dropped
    /// the data): reopen it to recover what reached the disk.
    public func append(type: UInt8, payload: [UInt8]) throws(StorageError) -> UInt64 {
        try checkSize(payload.count)
        return try monitor.locked { () throws(StorageError) -> UInt64 in
            try checkWritable()
            let sequence = nextSequence
            try write(type: type, sequence: sequence, payload: payload)
            try finishAppend(through: sequence)
            return sequence
        }
    }

    /// Appends records another log holds, under their sequences, types and payloads (a replica
    /// copying its primary's log): the first must be `nextSequenceNumber` and the rest follow
    /// on, else nothing is written. One sync for the batch, under the sync policy. Returns the
    /// last sequence (`nextSequenceNumber - 1` for no records).
    @discardableResult
    public func append(_ records: [WALRecord]) throws(StorageError) -> UInt64 {
        for record in records { try checkSize(record.payload.count) }
        return try monitor.locked { () throws(StorageError) -> UInt64 in
            try checkWritable()
            for (index, record) in records.enumerated() where record.sequence != nextSequence + UInt64(index) {
                throw StorageError(.invalidArgument,
                    "expected sequence \(nextSequence + UInt64(index)), received \(record.sequence): records must follow the log without gaps or repeats")
            }
            guard let last = records.last?.sequence else { return nextSequence - 1 }
            guard last <= WALFormat.maxSequence else {
                throw StorageError(.invalidArgument, "sequence \(last) is beyond any log (at most \(WALFormat.maxSequence))")
            }
            for record in records { try write(type: record.type, sequence: record.sequence, payload: record.payload) }
            try finishAppend(through: last)
            return last
        }
    }

    private func checkSize(_ payloadBytes: Int) throws(StorageError) {
        guard payloadBytes <= options.maxRecordBytes else {
            throw StorageError(.invalidArgument,
                "record of \(payloadBytes) bytes is over the limit of \(options.maxRecordBytes) bytes")
        }
    }

    /// Throws when appends are refused (call holding the lock).
    private func checkWritable() throws(StorageError) {
        if let failure { throw failure }
        guard !closed else { throw StorageError(.closed, "the write-ahead log is closed") }
    }

    /// Writes record `sequence` (= `nextSequence`) to the current segment, rolling to a new one
    /// when it is full (call holding the lock).
    private func write(type: UInt8, sequence: UInt64, payload: [UInt8]) throws(StorageError) {
        let record = WALFormat.encodeRecord(type: type, sequence: sequence, payload: payload)
        if currentSize + record.count > options.segmentSizeBytes && currentSize > WALFormat.segmentHeaderBytes {
            try rollSegment(firstSequence: sequence)
        }
        do throws(StorageError) {
            try current.write(record, at: currentSize)
        } catch {
            failure = error
            throw error
        }
        segments[segments.count - 1].mark(sequence, at: currentSize)
        currentSize += record.count
        nextSequence += 1
        appendCount += 1
        appendedBytes += record.count
    }

    /// Waits until records through `sequence` are as durable as the policy promises, then
    /// wakes readers waiting for them (call holding the lock).
    private func finishAppend(through sequence: UInt64) throws(StorageError) {
        switch options.syncPolicy {
        case .never: break
        case .always: try waitUntilDurable(sequence, delayMicros: 0)
        case .batch(let delay): try waitUntilDurable(sequence, delayMicros: delay)
        }
        waiters.publish(readableSequence)
    }

    /// The last record readers see: one whose append is as durable as the policy promises
    /// (a record written but not yet synced may still be lost, so it is not shipped anywhere).
    /// Call holding the lock.
    var readableSequence: UInt64 {
        options.syncPolicy == .never ? nextSequence - 1 : syncedSequence
    }

    /// Group commit (call holding the lock): one writer syncs for everyone written so far;
    /// the others wait for it.
    private func waitUntilDurable(_ sequence: UInt64, delayMicros: Int) throws(StorageError) {
        while syncedSequence < sequence {
            if let failure { throw failure }
            if syncInProgress {
                monitor.wait()
                continue
            }
            syncInProgress = true
            if delayMicros > 0 { monitor.unlocked { _ = usleep(UInt32(delayMicros)) } }
            // Records up to `target` are in `file` or in older segments, synced when rolled.
            let target = nextSequence - 1
            let file = current
            do throws(StorageError) {
                try monitor.unlocked { () throws(StorageError) in try file.sync() }
                syncedSequence = max(syncedSequence, target)
                syncCount += 1
            } catch {
                failure = error
            }
            syncInProgress = false
            monitor.broadcast()
        }
    }

    /// A new, empty segment file holding only its header, durable (file and directory entry).
    private static func createSegment(path: String, directory: String) throws(StorageError) -> DurableFile {
        let file = try DurableFile(path: path, create: true)
        try file.truncate(to: 0)
        try file.write(WALFormat.segmentHeader(), at: 0)
        try file.sync()
        try Directory.sync(directory)
        return file
    }

    /// Closes the current segment (synced) and starts one at `firstSequence`.
    private func rollSegment(firstSequence: UInt64) throws(StorageError) {
        try current.sync()
        syncedSequence = max(syncedSequence, firstSequence - 1)
        let path = directory + "/" + WALFormat.segmentName(firstSequence: firstSequence)
        current = try Self.createSegment(path: path, directory: directory)
        syncCount += 3   // the old segment, the new one and the directory entry
        currentSize = WALFormat.segmentHeaderBytes
        segments.append(Segment(firstSequence: firstSequence, path: path))
    }

    /// Records with sequence >= `sequence`, in order, at most `limit`, read whole segment by
    /// segment (recovery; a replication stream reads with `records(after:maxRecords:maxBytes:)`).
    public func read(from sequence: UInt64, limit: Int = .max) throws(StorageError) -> [WALRecord] {
        let (snapshot, last) = monitor.locked { (segments, nextSequence - 1) }
        var records: [WALRecord] = []
        for (index, segment) in snapshot.enumerated() {
            let nextFirst = index + 1 < snapshot.count ? snapshot[index + 1].firstSequence : last + 1
            if nextFirst <= sequence { continue }
            let file = try DurableFile(path: segment.path, create: false)
            let bytes = try file.read(count: try file.size(), at: 0)
            try WALFormat.checkSegmentHeader(bytes[...], path: segment.path)
            var offset = WALFormat.segmentHeaderBytes
            var expected = segment.firstSequence
            while offset < bytes.count && expected <= last && records.count < limit {
                guard case .success(let (record, next)) = WALFormat.decodeRecord(
                    bytes, at: offset, expectedSequence: expected, maxRecordBytes: options.maxRecordBytes) else {
                    throw StorageError(.corrupt, "\(StorageError.fileName(segment.path)) is damaged at byte \(offset)", path: segment.path)
                }
                if record.sequence >= sequence { records.append(record) }
                expected += 1
                offset = next
            }
            if records.count >= limit { break }
            // Segments open did not check (covered by a snapshot) must still join up.
            guard expected == nextFirst else {
                throw StorageError(.corrupt, "\(StorageError.fileName(segment.path)) ends before sequence \(nextFirst - 1): a segment is cut or missing",
                                   path: segment.path)
            }
        }
        return records
    }

    /// Deletes segments whose records all have sequence <= `sequence` (they are covered by a
    /// snapshot). The current segment is never deleted. Returns how many were deleted.
    /// Records after the retention floor (`setRetentionFloor`) are kept whatever `sequence` is.
    @discardableResult
    public func releaseSegments(upTo sequence: UInt64) throws(StorageError) -> Int {
        // The floor is the owner's code: called outside the lock, so it may read this log.
        let floor = monitor.locked { retentionFloor }?() ?? .max
        let limit = min(sequence, floor)
        return try monitor.locked { () throws(StorageError) -> Int in
            var released = 0
            while segments.count > 1, segments[1].firstSequence <= limit + 1 {
                try Directory.remove(segments[0].path)
                segments.removeFirst()
                released += 1
            }
            if released > 0 { try Directory.sync(directory) }
            return released
        }
    }

    /// Keeps every record after `floor()` when segments are released (a primary keeps what a
    /// lagging replica still needs); `floor` is asked at each release. Replaces any earlier floor.
    public func setRetentionFloor(_ floor: @escaping @Sendable () -> UInt64) {
        monitor.locked { retentionFloor = floor }
    }

    /// The sequence the next append will get.
    public var nextSequenceNumber: UInt64 { monitor.locked { nextSequence } }

    /// The last record's sequence (0 for a log that never held one; `startingAt - 1` for a new
    /// log that continues another), counting a record once its append is as durable as the
    /// sync policy promises: what `records(after:)` returns and waiters are woken for.
    public var lastSequence: UInt64 { monitor.locked { readableSequence } }

    /// The first sequence still in the log: records before it were released (a snapshot holds them).
    public var firstRetainedSequence: UInt64 { monitor.locked { segments[0].firstSequence } }

    /// The first sequence of every segment, oldest first: where `releaseSegments(upTo:)` can cut
    /// (an owner releasing one segment per call, each deletion synced before the next).
    public var segmentFirstSequences: [UInt64] { monitor.locked { segments.map(\.firstSequence) } }

    /// Appends, record bytes written and device syncs since open (group commit makes syncs
    /// fewer than appends; rolling to a new segment counts its three), and segment files now.
    public var statistics: (appends: Int, bytes: Int, syncs: Int, segments: Int) {
        monitor.locked { (appendCount, appendedBytes, syncCount, segments.count) }
    }

    /// Syncs and closes; later appends throw `.closed`.
    public func close() throws(StorageError) {
        try monitor.locked { () throws(StorageError) in
            guard !closed else { return }
            closed = true
            waiters.close()
            try current.sync()
        }
    }
}
