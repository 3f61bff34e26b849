#if canImport(Glibc)
import Glibc
#endif

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

/// A consistent point-in-time image: named byte sections an engine wrote (e.g. "vectors",
/// "graph", "payloads") and the WAL sequence it covers.
public struct Snapshot: Sendable, Equatable {
    public let info: SnapshotInfo
    /// Sections by name.
    public let sections: [String: [UInt8]]
}

/// Snapshot files in a directory: written atomically (`AtomicFile`: temporary file, fsync,
/// rename, directory fsync), checksummed per section and as a whole, versioned. Loading the latest
/// falls back to an older snapshot when the newest is damaged.
///
/// File layout (version 1): magic `RUVSNAP\0`, version UInt32 LE, section count UInt32 LE,
/// WAL sequence UInt64 LE, created micros Int64 LE; per section: name length UInt16 LE,
/// name (UTF-8), length UInt64 LE, CRC-32C UInt32 LE, then the bytes; last, CRC-32C of
/// everything before it.
public struct SnapshotStore: Sendable {
    static let magic: [UInt8] = Array("RUVSNAP".utf8) + [0]
    static let version: UInt32 = 1
    static let suffix = ".rvsnap"

    /// The directory holding the snapshot files.
    public let directory: String

    /// Opens (creating if needed) the store.
    public init(directory: String) throws(StorageError) {
        self.directory = directory
        try Directory.create(directory)
    }

    /// Writes a snapshot covering the WAL up to `walSequence`, atomically.
    @discardableResult
    public func write(sections: [(name: String, bytes: [UInt8])], walSequence: UInt64,
                      createdUnixMicros: Int64) throws(StorageError) -> SnapshotInfo {
        var file = Self.magic + WALFormat.littleEndian(Self.version) + WALFormat.littleEndian(UInt32(sections.count))
        file += WALFormat.littleEndian(walSequence) + WALFormat.littleEndian(UInt64(bitPattern: createdUnixMicros))
        var seen = Set<String>()
        for section in sections {
            let name = Array(section.name.utf8)
            guard !name.isEmpty, name.count <= 255, seen.insert(section.name).inserted else {
                throw StorageError(.invalidArgument, "section names must be unique, 1..255 bytes: '\(section.name)'")
            }
            file += [UInt8(name.count), 0] + name
            file += WALFormat.littleEndian(UInt64(section.bytes.count)) + WALFormat.littleEndian(CRC32C.checksum(section.bytes))
            file += section.bytes
        }
        let crc = CRC32C.checksum(file)
        file += WALFormat.littleEndian(crc)
        let name = Self.fileName(walSequence: walSequence)
        try AtomicFile.write(file, to: directory + "/" + name)
        return SnapshotInfo(name: name, walSequence: walSequence, createdUnixMicros: createdUnixMicros,
                            sizeBytes: file.count, crc32c: crc)
    }

    static func fileName(walSequence: UInt64) -> String {
        let digits = String(walSequence)
        return "snapshot-" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + suffix
    }

    /// Snapshot files, newest (highest WAL sequence) first. Damaged files are listed too;
    /// `load` tells which are valid.
    public func list() throws(StorageError) -> [SnapshotInfo] {
        var infos: [SnapshotInfo] = []
        for name in try Directory.entries(directory) where Self.isFileName(name) {
            let file = try DurableFile(path: directory + "/" + name, create: false)
            let size = try file.size()
            let head = try file.read(count: 32, at: 0)
            let tail = try file.read(count: 4, at: max(0, size - 4))
            guard head.count == 32, tail.count == 4 else { continue }
            infos.append(SnapshotInfo(name: name, walSequence: WALFormat.readUInt64(head[...], at: 16),
                                      createdUnixMicros: Int64(bitPattern: WALFormat.readUInt64(head[...], at: 24)),
                                      sizeBytes: size, crc32c: WALFormat.readUInt32(tail[...], at: 0)))
        }
        return infos.sorted { $0.walSequence > $1.walSequence }
    }

    /// Reads and fully validates one snapshot.
    public func load(_ name: String) throws(StorageError) -> Snapshot {
        guard Self.isFileName(name) else { throw StorageError(.invalidArgument, "no snapshot is named '\(name)'") }
        let file = try DurableFile(path: directory + "/" + name, create: false)
        return try Self.decode(try file.read(count: try file.size(), at: 0), name: name)
    }

    /// The newest snapshot that validates, and the names of newer ones that did not (to log).
    public func loadLatestValid() throws(StorageError) -> (snapshot: Snapshot?, skipped: [String]) {
        var skipped: [String] = []
        for info in try list() {
            do throws(StorageError) {
                return (try load(info.name), skipped)
            } catch where error.code == .corrupt {
                skipped.append(info.name)
            }
        }
        return (nil, skipped)
    }

    /// Opens a snapshot file for reading in chunks (streamed downloads). The open file stays
    /// readable even if retention deletes its name meanwhile.
    public func open(_ name: String) throws(StorageError) -> SnapshotFileReader {
        guard Self.isFileName(name) else { throw StorageError(.invalidArgument, "no snapshot is named '\(name)'") }
        return try SnapshotFileReader(file: DurableFile(path: directory + "/" + name, create: false))
    }

