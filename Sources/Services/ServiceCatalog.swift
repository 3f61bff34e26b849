import ClusterEngine
import ClusterNode
import Logging
import GraphPersistence
import RPC
import Storage
import VectorDatabase
import Wire

/// Builds the server's router: the standard gRPC services, the RuVector services, and
/// (for tests) the interop TestService. The one place that decides what is served.
public final class ServiceCatalog: Sendable {
    /// What to serve beyond the defaults.
    public struct Options: Sendable {
        /// Serve grpc.testing.TestService (interoperability tests only).
        public var enableInteropTestService: Bool
        /// The server's data directory (collections live in `collections/` below it).
        public var dataDirectory: String
        /// Bounds on VectorService requests.
        public var vectorLimits: VectorServiceLimits
        /// How collections keep their files (sync policy, automatic snapshots).
        public var collectionOptions: DurableCollection.Options
        /// Work pools and memory budgets (see ``ServerWork``).
        public var work: ServerWork.Options
        /// The largest response message the RPC server sends (responses are measured against it
        /// while they are built).
        public var maxResponseBytes: Int
        /// Threads that link the points of one large UpsertStream message at once (bulk imports),
        /// and long runs of the logged writes a collection replays when it opens; 1 links them one
        /// at a time (replay then rebuilds exactly the live graph). Default: one per core.
        public var importThreads: Int
        /// Set to run as a member of a cluster (`--node-id`, `--cluster`, `--join`); nil: the
        /// embedded single-node default.
        public var cluster: ClusterNode.Options?
        public init(dataDirectory: String, enableInteropTestService: Bool = false,
                    vectorLimits: VectorServiceLimits = .init(), collectionOptions: DurableCollection.Options = .init(),
                    work: ServerWork.Options = .init(), maxResponseBytes: Int = 64 << 20,
                    importThreads: Int = ServiceCatalog.Options.defaultImportThreads) {
            self.dataDirectory = dataDirectory
            self.enableInteropTestService = enableInteropTestService
            self.vectorLimits = vectorLimits
            self.collectionOptions = collectionOptions
            self.work = work
            self.maxResponseBytes = maxResponseBytes
            self.importThreads = importThreads
        }

        /// One import thread per core.
        public static var defaultImportThreads: Int { ServerWork.Options.cores }
    }

    /// RuVector services not wired to the server yet: each method answers UNIMPLEMENTED
    /// saying so; the README lists them.
    public static let servicesNotYetAvailable: [String] = []

    /// The router to hand to `GRPCServer`.
    public let router: RPCRouter
    /// Health statuses, for the server's lifecycle.
    public let health = HealthStatusRegistry()
    /// Prometheus metrics (feed calls in through `ServerConfiguration.callObserver`).
    public let metrics: ServerMetrics
    /// The pools and memory budget every call's work runs under.
    public let work: ServerWork
    private let collections: CollectionCatalog
    private let graph: DurableGraphDatabase
    /// Every collection's feedback and models (LearnService).
    private let learning: LearnCatalog
    /// Every router (RouteService).
    private let routing: RouteCatalog
    /// This server's cluster member (nil: single node).
    public let clusterNode: ClusterNode?
    private let raftInbound: InboundStreams?
    /// This node's shard copies and their replication (cluster only).
    private let sharding: ShardedCollections?
    /// The leader's watch over the shards: failover and rebalancing (cluster only).
    private let supervisor: ShardSupervisor?
    private let logger: Logger

    /// At shutdown, a collection whose log since its last snapshot is at least this long is
    /// snapshotted first, so the next start replays little (replay inserts one point at a time).
    public static let shutdownSnapshotLogBytes = 8 << 20

