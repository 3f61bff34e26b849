import ClusterEngine
import ClusterNode
import Logging
import RPC
import Synchronization
import VectorDatabase
import Wire

/// The metadata leader's watch over the shards: failover and rebalancing, both as Raft-committed
/// shard-map changes that compare and set (a decision made on an old view changes nothing).
///
/// Failover: a shard whose primary the leader has not heard from for `silenceMillis` (or that
/// left the cluster) gets a new primary: the reachable replica with the newest log (latest
/// epoch, then highest sequence, from `ShardStatus`), so a write any surviving replica
/// acknowledged survives. The old primary refuses writes on its own before that (its lease,
/// `ShardedCollections.leaseMillis`, is shorter), and when it comes back it is a replica,
/// transferred again if its log holds records its successor never had. A primary whose
/// process is proven gone (`RefusalEvidence`: connects to its advertised address refused
/// after it fell silent) holds no lease, and is replaced without waiting for the silence.
/// A linearizable read this leader took for a member (its lease renewal) counts as hearing
/// from it, and the promotion is fenced (`ReadFence`): it is appended only if the old primary
/// asked for no read since the decision, and every read it asks for afterwards includes the
/// promotion, so it cannot renew its lease on a state from before its deposition.
///
/// Rebalancing: each shard's copies should be the nodes the ring of the current members
/// assigns (`ShardPlacement.replicas`). A missing copy is added as *incoming* (it follows the
/// primary's log, by snapshot transfer and then the tail, while no write waits for it); once
/// every incoming copy has caught up, one change makes the target nodes the shard's holders and
/// drops the others (whose copies are then deleted). A primary that must move is first replaced
/// by the target holder that has the most of its log. So a join moves only the shards whose
/// copies the ring changes, and a move that a crash interrupts resumes from the metadata.
final class ShardSupervisor: Sendable {
    static let checkMillis = 100
    /// How long a primary stays unheard before it is replaced: above the lease, so the old
    /// primary has stopped accepting writes first.
    static let silenceMillis: UInt64 = 1500
    /// A primary unheard for longer than this (three Raft heartbeats) is probed for
    /// `RefusalEvidence` at every check.
    static let probeAfterMillis: UInt64 = 150
    /// One probe's connect timeout: a connect still pending then is no proof of anything.
    static let probeTimeoutMillis: Int64 = 200
    /// Rebalancing runs every this many checks.
    static let rebalanceEveryChecks = 2
    /// Shards receiving copies at once, cluster-wide (each may be a snapshot transfer).
    static let maxConcurrentMoves = 8
    /// An incoming copy this close to its primary's log counts as caught up.
    static let caughtUpRecords: UInt64 = 64
    /// A primary handover not switched after this long is cancelled (the primary takes writes
    /// again) and begun afresh.
    static let handoffPatienceMillis: Int64 = 2000

