import Checksums
import ClusterEngine
import ClusterNode
import RPC
import Storage
import Synchronization
import VectorDatabase
import VectorEngine
import Wire
import WorkControl

/// Snapshots of a sharded collection (a cluster snapshot): one snapshot per shard, each taken
/// on the shard's primary (`TransferShard`, which snapshots the primary's copy and streams
/// it), assembled by the node that took the call into one `SnapshotBundle` file under
/// `<data dir>/cluster-snapshots/<collection>/`, with a `ClusterSnapshotManifest`. The file is
/// written under a temporary name and renamed once every shard is in it: a snapshot that lost
/// a shard on the way is never listed.
///
/// Restore validates the whole file (checksums, manifest bounds, every shard's snapshot decoded
/// in a staging folder) before anything is created, then creates the collection through the
/// cluster's normal path (placement in the Raft log, the cluster's replication factor) and
/// writes every point through the normal write path: each point goes to its shard's primary and
/// reaches the replicas by replication. That re-indexes the points (slower than installing the
/// shards' files) but needs no second way of filling a copy, and it is the same code whatever
/// the placement or the replication factor is now.
extension VectorService {
    /// Points per write while restoring.
    static let restoreBatchPoints = 256

    private func snapshotFolder(_ collection: String, _ sharding: ShardedCollections) -> String {
        sharding.snapshotDirectory + "/" + collection
    }

    // MARK: Create

    /// Takes a cluster snapshot of `collection`, shard by shard, on each shard's primary.
    func createClusterSnapshot(_ collection: ClusterMetadata.Collection, _ context: ServerContext,
                               _ sharding: ShardedCollections) async throws -> RuvectorV1.SnapshotInfo {
        let node = try sharding.node()
        let created = DurabilityOptions.unixMicros()
        let name = ClusterSnapshotName.make(createdUnixMicros: created, node: node.id)
        let path = snapshotFolder(collection.name, sharding) + "/" + name
        let writer = try await run(.background, context, "the cluster snapshot") { _ in try SnapshotBundle.Writer(path: path) }
        do {
            var shards: [ClusterSnapshotManifest.Shard] = []
            for number in collection.shards.indices {
                shards.append(try await snapshotShard(collection, UInt32(number), into: writer, context, sharding))
            }
            let manifest = ClusterSnapshotManifest(collection: collection.name, createdUnixMicros: created, node: node.id,
                                                   request: collection.request, dimension: collection.dimension,
                                                   metric: collection.metric, replicationFactor: collection.replicationFactor,
                                                   shards: shards)
            let (size, crc) = try await run(.background, context, "the cluster snapshot") { _ in try writer.finish(manifest: manifest.encoded) }
            return RuvectorV1.SnapshotInfo(name: name, collection: collection.name, sizeBytes: UInt64(size),
                                           createdUnixMicros: created, crc32c: crc, walSequence: 0)
        } catch {
            writer.discard()
            throw error
        }
    }

    /// Appends shard `number`'s snapshot, taken on its primary, as the writer's next part;
    /// retries while the shard's primary changes (a failover), then fails naming the shard.
    private func snapshotShard(_ collection: ClusterMetadata.Collection, _ number: UInt32, into writer: SnapshotBundle.Writer,
                               _ context: ServerContext, _ sharding: ShardedCollections) async throws -> ClusterSnapshotManifest.Shard {
        let name = collection.name
        var attempt = 0
        while true {
            attempt += 1
            // The same collection, not one deleted and made again under its name meanwhile.
            guard let now = sharding.sharded(name), now.createdIndex == collection.createdIndex, let shard = now.shard(number) else {
                throw RPCError(.aborted, "collection \(MessageText.quoted(name)) was deleted during its snapshot")
            }
            writer.beginPart()
            do {
                let (sequence, epoch, snapshotName) = try await watchingPrimary(shard, of: ShardStore.ShardID(name, number), sharding) { call in
                    try await self.fetchShardSnapshot(ShardStore.ShardID(name, number), primary: shard.primary, into: writer,
                                                      call: call, context, sharding)
                }
                let part = writer.endPart()
                return ClusterSnapshotManifest.Shard(snapshotName: snapshotName, sizeBytes: UInt64(part.sizeBytes), crc32c: part.crc32c,
                                                     walSequence: sequence, epoch: epoch, node: shard.primary)
            } catch let error as RPCError where [.unavailable, .deadlineExceeded, .dataLoss].contains(error.code) {
                writer.abortPart()
                // Longer than a failover (1.5-2 s): a primary killed mid-snapshot is replaced.
                guard attempt < 12, !(context.deadline.map { $0 <= .now } ?? false) else {
                    throw RPCError(.unavailable, "shard \(number) of \(MessageText.quoted(name)) could not be snapshotted on its primary "
                        + "(node \(shard.primary)): \(error.message); no snapshot was recorded, retry")
                }
                try await Task.sleep(for: .milliseconds(100 * min(attempt, 5)))
            } catch {
                writer.abortPart()
                throw error
            }
        }
    }

