import Wire

/// A model or backend a router may choose (RouteService CreateRouter).
public struct RouteCandidate: Sendable, Hashable {
    /// Its name, unique within the router.
    public var name: String
    /// Cost of one request (any unit, the same for every candidate).
    public var cost: Double
    /// Typical latency in milliseconds.
    public var latencyMillis: Double
    /// Expected quality (larger is better).
    public var quality: Double

    /// A candidate.
    public init(name: String, cost: Double = 0, latencyMillis: Double = 0, quality: Double = 0) {
        self.name = name
        self.cost = cost
        self.latencyMillis = latencyMillis
        self.quality = quality
    }
}

/// Where a request goes (RouteService Route).
public struct RouteDecision: Sendable, Hashable {
    /// The chosen candidate; nil when every breaker is open.
    public var chosen: String?
    /// The model's probability for it (0 while untrained).
    public var confidence: Float
    /// The conformal prediction set (contains the right candidate for about 1 - alpha of requests).
    public var predictionSet: [String]
    /// Every candidate with its probability, best first (empty while untrained).
    public var scores: [RouteScore]
    /// Why: model, uncertain, lowConfidence, circuitOpen, untrained or noneAvailable.
    public var reason: String
    /// The model version used (0: untrained).
    public var modelVersion: UInt64
    /// Candidates skipped because their breaker is open.
    public var skippedOpen: [String]
    /// The request's id, to name in `recordOutcome`.
    public var requestID: String

    init(_ d: RuvectorV1.RouteDecision) {
        chosen = d.chosen.isEmpty ? nil : d.chosen
        confidence = d.confidence
        predictionSet = d.predictionSet
        scores = d.alternatives.map { RouteScore(name: $0.name, probability: $0.score) }
        reason = switch d.reason {
        case .bestScore: "model"
        case .uncertain: "uncertain"
        case .fallbackLowConfidence: "lowConfidence"
        case .fallbackCircuitOpen: "circuitOpen"
        case .fallbackUntrained: "untrained"
        case .noneAvailable: "noneAvailable"
        default: "unspecified"
        }
        modelVersion = d.modelVersion
        skippedOpen = d.skippedOpen
        requestID = d.requestId
    }
}

/// A candidate's probability in a decision.
public struct RouteScore: Sendable, Hashable {
    /// The candidate.
    public var name: String
    /// The model's probability that it is the right one.
    public var probability: Float
}

/// A router's state (RouteService GetStatus).
public struct RouterStatus: Sendable, Hashable {
    /// Model version (0: untrained).
    public var modelVersion: UInt64
    /// Outcomes recorded since the router was created (the log keeps the newest `outcome_window`).
    public var outcomesRecorded: UInt64
    /// Held-out accuracy and conformal coverage of the last training run, and how many requests they were measured on.
    public var accuracy: Float
    /// Share of held-out requests whose prediction set held their label.
    public var calibratedCoverage: Float
    /// Held-out requests of the measurement.
    public var evaluationCount: UInt64
    /// Model size in bytes.
    public var modelBytes: UInt64
    /// Breaker state per candidate: "closed", "open" or "halfOpen".
    public var breakers: [String: String]
    /// Outcomes the router's outcome log holds now (about its outcome window at most).
    public var outcomeLogRecords: UInt64
    /// Bytes of the outcome log on disk.
    public var outcomeLogBytes: UInt64

    init(_ s: RuvectorV1.RouterStatus) {
        modelVersion = s.modelVersion
        outcomesRecorded = s.outcomesRecorded
        accuracy = s.accuracy
        calibratedCoverage = s.calibratedCoverage
        evaluationCount = s.evaluationCount
        modelBytes = s.modelBytes
        outcomeLogRecords = s.outcomeLogRecords
        outcomeLogBytes = s.outcomeLogBytes
        breakers = Dictionary(s.breakers.map { b in
            (b.candidate, b.state == .open ? "open" : b.state == .halfOpen ? "halfOpen" : "closed")
        }, uniquingKeysWith: { first, _ in first })
    }
}

/// One message of a router's training run (RouteService Train).
public struct RouterTrainingProgress: Sendable, Hashable {
    /// 1-based epoch (0 on the final message).
    public var epoch: Int
    /// Mean training loss of the epoch.
    public var loss: Float
    /// True on the final message (then `accuracy`, `coverage` and `modelVersion` are set).
    public var done: Bool
    /// Held-out accuracy.
    public var accuracy: Float
    /// Held-out conformal coverage.
    public var coverage: Float
    /// The stored model's version.
    public var modelVersion: UInt64

