import LearnEngine
import RPC
import RouteEngine
import Storage
import VectorDatabase
import WorkControl
import Wire

/// Bounds and defaults of RouteService requests (documented in route.proto): every request is
/// checked against them before anything touches disk.
enum RouteLimits {
    /// Candidates per router.
    static let maxCandidates = 256
    /// Features per time step, time steps, and values per request.
    static let maxFeatureSize = 4096, maxTimeSteps = 64, maxRequestValues = 65_536
    /// The widest hidden state.
    static let maxHidden = 256
    /// Bytes in a candidate, route or request id.
    static let maxNameBytes = 128
    /// Semantic routes per router, examples per route, and the routes' widest embedding.
    static let maxRoutes = 256, maxExamplesPerRoute = 1000, maxRouteDimension = 4096
    /// Routed requests remembered per router so RecordOutcome finds their features, and the most
    /// feature values they may hold together (16 MiB).
    static let pendingRequests = 10_000, pendingValues = 4 << 20
    /// Labelled queries one FitRouteThreshold takes.
    static let maxFitQueries = 10_000
    /// Example values of all of a router's semantic routes together (64 MiB).
    static let maxRouteValues = 16 << 20
    /// Labelled requests a training run needs.
    static let minimumLabelledRequests = 10
    /// Outcomes a router keeps (its `outcome_window`, what training reads): the default and most
    /// (training's memory bound), and the fewest (a window must hold enough requests to split).
    static let maxOutcomeWindow = 100_000, minOutcomeWindow = 100
    /// The largest router file ImportRouter accepts, and the chunk size of ExportRouter.
    static let maxArchiveBytes = 64 << 20, exportChunkBytes = 256 << 10

    /// `definition` with its zero fields replaced by the defaults.
    static func resolved(_ definition: RuvectorV1.CreateRouterRequest) -> RuvectorV1.CreateRouterRequest {
        var d = definition
        if d.timeSteps == 0 { d.timeSteps = 1 }
        if d.hiddenSize == 0 { d.hiddenSize = 32 }
        if d.confidenceThreshold == 0 { d.confidenceThreshold = 0.7 }
        if d.fallback == .unspecified { d.fallback = .roundRobin }
        if d.breakerFailures == 0 { d.breakerFailures = 5 }
        if d.breakerCoolDownMillis == 0 { d.breakerCoolDownMillis = 30_000 }
        if d.breakerTrials == 0 { d.breakerTrials = 1 }
        if d.optimize == .unspecified { d.optimize = .cost }
        if d.conformalAlpha == 0 { d.conformalAlpha = 0.1 }
        if d.outcomeWindow == 0 { d.outcomeWindow = UInt32(maxOutcomeWindow) }
        return d
    }

