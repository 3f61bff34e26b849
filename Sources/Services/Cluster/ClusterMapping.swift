import ClusterEngine
import ClusterNode
import RPC
import Wire

/// Cluster errors as gRPC statuses, and the node's state as a `ClusterState` message.
enum ClusterMapping {
    /// Trailing metadata keys naming the leader on a FAILED_PRECONDITION "not the leader".
    static let leaderIDKey = "ruvector-leader-id"
    static let leaderAddressKey = "ruvector-leader-address"

    /// Runs `body`, turning cluster errors into statuses a client can act on.
    static func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch { throw rpcError(error) }
    }

    static func rpcError(_ error: any Error) -> any Error {
        guard let error = error as? ClusterError else { return error }
        switch error.code {
        case .unavailable, .stopped: return RPCError(.unavailable, error.message)
        case .deadlineExceeded: return RPCError(.deadlineExceeded, error.message)
        case .failedPrecondition: return RPCError(.failedPrecondition, error.message)
        case .invalidArgument: return RPCError(.invalidArgument, error.message)
        case .notLeader(let leader, let address):
            var trailers = Metadata()
            trailers.add(leaderIDKey, "\(leader)")
            if let address { trailers.add(leaderAddressKey, address) }
            return RPCError(.failedPrecondition, error.message + (address.map { " at \($0): send it there" } ?? ""),
                            trailingMetadata: trailers)
        }
    }

    /// How long a cluster call may wait: its deadline, at most `cap`.
    static func timeout(_ context: ServerContext, cap: Duration = .seconds(5)) -> Duration {
        guard let deadline = context.deadline else { return cap }
        return min(cap, max(.zero, deadline - .now))
    }

    /// The state as `node` knows it; `members` is the leader's view (empty: unknown).
    static func state(_ node: ClusterNode, members view: [ClusterNode.MemberView], stale: Bool) -> RuvectorV1.ClusterState {
        let status = node.status
        let (metadata, applied) = node.metadata
        let views = Dictionary(view.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let leaderLast = views[status.leader]?.matchIndex ?? status.lastIndex
        let ids = Set(metadata.members.keys).union(status.voters).union(status.learners)
        let members = ids.sorted().map { id -> RuvectorV1.Member in
            let role: RuvectorV1.MemberRole = status.voters.contains(id) ? .voter : status.learners.contains(id) ? .learner : .unspecified
            var member = RuvectorV1.Member(nodeId: id, address: metadata.members[id]?.address ?? node.address(of: id) ?? "", role: role,
                                           capacityBytes: metadata.members[id]?.capacityBytes ?? 0)
            if let view = views[id] {
                member.healthy = view.healthy
                member.matchIndex = view.matchIndex
                member.lastSeenMillis = view.lastSeenMillis
                member.lagEntries = leaderLast > view.matchIndex ? leaderLast - view.matchIndex : 0
            }
            return member
        }
        let collections = metadata.collections.values.sorted { $0.name < $1.name }.map {
            RuvectorV1.CollectionMetadata(name: $0.name, dimension: $0.dimension, metric: RuvectorV1.Metric(rawValue: Int32(bitPattern: $0.metric)),
                                          createdIndex: $0.createdIndex)
        }
        let shards = metadata.collections.values.sorted { $0.name < $1.name }.flatMap { collection in
            collection.shards.enumerated().map { number, shard in
                RuvectorV1.ShardAssignment(collection: collection.name, shard: UInt32(number), primaryNodeId: shard.primary,
                                           replicaNodeIds: shard.replicas, epoch: shard.epoch, incomingNodeIds: shard.incoming,
                                           handoffNodeId: shard.handoff)
            }
        }
        return RuvectorV1.ClusterState(
            members: members, leaderId: status.leader, term: status.term, commitIndex: status.commitIndex, shards: shards,
            replicationFactor: metadata.settings.replicationFactor,
            replicationMode: RuvectorV1.ReplicationMode(rawValue: Int32(bitPattern: metadata.settings.replicationMode)),
            collections: collections, answeredBy: node.id, appliedIndex: applied, stale: stale)
    }
}
