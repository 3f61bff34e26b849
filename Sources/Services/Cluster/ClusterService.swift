import ClusterEngine
import ClusterNode
import RPC
import Storage
import Wire

/// `ruvector.v1.ClusterService`: the cluster's state and membership. GetState is linearizable
/// from any node (ReadIndex through the leader) unless `stale_ok`; Join, Leave and
/// TransferLeadership run on the leader, and a follower answers them with FAILED_PRECONDITION
/// naming the leader (`ruvector-leader-id`, `ruvector-leader-address` trailers), which the
/// Python and Swift clients follow.
struct ClusterService: RPCService {
    static let name = "ruvector.v1.ClusterService"
    let node: ClusterNode
    let sharding: ShardedCollections
    let vectors: VectorService

    func register(into router: inout RPCRouter) {
        let node = self.node
        let sharding = self.sharding
        router.unary(Self.name, "GetState", RuvectorV1.GetStateRequest.self) { request, context, _ in
            try await ClusterMapping.mapped {
                var state: RuvectorV1.ClusterState
                if request.staleOk {
                    let view = node.status.role == .leader ? try await node.memberViews() : []
                    state = ClusterMapping.state(node, members: view, stale: true)
                } else {
                    let view = try await node.linearizableRead(timeout: ClusterMapping.timeout(context))
                    state = ClusterMapping.state(node, members: view, stale: false)
                }
                if request.withShardProgress { await ShardProgress.fill(&state, node: node, sharding: sharding, context: context) }
                return state
            }
        }
        router.unary(Self.name, "Join", RuvectorV1.JoinRequest.self) { request, context, _ in
            try await ClusterMapping.mapped {
                guard request.nodeId != 0 else { throw ClusterError(.invalidArgument, "node_id must be non-zero") }
                guard PeerAddress.split(request.address) != nil else {
                    throw ClusterError(.invalidArgument, "address must be HOST:PORT, got \(MessageText.quoted(request.address))")
                }
                let timeout = ClusterMapping.timeout(context)
                try node.requireLeader()
                let outcome = try await node.propose(.addMember(ClusterMetadata.Member(id: request.nodeId, address: request.address)),
                                                     timeout: timeout)
                if case .conflict(let why) = outcome { throw ClusterError(.failedPrecondition, why) }
                let status = node.status
                if !status.voters.contains(request.nodeId) && !status.learners.contains(request.nodeId) {
                    try await Self.retryingPendingChange(timeout) {
                        try await node.changeMembership(.addLearner(request.nodeId), timeout: timeout)
                    }
                }
                return ClusterMapping.state(node, members: try await node.memberViews(), stale: false)
            }
        }
        router.unary(Self.name, "Leave", RuvectorV1.LeaveRequest.self) { request, context, _ in
            try await ClusterMapping.mapped {
                let timeout = ClusterMapping.timeout(context)
                try node.requireLeader()
                let status = node.status
                guard status.voters.contains(request.nodeId) || status.learners.contains(request.nodeId)
                        || node.metadata.metadata.members[request.nodeId] != nil else {
                    throw ClusterError(.failedPrecondition, "node \(request.nodeId) is not a member")
                }
                try await Self.drain(request.nodeId, node: node, timeout: ClusterMapping.timeout(context, cap: .seconds(120)))
                if request.nodeId == node.id {
                    // The leader does not remove itself: it hands over first, and the new leader removes it.
                    guard let target = status.voters.first(where: { $0 != node.id }) else {
                        throw ClusterError(.failedPrecondition, "node \(node.id) is the last voter; it cannot leave")
                    }
                    try await node.transferLeadership(to: target, timeout: timeout)
                    try node.requireLeader()
                }
                if status.voters.contains(request.nodeId) || status.learners.contains(request.nodeId) {
                    try await Self.retryingPendingChange(timeout) {
                        try await node.changeMembership(.remove(request.nodeId), timeout: timeout)
                    }
                }
                _ = try await node.propose(.removeMember(request.nodeId), timeout: timeout)
                return ClusterMapping.state(node, members: try await node.memberViews(), stale: false)
            }
        }
        router.unary(Self.name, "TransferLeadership", RuvectorV1.TransferLeadershipRequest.self) { request, context, _ in
            try await ClusterMapping.mapped {
                try node.requireLeader()
                if request.nodeId != node.id {
                    try await node.transferLeadership(to: request.nodeId, timeout: ClusterMapping.timeout(context))
                }
                return ClusterMapping.state(node, members: [], stale: true)
            }
        }
        router.unary(Self.name, "UpdateSettings", RuvectorV1.UpdateSettingsRequest.self) { request, context, _ in
            try await ClusterMapping.mapped {
                guard (1...16).contains(request.replicationFactor) else {
                    throw ClusterError(.invalidArgument, "replication_factor must be 1-16, got \(request.replicationFactor)")
                }
                guard (0...3).contains(request.replicationMode.rawValue) else {
                    throw ClusterError(.invalidArgument, "replication_mode must be a ReplicationMode, got \(request.replicationMode.rawValue)")
                }
                let settings = ClusterMetadata.Settings(replicationFactor: request.replicationFactor,
                                                        replicationMode: UInt32(request.replicationMode.rawValue))
                _ = try await node.propose(.setSettings(settings), timeout: ClusterMapping.timeout(context))
                return ClusterMapping.state(node, members: [], stale: true)
            }
        }
        ShardReplicationMethods.register(into: &router, sharding: sharding, node: node, service: vectors)
    }

    /// Before a member leaves, its shard copies move to the others (the leader's rebalancing
    /// does it once the member is marked draining): waits until it holds none. A wait cut
    /// short by the deadline fails with DEADLINE_EXCEEDED and the move goes on; calling Leave
    /// again continues.
    private static func drain(_ id: NodeID, node: ClusterNode, timeout: Duration) async throws {
        func held() -> Int {
            node.metadata.metadata.collections.values.reduce(0) { $0 + $1.shards.filter { $0.copies.contains(id) }.count }
        }
        guard held() > 0 else { return }
        let others = node.metadata.metadata.members.values.filter { $0.id != id && !$0.draining }
        guard !others.isEmpty else {
            throw ClusterError(.failedPrecondition, "node \(id) holds \(held()) shard copies and no other member can take them; "
                + "delete its collections or add a node first")
        }
        _ = try await node.propose(.drainMember(id), timeout: timeout)
        let deadline = ContinuousClock.now + timeout
        while held() > 0 {
            guard ContinuousClock.now < deadline else {
                throw ClusterError(.deadlineExceeded, "node \(id) still holds \(held()) shard copies; they are moving to the other members: "
                    + "call Leave again to wait for the rest")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Membership changes go one at a time: while another is pending, wait a little and retry.
    private static func retryingPendingChange(_ timeout: Duration, _ body: () async throws -> Void) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            do {
                return try await body()
            } catch let error as ClusterError where error.code == .failedPrecondition && error.message.contains("still pending") {
                guard ContinuousClock.now + .milliseconds(20) < deadline else { throw error }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }
}
