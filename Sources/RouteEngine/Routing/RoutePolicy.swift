/// A model or backend a router can send a request to.
public struct RouteCandidate: Equatable, Sendable {
    /// Its name, as users see it.
    public var name: String
    /// What one request costs (any unit, the same for every candidate).
    public var costPerRequest: Double
    /// Its typical latency.
    public var latencyMillis: Double
    /// Its expected answer quality (any scale, larger is better); "strongest" means the largest.
    public var quality: Double

    /// A candidate.
    public init(name: String, costPerRequest: Double, latencyMillis: Double, quality: Double) {
        self.name = name
        self.costPerRequest = costPerRequest
        self.latencyMillis = latencyMillis
        self.quality = quality
    }
}

/// What to prefer among candidates that are all plausible (the conformal prediction set).
public enum RouteObjective: String, Equatable, Sendable, CaseIterable {
    /// The lowest `costPerRequest` (ties: higher quality, then the earlier candidate).
    case cost
    /// The lowest `latencyMillis` (ties: lower cost, then the earlier candidate).
    case latency
    /// The highest `quality` (ties: lower cost, then the earlier candidate).
    case quality
}

/// Where a request goes when the model is not confident.
public enum FallbackStrategy: String, Equatable, Sendable, CaseIterable {
    /// The available candidates in turn (a cursor the router keeps).
    case roundRobin
    /// The available candidate with the lowest cost.
    case cheapest
    /// The available candidate with the highest quality.
    case strongest
}

/// Why a decision went the way it did.
public enum RouteReason: String, Equatable, Sendable {
    /// The model's top candidate: confident (≥ the threshold) and alone in its conformal set.
    case model
    /// The conformal set held more than the top candidate: the objective chose among the set.
    case uncertain
    /// The top probability was below the confidence threshold (or the set was empty): the fallback chose.
    case lowConfidence
    /// The model's top candidate had an open breaker: the objective chose among the rest of the set,
    /// or the fallback among all available candidates when none of the set was left.
    case breakerOpen
    /// Every breaker was open: no candidate.
    case noneAvailable
}

/// The outcome of routing one request.
public struct RouteDecision: Equatable, Sendable {
    /// The candidate to serve it, nil when none is available.
    public var chosen: Int?
    /// The model's probability for the chosen candidate.
    public var confidence: Double
    /// The model's arg-max candidate.
    public var modelChoice: Int
    /// The conformal prediction set (candidate indices), empty when the router is not calibrated.
    public var predictionSet: [Int]
    /// Why.
    public var reason: RouteReason
    /// Candidates skipped because their breaker was open.
    public var skippedOpen: [Int]
}

/// The routing rule: pure, deterministic. Given the model's probabilities, the conformal set and which
/// candidates' breakers admit requests:
///
/// 1. No candidate available: `noneAvailable`.
/// 2. The top probability is below `confidenceThreshold`, or the conformal set is empty: `fallback` over
///    the available candidates (`lowConfidence`).
/// 3. The top candidate's breaker is open: `objective` over the available members of the set, else
///    `fallback` over all available (`breakerOpen`).
/// 4. The set holds more than the top candidate: `objective` over its available members (`uncertain`).
/// 5. Otherwise the top candidate (`model`).
///
/// Without calibration the set is taken as the top candidate alone (rule 4 never fires).
public struct RoutePolicy: Equatable, Sendable {
    /// Below this top probability the fallback decides (RuVector's default 0.7).
    public var confidenceThreshold = 0.7
    /// What to prefer within an uncertain set.
    public var objective = RouteObjective.cost
    /// Where low-confidence requests go.
    public var fallback = FallbackStrategy.roundRobin

    /// RuVector's defaults: threshold 0.7, objective cost, round-robin fallback.
    public init(confidenceThreshold: Double = 0.7, objective: RouteObjective = .cost, fallback: FallbackStrategy = .roundRobin) {
        self.confidenceThreshold = confidenceThreshold
        self.objective = objective
        self.fallback = fallback
    }

    /// The decision for `probabilities` (one per candidate). `roundRobinCursor` advances when the
    /// round-robin fallback is used.
    public func decide(probabilities: [Double], candidates: [RouteCandidate], conformal: SplitConformal?,
                       available: [Bool], roundRobinCursor: inout Int) -> RouteDecision {
        precondition(probabilities.count == candidates.count && available.count == candidates.count)
        let top = ClassScores.argmax(probabilities)
        let set = conformal?.predictionSet(probabilities) ?? [top]
        let open = candidates.indices.filter { !available[$0] }
        var decision = RouteDecision(chosen: nil, confidence: 0, modelChoice: top,
                                     predictionSet: conformal == nil ? [] : set, reason: .model, skippedOpen: open)
        let availableIndices = candidates.indices.filter { available[$0] }
        let availableSet = set.filter { available[$0] }
        if availableIndices.isEmpty {
            decision.reason = .noneAvailable
            return decision
        }
        if probabilities[top] < confidenceThreshold || set.isEmpty {
            decision.reason = .lowConfidence
            decision.chosen = fallbackChoice(availableIndices, candidates, &roundRobinCursor)
        } else if !available[top] {
            decision.reason = .breakerOpen
            decision.chosen = availableSet.isEmpty ? fallbackChoice(availableIndices, candidates, &roundRobinCursor)
                                                   : best(availableSet, candidates)
        } else if set.contains(where: { $0 != top }) {
            decision.reason = .uncertain
            decision.chosen = best(Array(Set(availableSet + [top])).sorted(), candidates)
        } else {
            decision.chosen = top
        }
        decision.confidence = decision.chosen.map { probabilities[$0] } ?? 0
        return decision
    }

    /// The objective's pick among `indices` (non-empty).
    func best(_ indices: [Int], _ candidates: [RouteCandidate]) -> Int {
        // A key per candidate, smaller is better; ties fall to the earlier index.
        func key(_ c: RouteCandidate) -> (Double, Double) {
            switch objective {
            case .cost: (c.costPerRequest, -c.quality)
            case .latency: (c.latencyMillis, c.costPerRequest)
            case .quality: (-c.quality, c.costPerRequest)
            }
        }
        return indices.min { key(candidates[$0]) < key(candidates[$1]) } ?? indices[0]
    }

    /// The fallback's pick among `indices` (non-empty).
    func fallbackChoice(_ indices: [Int], _ candidates: [RouteCandidate], _ cursor: inout Int) -> Int {
        switch fallback {
        case .roundRobin:
            defer { cursor &+= 1 }
            return indices[Int(UInt(bitPattern: cursor) % UInt(indices.count))]
        case .cheapest:
            return RoutePolicy(objective: .cost).best(indices, candidates)
        case .strongest:
            return RoutePolicy(objective: .quality).best(indices, candidates)
        }
    }
}
