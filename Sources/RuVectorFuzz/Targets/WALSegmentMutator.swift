import Checksums
import Storage
import VectorEngine

/// Mutations that know the write-ahead log segment layout (Storage's `WALFormat`: a 16-byte
/// header, then records of a 20-byte header — length, type, 3 reserved bytes, sequence,
/// CRC-32C of type, sequence and payload — and the payload). Most mutations re-seal the
/// record's checksum, so the damage reaches the record decoders behind the log instead of
/// stopping at the CRC; others tear the tail, break lengths, sequences and reserved bytes.
enum WALSegmentMutator {
    static let headerBytes = 16
    static let recordHeaderBytes = 20

    struct Record {
        var type: UInt8
        var reserved: [UInt8]
        var sequence: UInt64
        var payload: [UInt8]
        /// A stored checksum that is wrong on purpose (nil: computed).
        var brokenCRC: UInt32?
        /// A stored length that disagrees with the payload on purpose.
        var brokenLength: UInt32?
    }

    /// The records of a segment, and bytes after the last whole record (a torn tail).
    static func records(_ segment: [UInt8]) -> (header: [UInt8], records: [Record], tail: [UInt8])? {
        guard segment.count >= headerBytes else { return nil }
        var records: [Record] = []
        var offset = headerBytes
        while segment.count - offset >= recordHeaderBytes {
            let length = Int(le32(segment, offset))
            guard length <= segment.count - offset - recordHeaderBytes else { break }
            let start = offset + recordHeaderBytes
            records.append(Record(type: segment[offset + 4], reserved: Array(segment[(offset + 5)..<(offset + 8)]),
                                  sequence: le64(segment, offset + 8), payload: Array(segment[start..<(start + length)])))
            offset = start + length
        }
        return (Array(segment[..<headerBytes]), records, Array(segment[offset...]))
    }

    static func encode(header: [UInt8], records: [Record], tail: [UInt8]) -> [UInt8] {
        var out = header
        for record in records {
            var sealed = [record.type]
            sealed += littleEndian(record.sequence)
            let crc = record.brokenCRC ?? CRC32C.checksum(record.payload, continuing: CRC32C.checksum(sealed))
            out += littleEndian(record.brokenLength ?? UInt32(truncatingIfNeeded: record.payload.count))
            out += [record.type] + record.reserved + littleEndian(record.sequence) + littleEndian(crc) + record.payload
        }
        return out + tail
    }

    /// One mutation of the segment; false when it is not a segment.
    static func mutate(_ segment: inout [UInt8], random: inout SeededGenerator, bytes: ByteMutator, corpus: [[UInt8]]) -> Bool {
        guard case (var header, var records, let tail)? = records(segment) else { return false }
        if records.isEmpty {
            segment = header + tail
            bytes.mutate(&segment, random: &random, corpus: corpus)
            return true
        }
        let at = random.below(records.count)
        switch random.below(12) {
        case 0, 1, 2:
            // Hostile payload, sealed with a valid checksum: what the decoders behind the log must refuse.
            var payload = records[at].payload
            bytes.mutate(&payload, random: &random, corpus: records.map(\.payload))
            records[at].payload = payload
        case 3:
            records[at].type = [0, 1, 2, 3, 4, 255][random.below(6)]
        case 4:
            let sequences: [UInt64] = [0, 1, records[at].sequence &+ 1, records[at].sequence &- 1, UInt64.max, UInt64.max - 1]
            records[at].sequence = sequences[random.below(sequences.count)]
        case 5:
            records[at].reserved[random.below(3)] = UInt8(1 + random.below(255))
        case 6:
            records[at].brokenCRC = UInt32(truncatingIfNeeded: random.next())
        case 7:
            let lengths: [UInt32] = [0, UInt32(records[at].payload.count + 1), UInt32.max, 64 << 20, (64 << 20) + 1]
            records[at].brokenLength = lengths[random.below(lengths.count)]
        case 8, 9:
            records.dropRepeatOrSwap(at: at, random: &random)
        case 10:
            // A torn tail: the last record cut anywhere.
            var whole = encode(header: header, records: records, tail: [])
            whole.removeLast(random.below(min(whole.count - headerBytes, recordHeaderBytes + records[records.count - 1].payload.count) + 1))
            segment = whole
            return true
        default:
            header[8 + random.below(8)] = random.byte()
        }
        segment = encode(header: header, records: records, tail: tail)
        return true
    }

    static func le32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
    }

    static func le64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }

    static func littleEndian(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * UInt32($0))) } }
    static func littleEndian(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) } }
}
