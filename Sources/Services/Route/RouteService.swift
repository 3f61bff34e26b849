import RPC
import RouteEngine
import Storage
import Synchronization
import Wire

/// `ruvector.v1.RouteService`: Tiny Dancer over the wire. Routers are created, routed through,
/// told how requests went (outcomes, durably logged, feeding the circuit breakers), trained in the
/// background from those outcomes with streamed progress, and moved between servers (Export,
/// Import). Semantic routes match embeddings to named routes. The breakers' clock is the server's
/// one wall clock (`DurabilityOptions.unixMicros`).
struct RouteService: RPCService {
    static let name = "ruvector.v1.RouteService"

    let routers: RouteCatalog
    let work: ServerWork
    /// Set on a cluster node: every method answers FAILED_PRECONDITION (routers are per node).
    var clusterNode = false

    static func nowMillis() -> Int64 { DurabilityOptions.unixMicros() / 1000 }

    /// FAILED_PRECONDITION on a cluster node.
    func requireSingleNode() throws {
        guard !clusterNode else {
            throw RPCError(.failedPrecondition, "routing on a cluster is not supported yet: a router's outcomes and model would live on one node only")
        }
    }

    /// The router `name`, or the status saying why not.
    func store(_ name: String) throws -> RouteStore {
        try requireSingleNode()
        return try routers.store(name)
    }

    func register(into router: inout RPCRouter) {
        registerRouters(into: &router)
        registerRouting(into: &router)
        registerSemantic(into: &router)
        router.serverStreaming(Self.name, "Train", RuvectorV1.TrainRouterRequest.self, RuvectorV1.TrainRouterProgress.self) { request, writer, context in
            try await train(request, to: writer, context: context)
        }
        router.serverStreaming(Self.name, "ExportRouter", RuvectorV1.ExportRouterRequest.self, RuvectorV1.FileChunk.self) { request, writer, context in
            try await export(request, to: writer, context: context)
        }
        router.clientStreaming(Self.name, "ImportRouter", RuvectorV1.ImportRouterRequest.self, RuvectorV1.RouterInfo.self) { requests, context, _ in
            try await importRouter(requests, context: context)
        }
    }

    private func registerRouters(into router: inout RPCRouter) {
        let service = self
        router.unary(Self.name, "CreateRouter", RuvectorV1.CreateRouterRequest.self) { request, context, _ in
            try service.requireSingleNode()
            let definition = RouteLimits.resolved(request)
            try RouteLimits.check(definition)
            return try await service.work.run(.write, context, work: "CreateRouter", map: RouteLimits.rpcError) { _ in
                try service.routers.create(definition).info
            }
        }
        router.unary(Self.name, "GetRouter", RuvectorV1.GetRouterRequest.self) { request, _, _ in
            try service.store(request.name).info
        }
        router.unary(Self.name, "ListRouters", RuvectorV1.ListRoutersRequest.self) { _, context, _ in
            // A caller holding single routers sees only those it may read.
            RuvectorV1.ListRoutersResponse(routers: service.routers.list().filter { context.allows(.read, collection: $0.name) }.map(\.info))
        }
        router.unary(Self.name, "DeleteRouter", RuvectorV1.DeleteRouterRequest.self) { request, context, _ in
            _ = try service.store(request.name)
            return try await service.work.run(.write, context, work: "DeleteRouter", map: RouteLimits.rpcError) { _ in
                try service.routers.delete(request.name)
                return RuvectorV1.DeleteRouterResponse()
            }
        }
        router.unary(Self.name, "GetStatus", RuvectorV1.RouterStatusRequest.self) { request, _, _ in
            try service.store(request.router).status()
        }
    }

    private func registerRouting(into router: inout RPCRouter) {
        let service = self
        // A small model (the usual router: a few microseconds, no disk) answers where the request
        // arrived, on the connection's event loop, as a light Search does (no task, no hop to a
        // pool: measured, that hop was most of what a Route call cost beyond a Search call); a
        // large one runs on the search pool with the call's bounds like any search.
        router.inlineUnary(Self.name, "Route", RuvectorV1.RouteRequest.self, prepare: { request in
            let store = try service.store(request.router)
            try RouteLimits.checkRequestID(request.requestId)
            let features = request.features?.values ?? []
            try RouteLimits.checkFeatures(features, count: RouteLimits.engineConfig(store.definition).sequenceLength)
            return ((store, features), RouteLimits.inlineWork(store.definition))
        }, heavy: { context, body in
            try await service.work.run(.search, context, work: "Route", map: RouteLimits.rpcError, body)
        }) { request, prepared, _, _ in
            do {
                return try prepared.0.route(prepared.1, requestID: request.requestId, nowMillis: Self.nowMillis())
            } catch {
                throw RouteLimits.rpcError(error)
            }
        }
        router.unary(Self.name, "RecordOutcome", RuvectorV1.RecordOutcomeRequest.self) { request, context, _ in
            let store = try service.store(request.router)
            let record = try service.validated(request, store: store)
            let candidate = try store.candidateIndex(request.candidate)
            return try await service.work.run(.write, context, work: "RecordOutcome", map: RouteLimits.rpcError) { bounds in
                try bounds.cancellation.check()
                let held = try store.appendOutcome(record)
                store.recordBreakerOutcome(candidate: candidate, success: request.success, nowMillis: Self.nowMillis())
                return RuvectorV1.RecordOutcomeResponse(recorded: held)
            }
        }
    }

