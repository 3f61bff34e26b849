import Checksums

/// Describes one snapshot file.
public struct SnapshotInfo: Sendable, Equatable {
    /// File name within the store, e.g. `snapshot-00000000000000001234.rvsnap`.
    public let name: String
    /// The write-ahead log sequence the snapshot includes (replay starts after it).
    public let walSequence: UInt64
    /// Creation time given by the writer (microseconds since the Unix epoch).
    public let createdUnixMicros: Int64
    /// File size.
    public let sizeBytes: Int
    /// CRC-32C of the file up to its last 4 bytes (which store this value).
    public let crc32c: UInt32

    /// CRC-32C of the whole file, trailer included (what a downloader computes over the bytes).
    public var fileCRC32C: UInt32 {
        CRC32C.checksum(WALFormat.littleEndian(crc32c), continuing: crc32c)
    }
}

/// One named section to write into a snapshot: bytes an engine encoded, or an array of plain
/// values (floats, ids, links) written as they lie in memory, without an encoding copy.
public struct SnapshotSection: Sendable {
    /// 1...255 bytes of UTF-8, unique within a snapshot.
    public let name: String
    private let content: any _SnapshotSectionContent

    /// A section of encoded bytes.
    public init(_ name: String, bytes: [UInt8]) {
        self.name = name
        content = _PlainValues(values: bytes)
    }

    /// A section holding `values` in memory order (little-endian hosts only, as every format
    /// here): loaded back with ``SnapshotSections/region(_:reservingBytes:)``, it is usable in
    /// place, without decoding.
    public init<Element: BitwiseCopyable & Sendable>(_ name: String, values: [Element]) {
        self.name = name
        content = _PlainValues(values: values)
    }

    /// A section of `bytes` that lie elsewhere (on-disk vectors), kept valid by `owner`: they are
    /// written from where they lie, not copied first. The caller keeps them unchanged until the
    /// snapshot is written.
    public init(_ name: String, borrowing bytes: UnsafeRawBufferPointer, owner: AnyObject) {
        self.init(name, parts: [.borrowing(bytes, owner: owner)])
    }

    /// A section written as `parts` one after the other: encoded bytes around borrowed bulk (the
    /// quantizer's codes of an on-disk collection), so the bulk is not copied into one array first.
    public init(_ name: String, parts: [SnapshotSectionPart]) {
        self.name = name
        content = _SectionParts(parts: parts)
    }

    /// A section of any content (tests count how often the writer reads one).
    init(_ name: String, content: any _SnapshotSectionContent) {
        self.name = name
        self.content = content
    }

    /// The section's length in bytes.
    public var byteCount: Int { content.byteCount }

    /// Calls `body` with each run of the section's bytes, in order.
    public func forEachPart(_ body: (UnsafeRawBufferPointer) -> Void) {
        content.forEachPart(body)
    }
}

/// One run of a section written from parts (``SnapshotSection/init(_:parts:)``).
public struct SnapshotSectionPart: @unchecked Sendable {
    fileprivate let bytes: UnsafeRawBufferPointer
    /// Keeps `bytes` valid: the array they lie in, or the borrowed bytes' owner.
    fileprivate let owner: AnyObject
    /// Borrowed bytes may lie in a file mapping whose pages are out of memory (on-disk vectors
    /// under a memory limit): they are read ahead (``_SectionParts``).
    fileprivate var borrowed = false

    /// Encoded bytes.
    public static func bytes(_ bytes: [UInt8]) -> SnapshotSectionPart {
        let box = _ByteBox(bytes)
        return SnapshotSectionPart(bytes: UnsafeRawBufferPointer(box.pointer), owner: box)
    }

    /// Bytes that lie elsewhere, kept valid by `owner`; the caller keeps them unchanged until the
    /// snapshot is written.
    public static func borrowing(_ bytes: UnsafeRawBufferPointer, owner: AnyObject) -> SnapshotSectionPart {
        SnapshotSectionPart(bytes: bytes, owner: owner, borrowed: true)
    }
}

/// Encoded bytes at a stable address for as long as a ``SnapshotSectionPart`` holds them (an
/// array's buffer may not be used outside `withUnsafeBytes`).
private final class _ByteBox {
    let pointer: UnsafeMutableRawBufferPointer
    init(_ bytes: [UInt8]) {
        pointer = .allocate(byteCount: bytes.count, alignment: 16)
        bytes.withUnsafeBytes { pointer.copyMemory(from: $0) }
    }
    deinit { pointer.deallocate() }
}

/// What a ``SnapshotSection`` can hold (arrays of plain values, borrowed bytes, parts).
protocol _SnapshotSectionContent: Sendable {
    var byteCount: Int { get }
    func forEachPart(_ body: (UnsafeRawBufferPointer) -> Void)
}

struct _PlainValues<Element: BitwiseCopyable & Sendable>: _SnapshotSectionContent {
    let values: [Element]
    var byteCount: Int { values.count * MemoryLayout<Element>.stride }
    func forEachPart(_ body: (UnsafeRawBufferPointer) -> Void) { values.withUnsafeBytes(body) }
}

