import ClusterEngine
import ClusterNode
import RPC
import Wire

/// Fills a ClusterState's shard assignments with what each primary knows of its replicas
/// (`GetState` with `with_shard_progress`): lag in records and milliseconds, and the
/// primary's last sequence. A primary that does not answer within half a second leaves its
/// shards' progress empty.
enum ShardProgress {
    static func fill(_ state: inout RuvectorV1.ClusterState, node: ClusterNode, sharding: ShardedCollections, context: ServerContext) async {
        let primaries = Set(state.shards.map(\.primaryNodeId))
        let timeout = min(.milliseconds(500), ClusterMapping.timeout(context))
        let answers = await withTaskGroup(of: RuvectorV1.ShardStatusResponse?.self) { group in
            for primary in primaries {
                group.addTask { await ShardReplicationMethods.ask(target: primary, node: node, sharding: sharding, timeout: timeout) }
            }
            return await group.reduce(into: [RuvectorV1.ShardStatusResponse]()) { if let answer = $1 { $0.append(answer) } }
        }
        var progress: [String: RuvectorV1.LocalShardStatus] = [:]
        for answer in answers {
            for shard in answer.shards where shard.primary { progress["\(shard.collection)/\(shard.shard)"] = shard }
        }
        for index in state.shards.indices {
            let assignment = state.shards[index]
            guard let known = progress["\(assignment.collection)/\(assignment.shard)"], known.epoch == assignment.epoch else { continue }
            let byNode = Dictionary(known.replicas.map { ($0.nodeId, $0) }, uniquingKeysWith: { first, _ in first })
            state.shards[index].primarySequence = known.lastSequence
            state.shards[index].replicaLagRecords = assignment.replicaNodeIds.map { byNode[$0]?.lagRecords ?? known.lastSequence }
            state.shards[index].replicaLagMillis = assignment.replicaNodeIds.map { byNode[$0]?.lagMillis ?? UInt64.max }
        }
    }
}
