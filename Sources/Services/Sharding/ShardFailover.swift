import ClusterEngine
import ClusterNode
import Logging
import RPC
import Synchronization
import Wire

/// The metadata leader's watch over shard primaries. Every `checkMillis` the leader looks for
/// shards whose primary it has not heard from for `silenceMillis` (or that left the
/// cluster); for each, it asks the shard's reachable replicas for their last record
/// (`ShardStatus`), and promotes the one with the newest log (latest epoch, then highest
/// sequence) by a Raft-committed shard-map change with the next epoch. So a write that any
/// surviving replica acknowledged survives the failover. A former primary refuses writes on
/// its own before that (its lease, `ShardedCollections.leaseMillis`, is shorter than the
/// silence), and one that comes back becomes a replica, transferring the shard again if its
/// log holds records its successor never had.
final class ShardFailover: Sendable {
    static let checkMillis = 100
    /// How long a primary stays unheard before it is replaced: above the lease, so the old
    /// primary has stopped accepting writes first.
    static let silenceMillis: UInt64 = 1500

    private let sharding: ShardedCollections
    private let logger: Logger
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(sharding: ShardedCollections, logger: Logger) {
        self.sharding = sharding
        self.logger = logger
    }

    func start() {
        task.withLock { task in
            guard task == nil else { return }
            task = Task { [self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(Self.checkMillis))
                    await check()
                }
            }
        }
    }

    func stop() async {
        let running = task.withLock { task in defer { task = nil }; return task }
        running?.cancel()
        await running?.value
    }

    /// One pass (leader only).
    private func check() async {
        guard let node = try? sharding.node() else { return }
        let status = node.status
        guard status.leader == node.id, sharding.holdsLease(node) else { return }
        let metadata = node.metadata.metadata
        func silent(_ member: NodeID) -> Bool {
            member != node.id && (metadata.members[member] == nil || (status.lastHeardMillis[member] ?? .max) > Self.silenceMillis)
        }
        for collection in metadata.collections.values where collection.isSharded {
            for (number, shard) in collection.shards.enumerated() where silent(shard.primary) {
                let candidates = shard.replicas.filter { !silent($0) }
                guard !candidates.isEmpty else { continue }
                await promote(collection: collection.name, shard: UInt32(number), current: shard, candidates: candidates, node: node)
            }
        }
    }

    /// Asks the candidates for their logs and promotes the newest.
    private func promote(collection: String, shard number: UInt32, current: ClusterMetadata.Shard, candidates: [NodeID],
                         node: ClusterNode) async {
        let sharding = self.sharding
        let answers = await withTaskGroup(of: (NodeID, RuvectorV1.LocalShardStatus)?.self) { group in
            for candidate in candidates {
                group.addTask {
                    let request = RuvectorV1.ShardStatusRequest(collection: collection)
                    let response: RuvectorV1.ShardStatusResponse?
                    if candidate == node.id {
                        response = try? ShardReplicationMethods.status(request, sharding: sharding, node: node)
                    } else {
                        response = try? await {
                            let channel = try await node.channel(to: candidate)
                            let (bytes, _) = try await channel.unary("/ruvector.v1.ClusterService/ShardStatus", request: request.encoded(),
                                                                     timeout: .milliseconds(500))
                            return try RuvectorV1.ShardStatusResponse(decoding: bytes)
                        }()
                    }
                    return response?.shards.first { $0.shard == number }.map { (candidate, $0) }
                }
            }
            return await group.reduce(into: [(NodeID, RuvectorV1.LocalShardStatus)]()) { if let answer = $1 { $0.append(answer) } }
        }
        guard let best = answers.max(by: { a, b in
            (a.1.lastRecordEpoch, a.1.lastSequence, b.0) < (b.1.lastRecordEpoch, b.1.lastSequence, a.0)
        }) else { return }
        do {
            let outcome = try await node.propose(.promoteShard(collection: collection, shard: number, primary: best.0, epoch: current.epoch),
                                                 timeout: .seconds(2))
            logger.warning("shard primary replaced", metadata: [
                "collection": "\(collection)", "shard": "\(number)", "from": "\(current.primary)", "to": "\(best.0)",
                "epoch": "\(current.epoch + 1)", "sequence": "\(best.1.lastSequence)", "outcome": "\(outcome)"])
        } catch {
            logger.warning("shard failover not committed; retrying", metadata: [
                "collection": "\(collection)", "shard": "\(number)", "error": "\(error)"])
        }
    }
}
