import Access
import GraphEngine
import GraphPersistence
import LearnEngine
import RPC
import Storage
import VectorEngine
import Wire
import WorkControl

/// `ruvector.v1.GraphService` over the durable graph: Cypher (streamed in row batches),
/// transactions, hyperedges, vector indexes on nodes and hybrid (vector + graph) search.
///
/// Queries and hybrid searches run on the server's Cypher pool, writes that only commit on the
/// write pool, index builds on the background pool (see `ServerWork`); each call gets its own
/// memory account (the per-call limit, drawn from the server's budget) and a cancellation that
/// the client's cancel, its deadline and shutdown raise, and the engine polls both.
struct GraphService: RPCService {
    static let name = "ruvector.v1.GraphService"
    static let maxQueryBytes = 1 << 20
    static let maxRows: UInt64 = 1_000_000
    static let maxBatchRows: UInt32 = 10_000
    let graph: DurableGraphDatabase
    /// Learned models of the vector indexes (`graph:<index>` in LearnService), for HybridSearch.
    var learning: LearnCatalog?
    /// Most bytes of result batches a query may produce ahead of its client.
    static let maxBufferedBytes = 64 << 20
    /// The pools and memory budget calls run under.
    let work: ServerWork
    /// The largest response message the RPC server sends (a row batch is cut before it).
    let maxResponseBytes: Int

    /// Longest a query may run when the call sets no shorter deadline.
    static let maxQueryTime: Duration = .seconds(300)

    /// The call's deadline, or `maxQueryTime` from now if that comes first (a client that
    /// sets none cannot hold a thread forever).
    static func queryDeadline(_ callDeadline: ContinuousClock.Instant?) -> ContinuousClock.Instant {
        let ceiling = ContinuousClock.now + maxQueryTime
        return callDeadline.map { min($0, ceiling) } ?? ceiling
    }

    /// Maps the errors of a call with `context`'s deadline.
    static func mapping(_ context: ServerContext) -> @Sendable (any Error) -> RPCError {
        let deadline = context.deadline
        return { GraphMapping.rpcError($0, deadline: deadline) }
    }

    /// Runs `body` on the `kind` pool with the call's bounds, mapping its errors.
    func run<T: Sendable>(_ kind: ServerWork.Kind, _ context: ServerContext, _ what: String,
                          _ body: @escaping @Sendable (WorkBounds) throws -> T) async throws -> T {
        try await work.run(kind, context, work: what, map: Self.mapping(context), body)
    }

