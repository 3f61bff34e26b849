import Checksums

/// The layout of snapshot files.
///
/// Both versions start with a 32-byte header: magic `RUVSNAP\0`, version UInt32 LE, section
/// count UInt32 LE, WAL sequence UInt64 LE, created micros Int64 LE; and end with a CRC-32C
/// (UInt32 LE) of everything before it, which transfers (downloads, uploads) check.
///
/// - Version 1: per section, name length UInt16 LE, name (UTF-8), length UInt64 LE, CRC-32C
///   UInt32 LE, then the bytes, one after the other.
/// - Version 2 (written now): a section table — per section, name length UInt16 LE, name,
///   offset UInt64 LE, length UInt64 LE, CRC-32C UInt32 LE — then a CRC-32C of header and
///   table. Every section starts on a 4096-byte boundary and is zero-padded to the next, so a
///   section can be mapped into memory as it lies in the file (zero-copy loading).
///
/// Loading checks the whole-file checksum, in one pass over the (mapped) bytes with the CPU's
/// CRC instruction: that reads every page once, but copies nothing. It covers every byte, so
/// the section checksums (and version 2's table checksum) are not checked again: they let a
/// tool check one part without reading the rest.
enum SnapshotFormat {
    static let magic: [UInt8] = Array("RUVSNAP".utf8) + [0]
    /// The version this build writes; it reads 1...version.
    static let version: UInt32 = 2
    static let headerBytes = 32
    static let alignment = 4096
    /// Sections per file, at most (bounds the table read from disk).
    static let maxSections = 1024

    static func alignUp(_ offset: Int) -> Int { (offset + alignment - 1) / alignment * alignment }

    /// Header and section table of a version-2 file for sections of the given names, lengths
    /// and checksums; returns the bytes (table checksum included) and each section's offset.
    static func table(names: [[UInt8]], lengths: [Int], crcs: [UInt32], walSequence: UInt64,
                      createdUnixMicros: Int64) -> (bytes: [UInt8], offsets: [Int]) {
        var tableBytes = headerBytes
        for name in names { tableBytes += 2 + name.count + 20 }
        var offsets: [Int] = []
        var next = alignUp(tableBytes + 4)
        for length in lengths {
            offsets.append(next)
            next = alignUp(next + length)
        }
        var bytes = magic + WALFormat.littleEndian(version) + WALFormat.littleEndian(UInt32(names.count))
        bytes += WALFormat.littleEndian(walSequence) + WALFormat.littleEndian(UInt64(bitPattern: createdUnixMicros))
        for index in names.indices {
            bytes += [UInt8(names[index].count), 0] + names[index]
            bytes += WALFormat.littleEndian(UInt64(offsets[index])) + WALFormat.littleEndian(UInt64(lengths[index]))
            bytes += WALFormat.littleEndian(crcs[index])
        }
        bytes += WALFormat.littleEndian(CRC32C.checksum(bytes))
        return (bytes, offsets)
    }

    /// A version-1 file, as builds before format 2 wrote them (tests check those still load).
    static func encodeVersion1(sections: [(name: String, bytes: [UInt8])], walSequence: UInt64) -> [UInt8] {
        var file = magic + WALFormat.littleEndian(UInt32(1)) + WALFormat.littleEndian(UInt32(sections.count))
        file += WALFormat.littleEndian(walSequence) + WALFormat.littleEndian(UInt64(0))
        for section in sections {
            file += [UInt8(section.name.utf8.count), 0] + Array(section.name.utf8)
            file += WALFormat.littleEndian(UInt64(section.bytes.count)) + WALFormat.littleEndian(CRC32C.checksum(section.bytes))
            file += section.bytes
        }
        return file + WALFormat.littleEndian(CRC32C.checksum(file))
    }

    /// Checks a whole file in memory and finds its sections.
    static func decode(_ bytes: UnsafeRawBufferPointer, name: String) throws(StorageError) -> (info: SnapshotInfo, ranges: [String: Range<Int>]) {
        func corrupt(_ why: String) -> StorageError { StorageError(.corrupt, "snapshot '\(name)' is damaged: \(why)") }
        let size = bytes.count
        guard size >= headerBytes + 4, magic.withUnsafeBytes({ $0.elementsEqual(bytes[0..<8]) }) else {
            throw corrupt("bad magic or too short")
        }
        let version = bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian
        guard version <= Self.version else {
            throw StorageError(.newerFormat,
                "snapshot '\(name)' has format version \(version); this build reads up to \(Self.version): upgrade ruvector-server")
        }
        guard version >= 1 else { throw corrupt("format version 0") }
        let stored = bytes.loadUnaligned(fromByteOffset: size - 4, as: UInt32.self).littleEndian
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[..<(size - 4)])) == stored else {
            throw corrupt("file checksum mismatch")
        }
        let count = Int(bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self).littleEndian)
        guard count <= maxSections else { throw corrupt("\(count) sections") }
        let end = size - 4
        var offset = headerBytes
        var ranges: [String: Range<Int>] = [:]
        var dataEnd = 0
        for _ in 0..<count {
            guard end - offset >= 2 else { throw corrupt("section table cut short") }
            let nameLength = Int(bytes[offset])
            offset += 2
            let entryBytes = nameLength + (version == 1 ? 12 : 20)
            guard end - offset >= entryBytes else { throw corrupt("section header cut short") }
            let sectionName = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + nameLength)]), as: UTF8.self)
            offset += nameLength
            guard ranges[sectionName] == nil else { throw corrupt("section \(MessageText.quoted(sectionName)) appears twice") }
            let start: UInt64
            if version == 1 {
                start = UInt64(offset + 12)
            } else {
                start = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self).littleEndian
                offset += 8
            }
            let length = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self).littleEndian
            offset += 12
            guard start <= UInt64(end), length <= UInt64(end) - start else { throw corrupt("section \(MessageText.quoted(sectionName)) overruns the file") }
            let range = Int(start)..<(Int(start) + Int(length))
            if version == 1 {
                offset = range.upperBound
            } else {
                // Sections in file order, each on its own pages (so each can be mapped alone).
                guard range.lowerBound % alignment == 0, range.lowerBound >= dataEnd,
                      alignUp(range.upperBound) <= end else { throw corrupt("section \(MessageText.quoted(sectionName)) is misplaced") }
                dataEnd = alignUp(range.upperBound)
            }
            ranges[sectionName] = range
        }
        if version == 1 {
            guard offset == end else { throw corrupt("trailing bytes after the sections") }
        } else {
            guard end - offset >= 4 else { throw corrupt("section table cut short") }  // its checksum
            guard ranges.values.allSatisfy({ $0.lowerBound >= offset + 4 }) else { throw corrupt("a section overlaps the table") }
            guard alignUp(max(dataEnd, offset + 4)) == end else { throw corrupt("the file's length does not match its sections") }
        }
        let walSequence = bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self).littleEndian
        guard walSequence <= WALFormat.maxSequence else { throw corrupt("WAL sequence \(walSequence) is beyond any log") }
        let info = SnapshotInfo(name: name, walSequence: walSequence,
                                createdUnixMicros: Int64(bitPattern: bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self).littleEndian),
                                sizeBytes: size, crc32c: stored)
        return (info, ranges)
    }
}
