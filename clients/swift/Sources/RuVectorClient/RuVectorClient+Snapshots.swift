#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Checksums
import RPC
import Wire

extension RuVectorClient {
    /// Writes a point-in-time snapshot of a collection into the server's data directory.
    @discardableResult
    public func createSnapshot(of collection: String) async throws(RuVectorClientError) -> SnapshotInfo {
        WireConversions.snapshot(try await unary("CreateSnapshot", RuvectorV1.CreateSnapshotRequest(collection: collection),
                                                 as: RuvectorV1.SnapshotInfo.self))
    }

    /// The snapshots of a collection, newest first.
    public func listSnapshots(of collection: String) async throws(RuVectorClientError) -> [SnapshotInfo] {
        try await unary("ListSnapshots", RuvectorV1.ListSnapshotsRequest(collection: collection),
                        as: RuvectorV1.ListSnapshotsResponse.self).snapshots.map(WireConversions.snapshot)
    }

    /// Downloads a snapshot file to `path`, streamed in chunks of `chunkBytes` (4 KiB...1 MiB).
    /// The file is written beside `path` first and renamed into place only when its size and
    /// CRC32C match the server's trailer; returns the number of bytes written.
    @discardableResult
    public func downloadSnapshot(_ name: String, of collection: String, to path: String,
                                 chunkBytes: Int = 256 << 10) async throws(RuVectorClientError) -> UInt64 {
        guard ((4 << 10)...(1 << 20)).contains(chunkBytes) else {
            throw RuVectorClientError(.invalidInput, "chunkBytes must be 4096...1048576, got \(chunkBytes)")
        }
        let partial = path + ".part"
        let file = try LocalFile(creating: partial)
        var committed = false
        defer {
            file.closeFile()
            if !committed { unlink(partial) }
        }
        let call = try await makeCall("DownloadSnapshot")
        var received: UInt64 = 0
        var crc: UInt32 = 0
        var trailer: RuvectorV1.FileTrailer?
        do {
            let request = RuvectorV1.DownloadSnapshotRequest(collection: collection, name: name, chunkBytes: UInt32(chunkBytes))
            try? await call.send(request.encoded())  // when this fails, the server's status below says why
            call.closeSend()
            for try await bytes in call.responses {
                let chunk = try RuvectorV1.FileChunk(decoding: bytes)
                guard trailer == nil else { throw RuVectorClientError(.badResponse, "the server sent a chunk after the trailer") }
                guard chunk.offset == received else {
                    throw RuVectorClientError(.dataLoss, "chunk at offset \(chunk.offset), expected \(received)")
                }
                try file.append(chunk.data)
                crc = CRC32C.checksum(chunk.data, continuing: crc)
                received += UInt64(chunk.data.count)
                trailer = chunk.trailer
            }
        } catch {
            call.cancel()
            throw RuVectorClientError.from(error)
        }
        guard let trailer else { throw RuVectorClientError(.dataLoss, "the download ended without a trailer after \(received) bytes") }
        guard trailer.sizeBytes == received, trailer.crc32c == crc else {
            throw RuVectorClientError(.dataLoss, "received \(received) bytes with CRC32C \(crc), the trailer says \(trailer.sizeBytes) bytes with CRC32C \(trailer.crc32c)")
        }
        try file.sync()
        guard rename(partial, path) == 0 else {
            throw RuVectorClientError(.fileError, "cannot rename \(partial) to \(path): \(String(cString: strerror(errno)))")
        }
        committed = true
        return received
    }

    /// Replaces a collection's content (creating it if absent) with one of its snapshots on the server.
    @discardableResult
    public func restoreSnapshot(named name: String, into collection: String) async throws(RuVectorClientError) -> CollectionInfo {
        let call = try await makeCall("RestoreSnapshot")
        // When the send fails the server has ended the call; its status is read by `finish`.
        try? await call.send(RuvectorV1.RestoreSnapshotRequest(collection: collection, source: .snapshotName(name)).encoded())
        return WireConversions.info(try await finish(call, "RestoreSnapshot", as: RuvectorV1.CollectionInfo.self))
    }

    /// Uploads a snapshot file (from `downloadSnapshot`) in chunks of `chunkBytes` and
    /// restores `collection` from it (created if absent). The last chunk carries the file's
    /// size and CRC32C, which the server checks before replacing anything.
    @discardableResult
    public func restoreSnapshot(fromFile path: String, into collection: String,
                                chunkBytes: Int = 256 << 10) async throws(RuVectorClientError) -> CollectionInfo {
        guard ((4 << 10)...(1 << 20)).contains(chunkBytes) else {
            throw RuVectorClientError(.invalidInput, "chunkBytes must be 4096...1048576, got \(chunkBytes)")
        }
        let file = try LocalFile(reading: path)
        defer { file.closeFile() }
        let call = try await makeCall("RestoreSnapshot")
        var offset: UInt64 = 0
        var crc: UInt32 = 0
        do {
            while true {
                let data = try file.readChunk(upTo: chunkBytes)
                crc = CRC32C.checksum(data, continuing: crc)
                var chunk = RuvectorV1.FileChunk(offset: offset, data: data)
                offset += UInt64(data.count)
                let last = data.count < chunkBytes
                if last { chunk.trailer = RuvectorV1.FileTrailer(sizeBytes: offset, crc32c: crc) }
                do {
                    try await call.send(RuvectorV1.RestoreSnapshotRequest(collection: collection, source: .chunk(chunk)).encoded())
                } catch {
                    break  // the server ended the call; its status is read below
                }
                if last { break }
            }
        } catch {
            call.cancel()
            throw RuVectorClientError.from(error)
        }
        return WireConversions.info(try await finish(call, "RestoreSnapshot", as: RuvectorV1.CollectionInfo.self))
    }
}

/// A local file read or written with POSIX calls, errors as `RuVectorClientError.fileError`.
final class LocalFile {
    private let descriptor: Int32
    private let path: String
    private var closed = false

    private static func failure(_ what: String, _ path: String) -> RuVectorClientError {
        RuVectorClientError(.fileError, "cannot \(what) \(path): \(String(cString: strerror(errno)))")
    }

    /// Creates (or truncates) a file for writing.
    init(creating path: String) throws(RuVectorClientError) {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw Self.failure("create", path) }
    }

    /// Opens an existing file for reading.
    init(reading path: String) throws(RuVectorClientError) {
        self.path = path
        descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw Self.failure("open", path) }
    }

    /// Writes all of `bytes` at the current position.
    func append(_ bytes: [UInt8]) throws(RuVectorClientError) {
        var done = 0
        while done < bytes.count {
            let written = bytes.withUnsafeBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return write(descriptor, base + done, buffer.count - done)
            }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw Self.failure("write", path) }
            done += written
        }
    }

    /// Reads up to `count` bytes; fewer only at the end of the file.
    func readChunk(upTo count: Int) throws(RuVectorClientError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = bytes.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return read(descriptor, base + filled, count - filled)
            }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { throw Self.failure("read", path) }
            if got == 0 { break }
            filled += got
        }
        bytes.removeLast(count - filled)
        return bytes
    }

    /// Flushes the file to disk.
    func sync() throws(RuVectorClientError) {
        guard fsync(descriptor) == 0 else { throw Self.failure("sync", path) }
    }

    /// Closes the descriptor (once).
    func closeFile() {
        guard !closed else { return }
        closed = true
        _ = close(descriptor)
    }
}