    func register(into router: inout RPCRouter) {
        let graph = self.graph
        let service = self
        router.serverStreaming(Self.name, "Execute", RuvectorV1.ExecuteRequest.self, RuvectorV1.ExecuteResponse.self) { request, writer, context in
            try await service.execute(request, writer: writer, context: context)
        }
        router.unary(Self.name, "BeginTransaction", RuvectorV1.BeginTransactionRequest.self) { request, _, _ in
            let idle = request.idleTimeoutMillis == 0 ? 60_000 : request.idleTimeoutMillis
            guard idle <= 3_600_000 else {
                throw RPCError(.invalidArgument, "idle_timeout_millis must be at most 3600000 (one hour), got \(idle)")
            }
            let (isolation, effective): (DurableGraphDatabase.Isolation, RuvectorV1.IsolationLevel)
            switch request.isolation {
            // Read uncommitted runs as read committed: stronger, as the standard allows.
            case .unspecified, .readUncommitted, .readCommitted: (isolation, effective) = (.readCommitted, .readCommitted)
            case .repeatableRead: (isolation, effective) = (.repeatableRead, .repeatableRead)
            case .serializable: (isolation, effective) = (.serializable, .serializable)
            case .unrecognized(let value): throw RPCError(.invalidArgument, "unknown isolation level \(value)")
            }
            let id = graph.begin(isolation, idleTimeout: .milliseconds(Int(idle)))
            return RuvectorV1.TransactionInfo(transactionId: id, isolation: effective)
        }
        router.unary(Self.name, "Commit", RuvectorV1.TransactionRef.self) { request, context, _ in
            RuvectorV1.CommitResponse(sequence: try await service.run(.write, context, "the commit") { _ in try graph.commit(request.transactionId) })
        }
        router.unary(Self.name, "Rollback", RuvectorV1.TransactionRef.self) { request, context, _ in
            try await service.run(.write, context, "the rollback") { _ in try graph.rollback(request.transactionId) }
            return RuvectorV1.RollbackResponse()
        }
        router.unary(Self.name, "CreateHyperedge", RuvectorV1.CreateHyperedgeRequest.self) { request, context, _ in
            guard (3...1024).contains(request.nodeIds.count), Set(request.nodeIds).count == request.nodeIds.count else {
                throw RPCError(.invalidArgument, "a hyperedge joins 3..1024 distinct nodes, got \(request.nodeIds.count) ids")
            }
            guard !request.type.isEmpty else { throw RPCError(.invalidArgument, "a hyperedge needs a type") }
            let properties = try GraphMapping.properties(request.properties)
            let members = try request.nodeIds.map { id -> Int in
                guard id <= UInt64(Int.max) else { throw RPCError(.invalidArgument, "node id \(id) is out of range") }
                return Int(id)
            }
            let work: @Sendable (inout GraphDatabase) throws(GraphError) -> Int = { database throws(GraphError) in
                try database.withStore { store throws(GraphError) in
                    try store.createHyperedge(type: request.type, members: members, properties: properties)
                }
            }
            let outcome = try await service.run(.write, context, "the hyperedge") { _ in
                request.transactionId.isEmpty ? try graph.perform(work) : try graph.perform(transaction: request.transactionId, work)
            }
            guard let created = outcome.store.hyperedge(outcome.value) else { throw RPCError(.internal, "created hyperedge not found") }
            return GraphMapping.hyperedge(created, store: outcome.store)
        }
        router.unary(Self.name, "QueryHyperedges", RuvectorV1.QueryHyperedgesRequest.self) { request, context, _ in
            let limit = request.limit == 0 ? 1000 : Int(request.limit)
            guard limit <= 10_000 else { throw RPCError(.invalidArgument, "limit must be at most 10000") }
            // A scan of every hyperedge: on the Cypher pool, not on the threads that serve calls.
            return try await service.run(.cypher, context, "the hyperedge query") { _ in
                let store = graph.committedStore
                let ids = request.nodeId == 0 ? store.allHyperedgeIds()
                    : store.hyperedges(of: request.nodeId <= UInt64(Int.max) ? Int(request.nodeId) : -1)
                let found = ids.lazy.compactMap { store.hyperedge($0) }.filter { request.type.isEmpty || $0.type == request.type }.prefix(limit)
                return RuvectorV1.QueryHyperedgesResponse(hyperedges: found.map { GraphMapping.hyperedge($0, store: store) })
            }
        }
        registerVectorIndexes(into: &router)
    }

