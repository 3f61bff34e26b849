import Checksums
import ClusterEngine
import ClusterNode
import RPC
import Storage
import Synchronization
import VectorDatabase
import Wire
import WorkControl

/// The node-to-node methods of `ClusterService` that carry shards: `Replicate` (a primary
/// streams its log to a replica), `TransferShard` (a snapshot of a shard for a copy that must
/// start over) and `ShardStatus` (what a node holds, for failover and `ruvector cluster shards`).
/// Replicate and TransferShard are for the cluster's nodes (with TLS, a node certificate).
enum ShardReplicationMethods {
    /// Records a primary sends beyond the replica's last acknowledgement before it waits.
    static let maxUnacknowledgedRecords: UInt64 = 4096
    /// Records read from the log per batch, and about their bytes.
    static let batchRecords = 256
    static let batchBytes = 1 << 20

    static func register(into router: inout RPCRouter, sharding: ShardedCollections, node: ClusterNode, service: VectorService) {
        let name = ClusterService.name
        router.bidirectional(name, "Replicate", RuvectorV1.ReplicationAck.self, RuvectorV1.ReplicationRecord.self) { acks, writer, context in
            try RaftService.checkCaller(context, node: node)
            try await replicate(acks, writer, sharding: sharding, node: node)
        }
        router.serverStreaming(name, "TransferShard", RuvectorV1.TransferShardRequest.self, RuvectorV1.FileChunk.self) { request, writer, context in
            try RaftService.checkCaller(context, node: node)
            try await transfer(request, writer, context: context, sharding: sharding, service: service)
        }
        router.unary(name, "ShardStatus", RuvectorV1.ShardStatusRequest.self) { request, context, _ in
            if !request.collection.isEmpty { try VectorMapping.checkCollectionName(request.collection) }
            return try await service.run(.search, context, "ShardStatus") { bounds in
                try status(request, sharding: sharding, node: node, cancellation: bounds.cancellation)
            }
        }
    }

