import LearnEngine
import RPC
import RouteEngine
import Storage
import Wire

/// Semantic routes: named sets of example embeddings, matched by the engine's `SemanticRouter`
/// (mean cosine similarity of a route's 3 most similar examples), each route with its own threshold.
extension RouteStore {
    /// The default least score of a route.
    static let defaultRouteThreshold: Float = 0.8
    /// Examples averaged per route score.
    static let routeTopK = 3

    /// Checks a route to register (INVALID_ARGUMENT naming what is wrong) and resolves its threshold.
    static func checked(_ route: RuvectorV1.SemanticRoute, dimension: Int?) throws -> RuvectorV1.SemanticRoute {
        try RouteLimits.checkName(route.name, "route name")
        try RouteLimits.require((1...RouteLimits.maxExamplesPerRoute).contains(route.examples.count),
                                "route \(MessageText.quoted(route.name)) needs 1 to \(RouteLimits.maxExamplesPerRoute) examples, got \(route.examples.count)")
        try RouteLimits.require(route.utterances.count <= route.examples.count, "at most one utterance per example")
        try RouteLimits.require(route.utterances.allSatisfy { $0.utf8.count <= 4096 }, "an utterance is longer than 4096 bytes")
        let width = dimension ?? route.examples[0].values.count
        try RouteLimits.require((1...RouteLimits.maxRouteDimension).contains(width),
                                "route examples must have 1 to \(RouteLimits.maxRouteDimension) values, got \(width)")
        for example in route.examples {
            try RouteLimits.require(example.values.count == width, "every example must have the router's route dimension \(width), got \(example.values.count)")
            try RouteLimits.require(example.values.allSatisfy(\.isFinite), "an example value is not finite (NaN or infinite)")
            try RouteLimits.require(example.values.contains { $0 != 0 }, "an example is all zeros: it has no direction")
        }
        try RouteLimits.require(route.threshold.isFinite && route.threshold >= 0 && route.threshold <= 1,
                                "threshold must be 0 (= \(defaultRouteThreshold)) or in (0, 1], got \(route.threshold)")
        var resolved = route
        if resolved.threshold == 0 { resolved.threshold = defaultRouteThreshold }
        resolved.exampleCount = UInt32(route.examples.count)
        return resolved
    }

    /// Throws INVALID_ARGUMENT when `routes` hold more example values than a router may.
    static func checkTotal(_ routes: [RuvectorV1.SemanticRoute]) throws {
        let total = routes.reduce(0) { $0 + $1.examples.reduce(0) { $0 + $1.values.count } }
        try RouteLimits.require(total <= RouteLimits.maxRouteValues,
                                "a router's routes may hold \(RouteLimits.maxRouteValues) example values in all; these would hold \(total)")
    }

    /// The engine's router over `routes` (nil when there are none).
    static func semanticRouter(_ routes: [RuvectorV1.SemanticRoute]) throws -> SemanticRouter? {
        guard let first = routes.first, let width = first.examples.first?.values.count else { return nil }
        var router = try SemanticRouter(dimension: width, topK: routeTopK)
        for route in routes { try router.register(name: route.name, examples: route.examples.map(\.values)) }
        return router
    }

    /// Adds or replaces a route (checked) and writes the routes atomically before answering.
    func register(_ route: RuvectorV1.SemanticRoute) throws -> RuvectorV1.SemanticRoute {
        try state.withLock { s in
            let replacing = s.routes.firstIndex { $0.name == route.name }
            // The first route sets the dimension; a replaced lone route may change it.
            let dimension = s.routes.count == 1 && replacing != nil ? nil : s.semantic?.dimension
            let resolved = try Self.checked(route, dimension: dimension)
            var routes = s.routes
            if let replacing { routes[replacing] = resolved } else {
                try RouteLimits.require(routes.count < RouteLimits.maxRoutes, "router \(MessageText.quoted(name)) already has \(RouteLimits.maxRoutes) routes")
                routes.append(resolved)
            }
            try Self.checkTotal(routes)
            let semantic = try Self.semanticRouter(routes)
            try AtomicFile.write(RuvectorV1.ListRoutesResponse(routes: routes).encoded(), to: directory + "/routes.pb")
            s.routes = routes
            s.semantic = semantic
            var answer = resolved
            answer.examples = []
            return answer
        }
    }