    private func registerVectorIndexes(into router: inout RPCRouter) {
        let graph = self.graph
        let service = self
        router.unary(Self.name, "CreateIndex", RuvectorV1.CreateIndexRequest.self) { request, context, _ in
            let config: RuvectorV1.VectorIndexConfig
            switch request.kind {
            case .vectorIndex(let vector)?:
                config = vector
            case .propertyIndex?:
                let key = PropertyIndexes.Key(label: request.label, property: request.property)
                do {
                    try await service.run(.background, context, "the index build") { _ in try graph.createPropertyIndex(name: request.name, key) }
                } catch let error as RPCError where error.code == .aborted {
                    throw RPCError(.alreadyExists, error.message)
                }
                let entries = graph.propertyIndexes.first { $0.name == request.name }?.entries ?? 0
                return RuvectorV1.IndexInfo(name: request.name, label: request.label, property: request.property,
                                            vector: false, entries: UInt64(entries))
            case nil:
                throw RPCError(.invalidArgument, "set property_index (equality lookups) or vector_index (similarity search)")
            }
            let metric = try VectorMapping.metric(RuvectorV1.Metric(rawValue: config.metric))
            guard config.dimension >= 1, config.dimension <= UInt32(VectorEngineLimits.maxDimension) else {
                throw RPCError(.invalidArgument, "dimension must be 1 to \(VectorEngineLimits.maxDimension), got \(config.dimension)")
            }
            let definition = VectorIndexDefinition(name: request.name, label: request.label, property: request.property,
                                                   dimension: Int(config.dimension), metric: metric)
            do throws(GraphError) { try definition.validate() } catch { throw RPCError(.invalidArgument, error.message) }
            do {
                try await service.run(.background, context, "the index build") { _ in try graph.createVectorIndex(definition) }
            } catch let error as RPCError where error.code == .aborted {
                throw RPCError(.alreadyExists, error.message)
            }
            return Self.indexInfo(definition, entries: graph.vectorIndexes.count(definition.name))
        }
        router.unary(Self.name, "ListIndexes", RuvectorV1.ListIndexesRequest.self) { _, _, _ in
            let indexes = graph.vectorIndexes
            let vector = indexes.definitions.map { Self.indexInfo($0, entries: indexes.count($0.name)) }
            let property = graph.propertyIndexes.map {
                RuvectorV1.IndexInfo(name: $0.name, label: $0.key.label, property: $0.key.property, vector: false, entries: UInt64($0.entries))
            }
            return RuvectorV1.ListIndexesResponse(indexes: (vector + property).sorted { $0.name < $1.name })
        }
        router.unary(Self.name, "HybridSearch", RuvectorV1.HybridSearchRequest.self) { request, context, _ in
            guard !request.index.isEmpty else { throw RPCError(.invalidArgument, "name the vector index to search (index)") }
            guard graph.vectorIndexes.definition(request.index) != nil else {
                throw RPCError(.notFound, "there is no vector index named \(MessageText.quoted(request.index)); ListIndexes shows them, CreateIndex makes one")
            }
            guard (1...10_000).contains(request.k) else { throw RPCError(.invalidArgument, "k must be 1 to 10000, got \(request.k)") }
            guard request.expandDepth <= UInt32(GraphDatabase.maxExpandDepth) else {
                throw RPCError(.invalidArgument, "expand_depth must be 0 to \(GraphDatabase.maxExpandDepth), got \(request.expandDepth)")
            }
            guard let values = request.vector?.values, !values.isEmpty else { throw RPCError(.invalidArgument, "vector is required") }
            // Learned re-ranking: the index's active model (LearnService, `graph:<index>`)
            // re-orders the nearest `depth` seeds that pass the filter; with none, the seeds
            // keep the HNSW order (model_version 0).
            let rerankDepth = try LearnLimits.rerankDepth(request.learnedRerank)
            let ranker = try rerankDepth == nil ? nil : GraphIndexLearnSource.learnName(ofIndex: request.index).flatMap { try service.learning?.ranker($0) }
            let parameters = try GraphMapping.parameters(request.parameters)
            let maxResponseBytes = service.maxResponseBytes
            return try await service.run(.cypher, context, "the hybrid search") { bounds in
                var reorder: (([VectorIndexHit]) throws(GraphError) -> [VectorIndexHit])?
                if let ranker, let rerankDepth, let index = graph.vectorIndexes.hnsw(request.index) {
                    reorder = { seeds throws(GraphError) in
                        try Self.rerank(seeds, query: values, depth: rerankDepth, ranker: ranker, index: index)
                    }
                }
                let outcome = try graph.hybridSearch(index: request.index, vector: values, k: Int(request.k), filter: request.filter,
                                                     parameters: parameters, expandDepth: Int(request.expandDepth),
                                                     deadline: Self.queryDeadline(context.deadline), bounds: bounds,
                                                     candidates: rerankDepth ?? 0, reorder: reorder)
                let store = outcome.store
                // Measured before it is built: every path node goes out with its properties.
                var bytes = 0
                for hit in outcome.value {
                    try bounds.cancellation.check()
                    bytes += 16 + GraphMapping.wireBytes(.node(hit.node), store: store)
                    for path in hit.neighbourhood {
                        bytes += GraphMapping.wireBytes(.path(nodes: path.nodes, relationships: path.relationships), store: store)
                    }
                }
                guard bytes <= maxResponseBytes else {
                    throw RPCError(.resourceExhausted, "the hybrid search answer would take about \(formatBytes(bytes)), more than one "
                                   + "response message may (\(formatBytes(maxResponseBytes)), --max-send-message-bytes); "
                                   + "ask for fewer hits (k) or a smaller expand_depth")
                }
                try bounds.memory.charge(2 * bytes)
                return RuvectorV1.HybridSearchResponse(hits: outcome.value.map { hit in
                    RuvectorV1.HybridHit(node: GraphMapping.node(hit.node, store: store), score: hit.score,
                                         neighbourhood: hit.neighbourhood.map { path in
                                             RuvectorV1.Path(nodes: path.nodes.map { GraphMapping.node($0, store: store) },
                                                             relationships: path.relationships.map { GraphMapping.relationship($0, store: store) })
                                         })
                }, modelVersion: reorder == nil ? 0 : ranker?.version ?? 0)
            }
        }
    }

