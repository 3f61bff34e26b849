import Access
import RPC
import Storage
import VectorDatabase
import VectorEngine
import Wire
import WorkControl

/// `ruvector.v1.VectorService` over durable collections: collections, points, search
/// (unary, batch, streaming) here; snapshots in `VectorService+Snapshots.swift`. Work runs on
/// the server's pools by kind (`ServerWork`): writes on the write pool, searches, scans and
/// large reads on the search pool, snapshots on the background pool, each with the call's
/// memory budget and cancellation. Short reads (a plain Search, Get of a few ids, Count without
/// filter, collection info) are answered in place, on their connection's event loop when alone
/// on it (`RPCRouter.inlineUnary`). Every request is checked against `limits` before any work.
struct VectorService: RPCService {
    static let name = "ruvector.v1.VectorService"
    let catalog: CollectionCatalog
    let limits: VectorServiceLimits
    let work: ServerWork
    /// The largest response message the server sends (`ServerConfiguration.maxSendMessageBytes`):
    /// responses are measured as they are built and refused before they pass it.
    let maxResponseBytes: Int
    /// Threads that link the points of one large UpsertStream message at once (see
    /// `upsertStream`); 1 links one point at a time, so replay rebuilds exactly the same graph.
    var importThreads = 1
    /// Set on a cluster node: collections are created and deleted through the Raft log.
    var cluster: ClusterCollections?
    /// Set on a cluster node: sharded collections' calls are routed between nodes
    /// (`registerClusterPoints`).
    var sharding: ShardedCollections?
    /// Learning state (LearnService), deleted with its collection.
    var learning: LearnCatalog?

    /// UpsertStream messages with fewer points are linked one point at a time: parallel
    /// linking pays only over a few dozen points, and small writes keep exact replay.
    static let parallelApplyMinPoints = 64

    /// The collection `name`: NOT_FOUND when there is none, INVALID_ARGUMENT (saying what a
    /// valid name is) when there cannot be one.
    func collection(_ name: String) throws -> DurableCollection {
        guard let collection = catalog.get(name) else {
            try VectorMapping.checkCollectionName(name)
            if sharding?.sharded(name) != nil {
                // The snapshot methods route a sharded collection to its cluster snapshots first;
                // a call that still gets here (a single-node snapshot name) cannot apply to it.
                throw RPCError(.failedPrecondition, "collection \(MessageText.quoted(name)) is sharded across the cluster; "
                    + "its snapshots are cluster snapshots (names cluster-...; ListSnapshots gives them)")
            }
            throw RPCError(.notFound, "collection \(MessageText.quoted(name)) does not exist; create it with CreateCollection")
        }
        return collection
    }