    /// The outcome as it is logged (features resolved from the routed request when not sent), or
    /// INVALID_ARGUMENT / FAILED_PRECONDITION saying what is wrong.
    func validated(_ request: RuvectorV1.RecordOutcomeRequest, store: RouteStore) throws -> RuvectorV1.RecordOutcomeRequest {
        try RouteLimits.checkRequestID(request.requestId)
        _ = try store.candidateIndex(request.candidate)
        try RouteLimits.require(request.cost.isFinite && request.cost >= 0, "cost must be finite and >= 0, got \(request.cost)")
        try RouteLimits.require(request.quality.isFinite && (0...1).contains(request.quality), "quality must be in [0, 1], got \(request.quality)")
        if !request.teacherScores.isEmpty {
            try RouteLimits.require(request.teacherScores.count == store.candidates.count,
                                    "teacher_scores must score every candidate (\(store.candidates.count)), got \(request.teacherScores.count)")
            for s in request.teacherScores {
                _ = try store.candidateIndex(s.name)
                try RouteLimits.require(s.score.isFinite && (0...1).contains(s.score), "a teacher score must be in [0, 1], got \(s.score)")
            }
            try RouteLimits.require(Set(request.teacherScores.map(\.name)).count == store.candidates.count, "teacher_scores names a candidate twice")
        }
        let n = RouteLimits.engineConfig(store.definition).sequenceLength
        var record = request
        if let features = request.features, !features.values.isEmpty {
            try RouteLimits.checkFeatures(features.values, count: n)
        } else if !request.requestId.isEmpty, let remembered = store.pendingFeatures(request.requestId) {
            record.features = RuvectorV1.Vector(values: remembered)
        } else {
            throw RPCError(.failedPrecondition, "the outcome has no features and request_id \(MessageText.quoted(request.requestId)) names no request "
                + "this server routed recently (it remembers the last \(RouteLimits.pendingRequests) per router, until a restart); send the features")
        }
        return record
    }

    private func registerSemantic(into router: inout RPCRouter) {
        let service = self
        router.unary(Self.name, "RegisterRoute", RuvectorV1.RegisterRouteRequest.self) { request, context, _ in
            let store = try service.store(request.router)
            let route = request.route ?? RuvectorV1.SemanticRoute()
            _ = try RouteStore.checked(route, dimension: nil)
            return try await service.work.run(.write, context, work: "RegisterRoute", map: RouteLimits.rpcError) { _ in
                try store.register(route)
            }
        }
        router.unary(Self.name, "ListRoutes", RuvectorV1.ListRoutesRequest.self) { request, _, _ in
            RuvectorV1.ListRoutesResponse(routes: try service.store(request.router).listRoutes())
        }
        router.unary(Self.name, "DeleteRoute", RuvectorV1.DeleteRouteRequest.self) { request, context, _ in
            let store = try service.store(request.router)
            return try await service.work.run(.write, context, work: "DeleteRoute", map: RouteLimits.rpcError) { _ in
                try store.deleteRoute(request.name)
                return RuvectorV1.DeleteRouteResponse()
            }
        }
        router.unary(Self.name, "FitRouteThreshold", RuvectorV1.FitRouteThresholdRequest.self) { request, context, _ in
            let store = try service.store(request.router)
            try RouteLimits.require((1...RouteLimits.maxFitQueries).contains(request.queries.count),
                                    "give 1 to \(RouteLimits.maxFitQueries) labelled queries, got \(request.queries.count)")
            return try await service.work.run(.write, context, work: "FitRouteThreshold", map: RouteLimits.rpcError) { _ in
                try store.fitThreshold(request.queries)
            }
        }
        router.unary(Self.name, "MatchRoute", RuvectorV1.MatchRouteRequest.self) { request, context, _ in
            let store = try service.store(request.router)
            try RouteLimits.require(request.limit <= UInt32(RouteLimits.maxRoutes), "limit must be 0 (= 1) to \(RouteLimits.maxRoutes), got \(request.limit)")
            try RouteLimits.require((request.embedding?.values.count ?? 0) <= RouteLimits.maxRouteDimension,
                                    "the embedding has more than \(RouteLimits.maxRouteDimension) values")
            return try await service.work.run(.search, context, work: "MatchRoute", map: RouteLimits.rpcError) { _ in
                RuvectorV1.MatchRouteResponse(matches: try store.match(request.embedding?.values ?? [], limit: max(1, Int(request.limit))))
            }
        }
    }
}