    /// `seeds` (best first) with the first `depth` re-ordered by `ranker`, the rest after them.
    /// Seeds the index does not hold (yet) are not re-scored: they follow the re-ordered ones
    /// in their own order. Scores stay the vector similarity.
    private static func rerank(_ seeds: [VectorIndexHit], query: [Float], depth: Int, ranker: LearnedRanker,
                               index: HNSWIndex) throws(GraphError) -> [VectorIndexHit] {
        let head = Array(seeds.prefix(depth))
        // Similarity is higher-better; the ranker standardises negated distances, and a
        // negated similarity standardises to the same scores whatever the metric.
        let hits = head.map { SearchHit(id: UInt64($0.node), distance: -$0.score) }
        let reordered: [SearchHit]
        do { reordered = try ranker.rerank(query: query, hits: hits, depth: depth, index: index) } catch {
            throw GraphError(.runtime, "the learned re-ranking failed: \(error.message)", cause: error)
        }
        let byNode = Dictionary(head.map { (UInt64($0.node), $0) }, uniquingKeysWith: { first, _ in first })
        let kept = Set(reordered.map(\.id))
        return reordered.compactMap { byNode[$0.id] } + head.filter { !kept.contains(UInt64($0.node)) } + seeds.dropFirst(depth)
    }

    private static func indexInfo(_ definition: VectorIndexDefinition, entries: Int) -> RuvectorV1.IndexInfo {
        RuvectorV1.IndexInfo(name: definition.name, label: definition.label, property: definition.property,
                             vector: true, entries: UInt64(entries))
    }

