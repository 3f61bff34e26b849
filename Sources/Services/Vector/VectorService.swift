import RPC
import Storage
import VectorDatabase
import VectorEngine
import Wire

/// `ruvector.v1.VectorService` over durable collections: collections, points, search
/// (unary, batch, streaming) here; snapshots in `VectorService+Snapshots.swift`. Writes and
/// other disk work run on `BlockingWork`'s threads; short reads (a plain Search, Get of a few
/// ids, Count without filter, collection info) are answered in place, on their connection's
/// event loop when alone on it (`RPCRouter.inlineUnary`), heavier ones on the concurrent pool.
/// Every request is checked against `limits`.
struct VectorService: RPCService {
    static let name = "ruvector.v1.VectorService"
    let catalog: CollectionCatalog
    let limits: VectorServiceLimits

    /// The collection `name`: NOT_FOUND when there is none, INVALID_ARGUMENT (saying what a
    /// valid name is) when there cannot be one.
    func collection(_ name: String) throws -> DurableCollection {
        guard let collection = catalog.get(name) else {
            try VectorMapping.checkCollectionName(name)
            throw RPCError(.notFound, "collection \(MessageText.quoted(name)) does not exist; create it with CreateCollection")
        }
        return collection
    }

    /// Runs an engine call, mapping its errors to statuses.
    static func mapped<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw VectorMapping.rpcError(error) }
    }

    /// Runs blocking engine or disk work off the cooperative pool, mapping its errors.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        do { return try await BlockingWork.run(body) } catch { throw VectorMapping.rpcError(error) }
    }

    func register(into router: inout RPCRouter) {
        let catalog = self.catalog
        let service = self
        let limits = self.limits
        router.unary(Self.name, "CreateCollection", RuvectorV1.CreateCollectionRequest.self) { request, _, _ in
            let config = try Self.mapped { try VectorMapping.config(request, limits: limits) }
            return try await Self.blocking {
                guard let created = try catalog.create(config) else {
                    throw RPCError(.alreadyExists, "collection \(MessageText.quoted(request.name)) already exists")
                }
                return try VectorMapping.info(created)
            }
        }
        router.inlineUnary(Self.name, "GetCollection", RuvectorV1.GetCollectionRequest.self) { request, _ in
            try Self.mapped { try VectorMapping.info(try service.collection(request.name)) }
        }
        router.inlineUnary(Self.name, "ListCollections", RuvectorV1.ListCollectionsRequest.self) { _, _ in
            try Self.mapped { RuvectorV1.ListCollectionsResponse(collections: try catalog.list().map { try VectorMapping.info($0) }) }
        }
        router.unary(Self.name, "DeleteCollection", RuvectorV1.DeleteCollectionRequest.self) { request, _, _ in
            try await Self.blocking {
                let count = UInt64(try service.collection(request.name).collection.count())
                guard try catalog.delete(request.name) else {
                    throw RPCError(.notFound, "collection \(MessageText.quoted(request.name)) does not exist")
                }
                return RuvectorV1.DeleteCollectionResponse(pointsDeleted: count)
            }
        }
        router.unary(Self.name, "Upsert", RuvectorV1.UpsertRequest.self) { request, _, _ in
            let points = try Self.mapped { try service.points(request, hint: "use UpsertStream for imports") }
            let durable = try service.collection(request.collection)
            let acknowledge = VectorMapping.acknowledgement(request.wait)
            let sequence = try await Self.blocking { try durable.upsert(keyed: points, acknowledge: acknowledge) }
            return RuvectorV1.UpdateResult(sequence: sequence, pointsAffected: UInt64(points.count), applied: acknowledge == .applied)
        }
        router.clientStreaming(Self.name, "UpsertStream", RuvectorV1.UpsertRequest.self, RuvectorV1.UpdateResult.self) { requests, _, _ in
            try await service.upsertStream(requests)
        }
        router.inlineUnary(Self.name, "Get", RuvectorV1.GetRequest.self, light: { $0.ids.count <= 64 }) { request, _ in
            try Self.mapped {
                guard request.ids.count <= limits.maxPointsPerWrite else {
                    throw RPCError(.invalidArgument, "at most \(limits.maxPointsPerWrite) ids per Get")
                }
                let durable = try service.collection(request.collection)
                let with = request.with ?? RuvectorV1.WithOptions(withPayload: true)
                let points = try request.ids.compactMap { id in
                    try durable.internalId(try VectorMapping.key(id)).flatMap { durable.collection.get(id: $0) }
                        .map { Self.retrieved($0, with: with, ids: durable) }
                }
                return RuvectorV1.GetResponse(points: points)
            }
        }
        router.unary(Self.name, "Delete", RuvectorV1.DeleteRequest.self) { request, _, _ in
            let durable = try service.collection(request.collection)
            let deleted: Int
            switch request.selector {
            case .ids(let list)?:
                guard list.ids.count <= limits.maxPointsPerWrite else {
                    throw RPCError(.invalidArgument, "at most \(limits.maxPointsPerWrite) ids per Delete; delete by filter for more")
                }
                let ids = try Self.mapped { try list.ids.compactMap { try durable.internalId(try VectorMapping.key($0)) } }
                deleted = try await Self.blocking { try durable.delete(ids: ids) }
            case .filter(let filter)?:
                guard let filter = try Self.mapped({ try VectorMapping.filter(filter, maxDepth: limits.maxFilterDepth, ids: durable) }) else {
                    throw RPCError(.invalidArgument, "an empty filter would delete everything; delete the collection instead")
                }
                deleted = try await Self.blocking { try durable.delete(matching: filter) }
            case nil: throw RPCError(.invalidArgument, "Delete needs ids or a filter")
            }
            return RuvectorV1.UpdateResult(pointsAffected: UInt64(deleted), applied: true)
        }
        // Without a filter a count is read, not computed; with one, every point is tested.
        router.inlineUnary(Self.name, "Count", RuvectorV1.CountRequest.self, light: { $0.filter == nil }) { request, _ in
            try Self.mapped {
                let durable = try service.collection(request.collection)
                let filter = try VectorMapping.filter(request.filter, maxDepth: limits.maxFilterDepth, ids: durable)
                return RuvectorV1.CountResponse(count: UInt64(try durable.collection.count(filter: filter)))
            }
        }
        router.unary(Self.name, "Scroll", RuvectorV1.ScrollRequest.self) { request, _, _ in
            try Self.mapped {
                let durable = try service.collection(request.collection)
                let collection = durable.collection
                let limit = request.limit == 0 ? 100 : Int(request.limit)
                guard limit <= limits.maxScrollLimit else {
                    throw RPCError(.invalidArgument, "limit must be at most \(limits.maxScrollLimit)")
                }
                // The cursor is the position returned by the previous page, carried as a numeric id.
                let cursor = try request.offset.map { offset -> Int in
                    guard case .num(let position)? = offset.kind, let cursor = Int(exactly: position) else {
                        throw RPCError(.invalidArgument, "offset must be the next_offset of the previous page")
                    }
                    return cursor
                }
                let filter = try VectorMapping.filter(request.filter, maxDepth: limits.maxFilterDepth, ids: durable)
                let page = try collection.scroll(after: cursor, limit: limit, filter: filter)
                var response = RuvectorV1.ScrollResponse(points: page.points.map {
                    Self.retrieved($0, with: request.with ?? RuvectorV1.WithOptions(withPayload: true), ids: durable)
                })
                response.nextOffset = page.next.map { RuvectorV1.PointId(kind: .num(UInt64($0))) }
                return response
            }
        }
        router.inlineUnary(Self.name, "Search", RuvectorV1.SearchRequest.self, prepare: { request in
            let durable = try service.collection(request.collection)
            return (durable, Self.isLight(request, durable.collection.config))
        }) { request, durable, _ in
            try Self.mapped { try service.search(request, in: durable) }
        }
        router.unary(Self.name, "SearchBatch", RuvectorV1.SearchBatchRequest.self) { request, _, _ in
            try Self.mapped {
                guard request.searches.count <= limits.maxSearchesPerBatch else {
                    throw RPCError(.invalidArgument, "at most \(limits.maxSearchesPerBatch) searches per batch; use SearchStream for more")
                }
                return RuvectorV1.SearchBatchResponse(results: try request.searches.map { try service.search($0) })
            }
        }
        router.bidirectional(Self.name, "SearchStream", RuvectorV1.SearchRequest.self, RuvectorV1.SearchResponse.self) { requests, writer, _ in
            // One answer per question, in order; a failed query answers with its error and the stream goes on.
            for try await request in requests {
                do {
                    try await writer.send(try Self.mapped { try service.search(request) })
                } catch let error as RPCError {
                    try await writer.send(RuvectorV1.SearchResponse(
                        tag: request.tag, error: RuvectorV1.SearchError(code: Int32(error.code.rawValue), message: error.message)))
                }
            }
        }
        registerSnapshots(into: &router)
    }

    /// The points of an upsert message, checked against the limits.
    func points(_ request: RuvectorV1.UpsertRequest, hint: String) throws -> [DurableCollection.KeyedPoint] {
        guard request.points.count <= limits.maxPointsPerWrite else {
            throw RPCError(.invalidArgument, "at most \(limits.maxPointsPerWrite) points per message, got \(request.points.count); \(hint)")
        }
        return try request.points.map { point in
            let payload = try VectorMapping.payload(point.payload)
            let bytes = VectorMapping.storedBytes(payload)
            guard bytes <= limits.maxPayloadBytes else {
                throw RPCError(.invalidArgument, "the payload of a point is \(bytes) bytes; the limit is \(limits.maxPayloadBytes)")
            }
            return DurableCollection.KeyedPoint(key: try VectorMapping.key(point.id), vector: point.vector?.values ?? [], payload: payload)
        }
    }

    /// Bulk import: each message is written (durably) as it arrives, so memory stays bounded
    /// by one message. A failure ends the call with a status that says how many points of the
    /// earlier messages were written (they stay).
    private func upsertStream(_ requests: TypedRequests<RuvectorV1.UpsertRequest>) async throws -> RuvectorV1.UpdateResult {
        var name: String?
        var written: UInt64 = 0
        var sequence: UInt64 = 0
        var messages = 0
        var applied = true
        do {
            for try await request in requests {
                messages += 1
                if let name, !request.collection.isEmpty, request.collection != name {
                    throw RPCError(.invalidArgument, "every message of an UpsertStream writes to one collection: "
                        + "\(MessageText.quoted(name)), then \(MessageText.quoted(request.collection))")
                }
                let target = name ?? request.collection
                name = target
                let batch = try Self.mapped { try points(request, hint: "send smaller messages") }
                let durable = try collection(target)
                let acknowledge = VectorMapping.acknowledgement(request.wait)
                sequence = try await Self.blocking { try durable.upsert(keyed: batch, acknowledge: acknowledge) }
                written += UInt64(batch.count)
                applied = applied && acknowledge == .applied
            }
        } catch {
            let status = VectorMapping.rpcError(error)
            throw RPCError(status.code, "\(status.message) (message \(messages) of the stream; \(written) points of the earlier messages were written)",
                           cause: error)
        }
        return RuvectorV1.UpdateResult(sequence: sequence, pointsAffected: written, applied: applied)
    }

    /// A search short enough to answer on the event loop (well under a millisecond): an HNSW
    /// walk without filter, few results, ef x dimension at most 128 Ki (ef 64 at 2,048
    /// dimensions, ef 341 at 384).
    static func isLight(_ request: RuvectorV1.SearchRequest, _ config: CollectionConfig) -> Bool {
        guard request.filter == nil, !(request.params?.exact ?? false) else { return false }
        let wanted = Int(request.k) + Int(request.offset)
        let ef = max(request.params.map { Int($0.ef) }.flatMap { $0 > 0 ? $0 : nil } ?? config.hnsw.efSearch, wanted)
        return wanted <= 100 && ef <= (128 << 10) / config.dimension
    }

    func search(_ request: RuvectorV1.SearchRequest) throws -> RuvectorV1.SearchResponse {
        try search(request, in: try collection(request.collection))
    }

    func search(_ request: RuvectorV1.SearchRequest, in durable: DurableCollection) throws -> RuvectorV1.SearchResponse {
        let started = ContinuousClock.now
        let collection = durable.collection
        guard request.k >= 1, Int(request.k) + Int(request.offset) <= limits.maxK else {
            throw RPCError(.invalidArgument, "k must be at least 1 and k + offset at most \(limits.maxK), got k \(request.k) offset \(request.offset)")
        }
        guard let query = request.vector?.values else { throw RPCError(.invalidArgument, "a query vector is required") }
        let wanted = Int(request.k) + Int(request.offset)
        let ef = request.params.map { Int($0.ef) }.flatMap { $0 > 0 ? $0 : nil }
        if let ef, ef > limits.maxEf { throw RPCError(.invalidArgument, "ef must be at most \(limits.maxEf), got \(ef)") }
        let filter = try VectorMapping.filter(request.filter, maxDepth: limits.maxFilterDepth, ids: durable)
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
        let hits = try collection.search(query, k: wanted, ef: ef.map { max($0, wanted) }, filter: filter,
                                         exact: request.params?.exact ?? false, oversampling: oversampling)
        let with = request.with ?? RuvectorV1.WithOptions()
        var scored: [RuvectorV1.ScoredPoint] = []
        for hit in hits.dropFirst(Int(request.offset)) {
            let score = VectorMapping.score(distance: hit.distance, metric: collection.config.metric)
            if case .scoreThreshold(let threshold)? = request.threshold, score < threshold { break }
            var point = RuvectorV1.ScoredPoint(id: VectorMapping.pointId(durable.key(hit.id)), score: score)
            if with.withPayload || with.withVectors, let stored = collection.get(id: hit.id) {
                if with.withPayload { point.payload = VectorMapping.payload(stored.payload, keys: with.payloadKeys) }
                if with.withVectors { point.vector = RuvectorV1.Vector(values: stored.vector) }
            }
            scored.append(point)
        }
        return RuvectorV1.SearchResponse(hits: scored, tag: request.tag,
                                         timeMicros: UInt64(max(0, (ContinuousClock.now - started).wholeMicroseconds)))
    }

    static func retrieved(_ point: VectorPoint, with: RuvectorV1.WithOptions, ids: DurableCollection) -> RuvectorV1.RetrievedPoint {
        var retrieved = RuvectorV1.RetrievedPoint(id: VectorMapping.pointId(ids.key(point.id)))
        if with.withPayload { retrieved.payload = VectorMapping.payload(point.payload, keys: with.payloadKeys) }
        if with.withVectors { retrieved.vector = RuvectorV1.Vector(values: point.vector) }
        return retrieved
    }
}