    /// Runs an engine call, mapping its errors to statuses.
    static func mapped<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw VectorMapping.rpcError(error) }
    }

    /// Runs `body` on the `kind` pool with the call's bounds, mapping its errors.
    func run<T: Sendable>(_ kind: ServerWork.Kind, _ context: ServerContext, _ what: String, memoryLimitBytes: Int? = nil,
                          _ body: @escaping @Sendable (WorkBounds) throws -> T) async throws -> T {
        try await work.run(kind, context, work: what, memoryLimitBytes: memoryLimitBytes, map: VectorMapping.rpcError, body)
    }

    /// How an inline method's heavy requests run: on the search pool, with the call's bounds.
    private func searchPool(_ what: String) -> @Sendable (ServerContext, @escaping @Sendable (WorkBounds) throws -> [UInt8]) async throws -> [UInt8] {
        let service = self
        return { context, body in try await service.run(.search, context, what, body) }
    }

    func register(into router: inout RPCRouter) {
        let catalog = self.catalog
        let service = self
        let limits = self.limits
        router.unary(Self.name, "CreateCollection", RuvectorV1.CreateCollectionRequest.self) { request, context, _ in
            if let cluster = service.cluster {
                try await cluster.create(request, context: context)
                return try await service.clusterInfo(request, context: context)
            }
            let config = try Self.mapped { try VectorMapping.config(request, limits: limits) }
            return try await service.run(.write, context, "CreateCollection") { _ in
                guard let created = try catalog.create(config) else {
                    throw RPCError(.alreadyExists, "collection \(MessageText.quoted(request.name)) already exists")
                }
                return try VectorMapping.info(created)
            }
        }
        router.unary(Self.name, "DeleteCollection", RuvectorV1.DeleteCollectionRequest.self) { request, context, _ in
            if let cluster = service.cluster {
                // The log decides whether it exists, not this node's copy (which may lag): a
                // lagging node answering NOT_FOUND on its own broke linearizability.
                try Self.mapped { try VectorMapping.checkCollectionName(request.name) }
                let count = UInt64(try catalog.get(request.name)?.collection.count() ?? 0)
                guard try await cluster.delete(request.name, context: context) else {
                    throw RPCError(.notFound, "collection \(MessageText.quoted(request.name)) does not exist")
                }
                return RuvectorV1.DeleteCollectionResponse(pointsDeleted: count)
            }
            return try await service.run(.write, context, "DeleteCollection") { _ in
                let count = UInt64(try service.collection(request.name).collection.count())
                guard try catalog.delete(request.name) else {
                    throw RPCError(.notFound, "collection \(MessageText.quoted(request.name)) does not exist")
                }
                try service.learning?.delete(request.name)
                return RuvectorV1.DeleteCollectionResponse(pointsDeleted: count)
            }
        }
        if let sharding {
            registerClusterPoints(into: &router, sharding)
        } else {
            registerPoints(into: &router)
        }
        registerSnapshots(into: &router)
    }

    /// The collection and point methods of a single server, on its catalog.
    private func registerPoints(into router: inout RPCRouter) {
        let catalog = self.catalog
        let service = self
        let limits = self.limits
        router.inlineUnary(Self.name, "GetCollection", RuvectorV1.GetCollectionRequest.self) { request, _ in
            try Self.mapped { try VectorMapping.info(try service.collection(request.name)) }
        }
        router.inlineUnary(Self.name, "ListCollections", RuvectorV1.ListCollectionsRequest.self) { _, context in
            // A caller with access to some collections sees those only.
            try Self.mapped {
                RuvectorV1.ListCollectionsResponse(collections: try catalog.list()
                    .filter { context.allows(.read, collection: $0.collection.config.name) }.map { try VectorMapping.info($0) })
            }
        }
        router.unary(Self.name, "Upsert", RuvectorV1.UpsertRequest.self) { request, context, _ in
            let durable = try service.collection(request.collection)
            let acknowledge = VectorMapping.acknowledgement(request.wait)
            return try await service.run(.write, context, "the upsert") { bounds in
                let points = try service.points(request, hint: "use UpsertStream for imports", bounds: bounds)
                let sequence = try durable.upsert(keyed: points, acknowledge: acknowledge)
                return RuvectorV1.UpdateResult(sequence: sequence, pointsAffected: UInt64(points.count), applied: acknowledge == .applied)
            }
        }
        router.clientStreaming(Self.name, "UpsertStream", RuvectorV1.UpsertRequest.self, RuvectorV1.UpdateResult.self) { requests, context, _ in
            try await service.upsertStream(requests, context: context)
        }
        router.inlineUnary(Self.name, "Get", RuvectorV1.GetRequest.self, prepare: { request in
            let durable = try service.collection(request.collection)
            let vectors = request.with?.withVectors ?? false
            return (durable, request.ids.count <= 64 && (!vectors || request.ids.count * durable.collection.config.dimension <= 16 << 10))
        }, heavy: searchPool("the get")) { request, durable, _, bounds in
            try service.get(request, in: durable, bounds: bounds)
        }
        router.unary(Self.name, "Delete", RuvectorV1.DeleteRequest.self) { request, context, _ in
            try await service.delete(request, in: try service.collection(request.collection), context: context)
        }
        // Without a filter a count is read, not computed; with one, every point is tested.
        router.inlineUnary(Self.name, "Count", RuvectorV1.CountRequest.self, prepare: { request in
            (try service.collection(request.collection), request.filter == nil)
        }, heavy: searchPool("the count")) { request, durable, _, bounds in
            try service.count(request, in: durable, bounds: bounds)
        }
        router.unary(Self.name, "Scroll", RuvectorV1.ScrollRequest.self) { request, context, _ in
            try await service.scroll(request, in: try service.collection(request.collection), context: context)
        }
        router.inlineUnary(Self.name, "Search", RuvectorV1.SearchRequest.self, prepare: { request in
            let durable = try service.collection(request.collection)
            return (durable, Self.isLight(request, durable.collection.config))
        }, heavy: searchPool("the search")) { request, durable, _, bounds in
            try Self.mapped {
                var response = ResponseBudget(what: "the search response", maxBytes: service.maxResponseBytes, bounds: bounds)
                return try service.search(request, in: durable, response: &response)
            }
        }
        router.unary(Self.name, "SearchBatch", RuvectorV1.SearchBatchRequest.self) { request, context, _ in
            guard request.searches.count <= limits.maxSearchesPerBatch else {
                throw RPCError(.invalidArgument, "at most \(limits.maxSearchesPerBatch) searches per batch; use SearchStream for more")
            }
            return try await service.run(.search, context, "the search batch") { bounds in
                // One budget for the whole response: it is measured as each search's answer is
                // built, and refused before it passes the response limit or the call's memory.
                var response = ResponseBudget(what: "the SearchBatch response", maxBytes: service.maxResponseBytes, bounds: bounds,
                                              hint: "use SearchStream, a smaller k, or leave out vectors and payloads")
                var results: [RuvectorV1.SearchResponse] = []
                results.reserveCapacity(request.searches.count)
                for search in request.searches {
                    results.append(try Self.mapped { try service.search(search, in: try service.collection(search.collection), response: &response) })
                }
                return RuvectorV1.SearchBatchResponse(results: results)
            }
        }
        router.bidirectional(Self.name, "SearchStream", RuvectorV1.SearchRequest.self, RuvectorV1.SearchResponse.self) { requests, writer, context in
            // One answer per question, in order; a failed query answers with its error and the stream goes on.
            try await service.work.withBounds(context, work: "the search stream") { bounds in
                for try await request in requests {
                    do {
                        let answer = try await service.work.run(.search, context, bounds: bounds, map: VectorMapping.rpcError) {
                            // Each answer is sent before the next is computed: only one is held.
                            var response = ResponseBudget(what: "a SearchStream answer", maxBytes: service.maxResponseBytes, bounds: bounds)
                            defer { response.release() }
                            return try Self.mapped { try service.search(request, in: try service.collection(request.collection), response: &response) }
                        }
                        try await writer.send(answer)
                    } catch let error as RPCError where ![.cancelled, .deadlineExceeded, .unavailable].contains(error.code) {
                        try await writer.send(RuvectorV1.SearchResponse(
                            tag: request.tag, error: RuvectorV1.SearchError(code: Int32(error.code.rawValue), message: error.message)))
                    }
                }
            }
        }
    }

    /// Get on one collection (or one shard's copy): the points found, in the order asked.
    func get(_ request: RuvectorV1.GetRequest, in durable: DurableCollection, bounds: WorkBounds?) throws -> RuvectorV1.GetResponse {
        try Self.mapped {
            guard request.ids.count <= limits.maxPointsPerWrite else {
                throw RPCError(.invalidArgument, "at most \(limits.maxPointsPerWrite) ids per Get")
            }
            let with = request.with ?? RuvectorV1.WithOptions(withPayload: true)
            var response = ResponseBudget(what: "the Get response", maxBytes: maxResponseBytes, bounds: bounds)
            var points: [RuvectorV1.RetrievedPoint] = []
            for (n, id) in request.ids.enumerated() {
                if n & 255 == 0 { try bounds?.cancellation.check() }
                guard let internalId = try durable.internalId(try VectorMapping.key(id)),
                      let point = durable.collection.get(id: internalId) else { continue }
                try response.add(point, with: with)
                points.append(Self.retrieved(point, with: with, ids: durable))
            }
            return RuvectorV1.GetResponse(points: points)
        }
    }

    /// Delete on one collection (or one shard's copy), by ids or by filter.
    func delete(_ request: RuvectorV1.DeleteRequest, in durable: DurableCollection, context: ServerContext) async throws -> RuvectorV1.UpdateResult {
        let deleted: Int
        switch request.selector {
        case .ids(let list)?:
            guard list.ids.count <= limits.maxPointsPerWrite else {
                throw RPCError(.invalidArgument, "at most \(limits.maxPointsPerWrite) ids per Delete; delete by filter for more")
            }
            let ids = try Self.mapped { try list.ids.compactMap { try durable.internalId(try VectorMapping.key($0)) } }
            deleted = try await run(.write, context, "the delete") { _ in try durable.delete(ids: ids) }
        case .filter(let filter)?:
            guard let filter = try Self.mapped({ try VectorMapping.filter(filter, limits: limits, ids: durable) }) else {
                throw RPCError(.invalidArgument, "an empty filter would delete everything; delete the collection instead")
            }
            deleted = try await run(.write, context, "the delete") { bounds in
                try durable.delete(matching: filter, cancellation: bounds.cancellation)
            }
        case nil: throw RPCError(.invalidArgument, "Delete needs ids or a filter")
        }
        return RuvectorV1.UpdateResult(sequence: durable.lastSequence, pointsAffected: UInt64(deleted), applied: true)
    }

    /// Count on one collection (or one shard's copy).
    func count(_ request: RuvectorV1.CountRequest, in durable: DurableCollection, bounds: WorkBounds?) throws -> RuvectorV1.CountResponse {
        try Self.mapped {
            let filter = try VectorMapping.filter(request.filter, limits: limits, ids: durable)
            return RuvectorV1.CountResponse(count: UInt64(try durable.collection.count(
                filter: filter, cancellation: bounds?.cancellation ?? .never)))
        }
    }

    /// The page size a Scroll asks for, checked.
    func scrollLimit(_ request: RuvectorV1.ScrollRequest) throws -> Int {
        let limit = request.limit == 0 ? 100 : Int(request.limit)
        guard limit <= limits.maxScrollLimit else {
            throw RPCError(.invalidArgument, "limit must be at most \(limits.maxScrollLimit)")
        }
        return limit
    }

    /// Scroll on one collection (or one shard's copy).
    func scroll(_ request: RuvectorV1.ScrollRequest, in durable: DurableCollection, context: ServerContext) async throws -> RuvectorV1.ScrollResponse {
        let limit = try scrollLimit(request)
        // The cursor is the position returned by the previous page, carried as a numeric id.
        let cursor = try request.offset.map { offset -> Int in
            guard case .num(let position)? = offset.kind, let cursor = Int(exactly: position) else {
                throw RPCError(.invalidArgument, "offset must be the next_offset of the previous page")
            }
            return cursor
        }
        let filter = try Self.mapped { try VectorMapping.filter(request.filter, limits: limits, ids: durable) }
        let with = request.with ?? RuvectorV1.WithOptions(withPayload: true)
        let maxResponseBytes = self.maxResponseBytes
        return try await run(.search, context, "the scroll") { bounds in
            var response = ResponseBudget(what: "the Scroll page", maxBytes: maxResponseBytes, bounds: bounds)
            let page = try durable.collection.scroll(after: cursor, limit: limit, filter: filter, cancellation: bounds.cancellation) {
                point throws(VectorEngineError) in
                do { try response.add(point, with: with) } catch { throw VectorEngineError(code: .stopped, message: "\(error)", cause: error) }
            }
            var scrolled = RuvectorV1.ScrollResponse(points: page.points.map { Self.retrieved($0, with: with, ids: durable) })
            scrolled.nextOffset = page.next.map { RuvectorV1.PointId(kind: .num(UInt64($0))) }
            return scrolled
        }
    }

    /// The points of an upsert message, checked against the limits, with the memory they take
    /// charged to `bounds` (the decoded message and its conversion are both held while written).
    func points(_ request: RuvectorV1.UpsertRequest, hint: String, bounds: WorkBounds) throws -> [DurableCollection.KeyedPoint] {
        guard request.points.count <= limits.maxPointsPerWrite else {
            throw RPCError(.invalidArgument, "at most \(limits.maxPointsPerWrite) points per message, got \(request.points.count); \(hint)")
        }
        return try request.points.map { point in
            let payload = try VectorMapping.payload(point.payload)
            let bytes = VectorMapping.storedBytes(payload)
            guard bytes <= limits.maxPayloadBytes else {
                throw RPCError(.invalidArgument, "the payload of a point is \(bytes) bytes; the limit is \(limits.maxPayloadBytes)")
            }
            let vector = point.vector?.values ?? []
            try bounds.memory.charge(2 * (64 + bytes + vector.count * MemoryLayout<Float>.stride))
            return DurableCollection.KeyedPoint(key: try VectorMapping.key(point.id), vector: vector, payload: payload)
        }
    }

    /// Bulk import: each message is written (durably) as it arrives, so memory stays bounded
    /// by one message. A failure ends the call with a status that says how many points of the
    /// earlier messages were written (they stay).
    ///
    /// The call is acknowledged once, at its end, so every message is logged and queued for
    /// the collection's applier at once (`.logged`): message n + 1 is received, decoded and
    /// logged while message n is linked, on `importThreads` threads when it holds at least
    /// `parallelApplyMinPoints` points. When a message asked to be applied before the
    /// acknowledgement (WAIT_DURABLE, the default), the call ends (with its result or its
    /// error) only once everything it wrote is applied.
    private func upsertStream(_ requests: TypedRequests<RuvectorV1.UpsertRequest>, context: ServerContext) async throws -> RuvectorV1.UpdateResult {
        var target: DurableCollection?
        var name: String?
        var written: UInt64 = 0
        var sequence: UInt64 = 0
        var messages = 0
        var mustApply = false
        var failure: (any Error)?
        do {
            try await work.withBounds(context, work: "the upsert stream") { bounds in
                for try await request in requests {
                    messages += 1
                    if let name, !request.collection.isEmpty, request.collection != name {
                        throw RPCError(.invalidArgument, "every message of an UpsertStream writes to one collection: "
                            + "\(MessageText.quoted(name)), then \(MessageText.quoted(request.collection))")
                    }
                    let named = name ?? request.collection
                    name = named
                    let durable = try collection(named)
                    target = durable
                    let threads = request.points.count >= Self.parallelApplyMinPoints ? importThreads : 1
                    let (count, logged) = try await work.run(.write, context, bounds: bounds, map: VectorMapping.rpcError) {
                        let charged = bounds.memory.chargedBytes
                        defer { bounds.memory.refund(bounds.memory.chargedBytes - charged) }
                        let batch = try points(request, hint: "send smaller messages", bounds: bounds)
                        return (batch.count, try durable.upsert(keyed: batch, threads: threads, acknowledge: .logged))
                    }
                    sequence = logged
                    written += UInt64(count)
                    mustApply = mustApply || VectorMapping.acknowledgement(request.wait) == .applied
                }
            }
        } catch {
            failure = error
        }
        // Messages written with WAIT_DURABLE are applied before the call ends, failed or not
        // (so is everything logged before them).
        if mustApply, let target {
            do { try await target.waitUntilQueuedWritesApplied() } catch { failure = failure ?? error }
        }
        if let failure {
            let status = VectorMapping.rpcError(failure)
            throw RPCError(status.code, "\(status.message) (message \(messages) of the stream; \(written) points of the earlier messages were written)",
                           cause: failure)
        }
        return RuvectorV1.UpdateResult(sequence: sequence, pointsAffected: written, applied: mustApply || written == 0)
    }

    /// A search short enough to answer on the event loop (well under a millisecond): an HNSW
    /// walk without filter, few results, ef x dimension at most 128 Ki (ef 64 at 2,048
    /// dimensions, ef 341 at 384), and vectors asked for only when they are small.
    static func isLight(_ request: RuvectorV1.SearchRequest, _ config: CollectionConfig) -> Bool {
        // A learned re-ranking reads the candidates' neighbourhoods and runs the model: a pool's work.
        guard request.filter == nil, !(request.params?.exact ?? false), request.params?.learnedRerank == nil else { return false }
        let wanted = Int(request.k) + Int(request.offset)
        let ef = max(request.params.map { Int($0.ef) }.flatMap { $0 > 0 ? $0 : nil } ?? config.hnsw.efSearch, wanted)
        let vectors = request.with?.withVectors ?? false
        return wanted <= 100 && ef <= (128 << 10) / config.dimension && (!vectors || wanted * config.dimension <= 16 << 10)
    }

    func search(_ request: RuvectorV1.SearchRequest, in durable: DurableCollection,
                response: inout ResponseBudget) throws -> RuvectorV1.SearchResponse {
        let started = ContinuousClock.now
        let collection = durable.collection
        guard request.k >= 1, Int(request.k) + Int(request.offset) <= limits.maxK else {
            throw RPCError(.invalidArgument, "k must be at least 1 and k + offset at most \(limits.maxK), got k \(request.k) offset \(request.offset)")
        }
        guard let query = request.vector?.values else { throw RPCError(.invalidArgument, "a query vector is required") }
        let wanted = Int(request.k) + Int(request.offset)
        let ef = request.params.map { Int($0.ef) }.flatMap { $0 > 0 ? $0 : nil }
        if let ef, ef > limits.maxEf { throw RPCError(.invalidArgument, "ef must be at most \(limits.maxEf), got \(ef)") }
        // Learned re-ranking: the walk looks for `depth` candidates (or more, when more are
        // wanted) and the active model re-orders the first `depth`; with no active model the
        // order stays the HNSW order (version 0).
        let rerankDepth = try LearnLimits.rerankDepth(request.params?.learnedRerank)
        let ranker = try rerankDepth == nil ? nil : learning?.ranker(collection.config.name)
        let walked = ranker == nil ? wanted : max(wanted, rerankDepth ?? 0)
        let filter = try VectorMapping.filter(request.filter, limits: limits, ids: durable)
        // Quantized collections: rescore oversampling x k candidates (default 4; the request's
        // float is rounded up), or walk full vectors when asked to ignore the codes.
        var oversampling: Int? = 4
        if let q = request.params?.quantization {
            guard q.oversampling == 0 || (q.oversampling >= 1 && q.oversampling <= 100) else {
                throw RPCError(.invalidArgument, "oversampling must be 1..100, got \(q.oversampling)")
            }
            if q.oversampling >= 1 { oversampling = Int(q.oversampling.rounded(.up)) }
            if q.ignore { oversampling = nil }
        }
        var hits = try collection.search(query, k: walked, ef: ef.map { max($0, walked) }, filter: filter,
                                         exact: request.params?.exact ?? false, oversampling: oversampling,
                                         cancellation: response.cancellation)
        if let ranker, let rerankDepth {
            try response.cancellation.check()
            if case .scoreThreshold(let threshold)? = request.threshold {
                // The threshold is on vector similarity: candidates below it are not re-ranked up.
                hits = hits.filter { VectorMapping.score(distance: $0.distance, metric: collection.config.metric) >= threshold }
            }
            hits = try ranker.rerank(query: query, hits: hits, depth: rerankDepth, index: collection.index)
        }
        let with = request.with ?? RuvectorV1.WithOptions()
        var scored: [RuvectorV1.ScoredPoint] = []
        for hit in hits.dropFirst(Int(request.offset)).prefix(Int(request.k)) {
            let score = VectorMapping.score(distance: hit.distance, metric: collection.config.metric)
            if ranker == nil, case .scoreThreshold(let threshold)? = request.threshold, score < threshold { break }
            var point = RuvectorV1.ScoredPoint(id: VectorMapping.pointId(durable.key(hit.id)), score: score)
            if with.withPayload || with.withVectors, let stored = collection.get(id: hit.id) {
                try response.add(stored, with: with)
                if with.withPayload { point.payload = VectorMapping.payload(stored.payload, keys: with.payloadKeys) }
                if with.withVectors { point.vector = RuvectorV1.Vector(values: stored.vector) }
            } else {
                try response.add(bytes: ResponseBudget.pointOverheadBytes)
            }
            scored.append(point)
        }
        return RuvectorV1.SearchResponse(hits: scored, tag: request.tag,
                                         timeMicros: UInt64(max(0, (ContinuousClock.now - started).wholeMicroseconds)),
                                         modelVersion: ranker?.version ?? 0)
    }

    static func retrieved(_ point: VectorPoint, with: RuvectorV1.WithOptions, ids: DurableCollection) -> RuvectorV1.RetrievedPoint {
        var retrieved = RuvectorV1.RetrievedPoint(id: VectorMapping.pointId(ids.key(point.id)))
        if with.withPayload { retrieved.payload = VectorMapping.payload(point.payload, keys: with.payloadKeys) }
        if with.withVectors { retrieved.vector = RuvectorV1.Vector(values: point.vector) }
        return retrieved
    }
}