    /// Deletes a route; NOT_FOUND when there is none of that name.
    func deleteRoute(_ routeName: String) throws {
        try state.withLock { s in
            guard let i = s.routes.firstIndex(where: { $0.name == routeName }) else {
                throw RPCError(.notFound, "router \(MessageText.quoted(name)) has no route \(MessageText.quoted(routeName))")
            }
            var routes = s.routes
            routes.remove(at: i)
            let semantic = try Self.semanticRouter(routes)
            try AtomicFile.write(RuvectorV1.ListRoutesResponse(routes: routes).encoded(), to: directory + "/routes.pb")
            s.routes = routes
            s.semantic = semantic
        }
    }

    /// The routes, without their examples (`withExamples`: with them, for export).
    func listRoutes(withExamples: Bool = false) -> [RuvectorV1.SemanticRoute] {
        state.withLock { s in
            s.routes.map { r in
                var route = r
                if !withExamples { route.examples = [] }
                return route
            }
        }
    }

    /// The routes whose score for `embedding` reaches their threshold, best first, at most `limit`.
    func match(_ embedding: [Float], limit: Int) throws -> [RuvectorV1.RouteMatch] {
        let (semantic, routes) = state.withLock { ($0.semantic, $0.routes) }
        guard let semantic else { return [] }
        try RouteLimits.require(embedding.count == semantic.dimension,
                                "the embedding must have the routes' dimension \(semantic.dimension), got \(embedding.count)")
        try RouteLimits.require(embedding.allSatisfy(\.isFinite), "an embedding value is not finite (NaN or infinite)")
        try RouteLimits.require(embedding.contains { $0 != 0 }, "the embedding is all zeros: it has no direction")
        let scores = try semantic.scores(embedding)
        return zip(routes, scores).filter { Float($0.1) >= $0.0.threshold }
            .sorted { $0.1 > $1.1 }.prefix(limit)
            .map { RuvectorV1.RouteMatch(name: $0.0.name, similarity: Float($0.1)) }
    }

    /// Fits one threshold from labelled queries (checked: widths, finite, named routes), sets it on
    /// every route and writes the routes before answering.
    func fitThreshold(_ queries: [RuvectorV1.LabelledQuery]) throws -> RuvectorV1.FitRouteThresholdResponse {
        try state.withLock { s in
            guard var semantic = s.semantic else {
                throw RPCError(.failedPrecondition, "router \(MessageText.quoted(name)) has no semantic routes; register some first")
            }
            let names = Set(s.routes.map(\.name))
            var labelled: [(query: [Float], route: String?)] = []
            for q in queries {
                let values = q.embedding?.values ?? []
                try RouteLimits.require(values.count == semantic.dimension, "every query must have the routes' dimension \(semantic.dimension), got \(values.count)")
                try RouteLimits.require(values.allSatisfy(\.isFinite) && values.contains { $0 != 0 }, "a query is not finite or all zeros")
                try RouteLimits.require(q.route.isEmpty || names.contains(q.route), "a query names no registered route: \(MessageText.quoted(q.route))")
                labelled.append((values, q.route.isEmpty ? nil : q.route))
            }
            let accuracy = try semantic.fitThreshold(labelled)
            let threshold = min(max(Float(semantic.threshold), Float.ulpOfOne), 1)
            var falseMatches = 0
            for item in labelled where item.route == nil {
                if try semantic.match(item.query).score >= Double(threshold) { falseMatches += 1 }
            }
            let outside = labelled.filter { $0.route == nil }.count
            let routes = s.routes.map { route in
                var r = route
                r.threshold = threshold
                return r
            }
            try AtomicFile.write(RuvectorV1.ListRoutesResponse(routes: routes).encoded(), to: directory + "/routes.pb")
            s.routes = routes
            return RuvectorV1.FitRouteThresholdResponse(threshold: threshold, accuracy: Float(accuracy),
                                                         falseMatchRate: outside == 0 ? 0 : Float(falseMatches) / Float(outside))
        }
    }
}

