import Checksums
import RPC
import Storage
import VectorDatabase
import Wire

/// The snapshot RPCs: create, list, download (chunked, with size and CRC-32C in the last
/// chunk) and restore (from one of this collection's snapshots or an uploaded file).
extension VectorService {
    func registerSnapshots(into router: inout RPCRouter) {
        let service = self
        router.unary(Self.name, "CreateSnapshot", RuvectorV1.CreateSnapshotRequest.self) { request, context, _ in
            if let sharding = service.sharding, service.catalog.get(request.collection) == nil {
                guard case .sharded(let collection)? = try await service.clusterCollection(request.collection, context, sharding) else {
                    throw RPCError(.notFound, "collection \(MessageText.quoted(request.collection)) does not exist; create it with CreateCollection")
                }
                return try await service.createClusterSnapshot(collection, context, sharding)
            }
            let durable = try service.collection(request.collection)
            let info = try await service.run(.background, context, "the snapshot") { _ in try durable.snapshot() }
            return Self.snapshotInfo(info, collection: request.collection)
        }
        router.unary(Self.name, "ListSnapshots", RuvectorV1.ListSnapshotsRequest.self) { request, context, _ in
            if let sharding = service.sharding, service.catalog.get(request.collection) == nil {
                // A cluster's snapshots of a collection outlive it (they are its backups): listed
                // whether or not the collection exists now.
                if context.requestMetadata[ShardedCollections.localSnapshotsHeader] != nil {
                    try VectorMapping.checkCollectionName(request.collection)
                    return RuvectorV1.ListSnapshotsResponse(snapshots: try await service.run(.background, context, "ListSnapshots") { _ in
                        try service.localClusterSnapshots(request.collection, sharding)
                    })
                }
                let infos = try await service.clusterSnapshots(request.collection, context, sharding)
                if infos.isEmpty, try await service.clusterCollection(request.collection, context, sharding) == nil {
                    throw RPCError(.notFound, "collection \(MessageText.quoted(request.collection)) does not exist and has no cluster snapshots")
                }
                return RuvectorV1.ListSnapshotsResponse(snapshots: infos)
            }
            let durable = try service.collection(request.collection)
            let infos = try await service.run(.background, context, "ListSnapshots") { _ in try durable.listSnapshots() }
            return RuvectorV1.ListSnapshotsResponse(snapshots: infos.map { Self.snapshotInfo($0, collection: request.collection) })
        }
        router.serverStreaming(Self.name, "DownloadSnapshot", RuvectorV1.DownloadSnapshotRequest.self, RuvectorV1.FileChunk.self) { request, writer, context in
            try await service.download(request, to: writer, context: context)
        }
        router.clientStreaming(Self.name, "RestoreSnapshot", RuvectorV1.RestoreSnapshotRequest.self, RuvectorV1.CollectionInfo.self) { requests, context, _ in
            try await service.restore(requests, context: context)
        }
    }

    static func snapshotInfo(_ info: SnapshotInfo, collection: String) -> RuvectorV1.SnapshotInfo {
        RuvectorV1.SnapshotInfo(name: info.name, collection: collection, sizeBytes: UInt64(info.sizeBytes),
                                createdUnixMicros: info.createdUnixMicros, crc32c: info.fileCRC32C, walSequence: info.walSequence)
    }

    /// Each chunk is read on the background pool and sent before the next is read; a cancelled
    /// call stops at the next chunk (its send throws) and one chunk is held at a time.
    private func download(_ request: RuvectorV1.DownloadSnapshotRequest, to writer: TypedWriter<RuvectorV1.FileChunk>,
                          context: ServerContext) async throws {
        let chunkBytes = request.chunkBytes == 0 ? 256 << 10 : Int(request.chunkBytes)
        guard (4 << 10)...(1 << 20) ~= chunkBytes else {
            throw RPCError(.invalidArgument, "chunk_bytes must be 4096..1048576 (0 means 256 KiB), got \(request.chunkBytes)")
        }
        if let sharding, catalog.get(request.collection) == nil, ClusterSnapshotName.node(of: request.name) != nil {
            try await downloadClusterSnapshot(request, chunkBytes: chunkBytes, to: writer, context: context, sharding)
            return
        }
        let durable = try collection(request.collection)
        guard SnapshotStore.isFileName(request.name) else {
            throw RPCError(.invalidArgument, "\(MessageText.quoted(request.name)) is not a snapshot name; ListSnapshots gives them")
        }
        let reader: SnapshotFileReader
        do {
            reader = try await run(.background, context, "DownloadSnapshot") { _ in try durable.openSnapshot(request.name) }
        } catch let error as RPCError where error.code == .notFound {
            throw RPCError(.notFound, "collection \(MessageText.quoted(request.collection)) has no snapshot \(MessageText.quoted(request.name)); ListSnapshots gives them")
        }
        try await send(reader, chunkBytes: chunkBytes, to: writer, context: context, work: "DownloadSnapshot")
    }

