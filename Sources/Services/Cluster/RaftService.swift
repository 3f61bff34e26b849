import ClusterEngine
import ClusterNode
import RPC
import Synchronization
import Wire

/// `ruvector.v1.RaftService`: node-to-node Raft traffic into this node's `ClusterNode`.
/// Messages are checked (known kinds, entries in sequence, addressed to this node) before the
/// engine sees them; snapshots are assembled in bounded memory.
struct RaftService: RPCService {
    static let name = "ruvector.v1.RaftService"
    let node: ClusterNode
    /// Checks forwarded commands as the proposing service would.
    let validate: @Sendable (ClusterMetadata.Command) throws -> Void
    let snapshots = SnapshotAssembly()
    /// Peers' Send streams, ended when the node stops (they never end on their own).
    let inbound = InboundStreams()

    /// Refuses a call whose TLS certificate does not prove it comes from a node of this cluster.
    static func checkCaller(_ context: ServerContext, node: ClusterNode) throws {
        guard let role = node.options.requiredPeerRole, !context.peerRoles.contains(role) else { return }
        throw RPCError(.permissionDenied, "RaftService is for the cluster's nodes: present a node certificate signed by the cluster CA")
    }

    func register(into router: inout RPCRouter) {
        let node = self.node
        let snapshots = self.snapshots
        let inbound = self.inbound
        let validate = self.validate
        // On the connection's event loop, not the concurrent pool: under a write flood the pool's
        // queue is long (decoding, forwarding, replication streams), and heartbeats queued behind
        // it for an election timeout moved the leadership (4-8 times a run in the replication
        // bench's overload; 0-1 since). Each step is short: decode, check, hand to the Raft loop.
        router.clientStreaming(Self.name, "Send", RuvectorV1.RaftBatch.self, RuvectorV1.RaftSendSummary.self,
                               placement: .connectionLoop) { batches, context, _ in
            try Self.checkCaller(context, node: node)
            return try await inbound.run(on: context.taskExecutor) { try await Self.step(batches, into: node) }
        }
        router.bidirectional(Self.name, "InstallSnapshot", RuvectorV1.InstallSnapshotRequest.self,
                             RuvectorV1.InstallSnapshotResponse.self) { requests, responses, context in
            try Self.checkCaller(context, node: node)
            var iterator = requests.makeAsyncIterator()
            guard let header = try await iterator.next() else { return }
            guard header.to == node.id, header.leaderId != 0, header.totalBytes <= SnapshotAssembly.maxBytes else {
                throw RPCError(.invalidArgument, "snapshot header for node \(header.to) of \(header.totalBytes) bytes refused by node \(node.id) (at most \(SnapshotAssembly.maxBytes) bytes)")
            }
            let key = SnapshotAssembly.Key(leader: header.leaderId, index: header.lastIncludedIndex, term: header.lastIncludedTerm)
            try await responses.send(RuvectorV1.InstallSnapshotResponse(term: node.status.term, nextOffset: UInt64(snapshots.resume(key))))
            while let chunk = try await iterator.next() {
                guard SnapshotAssembly.Key(leader: chunk.leaderId, index: chunk.lastIncludedIndex, term: chunk.lastIncludedTerm) == key else {
                    throw RPCError(.invalidArgument, "a snapshot stream carries one snapshot")
                }
                let data = try snapshots.append(key, offset: chunk.offset, chunk.data, total: header.totalBytes)
                guard chunk.done else { continue }
                guard let data, data.count == Int(header.totalBytes) else {
                    throw RPCError(.invalidArgument, "the snapshot ended at \(chunk.offset + UInt64(chunk.data.count)) of \(header.totalBytes) bytes")
                }
                var message = Message(kind: .snapshot, from: header.leaderId, to: node.id, term: header.term)
                message.snapshot = ClusterEngine.Snapshot(index: header.lastIncludedIndex, term: header.lastIncludedTerm,
                                            configuration: Configuration(voters: Set(header.voters), learners: Set(header.learners)),
                                            data: data)
                node.receive([message])
                try await responses.send(RuvectorV1.InstallSnapshotResponse(term: node.status.term, nextOffset: header.totalBytes, done: true))
                return
            }
        }
        router.unary(Self.name, "Propose", RuvectorV1.ProposeRequest.self) { request, context, _ in
            try Self.checkCaller(context, node: node)
            let command: ClusterMetadata.Command
            do {
                command = try ClusterMetadata.decode(request.command)
            } catch {
                throw RPCError(.invalidArgument, "the proposal is not a metadata command: \(error)")
            }
            try validate(command)
            return try await ClusterMapping.mapped {
                let (index, term) = try await node.proposeForwarded(request.command, timeout: ClusterMapping.timeout(context))
                return RuvectorV1.ProposeResponse(index: index, term: term)
            }
        }
        router.unary(Self.name, "ReadIndex", RuvectorV1.ReadIndexRequest.self) { request, context, _ in
            try Self.checkCaller(context, node: node)
            return try await ClusterMapping.mapped {
                // Counted for the asking node: its primary's lease rests on these reads, and a
                // shard failover deposing it is fenced against them (`ReadFence`).
                let (index, members) = try await node.readIndexLocally(timeout: ClusterMapping.timeout(context), for: request.from)
                let status = node.status
                return RuvectorV1.ReadIndexResponse(index: index, term: status.term, leaderId: status.leader, progress: members.map {
                    RuvectorV1.MemberProgress(nodeId: $0.id, matchIndex: $0.matchIndex, lastSeenMillis: $0.lastSeenMillis, healthy: $0.healthy)
                })
            }
        }
    }
}