    /// Runs the query on the Cypher pool and streams its answer: a header, row batches, a
    /// summary. A read-only query's rows are converted and sent as they are found, at most a
    /// few batches ahead of the client; a write's rows are sent after its commit, a batch at a
    /// time. Everything held (rows, batches waiting for the client) is charged to the call's
    /// memory, which is given back when the call ends, however it ends.
    private func execute(_ request: RuvectorV1.ExecuteRequest, writer: TypedWriter<RuvectorV1.ExecuteResponse>,
                         context: ServerContext) async throws {
        guard !request.query.isEmpty, request.query.utf8.count <= Self.maxQueryBytes else {
            throw RPCError(.invalidArgument, "the query must be 1 byte to 1 MiB of Cypher, got \(request.query.utf8.count) bytes")
        }
        if let access = context.access, !access.grant.allows(.write), GraphDatabase.writes(request.query) {
            throw RPCError(.permissionDenied, "\(access.grant.principal) may only read the graph: this query writes (CREATE, MERGE, SET, REMOVE or DELETE)")
        }
        let maxRows = Int(request.maxRows == 0 ? Self.maxRows : min(request.maxRows, Self.maxRows))
        let batchRows = request.batchRows == 0 ? 256 : Int(min(request.batchRows, Self.maxBatchRows))
        let parameters = try GraphMapping.parameters(request.parameters)
        let started = ContinuousClock.now
        // rand() gets fresh entropy per query; the engine itself draws none.
        let seed = UInt64.random(in: .min ... .max)
        let deadline = Self.queryDeadline(context.deadline)
        let (graph, work, maxMessageBytes) = (self.graph, self.work, maxResponseBytes)
        try await work.withBounds(context, work: "the query") { bounds in
            // A result whose batches fit in a quarter of the call's memory (64 MiB at most) is
            // produced whole even for a client that does not read: the query ends and frees its
            // Cypher thread, and only its batches wait (charged). A larger one waits for the client.
            let handoff = BlockingHandoff<ResponsePart>(capacity: 4, capacityBytes: min(Self.maxBufferedBytes, bounds.memory.limitBytes / 4))
            // The outcome (nil for a read-only query stopped at max_rows: nothing to count) and
            // the rows streamed. The handoff is finished however the job ends, even when it
            // never ran (its queue was full, or the call was cancelled while it waited).
            @Sendable func query() async throws -> (DurableGraphDatabase.Outcome<QueryResult>?, Int) {
                defer { handoff.finish() }
                return try await work.run(.cypher, context, bounds: bounds, map: Self.mapping(context)) {
                    var stream = RowStream(handoff: handoff, maxRows: maxRows, batchRows: batchRows,
                                           maxMessageBytes: maxMessageBytes, memory: bounds.memory)
                    let sink: (QueryStreamEvent) throws(GraphError) -> Void = { event throws(GraphError) in try stream.take(event) }
                    var outcome: DurableGraphDatabase.Outcome<QueryResult>? = nil
                    do {
                        outcome = request.transactionId.isEmpty
                            ? try graph.execute(request.query, parameters: parameters, deadline: deadline, randomSeed: seed,
                                                bounds: bounds, streamingReadsTo: sink)
                            : try graph.execute(request.query, parameters: parameters, deadline: deadline, randomSeed: seed,
                                                bounds: bounds, streamingReadsTo: sink, transaction: request.transactionId)
                    } catch let error as GraphError where error.code == .cancelled && stream.reachedMaxRows {}
                    try stream.flush()
                    return (outcome, stream.rows)
                }
            }
            async let finished = query()
            while let part = await handoff.next() {
                do { try await writer.send(part.response) } catch {
                    // The answer cannot go out: stop the query wherever it is, not at its next batch.
                    bounds.cancellation.cancel(.cancelled)
                    handoff.cancel()
                    _ = try? await finished
                    throw error
                }
                bounds.memory.refund(part.memoryBytes)
            }
            let (outcome, streamedRows) = try await finished
            var rowCount = streamedRows
            if let outcome, !outcome.value.streamed {
                try await Self.send(outcome, maxRows: maxRows, batchRows: batchRows, maxMessageBytes: maxMessageBytes,
                                    bounds: bounds, to: writer)
                rowCount = min(outcome.value.rows.count, maxRows)
            }
            let c: GraphChangeCounts = outcome?.counts ?? GraphChangeCounts()
            let summary = RuvectorV1.ResultSummary(
                nodesCreated: UInt64(c.nodesCreated), nodesDeleted: UInt64(c.nodesDeleted),
                relationshipsCreated: UInt64(c.relationshipsCreated), relationshipsDeleted: UInt64(c.relationshipsDeleted),
                propertiesSet: UInt64(c.propertiesSet), labelsAdded: UInt64(c.labelsAdded), labelsRemoved: UInt64(c.labelsRemoved),
                rows: UInt64(rowCount),
                timeMicros: UInt64(max(0, (ContinuousClock.now - started).wholeMicroseconds)),
                plan: outcome?.value.plan.map(GraphMapping.plan))
            try await writer.send(RuvectorV1.ExecuteResponse(part: .summary(summary)))
        }
    }

    /// Sends a built result (a write's rows, after its commit) a batch at a time: one batch is
    /// converted while the result's rows stay charged, and each is given back once sent.
    private static func send(_ outcome: DurableGraphDatabase.Outcome<QueryResult>, maxRows: Int, batchRows: Int,
                             maxMessageBytes: Int, bounds: WorkBounds, to writer: TypedWriter<RuvectorV1.ExecuteResponse>) async throws {
        defer { bounds.memory.refund(outcome.value.memoryBytes) }
        try await writer.send(RuvectorV1.ExecuteResponse(part: .header(RuvectorV1.ResultHeader(columns: outcome.value.columns))))
        var batcher = RowBatcher(store: outcome.store, batchRows: batchRows, maxMessageBytes: maxMessageBytes, memory: bounds.memory)
        func send(_ part: ResponsePart) async throws {
            try await writer.send(part.response)
            bounds.memory.refund(part.memoryBytes)
        }
        for row in outcome.value.rows.prefix(maxRows) {
            try bounds.cancellation.check()
            let ready: [ResponsePart]
            do { ready = try batcher.add(row) } catch { throw GraphMapping.rpcError(error) }
            for part in ready { try await send(part) }
        }
        if let part = batcher.takeBatch() { try await send(part) }
    }
}