    /// The primary's side of a replication stream.
    private static func replicate(_ acks: TypedRequests<RuvectorV1.ReplicationAck>, _ writer: TypedWriter<RuvectorV1.ReplicationRecord>,
                                  sharding: ShardedCollections, node: ClusterNode) async throws {
        // One task reads the whole request stream (it has a single consumer): the start, then
        // the acknowledgements, which reach the tracker through `acked` as they arrive.
        let acked = AckedSequence()
        let (starts, startReceived) = AsyncStream<RuvectorV1.ReplicationStart>.makeStream()
        let reading = Task {
            var iterator = acks.makeAsyncIterator()
            do {
                if let first = try await iterator.next(), case .start(let start)? = first.kind {
                    startReceived.yield(start)
                    startReceived.finish()
                    while let ack = try await iterator.next() {
                        guard case .appliedSequence(let sequence)? = ack.kind else { break }
                        acked.set(sequence)
                    }
                }
            } catch {}
            startReceived.finish()
            acked.close()
        }
        defer { reading.cancel() }
        var received = starts.makeAsyncIterator()
        guard let start = await received.next() else {
            throw RPCError(.invalidArgument, "a Replicate stream starts with ReplicationStart, then carries applied sequences")
        }
        try VectorMapping.checkCollectionName(start.collection)
        let id = ShardStore.ShardID(start.collection, start.shard)
        if let known = try sharding.node().metadata.metadata.collections[id.collection]?.shard(id.number),
           !known.replicas.contains(start.replicaNodeId), !known.incoming.contains(start.replicaNodeId) {
            throw RPCError(.failedPrecondition, "node \(start.replicaNodeId) holds no replica of shard \(id)")
        }
        let (shard, local) = try await sharding.primary(id, epoch: nil, within: .seconds(1))
        guard shard.replicas.contains(start.replicaNodeId) || shard.incoming.contains(start.replicaNodeId) else {
            throw RPCError(.failedPrecondition, "node \(start.replicaNodeId) holds no replica of shard \(id)")
        }
        guard start.epoch <= shard.epoch else {
            throw RPCError(.failedPrecondition, "the replica knows epoch \(start.epoch) of shard \(id); this primary is at \(shard.epoch)")
        }
        let durable = local.durable
        let resync = Metadata([(ShardFollower.resyncTrailer, "1")])
        let after = start.fromSequence == 0 ? 0 : start.fromSequence - 1
        let history = local.epochHistory
        guard history.isPrefix(lastSequence: after, lastEpoch: start.lastRecordEpoch, ownLastSequence: durable.lastSequence) else {
            throw RPCError(.failedPrecondition, "the replica's log of shard \(id) (through \(after), epoch \(start.lastRecordEpoch)) "
                + "is not a prefix of the primary's; it must be transferred again", trailingMetadata: resync)
        }
        if after + 1 < durable.firstRetainedSequence && after < durable.lastSequence {
            throw RPCError(.failedPrecondition, "the primary no longer holds the log of shard \(id) after \(after); "
                + "the replica must be transferred again", trailingMetadata: resync)
        }
        let tracker = sharding.replication.tracker(for: id, epoch: shard.epoch)
        let replica = start.replicaNodeId
        tracker.acknowledged(replica, through: after, primaryLast: durable.lastSequence)
        tracker.connected(replica, open: true)
        defer { tracker.connected(replica, open: false) }
        acked.start(from: after) { sequence in
            // A replica cannot have applied more than this log holds.
            let last = durable.lastSequence
            tracker.acknowledged(replica, through: min(sequence, last), primaryLast: last)
        }
        var sent = after
        while !acked.isClosed {
            try Task.checkCancellation()
            guard !sharding.replication.isStopped else { throw RPCError(.unavailable, "node \(node.id) is stopping") }
            // Still the primary at this epoch? (A promotion elsewhere ends the stream.)
            guard let current = try? sharding.node().metadata.metadata.collections[id.collection]?.shard(id.number),
                  current.primary == node.id, current.epoch == shard.epoch else {
                throw RPCError(.unavailable, "node \(node.id) is no longer the primary of shard \(id) at epoch \(shard.epoch)")
            }
            if sent >= acked.value + maxUnacknowledgedRecords {
                await acked.waitBeyond(sent - maxUnacknowledgedRecords, timeout: .milliseconds(200))
                continue
            }
            let records = try durable.logRecords(after: sent, maxRecords: batchRecords, maxBytes: batchBytes)
            if records.isEmpty {
                _ = await durable.waitForRecords(after: sent, timeout: .milliseconds(200))
                continue
            }
            // Timed from when the stream first sees them (moments after their append), not
            // from when their write returns (after the primary indexed them): the replicas' lag
            // in time counts from there.
            if let newest = records.last { tracker.logged(newest.sequence) }
            let starts = local.epochHistory
            for record in records {
                var check = [record.type]
                check += record.payload
                try await writer.send(RuvectorV1.ReplicationRecord(sequence: record.sequence, type: UInt32(record.type),
                                                                   payload: record.payload, crc32c: CRC32C.checksum(check),
                                                                   epoch: starts.epoch(of: record.sequence)))
                sent = record.sequence
            }
        }
    }

    /// A fresh snapshot of the shard, in chunks, with the epoch history in the trailers.
    private static func transfer(_ request: RuvectorV1.TransferShardRequest, _ writer: TypedWriter<RuvectorV1.FileChunk>,
                                 context: ServerContext, sharding: ShardedCollections, service: VectorService) async throws {
        try VectorMapping.checkCollectionName(request.collection)
        let chunkBytes = request.chunkBytes == 0 ? 256 << 10 : Int(request.chunkBytes)
        guard (4 << 10)...(1 << 20) ~= chunkBytes else {
            throw RPCError(.invalidArgument, "chunk_bytes must be 4096..1048576 (0 means 256 KiB), got \(request.chunkBytes)")
        }
        let id = ShardStore.ShardID(request.collection, request.shard)
        let (shard, local) = try await sharding.primary(id, epoch: nil, within: ClusterMapping.timeout(context, cap: .seconds(1)))
        let durable = local.durable
        let (info, reader) = try await service.run(.background, context, "TransferShard") { _ in
            let info = try durable.snapshot()
            return (info, try durable.openSnapshot(info.name))
        }
        try await service.send(reader, chunkBytes: chunkBytes, to: writer, context: context, work: "TransferShard")
        writer.setTrailingMetadata(Metadata([(ShardFollower.historyTrailer, ShardFollower.hex(local.epochHistory.through(info.walSequence).encoded)),
                                             (ShardedCollections.snapshotSequenceTrailer, "\(info.walSequence)"),
                                             (ShardedCollections.epochHeader, "\(shard.epoch)")]))
    }

