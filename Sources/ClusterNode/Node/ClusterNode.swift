import ClusterEngine
import Logging
import NIOCore
import NIOPosix
import RPC
import Storage
import Synchronization
import Wire

/// One member of the cluster: drives a `RaftNode` on an event loop of its own (a 10 ms tick
/// from the monotonic clock, messages in from peers), persists what each Ready says before
/// sending its messages (fsync: etcd's Ready contract), sends through `RaftTransport`, and
/// hands committed entries to the `MetadataApplier`. Clients' cluster-wide writes and
/// linearizable reads go through `propose` and `linearizableRead`, which forward to the leader
/// when this node is a follower.
///
/// Everything below marked "loop" is touched on `loop` only.
public final class ClusterNode: @unchecked Sendable {
    /// How a node runs.
    public struct Options: Sendable {
        /// This node's id (non-zero).
        public var id: NodeID
        /// The founding members and their addresses (`--cluster`); empty for a node that joins
        /// an existing cluster. Used once, when the node's Raft state is created.
        public var founding: [NodeID: String]
        /// Where to dial peers instead of their advertised address (`--peer-route`).
        public var routes: [NodeID: String] = [:]
        /// Whether a refused connect to a peer's advertised address counts as proof that its
        /// process is gone (`connectRefused`; `--failover-on-refused-connect`). Turn it off
        /// where the network itself may refuse connects (REJECT firewall rules, virtual IPs).
        public var refusedConnectProvesDeath = true
        /// Where the node keeps its Raft log and metadata effects (`<data-dir>/cluster`).
        public var directory: String
        /// Timer period.
        public var tickMillis = 10
        /// Election timeout: a random time in [electionTicks, 2 x electionTicks) ticks (150-300 ms).
        public var electionTicks = 15
        /// Heartbeat period in ticks (50 ms).
        public var heartbeatTicks = 5
        /// Applied entries between two compactions of the Raft log.
        public var snapshotEntries = 10_000
        /// fsync policy of the Raft log (`always` in production: a vote must survive a power loss).
        public var syncPolicy: WALSyncPolicy = .always
        /// The memory this node may hold, reported to the metadata once it is a member (0: none).
        public var capacityBytes: UInt64 = 0
        /// TLS for node-to-node connections (nil: h2c): this node's certificate, verified peers.
        public var tls: TLSConfiguration?
        /// The peer role (`ServerContext.peerRoles`) a caller of RaftService must prove; nil
        /// without TLS, where node-to-node calls are not authenticated.
        public var requiredPeerRole: String?
        /// Sent with every node-to-node call: the cluster key (`authorization: Bearer <key>`)
        /// when nodes prove themselves by key rather than by certificate.
        public var callMetadata = Metadata()

        public init(id: NodeID, founding: [NodeID: String], directory: String) {
            self.id = id
            self.founding = founding
            self.directory = directory
        }
    }

    /// A node's view of the cluster, for status pages and metrics.
    public struct Status: Sendable, Equatable {
        public var id: NodeID
        public var role: RaftNode.Role
        public var term: UInt64
        /// The leader this node follows (0 when it knows none).
        public var leader: NodeID
        public var commitIndex: UInt64
        public var lastIndex: UInt64
        public var voters: [NodeID]
        public var learners: [NodeID]
        /// Times the known leader changed since start.
        public var leaderChanges: UInt64
        /// Milliseconds since this node last heard from each peer.
        public var lastHeardMillis: [NodeID: UInt64]
        /// Snapshots sent to followers since start.
        public var snapshotsSent: UInt64
        /// True once the Raft log could not be written: the node stopped taking part.
        public var failed: Bool
        /// The leader's replication progress per member (empty on followers).
        public var matchIndex: [NodeID: UInt64] = [:]
        /// Highest entry applied to the metadata here.
        public var appliedIndex: UInt64 = 0
        /// Linearizable reads this node took for each member as leader (`readIndexLocally`),
        /// in any term: what a `ReadFence` is decided on (empty on followers).
        public var readsRequested: [NodeID: UInt64] = [:]
    }

    /// Durations of the Raft log's appends (each fsynced), for the metrics histogram.
    public struct AppendLatency: Sendable {
        /// Upper bounds of the buckets, in seconds.
        public static let bounds: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]
        public var buckets = [UInt64](repeating: 0, count: AppendLatency.bounds.count)
        public var count: UInt64 = 0
        public var sumSeconds: Double = 0

