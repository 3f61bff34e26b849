import Testing
import LearnEngine
@testable import RouteEngine

/// The routing rule, case by case, and a router end to end with breakers on a scripted clock.
@Suite struct RoutePolicyTests {
    static let candidates = [
        RouteCandidate(name: "small", costPerRequest: 1, latencyMillis: 50, quality: 0.6),
        RouteCandidate(name: "medium", costPerRequest: 4, latencyMillis: 30, quality: 0.8),
        RouteCandidate(name: "large", costPerRequest: 20, latencyMillis: 200, quality: 0.95),
    ]
    /// q̂ = 0.5: a class is in the set when p ≥ 0.5.
    static let conformal = SplitConformal(alpha: 0.1, calibrationCount: 100, threshold: 0.5)

    func decide(_ p: [Double], _ policy: RoutePolicy = RoutePolicy(), conformal: SplitConformal? = conformal,
                available: [Bool] = [true, true, true], cursor: inout Int) -> RouteDecision {
        policy.decide(probabilities: p, candidates: Self.candidates, conformal: conformal, available: available,
                      roundRobinCursor: &cursor)
    }

    @Test func confidentAndAloneGoesToTheModelsChoice() {
        var cursor = 0
        let d = decide([0.05, 0.9, 0.05], cursor: &cursor)
        #expect(d.chosen == 1 && d.reason == .model && d.predictionSet == [1] && abs(d.confidence - 0.9) < 1e-12)
    }

    @Test(arguments: RouteObjective.allCases)
    func uncertainSetsAreDecidedByTheObjective(_ objective: RouteObjective) {
        // Threshold 0.45 so 0.55 is confident; q̂ 0.6 puts every p ≥ 0.4 in the set: 0.45 and 0.55.
        var cursor = 0
        let policy = RoutePolicy(confidenceThreshold: 0.45, objective: objective)
        let d = decide([0.45, 0.0, 0.55], policy,
                       conformal: SplitConformal(alpha: 0.1, calibrationCount: 100, threshold: 0.6), cursor: &cursor)
        #expect(d.predictionSet == [0, 2] && d.reason == .uncertain)
        // small is cheaper and faster, large stronger.
        #expect(d.chosen == (objective == .quality ? 2 : 0))
    }

    @Test func lowConfidenceFallsBack() {
        var cursor = 0
        let p = [0.3, 0.4, 0.3]
        let order = (0..<4).map { _ in decide(p, cursor: &cursor).chosen }
        #expect(order == [0, 1, 2, 0] && cursor == 4)
        #expect(decide(p, cursor: &cursor).reason == .lowConfidence)
        #expect(decide(p, RoutePolicy(fallback: .cheapest), cursor: &cursor).chosen == 0)
        #expect(decide(p, RoutePolicy(fallback: .strongest), cursor: &cursor).chosen == 2)
        // Round robin skips open candidates.
        var c2 = 0
        let skipping = (0..<3).map { _ in decide(p, available: [true, false, true], cursor: &c2).chosen }
        #expect(skipping == [0, 2, 0])
    }

    @Test func openBreakersAreSkippedAndSaidSo() {
        var cursor = 0
        let d = decide([0.1, 0.1, 0.8], available: [true, true, false], cursor: &cursor)
        #expect(d.modelChoice == 2 && d.skippedOpen == [2] && d.reason == .breakerOpen)
        #expect(d.chosen == 0, "round-robin fallback: nothing else of the set is available")
        let none = decide([0.1, 0.1, 0.8], available: [false, false, false], cursor: &cursor)
        #expect(none.chosen == nil && none.reason == .noneAvailable)
    }

    @Test func routerTracksBreakersOnItsClock() throws {
        let network = try FastGRNNNetwork<Float>(config: FastGRNNConfig(inputs: 2, classes: 3, hidden: 4, timeSteps: 1), seed: 1)
        // A model that always prefers "large" confidently.
        network.classifierWeight.value = [Float](repeating: 0, count: 12)
        network.classifierBias.value = [0, 0, 6]
        var router = try Router(candidates: Self.candidates, model: FastGRNNModel(network),
                                policy: RoutePolicy(fallback: .cheapest),
                                breaker: CircuitBreakerConfig(failureThreshold: 2, coolDownMillis: 1000))
        #expect(try router.route([0, 0], nowMillis: 0).chosen == 2)
        try router.recordOutcome(candidate: 2, success: false, nowMillis: 1)
        try router.recordOutcome(candidate: 2, success: false, nowMillis: 2)
        let rerouted = try router.route([0, 0], nowMillis: 3)
        #expect(rerouted.chosen == 0 && rerouted.reason == .breakerOpen && rerouted.skippedOpen == [2])
        let trial = try router.route([0, 0], nowMillis: 1002)
        #expect(trial.chosen == 2 && trial.reason == .model && router.breakers[2].state == .halfOpen(admitted: 1))
        #expect(try router.route([0, 0], nowMillis: 1003).chosen == 0, "the one trial is out")
        try router.recordOutcome(candidate: 2, success: true, nowMillis: 1004)
        #expect(try router.route([0, 0], nowMillis: 1005).chosen == 2)
        #expect(throws: LearnError.self) { try router.recordOutcome(candidate: 3, success: true, nowMillis: 0) }
        #expect(throws: LearnError.self) { try router.route([0], nowMillis: 0) }
    }

    @Test func calibrationFromHeldOutOutcomesBuildsTheSets() throws {
        let train = Fixtures.asFloat(Fixtures.sequenceTask(count: 400, seed: 31))
        let heldOut = Fixtures.asFloat(Fixtures.sequenceTask(count: 400, seed: 32))
        let config = FastGRNNConfig(inputs: 4, classes: 3, hidden: 8, timeSteps: 8)
        let network = try FastGRNNNetwork<Float>(config: config, seed: 2)
        var settings = FastGRNNTrainingConfig()
        settings.denseEpochs = 4
        var trainer = try FastGRNNTrainer(network: network, config: settings, seed: 2)
        _ = try trainer.train(network, data: train)
        var router = try Router(candidates: Self.candidates, model: FastGRNNModel(network))
        try router.calibrate(alpha: 0.1, heldOut: heldOut)
        let conformal = try #require(router.conformal)
        #expect(conformal.calibrationCount == 400 && conformal.threshold > 0 && conformal.threshold < 1)
        let fresh = Fixtures.asFloat(Fixtures.sequenceTask(count: 400, seed: 33))
        var covered = 0
        for i in 0..<fresh.count {
            let d = try router.route(Array(fresh.features[i * 32 ..< (i + 1) * 32]), nowMillis: Int64(i))
            if d.predictionSet.contains(fresh.labels[i]) { covered += 1 }
        }
        // One split of 400: coverage is 0.9 give or take two standard errors (0.015 each).
        #expect(Double(covered) / 400 >= 0.86, "coverage \(Double(covered) / 400)")
    }
}