    /// Node `target`'s copies (of `collection`; "" = all): answered here for this node, asked
    /// over the data connection otherwise; nil when it does not answer within `timeout`.
    static func ask(target: NodeID, collection: String = "", node: ClusterNode, sharding: ShardedCollections,
                    timeout: Duration = .milliseconds(500)) async -> RuvectorV1.ShardStatusResponse? {
        let request = RuvectorV1.ShardStatusRequest(collection: collection)
        if target == node.id { return try? status(request, sharding: sharding, node: node) }
        do {
            let channel = try await node.channel(to: target)
            let (bytes, _) = try await channel.unary("/ruvector.v1.ClusterService/ShardStatus", request: request.encoded(), timeout: timeout)
            return try RuvectorV1.ShardStatusResponse(decoding: bytes)
        } catch {
            return nil
        }
    }

    /// This node's copies.
    static func status(_ request: RuvectorV1.ShardStatusRequest, sharding: ShardedCollections, node: ClusterNode,
                       cancellation: CancellationSignal = .never) throws -> RuvectorV1.ShardStatusResponse {
        let metadata = node.metadata.metadata
        var shards: [RuvectorV1.LocalShardStatus] = []
        for local in sharding.store.list() where request.collection.isEmpty || local.collectionName == request.collection {
            let id = ShardStore.ShardID(local.collectionName, local.number)
            let shard = metadata.collections[local.collectionName]?.shard(local.number)
            let durable = local.durable
            // Sealed before the sequence is read: a sealed log's sequence is final.
            let sealed = sharding.sealedForHandoff(id, in: metadata, selfID: node.id)
            // Read before the count, so the count covers at least the records through it.
            let applied = durable.appliedSequence
            var entry = RuvectorV1.LocalShardStatus(collection: local.collectionName, shard: local.number,
                                                    primary: shard?.primary == node.id, epoch: shard?.epoch ?? 0,
                                                    lastSequence: durable.lastSequence, lastRecordEpoch: local.lastRecordEpoch,
                                                    points: UInt64(try durable.collection.count()), sealed: sealed,
                                                    appliedSequence: applied)
            if request.checksums {
                // Checksum, points and sequence of one moment (a replica indexes behind its log).
                let summary = try durable.contentSummary(cancellation: cancellation)
                entry.checksum = summary.checksum
                entry.points = UInt64(summary.points)
                entry.lastSequence = summary.lastSequence
                entry.appliedSequence = summary.lastSequence    // read with the apply queue drained
            }
            if let shard, shard.primary == node.id, let tracker = sharding.replication.existingTracker(for: id), tracker.epoch == shard.epoch {
                entry.replicas = tracker.progress(of: shard.replicas + shard.incoming, primaryLast: durable.lastSequence)
            }
            shards.append(entry)
        }
        return RuvectorV1.ShardStatusResponse(nodeId: node.id, shards: shards)
    }
}

/// The highest sequence a replica acknowledged on one stream, and whether its acks ended.
/// Acknowledgements reach `onAck` as they arrive (those before `start` are kept for it).
final class AckedSequence: Sendable {
    private struct State {
        var value: UInt64 = 0
        var closed = false
        var onAck: (@Sendable (UInt64) -> Void)?
    }
    private let state = Mutex(State())

    var value: UInt64 { state.withLock { $0.value } }
    var isClosed: Bool { state.withLock { $0.closed } }

    /// Starts passing acknowledgements to `onAck`, from `sequence` (the replica's start) on.
    func start(from sequence: UInt64, onAck: @escaping @Sendable (UInt64) -> Void) {
        let pending = state.withLock { state -> UInt64 in
            state.value = max(state.value, sequence)
            state.onAck = onAck
            return state.value
        }
        if pending > sequence { onAck(pending) }
    }

    func set(_ sequence: UInt64) {
        let onAck = state.withLock { state in
            state.value = max(state.value, sequence)
            return state.onAck
        }
        onAck?(sequence)
    }

    func close() { state.withLock { $0.closed = true } }

    /// Waits until the value passes `sequence`, the acks end, or `timeout` passes (polled every
    /// 2 ms: a replica this far behind is not waiting on this).
    func waitBeyond(_ sequence: UInt64, timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let done = state.withLock { $0.value > sequence || $0.closed }
            if done { return }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }
}