    /// Opens every collection in the data directory (recovering it) and builds the router.
    public init(options: Options, logger: Logger) throws {
        var router = RPCRouter()
        router.register(HealthService(registry: health))
        let work = ServerWork(options: options.work)
        self.work = work
        let started = ContinuousClock.now
        var durability = Self.loggingAutomaticSnapshots(options.collectionOptions, logger: logger, work: work)
        // Automatic snapshots run on the background pool, beside snapshots asked for by calls.
        durability.runInBackground = { job in work.background.execute(job) }
        // A log written by a parallel import replays in parallel too: linked on one thread, the
        // log an import on every core leaves between snapshots took 12-16 s to replay at 800k x
        // 128 (6.3-9.0 s on both cores; docs/benchmarks/storage-recovery.md), past the 10 s bound.
        durability.replayThreads = max(1, options.importThreads)
        let collections = try CollectionCatalog(dataDirectory: options.dataDirectory, options: durability)
        let reports = collections.recoveryReports
        logger.info("data directory opened", metadata: [
            "collections": "\(reports.count)", "points": "\(collections.list().reduce(0) { $0 + ((try? $1.collection.count()) ?? 0) })",
            "duration": "\(ContinuousClock.now - started)",
        ])
        for (name, report) in reports.sorted(by: { $0.key < $1.key }) {
            var metadata: Logger.Metadata = [
                "collection": "\(name)", "open_ms": "\(Double(report.durationMicros) / 1000)",
                "snapshot_load_ms": "\(Double(report.snapshotLoadMicros) / 1000)",
                "wal_open_ms": "\(Double(report.walOpenMicros) / 1000)", "replay_ms": "\(Double(report.replayMicros) / 1000)",
                "snapshot_sequence": "\(report.snapshotSequence)",
                "replayed_records": "\(report.replayedRecords)", "wal_dropped_bytes": "\(report.wal.droppedBytes)",
                "skipped_snapshots": "\(report.skippedSnapshots)",
            ]
            // A torn tail was cut: say why and where, beside how much.
            if let reason = report.wal.droppedReason { metadata["wal_dropped_reason"] = "\(reason)" }
            logger.info("collection recovered", metadata: metadata)
        }
        let learning = try LearnCatalog(dataDirectory: options.dataDirectory)
        var vectors = VectorService(catalog: collections, limits: options.vectorLimits, work: work,
                                    maxResponseBytes: options.maxResponseBytes)
        vectors.learning = learning
        vectors.importThreads = max(1, options.importThreads)
        var clusterNode: ClusterNode?
        var raftInbound: InboundStreams?
        var shardingBuilt: ShardedCollections?
        if let clusterOptions = options.cluster {
            // Collections a single server made are not in any cluster's log: a node would keep
            // them to itself, out of every other node's view. Refused rather than half-shared.
            if !AtomicFile.exists(clusterOptions.directory), !collections.list().isEmpty {
                throw StorageError(.invalidArgument, "this data directory holds \(collections.list().count) collection(s) made by a single server; a cluster node starts from an empty data directory (export and import them into the cluster)")
            }
            let store = try ShardStore(dataDirectory: options.dataDirectory, options: durability)
            let sharding = ShardedCollections(store: store, limits: options.vectorLimits, writePool: work.write,
                                              snapshotDirectory: options.dataDirectory + "/cluster-snapshots", logger: logger)
            let effects = ClusterCollections(catalog: collections, sharding: sharding, limits: options.vectorLimits, logger: logger)
            var clusterOptions = clusterOptions
            clusterOptions.capacityBytes = UInt64(work.options.memoryLimitBytes)
            let node = try ClusterNode(options: clusterOptions, effects: effects, logger: logger)
            effects.attach(node)
            vectors.cluster = effects
            vectors.sharding = sharding
            let raft = RaftService(node: node, validate: { try effects.validate($0) })
            router.register(raft)
            raftInbound = raft.inbound
            router.register(ClusterService(node: node, sharding: sharding, vectors: vectors))
            shardingBuilt = sharding
            let health = self.health
            node.observeLeader { leader in health.set(leader == 0 ? .notServing : .serving, for: ClusterService.name) }
            clusterNode = node
        } else {
            router.registerFallback(service: ClusterService.name) { _, _, _ in
                throw RPCError(.failedPrecondition, "this server was not started as a cluster node; start it with --node-id and --cluster (or --join) to form a cluster")
            }
        }
        self.clusterNode = clusterNode
        self.raftInbound = raftInbound
        sharding = shardingBuilt
        supervisor = shardingBuilt.map { ShardSupervisor(sharding: $0, logger: logger) }
        router.register(vectors)
        let routing = try RouteCatalog(dataDirectory: options.dataDirectory)
        router.register(RouteService(routers: routing, work: work, clusterNode: clusterNode != nil))
        metrics = ServerMetrics(collections: { collections.list() })
        if let clusterNode { metrics.observeCluster(clusterNode) }
        if let shardingBuilt { metrics.observeSharding(shardingBuilt) }
        let graph = try DurableGraphDatabase.open(options.dataDirectory + "/graph", options: durability)
        let recovered = graph.committedStore
        logger.info("graph recovered", metadata: [
            "nodes": "\(recovered.nodeCount)", "relationships": "\(recovered.relationshipCount)",
            "snapshot_sequence": "\(graph.recovery.snapshotSequence)", "replayed_records": "\(graph.recovery.replayedRecords)",
            "wal_dropped_bytes": "\(graph.recovery.wal.droppedBytes)", "open_ms": "\(Double(graph.recovery.durationMicros) / 1000)",
        ])
        // Learning state outlives its collection only after a crash between the two deletions
        // (graph vector indexes are never dropped).
        let learners = collections.list().map(\.collection.config.name) + graph.vectorIndexes.definitions.compactMap {
            GraphIndexLearnSource.learnName(ofIndex: $0.name)
        }
        let orphans = try learning.removeOrphans(keeping: Set(learners))
        if !orphans.isEmpty { logger.info("learning state of deleted collections removed", metadata: ["collections": "\(orphans)"]) }
        router.register(LearnService(collections: collections, learning: learning, work: work, graph: graph, clusterNode: clusterNode != nil))
        var graphService = GraphService(graph: graph, work: work, maxResponseBytes: options.maxResponseBytes)
        graphService.learning = learning
        router.register(graphService)
        self.collections = collections
        self.learning = learning
        self.routing = routing
        self.graph = graph
        self.logger = logger
        for name in Self.servicesNotYetAvailable {
            Self.answerNotAvailable(name, because: "its engine is not wired to the server", in: &router)
        }
        if options.enableInteropTestService {
            router.register(InteropTestService())
        }
        // Reflection lists what the router serves, including itself.
        let served = router.serviceNames + ReflectionService.names
        router.register(ReflectionService(servedServices: { served.sorted() }))
        self.router = router
    }