    /// Sends a snapshot file in chunks, the last with the file's size and CRC-32C. Each chunk
    /// is read on the background pool and sent before the next is read.
    func send(_ reader: SnapshotFileReader, chunkBytes: Int, to writer: TypedWriter<RuvectorV1.FileChunk>,
              context: ServerContext, work: String) async throws {
        var offset = 0
        var crc: UInt32 = 0
        repeat {
            let data = try await run(.background, context, work) { [offset] _ in try reader.read(offset: offset, count: chunkBytes) }
            crc = CRC32C.checksum(data, continuing: crc)
            var chunk = RuvectorV1.FileChunk(offset: UInt64(offset), data: data)
            offset += data.count
            if offset >= reader.size || data.isEmpty {
                chunk.trailer = RuvectorV1.FileTrailer(sizeBytes: UInt64(offset), crc32c: crc)
            }
            try await writer.send(chunk)
            if chunk.trailer != nil { return }
        } while true
    }

    /// Restore: the first message names the collection and the source; an upload's chunks
    /// follow in order, the last with the trailer. The file is checked (size, CRC-32C, then
    /// every section) before the collection is replaced.
    /// The upload is held in memory while it arrives (it is checked whole), charged to a call
    /// budget of its own limit (`maxSnapshotUploadBytes`) drawn from the server's memory.
    private func restore(_ requests: TypedRequests<RuvectorV1.RestoreSnapshotRequest>, context: ServerContext) async throws -> RuvectorV1.CollectionInfo {
        let upload = work.callBudget(work: "the snapshot upload", limitBytes: limits.maxSnapshotUploadBytes + (1 << 20))
        defer { upload.close() }
        var target: String?
        var file: [UInt8] = []
        var trailer: RuvectorV1.FileTrailer?
        var fromName: String?
        for try await request in requests {
            if let target, !request.collection.isEmpty, request.collection != target {
                throw RPCError(.invalidArgument, "every RestoreSnapshot message restores one collection: "
                    + "\(MessageText.quoted(target)), then \(MessageText.quoted(request.collection))")
            }
            if target == nil {
                // The first message names the collection: refused before a byte of the upload is taken in.
                try VectorMapping.checkCollectionName(request.collection)
                target = request.collection
            }
            guard fromName == nil, trailer == nil else {
                throw RPCError(.invalidArgument, "nothing may follow a snapshot_name or the chunk carrying the trailer")
            }
            switch request.source {
            case .snapshotName(let name)?:
                guard file.isEmpty else { throw RPCError(.invalidArgument, "snapshot_name cannot follow uploaded chunks") }
                fromName = name
            case .chunk(let chunk)?:
                guard chunk.offset == UInt64(file.count) else {
                    throw RPCError(.invalidArgument, "chunk at offset \(chunk.offset) but \(file.count) bytes were received; send chunks in order")
                }
                guard file.count + chunk.data.count <= limits.maxSnapshotUploadBytes else {
                    throw RPCError(.resourceExhausted, "the upload exceeds the limit of \(limits.maxSnapshotUploadBytes) bytes (vectorLimits.maxSnapshotUploadBytes)")
                }
                try Self.mapped { try upload.charge(chunk.data.count) }
                file += chunk.data
                trailer = chunk.trailer
            case nil:
                throw RPCError(.invalidArgument, "each message needs a snapshot_name or a chunk")
            }
        }
        guard let target else { throw RPCError(.invalidArgument, "the stream was empty; the first message names the collection and the source") }
        if let sharding, catalog.get(target) == nil {
            // On a cluster: a cluster snapshot (uploaded or by name) or a single server's
            // snapshot file re-creates the collection sharded.
            if let fromName {
                let bytes = try await clusterSnapshotBytes(target, name: fromName, upload: upload, context, sharding)
                return try await restoreClusterSnapshot(bytes, as: target, context, sharding)
            }
            try Self.checkUpload(file, trailer: trailer)
            return try await restoreClusterSnapshot(file, as: target, context, sharding)
        }
        if let fromName {
            let durable = try collection(target)
            guard SnapshotStore.isFileName(fromName) else {
                throw RPCError(.invalidArgument, "\(MessageText.quoted(fromName)) is not a snapshot name; ListSnapshots gives them")
            }
            file = try await run(.background, context, "RestoreSnapshot") { _ in
                let reader = try durable.openSnapshot(fromName)
                try upload.charge(reader.size)
                return try reader.read(offset: 0, count: max(1, reader.size))
            }
        } else {
            try Self.checkUpload(file, trailer: trailer)
            if SnapshotBundle.isBundle(file) {
                return try await restoreClusterSnapshotOnSingleServer(file, as: target, context)
            }
        }
        let bytes = file
        let catalog = self.catalog
        return try await run(.background, context, "RestoreSnapshot") { _ in try VectorMapping.info(try catalog.restore(target, snapshotFile: bytes)) }
    }

    /// Checks an upload against the trailer that ended it (size and CRC-32C of the whole file).
    static func checkUpload(_ file: [UInt8], trailer: RuvectorV1.FileTrailer?) throws {
        guard let trailer else { throw RPCError(.invalidArgument, "the upload ended without the chunk carrying the trailer (size and CRC-32C)") }
        guard trailer.sizeBytes == UInt64(file.count) else {
            throw RPCError(.dataLoss, "the trailer says \(trailer.sizeBytes) bytes but \(file.count) arrived")
        }
        guard CRC32C.checksum(file) == trailer.crc32c else {
            throw RPCError(.dataLoss, "the uploaded bytes do not match the trailer's CRC-32C; upload again")
        }
    }
}
