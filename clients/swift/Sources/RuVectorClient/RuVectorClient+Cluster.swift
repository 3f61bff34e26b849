import RPC
import Wire

extension RuVectorClient {
    static let clusterService = "/ruvector.v1.ClusterService/"
    /// Trailing metadata naming the leader on a "not the leader" answer.
    static let leaderAddressKey = "ruvector-leader-address"

    /// The cluster's state: linearizable (confirmed through the leader) unless `staleOK`, which
    /// answers from the called node alone (it may lag, but answers without a leader).
    /// `withShardProgress` also asks each shard's primary how far its replicas are behind
    /// (`ClusterState.ShardAssignment.replicaLag`, `primarySequence`; a primary that does not
    /// answer within half a second leaves its shards' progress out).
    ///
    /// ```swift
    /// for shard in try await db.clusterState(withShardProgress: true).shards where shard.collection == "docs" {
    ///     print(shard.shard, shard.primary, shard.replicas, shard.replicaLag?.map(\.records) ?? [])
    /// }
    /// ```
    public func clusterState(staleOK: Bool = false, withShardProgress: Bool = false) async throws(RuVectorClientError) -> ClusterState {
        Self.state(try await clusterCall("GetState", RuvectorV1.GetStateRequest(staleOk: staleOK, withShardProgress: withShardProgress)))
    }

    /// What the node this client is connected to holds of each shard (of `collection`, or of
    /// every collection when empty): sequences, epochs, points and, on a primary, its
    /// replicas' progress. `checksums` also computes each copy's checksum of its points
    /// (reads every point): copies of a shard on different nodes holding the same points
    /// have the same checksum. Connect a client to each node to compare them. Throws
    /// `.failedPrecondition` on a server that is not a cluster node.
    public func shardStatus(collection: String = "", checksums: Bool = false) async throws(RuVectorClientError) -> ShardStatus {
        let request = RuvectorV1.ShardStatusRequest(collection: collection, checksums: checksums)
        let wire = try await unary("ShardStatus", request, service: Self.clusterService, as: RuvectorV1.ShardStatusResponse.self)
        return ShardStatus(nodeID: wire.nodeId, copies: wire.shards.map { copy in
            ShardStatus.Copy(collection: copy.collection, shard: Int(copy.shard), isPrimary: copy.primary, epoch: copy.epoch,
                             lastSequence: copy.lastSequence, appliedSequence: copy.appliedSequence,
                             lastRecordEpoch: copy.lastRecordEpoch, points: copy.points,
                             checksum: checksums ? copy.checksum : nil,
                             replicas: copy.replicas.map {
                                 ShardStatus.ReplicaProgress(nodeID: $0.nodeId, ackedSequence: $0.ackedSequence, lagRecords: $0.lagRecords,
                                                             lagMillis: $0.lagMillis, connected: $0.connected)
                             })
        }.sorted { ($0.collection, $0.shard) < ($1.collection, $1.shard) })
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
    public func updateClusterSettings(replicationFactor: Int, replicationMode: ReplicationMode = .async)
        async throws(RuVectorClientError) -> ClusterState {
        guard (1...16).contains(replicationFactor) else {
            throw RuVectorClientError(.invalidInput, "replicationFactor must be 1-16, got \(replicationFactor)")
        }
        return Self.state(try await clusterCall("UpdateSettings", RuvectorV1.UpdateSettingsRequest(
            replicationFactor: UInt32(replicationFactor), replicationMode: WireConversions.wire(replicationMode))))
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
                    channel = try await GRPCChannel.connect(host: String(leader[..<colon]), port: port, tls: tlsSettings, metadata: credentials)
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
            shards: wire.shards.map(shard), replicationFactor: Int(wire.replicationFactor),
            replicationMode: WireConversions.replicationMode(wire.replicationMode))
    }

    private static func shard(_ wire: RuvectorV1.ShardAssignment) -> ClusterState.ShardAssignment {
        // The server fills the lag lists (one entry per replica) only when asked and when the
        // primary answered; anything else means "not known".
        let known = wire.replicaLagRecords.count == wire.replicaNodeIds.count && wire.replicaLagMillis.count == wire.replicaNodeIds.count
        let lag = known ? wire.replicaNodeIds.indices.map {
            ClusterState.ShardAssignment.ReplicaLag(nodeID: wire.replicaNodeIds[$0], records: wire.replicaLagRecords[$0],
                                                    millis: wire.replicaLagMillis[$0])
        } : nil
        return ClusterState.ShardAssignment(collection: wire.collection, shard: Int(wire.shard), primary: wire.primaryNodeId,
                                            replicas: wire.replicaNodeIds, epoch: wire.epoch, replicaLag: lag,
                                            primarySequence: wire.primarySequence, incoming: wire.incomingNodeIds,
                                            handoff: wire.handoffNodeId)
    }
}