/// Runs of bytes, each kept valid by its owner. Borrowed runs are handed over in 8 MiB steps,
/// the next step's pages asked for (`MADV_WILLNEED`) before the current one is read: their file
/// mappings are advised random (no readahead), so a snapshot of on-disk vectors paged out under a
/// memory limit would otherwise read them 4 KiB at a time.
struct _SectionParts: _SnapshotSectionContent {
    let parts: [SnapshotSectionPart]
    var byteCount: Int { parts.reduce(0) { $0 + $1.bytes.count } }
    func forEachPart(_ body: (UnsafeRawBufferPointer) -> Void) {
        for part in parts {
            withExtendedLifetime(part.owner) {
                guard part.borrowed, let base = part.bytes.baseAddress, part.bytes.count > Self.step else {
                    return body(part.bytes)
                }
                MappedRegion.willRead(base, count: min(Self.step, part.bytes.count))
                var offset = 0
                while offset < part.bytes.count {
                    let length = min(Self.step, part.bytes.count - offset)
                    if offset + length < part.bytes.count {
                        MappedRegion.willRead(base + offset + length, count: min(Self.step, part.bytes.count - offset - length))
                    }
                    body(UnsafeRawBufferPointer(start: base + offset, count: length))
                    offset += length
                }
            }
        }
    }

    private static let step = 8 << 20
}

/// A consistent point-in-time image: named byte sections an engine wrote (e.g. "vectors",
/// "graph", "payloads") and the WAL sequence it covers. Every section was checked against its
/// checksum when the snapshot was loaded.
public struct Snapshot: Sendable {
    public let info: SnapshotInfo
    /// Sections by name.
    public let sections: SnapshotSections
}

/// The sections of a loaded snapshot, over the file's bytes in memory (mapped copy-on-write,
/// or a copy of uploaded bytes). Reading one as `[UInt8]` copies only that section;
/// ``region(_:reservingBytes:)`` gives one without copying.
public struct SnapshotSections: Sendable {
    /// The whole file.
    let image: MappedRegion
    /// The open file `image` maps, nil for uploaded bytes.
    let file: _SnapshotFileHandle?
    /// Byte range of each section within the file.
    let ranges: [String: Range<Int>]

    /// Section names, sorted.
    public var names: [String] { ranges.keys.sorted() }

    /// True when the snapshot has section `name`.
    public func contains(_ name: String) -> Bool { ranges[name] != nil }

    /// A copy of section `name`'s bytes; nil when the snapshot has none.
    public subscript(name: String) -> [UInt8]? {
        guard let range = ranges[name] else { return nil }
        return Array(UnsafeRawBufferPointer(rebasing: image.bytes[range]))
    }

    /// Calls `body` with section `name`'s bytes in place (valid only inside `body`); nil when
    /// the snapshot has no such section.
    public func withUnsafeBytes<Result, Failure: Error>(
        _ name: String, _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result) throws(Failure) -> Result? {
        guard let range = ranges[name] else { return nil }
        return try body(UnsafeRawBufferPointer(rebasing: image.bytes[range]))
    }

    /// Section `name`'s bytes in place, with the object that keeps them valid: the caller may
    /// keep both and read (never write) the bytes for as long as it holds the owner. Nothing is
    /// copied: a mapped snapshot's pages are read from the file when touched and can be dropped
    /// again under memory pressure. Nil when the snapshot has no such section.
    public func borrow(_ name: String) -> (bytes: UnsafeRawBufferPointer, owner: AnyObject)? {
        guard let range = ranges[name] else { return nil }
        return (UnsafeRawBufferPointer(rebasing: image.bytes[range]), image)
    }

    /// Every section, copied (for small snapshots and tests).
    public var all: [String: [UInt8]] {
        ranges.keys.reduce(into: [:]) { all, name in all[name] = self[name] }
    }

    /// Section `name` in memory the caller may keep, read and write, without a copy when the
    /// section lies on whole pages of a mapped file (format version 2): the file's pages are
    /// mapped copy-on-write (read when touched; writes never reach the file), followed by
    /// zeroed room up to `reservingBytes`, which costs address space only. Otherwise (older
    /// files, uploads) an exact heap copy, without room. Nil when the snapshot has no such section.
    public func region(_ name: String, reservingBytes: Int = 0) throws(StorageError) -> MappedRegion? {
        guard let range = ranges[name] else { return nil }
        if let file, range.lowerBound % MappedRegion.pageBytes == 0,
           range.lowerBound + MappedRegion.roundUpToPage(range.count) <= image.count {
            return try MappedRegion.map(file.file, offset: range.lowerBound, count: range.count, capacity: reservingBytes)
        }
        return MappedRegion.copy(of: UnsafeRawBufferPointer(rebasing: image.bytes[range]), capacity: range.count)
    }

    /// The length of section `name`; nil when the snapshot has none.
    public func count(of name: String) -> Int? { ranges[name]?.count }
}

/// Keeps a snapshot file open (its sections are mapped from it on demand).
final class _SnapshotFileHandle: @unchecked Sendable {
    let file: DurableFile
    init(_ file: DurableFile) { self.file = file }
}