extension RaftService {
    /// Steps every batch of one peer's stream into the node, refusing malformed messages.
    fileprivate static func step(_ batches: TypedRequests<RuvectorV1.RaftBatch>, into node: ClusterNode) async throws -> RuvectorV1.RaftSendSummary {
        var stepped: UInt64 = 0
        for try await batch in batches {
            var messages: [Message] = []
            messages.reserveCapacity(batch.messages.count)
            for wire in batch.messages {
                do {
                    let message = try RaftWireMapping.message(wire)
                    guard message.to == node.id, message.from == batch.from else {
                        throw RPCError(.invalidArgument, "Raft message for node \(message.to) from \(message.from) on node \(node.id)'s stream from \(batch.from)")
                    }
                    messages.append(message)
                } catch let invalid as RaftWireMapping.Invalid {
                    throw RPCError(.invalidArgument, "invalid Raft message: \(invalid)")
                }
            }
            stepped += UInt64(messages.count)
            if !batch.fromAddress.isEmpty { node.learnAddress(batch.fromAddress, of: batch.from) }
            node.receive(messages)
        }
        return RuvectorV1.RaftSendSummary(messages: stepped)
    }
}

/// Long-lived inbound streams, each run in a task of its own so that stopping the node ends
/// them (a peer's stream otherwise lasts as long as the peer, and would hold a graceful
/// shutdown for its whole grace period). Once stopped, new streams are refused.
final class InboundStreams: Sendable {
    private let state = Mutex<(tasks: [UInt64: Task<RuvectorV1.RaftSendSummary, any Error>], next: UInt64, stopped: Bool)>(([:], 0, false))

    /// Runs `body` in a task of its own that prefers `executor` (nil: the concurrent pool).
    func run(on executor: (any TaskExecutor)?,
             _ body: @escaping @Sendable () async throws -> RuvectorV1.RaftSendSummary) async throws -> RuvectorV1.RaftSendSummary {
        let task = Task(executorPreference: executor) { try await body() }
        let key = state.withLock { state -> UInt64? in
            guard !state.stopped else { return nil }
            state.next += 1
            state.tasks[state.next] = task
            return state.next
        }
        guard let key else {
            task.cancel()
            throw RPCError(.unavailable, "this node is shutting down")
        }
        defer { _ = state.withLock { $0.tasks.removeValue(forKey: key) } }
        return try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
    }

    /// Ends every stream and refuses new ones.
    func stop() {
        let tasks = state.withLock { state in
            state.stopped = true
            return Array(state.tasks.values)
        }
        for task in tasks { task.cancel() }
    }
}

/// Snapshots being received, kept between streams so an interrupted transfer resumes where it
/// stopped. One partial snapshot per leader; the newest replaces older ones.
final class SnapshotAssembly: Sendable {
    struct Key: Hashable, Sendable {
        var leader: NodeID
        var index: UInt64
        var term: UInt64
    }

    /// The largest snapshot a node accepts.
    static let maxBytes: UInt64 = 256 << 20
    private let partial = Mutex<[NodeID: (key: Key, data: [UInt8])]>([:])

    /// Bytes already held of `key`'s snapshot (0 when none: older partials of that leader go).
    func resume(_ key: Key) -> Int {
        partial.withLock { partial in
            if let held = partial[key.leader], held.key == key { return held.data.count }
            partial[key.leader] = (key, [])
            return 0
        }
    }

    /// Appends a chunk at `offset` (which must be where the held bytes end); returns the whole
    /// snapshot once `total` bytes are held.
    func append(_ key: Key, offset: UInt64, _ chunk: [UInt8], total: UInt64) throws -> [UInt8]? {
        try partial.withLock { partial throws(RPCError) -> [UInt8]? in
            guard var held = partial[key.leader], held.key == key else {
                throw RPCError(.failedPrecondition, "no transfer of this snapshot is open; start again from its header")
            }
            guard offset == UInt64(held.data.count), UInt64(held.data.count + chunk.count) <= total else {
                throw RPCError(.invalidArgument, "snapshot chunk at \(offset) does not follow the \(held.data.count) bytes held (of \(total))")
            }
            held.data += chunk
            guard UInt64(held.data.count) == total else {
                partial[key.leader] = held
                return nil
            }
            partial[key.leader] = nil
            return held.data
        }
    }
}