    /// Runs `fetch` while watching the shard map: when the shard's primary or epoch changes (the
    /// leader replaced a primary that died, paused or was cut off), the transfer from the old
    /// one is cancelled and UNAVAILABLE thrown, for the caller to retry on the new primary,
    /// rather than waiting on a node that may never answer.
    private func watchingPrimary<T: Sendable>(_ shard: ClusterMetadata.Shard, of id: ShardStore.ShardID, _ sharding: ShardedCollections,
                                              _ fetch: @escaping @Sendable (PendingCall) async throws -> T) async throws -> T {
        let call = PendingCall()
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                do { return try await fetch(call) } catch where call.isCancelled {
                    throw RPCError(.unavailable, "the primary of shard \(id) changed during its snapshot (node \(shard.primary) left it)")
                }
            }
            group.addTask {
                while true {
                    try await Task.sleep(for: .milliseconds(100))
                    let now = sharding.sharded(id.collection)?.shard(id.number)
                    if now?.primary != shard.primary || now?.epoch != shard.epoch {
                        call.cancel()
                        throw RPCError(.unavailable, "the primary of shard \(id) changed during its snapshot (node \(shard.primary) at epoch "
                            + "\(shard.epoch), now \(now.map { "node \($0.primary) at epoch \($0.epoch)" } ?? "none"))")
                    }
                }
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            throw RPCError(.internal, "the snapshot of shard \(id) ended without a result")
        }
    }

    /// One shard's snapshot, on this node when it is the primary, else by `TransferShard` from
    /// the primary; the bytes go into the writer's open part. Returns the snapshot's WAL
    /// sequence, the primary's epoch and the snapshot's name.
    private func fetchShardSnapshot(_ id: ShardStore.ShardID, primary: NodeID, into writer: SnapshotBundle.Writer, call pending: PendingCall,
                                    _ context: ServerContext, _ sharding: ShardedCollections) async throws -> (UInt64, UInt64, String) {
        let node = try sharding.node()
        if primary == node.id {
            let (shard, local) = try await sharding.primary(id, epoch: nil, within: ClusterMapping.timeout(context, cap: .seconds(1)))
            let durable = local.durable
            let (info, reader) = try await run(.background, context, "the cluster snapshot") { _ in
                let info = try durable.snapshot()
                return (info, try durable.openSnapshot(info.name))
            }
            var offset = 0
            while offset < reader.size {
                let read = try await run(.background, context, "the cluster snapshot") { [offset] _ in
                    let data = try reader.read(offset: offset, count: 1 << 20)
                    try writer.append(data)
                    return data.count
                }
                guard read > 0 else { throw RPCError(.dataLoss, "shard \(id)'s snapshot file ended early") }
                offset += read
            }
            return (info.walSequence, shard.epoch, info.name)
        }
        let channel = try await node.channel(to: primary)
        let call = try await channel.makeCall(path: "/ruvector.v1.ClusterService/TransferShard", timeout: ClusterMapping.timeout(context, cap: .seconds(600)))
        defer { call.cancel() }
        guard pending.set(call) else { throw RPCError(.unavailable, "the snapshot of shard \(id) was cancelled (its primary changed)") }
        var received = 0
        var crc: UInt32 = 0
        var trailer: RuvectorV1.FileTrailer?
        do {
            try await call.send(RuvectorV1.TransferShardRequest(collection: id.collection, shard: id.number, chunkBytes: 1 << 20).encoded())
            call.closeSend()
            for try await message in call.responses {
                let chunk = try RuvectorV1.FileChunk(decoding: message)
                guard chunk.offset == UInt64(received) else {
                    throw RPCError(.dataLoss, "shard \(id)'s snapshot chunk at offset \(chunk.offset), expected \(received)")
                }
                try await run(.background, context, "the cluster snapshot") { _ in try writer.append(chunk.data) }
                crc = CRC32C.checksum(chunk.data, continuing: crc)
                received += chunk.data.count
                if let last = chunk.trailer { trailer = last }
            }
        } catch let error as RPCError {
            throw error
        } catch {
            throw RPCError(.unavailable, "node \(primary) (primary of shard \(id)) cannot be reached: \(error)")
        }
        let result = await call.result()
        guard let trailer, trailer.sizeBytes == UInt64(received), trailer.crc32c == crc else {
            throw RPCError(.dataLoss, "the snapshot of shard \(id) from node \(primary) is incomplete or failed its CRC check")
        }
        guard let sequence = result.trailingMetadata[ShardedCollections.snapshotSequenceTrailer].flatMap({ UInt64($0) }),
              let epoch = result.trailingMetadata[ShardedCollections.epochHeader].flatMap({ UInt64($0) }) else {
            throw RPCError(.failedPrecondition, "node \(primary) sent shard \(id)'s snapshot without its sequence and epoch (an older version?)")
        }
        return (sequence, epoch, SnapshotStore.fileName(walSequence: sequence))
    }

    /// The TransferShard call of a shard being snapshotted, cancelled from outside when the
    /// shard's primary changes (a call cancelled before it was made is refused when it is set).
    final class PendingCall: Sendable {
        private let state = Mutex<(call: ClientCall?, cancelled: Bool)>((nil, false))

        /// Records the call; false when it was cancelled already (the caller stops).
        func set(_ call: ClientCall) -> Bool {
            state.withLock { state in
                state.call = call
                return !state.cancelled
            }
        }

        var isCancelled: Bool { state.withLock { $0.cancelled } }

        func cancel() {
            let call = state.withLock { state in
                state.cancelled = true
                return state.call
            }
            call?.cancel()
        }
    }

    // MARK: List and download

    /// This node's cluster snapshots of `collection`, newest first (files that do not read
    /// back as complete bundles are left out).
    func localClusterSnapshots(_ collection: String, _ sharding: ShardedCollections) throws -> [RuvectorV1.SnapshotInfo] {
        let folder = snapshotFolder(collection, sharding)
        guard AtomicFile.exists(folder) else { return [] }
        var infos: [RuvectorV1.SnapshotInfo] = []
        for name in try AtomicFile.entries(folder) where ClusterSnapshotName.node(of: name) != nil {
            guard let opened = try? SnapshotBundle.open(path: folder + "/" + name),
                  let contents = try? SnapshotBundle.readDirectory(path: folder + "/" + name, maxParts: Int(ShardedCollections.maxShards)),
                  let manifest = try? ClusterSnapshotManifest(decoding: contents.manifest) else { continue }
            infos.append(RuvectorV1.SnapshotInfo(name: name, collection: collection, sizeBytes: UInt64(opened.reader.size),
                                                 createdUnixMicros: manifest.createdUnixMicros, crc32c: opened.crc32c, walSequence: 0))
        }
        return infos.sorted { ($0.createdUnixMicros, $0.name) > ($1.createdUnixMicros, $1.name) }
    }

    /// Every member's cluster snapshots of `collection`, newest first. A member that does not
    /// answer is left out (its snapshots are listed again once it is back).
    func clusterSnapshots(_ collection: String, _ context: ServerContext, _ sharding: ShardedCollections) async throws -> [RuvectorV1.SnapshotInfo] {
        try VectorMapping.checkCollectionName(collection)
        let node = try sharding.node()
        let service = self
        let members = node.metadata.metadata.members.keys.filter { $0 != node.id }
        var infos = try await run(.background, context, "ListSnapshots") { _ in try service.localClusterSnapshots(collection, sharding) }
        let remote = await withTaskGroup(of: [RuvectorV1.SnapshotInfo].self) { group in
            for member in members {
                group.addTask {
                    guard let channel = try? await node.channel(to: member),
                          let answered = try? await channel.unary("/\(Self.name)/ListSnapshots",
                                                                   request: RuvectorV1.ListSnapshotsRequest(collection: collection).encoded(),
                                                                   metadata: Metadata([(ShardedCollections.localSnapshotsHeader, "1")]),
                                                                   timeout: ClusterMapping.timeout(context, cap: .seconds(2))),
                          let answer = try? RuvectorV1.ListSnapshotsResponse(decoding: answered.response) else { return [] }
                    return answer.snapshots.filter { ClusterSnapshotName.node(of: $0.name) == member }
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        infos += remote
        return infos.sorted { ($0.createdUnixMicros, $0.name) > ($1.createdUnixMicros, $1.name) }
    }

    /// Streams cluster snapshot `request.name`: from this node's disk, or relayed from the node
    /// its name says holds it.
    func downloadClusterSnapshot(_ request: RuvectorV1.DownloadSnapshotRequest, chunkBytes: Int, to writer: TypedWriter<RuvectorV1.FileChunk>,
                                 context: ServerContext, _ sharding: ShardedCollections) async throws {
        try VectorMapping.checkCollectionName(request.collection)
        guard let holder = ClusterSnapshotName.node(of: request.name) else {
            throw RPCError(.invalidArgument, "\(MessageText.quoted(request.name)) is not a cluster snapshot name; ListSnapshots gives them")
        }
        let node = try sharding.node()
        if holder == node.id {
            let path = snapshotFolder(request.collection, sharding) + "/" + request.name
            let reader: SnapshotFileReader
            do {
                reader = try await run(.background, context, "DownloadSnapshot") { _ in try SnapshotBundle.open(path: path).reader }
            } catch {
                throw RPCError(.notFound, "node \(node.id) has no cluster snapshot \(MessageText.quoted(request.name)) of "
                    + "\(MessageText.quoted(request.collection)); ListSnapshots gives them")
            }
            try await send(reader, chunkBytes: chunkBytes, to: writer, context: context, work: "DownloadSnapshot")
            return
        }
        let call = try await remoteDownload(request, from: holder, context, sharding)
        defer { call.cancel() }
        do {
            for try await message in call.responses { try await writer.send(try RuvectorV1.FileChunk(decoding: message)) }
        } catch let error as RPCError {
            throw error
        } catch {
            throw RPCError(.unavailable, "node \(holder), which holds cluster snapshot \(MessageText.quoted(request.name)), cannot be reached: \(error)")
        }
    }

    private func remoteDownload(_ request: RuvectorV1.DownloadSnapshotRequest, from holder: NodeID, _ context: ServerContext,
                                _ sharding: ShardedCollections) async throws -> ClientCall {
        do {
            let channel = try await sharding.node().channel(to: holder)
            let call = try await channel.makeCall(path: "/\(Self.name)/DownloadSnapshot",
                                                  metadata: Metadata([(ShardedCollections.localSnapshotsHeader, "1")]),
                                                  timeout: ClusterMapping.timeout(context, cap: .seconds(3600)))
            try await call.send(request.encoded())
            call.closeSend()
            return call
        } catch let error as RPCError {
            throw error
        } catch {
            throw RPCError(.unavailable, "node \(holder), which holds cluster snapshot \(MessageText.quoted(request.name)), cannot be reached: \(error)")
        }
    }

    /// The whole file of cluster snapshot `name` of `collection` (for a restore by name), charged to `upload`.
    func clusterSnapshotBytes(_ collection: String, name: String, upload: CallBudget, _ context: ServerContext,
                              _ sharding: ShardedCollections) async throws -> [UInt8] {
        guard let holder = ClusterSnapshotName.node(of: name) else {
            throw RPCError(.invalidArgument, "\(MessageText.quoted(name)) is not a cluster snapshot name; ListSnapshots gives them")
        }
        if holder == (try sharding.node()).id {
            let path = snapshotFolder(collection, sharding) + "/" + name
            let limit = limits.maxSnapshotUploadBytes
            return try await run(.background, context, "RestoreSnapshot") { _ in
                guard let opened = try? SnapshotBundle.open(path: path) else {
                    throw RPCError(.notFound, "there is no cluster snapshot \(MessageText.quoted(name)) of \(MessageText.quoted(collection)); ListSnapshots gives them")
                }
                guard opened.reader.size <= limit else {
                    throw RPCError(.resourceExhausted, "cluster snapshot \(MessageText.quoted(name)) exceeds the restore limit of \(limit) bytes (vectorLimits.maxSnapshotUploadBytes)")
                }
                try upload.charge(opened.reader.size)
                return try opened.reader.read(offset: 0, count: max(1, opened.reader.size))
            }
        }
        let request = RuvectorV1.DownloadSnapshotRequest(collection: collection, name: name, chunkBytes: 1 << 20)
        let call = try await remoteDownload(request, from: holder, context, sharding)
        defer { call.cancel() }
        var file: [UInt8] = []
        var trailer: RuvectorV1.FileTrailer?
        do {
            for try await message in call.responses {
                let chunk = try RuvectorV1.FileChunk(decoding: message)
                guard file.count + chunk.data.count <= limits.maxSnapshotUploadBytes else {
                    throw RPCError(.resourceExhausted, "cluster snapshot \(MessageText.quoted(name)) exceeds the restore limit of "
                        + "\(limits.maxSnapshotUploadBytes) bytes (vectorLimits.maxSnapshotUploadBytes)")
                }
                try Self.mapped { try upload.charge(chunk.data.count) }
                file += chunk.data
                trailer = chunk.trailer ?? trailer
            }
        } catch let error as RPCError {
            throw error
        } catch {
            throw RPCError(.unavailable, "node \(holder), which holds cluster snapshot \(MessageText.quoted(name)), cannot be reached: \(error)")
        }
        guard let trailer, trailer.sizeBytes == UInt64(file.count), trailer.crc32c == CRC32C.checksum(file) else {
            throw RPCError(.dataLoss, "cluster snapshot \(MessageText.quoted(name)) arrived incomplete or failed its CRC check")
        }
        return file
    }

    // MARK: Restore

    /// The checked content of a cluster snapshot file: its manifest and each shard's snapshot
    /// installed (decoded, validated) in a staging folder, to read the points from.
    struct StagedClusterSnapshot: Sendable {
        let manifest: ClusterSnapshotManifest
        let shards: [DurableCollection]
        let folder: String

        func close() {
            for shard in shards { try? shard.close() }
            try? AtomicFile.removeTree(folder)
        }
    }

    /// The bundle's directory, checked (INVALID_ARGUMENT saying what is wrong otherwise).
    private static func bundleContents(_ bytes: [UInt8]) throws -> SnapshotBundle.Contents {
        do {
            return try SnapshotBundle.parse(bytes, maxParts: Int(ShardedCollections.maxShards))
        } catch {
            throw RPCError(.invalidArgument, "the file is not a valid cluster snapshot: \(error.message)")
        }
    }

    /// Validates `bytes` as a cluster snapshot and stages its shards under `folder`: bundle
    /// checksums, manifest bounds, the manifest agreeing with the bundle, each shard a valid
    /// snapshot of a collection of the manifest's dimension and metric.
    static func stageClusterSnapshot(_ bytes: [UInt8], in folder: String) throws -> StagedClusterSnapshot {
        let contents = try bundleContents(bytes)
        let manifest = try ClusterSnapshotManifest(decoding: contents.manifest)
        guard manifest.shards.count == contents.parts.count else {
            throw RPCError(.invalidArgument, "the manifest names \(manifest.shards.count) shards but the file holds \(contents.parts.count)")
        }
        for number in manifest.shards.indices {
            let shard = manifest.shards[number], part = contents.parts[number]
            guard shard.sizeBytes == UInt64(part.sizeBytes), shard.crc32c == part.crc32c else {
                throw RPCError(.invalidArgument, "shard \(number)'s size or CRC-32C in the manifest does not match the file")
            }
        }
        try AtomicFile.removeTree(folder)
        var staged: [DurableCollection] = []
        do {
            for (number, part) in contents.parts.enumerated() {
                let file = Array(bytes[part.offset..<(part.offset + part.sizeBytes)])
                let durable: DurableCollection
                do {
                    durable = try DurableCollection.install(snapshotFile: file, in: folder + "/\(number)", name: manifest.collection)
                } catch {
                    throw RPCError(.invalidArgument, "shard \(number) of the cluster snapshot is not a valid snapshot: \(Self.decodeProblem(error))")
                }
                staged.append(durable)
                let config = durable.collection.config
                guard config.dimension == Int(manifest.dimension), VectorMapping.metric(config.metric).rawValue == Int32(bitPattern: manifest.metric) else {
                    throw RPCError(.invalidArgument, "shard \(number)'s snapshot has dimension \(config.dimension) but the manifest says \(manifest.dimension) (or another metric)")
                }
            }
        } catch {
            StagedClusterSnapshot(manifest: manifest, shards: staged, folder: folder).close()
            throw error
        }
        return StagedClusterSnapshot(manifest: manifest, shards: staged, folder: folder)
    }

    /// What is wrong with a snapshot file that did not install, for the client: a storage
    /// error's message (never a path), else only that its sections do not decode (other errors'
    /// text is not vetted for the wire).
    private static func decodeProblem(_ error: any Error) -> String {
        (error as? StorageError)?.message ?? "its sections do not decode (\(type(of: error)))"
    }

    /// Validates a single server's snapshot file and stages it as a one-shard snapshot: how a
    /// collection moves from one server to a cluster (it is re-created with the cluster's default
    /// shard count and replication factor, and its points spread over the shards).
    static func stageSingleSnapshot(_ bytes: [UInt8], as target: String, in folder: String,
                                    limits: VectorServiceLimits) throws -> (StagedClusterSnapshot, RuvectorV1.CreateCollectionRequest) {
        try AtomicFile.removeTree(folder)
        let durable: DurableCollection
        do { durable = try DurableCollection.install(snapshotFile: bytes, in: folder + "/0", name: target) } catch {
            try? AtomicFile.removeTree(folder)
            throw RPCError(.invalidArgument, "the file is neither a cluster snapshot nor a valid snapshot: \(Self.decodeProblem(error))")
        }
        let info = VectorMapping.info(durable.collection.config)
        var create = RuvectorV1.CreateCollectionRequest(name: target, dimension: info.dimension, metric: info.metric)
        create.hnsw = info.hnsw
        create.quantization = info.quantization
        create.onDisk = info.onDisk
        create.onDiskGraph = info.onDiskGraph
        let manifest = ClusterSnapshotManifest(collection: target, createdUnixMicros: 0, node: 0, request: create.encoded(),
                                               dimension: info.dimension, metric: UInt32(bitPattern: info.metric.rawValue),
                                               replicationFactor: 1, shards: [])
        return (StagedClusterSnapshot(manifest: manifest, shards: [durable], folder: folder), create)
    }

    /// Re-creates `target` on the cluster from a cluster snapshot file (or a single server's
    /// snapshot file): checked and staged first, then created (placement through the Raft
    /// log), then filled through the normal write path. A failure after the creation deletes
    /// the half-filled collection again.
    func restoreClusterSnapshot(_ bytes: [UInt8], as target: String, _ context: ServerContext,
                                _ sharding: ShardedCollections) async throws -> RuvectorV1.CollectionInfo {
        guard let cluster else { throw RPCError(.internal, "a cluster restore on a server without a cluster") }
        if try await clusterCollection(target, context, sharding) != nil {
            throw RPCError(.failedPrecondition, "collection \(MessageText.quoted(target)) exists; on a cluster a snapshot restores into a new "
                + "collection: delete it first, or restore under another name")
        }
        let folder = sharding.snapshotDirectory + "/.restore-\(target)-\(DurabilityOptions.unixMicros())"
        let limits = self.limits
        let (staged, create) = try await run(.background, context, "RestoreSnapshot") { _ in
            if SnapshotBundle.isBundle(bytes) {
                let staged = try Self.stageClusterSnapshot(bytes, in: folder)
                do { return (staged, try staged.manifest.createRequest(named: target, limits: limits)) } catch {
                    staged.close()
                    throw error
                }
            }
            return try Self.stageSingleSnapshot(bytes, as: target, in: folder, limits: limits)
        }
        defer { staged.close() }
        try await cluster.create(create, context: context)
        do {
            guard let collection = sharding.sharded(target) else {
                throw RPCError(.aborted, "collection \(MessageText.quoted(target)) was deleted while it was restored")
            }
            var written: UInt64 = 0
            for durable in staged.shards {
                var cursor: Int?
                repeat {
                    let page = try await run(.background, context, "RestoreSnapshot") { [cursor] bounds in
                        try durable.collection.scroll(after: cursor, limit: Self.restoreBatchPoints, cancellation: bounds.cancellation)
                    }
                    let points = page.points.map { point in
                        var wire = RuvectorV1.PointStruct()
                        wire.id = VectorMapping.pointId(durable.key(point.id))
                        wire.vector = RuvectorV1.Vector(values: point.vector)
                        wire.payload = VectorMapping.structure(point.payload)
                        return wire
                    }
                    if !points.isEmpty {
                        written += try await shardedUpsert(RuvectorV1.UpsertRequest(collection: target, points: points), collection,
                                                           context, sharding).pointsAffected
                    }
                    cursor = page.next
                } while cursor != nil
            }
            // The points written, every one acknowledged (a count read back from the copies
            // could miss some still on their way to a replica).
            var info = try await clusterInfo(create, context: context)
            info.pointsCount = written
            return info
        } catch {
            _ = try? await cluster.delete(target, context: context)
            throw error
        }
    }

    /// A cluster snapshot restored on a single server: every shard's points merged into one
    /// collection of the snapshot's configuration, built aside, snapshotted, and swapped in as an
    /// uploaded snapshot is (so it replaces or creates `target` as a single restore does). The
    /// merged snapshot is held in memory once more while it is swapped in.
    func restoreClusterSnapshotOnSingleServer(_ bytes: [UInt8], as target: String, _ context: ServerContext) async throws -> RuvectorV1.CollectionInfo {
        let catalog = self.catalog, limits = self.limits
        let folder = try Self.mapped { try catalog.stagingDirectory(for: target) }
        return try await run(.background, context, "RestoreSnapshot") { bounds in
            try? AtomicFile.removeTree(folder)
            defer { try? AtomicFile.removeTree(folder) }
            let staged = try Self.stageClusterSnapshot(bytes, in: folder + "/shards")
            defer { staged.close() }
            let config = try VectorMapping.config(try staged.manifest.createRequest(named: target, limits: limits), limits: limits)
            let merged = try DurableCollection.create(in: folder + "/merged", config: config)
            do {
                for durable in staged.shards {
                    var cursor: Int?
                    repeat {
                        let page = try durable.collection.scroll(after: cursor, limit: Self.restoreBatchPoints, cancellation: bounds.cancellation)
                        _ = try merged.upsert(keyed: page.points.map {
                            DurableCollection.KeyedPoint(key: durable.key($0.id), vector: $0.vector, payload: $0.payload)
                        })
                        cursor = page.next
                    } while cursor != nil
                }
                let info = try merged.snapshot()
                let reader = try merged.openSnapshot(info.name)
                try bounds.memory.charge(reader.size)
                let file = try reader.read(offset: 0, count: max(1, reader.size))
                try merged.close()
                return try VectorMapping.info(try catalog.restore(target, snapshotFile: file))
            } catch {
                try? merged.close()
                throw error
            }
        }
    }
}
