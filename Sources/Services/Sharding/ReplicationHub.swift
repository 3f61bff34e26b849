import ClusterEngine
import ClusterNode
import Logging
import RPC
import Synchronization
import VectorDatabase

/// The replication of every shard this node holds: on a primary, one `ReplicaTracker` per
/// shard (what each replica acknowledged, what writes wait for); on a replica, one
/// `ShardFollower` task per shard, streaming the primary's log into the local copy. Kept in
/// step with the metadata by `reconcile`, called after every applied change.
final class ReplicationHub: Sendable {
    private let store: ShardStore
    private let logger: Logger
    private let nodeBox = NodeBox()
    private let shardingBox = Mutex<ShardedCollections?>(nil)

    private struct Following {
        let primary: NodeID
        let epoch: UInt64
        let task: Task<Void, Never>
    }

    private struct State {
        var trackers: [ShardStore.ShardID: ReplicaTracker] = [:]
        var followers: [ShardStore.ShardID: Following] = [:]
        /// Followers cancelled but perhaps still running (a transfer's install does not stop
        /// halfway): the next follower of the same shard starts once this one has ended.
        var ending: [ShardStore.ShardID: Task<Void, Never>] = [:]
        var stopped = false
    }

    private let state = Mutex(State())

    init(store: ShardStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    func attach(_ node: ClusterNode, sharding: ShardedCollections) {
        nodeBox.set(node)
        shardingBox.withLock { $0 = sharding }
    }

    /// The tracker of `id` at `epoch` (a new one when the epoch changed: acknowledgements made
    /// to an earlier primary do not count for this one). The shard's log keeps what the
    /// slowest replica still needs.
    func tracker(for id: ShardStore.ShardID, epoch: UInt64) -> ReplicaTracker {
        let (tracker, fresh) = state.withLock { state -> (ReplicaTracker, Bool) in
            if let existing = state.trackers[id], existing.epoch == epoch { return (existing, false) }
            let created = ReplicaTracker(epoch: epoch)
            state.trackers[id]?.failAll(RPCError(.unavailable, "the primary of shard \(id) changed; retry"))
            state.trackers[id] = created
            return (created, true)
        }
        if fresh, let local = store.get(id) {
            // Every copy following this primary, arriving ones included, as the metadata says now.
            local.durable.setLogRetentionFloor { [weak self, weak tracker] in
                guard let tracker, let shard = self?.shard(id) else { return .max }
                return tracker.floor(among: shard.replicas + shard.incoming)
            }
        }
        return tracker
    }

    /// The placement of `id` in this node's metadata.
    func shard(_ id: ShardStore.ShardID) -> ClusterMetadata.Shard? {
        (try? nodeBox.node())?.metadata.metadata.collections[id.collection]?.shard(id.number)
    }

    /// True once `stop` ran: the primary's side of every replication stream ends too, so the
    /// server's drain is not held by streams that never finish on their own.
    var isStopped: Bool { state.withLock { $0.stopped } }

    /// The tracker of `id`, if this node served as its primary since it started.
    func existingTracker(for id: ShardStore.ShardID) -> ReplicaTracker? { state.withLock { $0.trackers[id] } }

    /// Starts a follower for every shard this node replicates (restarting it when the primary
    /// or epoch changed) and stops the others; creates the trackers of the shards it leads.
    func reconcile() {
        guard let node = try? nodeBox.node(), let sharding = shardingBox.withLock({ $0 }) else { return }
        let metadata = node.metadata.metadata
        var wanted: [ShardStore.ShardID: ClusterMetadata.Shard] = [:]
        for collection in metadata.collections.values where collection.isSharded {
            for (number, shard) in collection.shards.enumerated() {
                let id = ShardStore.ShardID(collection.name, UInt32(number))
                if shard.primary == node.id {
                    _ = tracker(for: id, epoch: shard.epoch)
                } else if shard.replicas.contains(node.id) || shard.incoming.contains(node.id) {
                    wanted[id] = shard
                }
            }
        }
        let stale = state.withLock { state -> [Task<Void, Never>] in
            guard !state.stopped else { return [] }
            var stale: [Task<Void, Never>] = []
            for (id, following) in state.followers where wanted[id].map({ $0.primary != following.primary || $0.epoch != following.epoch }) ?? true {
                stale.append(following.task)
                state.ending[id] = following.task
                state.followers[id] = nil
            }
            for (id, shard) in wanted where state.followers[id] == nil {
                let follower = ShardFollower(id: id, primary: shard.primary, epoch: shard.epoch, node: node, sharding: sharding, logger: logger)
                // Two followers of one shard at once would both transfer into its one staging
                // folder (seen when a restarted replica applied two promotions in a row).
                let previous = state.ending.removeValue(forKey: id)
                state.followers[id] = Following(primary: shard.primary, epoch: shard.epoch, task: Task {
                    await previous?.value
                    await follower.run()
                })
            }
            // Trackers of shards this node no longer leads fail their waiting writes.
            for (id, tracker) in state.trackers {
                let shard = metadata.collections[id.collection]?.shard(id.number)
                if shard?.primary != node.id || shard?.epoch != tracker.epoch {
                    tracker.failAll(RPCError(.unavailable, "node \(node.id) is no longer the primary of shard \(id); retry"))
                    state.trackers[id] = nil
                }
            }
            return stale
        }
        for task in stale { task.cancel() }
    }

    /// Stops every follower (at shutdown) and fails the writes waiting for replicas.
    func stop() async {
        let (tasks, trackers) = state.withLock { state in
            state.stopped = true
            defer { state.followers = [:]; state.ending = [:]; state.trackers = [:] }
            return (state.followers.values.map(\.task) + state.ending.values, Array(state.trackers.values))
        }
        for tracker in trackers { tracker.failAll(RPCError(.unavailable, "the server is stopping")) }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }
}
