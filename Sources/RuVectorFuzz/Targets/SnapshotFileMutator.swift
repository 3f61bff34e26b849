import Checksums
import Storage
import VectorEngine

/// Mutations that know the snapshot file layout (Storage's `SnapshotFormat`: a 32-byte
/// header, a section table, sections on 4096-byte pages in version 2 or back to back in
/// version 1, a CRC-32C trailer). A file is taken apart into its named sections, one is
/// damaged, dropped, repeated or renamed, and the file is written again with every checksum
/// right, so the damage gets past the checksum to the section decoders (HNSW state, quantizer
/// codes, payloads, UUIDs, the graph). Other mutations damage the header or the table and
/// only re-seal the trailer.
enum SnapshotFileMutator {
    struct File {
        var walSequence: UInt64
        var createdMicros: UInt64
        var sections: [(name: [UInt8], bytes: [UInt8])]
    }

    static let headerBytes = 32
    static let alignment = 4096
    static let magic = Array("RUVSNAP".utf8) + [0]

    /// The sections of a version-2 file (nil when it is not one or is damaged).
    static func parse(_ file: [UInt8]) -> File? {
        guard file.count >= headerBytes + 4, Array(file[..<8]) == magic, WALSegmentMutator.le32(file, 8) == 2 else { return nil }
        let count = Int(WALSegmentMutator.le32(file, 12))
        var offset = headerBytes
        var sections: [(name: [UInt8], bytes: [UInt8])] = []
        for _ in 0..<min(count, 1024) {
            guard file.count - offset >= 2 else { return nil }
            let nameLength = Int(file[offset])
            offset += 2
            guard file.count - offset >= nameLength + 20 else { return nil }
            let name = Array(file[offset..<(offset + nameLength)])
            offset += nameLength
            let start = WALSegmentMutator.le64(file, offset), length = WALSegmentMutator.le64(file, offset + 8)
            offset += 20
            guard start <= UInt64(file.count), length <= UInt64(file.count) - start else { return nil }
            sections.append((name, Array(file[Int(start)..<Int(start + length)])))
        }
        return File(walSequence: WALSegmentMutator.le64(file, 16), createdMicros: WALSegmentMutator.le64(file, 24), sections: sections)
    }

    /// A version-2 file of `file`'s sections, every checksum right.
    static func encodeVersion2(_ file: File) -> [UInt8] {
        var table = header(file, version: 2)
        var tableBytes = headerBytes
        for section in file.sections { tableBytes += 2 + section.name.count + 20 }
        var next = alignUp(tableBytes + 4)
        var offsets: [Int] = []
        for section in file.sections {
            offsets.append(next)
            next = alignUp(next + section.bytes.count)
        }
        for (section, offset) in zip(file.sections, offsets) {
            table += [UInt8(truncatingIfNeeded: section.name.count), 0] + section.name
            table += WALSegmentMutator.littleEndian(UInt64(offset)) + WALSegmentMutator.littleEndian(UInt64(section.bytes.count))
            table += WALSegmentMutator.littleEndian(CRC32C.checksum(section.bytes))
        }
        table += WALSegmentMutator.littleEndian(CRC32C.checksum(table))
        var out = table
        for (section, offset) in zip(file.sections, offsets) {
            out += [UInt8](repeating: 0, count: offset - out.count)
            out += section.bytes
        }
        out += [UInt8](repeating: 0, count: alignUp(out.count) - out.count)
        return sealed(out)
    }

    /// The same sections in the version-1 layout (older builds wrote it; it must still load).
    static func encodeVersion1(_ file: File) -> [UInt8] {
        var out = header(file, version: 1)
        for section in file.sections {
            out += [UInt8(truncatingIfNeeded: section.name.count), 0] + section.name
            out += WALSegmentMutator.littleEndian(UInt64(section.bytes.count)) + WALSegmentMutator.littleEndian(CRC32C.checksum(section.bytes))
            out += section.bytes
        }
        return sealed(out)
    }

    private static func header(_ file: File, version: UInt32) -> [UInt8] {
        magic + WALSegmentMutator.littleEndian(version) + WALSegmentMutator.littleEndian(UInt32(truncatingIfNeeded: file.sections.count))
            + WALSegmentMutator.littleEndian(file.walSequence) + WALSegmentMutator.littleEndian(file.createdMicros)
    }

    /// The file with its trailing whole-file checksum appended.
    static func sealed(_ body: [UInt8]) -> [UInt8] { body + WALSegmentMutator.littleEndian(CRC32C.checksum(body)) }

    static func alignUp(_ offset: Int) -> Int { (offset + alignment - 1) / alignment * alignment }

    /// One mutation of a snapshot file; false when it is not a version-2 file.
    static func mutate(_ bytes: inout [UInt8], random: inout SeededGenerator, byteMutator: ByteMutator, corpus: [[UInt8]]) -> Bool {
        guard var file = parse(bytes), !file.sections.isEmpty else { return false }
        let at = random.below(file.sections.count)
        switch random.below(10) {
        case 0, 1, 2, 3:
            var section = file.sections[at].bytes
            byteMutator.mutate(&section, random: &random, corpus: file.sections.map(\.bytes))
            file.sections[at].bytes = section
        case 4:
            // A section cut short or padded: decoders must check lengths against counts.
            var section = file.sections[at].bytes
            if random.below(2) == 0 || section.isEmpty {
                section += [UInt8](repeating: UInt8(random.below(2) * 0xFF), count: 1 + random.below(64))
            } else {
                section.removeLast(1 + random.below(min(section.count, 64)))
            }
            file.sections[at].bytes = section
        case 5:
            file.sections.dropRepeatOrSwap(at: at, random: &random)
        case 6:
            // A section from another snapshot (another quantization, the graph's).
            guard let other = corpus.randomElement(using: &random).flatMap({ parse(Array($0.dropFirst())) }),
                  let section = other.sections.randomElement(using: &random) else { return false }
            if let same = file.sections.firstIndex(where: { $0.name == section.name }) { file.sections[same] = section } else { file.sections.append(section) }
        case 7:
            file.walSequence = [0, 1, UInt64.max, UInt64.max - 1, 1 << 63][random.below(5)]
        case 8:
            bytes = encodeVersion1(file)
            return true
        default:
            // Damage the header or table, then re-seal only the trailer.
            var body = Array(encodeVersion2(file).dropLast(4))
            let tableEnd = min(body.count, headerBytes + file.sections.reduce(4) { $0 + 22 + $1.name.count })
            var head = Array(body[..<tableEnd])
            byteMutator.mutate(&head, random: &random, corpus: [])
            body.replaceSubrange(..<tableEnd, with: head)
            bytes = sealed(body)
            return true
        }
        bytes = encodeVersion2(file)
        return true
    }
}
