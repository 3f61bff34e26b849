import RPC
import Wire

/// A cluster as one of its nodes sees it (`ClusterService/GetState`).
public struct ClusterState: Sendable, Equatable {
    /// A node of the cluster.
    public struct Member: Sendable, Equatable {
        /// Its part in the consensus group.
        public enum Role: String, Sendable {
            /// Votes and may lead.
            case voter
            /// Receives the log, does not vote yet (catching up).
            case learner
            /// Recorded in the metadata but not (or no longer) in the group.
            case none
        }
        public var id: UInt64
        public var address: String
        public var role: Role
        /// Heard from by the leader within an election timeout (false when no leader answered).
        public var healthy: Bool
        /// Highest log index the leader knows it holds.
        public var matchIndex: UInt64
        /// Milliseconds since the leader last heard from it.
        public var lastSeenMillis: UInt64
        /// Entries it is behind the leader.
        public var lagEntries: UInt64
        /// The memory it may hold (its memory limit), as it reported it; 0 until it does.
        public var capacityBytes: UInt64
    }

    /// A collection in the cluster's metadata.
    public struct Collection: Sendable, Equatable {
        public var name: String
        public var dimension: Int
        /// The log index that created it.
        public var createdIndex: UInt64
    }

    public var members: [Member]
    /// The leader (0 when none is known).
    public var leaderID: UInt64
    public var term: UInt64
    public var commitIndex: UInt64
    /// How far the answering node applied the log.
    public var appliedIndex: UInt64
    /// The node that answered.
    public var answeredBy: UInt64
    /// True when the answer is that node's local view (`staleOK`), not confirmed by the leader.
    public var stale: Bool
    public var collections: [Collection]
    /// Replicas per shard (cluster-wide setting).
    public var replicationFactor: Int
    /// How writes wait for replicas (cluster-wide setting).
    public var replicationMode: ReplicationMode

    /// How writes wait for replicas.
    public enum ReplicationMode: String, Sendable {
        case async, semiSync = "semi-sync", sync
        /// Not set: the server default (async).
        case unspecified
    }
}

extension RuVectorClient {
    static let clusterService = "/ruvector.v1.ClusterService/"
    /// Trailing metadata naming the leader on a "not the leader" answer.
    static let leaderAddressKey = "ruvector-leader-address"

    /// The cluster's state: linearizable (confirmed through the leader) unless `staleOK`, which
    /// answers from the called node alone (it may lag, but answers without a leader).
    public func clusterState(staleOK: Bool = false) async throws(RuVectorClientError) -> ClusterState {
        Self.state(try await clusterCall("GetState", RuvectorV1.GetStateRequest(staleOk: staleOK)))
    }

    /// Adds a node (it joins as a learner and becomes a voter once caught up).
    @discardableResult
    public func joinCluster(nodeID: UInt64, address: String) async throws(RuVectorClientError) -> ClusterState {
        Self.state(try await clusterCall("Join", RuvectorV1.JoinRequest(nodeId: nodeID, address: address)))
    }

    /// Removes a node.
    @discardableResult
    public func leaveCluster(nodeID: UInt64) async throws(RuVectorClientError) -> ClusterState {
        Self.state(try await clusterCall("Leave", RuvectorV1.LeaveRequest(nodeId: nodeID)))
    }

    /// Moves the leadership to another voter.
    @discardableResult
    public func transferLeadership(to nodeID: UInt64) async throws(RuVectorClientError) -> ClusterState {
        Self.state(try await clusterCall("TransferLeadership", RuvectorV1.TransferLeadershipRequest(nodeId: nodeID)))
    }

    /// Sets the cluster-wide settings through the Raft log, from any node.
    @discardableResult
    public func updateClusterSettings(replicationFactor: Int, replicationMode: ClusterState.ReplicationMode = .async)
        async throws(RuVectorClientError) -> ClusterState {
        guard (1...16).contains(replicationFactor) else {
            throw RuVectorClientError(.invalidInput, "replicationFactor must be 1-16, got \(replicationFactor)")
        }
        let mode: RuvectorV1.ReplicationMode = switch replicationMode {
        case .async: .async
        case .semiSync: .semiSync
        case .sync: .sync
        case .unspecified: .unspecified
        }
        return Self.state(try await clusterCall("UpdateSettings", RuvectorV1.UpdateSettingsRequest(
            replicationFactor: UInt32(replicationFactor), replicationMode: mode)))
    }

    /// A ClusterService call that follows "not the leader" hints: the node that refused names
    /// the leader's address, and the call is sent there (at most 3 hops).
    private func clusterCall(_ method: String, _ request: some WireMessage) async throws(RuVectorClientError) -> RuvectorV1.ClusterState {
        var channel = self.channel
        var opened: [GRPCChannel] = []
        defer { if !opened.isEmpty { Task { [opened] in for channel in opened { await channel.close() } } } }
        var hops = 0
        while true {
            do {
                let (bytes, _) = try await channel.unary(Self.clusterService + method, request: request.encoded(), timeout: callTimeout)
                return try RuvectorV1.ClusterState(decoding: bytes)
            } catch let error as RPCError where error.code == .failedPrecondition && hops < 3 {
                guard let leader = error.trailingMetadata[Self.leaderAddressKey],
                      let colon = leader.lastIndex(of: ":"), let port = Int(leader[leader.index(after: colon)...]) else {
                    throw RuVectorClientError.from(error)
                }
                hops += 1
                do {
                    channel = try await GRPCChannel.connect(host: String(leader[..<colon]), port: port, tls: tlsSettings)
                } catch {
                    throw RuVectorClientError.from(error)
                }
                opened.append(channel)
            } catch {
                throw RuVectorClientError.from(error)
            }
        }
    }

    private static func state(_ wire: RuvectorV1.ClusterState) -> ClusterState {
        ClusterState(
            members: wire.members.map { m in
                let role: ClusterState.Member.Role = m.role == .voter ? .voter : m.role == .learner ? .learner : .none
                return ClusterState.Member(id: m.nodeId, address: m.address, role: role, healthy: m.healthy, matchIndex: m.matchIndex,
                                           lastSeenMillis: m.lastSeenMillis, lagEntries: m.lagEntries, capacityBytes: m.capacityBytes)
            },
            leaderID: wire.leaderId, term: wire.term, commitIndex: wire.commitIndex, appliedIndex: wire.appliedIndex,
            answeredBy: wire.answeredBy, stale: wire.stale,
            collections: wire.collections.map { ClusterState.Collection(name: $0.name, dimension: Int($0.dimension), createdIndex: $0.createdIndex) },
            replicationFactor: Int(wire.replicationFactor),
            replicationMode: wire.replicationMode == .async ? .async : wire.replicationMode == .semiSync ? .semiSync
                : wire.replicationMode == .sync ? .sync : .unspecified)
    }
}
