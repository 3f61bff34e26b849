// The routing workload: requests with a hidden difficulty, a cheap and a strong candidate, outcomes
// recorded as served, a FastGRNN trained from that history; cost saved at 95% of the always-strong
// quality and APGR (RouteLLM: the average, over the share of calls sent to the strong model, of the
// performance gap recovered (Q - Q_cheap) / (Q_strong - Q_cheap)).
import Foundation
import LearnEngine
import RouteEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The simulated world: expected qualities are known, so the evaluation needs no sampling noise.
struct RoutingWorld {
    static let cheapCost = 1.0, strongCost = 10.0
    /// Feature directions the difficulty shows along (4 of the 8 features; the other 4 are noise).
    let direction: [Float]
    var rng: SeededGenerator

    init(seed: UInt64) {
        rng = SeededGenerator(seed: seed)
        var d = [Float](repeating: 0, count: 8)
        for i in 0..<4 { d[i] = Float(rng.nextGaussian()) }
        // Length 1 whatever the seed, so seeds change the draws, not how visible the difficulty is.
        let norm = d.reduce(0) { $0 + $1 * $1 }.squareRoot()
        direction = d.map { $0 / norm }
    }

    /// P(success) of the cheap candidate: high on easy requests, falling steeply past difficulty 0.55.
    static func cheapQuality(_ difficulty: Double) -> Double { 1 / (1 + exp(-10 * (0.55 - difficulty))) }
    /// P(success) of the strong candidate: high everywhere, a little lower on hard requests.
    static func strongQuality(_ difficulty: Double) -> Double { 0.98 - 0.08 * difficulty }

    /// A request: its difficulty and 8 steps x 8 features, each step a noisy view of it: the direction
    /// scaled by 2d - 1 in [-1, 1] under unit Gaussian noise per feature (one step alone says little).
    mutating func request() -> (difficulty: Double, features: [Float]) {
        let d = rng.nextUnitOpen()
        var f = [Float]()
        for _ in 0..<8 { for i in 0..<8 { f.append(direction[i] * Float(2 * d - 1) + Float(rng.nextGaussian())) } }
        return (d, f)
    }

    mutating func succeeds(_ p: Double) -> Bool { rng.nextUnitOpen() < p }
}

/// Expected quality and cost when the `strongShare` of requests ranked hardest by `need` go to the strong one.
func curve(_ difficulties: [Double], need: [Double]) -> [(share: Double, quality: Double, cost: Double)] {
    let order = need.indices.sorted { need[$0] > need[$1] }
    var quality = difficulties.reduce(0) { $0 + RoutingWorld.cheapQuality($1) }
    var cost = Double(difficulties.count) * RoutingWorld.cheapCost
    let n = Double(difficulties.count)
    var points = [(0.0, quality / n, cost / n)]
    for (k, i) in order.enumerated() {
        quality += RoutingWorld.strongQuality(difficulties[i]) - RoutingWorld.cheapQuality(difficulties[i])
        cost += RoutingWorld.strongCost - RoutingWorld.cheapCost
        points.append((Double(k + 1) / n, quality / n, cost / n))
    }
    return points
}

/// APGR (trapezoid over the strong share) and the cost saved, against always-strong, at the first point
/// reaching 95% of the always-strong quality.
func summarise(_ c: [(share: Double, quality: Double, cost: Double)]) -> (apgr: Double, strongShare: Double, costSaved: Double) {
    let weak = c[0].quality, strong = c[c.count - 1].quality
    var area = 0.0
    for k in 1..<c.count {
        let a = (c[k - 1].quality - weak) / (strong - weak), b = (c[k].quality - weak) / (strong - weak)
        area += (a + b) / 2 * (c[k].share - c[k - 1].share)
    }
    let target = 0.95 * strong
    let hit = c.first { $0.quality >= target } ?? c[c.count - 1]
    return (area, hit.share, 1 - hit.cost / RoutingWorld.strongCost)
}

