import LearnEngine

/// A Tiny Dancer router: a FastGRNN model scoring candidates, its conformal calibration, one circuit
/// breaker per candidate and the routing policy. A value type with no clock: `nowMillis` comes in with
/// every call, so a host (the service) owns it and its time, and tests replay exact sequences.
public struct Router: Equatable, Sendable {
    /// The candidates, in the model's class order.
    public let candidates: [RouteCandidate]
    /// The decision rule.
    public var policy: RoutePolicy
    /// The scorer (f32 or int8).
    public private(set) var model: FastGRNNModel
    /// The calibration, nil until `calibrate` has run.
    public private(set) var conformal: SplitConformal?
    /// One breaker per candidate.
    public private(set) var breakers: [CircuitBreaker]
    /// Where the round-robin fallback is.
    public private(set) var roundRobinCursor = 0

    /// A router over `candidates` (as many as the model's classes).
    public init(candidates: [RouteCandidate], model: FastGRNNModel, policy: RoutePolicy = RoutePolicy(),
                breaker: CircuitBreakerConfig = CircuitBreakerConfig()) throws(LearnError) {
        guard candidates.count == model.config.classes else {
            throw LearnError(.invalidConfiguration, "\(candidates.count) candidates for a model of \(model.config.classes) classes")
        }
        guard (0...1).contains(policy.confidenceThreshold) else {
            throw LearnError(.invalidConfiguration, "confidence threshold \(policy.confidenceThreshold) not in 0...1")
        }
        try breaker.validate()
        self.candidates = candidates
        self.policy = policy
        self.model = model
        breakers = candidates.map { _ in CircuitBreaker(config: breaker) }
    }

    /// Routes one request's features (`timeSteps x inputs`). The chosen candidate's breaker counts the
    /// request (a half-open breaker spends a trial on it).
    public mutating func route(_ sequence: [Float], nowMillis: Int64) throws(LearnError) -> RouteDecision {
        let probabilities = try model.probabilities(sequence).map(Double.init)
        let available = breakers.map { $0.wouldAdmit(nowMillis: nowMillis) }
        let decision = policy.decide(probabilities: probabilities, candidates: candidates, conformal: conformal,
                                     available: available, roundRobinCursor: &roundRobinCursor)
        if let chosen = decision.chosen { _ = breakers[chosen].admit(nowMillis: nowMillis) }
        return decision
    }

    /// Feeds a served request's outcome to its candidate's breaker.
    public mutating func recordOutcome(candidate: Int, success: Bool, nowMillis: Int64) throws(LearnError) {
        guard candidates.indices.contains(candidate) else {
            throw LearnError(.invalidExample, "candidate \(candidate) not in 0..<\(candidates.count)")
        }
        breakers[candidate].record(success: success, nowMillis: nowMillis)
    }

    /// Calibrates the conformal predictor on held-out labelled requests (labels: the candidate that
    /// should have served each one) at level `alpha`.
    public mutating func calibrate(alpha: Double, heldOut: LabelledSequences<Float>) throws(LearnError) {
        try heldOut.validate(for: model.config)
        let n = model.config.sequenceLength
        var probabilities = [Double]()
        for i in 0..<heldOut.count {
            let p = Softmax.probabilities(model.uncheckedLogits(Array(heldOut.features[i * n ..< (i + 1) * n])),
                                          classes: model.config.classes)
            probabilities.append(Double(p[heldOut.labels[i]]))
        }
        conformal = try SplitConformal(alpha: alpha, trueClassProbabilities: probabilities)
    }

    /// Serves from `model` from now on (same shape); the calibration belonged to the old model and is dropped.
    public mutating func replaceModel(_ model: FastGRNNModel) throws(LearnError) {
        guard model.config.classes == candidates.count else {
            throw LearnError(.mismatchedModel, "the new model has \(model.config.classes) classes, the router \(candidates.count)")
        }
        self.model = model
        conformal = nil
    }
}