    /// Throws INVALID_ARGUMENT naming the first value out of bounds (of a resolved definition).
    static func check(_ d: RuvectorV1.CreateRouterRequest) throws {
        try VectorMapping.checkCollectionName(d.name)
        try require((2...maxCandidates).contains(d.candidates.count), "a router needs 2 to \(maxCandidates) candidates, got \(d.candidates.count)")
        var names = Set<String>()
        for c in d.candidates {
            try checkName(c.name, "candidate name")
            try require(names.insert(c.name).inserted, "candidate \(MessageText.quoted(c.name)) is listed twice")
            try require(c.cost.isFinite && c.cost >= 0, "candidate \(MessageText.quoted(c.name)): cost must be finite and >= 0, got \(c.cost)")
            try require(c.latencyMillis.isFinite && c.latencyMillis >= 0,
                        "candidate \(MessageText.quoted(c.name)): latency_millis must be finite and >= 0, got \(c.latencyMillis)")
            try require(c.quality.isFinite, "candidate \(MessageText.quoted(c.name)): quality must be finite")
        }
        try require((1...UInt32(maxFeatureSize)).contains(d.featureSize), "feature_size must be 1 to \(maxFeatureSize), got \(d.featureSize)")
        try require(d.timeSteps <= UInt32(maxTimeSteps), "time_steps must be 0 (= 1) to \(maxTimeSteps), got \(d.timeSteps)")
        try require(Int(d.timeSteps) * Int(d.featureSize) <= maxRequestValues,
                    "time_steps x feature_size must be at most \(maxRequestValues), got \(Int(d.timeSteps) * Int(d.featureSize))")
        try require(d.hiddenSize <= UInt32(maxHidden), "hidden_size must be 0 (= 32) to \(maxHidden), got \(d.hiddenSize)")
        try require(d.wRank <= min(d.hiddenSize, d.featureSize), "w_rank must be 0 (= full) to \(min(d.hiddenSize, d.featureSize)), got \(d.wRank)")
        try require(d.uRank <= d.hiddenSize, "u_rank must be 0 (= full) to hidden_size \(d.hiddenSize), got \(d.uRank)")
        try require(d.confidenceThreshold.isFinite && d.confidenceThreshold > 0 && d.confidenceThreshold <= 1,
                    "confidence_threshold must be 0 (= 0.7) or in (0, 1], got \(d.confidenceThreshold)")
        try require([.roundRobin, .cheapest, .strongest].contains(d.fallback), "fallback must be a RouteFallback, got \(d.fallback)")
        try require(d.breakerFailures <= 1000, "breaker_failures must be 0 (= 5) to 1000, got \(d.breakerFailures)")
        try require(d.breakerCoolDownMillis <= 86_400_000, "breaker_cool_down_millis must be 0 (= 30000) to 86400000, got \(d.breakerCoolDownMillis)")
        try require(d.breakerTrials <= 1000, "breaker_trials must be 0 (= 1) to 1000, got \(d.breakerTrials)")
        try require([.cost, .latency, .quality].contains(d.optimize), "optimize must be a RouteOptimize, got \(d.optimize)")
        try require(d.conformalAlpha.isFinite && d.conformalAlpha > 0 && d.conformalAlpha <= 0.5,
                    "conformal_alpha must be 0 (= 0.1) or in (0, 0.5], got \(d.conformalAlpha)")
        try require(d.minQuality.isFinite && (0...1).contains(d.minQuality), "min_quality must be in [0, 1], got \(d.minQuality)")
        try require((UInt32(minOutcomeWindow)...UInt32(maxOutcomeWindow)).contains(d.outcomeWindow),
                    "outcome_window must be 0 (= \(maxOutcomeWindow)) or \(minOutcomeWindow) to \(maxOutcomeWindow), got \(d.outcomeWindow)")
    }

    /// Throws INVALID_ARGUMENT naming the first TrainRouterRequest setting out of bounds.
    static func check(_ r: RuvectorV1.TrainRouterRequest) throws {
        try require(r.epochs <= 1000, "epochs must be 0 (= 10) to 1000, got \(r.epochs)")
        try require(r.learningRate.isFinite && r.learningRate >= 0 && r.learningRate <= 1,
                    "learning_rate must be 0 (= 1e-2) or in (0, 1], got \(r.learningRate)")
        try require(r.distillationWeight.isFinite && (0...1).contains(r.distillationWeight),
                    "distillation_weight must be in [0, 1], got \(r.distillationWeight)")
        try require(r.batchSize <= 4096, "batch_size must be 0 (= 32) to 4096, got \(r.batchSize)")
        try require(r.keepFraction.isFinite && r.keepFraction >= 0 && r.keepFraction <= 1,
                    "keep_fraction must be 0 (= 1) or in (0, 1], got \(r.keepFraction)")
    }

    /// Throws INVALID_ARGUMENT unless `features` holds exactly `count` finite values.
    static func checkFeatures(_ features: [Float], count: Int) throws {
        try require(features.count == count, "features must hold time_steps x feature_size = \(count) values, got \(features.count)")
        try require(features.allSatisfy(\.isFinite), "a feature value is not finite (NaN or infinite)")
    }