func workloadRun(_ o: RouteBench.Workload, seed: UInt64) throws -> [String: Any] {
    let historyCount = o.historyCount
    var world = RoutingWorld(seed: seed)
    // History: exploration sends each request to either candidate at random; the cheap candidate's
    // outcomes say whether it sufficed (label 0) or not (label 1: the strong one was needed).
    var features = [Float](), labels = [Int]()
    var calibration = [Float](), calibrationLabels = [Int]()
    for k in 0..<historyCount {
        let r = world.request()
        guard world.rng.next() % 2 == 0 else {
            _ = world.succeeds(RoutingWorld.strongQuality(r.difficulty))   // served by strong: says nothing of cheap
            continue
        }
        let label = world.succeeds(RoutingWorld.cheapQuality(r.difficulty)) ? 0 : 1
        if k % 5 == 0 {
            calibration += r.features; calibrationLabels.append(label)
        } else {
            features += r.features; labels.append(label)
        }
    }
    let config = FastGRNNConfig(inputs: 8, classes: 2, hidden: o.hidden, timeSteps: 8)
    let network = try FastGRNNNetwork<Float>(config: config, seed: seed)
    var settings = FastGRNNTrainingConfig()
    settings.denseEpochs = o.epochs
    var trainer = try FastGRNNTrainer(network: network, config: settings, seed: seed)
    _ = try trainer.train(network, data: LabelledSequences(features: features, labels: labels))
    let model = FastGRNNModel(network)

    // Fresh requests, scored by the model and by an oracle that knows each difficulty.
    var difficulties = [Double](), need = [Double](), requests = [[Float]]()
    for _ in 0..<5000 {
        let r = world.request()
        difficulties.append(r.difficulty)
        requests.append(r.features)
        need.append(Double(try model.probabilities(r.features)[1]))
    }
    let ours = summarise(curve(difficulties, need: need))
    let oracle = summarise(curve(difficulties, need: difficulties.map {
        RoutingWorld.strongQuality($0) - RoutingWorld.cheapQuality($0)
    }))
    var shuffled = SeededGenerator(seed: seed ^ 0xABCD)
    let random = summarise(curve(difficulties, need: difficulties.map { _ in shuffled.nextUnitOpen() }))

    // The Router itself: threshold 0.7 (its default), fallback strongest, calibrated at α 0.1, each objective.
    let candidates = [RouteCandidate(name: "cheap", costPerRequest: RoutingWorld.cheapCost, latencyMillis: 100, quality: 0.5),
                      RouteCandidate(name: "strong", costPerRequest: RoutingWorld.strongCost, latencyMillis: 800, quality: 0.9)]
    let alwaysStrong = difficulties.reduce(0) { $0 + RoutingWorld.strongQuality($1) } / Double(requests.count)
    var routers = [String: Any]()
    for objective in [RouteObjective.cost, .quality] {
        var router = try Router(candidates: candidates, model: model, policy: RoutePolicy(objective: objective, fallback: .strongest))
        try router.calibrate(alpha: 0.1, heldOut: LabelledSequences(features: calibration, labels: calibrationLabels))
        var quality = 0.0, cost = 0.0, strongCalls = 0
        var reasons = [String: Int]()
        for (i, features) in requests.enumerated() {
            let d = try router.route(features, nowMillis: Int64(i))
            let strong = d.chosen == 1
            strongCalls += strong ? 1 : 0
            quality += strong ? RoutingWorld.strongQuality(difficulties[i]) : RoutingWorld.cheapQuality(difficulties[i])
            cost += strong ? RoutingWorld.strongCost : RoutingWorld.cheapCost
            reasons[d.reason.rawValue, default: 0] += 1
        }
        let count = Double(requests.count)
        routers[objective.rawValue] = ["quality_share": quality / count / alwaysStrong, "strong_share": Double(strongCalls) / count,
                                       "cost_saved": 1 - cost / count / RoutingWorld.strongCost,
                                       "conformal_threshold": router.conformal?.threshold ?? 0, "reasons": reasons]
    }
    let alwaysCheap = difficulties.reduce(0) { $0 + RoutingWorld.cheapQuality($1) } / Double(requests.count)
    return [
        "seed": seed, "history": historyCount, "trained_on": labels.count, "calibrated_on": calibrationLabels.count, "hidden": config.hidden,
        "always_strong_quality": alwaysStrong, "always_cheap_quality": alwaysCheap,
        "ours": ["apgr": ours.apgr, "strong_share_at_95": ours.strongShare, "cost_saved_at_95": ours.costSaved],
        "oracle": ["apgr": oracle.apgr, "strong_share_at_95": oracle.strongShare, "cost_saved_at_95": oracle.costSaved],
        "random": ["apgr": random.apgr, "strong_share_at_95": random.strongShare, "cost_saved_at_95": random.costSaved],
        "router": routers,
    ]
}

/// Runs `--seeds` (default 1,2,3) and prints a markdown table, then every number as JSON.
func workload(_ o: RouteBench.Workload) throws {
    let seeds = o.seeds.values
    var runs = [[String: Any]]()
    print("| seed | trained on | APGR ours | oracle | random | strong share at 95% ours | oracle | cost saved at 95% ours | oracle |"
          + " Router (cost): quality, cost saved | Router (quality): quality, cost saved |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    func f(_ v: Any?) -> String { String(format: "%.3f", (v as? Double) ?? .nan) }
    for seed in seeds {
        let r = try workloadRun(o, seed: seed)
        runs.append(r)
        let ours = r["ours"] as! [String: Double], oracle = r["oracle"] as! [String: Double], random = r["random"] as! [String: Double]
        let routers = r["router"] as! [String: [String: Any]]
        let cost = routers["cost"]!, quality = routers["quality"]!
        print("| \(seed) | \(r["trained_on"]!) | \(f(ours["apgr"])) | \(f(oracle["apgr"])) | \(f(random["apgr"])) | "
              + "\(f(ours["strong_share_at_95"])) | \(f(oracle["strong_share_at_95"])) | \(f(ours["cost_saved_at_95"])) | "
              + "\(f(oracle["cost_saved_at_95"])) | \(f(cost["quality_share"])), \(f(cost["cost_saved"])) | "
              + "\(f(quality["quality_share"])), \(f(quality["cost_saved"])) |")
    }
    printJSON(["runs": runs])
}
