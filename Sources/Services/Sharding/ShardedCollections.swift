import ClusterEngine
import Dispatch
import ClusterNode
import Logging
import RPC
import Storage
import Synchronization
import VectorDatabase
import VectorEngine
import Wire
import WorkControl

/// Sharded, replicated collections on a cluster node: this node's copies of shards (the
/// `ShardStore`), which of them it leads, the replication streams between copies, and what
/// the request router needs to send a call to the right copy.
///
/// Writes are applied only by a shard's primary (one writer per shard and epoch, so copies
/// converge by construction: replicas apply the primary's log in its order, with its sequence
/// numbers). "Write anywhere" means any node accepts the write and forwards it to the primary.
final class ShardedCollections: Sendable {
    let store: ShardStore
    let limits: VectorServiceLimits
    let logger: Logger
    let replication: ReplicationHub
    /// Where this node keeps the cluster snapshots it assembled (`<data dir>/cluster-snapshots`,
    /// one folder per collection name; they outlive the collection, being its backups).
    let snapshotDirectory: String
    /// The server's write threads: replicated records are applied and transferred copies
    /// installed there, never on the shared task pool (whose few threads also carry the Raft
    /// heartbeats: blocking them with fsyncs cost the leader its quorum contact under load).
    private let writePool: WorkPool
    private let nodeBox = NodeBox()

    /// A peer's shard-level call names the shard in this header (and the epoch it routed by).
    static let shardHeader = "ruvector-shard"
    static let epochHeader = "ruvector-shard-epoch"
    /// Which copy a shard-level read wants: "primary" or "any".
    static let readHeader = "ruvector-read-from"
    /// A peer's ListSnapshots or DownloadSnapshot asking for this node's own cluster snapshots.
    static let localSnapshotsHeader = "ruvector-cluster-snapshots"
    /// TransferShard's trailers: the snapshot's WAL sequence and the primary's epoch.
    static let snapshotSequenceTrailer = "ruvector-snapshot-sequence"
    /// A primary takes writes (and primary reads) only within this time of the start of its
    /// last successful linearizable metadata read (see `leaseValidUntil`). The leader replaces
    /// a primary it has not heard from for `ShardSupervisor.silenceMillis`, which is longer: by
    /// then the old primary refuses writes on its own. (Or at once when connects to the
    /// primary are refused: see `keepLease` for why that process holds no lease.)
    static let leaseMillis: UInt64 = 1000
    /// Most shards a collection may have.
    static let maxShards: UInt32 = 1024

    init(store: ShardStore, limits: VectorServiceLimits, writePool: WorkPool, snapshotDirectory: String, logger: Logger) {
        self.store = store
        self.snapshotDirectory = snapshotDirectory
        self.limits = limits
        self.writePool = writePool
        self.logger = logger
        replication = ReplicationHub(store: store, logger: logger)
    }