    /// When this leader began each pending primary handover (or first saw it pending).
    private let handoffsBegun = Mutex<[ShardStore.ShardID: ContinuousClock.Instant]>([:])

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
                var checks = 0
                var ring: (members: [NodeID], ring: HashRing)?
                var leadingSince: ContinuousClock.Instant?
                var evidence = RefusalEvidence()
                var reads = ReadsHeard()
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(Self.checkMillis))
                    guard let node = try? sharding.node(), node.status.leader == node.id, sharding.holdsLease(node) else {
                        leadingSince = nil
                        evidence = RefusalEvidence()
                        reads = ReadsHeard()
                        continue
                    }
                    let since = leadingSince ?? .now
                    leadingSince = since
                    // One published status for the whole check: the read counts the fences are
                    // decided on are those the silence was judged with.
                    let view = Check(status: node.status, reads: &reads)
                    evidence = await probeQuietPrimaries(node, view, evidence)
                    // A new leader has heard nothing yet, and a primary may hold a lease the old
                    // leader confirmed: it replaces no primary for silence before the silence it
                    // would require of a primary it had heard from (a proven death needs no wait).
                    let silenceApplies = ContinuousClock.now - since >= .milliseconds(Int64(Self.silenceMillis))
                    await failover(node, view, silenceApplies: silenceApplies, evidence: evidence)
                    checks += 1
                    guard checks % Self.rebalanceEveryChecks == 0 else { continue }
                    // Draining members (leaving) take no shard: the ring is the others.
                    let members = node.metadata.metadata.members.values.filter { !$0.draining }.map(\.id).sorted()
                    if ring?.members != members { ring = (members, HashRing(nodes: members)) }
                    if let ring { await rebalance(node, view, ring: ring.ring, evidence: evidence) }
                }
            }
        }
    }

    func stop() async {
        let running = task.withLock { task in defer { task = nil }; return task }
        running?.cancel()
        await running?.value
    }

    /// When the leader last saw a member ask for a linearizable read, by the counts in its
    /// published status: the check that first sees a count change counts as the time (never
    /// earlier than the read, so a silence measured from it is never too long).
    struct ReadsHeard {
        private var seen: [NodeID: (count: UInt64, at: ContinuousClock.Instant)] = [:]

        /// Notes `counts` seen `now`; returns when each member last read.
        mutating func update(_ counts: [NodeID: UInt64], now: ContinuousClock.Instant) -> [NodeID: ContinuousClock.Instant] {
            for (member, count) in counts where count > 0 && seen[member]?.count != count {
                seen[member] = (count, now)
            }
            return seen.mapValues(\.at)
        }
    }

    /// What one check decides on, taken from one published status.
    struct Check {
        /// When this node last heard from each member: a Raft message, or a read asked for it
        /// (as of the published status: never later than the truth, so a probe counted as
        /// "after" it really came after).
        let heard: [NodeID: ContinuousClock.Instant]
        /// Reads taken for each member as of that status (`ReadFence.readsSeen`).
        let readsRequested: [NodeID: UInt64]

        init(status: ClusterNode.Status, reads: inout ReadsHeard) {
            let now = ContinuousClock.now
            var heard = status.lastHeardMillis.mapValues { now - .milliseconds(Int64(clamping: $0)) }
            heard.merge(reads.update(status.readsRequested, now: now)) { max($0, $1) }
            self.heard = heard
            readsRequested = status.readsRequested
        }

        func silentFor(_ member: NodeID) -> Duration? {
            heard[member].map { ContinuousClock.now - $0 }
        }
    }

    private func silent(_ member: NodeID, _ node: ClusterNode, _ metadata: ClusterMetadata, _ view: Check) -> Bool {
        member != node.id && (metadata.members[member] == nil
            || (view.silentFor(member) ?? .seconds(Int64.max)) > .milliseconds(Int64(Self.silenceMillis)))
    }

    /// Whether `member`'s process is proven gone (see `RefusalEvidence`).
    private func gone(_ member: NodeID, _ node: ClusterNode, _ view: Check, _ evidence: RefusalEvidence) -> Bool {
        member != node.id && evidence.provesGone(member, lastHeard: view.heard[member])
    }

    // MARK: Probing silent primaries

    /// Probes each member that leads a shard and has been unheard for `probeAfterMillis`
    /// (all at once): one connect to its advertised address, and when that is refused, a second
    /// `RefusalEvidence.spreadMillis` later. Members this node cannot probe (reached through a
    /// route, no address) gather no evidence. Returns `evidence` with the outcomes.
    private func probeQuietPrimaries(_ node: ClusterNode, _ view: Check, _ evidence: RefusalEvidence) async -> RefusalEvidence {
        let metadata = node.metadata.metadata
        let heard = view.heard
        var evidence = evidence
        evidence.keep(Set(metadata.members.keys), lastHeard: heard)
        let primaries = Set(metadata.collections.values.filter(\.isSharded).flatMap { $0.shards.map(\.primary) })
        let quiet = primaries.filter { member in
            member != node.id && metadata.members[member] != nil && !evidence.provesGone(member, lastHeard: heard[member])
                && (view.silentFor(member) ?? .seconds(Int64.max)) > .milliseconds(Int64(Self.probeAfterMillis))
        }
        guard !quiet.isEmpty else { return evidence }
        let timeout = Duration.milliseconds(Self.probeTimeoutMillis)
        let outcomes = await withTaskGroup(of: [(NodeID, Bool, ContinuousClock.Instant)].self) { group in
            for member in quiet {
                group.addTask {
                    var seen: [(NodeID, Bool, ContinuousClock.Instant)] = []
                    for attempt in 0..<RefusalEvidence.refusalsNeeded {
                        if attempt > 0 { try? await Task.sleep(for: .milliseconds(RefusalEvidence.spreadMillis)) }
                        let started = ContinuousClock.now
                        guard let refused = await node.connectRefused(by: member, timeout: timeout) else { return seen }
                        seen.append((member, refused, started))
                        if !refused { break }
                    }
                    return seen
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        for (member, refused, started) in outcomes { evidence.record(member, refused: refused, startedAt: started) }
        return evidence
    }

    // MARK: Failover

    /// Replaces the primary of every shard whose primary is proven gone or, once
    /// `silenceApplies`, left the cluster or has been unheard for `silenceMillis`. The live
    /// replicas are asked once each for all their copies, and each old primary's shards are
    /// promoted together (`promoteShards`, up to `ClusterMetadata.maxPromotions` an entry),
    /// fenced on its reads as `view` counted them: a node that led hundreds of shards is
    /// replaced in a few commits, not hundreds one after another.
    private func failover(_ node: ClusterNode, _ view: Check, silenceApplies: Bool, evidence: RefusalEvidence) async {
        let metadata = node.metadata.metadata
        var due: [(collection: String, number: UInt32, shard: ClusterMetadata.Shard)] = []
        for collection in metadata.collections.values.sorted(by: { $0.name < $1.name }) where collection.isSharded {
            for (number, shard) in collection.shards.enumerated()
            where gone(shard.primary, node, view, evidence) || (silenceApplies && silent(shard.primary, node, metadata, view)) {
                due.append((collection.name, UInt32(number), shard))
            }
        }
        guard !due.isEmpty else { return }
        let candidates = Set(due.flatMap(\.shard.replicas)).filter { !silent($0, node, metadata, view) && !gone($0, node, view, evidence) }
        let copies = await logs(on: candidates, node)
        var promotions: [NodeID: [ClusterMetadata.Promotion]] = [:]
        for (collection, number, shard) in due {
            let answers = shard.replicas.compactMap { replica in copies[replica]?[ShardStore.ShardID(collection, number)].map { (replica, $0) } }
            guard let best = answers.max(by: { a, b in
                (a.1.lastRecordEpoch, a.1.lastSequence, b.0) < (b.1.lastRecordEpoch, b.1.lastSequence, a.0)
            }) else { continue }
            promotions[shard.primary, default: []].append(
                ClusterMetadata.Promotion(collection: collection, shard: number, primary: best.0, epoch: shard.epoch))
        }
        for (old, list) in promotions.sorted(by: { $0.key < $1.key }) {
            let fence = ReadFence(member: old, readsSeen: view.readsRequested[old] ?? 0)
            let reason = gone(old, node, view, evidence) ? "connections refused" : "silence"
            for start in stride(from: 0, to: list.count, by: ClusterMetadata.maxPromotions) {
                let part = Array(list[start..<min(start + ClusterMetadata.maxPromotions, list.count)])
                let named = part.prefix(8).map { "\($0.collection)/\($0.shard) to \($0.primary) at epoch \($0.epoch + 1)" }
                await propose(.promoteShards(part), fence: fence, node, what: "shard primary replaced", [
                    "from": "\(old)", "count": "\(part.count)", "reason": "\(reason)",
                    "shards": "\(named.joined(separator: ", "))\(part.count > 8 ? " and \(part.count - 8) more" : "")"])
            }
        }
    }

    /// Every copy each of `nodes` holds (`ShardStatus` of all collections), for the nodes that
    /// answer in time.
    private func logs(on nodes: Set<NodeID>, _ node: ClusterNode) async -> [NodeID: [ShardStore.ShardID: RuvectorV1.LocalShardStatus]] {
        let sharding = self.sharding
        return await withTaskGroup(of: (NodeID, RuvectorV1.ShardStatusResponse?).self) { group in
            for candidate in nodes {
                group.addTask { (candidate, await ShardReplicationMethods.ask(target: candidate, node: node, sharding: sharding)) }
            }
            var copies: [NodeID: [ShardStore.ShardID: RuvectorV1.LocalShardStatus]] = [:]
            for await (candidate, answer) in group {
                guard let answer else { continue }
                copies[candidate] = Dictionary(answer.shards.map { (ShardStore.ShardID($0.collection, $0.shard), $0) },
                                               uniquingKeysWith: { first, _ in first })
            }
            return copies
        }
    }

    private func propose(_ command: ClusterMetadata.Command, fence: ReadFence? = nil, _ node: ClusterNode, what: String,
                         _ details: Logger.Metadata) async {
        do {
            let outcome = if let fence {
                try await node.propose(command, fence: fence, timeout: .seconds(2))
            } else {
                try await node.propose(command, timeout: .seconds(2))
            }
            var metadata = details
            metadata["outcome"] = "\(outcome)"
            logger.info("\(what)", metadata: metadata)
        } catch {
            logger.warning("shard change not committed; retrying", metadata: details.merging(["error": "\(error)"]) { $1 })
        }
    }

    // MARK: Rebalancing

    private func rebalance(_ node: ClusterNode, _ view: Check, ring: HashRing, evidence: RefusalEvidence) async {
        let metadata = node.metadata.metadata
        // Handovers that ended (switched, cancelled, failed over, collection deleted) are forgotten.
        handoffsBegun.withLock { begun in
            begun = begun.filter { (metadata.collections[$0.key.collection]?.shard($0.key.number)?.handoff ?? 0) != 0 }
        }
        var moving = metadata.collections.values.reduce(0) { $0 + $1.shards.filter { !$0.incoming.isEmpty }.count }
        for collection in metadata.collections.values.sorted(by: { $0.name < $1.name }) where collection.isSharded {
            let factor = min(Int(collection.replicationFactor), ring.nodes.count)
            var progress: [UInt32: RuvectorV1.LocalShardStatus]?
            for (index, shard) in collection.shards.enumerated() {
                let number = UInt32(index)
                let target = ShardPlacement.replicas(collection: collection.name, shard: number, ring: ring, replicationFactor: factor)
                guard Set(shard.holders) != Set(target) || !shard.incoming.isEmpty || shard.handoff != 0 else { continue }
                // A silent primary is failover's first; moves wait for a live one.
                guard !silent(shard.primary, node, metadata, view), !gone(shard.primary, node, view, evidence) else { continue }
                let missing = target.filter { !shard.copies.contains($0) }
                var change = shard
                change.incoming = shard.incoming.filter { target.contains($0) }
                if !missing.isEmpty {
                    guard moving < Self.maxConcurrentMoves || !shard.incoming.isEmpty else { continue }
                    if shard.incoming.isEmpty { moving += 1 }
                    change.incoming += missing
                    await propose(.updateShard(collection: collection.name, shard: number, expected: shard, new: change), node,
                                  what: "shard copies arriving", ["shard": "\(collection.name)/\(number)", "nodes": "\(missing)"])
                    continue
                }
                // Every target node has a copy: switch once the arriving ones caught up.
                if progress == nil {
                    progress = await primaryProgress(collection, node)
                }
                guard let status = progress?[number], status.epoch == shard.epoch else { continue }
                let acked = Dictionary(status.replicas.map { ($0.nodeId, $0) }, uniquingKeysWith: { first, _ in first })
                let caughtUp = { (id: NodeID) -> Bool in
                    id == shard.primary || (acked[id].map { $0.connected && $0.lagRecords <= Self.caughtUpRecords } ?? false)
                }
                guard change.incoming.allSatisfy(caughtUp) else { continue }
                let id = ShardStore.ShardID(collection.name, number)
                var switched: ClusterMetadata.Shard
                if target.contains(shard.primary) {
                    // (A handoff begun for an older ring is dropped with it.)
                    switched = ClusterMetadata.Shard(primary: shard.primary, replicas: target.filter { $0 != shard.primary }, epoch: shard.epoch)
                } else if shard.handoff == 0 || !target.contains(shard.handoff) || acked[shard.handoff]?.connected != true {
                    // The primary moves, in two steps. First it is handed to the connected target
                    // copy with the most of its log: once the primary applies that, it takes no
                    // more writes, so none it acknowledges can be missing on its successor.
                    let connected = target.filter { acked[$0]?.connected == true }
                    guard let next = connected.max(by: { (acked[$0]?.ackedSequence ?? 0, $1) < (acked[$1]?.ackedSequence ?? 0, $0) }) else {
                        continue
                    }
                    var handing = shard
                    handing.handoff = next
                    handoffsBegun.withLock { $0[id] = .now }
                    await propose(.updateShard(collection: collection.name, shard: number, expected: shard, new: handing), node,
                                  what: "shard primary handing over", ["shard": "\(id)", "from": "\(shard.primary)", "to": "\(next)"])
                    continue
                } else {
                    // Then, once the old primary reports its log sealed and the successor has
                    // all of it, the switch; a handoff that does not get there in time is
                    // cancelled (the primary takes writes again) and begun afresh.
                    let next = shard.handoff
                    guard status.sealed, let progress = acked[next], progress.ackedSequence >= status.lastSequence else {
                        let begun = handoffsBegun.withLock { begun -> ContinuousClock.Instant in
                            let at = begun[id] ?? .now
                            begun[id] = at
                            return at
                        }
                        if ContinuousClock.now - begun > .milliseconds(Self.handoffPatienceMillis) {
                            var cancelled = shard
                            cancelled.handoff = 0
                            handoffsBegun.withLock { $0[id] = nil }
                            await propose(.updateShard(collection: collection.name, shard: number, expected: shard, new: cancelled), node,
                                          what: "shard handover cancelled", ["shard": "\(id)", "from": "\(shard.primary)", "to": "\(next)",
                                                                             "sealed": "\(status.sealed)"])
                        }
                        continue
                    }
                    switched = ClusterMetadata.Shard(primary: next, replicas: target.filter { $0 != next }, epoch: shard.epoch + 1)
                }
                handoffsBegun.withLock { $0[id] = nil }
                await propose(.updateShard(collection: collection.name, shard: number, expected: shard, new: switched), node,
                              what: "shard moved", ["shard": "\(collection.name)/\(number)", "from": "\(shard.holders)",
                                                    "to": "\(switched.holders)", "epoch": "\(switched.epoch)"])
            }
        }
    }

    /// Each shard's state on its primary (replicas' progress), for the shards of `collection`
    /// whose primary answers.
    private func primaryProgress(_ collection: ClusterMetadata.Collection, _ node: ClusterNode) async -> [UInt32: RuvectorV1.LocalShardStatus] {
        let primaries = Set(collection.shards.map(\.primary))
        let sharding = self.sharding
        let answers = await withTaskGroup(of: RuvectorV1.ShardStatusResponse?.self) { group in
            for primary in primaries { group.addTask { await ShardReplicationMethods.ask(target: primary, collection: collection.name, node: node, sharding: sharding) } }
            return await group.reduce(into: [RuvectorV1.ShardStatusResponse]()) { if let answer = $1 { $0.append(answer) } }
        }
        var progress: [UInt32: RuvectorV1.LocalShardStatus] = [:]
        for answer in answers { for shard in answer.shards where shard.primary { progress[shard.shard] = shard } }
        return progress
    }
}