    /// `options`, also logging every automatic snapshot (why, how long, or why it failed), and
    /// returning freed heap memory to the system after each (``ServerWork/reclaimMemory()``): a
    /// streamed import is one call, so the trim at the end of large calls would come only after it.
    static func loggingAutomaticSnapshots(_ options: DurableCollection.Options, logger: Logger,
                                          work: ServerWork) -> DurableCollection.Options {
        var options = options
        let next = options.onAutomaticSnapshot
        options.onAutomaticSnapshot = { report in
            var metadata: Logger.Metadata = [
                "directory": "\(report.directory)", "reason": "\(report.reason.rawValue)",
                "duration_ms": "\(Double(report.durationMicros) / 1000)",
            ]
            if let snapshot = report.snapshot {
                metadata["snapshot"] = "\(snapshot.name)"
                metadata["bytes"] = "\(snapshot.sizeBytes)"
                metadata["covered_changes"] = "\(report.covered.changes)"
                metadata["covered_apply_ms"] = "\(report.covered.applyNanos / 1_000_000)"
                logger.info("automatic snapshot", metadata: metadata)
                work.reclaimMemory()
            } else if let failure = report.failure {
                metadata["error"] = "\(failure)"
                logger.error("automatic snapshot failed; the next write retries it", metadata: metadata)
            }
            next(report)
        }
        return options
    }