    /// Deletes one snapshot file (retention); false when it did not exist.
    @discardableResult
    public func remove(_ name: String) throws(StorageError) -> Bool {
        guard Self.isFileName(name) else { throw StorageError(.invalidArgument, "bad snapshot name '\(name)'") }
        guard AtomicFile.exists(directory + "/" + name) else { return false }
        try Directory.remove(directory + "/" + name)
        try Directory.sync(directory)
        return true
    }

    /// True for names this store writes (`snapshot-<20 digits>.rvsnap`): anything else, such as
    /// a path from the network, never reaches the file system.
    public static func isFileName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        let prefix = Array("snapshot-".utf8), suffix = Array(Self.suffix.utf8)
        guard bytes.count == prefix.count + 20 + suffix.count,
              Array(bytes.prefix(prefix.count)) == prefix, Array(bytes.suffix(suffix.count)) == suffix else { return false }
        return bytes[prefix.count..<(prefix.count + 20)].allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    /// Validates a whole snapshot file (an upload) and returns its sections, without installing it.
    public static func parse(_ fileBytes: [UInt8]) throws(StorageError) -> Snapshot {
        try decode(fileBytes, name: "uploaded snapshot")
    }

    /// Installs a snapshot file received from elsewhere (an upload), after validating it.
    @discardableResult
    public func restore(fileBytes: [UInt8]) throws(StorageError) -> SnapshotInfo {
        let snapshot = try Self.decode(fileBytes, name: "uploaded snapshot")
        let name = Self.fileName(walSequence: snapshot.info.walSequence)
        try AtomicFile.write(fileBytes, to: directory + "/" + name)
        return SnapshotInfo(name: name, walSequence: snapshot.info.walSequence,
                            createdUnixMicros: snapshot.info.createdUnixMicros,
                            sizeBytes: fileBytes.count, crc32c: snapshot.info.crc32c)
    }

    static func decode(_ bytes: [UInt8], name: String) throws(StorageError) -> Snapshot {
        func corrupt(_ why: String) -> StorageError { StorageError(.corrupt, "snapshot '\(name)' is damaged: \(why)") }
        guard bytes.count >= 36, Array(bytes[0..<8]) == magic else { throw corrupt("bad magic or too short") }
        let version = WALFormat.readUInt32(bytes[...], at: 8)
        guard version <= Self.version else {
            throw StorageError(.newerFormat,
                "snapshot '\(name)' has format version \(version); this build reads up to \(Self.version): upgrade ruvector-server")
        }
        let stored = WALFormat.readUInt32(bytes[...], at: bytes.count - 4)
        guard CRC32C.checksum(Array(bytes[..<(bytes.count - 4)])) == stored else { throw corrupt("file checksum mismatch") }
        let count = Int(WALFormat.readUInt32(bytes[...], at: 12))
        var offset = 32
        var sections: [String: [UInt8]] = [:]
        for _ in 0..<count {
            guard bytes.count - 4 - offset >= 2 else { throw corrupt("section table cut short") }
            let nameLength = Int(bytes[offset])
            offset += 2
            guard bytes.count - 4 - offset >= nameLength + 12 else { throw corrupt("section header cut short") }
            let sectionName = String(decoding: bytes[offset..<(offset + nameLength)], as: UTF8.self)
            offset += nameLength
            let length = WALFormat.readUInt64(bytes[...], at: offset)
            let crc = WALFormat.readUInt32(bytes[...], at: offset + 8)
            offset += 12
            guard length <= UInt64(bytes.count - 4 - offset) else { throw corrupt("section '\(sectionName)' overruns the file") }
            let data = Array(bytes[offset..<(offset + Int(length))])
            guard CRC32C.checksum(data) == crc else { throw corrupt("section '\(sectionName)' checksum mismatch") }
            sections[sectionName] = data
            offset += Int(length)
        }
        guard offset == bytes.count - 4 else { throw corrupt("trailing bytes after the sections") }
        let info = SnapshotInfo(name: name, walSequence: WALFormat.readUInt64(bytes[...], at: 16),
                                createdUnixMicros: Int64(bitPattern: WALFormat.readUInt64(bytes[...], at: 24)),
                                sizeBytes: bytes.count, crc32c: stored)
        return Snapshot(info: info, sections: sections)
    }
}

/// One snapshot file opened for chunked reads. Reads are serialised by the owner (one
/// download reads one file in order).
public final class SnapshotFileReader: @unchecked Sendable {
    private let file: DurableFile
    /// The file's size when opened.
    public let size: Int

    init(file: DurableFile) throws(StorageError) {
        self.file = file
        size = try file.size()
    }

    /// Up to `count` bytes from `offset`; empty at or past the end.
    public func read(offset: Int, count: Int) throws(StorageError) -> [UInt8] {
        guard count > 0, offset >= 0 else { throw StorageError(.invalidArgument, "bad read range \(offset)+\(count)") }
        guard offset < size else { return [] }
        return try file.read(count: min(count, size - offset), at: offset)
    }
}
