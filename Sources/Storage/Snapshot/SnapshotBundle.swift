import Checksums

/// A file that carries several snapshot files (parts) and a manifest, each checksummed: a
/// cluster snapshot of a sharded collection is one bundle, one part per shard. The layout
/// (docs/storage-format.md, "Cluster snapshot bundle"):
///
/// ```
/// header     "RVBUNDL1" (8 bytes), format version u32 (1), reserved u32 (0)
/// parts      the parts' bytes, back to back
/// directory  part count u32, per part: offset u64, size u64, CRC-32C u32;
///            manifest length u64, manifest bytes
/// footer     directory offset u64, directory length u32, directory CRC-32C u32, "RVBNDEND",
///            CRC-32C u32 of every byte before it
/// ```
///
/// The parts come first so a writer streams them to disk as they arrive (no part is held
/// whole in memory) and learns their sizes and checksums before it writes the directory.
public enum SnapshotBundle {
    static let magic = Array("RVBUNDL1".utf8)
    static let endMagic = Array("RVBNDEND".utf8)
    static let version: UInt32 = 1
    static let headerBytes = 16
    static let footerBytes = 28

    /// Where one part lies in a bundle, and its checksum.
    public struct Part: Sendable, Equatable {
        public let offset: Int
        public let sizeBytes: Int
        public let crc32c: UInt32
    }

    /// A bundle's directory: its parts and its manifest (opaque bytes the caller encodes).
    public struct Contents: Sendable {
        public let parts: [Part]
        public let manifest: [UInt8]
    }

    /// True when `bytes` start like a bundle (to tell a bundle from a plain snapshot file).
    public static func isBundle(_ bytes: [UInt8]) -> Bool {
        bytes.count >= magic.count && Array(bytes.prefix(magic.count)) == magic
    }

    /// A whole bundle in memory (tests and the fuzzer build files with every checksum right).
    public static func encode(parts: [[UInt8]], manifest: [UInt8]) -> [UInt8] {
        var header = BinaryWriter()
        header.u32(version)
        header.u32(0)
        var file = magic + header.bytes
        var directory = BinaryWriter()
        directory.u32(UInt32(parts.count))
        for part in parts {
            directory.u64(UInt64(file.count))
            directory.u64(UInt64(part.count))
            directory.u32(CRC32C.checksum(part))
            file += part
        }
        directory.u8s(manifest)
        var footer = BinaryWriter()
        footer.u64(UInt64(file.count))
        footer.u32(UInt32(directory.bytes.count))
        footer.u32(CRC32C.checksum(directory.bytes))
        file += directory.bytes + footer.bytes + endMagic
        return file + WALFormat.littleEndian(CRC32C.checksum(file))
    }

