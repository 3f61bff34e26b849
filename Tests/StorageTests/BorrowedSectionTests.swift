import Testing
@testable import Storage

/// Snapshot sections written from parts and read in place: how an on-disk collection writes and
/// loads its quantizer codes without a second heap copy of them.
@Suite("snapshots: sections from parts, read in place")
struct BorrowedSectionTests {
    /// A section from parts (bytes, borrowed bytes, bytes) is the same file section as one array of
    /// them all, checksum included; borrowing a loaded section gives its bytes where they lie.
    @Test func partsAndBorrowing() throws {
        let store = try SnapshotStore(directory: temporaryDirectory())
        let bulk = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let owner = bulk.withUnsafeBytes { MappedRegion.copy(of: $0, capacity: bulk.count) }
        let parts = SnapshotSection("codes", parts: [.bytes([1, 2, 3]), .borrowing(owner.bytes, owner: owner), .bytes([]), .bytes([9])])
        #expect(parts.byteCount == 3 + bulk.count + 1)
        let whole: [UInt8] = [1, 2, 3] + bulk + [9]
        let a = try store.write(sections: [parts, SnapshotSection("tail", bytes: [7])], walSequence: 1, createdUnixMicros: 5)
        let other = try SnapshotStore(directory: temporaryDirectory())
        let b = try other.write(sections: [SnapshotSection("codes", bytes: whole), SnapshotSection("tail", bytes: [7])],
                                walSequence: 1, createdUnixMicros: 5)
        #expect(a.crc32c == b.crc32c)
        #expect(try fileBytes(store.directory + "/" + a.name) == fileBytes(other.directory + "/" + b.name))
        let loaded = try store.load(a.name)
        #expect(loaded.sections["codes"] == whole)
        let (bytes, keeper) = try #require(loaded.sections.borrow("codes"))
        #expect(Array(bytes) == whole)
        // In place: the bytes lie inside the loaded file's image, which `keeper` keeps mapped.
        let image = try #require(keeper as? MappedRegion)
        #expect(bytes.baseAddress! >= UnsafeRawPointer(image.base) && bytes.baseAddress! + bytes.count <= UnsafeRawPointer(image.base) + image.count)
        #expect(loaded.sections.borrow("missing") == nil)
    }

    /// A borrowed run larger than the read-ahead step is handed over in steps (each next step's
    /// pages asked for first), and the file is the same as from one array.
    @Test func largeBorrowedRunInSteps() throws {
        let bulk = (0..<(20 << 20) + 12_345).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ $0 >> 13) }
        let owner = bulk.withUnsafeBytes { MappedRegion.copy(of: $0, capacity: bulk.count) }
        let section = SnapshotSection("vectors", borrowing: owner.bytes, owner: owner)
        var runs: [Int] = []
        var joined: [UInt8] = []
        section.forEachPart { runs.append($0.count); joined.append(contentsOf: $0) }
        #expect(runs == [8 << 20, 8 << 20, (4 << 20) + 12_345])
        #expect(joined == bulk)
        let store = try SnapshotStore(directory: temporaryDirectory())
        let a = try store.write(sections: [section], walSequence: 2, createdUnixMicros: 5)
        let other = try SnapshotStore(directory: temporaryDirectory())
        let b = try other.write(sections: [SnapshotSection("vectors", bytes: bulk)], walSequence: 2, createdUnixMicros: 5)
        #expect(a.crc32c == b.crc32c && a.sizeBytes == b.sizeBytes)
        #expect(try store.load(a.name).sections["vectors"] == bulk)
    }

    /// A reader over borrowed bytes reads what one over an array reads, and hands out counted byte
    /// runs in place; one over an array hands out none and reads nothing for asking.
    @Test func readerBorrowing() throws {
        var w = BinaryWriter()
        w.u32(7); w.u8s([5, 6, 7, 8]); w.string("tail"); w.u8s([])
        let bytes = w.bytes
        let owner = bytes.withUnsafeBytes { MappedRegion.copy(of: $0, capacity: bytes.count) }
        var borrowed = BinaryReader(borrowing: owner.bytes, owner: owner)
        #expect(try borrowed.u32() == 7)
        let run = try #require(try borrowed.borrowedBytes())
        #expect(Array(run.bytes) == [5, 6, 7, 8] && run.bytes.baseAddress == owner.bytes.baseAddress! + 12)
        #expect(try borrowed.string() == "tail")
        #expect(try borrowed.borrowedBytes()?.bytes.count == 0 && borrowed.isAtEnd)

        var array = BinaryReader(bytes)
        #expect(try array.u32() == 7)
        #expect(try array.borrowedBytes() == nil)
        #expect(try array.u8s() == [5, 6, 7, 8] && array.string() == "tail" && array.u8s() == [] && array.isAtEnd)

        // A count past the end is refused before anything is handed out.
        var cut = BinaryReader(borrowing: UnsafeRawBufferPointer(rebasing: owner.bytes[..<14]), owner: owner)
        _ = try cut.u32()
        #expect(throws: BinaryReader.Truncated.self) { _ = try cut.borrowedBytes() }
    }
}