/// Measures a response while it is built: the bytes it will take on the wire are checked
/// against the server's response limit, and the memory it holds (the message and its encoding,
/// twice those bytes) is charged to the call, so an oversized answer is refused before it is
/// built, not after.
struct ResponseBudget {
    /// Wire bytes of a result beyond its payload and vector (id, score, framing).
    static let pointOverheadBytes = 32
    let what: String
    let maxBytes: Int
    let bounds: WorkBounds?
    var hint = "ask for fewer results, or leave out vectors and payloads"
    private(set) var bytes = 0

    init(what: String, maxBytes: Int, bounds: WorkBounds?, hint: String? = nil) {
        self.what = what
        self.maxBytes = maxBytes
        self.bounds = bounds
        if let hint { self.hint = hint }
    }

    /// The call's cancellation (never raised for a light call, which has no bounds).
    var cancellation: CancellationSignal { bounds?.cancellation ?? .never }

    /// Adds a point as `with` would send it.
    mutating func add(_ point: VectorPoint, with: RuvectorV1.WithOptions) throws {
        var size = Self.pointOverheadBytes
        if with.withPayload { size += VectorMapping.storedBytes(point.payload) }
        if with.withVectors { size += point.vector.count * MemoryLayout<Float>.stride + 8 }
        try add(bytes: size)
    }

    mutating func add(bytes size: Int) throws {
        bytes += size
        guard bytes <= maxBytes else {
            throw RPCError(.resourceExhausted,
                "\(what) would pass the server's response limit of \(formatBytes(maxBytes)) (--max-send-message-bytes); \(hint)")
        }
        try bounds?.memory.charge(2 * size)
    }

    /// Gives back what this response charged (it was sent).
    mutating func release() {
        bounds?.memory.refund(2 * bytes)
        bytes = 0
    }
}