    init(_ m: RuvectorV1.TrainRouterProgress) {
        epoch = Int(m.epoch)
        loss = m.loss
        done = m.done
        accuracy = m.accuracy
        coverage = m.coverage
        modelVersion = m.modelVersion
    }
}

extension RuVectorClient {
    static let routeService = "/ruvector.v1.RouteService/"

    /// Creates a router over `candidates` for requests of `timeSteps` x `featureSize` features;
    /// zero settings take the server's defaults (docs/route.md). `outcomeWindow` is how many of the
    /// newest outcomes the router keeps and trains on (0 = 100000; 100 to 100000).
    ///
    /// ```swift
    /// try await db.createRouter("llm", candidates: [RouteCandidate(name: "small", cost: 1), RouteCandidate(name: "large", cost: 10)],
    ///                           featureSize: 4, timeSteps: 8)
    /// ```
    public func createRouter(_ name: String, candidates: [RouteCandidate], featureSize: Int, timeSteps: Int = 0, hiddenSize: Int = 0,
                             confidenceThreshold: Float = 0, breakerFailures: Int = 0,
                             breakerCoolDownMillis: UInt64 = 0, outcomeWindow: Int = 0) async throws(RuVectorClientError) {
        var request = RuvectorV1.CreateRouterRequest(
            name: name, candidates: candidates.map { RuvectorV1.Candidate(name: $0.name, cost: $0.cost, latencyMillis: $0.latencyMillis, quality: $0.quality) },
            featureSize: try WireConversions.uint32(featureSize, "featureSize"), timeSteps: try WireConversions.uint32(timeSteps, "timeSteps"),
            hiddenSize: try WireConversions.uint32(hiddenSize, "hiddenSize"), confidenceThreshold: confidenceThreshold,
            breakerFailures: try WireConversions.uint32(breakerFailures, "breakerFailures"), breakerCoolDownMillis: breakerCoolDownMillis)
        request.outcomeWindow = try WireConversions.uint32(outcomeWindow, "outcomeWindow")
        _ = try await unary("CreateRouter", request, service: Self.routeService, as: RuvectorV1.RouterInfo.self)
    }

    /// Routes one request (`features`: time_steps x feature_size values, step-major).
    public func route(_ router: String, features: [Float], requestID: String = "") async throws(RuVectorClientError) -> RouteDecision {
        let request = RuvectorV1.RouteRequest(router: router, features: RuvectorV1.Vector(values: features), requestId: requestID)
        return RouteDecision(try await unary("Route", request, service: Self.routeService, as: RuvectorV1.RouteDecision.self))
    }

    /// Records how a request served by `candidate` went (durably; feeds training and the breaker).
    /// Give the `requestID` of a recent `route` answer, or the request's `features`. Returns the outcomes recorded so far.
    @discardableResult
    public func recordOutcome(_ router: String, candidate: String, success: Bool, requestID: String = "", features: [Float]? = nil,
                              quality: Float = 0) async throws(RuVectorClientError) -> UInt64 {
        let request = RuvectorV1.RecordOutcomeRequest(router: router, requestId: requestID, candidate: candidate, success: success,
                                                      quality: quality, features: features.map { RuvectorV1.Vector(values: $0) })
        return try await unary("RecordOutcome", request, service: Self.routeService, as: RuvectorV1.RecordOutcomeResponse.self).recorded
    }

    /// The router's status: model, held-out accuracy and coverage, breakers.
    public func routerStatus(_ router: String) async throws(RuVectorClientError) -> RouterStatus {
        RouterStatus(try await unary("GetStatus", RuvectorV1.RouterStatusRequest(router: router), service: Self.routeService,
                                     as: RuvectorV1.RouterStatus.self))
    }

    /// Trains the router from its recorded outcomes, calling `progress` for every epoch and the final
    /// message; returns the status after the run. Cancelling the task cancels the run on the server.
    @discardableResult
    public func trainRouter(_ router: String, epochs: Int = 0, seed: UInt64 = 0,
                            progress: @Sendable (RouterTrainingProgress) -> Void = { _ in }) async throws(RuVectorClientError) -> RouterStatus {
        let request = RuvectorV1.TrainRouterRequest(router: router, epochs: try WireConversions.uint32(epochs, "epochs"), seed: seed)
        try await serverStream("Train", request, service: Self.routeService, as: RuvectorV1.TrainRouterProgress.self) {
            progress(RouterTrainingProgress($0))
        }
        return try await routerStatus(router)
    }
}