    /// Runs blocking storage work on the write threads (see `writePool`).
    func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await writePool.run(owner: 0, cancellation: CancellationSignal(), body)
    }

    func attach(_ node: ClusterNode) {
        nodeBox.set(node)
        replication.attach(node, sharding: self)
    }

    func node() throws -> ClusterNode { try nodeBox.node() }

    /// The collection as this node's metadata has it, if it is sharded.
    func sharded(_ name: String) -> ClusterMetadata.Collection? {
        guard let node = try? node(), let collection = node.metadata.metadata.collections[name], collection.isSharded else { return nil }
        return collection
    }

    // MARK: Placement

    /// Shards and copies for a new collection, on the members `metadata` has now. Checks the
    /// request's sharding fields (nothing unchecked is proposed).
    static func place(_ request: RuvectorV1.CreateCollectionRequest, metadata: ClusterMetadata) throws -> ClusterMetadata.Collection {
        let members = metadata.members.values.filter { !$0.draining }.map(\.id).sorted()
        guard !members.isEmpty else { throw RPCError(.unavailable, "the cluster has no members that take shards") }
        let shards = request.shards == 0 ? UInt32(members.count) : request.shards
        guard (1...maxShards).contains(shards) else {
            throw RPCError(.invalidArgument, "shards must be 1-\(maxShards) (0 = one per node), got \(request.shards)")
        }
        let defaultFactor = metadata.settings.replicationFactor == 0 ? min(3, UInt32(members.count)) : metadata.settings.replicationFactor
        let factor = request.replicationFactor == 0 ? min(defaultFactor, UInt32(members.count)) : request.replicationFactor
        guard (1...16).contains(factor) else {
            throw RPCError(.invalidArgument, "replication_factor must be 1-16 (0 = min(3, nodes)), got \(request.replicationFactor)")
        }
        guard Int(factor) <= members.count else {
            throw RPCError(.failedPrecondition, "replication_factor \(factor) needs \(factor) nodes; the cluster has \(members.count)")
        }
        var consistency = UInt32(bitPattern: request.writeConsistency.rawValue)
        guard consistency <= 3 else { throw RPCError(.invalidArgument, "write_consistency must be a ReplicationMode, got \(consistency)") }
        if consistency == 0 { consistency = metadata.settings.replicationMode }
        let minReplicas = request.minReplicas == 0 ? 1 : request.minReplicas
        guard minReplicas < 16 else { throw RPCError(.invalidArgument, "min_replicas must be below 16, got \(request.minReplicas)") }
        let ring = HashRing(nodes: members)
        // The ring chooses the holders; the primary is the holder leading the fewest shards of
        // this collection so far (ring order breaks ties), so writes spread over the nodes even
        // when the shards are few.
        var leading: [NodeID: Int] = [:]
        let placed = (0..<shards).map { number -> ClusterMetadata.Shard in
            let holders = ShardPlacement.replicas(collection: request.name, shard: number, ring: ring, replicationFactor: Int(factor))
            let primary = holders.min { leading[$0, default: 0] < leading[$1, default: 0] } ?? holders[0]
            leading[primary, default: 0] += 1
            return ClusterMetadata.Shard(primary: primary, replicas: holders.filter { $0 != primary })
        }
        return ClusterMetadata.Collection(name: request.name, dimension: request.dimension,
                                          metric: UInt32(bitPattern: request.metric.rawValue), request: request.encoded(),
                                          createdIndex: 0, shards: placed, replicationFactor: factor,
                                          writeConsistency: consistency, minReplicas: minReplicas)
    }

    /// Checks the shard map of a create-collection command from the network.
    static func validatePlacement(_ collection: ClusterMetadata.Collection) throws {
        guard collection.shards.count <= maxShards, (1...16).contains(collection.replicationFactor),
              collection.writeConsistency <= 3, collection.minReplicas < 16 else {
            throw RPCError(.invalidArgument, "a collection's shards, replication factor or write mode is out of range")
        }
        for shard in collection.shards {
            let holders = shard.holders
            guard holders.count == Int(collection.replicationFactor), Set(holders).count == holders.count,
                  !holders.contains(0), shard.epoch == 1, shard.incoming.isEmpty, shard.handoff == 0 else {
                throw RPCError(.invalidArgument, "every shard needs replication_factor distinct non-zero nodes at epoch 1")
            }
        }
    }

    /// The shard a point belongs to.
    static func shard(of key: PointKey, shards: Int) -> UInt32 {
        switch key {
        case .number(let n): return ShardPlacement.shard(ofNumeric: n, shards: UInt32(shards))
        case .uuid(let uuid): return ShardPlacement.shard(of: ShardKey(uuidHigh: uuid.high, low: uuid.low), shards: UInt32(shards))
        }
    }

    // MARK: Keeping the copies in step with the metadata

    /// Makes this node's copies match `metadata` (applied up to log index `applied`): creates
    /// (empty; they fill from the primary) the copies it holds or receives, begins the epoch of
    /// the shards it now leads (after its last record), starts and stops replication streams,
    /// then deletes the copies it no longer has or that belong to an earlier collection of the
    /// same name. Runs on a queue of its own (`scheduleReconcile`), never on the metadata
    /// applier's thread: moving many shards creates and deletes many files, and that must not
    /// hold up the log.
    ///
    /// Deleting comes last, one copy at a time, and a pass stops deleting once `newerWaiting`
    /// says newer metadata waits (the next pass carries on): closing and removing a copy takes
    /// milliseconds, and a node deleting hundreds of collections made a new collection's copies
    /// and a failover's primary takeover wait seconds behind it (cluster-bench, 2026-12-07). An
    /// earlier collection's copy of a shard this node holds again is deleted first, in its place.
    ///
    /// A copy made at a log index the metadata has not reached yet is kept whatever the metadata
    /// says: a restarted node applies its log again from its last snapshot, and until it reaches
    /// the collection's creation the collection is simply not there yet (deleting the copy then
    /// threw away a primary's data, which it went on serving empty).
    func reconcile(_ metadata: ClusterMetadata, applied: UInt64, selfID: NodeID,
                   config: (ClusterMetadata.Collection) throws -> CollectionConfig,
                   newerWaiting: () -> Bool = { false }) {
        for collection in metadata.collections.values where collection.isSharded {
            for (number, shard) in collection.shards.enumerated() where shard.copies.contains(selfID) {
                let id = ShardStore.ShardID(collection.name, UInt32(number))
                do {
                    var local = store.get(id)
                    if let earlier = local, applied >= earlier.incarnation, earlier.incarnation != collection.createdIndex {
                        removeCopy(id)
                        local = nil
                    }
                    let copy = try local ?? store.create(id, config: try config(collection), incarnation: collection.createdIndex)
                    if shard.primary == selfID, shard.epoch > (copy.epochHistory.starts.last?.epoch ?? 0) {
                        try copy.beginEpoch(shard.epoch, at: copy.durable.lastSequence + 1)
                        if shard.epoch > 1 {
                            logger.info("shard primary taken over", metadata: ["shard": "\(id)", "epoch": "\(shard.epoch)",
                                                                               "sequence": "\(copy.durable.lastSequence)"])
                        }
                    }
                } catch {
                    logger.error("cannot create or take over a shard copy; retried at the next change", metadata: [
                        "shard": "\(id)", "error": "\(error)"])
                }
            }
        }
        replication.reconcile()
        for local in store.list() {
            let id = ShardStore.ShardID(local.collectionName, local.number)
            let collection = metadata.collections[local.collectionName]
            let shard = collection?.shard(local.number)
            if applied < local.incarnation { continue }
            if let collection, let shard, collection.createdIndex == local.incarnation, shard.copies.contains(selfID) { continue }
            removeCopy(id)
            if newerWaiting() { return }
        }
    }

    /// Closes and deletes this node's copy `id` (logged; a failure is logged and retried at the
    /// next change).
    private func removeCopy(_ id: ShardStore.ShardID) {
        do {
            try store.delete(id)
            logger.info("shard copy removed", metadata: ["shard": "\(id)"])
        } catch {
            logger.error("cannot remove a shard copy this node no longer holds", metadata: ["shard": "\(id)", "error": "\(error)"])
        }
    }

    private let reconciling = Mutex<(running: Bool, again: Bool)>((false, false))
    private let reconcileQueue = DispatchQueue(label: "ruvector.shards.reconcile")

    /// Runs `reconcile` on its queue with the node's metadata then; calls made while one runs
    /// coalesce into one more run.
    func scheduleReconcile(config: @escaping @Sendable (ClusterMetadata.Collection) throws -> CollectionConfig) {
        let start = reconciling.withLock { state -> Bool in
            if state.running { state.again = true; return false }
            state.running = true
            return true
        }
        guard start else { return }
        reconcileQueue.async { [self] in
            while true {
                if let node = try? node() {
                    let (metadata, applied) = node.metadata
                    reconcile(metadata, applied: applied, selfID: node.id, config: config,
                              newerWaiting: { reconciling.withLock { $0.again } })
                }
                let more = reconciling.withLock { state -> Bool in
                    if state.again { state.again = false; return true }
                    state.running = false
                    return false
                }
                if !more { return }
            }
        }
    }

    // MARK: Serving as primary

    /// Until when this node may act as a primary: `leaseMillis` after the start of its last
    /// successful linearizable metadata read (`keepLease`). A read that succeeded means the
    /// Raft leader confirmed its leadership and this node applied everything committed before
    /// the read began, promotions of its shards included; and the leader, which heard from
    /// this node during that read, replaces a primary only after `ShardSupervisor.silenceMillis`
    /// (longer) without hearing from it, or once connects to it are refused (`RefusalEvidence`).
    /// A node paused, restarted or cut off holds no lease until a read succeeds again.
    private let leaseValidUntil = Mutex<ContinuousClock.Instant?>(nil)
    private let leaseTask = Mutex<Task<Void, Never>?>(nil)
    /// How often the lease is renewed.
    static let leaseRenewMillis = 200

    /// Whether this node may act as a primary now.
    func holdsLease(_ node: ClusterNode) -> Bool {
        leaseValidUntil.withLock { $0.map { ContinuousClock.now < $0 } ?? false }
    }

    /// Renews the lease every `leaseRenewMillis` until `stopLease`. The server starts it only
    /// once it listens, and stops it before it stops listening: the leader takes a refused
    /// connect to this node's address as proof that no lease is held here (`RefusalEvidence`).
    func keepLease() {
        leaseTask.withLock { task in
            guard task == nil else { return }
            task = Task { [self] in
                while !Task.isCancelled {
                    let started = ContinuousClock.now
                    if let node = try? node() {
                        do {
                            _ = try await node.linearizableRead(timeout: .milliseconds(Int64(Self.leaseMillis) * 4 / 5))
                            leaseValidUntil.withLock { $0 = started + .milliseconds(Int64(Self.leaseMillis)) }
                        } catch {}
                    }
                    try? await Task.sleep(until: started + .milliseconds(Self.leaseRenewMillis), clock: .continuous)
                }
            }
        }
    }

    func stopLease() async {
        let task = leaseTask.withLock { task in defer { task = nil }; return task }
        task?.cancel()
        await task?.value
        leaseValidUntil.withLock { $0 = nil }
    }

    /// `requirePrimary`, after waiting (at most `within`) for this node's lease (just after a
    /// start or a leader change it comes with the next renewal, a fraction of a second away)
    /// and for the copy of a shard the metadata has just made it the primary of (`reconcile`
    /// creates it and begins its epoch on its own queue, milliseconds later).
    func primary(_ id: ShardStore.ShardID, epoch: UInt64?, within: Duration) async throws -> (ClusterMetadata.Shard, LocalShard) {
        try await awaitPrimaryReady(id, within: within)
        return try requirePrimary(id, epoch: epoch)
    }

    /// The waiting of `primary`, without its check.
    private func awaitPrimaryReady(_ id: ShardStore.ShardID, within: Duration) async throws {
        let node = try node()
        let deadline = ContinuousClock.now + within
        while !holdsLease(node) || takingOver(id, node), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(holdsLease(node) ? 5 : 20))
        }
    }

    /// Whether the metadata makes `node` the primary of `id` while its copy is not ready for
    /// that yet (not created, of an earlier collection of the name, or its epoch not begun).
    private func takingOver(_ id: ShardStore.ShardID, _ node: ClusterNode) -> Bool {
        guard let collection = node.metadata.metadata.collections[id.collection], let shard = collection.shard(id.number),
              shard.primary == node.id else { return false }
        guard let local = store.get(id) else { return true }
        return local.incarnation != collection.createdIndex || local.epochHistory.starts.last?.epoch != shard.epoch
    }

    /// This node's copy of `id`; when the metadata already gives this node a copy that
    /// `reconcile` (on its own queue, just after the metadata changed) has not made yet, waits
    /// for it up to `within`. A read through this node right after a creation or a move then
    /// finds the copy instead of answering UNAVAILABLE. Nil: this node holds no copy.
    func localCopy(_ id: ShardStore.ShardID, within: Duration) async throws -> LocalShard? {
        let deadline = ContinuousClock.now + within
        while true {
            let node = try node()
            let collection = node.metadata.metadata.collections[id.collection]
            let local = store.get(id)
            if let local, local.incarnation == collection?.createdIndex { return local }
            // (A copy of an earlier collection of the name is no copy of this one.)
            guard let collection, collection.shard(id.number)?.copies.contains(node.id) == true,
                  ContinuousClock.now < deadline else { return nil }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Waits until everything this primary's copy shows is on the replicas the collection's
    /// write mode asks for, so a primary read never returns a write that a failover could
    /// lose (a write logged here whose replicas did not confirm it). Async collections do
    /// not wait.
    func awaitReplicated(_ id: ShardStore.ShardID, shard: ClusterMetadata.Shard, local: LocalShard, timeout: Duration) async throws {
        guard let collection = try node().metadata.metadata.collections[id.collection] else { return }
        let needed = Self.needed(mode: collection.writeConsistency, minReplicas: collection.minReplicas, shard: shard)
        guard needed > 0 else { return }
        let tracker = replication.tracker(for: id, epoch: shard.epoch)
        do {
            _ = try await tracker.wait(for: local.durable.lastSequence, needed: needed, among: shard.replicas, timeout: timeout)
        } catch is ReplicationTimeout {
            throw RPCError(.unavailable, "the primary of shard \(id) holds writes that its replicas have not confirmed (one is down or "
                + "behind); a read from it could show a write a failover would lose: retry, or read with read_from ANY")
        }
    }

    /// This node's copy of `id` if it is the shard's primary at `epoch` (nil: whatever epoch is
    /// current) and holds its lease; otherwise an error the forwarding node retries on.
    func requirePrimary(_ id: ShardStore.ShardID, epoch: UInt64?) throws -> (ClusterMetadata.Shard, LocalShard) {
        let node = try node()
        // The lease before the metadata: a lease renewed after a read that included this
        // node's deposition comes with metadata that shows it (`ReadFence`); read in the other
        // order, the metadata could predate a lease renewed in between.
        let leased = holdsLease(node)
        guard let collection = node.metadata.metadata.collections[id.collection], let shard = collection.shard(id.number) else {
            throw RPCError(.unavailable, "this node knows no shard \(id) (it has not applied its creation yet, or it was deleted); retry")
        }
        guard shard.primary == node.id, epoch == nil || epoch == shard.epoch else {
            throw RPCError(.unavailable, "node \(node.id) is not the primary of shard \(id) at epoch \(epoch ?? shard.epoch) "
                + "(node \(shard.primary) is, at epoch \(shard.epoch)); retry", trailingMetadata: Metadata([(Self.epochHeader, "\(shard.epoch)")]))
        }
        guard leased else {
            throw RPCError(.unavailable, "node \(node.id) cannot confirm it is still the primary of shard \(id) (no recent contact with the cluster leader); retry")
        }
        guard let local = store.get(id), local.incarnation == collection.createdIndex,
              local.epochHistory.starts.last?.epoch == shard.epoch else {
            throw RPCError(.unavailable, "node \(node.id) is still taking over shard \(id) (its copy or epoch is not ready yet); retry")
        }
        return (shard, local)
    }

    /// Writes past `primary()` and not yet logged, by shard.
    private let writesInFlight = Mutex<[ShardStore.ShardID: Int]>([:])

    /// Runs a primary's write of `id` (its check and its logging) counted in `writesInFlight`:
    /// counted before the primary is checked, so a handoff's seal sees either the count or
    /// the refusal.
    private func counted<R>(_ id: ShardStore.ShardID, _ body: () async throws -> R) async rethrows -> R {
        writesInFlight.withLock { $0[id, default: 0] += 1 }
        defer { writesInFlight.withLock { $0[id] = $0[id].flatMap { $0 > 1 ? $0 - 1 : nil } } }
        return try await body()
    }

    /// Whether this node, the primary of `id` in `metadata`, is handing it over and has no
    /// write in flight any more: from then on its log does not grow (every later write reads a
    /// metadata at least as new, which names the handoff, and is refused), so the sequence read
    /// after this answer is final. The metadata must be read before this is asked.
    func sealedForHandoff(_ id: ShardStore.ShardID, in metadata: ClusterMetadata, selfID: NodeID) -> Bool {
        guard let shard = metadata.collections[id.collection]?.shard(id.number), shard.primary == selfID, shard.handoff != 0 else {
            return false
        }
        return writesInFlight.withLock { $0[id] == nil }
    }

    /// Replicas a write in `mode` waits for, of `shard`'s.
    static func needed(mode: UInt32, minReplicas: UInt32, shard: ClusterMetadata.Shard) -> Int {
        switch mode {
        case 3: return shard.replicas.count
        case 2: return min(Int(minReplicas), shard.replicas.count)
        default: return 0
        }
    }

    /// Runs a write on this node's primary copy (`write` returns its value and the sequence it
    /// logged), then waits for the replicas `mode` asks for. Returns the value, the sequence and
    /// how many replicas had it.
    func primaryWrite<T: Sendable>(_ id: ShardStore.ShardID, epoch: UInt64?, mode: UInt32, minReplicas: UInt32, context: ServerContext,
                                   _ write: @escaping @Sendable (DurableCollection) async throws -> (T, UInt64))
        async throws -> (value: T, sequence: UInt64, acknowledged: Int) {
        try await awaitPrimaryReady(id, within: ClusterMapping.timeout(context, cap: .seconds(1)))
        let (shard, tracker, value, sequence) = try await counted(id) {
            let (shard, local) = try requirePrimary(id, epoch: epoch)
            guard shard.handoff == 0 else {
                throw RPCError(.unavailable, "node \(shard.primary) is handing shard \(id) over to node \(shard.handoff) (a planned move) "
                    + "and takes no more writes; retry")
            }
            // Records it logged as a replica may still be queued for the index (and the UUID
            // names): they go first, so this write resolves and assigns names on their result.
            if local.durable.queuedWrites > 0 { try await local.durable.waitUntilQueuedWritesApplied() }
            let tracker = replication.tracker(for: id, epoch: shard.epoch)
            let (value, sequence) = try await write(local.durable)
            return (shard, tracker, value, sequence)
        }
        tracker.logged(sequence)
        let needed = Self.needed(mode: mode, minReplicas: minReplicas, shard: shard)
        guard needed > 0 else { return (value, sequence, tracker.acknowledgedCount(sequence, among: shard.replicas)) }
        do {
            let acked = try await tracker.wait(for: sequence, needed: needed, among: shard.replicas,
                                               timeout: ClusterMapping.timeout(context, cap: .seconds(30)))
            return (value, sequence, acked)
        } catch let timeout as ReplicationTimeout {
            throw RPCError(.deadlineExceeded, "written on the primary of shard \(id) (node \(shard.primary), sequence \(sequence)) but only "
                + "\(timeout.acknowledged) of the \(needed) replicas the write mode needs confirmed it before the deadline; "
                + "the write may or may not survive a failure of that primary: retry it (upserts and deletes are idempotent)")
        }
    }
}

/// The node, set after construction.
final class NodeBox: Sendable {
    private let value = Mutex<ClusterNode?>(nil)
    func set(_ node: ClusterNode) { value.withLock { $0 = node } }
    func node() throws -> ClusterNode {
        guard let node = value.withLock({ $0 }) else { throw RPCError(.unavailable, "the cluster node is starting") }
        return node
    }
}
