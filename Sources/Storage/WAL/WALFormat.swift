import Checksums

/// The on-disk layout of write-ahead log segments (format version 1).
///
/// A segment file `wal-<first sequence, 20 digits>.log` starts with a 16-byte header:
/// magic `RUVWAL\0\0`, format version (UInt32 LE), 4 reserved bytes. Records follow, each
/// a 20-byte header — payload length (UInt32 LE), type (UInt8), 3 reserved bytes (zero; any
/// other value is damage, since the CRC does not cover them), sequence (UInt64 LE), CRC-32C
/// (UInt32 LE) of type, sequence and payload — then the payload.
enum WALFormat {
    static let magic: [UInt8] = Array("RUVWAL".utf8) + [0, 0]
    static let version: UInt32 = 1
    static let segmentHeaderBytes = 16
    static let recordHeaderBytes = 20
    /// Highest sequence number a log or snapshot may name. No log gets near it; a file that
    /// names more is damaged, and refusing it keeps `sequence + 1` and `next - 1` from overflowing.
    static let maxSequence: UInt64 = 1 << 62

    static func segmentName(firstSequence: UInt64) -> String {
        let digits = String(firstSequence)
        return "wal-" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".log"
    }

    /// The first sequence of a segment from its file name, or nil for other files.
    static func firstSequence(ofSegment name: String) -> UInt64? {
        guard name.hasPrefix("wal-"), name.hasSuffix(".log"), name.utf8.count == 28 else { return nil }
        return UInt64(name.dropFirst(4).dropLast(4))
    }

    static func segmentHeader() -> [UInt8] {
        magic + littleEndian(version) + [0, 0, 0, 0]
    }

    /// Checks a segment header.
    static func checkSegmentHeader(_ bytes: ArraySlice<UInt8>, path: String) throws(StorageError) {
        guard bytes.count >= segmentHeaderBytes, Array(bytes.prefix(8)) == magic else {
            throw StorageError(.corrupt, "\(StorageError.fileName(path)) is not a RuVector write-ahead log segment (bad magic)", path: path)
        }
        let version = readUInt32(bytes, at: bytes.startIndex + 8)
        guard version <= Self.version else {
            throw StorageError(.newerFormat,
                "\(StorageError.fileName(path)) has WAL format version \(version); this build reads up to \(Self.version): upgrade ruvector-server",
                path: path)
        }
    }

    static func encodeRecord(type: UInt8, sequence: UInt64, payload: [UInt8]) -> [UInt8] {
        var body = [type] + littleEndian(sequence)
        let crc = CRC32C.checksum(payload, continuing: CRC32C.checksum(body))
        body.removeAll(keepingCapacity: true)
        var record = [UInt8]()
        record.reserveCapacity(recordHeaderBytes + payload.count)
        record += littleEndian(UInt32(payload.count))
        record += [type, 0, 0, 0]
        record += littleEndian(sequence)
        record += littleEndian(crc)
        record += payload
        return record
    }

    /// Why a record could not be read at some offset.
    enum RecordProblem {
        case truncated
        case tooLarge(Int)
        case badChecksum
        case reservedNotZero
        case wrongSequence(expected: UInt64, found: UInt64)
    }

    /// Decodes the record at `offset`; nil with the problem when it is damaged.
    static func decodeRecord(_ bytes: [UInt8], at offset: Int, expectedSequence: UInt64,
                             maxRecordBytes: Int) -> Result<(WALRecord, next: Int), RecordProblemBox> {
        guard bytes.count - offset >= recordHeaderBytes else { return .failure(.init(.truncated)) }
        let length = Int(readUInt32(bytes[...], at: offset))
        guard length <= maxRecordBytes else { return .failure(.init(.tooLarge(length))) }
        guard bytes.count - offset - recordHeaderBytes >= length else { return .failure(.init(.truncated)) }
        let type = bytes[offset + 4]
        let sequence = readUInt64(bytes[...], at: offset + 8)
        let stored = readUInt32(bytes[...], at: offset + 16)
        let payloadStart = offset + recordHeaderBytes
        let crc = bytes.withUnsafeBytes { raw in
            let head = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[(offset + 4)..<(offset + 5)]))
            let withSequence = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[(offset + 8)..<(offset + 16)]), continuing: head)
            return CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[payloadStart..<(payloadStart + length)]),
                                   continuing: withSequence)
        }
        guard crc == stored else { return .failure(.init(.badChecksum)) }
        guard bytes[offset + 5] == 0, bytes[offset + 6] == 0, bytes[offset + 7] == 0 else {
            return .failure(.init(.reservedNotZero))
        }
        guard sequence == expectedSequence else {
            return .failure(.init(.wrongSequence(expected: expectedSequence, found: sequence)))
        }
        let record = WALRecord(sequence: sequence, type: type, payload: Array(bytes[payloadStart..<(payloadStart + length)]))
        return .success((record, payloadStart + length))
    }

    /// `RecordProblem` as an `Error` for `Result`.
    struct RecordProblemBox: Error {
        let problem: RecordProblem
        init(_ problem: RecordProblem) { self.problem = problem }
    }

    static func littleEndian(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
    static func littleEndian(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) } }

    static func readUInt32(_ bytes: ArraySlice<UInt8>, at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
    }

    static func readUInt64(_ bytes: ArraySlice<UInt8>, at offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }
}

/// One record of the write-ahead log.
public struct WALRecord: Sendable, Equatable {
    /// Position in the log; consecutive from 1.
    public let sequence: UInt64
    /// The writer's record type (the log does not interpret it).
    public let type: UInt8
    /// The record's bytes.
    public let payload: [UInt8]

    public init(sequence: UInt64, type: UInt8, payload: [UInt8]) {
        self.sequence = sequence
        self.type = type
        self.payload = payload
    }
}