    /// Validates a whole bundle held in memory: header, footer, directory checksum, every part
    /// inside the file and matching its CRC-32C. At most `maxParts` parts and `maxManifestBytes`
    /// of manifest are accepted, so a hostile directory cannot make the reader allocate much.
    public static func parse(_ bytes: [UInt8], maxParts: Int, maxManifestBytes: Int = 16 << 20) throws(StorageError) -> Contents {
        guard bytes.count >= headerBytes + footerBytes, isBundle(bytes) else {
            throw StorageError(.corrupt, "not a snapshot bundle: bad magic or too short")
        }
        let directory = try directory(header: Array(bytes.prefix(headerBytes)), footer: Array(bytes.suffix(footerBytes)),
                                      fileSize: bytes.count, maxParts: maxParts, maxManifestBytes: maxManifestBytes) { offset, count in
            Array(bytes[offset..<(offset + count)])
        }
        let stored = bytes.suffix(4).reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard bytes.withUnsafeBytes({ CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<(bytes.count - 4)])) }) == stored else {
            throw StorageError(.corrupt, "snapshot bundle fails its CRC-32C check")
        }
        for (n, part) in directory.parts.enumerated() {
            let crc = bytes.withUnsafeBytes { raw in
                CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[part.offset..<(part.offset + part.sizeBytes)]))
            }
            guard crc == part.crc32c else { throw StorageError(.corrupt, "snapshot bundle part \(n) fails its CRC-32C check") }
        }
        return directory
    }

    /// Reads the directory of a bundle file on disk (the parts are not read: listing is cheap).
    public static func readDirectory(path: String, maxParts: Int, maxManifestBytes: Int = 16 << 20) throws(StorageError) -> Contents {
        let file = try DurableFile(path: path, create: false)
        let size = try file.size()
        guard size >= headerBytes + footerBytes else { throw StorageError(.corrupt, "snapshot bundle too short", path: path) }
        return try directory(header: try file.read(count: headerBytes, at: 0), footer: try file.read(count: footerBytes, at: size - footerBytes),
                             fileSize: size, maxParts: maxParts, maxManifestBytes: maxManifestBytes) { (offset: Int, count: Int) throws(StorageError) -> [UInt8] in
            try file.read(count: count, at: offset)
        }
    }

    private static func directory(header: [UInt8], footer: [UInt8], fileSize: Int, maxParts: Int, maxManifestBytes: Int,
                                  read: (Int, Int) throws(StorageError) -> [UInt8]) throws(StorageError) -> Contents {
        guard Array(header.prefix(magic.count)) == magic, Array(footer[16..<24]) == endMagic else {
            throw StorageError(.corrupt, "not a snapshot bundle (or cut short): bad magic")
        }
        do {
            var h = BinaryReader(header)
            _ = try h.u64()
            let format = try h.u32()
            guard format == version else {
                throw StorageError(format > version ? .newerFormat : .corrupt, "snapshot bundle format \(format); this server reads \(version)")
            }
            var f = BinaryReader(footer)
            let offset = try f.u64(), length = Int(try f.u32()), crc = try f.u32()
            guard offset >= UInt64(headerBytes), length >= 8, offset + UInt64(length) == UInt64(fileSize - footerBytes),
                  length <= 16 + maxParts * 20 + maxManifestBytes, length <= fileSize else {
                throw StorageError(.corrupt, "snapshot bundle directory out of bounds")
            }
            let bytes = try read(Int(offset), length)
            guard bytes.count == length, CRC32C.checksum(bytes) == crc else {
                throw StorageError(.corrupt, "snapshot bundle directory fails its CRC-32C check")
            }
            var r = BinaryReader(bytes)
            let count = Int(try r.u32())
            guard count <= maxParts else { throw StorageError(.invalidArgument, "snapshot bundle has \(count) parts; at most \(maxParts)") }
            var parts: [Part] = []
            var end = UInt64(headerBytes)
            for _ in 0..<count {
                let start = try r.u64(), size = try r.u64(), partCRC = try r.u32()
                guard start == end, size <= offset - start else { throw StorageError(.corrupt, "snapshot bundle part out of bounds") }
                parts.append(Part(offset: Int(start), sizeBytes: Int(size), crc32c: partCRC))
                end = start + size
            }
            guard end == offset else { throw StorageError(.corrupt, "snapshot bundle parts do not fill the file") }
            let manifest = try r.u8s()
            guard r.isAtEnd else { throw StorageError(.corrupt, "snapshot bundle directory has trailing bytes") }
            return Contents(parts: parts, manifest: manifest)
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(.corrupt, "snapshot bundle directory cut short")
        }
    }

    /// Opens a bundle file for chunked reading (downloads); `crc32c` is the whole file's
    /// CRC-32C, read from its footer.
    public static func open(path: String) throws(StorageError) -> (reader: SnapshotFileReader, crc32c: UInt32) {
        let file = try DurableFile(path: path, create: false)
        let size = try file.size()
        guard size >= headerBytes + footerBytes else { throw StorageError(.corrupt, "snapshot bundle too short", path: path) }
        let tail = try file.read(count: 4, at: size - 4)
        let stored = tail.reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return (try SnapshotFileReader(file: file), CRC32C.checksum(WALFormat.littleEndian(stored), continuing: stored))
    }

    /// Writes a bundle to a temporary file beside `path`, part by part; `finish` writes the
    /// directory, syncs and renames it to `path`, so a bundle under its final name is always
    /// complete. A writer dropped without `finish` leaves only the temporary file (`discard`
    /// removes it; names ending in `.partial` are never listed). One task uses a writer at a
    /// time (its calls are serialised by the owner, as `SnapshotFileReader`'s are).
    public final class Writer: @unchecked Sendable {
        public let path: String
        private let temporary: String
        private let file: DurableFile
        private var offset = SnapshotBundle.headerBytes
        private var parts: [Part] = []
        /// The open part: where it starts, its CRC-32C so far, and the file's CRC-32C before it.
        private var current: (start: Int, crc: UInt32, fileCRCBefore: UInt32)?
        /// CRC-32C of every byte written so far.
        private var fileCRC: UInt32 = 0

        public init(path: String) throws(StorageError) {
            self.path = path
            temporary = path + ".partial"
            let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
            try AtomicFile.createDirectory(directory)
            file = try DurableFile(path: temporary, create: true)
            try file.truncate(to: 0)
            var header = BinaryWriter()
            header.u32(SnapshotBundle.version)
            header.u32(0)
            try file.write(SnapshotBundle.magic + header.bytes, at: 0)
            fileCRC = CRC32C.checksum(SnapshotBundle.magic + header.bytes)
        }

        /// Starts the next part.
        public func beginPart() {
            precondition(current == nil, "a part is open")
            current = (offset, 0, fileCRC)
        }

        /// Drops the open part's bytes (a transfer that failed, to be fetched again).
        public func abortPart() {
            guard let open = current else { return }
            offset = open.start
            fileCRC = open.fileCRCBefore
            current = nil
        }

        /// Appends bytes to the open part.
        public func append(_ bytes: [UInt8]) throws(StorageError) {
            guard let open = current else { preconditionFailure("no part is open") }
            try file.write(bytes, at: offset)
            offset += bytes.count
            current = (open.start, CRC32C.checksum(bytes, continuing: open.crc), open.fileCRCBefore)
            fileCRC = CRC32C.checksum(bytes, continuing: fileCRC)
        }

        /// Ends the open part; returns where it lies and its checksum.
        @discardableResult
        public func endPart() -> Part {
            guard let open = current else { preconditionFailure("no part is open") }
            let part = Part(offset: open.start, sizeBytes: offset - open.start, crc32c: open.crc)
            parts.append(part)
            current = nil
            return part
        }

        /// Writes the directory and footer, syncs, and gives the file its final name. Returns
        /// the file's size and its CRC-32C as a whole (what a download's trailer carries).
        public func finish(manifest: [UInt8]) throws(StorageError) -> (sizeBytes: Int, crc32c: UInt32) {
            precondition(current == nil, "a part is open")
            var directory = BinaryWriter()
            directory.u32(UInt32(parts.count))
            for part in parts {
                directory.u64(UInt64(part.offset))
                directory.u64(UInt64(part.sizeBytes))
                directory.u32(part.crc32c)
            }
            directory.u8s(manifest)
            var footer = BinaryWriter()
            footer.u64(UInt64(offset))
            footer.u32(UInt32(directory.bytes.count))
            footer.u32(CRC32C.checksum(directory.bytes))
            var tail = directory.bytes + footer.bytes + SnapshotBundle.endMagic
            let crc = CRC32C.checksum(tail, continuing: fileCRC)
            tail += WALFormat.littleEndian(crc)
            try file.write(tail, at: offset)
            let size = offset + tail.count
            // An aborted part may have left bytes beyond the end.
            try file.truncate(to: size)
            try file.sync()
            try AtomicFile.rename(temporary, to: path)
            return (size, CRC32C.checksum(WALFormat.littleEndian(crc), continuing: crc))
        }

        /// Removes the temporary file (a bundle that will not be finished).
        public func discard() {
            try? AtomicFile.removeTree(temporary)
        }
    }
}
