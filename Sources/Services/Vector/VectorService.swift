import RPC
import VectorDatabase
import VectorEngine
import Wire

/// `ruvector.v1.VectorService` over durable collections. Methods not listed here answer
/// UNIMPLEMENTED through the catalog's fallback, saying they are not available yet.
struct VectorService: RPCService {
    static let name = "ruvector.v1.VectorService"
    let catalog: CollectionCatalog

    private func collection(_ name: String) throws -> DurableCollection {
        guard let collection = catalog.get(name) else {
            throw RPCError(.notFound, "collection '\(name)' does not exist; create it with CreateCollection")
        }
        return collection
    }

    /// Runs an engine call, mapping its errors to statuses.
    private static func mapped<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw VectorMapping.rpcError(error) }
    }

    func register(into router: inout RPCRouter) {
        let catalog = self.catalog
        let service = self
        router.unary(Self.name, "CreateCollection", RuvectorV1.CreateCollectionRequest.self) { request, _, _ in
            try Self.mapped {
                guard let created = try catalog.create(try VectorMapping.config(request)) else {
                    throw RPCError(.alreadyExists, "collection '\(request.name)' already exists")
                }
                return try VectorMapping.info(created.collection)
            }
        }
        router.unary(Self.name, "GetCollection", RuvectorV1.GetCollectionRequest.self) { request, _, _ in
            try Self.mapped { try VectorMapping.info(try service.collection(request.name).collection) }
        }
        router.unary(Self.name, "ListCollections", RuvectorV1.ListCollectionsRequest.self) { _, _, _ in
            try Self.mapped { RuvectorV1.ListCollectionsResponse(collections: try catalog.list().map { try VectorMapping.info($0.collection) }) }
        }
        router.unary(Self.name, "DeleteCollection", RuvectorV1.DeleteCollectionRequest.self) { request, _, _ in
            try Self.mapped {
                let count = UInt64(try service.collection(request.name).collection.count())
                guard try catalog.delete(request.name) else {
                    throw RPCError(.notFound, "collection '\(request.name)' does not exist")
                }
                return RuvectorV1.DeleteCollectionResponse(pointsDeleted: count)
            }
        }
        router.unary(Self.name, "Upsert", RuvectorV1.UpsertRequest.self) { request, _, _ in
            try Self.mapped {
                guard request.points.count <= 10_000 else {
                    throw RPCError(.invalidArgument, "at most 10000 points per Upsert; use UpsertStream for imports")
                }
                let points = try request.points.map { point in
                    VectorPoint(id: try VectorMapping.id(point.id), vector: point.vector?.values ?? [],
                                payload: try VectorMapping.payload(point.payload))
                }
                let sequence = try service.collection(request.collection).upsert(points)
                return RuvectorV1.UpdateResult(sequence: sequence, pointsAffected: UInt64(points.count), applied: true)
            }
        }
        router.unary(Self.name, "Get", RuvectorV1.GetRequest.self) { request, _, _ in
            try Self.mapped {
                guard request.ids.count <= 10_000 else { throw RPCError(.invalidArgument, "at most 10000 ids per Get") }
                let collection = try service.collection(request.collection).collection
                let with = request.with ?? RuvectorV1.WithOptions(withPayload: true)
                let points = try request.ids.compactMap { id in
                    collection.get(id: try VectorMapping.id(id)).map { Self.retrieved($0, with: with) }
                }
                return RuvectorV1.GetResponse(points: points)
            }
        }
        router.unary(Self.name, "Delete", RuvectorV1.DeleteRequest.self) { request, _, _ in
            try Self.mapped {
                let durable = try service.collection(request.collection)
                let deleted: Int
                switch request.selector {
                case .ids(let list)?: deleted = try durable.delete(ids: try list.ids.map { try VectorMapping.id($0) })
                case .filter(let filter)?:
                    guard let filter = try VectorMapping.filter(filter) else {
                        throw RPCError(.invalidArgument, "an empty filter would delete everything; delete the collection instead")
                    }
                    deleted = try durable.delete(matching: filter)
                case nil: throw RPCError(.invalidArgument, "Delete needs ids or a filter")
                }
                return RuvectorV1.UpdateResult(pointsAffected: UInt64(deleted), applied: true)
            }
        }
        router.unary(Self.name, "Count", RuvectorV1.CountRequest.self) { request, _, _ in
            try Self.mapped {
                let collection = try service.collection(request.collection).collection
                return RuvectorV1.CountResponse(count: UInt64(try collection.count(filter: try VectorMapping.filter(request.filter))))
            }
        }
        router.unary(Self.name, "Scroll", RuvectorV1.ScrollRequest.self) { request, _, _ in
            try Self.mapped {
                let collection = try service.collection(request.collection).collection
                let limit = request.limit == 0 ? 100 : Int(request.limit)
                guard limit <= 10_000 else { throw RPCError(.invalidArgument, "limit must be at most 10000") }
                // The cursor is the position returned by the previous page, carried as a numeric id.
                let cursor = try request.offset.map { Int(try VectorMapping.id($0)) }
                let page = try collection.scroll(after: cursor, limit: limit, filter: try VectorMapping.filter(request.filter))
                var response = RuvectorV1.ScrollResponse(points: page.points.map {
                    Self.retrieved($0, with: request.with ?? RuvectorV1.WithOptions(withPayload: true))
                })
                response.nextOffset = page.next.map { RuvectorV1.PointId(kind: .num(UInt64($0))) }
                return response
            }
        }
        router.unary(Self.name, "Search", RuvectorV1.SearchRequest.self) { request, _, _ in
            try Self.mapped { try Self.search(request, service: service) }
        }
        router.unary(Self.name, "SearchBatch", RuvectorV1.SearchBatchRequest.self) { request, _, _ in
            try Self.mapped {
                guard request.searches.count <= 1000 else { throw RPCError(.invalidArgument, "at most 1000 searches per batch") }
                return RuvectorV1.SearchBatchResponse(results: try request.searches.map { try Self.search($0, service: service) })
            }
        }
    }

    private static func search(_ request: RuvectorV1.SearchRequest, service: VectorService) throws -> RuvectorV1.SearchResponse {
        let collection = try service.collection(request.collection).collection
        guard request.k >= 1, request.k <= 10_000, Int(request.k) + Int(request.offset) <= 10_000 else {
            throw RPCError(.invalidArgument, "k must be 1..10000 and k + offset at most 10000, got k \(request.k) offset \(request.offset)")
        }
        guard let query = request.vector?.values else { throw RPCError(.invalidArgument, "a query vector is required") }
        let ef = request.params.map { Int($0.ef) }.flatMap { $0 > 0 ? $0 : nil }
        let hits = try collection.search(query, k: Int(request.k + request.offset), ef: ef.map { max($0, Int(request.k + request.offset)) },
                                         filter: try VectorMapping.filter(request.filter))
        let with = request.with ?? RuvectorV1.WithOptions()
        var scored: [RuvectorV1.ScoredPoint] = []
        for hit in hits.dropFirst(Int(request.offset)) {
            let score = VectorMapping.score(distance: hit.distance, metric: collection.config.metric)
            if case .scoreThreshold(let threshold)? = request.threshold, score < threshold { break }
            var point = RuvectorV1.ScoredPoint(id: RuvectorV1.PointId(kind: .num(hit.id)), score: score)
            if with.withPayload || with.withVectors, let stored = collection.get(id: hit.id) {
                if with.withPayload { point.payload = VectorMapping.payload(stored.payload, keys: with.payloadKeys) }
                if with.withVectors { point.vector = RuvectorV1.Vector(values: stored.vector) }
            }
            scored.append(point)
        }
        return RuvectorV1.SearchResponse(hits: scored, tag: request.tag)
    }

    private static func retrieved(_ point: VectorPoint, with: RuvectorV1.WithOptions) -> RuvectorV1.RetrievedPoint {
        var retrieved = RuvectorV1.RetrievedPoint(id: RuvectorV1.PointId(kind: .num(point.id)))
        if with.withPayload { retrieved.payload = VectorMapping.payload(point.payload, keys: with.payloadKeys) }
        if with.withVectors { retrieved.vector = RuvectorV1.Vector(values: point.vector) }
        return retrieved
    }
}