        mutating func record(_ duration: Duration) {
            let seconds = Double(duration.nanoseconds) / 1e9
            if let bucket = Self.bounds.firstIndex(where: { seconds <= $0 }) { buckets[bucket] += 1 }
            count += 1
            sumSeconds += seconds
        }
    }

    /// What the leader knows of a member (GetState).
    public struct MemberView: Sendable, Equatable {
        public var id: NodeID
        public var matchIndex: UInt64
        public var lastSeenMillis: UInt64
        public var healthy: Bool
    }

    public let id: NodeID
    public let options: Options
    private let group: MultiThreadedEventLoopGroup
    private let loop: any EventLoop
    private let applier: MetadataApplier
    private let transport: RaftTransport
    private let logger: Logger
    private let published: Mutex<Status>
    private let appendLatencyStore = Mutex(AppendLatency())
    /// Told on the Raft loop when the known leader changes (0: none).
    private let leaderObserver: Mutex<(@Sendable (NodeID) -> Void)?> = Mutex(nil)

    // loop
    private var node: RaftNode
    private let storage: WALRaftStorage
    private var pendingReads: [UInt64: CheckedContinuation<UInt64, any Error>] = [:]
    private var nextReadContext: UInt64 = 0
    private var lastHeard: [NodeID: ContinuousClock.Instant] = [:]
    private var knownLeader: NodeID = 0
    private var leaderChanges: UInt64 = 0
    private var snapshotsSent: UInt64 = 0
    private var failed = false
    private var ticker: RepeatedTask?
    private var ticks = 0
    private var compacting = false
    private var capacityReportRunning = false
    private var readyScheduled = false
    /// The term and vote on disk (messages that depend on a newer one wait for its fsync).
    private var persistedTerm: UInt64 = 0
    private var persistedVote: NodeID = 0

    /// Opens (or creates) the node's Raft state in `options.directory`: a node with no state and
    /// founding members writes the founding entries (a voter and a member record per founding
    /// node, committed at term 1, identical on every founding node); a node with neither waits
    /// to be added (Join).
    public init(options: Options, effects: (any MetadataEffects)?, logger: Logger) throws {
        id = options.id
        self.options = options
        self.logger = logger
        try AtomicFile.createDirectory(options.directory)
        try Self.checkNodeID(options.id, directory: options.directory)
        storage = try WALRaftStorage(directory: options.directory + "/raft", founding: Configuration(voters: []),
                                     syncPolicy: options.syncPolicy)
        if storage.isEmpty && !options.founding.isEmpty {
            try storage.save(Self.foundingReady(options.founding))
        }
        let persisted = try storage.load()
        var settings = RaftConfiguration()
        settings.electionTicks = options.electionTicks
        settings.heartbeatTicks = options.heartbeatTicks
        settings.seed = UInt64.random(in: 1...UInt64.max)
        persistedTerm = persisted.hardState.term
        persistedVote = persisted.hardState.vote
        node = RaftNode(id: options.id, settings: settings, hardState: persisted.hardState,
                        snapshot: persisted.snapshot, entries: persisted.entries)
        group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var loops = group.makeIterator()
        guard let raftLoop = loops.next(), let applyLoop = loops.next() else {
            throw ClusterError(.stopped, "no event loop for the Raft node")
        }
        loop = raftLoop
        applier = try MetadataApplier(loop: applyLoop, snapshot: persisted.snapshot, effects: effects,
                                      directory: options.directory, logger: logger)
        let box = WeakNode()
        transport = RaftTransport(selfID: options.id, routes: options.routes, tls: options.tls, callMetadata: options.callMetadata, logger: logger, events: PeerLinkEvents(
            unreachable: { peer in box.node?.peerUnreachable(peer) },
            snapshotSent: { peer, succeeded in box.node?.snapshotFinished(peer, succeeded: succeeded) }))
        published = Mutex(Status(id: options.id, role: .follower, term: persisted.hardState.term, leader: 0,
                                 commitIndex: persisted.hardState.commit, lastIndex: 0, voters: [], learners: [],
                                 leaderChanges: 0, lastHeardMillis: [:], snapshotsSent: 0, failed: false))
        box.node = self
        transport.setAddresses(memberAddresses(applier.current.metadata))
        applier.onApplied = { [weak self] applied, metadata in self?.metadataApplied(applied, metadata) }
    }

    /// The entries every founding node starts from: voters first, then their addresses.
    static func foundingReady(_ founding: [NodeID: String]) -> Ready {
        var ready = Ready()
        var index: UInt64 = 0
        for id in founding.keys.sorted() {
            index += 1
            ready.entries.append(Entry(term: 1, index: index, payload: .configuration(.addVoter(id))))
        }
        for (id, address) in founding.sorted(by: { $0.key < $1.key }) {
            index += 1
            let command = ClusterMetadata.encode(.addMember(ClusterMetadata.Member(id: id, address: address)))
            ready.entries.append(Entry(term: 1, index: index, payload: .command(command)))
        }
        ready.hardState = HardState(term: 1, vote: 0, commit: index)
        return ready
    }

    /// A data directory belongs to one node id for good.
    private static func checkNodeID(_ id: NodeID, directory: String) throws {
        let path = directory + "/node-id"
        if AtomicFile.exists(path) {
            let recorded = String(decoding: try AtomicFile.read(path), as: UTF8.self)
            guard recorded == "\(id)" else {
                throw ClusterError(.invalidArgument, "this data directory belongs to node \(recorded), not node \(id): use that id, or another data directory")
            }
        } else {
            try AtomicFile.write(Array("\(id)".utf8), to: path)
        }
    }

    /// Called on the Raft loop whenever the known leader changes (0: none). Set before `start`.
    public func observeLeader(_ observer: @escaping @Sendable (NodeID) -> Void) {
        leaderObserver.withLock { $0 = observer }
    }

    /// Starts ticking and handles what the persisted state already asks (applying committed
    /// entries). `advertisedAddress` goes with every batch this node sends.
    public func start(advertisedAddress: String) {
        transport.selfAddress.withLock { $0 = advertisedAddress }
        loop.execute { [self] in
            ticker = loop.scheduleRepeatedTask(initialDelay: .milliseconds(Int64(options.tickMillis)),
                                               delay: .milliseconds(Int64(options.tickMillis))) { [weak self] _ in self?.tick() }
            processReady()
        }
    }

    /// Stops the node: no more ticks or messages; the log is closed.
    public func stop() async {
        let closed = loop.submit { [self] in
            ticker?.cancel()
            failed = true
            failPendingReads(ClusterError(.unavailable, "the node is shutting down"))
            do { try storage.close() } catch {
                logger.error("the Raft log did not close cleanly; it is replayed at the next start", metadata: ["error": "\(error)"])
            }
        }
        _ = try? await closed.get()     // the loop is ours and still running: it only fails once shut down
        await applier.stop()
        await transport.close()
        try? await group.shutdownGracefully()
    }

    // MARK: The Raft loop

    private func tick() {
        guard !failed else { return }
        node.tick()
        ticks += 1
        if ticks % 100 == 0 { reportCapacityIfNeeded() }
        // A caught-up learner becomes a voter (the engine refuses while it lags; try again later).
        if ticks % 10 == 0, node.role == .leader {
            for learner in node.configuration.learners.sorted() {
                if (try? node.proposeConfigurationChange(.addVoter(learner))) != nil {
                    logger.info("promoting a caught-up learner to voter", metadata: ["node": "\(learner)"])
                    break
                }
            }
        }
        processReady()
    }

    /// Records this node's capacity in the metadata when it is a member and the record differs
    /// (once a second at most, one proposal at a time).
    private func reportCapacityIfNeeded() {
        guard options.capacityBytes > 0, !capacityReportRunning, node.leader != 0,
              let recorded = applier.current.metadata.members[id], recorded.capacityBytes != options.capacityBytes else { return }
        capacityReportRunning = true
        let command = ClusterMetadata.Command.reportCapacity(id, bytes: options.capacityBytes)
        Task { [weak self] in
            _ = try? await self?.propose(command, timeout: .seconds(2))
            self?.loop.execute { self?.capacityReportRunning = false }
        }
    }

    /// Where a peer says it is (from its batches), for peers the metadata does not place yet.
    public func learnAddress(_ address: String, of peer: NodeID) {
        transport.learnAddress(address, of: peer)
    }

    /// Steps messages received from peers.
    public func receive(_ messages: [Message]) {
        loop.execute { [self] in
            guard !failed else { return }
            let now = ContinuousClock.now
            for message in messages where message.to == id {
                lastHeard[message.from] = now
                node.step(message)
            }
            scheduleReady()
        }
    }

    private func peerUnreachable(_ peer: NodeID) {
        loop.execute { [self] in node.reportUnreachable(peer) }
    }

    private func snapshotFinished(_ peer: NodeID, succeeded: Bool) {
        loop.execute { [self] in
            if succeeded { snapshotsSent += 1 }
            node.reportSnapshot(peer, succeeded: succeeded)
            processReady()
        }
    }

    /// Handles the Ready once the loop has run what is queued on it now: proposals and messages
    /// that arrive together share one Ready, so one fsync and one batch per peer (etcd batches
    /// the same way). Loop only.
    private func scheduleReady() {
        guard !readyScheduled else { return }
        readyScheduled = true
        loop.execute { [self] in
            readyScheduled = false
            processReady()
        }
    }

    /// Persist, send, apply, answer reads: the Ready contract, until nothing is left.
    private func processReady() {
        while !failed, node.hasReady {
            let ready = node.ready()
            // A leader sends before its own fsync, so its disk and its followers' work at once
            // (etcd does the same): its commit index only moves on acknowledgements handled after
            // this save, and clients are answered after applying, so nothing is acknowledged that
            // its disk does not hold. Not when its term or vote changed: those go to disk first.
            let sendFirst = node.role == .leader && ready.snapshot == nil
                && (ready.hardState.map { $0.term == persistedTerm && $0.vote == persistedVote } ?? true)
            if sendFirst { transport.send(ready.messages) }
            // A commit index alone is not worth an fsync: a node that restarts with an older
            // one learns the newer from its leader (it is an optimisation, not a promise). It
            // reaches the disk with the next entries or vote.
            var durable = ready
            if let hard = ready.hardState, hard.term == persistedTerm, hard.vote == persistedVote,
               ready.entries.isEmpty, ready.snapshot == nil {
                durable.hardState = nil
            } else if durable.hardState == nil, !ready.entries.isEmpty {
                durable.hardState = node.hardState
            }
            if durable.hardState != nil || !durable.entries.isEmpty || durable.snapshot != nil {
                do {
                    let started = ContinuousClock.now
                    try storage.save(durable)
                    if let hard = durable.hardState { (persistedTerm, persistedVote) = (hard.term, hard.vote) }
                    let took = ContinuousClock.now - started
                    appendLatencyStore.withLock { $0.record(took) }
                } catch {
                    // Sending what depends on an unsaved vote or entry could break safety: stop.
                    logger.critical("cannot write the Raft log; this node stops taking part in the cluster", metadata: ["error": "\(error)"])
                    failed = true
                    ticker?.cancel()
                    failPendingReads(ClusterError(.stopped, "this node cannot write its Raft log"))
                    break
                }
            }
            if !sendFirst { transport.send(ready.messages) }
            if ready.snapshot != nil || !ready.committedEntries.isEmpty {
                applier.enqueue(snapshot: ready.snapshot, entries: ready.committedEntries)
            }
            for read in ready.readStates {
                var context = read.context[...]
                var key: UInt64 = 0
                while let byte = context.popFirst() { key = key << 8 | UInt64(byte) }
                pendingReads.removeValue(forKey: key)?.resume(returning: read.index)
            }
            node.advance(ready)
        }
        if node.role != .leader && !pendingReads.isEmpty {
            failPendingReads(ClusterError(.unavailable, "this node lost the leadership while confirming a read; retry"))
        }
        if node.leader != knownLeader {
            knownLeader = node.leader
            leaderChanges += 1
            logger.info("leader changed", metadata: ["leader": "\(node.leader)", "term": "\(node.term)", "role": "\(node.role.rawValue)"])
            let leader = node.leader
            leaderObserver.withLock { $0 }?(leader)
        }
        publish()
    }

    private func publish() {
        let now = ContinuousClock.now
        let status = Status(
            id: id, role: node.role, term: node.term, leader: node.leader, commitIndex: node.commitIndex, lastIndex: node.lastIndex,
            voters: node.configuration.voters.sorted(), learners: node.configuration.learners.sorted(), leaderChanges: leaderChanges,
            lastHeardMillis: lastHeard.mapValues { UInt64(max(0, (now - $0).nanoseconds / 1_000_000)) },
            snapshotsSent: snapshotsSent, failed: failed,
            matchIndex: node.progressView().mapValues(\.match), appliedIndex: applier.current.applied,
            readsRequested: node.role == .leader
                ? Dictionary(uniqueKeysWithValues: node.progressView().keys.map { ($0, node.readsRequested(by: $0)) }) : [:])
        published.withLock { $0 = status }
    }

    private func failPendingReads(_ error: ClusterError) {
        let waiting = pendingReads
        pendingReads = [:]
        for continuation in waiting.values { continuation.resume(throwing: error) }
    }

    /// Where each member is: the founding list, then what the metadata records.
    private func memberAddresses(_ metadata: ClusterMetadata) -> [NodeID: String] {
        var addresses = options.founding
        for (id, member) in metadata.members { addresses[id] = member.address }
        return addresses
    }

    /// On the applier's loop after each batch: new member addresses, and compaction now and then.
    private func metadataApplied(_ applied: UInt64, _ metadata: ClusterMetadata) {
        transport.setAddresses(memberAddresses(metadata))
        loop.execute { [self] in
            guard !failed, !compacting, applied >= node.snapshot.index + UInt64(options.snapshotEntries) else { return }
            // Encoded only when a compaction is due, not after every batch.
            let data = metadata.encoded()
            compacting = true
            defer { compacting = false }
            do {
                try node.compact(upTo: applied, data: data)
                try storage.saveCompaction(node.snapshot)
                logger.info("Raft log compacted", metadata: ["index": "\(applied)", "bytes": "\(data.count)"])
            } catch {
                logger.error("Raft log compaction failed; the next interval retries", metadata: ["error": "\(error)"])
            }
        }
    }

    // MARK: What the services call

    /// The node's current view.
    public var status: Status { published.withLock { $0 } }

    /// How long the Raft log's appends took since start.
    public var appendLatency: AppendLatency { appendLatencyStore.withLock { $0 } }

    /// Raft messages dropped per peer since start (queue full or link down).
    public var droppedMessages: [NodeID: Int] { transport.droppedMessages }

    /// The metadata as this node has applied it, and the index it is applied to.
    public var metadata: (metadata: ClusterMetadata, applied: UInt64) { applier.current }

    /// The advertised address of `node`.
    public func address(of node: NodeID) -> String? { transport.address(of: node) }

    /// What one TCP connect to the address `peer` advertises shows (see `ConnectProbe`):
    /// true when it is refused (no process listens there), false when it connects or fails
    /// otherwise (a timeout, an unreachable network), nil when this node cannot tell: the peer
    /// is dialled through a route (`Options.routes`), whose refusals would be the route's, or
    /// its address is unknown, or `Options.refusedConnectProvesDeath` is off. Shard failover uses it to tell a dead primary from a silent one.
    public func connectRefused(by peer: NodeID, timeout: Duration) async -> Bool? {
        guard options.refusedConnectProvesDeath, peer != id, let address = transport.probeAddress(of: peer),
              let (host, port) = PeerAddress.split(address) else { return nil }
        let outcome = await ConnectProbe.probe(host: host, port: port, timeout: .nanoseconds(timeout.nanoseconds), group: group)
        return outcome == .refused
    }

    /// The gRPC channel for shard data to `peer` (through its `--peer-routes` route, with the
    /// cluster's TLS): a connection of its own, beside the one Raft uses.
    public func channel(to peer: NodeID) async throws -> GRPCChannel { try await transport.channel(to: peer, for: .data) }

    /// Runs `body` on the Raft loop.
    private func onLoop<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await loop.submit(body).get()
    }

    /// Throws unless this node leads now (as published): the error names the leader when one is
    /// known (a client sends the request there), else says none is (retry).
    public func requireLeader() throws {
        let leader = status.leader
        guard leader != id else { return }
        throw notLeaderError(leader: leader)
    }

    /// The error for a request only the leader takes, naming the leader when one is known.
    private func notLeaderError(leader: NodeID) -> ClusterError {
        guard leader != 0 else {
            return ClusterError(.unavailable, "node \(id) knows no leader (an election is running, or it is cut off); retry shortly")
        }
        return ClusterError(.notLeader(leader: leader, address: transport.address(of: leader)),
                            "node \(id) is not the leader; node \(leader) is")
    }

    /// Proposes a metadata command and waits until it is applied on this node: directly on the
    /// leader, forwarded to it (RaftService/Propose) from a follower.
    public func propose(_ command: ClusterMetadata.Command, timeout: Duration) async throws -> ClusterMetadata.Outcome {
        let bytes = ClusterMetadata.encode(command)
        // The published view, not a hop to the Raft loop: proposing re-checks the leadership.
        if status.leader == id {
            do {
                let (index, term) = try await proposeLocally(bytes)
                return try MetadataApplier.known(await applier.waitApplied(index, term: term, timeout: timeout))
            } catch let error as ClusterError {
                guard case .notLeader = error.code else { throw error }
                // Lost the leadership just now: forward to the new leader below.
            }
        }
        // Forwarded to the leader this node knows; while leadership moves (the one asked has
        // just stepped down, or is handing over) it asks again as its view catches up, and
        // answers UNAVAILABLE (retry) rather than passing on the old leader's refusal. Only a
        // refusal is retried: a failed call may have been appended, and proposing it twice
        // would apply it twice (a create answering "already exists" to its own proposer).
        let deadline = ContinuousClock.now + timeout
        var attempt = 0
        while true {
            attempt += 1
            let current = status.leader
            guard current != 0, current != id else { throw notLeaderError(leader: 0) }
            do {
                let channel = try await transport.channel(to: current)
                let request = RuvectorV1.ProposeRequest(command: bytes, from: id)
                let (reply, _) = try await channel.unary("/ruvector.v1.RaftService/Propose", request: request.encoded(),
                                                         timeout: max(.zero, deadline - .now))
                let answer = try RuvectorV1.ProposeResponse(decoding: reply)
                return try MetadataApplier.known(await applier.waitApplied(answer.index, timeout: max(.zero, deadline - .now)))
            } catch let error as RPCError where error.code == .failedPrecondition
                        && (error.trailingMetadata["ruvector-leader-id"] != nil || error.message.contains("being transferred")) {
                guard attempt < 10, ContinuousClock.now + .milliseconds(50) < deadline else {
                    throw ClusterError(.unavailable, "the leadership is moving (node \(current) no longer leads); retry: \(error.message)")
                }
                try await Task.sleep(for: .milliseconds(10 * attempt))
            }
        }
    }

    /// Proposes a command that deposes `fence.member` (see `ReadFence`) and waits until it is
    /// applied here. Leader only (the fence is decided on the leader's own read counts): a
    /// follower answers `notLeader`; a member that asked for a read since the decision makes
    /// it `failedPrecondition` (decide again).
    public func propose(_ command: ClusterMetadata.Command, fence: ReadFence, timeout: Duration) async throws -> ClusterMetadata.Outcome {
        let bytes = ClusterMetadata.encode(command)
        guard status.leader == id else { throw notLeaderError(leader: status.leader) }
        let (index, term) = try await appendAsLeader { node throws(RaftError) in try node.propose(bytes, fence: fence) }
        return try MetadataApplier.known(await applier.waitApplied(index, term: term, timeout: timeout))
    }

    /// Appends `command` to the log (leader only) and returns its index and term.
    func proposeLocally(_ command: [UInt8]) async throws -> (index: UInt64, term: UInt64) {
        try await appendAsLeader { node throws(RaftError) in try node.propose(command) }
    }

    /// Runs `append` (a proposal the engine takes as leader) on the Raft loop and returns the
    /// index and term of the entry it appended.
    private func appendAsLeader(_ append: @escaping @Sendable (inout RaftNode) throws(RaftError) -> Void)
        async throws -> (index: UInt64, term: UInt64) {
        try await onLoop { [self] in
            guard !failed else { throw ClusterError(.stopped, "this node cannot write its Raft log") }
            do {
                try append(&node)
            } catch {
                throw raftError(error)
            }
            let placed = (node.lastIndex, node.term)
            scheduleReady()
            return placed
        }
    }

    /// The leader's side of a forwarded proposal (decoded and checked by the caller): appended,
    /// committed and applied here.
    public func proposeForwarded(_ command: [UInt8], timeout: Duration) async throws -> (index: UInt64, term: UInt64) {
        let (index, term) = try await proposeLocally(command)
        _ = try await applier.waitApplied(index, term: term, timeout: timeout)
        return (index, term)
    }

    private func raftError(_ error: any Error) -> any Error {
        guard let error = error as? RaftError else { return error }
        switch error.code {
        case .notLeader(let leader): return notLeaderError(leader: leader)
        case .rejected: return ClusterError(.failedPrecondition, error.message)
        }
    }

    /// A linearizable read point: once this returns, this node's metadata is at least as new as
    /// any change committed before the call (ReadIndex through the leader, then a wait until
    /// this node applied that far). Returns the leader's view of the members.
    public func linearizableRead(timeout: Duration) async throws -> [MemberView] {
        let leader = status.leader
        let index: UInt64
        let view: [MemberView]
        if leader == id {
            (index, view) = try await readIndexLocally(timeout: timeout)
        } else {
            guard leader != 0 else { throw notLeaderError(leader: 0) }
            let channel = try await transport.channel(to: leader)
            let (reply, _) = try await channel.unary("/ruvector.v1.RaftService/ReadIndex",
                                                     request: RuvectorV1.ReadIndexRequest(from: id).encoded(), timeout: timeout)
            let answer = try RuvectorV1.ReadIndexResponse(decoding: reply)
            index = answer.index
            view = answer.progress.map { MemberView(id: $0.nodeId, matchIndex: $0.matchIndex, lastSeenMillis: $0.lastSeenMillis, healthy: $0.healthy) }
        }
        _ = try await applier.waitApplied(index, timeout: timeout)
        return view
    }

    /// The leader's side of ReadIndex: confirms the leadership with a quorum of heartbeats.
    /// `member` is the node the read is for (0: this one); a member being deposed by a fenced
    /// proposal (`propose(_:fence:timeout:)`) gets an index that includes it.
    public func readIndexLocally(timeout: Duration, for member: NodeID = 0) async throws -> (index: UInt64, members: [MemberView]) {
        let index: UInt64 = try await withCheckedThrowingContinuation { continuation in
            loop.execute { [self] in
                guard !failed else { return continuation.resume(throwing: ClusterError(.stopped, "this node cannot write its Raft log")) }
                nextReadContext += 1
                let key = nextReadContext
                var context: [UInt8] = []
                for shift in stride(from: 56, through: 0, by: -8) { context.append(UInt8(truncatingIfNeeded: key >> UInt64(shift))) }
                do {
                    try node.readIndex(context: context, from: member)
                } catch {
                    return continuation.resume(throwing: raftError(error))
                }
                pendingReads[key] = continuation
                scheduleReady()
                loop.scheduleTask(in: .nanoseconds(timeout.nanoseconds)) { [self] in
                    pendingReads.removeValue(forKey: key)?.resume(throwing: ClusterError(.deadlineExceeded,
                        "the leader could not confirm its leadership with a quorum in time"))
                }
            }
        }
        return (index, try await memberViews())
    }

    /// What this node (as leader) knows of each member's replication.
    public func memberViews() async throws -> [MemberView] {
        try await onLoop { [self] in
            let now = ContinuousClock.now
            let electionMillis = Int64(options.electionTicks * options.tickMillis)
            return node.progressView().sorted(by: { $0.key < $1.key }).map { peer, progress in
                let seen = peer == id ? 0 : lastHeard[peer].map { (now - $0).nanoseconds / 1_000_000 } ?? Int64.max
                return MemberView(id: peer, matchIndex: progress.match, lastSeenMillis: UInt64(clamping: seen),
                                  healthy: peer == id || seen <= electionMillis)
            }
        }
    }

    /// Applies a membership change (leader only) and waits until it is applied here.
    public func changeMembership(_ change: ConfigurationChange, timeout: Duration) async throws {
        let (index, term) = try await appendAsLeader { node throws(RaftError) in try node.proposeConfigurationChange(change) }
        _ = try await applier.waitApplied(index, term: term, timeout: timeout)
    }

    /// Moves the leadership to `target` (leader only) and waits until this node is no longer leader.
    public func transferLeadership(to target: NodeID, timeout: Duration) async throws {
        try await onLoop { [self] in
            do { try node.transferLeadership(to: target) } catch { throw raftError(error) }
            processReady()
        }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let leader = try await onLoop { [self] in node.leader }
            if leader != id && leader != 0 { return }
            try await Task.sleep(for: .milliseconds(Int64(options.tickMillis)))
        }
        throw ClusterError(.deadlineExceeded, "leadership did not move to node \(target) in time")
    }
}

/// Lets the transport reach its node without owning it.
private final class WeakNode: @unchecked Sendable {
    weak var node: ClusterNode?
}