    /// Throws INVALID_ARGUMENT unless `name` is 1 to `maxNameBytes` bytes.
    static func checkName(_ name: String, _ what: String) throws {
        try require(!name.isEmpty && name.utf8.count <= maxNameBytes, "\(what) must be 1 to \(maxNameBytes) bytes, got \(name.utf8.count)")
    }

    /// Throws INVALID_ARGUMENT unless `id` is at most `maxNameBytes` bytes.
    static func checkRequestID(_ id: String) throws {
        try require(id.utf8.count <= maxNameBytes, "request_id must be at most \(maxNameBytes) bytes, got \(id.utf8.count)")
    }

    /// The segment size of a router's outcome log: about an eighth of its window, estimating an
    /// outcome at its feature values plus 128 bytes (names, ids, numbers, framing). Compaction
    /// drops whole segments, so this is also about how far past the window the log may grow.
    static func outcomeSegmentBytes(_ d: RuvectorV1.CreateRouterRequest) -> Int {
        let outcomeBytes = Int(d.timeSteps) * Int(d.featureSize) * 4 + 128
        return min(64 << 20, max(4096, Int(d.outcomeWindow) / 8 * outcomeBytes))
    }

    /// Multiply-adds of one decision up to which Route runs on the call's task (about 0.3 ms).
    static let inlineMultiplyAdds = 1 << 20

    /// Whether a decision of this router is cheap enough to run without a pool: the FastGRNN
    /// forward costs about time_steps x hidden x (feature_size + hidden) multiply-adds.
    static func inlineWork(_ d: RuvectorV1.CreateRouterRequest) -> Bool {
        Int(d.timeSteps) * Int(d.hiddenSize) * (Int(d.featureSize) + Int(d.hiddenSize)) <= inlineMultiplyAdds
    }

    /// The engine's shapes and policy for a resolved definition.
    static func engineConfig(_ d: RuvectorV1.CreateRouterRequest) -> FastGRNNConfig {
        FastGRNNConfig(inputs: Int(d.featureSize), classes: d.candidates.count, hidden: Int(d.hiddenSize), timeSteps: Int(d.timeSteps),
                       wRank: d.wRank == 0 ? nil : Int(d.wRank), uRank: d.uRank == 0 ? nil : Int(d.uRank))
    }

    static func policy(_ d: RuvectorV1.CreateRouterRequest) -> RoutePolicy {
        let objective: RouteObjective = switch d.optimize {
        case .latency: .latency
        case .quality: .quality
        default: .cost
        }
        let fallback: FallbackStrategy = switch d.fallback {
        case .cheapest: .cheapest
        case .strongest: .strongest
        default: .roundRobin
        }
        return RoutePolicy(confidenceThreshold: Double(d.confidenceThreshold), objective: objective, fallback: fallback)
    }

    static func breaker(_ d: RuvectorV1.CreateRouterRequest) -> CircuitBreakerConfig {
        CircuitBreakerConfig(failureThreshold: Int(d.breakerFailures), coolDownMillis: Int64(d.breakerCoolDownMillis), halfOpenTrials: Int(d.breakerTrials))
    }

    static func candidates(_ d: RuvectorV1.CreateRouterRequest) -> [RouteCandidate] {
        d.candidates.map { RouteCandidate(name: $0.name, costPerRequest: $0.cost, latencyMillis: $0.latencyMillis, quality: $0.quality) }
    }

    /// The status for a failure of the route engine, storage or work limits.
    static func rpcError(_ error: any Error) -> RPCError {
        if let error = error as? LearnError { return RPCError(.invalidArgument, error.message, cause: error) }
        return VectorMapping.rpcError(error)
    }

    static func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        guard condition else { throw RPCError(.invalidArgument, message()) }
    }
}
