import Wire

/// A semantic route as listed (RouteService ListRoutes): examples are not echoed.
public struct SemanticRouteInfo: Sendable, Hashable {
    /// The route's name.
    public var name: String
    /// Least score to match.
    public var threshold: Float
    /// Example embeddings held.
    public var exampleCount: Int
    /// Example texts, when they were registered.
    public var utterances: [String]

    init(_ r: RuvectorV1.SemanticRoute) {
        name = r.name
        threshold = r.threshold
        exampleCount = Int(r.exampleCount)
        utterances = r.utterances
    }
}

/// A route an embedding matched (RouteService MatchRoute).
public struct SemanticRouteMatch: Sendable, Hashable {
    /// The route.
    public var name: String
    /// Its score: the mean cosine similarity of its 3 most similar examples.
    public var similarity: Float
}

/// A fitted threshold (RouteService FitRouteThreshold).
public struct RouteThresholdFit: Sendable, Hashable {
    /// The threshold now set on every route.
    public var threshold: Float
    /// Share of the queries the threshold routes as labelled.
    public var accuracy: Float
    /// Share of the "no route" queries that still match a route.
    public var falseMatchRate: Float
}

extension RuVectorClient {
    /// Registers (or replaces) the semantic route `name` of `router` with example embeddings (the
    /// first route sets the router's route dimension); `threshold` 0 takes the server's 0.8.
    /// Returns the route as stored.
    ///
    /// ```swift
    /// try await db.registerRoute("llm", name: "billing", examples: billingEmbeddings, threshold: 0.75)
    /// ```
    @discardableResult
    public func registerRoute(_ router: String, name: String, examples: [[Float]], utterances: [String] = [],
                              threshold: Float = 0) async throws(RuVectorClientError) -> SemanticRouteInfo {
        let route = RuvectorV1.SemanticRoute(name: name, examples: examples.map { RuvectorV1.Vector(values: $0) }, utterances: utterances,
                                             threshold: threshold)
        return SemanticRouteInfo(try await unary("RegisterRoute", RuvectorV1.RegisterRouteRequest(router: router, route: route),
                                                 service: Self.routeService, as: RuvectorV1.SemanticRoute.self))
    }

    /// The routes of `router`, in registration order.
    public func listRoutes(_ router: String) async throws(RuVectorClientError) -> [SemanticRouteInfo] {
        try await unary("ListRoutes", RuvectorV1.ListRoutesRequest(router: router), service: Self.routeService,
                        as: RuvectorV1.ListRoutesResponse.self).routes.map(SemanticRouteInfo.init)
    }

    /// Deletes route `name` of `router` (NOT_FOUND if absent).
    public func deleteRoute(_ router: String, name: String) async throws(RuVectorClientError) {
        _ = try await unary("DeleteRoute", RuvectorV1.DeleteRouteRequest(router: router, name: name), service: Self.routeService,
                            as: RuvectorV1.DeleteRouteResponse.self)
    }

    /// The routes `embedding` matches at or above their threshold, best first, at most `limit`
    /// (empty: no route).
    public func matchRoute(_ router: String, embedding: [Float], limit: Int = 1) async throws(RuVectorClientError) -> [SemanticRouteMatch] {
        let request = RuvectorV1.MatchRouteRequest(router: router, embedding: RuvectorV1.Vector(values: embedding),
                                                   limit: try WireConversions.uint32(limit, "limit"))
        return try await unary("MatchRoute", request, service: Self.routeService, as: RuvectorV1.MatchRouteResponse.self).matches
            .map { SemanticRouteMatch(name: $0.name, similarity: $0.similarity) }
    }

    /// Fits one threshold from labelled queries (`route` nil: the query should match no route),
    /// sets it on every route of `router` and returns it with its accuracy on the queries.
    @discardableResult
    public func fitRouteThreshold(_ router: String, queries: [(embedding: [Float], route: String?)]) async throws(RuVectorClientError) -> RouteThresholdFit {
        let request = RuvectorV1.FitRouteThresholdRequest(router: router, queries: queries.map {
            RuvectorV1.LabelledQuery(embedding: RuvectorV1.Vector(values: $0.embedding), route: $0.route ?? "")
        })
        let fit = try await unary("FitRouteThreshold", request, service: Self.routeService, as: RuvectorV1.FitRouteThresholdResponse.self)
        return RouteThresholdFit(threshold: fit.threshold, accuracy: fit.accuracy, falseMatchRate: fit.falseMatchRate)
    }

    /// The router as one file (definition, model, calibration, semantic routes; not its outcome
    /// log), checked against the stream's size and CRC-32C.
    public func exportRouter(_ router: String) async throws(RuVectorClientError) -> [UInt8] {
        try await downloadFile("ExportRouter", RuvectorV1.ExportRouterRequest(router: router), service: Self.routeService, what: "router")
    }

    /// Creates router `name` from a file `exportRouter` made (ALREADY_EXISTS if the name is taken);
    /// the server checks the whole file before it creates anything.
    public func importRouter(_ name: String, from file: [UInt8], chunkBytes: Int = 256 << 10) async throws(RuVectorClientError) {
        _ = try await uploadFile("ImportRouter", file, service: Self.routeService, chunkBytes: chunkBytes, as: RuvectorV1.RouterInfo.self) { first, chunk in
            RuvectorV1.ImportRouterRequest(router: first ? name : "", chunk: chunk)
        }
    }
}