    /// Methods of `service` that nothing registered answer UNIMPLEMENTED, saying why.
    private static func answerNotAvailable(_ service: String, because reason: String, in router: inout RPCRouter) {
        router.registerFallback(service: service) { requests, _, context in
            // A caller holding single collections learns nothing of a collection it may not
            // touch, not even that the method is missing: its first request is checked first.
            if context.access?.collectionLevel != nil, let method = WireMethod.all.first(where: { $0.path == context.path }) {
                for try await bytes in requests {
                    let request: any WireMessage
                    do {
                        request = try method.requestType.init(decoding: bytes)
                    } catch {
                        throw RPCError(.internal, "cannot decode \(method.requestType.protoFullName): \(error)")
                    }
                    try context.checkCollectionAccess(request)
                    break
                }
            }
            let method = context.path.split(separator: "/").last.map(String.init) ?? context.path
            throw RPCError(.unimplemented,
                "\(service)/\(method) is not available yet in this build of ruvector-server: \(reason) (see README, 'Status')")
        }
    }

    /// Marks the server and every served service SERVING (after the listener is up).
    public func markServing() {
        health.set(.serving, for: "")
        for name in router.serviceNames where !Self.servicesNotYetAvailable.contains(name) {
            health.set(.serving, for: name)
        }
        if let clusterNode {
            // SERVING once a leader is known (the node's leader observer keeps it current).
            health.set(clusterNode.status.leader == 0 ? .notServing : .serving, for: ClusterService.name)
        } else {
            health.set(.notServing, for: ClusterService.name)
        }
    }

    /// Marks everything NOT_SERVING (at shutdown), so watchers learn before the drain.
    public func markNotServing() {
        health.setAll(.notServing)
    }

    /// Closes every collection and the graph after the last call (at shutdown): queued writes
    /// are applied, long logs snapshotted (see `shutdownSnapshotLogBytes`), logs synced.
    /// Failures are logged; the data stays recoverable from the logs.
    /// Starts the cluster node (after the listener is up, so peers can reach it); with `join`,
    /// asks the member at that address to add this node, retrying until it is a member.
    public func startCluster(join: String?, advertisedAddress: String) {
        guard let clusterNode else { return }
        clusterNode.start(advertisedAddress: advertisedAddress)
        sharding?.replication.reconcile()
        sharding?.keepLease()
        supervisor?.start()
        if let join { ClusterJoiner(node: clusterNode, via: join, advertisedAddress: advertisedAddress, logger: logger).start() }
    }

    /// Stops the cluster node (before `close`).
    public func stopCluster() async {
        raftInbound?.stop()
        await supervisor?.stop()
        await sharding?.stopLease()
        await sharding?.replication.stop()
        await clusterNode?.stop()
    }

    public func close() {
        for durable in collections.list() {
            let name = durable.collection.config.name
            let started = ContinuousClock.now
            do {
                let snapshot = try durable.close(snapshotAfterLogBytes: Self.shutdownSnapshotLogBytes)
                logger.info("collection closed", metadata: [
                    "collection": "\(name)", "snapshot": "\(snapshot?.name ?? "none")",
                    "duration": "\(ContinuousClock.now - started)",
                ])
            } catch {
                logger.error("collection not closed cleanly; its log will be replayed at the next start",
                             metadata: ["collection": "\(name)", "error": "\(error)"])
            }
        }
        for (name, error) in learning.close() {
            logger.error("feedback log not closed cleanly", metadata: ["collection": "\(name)", "error": "\(error)"])
        }
        for (name, error) in routing.close() {
            logger.error("outcome log not closed cleanly", metadata: ["router": "\(name)", "error": "\(error)"])
        }
        for (shard, error) in sharding?.store.close() ?? [] {
            logger.error("shard copy not closed cleanly; its log will be replayed at the next start",
                         metadata: ["shard": "\(shard)", "error": "\(error)"])
        }
        do { try graph.close() } catch {
            logger.error("graph log not closed cleanly", metadata: ["error": "\(error)"])
        }
        work.shutdown()
    }
}
