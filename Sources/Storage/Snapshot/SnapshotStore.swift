#if canImport(Glibc)
import Glibc
#endif
import Checksums

/// Snapshot files in a directory: written atomically (temporary file, fsync, rename,
/// directory fsync), checksummed, versioned (see `SnapshotFormat`). Loading maps the file
/// copy-on-write instead of reading it, checks it, and falls back to an older snapshot when
/// the newest is damaged.
public struct SnapshotStore: Sendable {
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
        try write(sections: sections.map { SnapshotSection($0.name, bytes: $0.bytes) }, walSequence: walSequence,
                  createdUnixMicros: createdUnixMicros)
    }

    /// Writes a snapshot covering the WAL up to `walSequence`, atomically, streaming each
    /// section from where it lies (no concatenated copy of the file is built).
    @discardableResult
    public func write(sections: [SnapshotSection], walSequence: UInt64,
                      createdUnixMicros: Int64) throws(StorageError) -> SnapshotInfo {
        var seen = Set<String>()
        for section in sections {
            guard !section.name.isEmpty, section.name.utf8.count <= 255, seen.insert(section.name).inserted else {
                throw StorageError(.invalidArgument, "section names must be unique, 1..255 bytes: \(MessageText.quoted(section.name))")
            }
        }
        guard sections.count <= SnapshotFormat.maxSections else {
            throw StorageError(.invalidArgument, "at most \(SnapshotFormat.maxSections) sections")
        }
        // The sections are read once: each is checksummed as it is written, after the table's
        // room, and the table, which holds their checksums, goes in last; the whole file's
        // checksum joins the table's to the rest's (CRC32C.combine). Reading a section twice
        // (checksums first, then the write) read paged-out on-disk vectors twice under a limit.
        let names = sections.map { Array($0.name.utf8) }, lengths = sections.map(\.byteCount)
        func table(crcs: [UInt32]) -> (bytes: [UInt8], offsets: [Int]) {
            SnapshotFormat.table(names: names, lengths: lengths, crcs: crcs, walSequence: walSequence,
                                 createdUnixMicros: createdUnixMicros)
        }
        let (room, offsets) = table(crcs: Array(repeating: 0, count: sections.count))
        let name = Self.fileName(walSequence: walSequence)
        let (size, crc) = try AtomicFile.write(to: directory + "/" + name) { (file: DurableFile) throws(StorageError) -> (Int, UInt32) in
            var rest: UInt32 = 0   // the checksum of everything after the table
            var size = room.count
            var crcs: [UInt32] = []
            let zeros = [UInt8](repeating: 0, count: SnapshotFormat.alignment)
            /// Zeros from `size` up to `offset`, counted in the checksum.
            func pad(to offset: Int) throws(StorageError) {
                let gap = zeros.prefix(offset - size)
                rest = zeros.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[..<gap.count]), continuing: rest) }
                try file.write(Array(gap), at: size)
                size = offset
            }
            for (section, offset) in zip(sections, offsets) {
                try pad(to: offset)
                var failure: StorageError?
                var own: UInt32 = 0
                let start = size
                section.forEachPart { bytes in
                    guard failure == nil else { return }
                    own = CRC32C.checksum(bytes, continuing: own)
                    do throws(StorageError) { try file.write(bytes, at: size) } catch { failure = error }
                    size += bytes.count
                }
                if let failure { throw failure }
                crcs.append(own)
                rest = CRC32C.combine(rest, own, lengthB: size - start)
            }
            try pad(to: SnapshotFormat.alignUp(size))
            let (bytes, _) = table(crcs: crcs)
            try file.write(bytes, at: 0)
            let crc = CRC32C.combine(CRC32C.checksum(bytes), rest, lengthB: size - bytes.count)
            try file.write(WALFormat.littleEndian(crc), at: size)
            return (size + 4, crc)
        }
        return SnapshotInfo(name: name, walSequence: walSequence, createdUnixMicros: createdUnixMicros, sizeBytes: size, crc32c: crc)
    }

    /// The name this store gives the snapshot covering the log through `walSequence`.
    public static func fileName(walSequence: UInt64) -> String {
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

    /// Maps and fully validates one snapshot (its whole-file checksum is checked over the
    /// mapped bytes; sections are copied out or mapped again only when asked for).
    public func load(_ name: String) throws(StorageError) -> Snapshot {
        guard Self.isFileName(name) else { throw StorageError(.invalidArgument, "no snapshot is named \(MessageText.quoted(name))") }
        let file = try DurableFile(path: directory + "/" + name, create: false)
        let size = try file.size()
        guard size >= SnapshotFormat.headerBytes + 4 else {
            throw StorageError(.corrupt, "snapshot '\(name)' is damaged: bad magic or too short")
        }
        let image = try MappedRegion.map(file, offset: 0, count: size, capacity: size)
        let (info, ranges) = try SnapshotFormat.decode(image.bytes, name: name)
        return Snapshot(info: info, sections: SnapshotSections(image: image, file: _SnapshotFileHandle(file), ranges: ranges))
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
        guard Self.isFileName(name) else { throw StorageError(.invalidArgument, "no snapshot is named \(MessageText.quoted(name))") }
        do {
            return try SnapshotFileReader(file: DurableFile(path: directory + "/" + name, create: false))
        } catch where error.errno == ENOENT {
            throw StorageError(.notFound, "no snapshot is named \(MessageText.quoted(name))", path: error.path)
        }
    }

    /// Deletes one snapshot file (retention); false when it did not exist.
    @discardableResult
    public func remove(_ name: String) throws(StorageError) -> Bool {
        guard Self.isFileName(name) else { throw StorageError(.invalidArgument, "bad snapshot name \(MessageText.quoted(name))") }
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
        let image = fileBytes.withUnsafeBytes { MappedRegion.copy(of: $0, capacity: 0) }
        let (info, ranges) = try SnapshotFormat.decode(image.bytes, name: "uploaded snapshot")
        return Snapshot(info: info, sections: SnapshotSections(image: image, file: nil, ranges: ranges))
    }

    /// Installs a snapshot file received from elsewhere (an upload), after validating it.
    @discardableResult
    public func restore(fileBytes: [UInt8]) throws(StorageError) -> SnapshotInfo {
        var decoded: Result<SnapshotInfo, StorageError>?
        fileBytes.withUnsafeBytes { bytes in
            decoded = Result { () throws(StorageError) in try SnapshotFormat.decode(bytes, name: "uploaded snapshot").info }
        }
        guard let decoded else { preconditionFailure("withUnsafeBytes runs its body") }
        let info = try decoded.get()
        let name = Self.fileName(walSequence: info.walSequence)
        try AtomicFile.write(fileBytes, to: directory + "/" + name)
        return SnapshotInfo(name: name, walSequence: info.walSequence, createdUnixMicros: info.createdUnixMicros,
                            sizeBytes: fileBytes.count, crc32c: info.crc32c)
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
