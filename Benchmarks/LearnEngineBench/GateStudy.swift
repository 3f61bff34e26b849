// `learn-bench --train-examples FILE --gate-study [--holdout F] [--folds K] [--eta X] [--seed N] [--head mlp]`:
// which activation rule gives LearnService's gate enough evidence on small feedback sets (issue 20,
// the gate's edge on noisy position-biased clicks). Every example of the file (its train and
// validation parts together) is split again by a hash of its query vector, as the server splits
// (`RankingMetrics.holdOutUnit`), and weighted again from its rank (rank^eta, clipped at 10 for
// training, unclipped for the hold-out), so the hold-out share can vary. One training run as the
// server trains (12 epochs, early stopping after 5 without a better gate score) then scores every
// epoch on the held-out lists under several gate scores, and each rule is decided from those:
//   ips         the server's gate: the best epoch by the unclipped propensity-weighted DCG@10, paired
//               bootstrap 95% lower bound of (model - HNSW) per list over the mean ideal DCG > 0;
//   clip10      the same with the weights clipped at 10 in the gate too;
//   perlist     each list's difference over that list's own ideal DCG (per-list normalisation);
//   split       the epoch chosen on one half of the held-out queries, tested on the other half.
// With --folds K the examples are split into K folds by the same hash; each fold is held out once
// (K runs: cross-fitting, every list is tested once by a model that did not train on it) and the
// pooled differences of all folds make one bootstrap:
//   cv-best     each fold's own best epoch (chosen on the lists it is then tested on);
//   cv-common   one epoch for all folds, the best pooled mean (one choice over the pooled lists);
//   cv-split    each fold's epoch chosen on one half of its lists, only the other halves tested.
// Examples are cut to the server's shape first (at most 2 linked non-candidates per candidate,
// taken round by round: `HNSWIndex.neighbourhood`), so a run costs what the server's does.
import LearnEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The gate scores of one order of one held-out list.
struct ListScores {
    var ips = 0.0, clipped = 0.0
}

/// The inputs of the server's gate on one list, under the gate's weightings.
struct HeldOutList {
    var example: RerankExample
    /// Gains with unclipped and clipped propensity weights.
    var ipsGains: [Double], clippedGains: [Double]
    var idealIPS: Double, idealClipped: Double
    /// Which half of the hold-out the list falls in (the `split` rule).
    var selectionHalf: Bool

    init(_ example: RerankExample, selectionHalf: Bool) {
        self.example = example
        self.selectionHalf = selectionHalf
        let grades = example.grades ?? []
        ipsGains = grades.indices.map { RankingMetrics.gain(grades[$0]) * Double(example.weights?[$0] ?? 1) }
        clippedGains = grades.indices.map { RankingMetrics.gain(grades[$0]) * Double(min(example.weights?[$0] ?? 1, 10)) }
        idealIPS = RankingMetrics.dcg(ipsGains.sorted(by: >), k: 10)
        idealClipped = RankingMetrics.dcg(clippedGains.sorted(by: >), k: 10)
    }

    func scores(_ order: [Int]) -> ListScores {
        guard order.count == ipsGains.count else { return ListScores() }
        return ListScores(ips: RankingMetrics.dcg(order.map { ipsGains[$0] }, k: 10),
                          clipped: RankingMetrics.dcg(order.map { clippedGains[$0] }, k: 10))
    }
}

/// One training run's evidence: for each held-out list the baseline's scores and every epoch's.
struct RunEvidence {
    var lists: [HeldOutList]
    var baseline: [ListScores]
    var epochs: [[ListScores]] = []

    /// Mean of `value` over the lists `included` (all when nil), over the mean ideal of the same lists.
    func mean(_ scores: [ListScores], _ value: (ListScores) -> Double, ideal: (HeldOutList) -> Double,
              included: ((HeldOutList) -> Bool)? = nil) -> Double {
        var s = 0.0, i = 0.0, n = 0.0
        for (list, score) in zip(lists, scores) where included?(list) ?? true {
            s += value(score)
            i += ideal(list)
            n += 1
        }
        return n == 0 || i <= 0 ? 0 : s / i
    }

    /// The 1-based epoch with the best mean of `value` (0 when none beats the baseline).
    func bestEpoch(_ value: (ListScores) -> Double, ideal: (HeldOutList) -> Double, included: ((HeldOutList) -> Bool)? = nil) -> Int {
        var best = mean(baseline, value, ideal: ideal, included: included), epoch = 0
        for (index, scores) in epochs.enumerated() {
            let m = mean(scores, value, ideal: ideal, included: included)
            if m > best { best = m; epoch = index + 1 }
        }
        return epoch
    }

    /// Per-list differences (model at `epoch` - baseline), each over `scale(list)`, of the lists `included`.
    func differences(epoch: Int, _ value: (ListScores) -> Double, scale: (HeldOutList) -> Double,
                     included: ((HeldOutList) -> Bool)? = nil) -> [Double] {
        guard epoch > 0 else { return [] }
        var out = [Double]()
        for (index, list) in lists.enumerated() where included?(list) ?? true {
            out.append((value(epochs[epoch - 1][index]) - value(baseline[index])) / max(scale(list), 1e-12))
        }
        return out
    }
}

/// One rule's verdict: the epoch it tested, the bootstrap interval, and whether it activates.
struct RuleVerdict {
    var epoch: Int
    var mean = 0.0, lower = 0.0, upper = 0.0
    var activates: Bool { epoch > 0 && lower > 0 }

    init(epoch: Int, differences: [Double], seed: UInt64) {
        self.epoch = epoch
        guard epoch > 0, !differences.isEmpty else { return }
        (mean, lower, upper) = RankingMetrics.bootstrapInterval(differences, seed: seed ^ 0xB007)
    }

    func line(_ name: String, lists: Int) -> String {
        func f(_ x: Double) -> String {
            let tenThousandths = Int((abs(x) * 10_000).rounded())
            let fraction = String(tenThousandths % 10_000)
            return (x < 0 ? "-" : "+") + "\(tenThousandths / 10_000)." + String(repeating: "0", count: 4 - fraction.count) + fraction
        }
        return "rule \(name): epoch \(epoch), \(lists) lists, mean \(f(mean)) [\(f(lower)), \(f(upper))] -> "
            + (activates ? "ACTIVATE" : "refuse")
    }
}

/// Trains one run as LearnTraining does on `train`, scoring every epoch on `heldOut`.
func gateRun(train: [RerankExample], heldOut: [HeldOutList], dimension: Int, options: LearnBenchOptions, label: String) -> RunEvidence {
    var config = RerankConfig()
    config.neighbours = 16
    if options.head == .bilinear { config.head = .bilinear }
    if let dropout = options.dropout { config.dropout = dropout }
    var training = TrainingConfig()
    training.epochs = options.epochs
    training.optimizer = .adam(weightDecay: 1e-4)
    training.clipNorm = options.clip
    let steps = training.epochs * ((train.count + training.batchSize - 1) / training.batchSize)
    let warmup = options.warmupSteps ?? min(100, max(1, steps / 10))
    training.schedule = .warmupCosine(warmupSteps: warmup, totalSteps: steps, minimumRate: 0)
    let model: RerankModel
    do { model = try RerankModel(config: config, dimension: dimension, seed: options.seed) } catch { fail("\(error)") }
    var evidence = RunEvidence(lists: heldOut, baseline: heldOut.map { $0.scores(RerankModel.order($0.example.hnswScores)) })
    let ipsIdeal: (HeldOutList) -> Double = { $0.idealIPS }
    var best = evidence.mean(evidence.baseline, { $0.ips }, ideal: ipsIdeal), sinceBest = 0
    print("\(label): \(train.count) training, \(heldOut.count) held-out lists; HNSW order's gate score \(best)")
    var trainer = Trainer(model: model, config: training, seed: options.trainerSeed ?? options.seed)
    trainer.train(model, examples: train, consolidating: false, continueAfterEpoch: { report in
        let scores = heldOut.map { $0.scores((try? model.rerank($0.example)) ?? []) }
        evidence.epochs.append(scores)
        let gate = evidence.mean(scores, { $0.ips }, ideal: ipsIdeal)
        print("  epoch \(report.epoch) loss \(report.loss) gate \(gate) clipped \(evidence.mean(scores, { $0.clipped }, ideal: { $0.idealClipped }))")
        if gate > best { best = gate; sinceBest = 0 } else { sinceBest += 1 }
        return sinceBest < LearnBenchOptions.patienceEpochs
    })
    return evidence
}

/// The one-hold-out rules (ips, clip10, perlist, split) of one run.
func printSingleSplitRules(_ run: RunEvidence, seed: UInt64) {
    let ips: (ListScores) -> Double = { $0.ips }, clipped: (ListScores) -> Double = { $0.clipped }
    let ipsIdeal: (HeldOutList) -> Double = { $0.idealIPS }, clippedIdeal: (HeldOutList) -> Double = { $0.idealClipped }
    let n = run.lists.count
    let ipsMean = run.lists.reduce(0) { $0 + $1.idealIPS } / Double(max(n, 1))
    let clippedMean = run.lists.reduce(0) { $0 + $1.idealClipped } / Double(max(n, 1))
    var epoch = run.bestEpoch(ips, ideal: ipsIdeal)
    print(RuleVerdict(epoch: epoch, differences: run.differences(epoch: epoch, ips, scale: { _ in ipsMean }), seed: seed)
        .line("ips", lists: n))
    if epoch > 0 {
        let rows = (1...run.epochs.count).map { run.differences(epoch: $0, ips, scale: { _ in ipsMean }) }
        let lower = RankingMetrics.simultaneousLowerBounds(rows, seed: seed ^ 0xB007)
        print("rule ips-sim: epoch \(epoch), simultaneous lower bound \(lower[epoch - 1]) -> " + (lower[epoch - 1] > 0 ? "ACTIVATE" : "refuse"))
    }
    epoch = run.bestEpoch(clipped, ideal: clippedIdeal)
    print(RuleVerdict(epoch: epoch, differences: run.differences(epoch: epoch, clipped, scale: { _ in clippedMean }), seed: seed)
        .line("clip10", lists: n))
    epoch = run.bestEpoch(ips, ideal: ipsIdeal)
    print(RuleVerdict(epoch: epoch, differences: run.differences(epoch: epoch, ips, scale: { $0.idealIPS }), seed: seed)
        .line("perlist", lists: n))
    let selection: (HeldOutList) -> Bool = { $0.selectionHalf }, test: (HeldOutList) -> Bool = { !$0.selectionHalf }
    epoch = run.bestEpoch(ips, ideal: ipsIdeal, included: selection)
    let testLists = run.lists.filter(test)
    let testMean = testLists.reduce(0) { $0 + $1.idealIPS } / Double(max(testLists.count, 1))
    print(RuleVerdict(epoch: epoch, differences: run.differences(epoch: epoch, ips, scale: { _ in testMean }, included: test), seed: seed)
        .line("split", lists: testLists.count))
}

/// The gate study (see the file's head); returns the process status.
func gateStudy(path: String, _ options: LearnBenchOptions) -> Int32 {
    let file = ExampleFile(path: path)
    // Weights again from the rank (the file's candidates are the shown list in shown order).
    let all: [(example: RerankExample, hash: Double)] = (file.train + file.validation).map { e in
        var e = serverShaped(e, maxExtraNodes: 2 * e.candidateCount)
        if options.eta > 0 { e.weights = (0..<e.candidateCount).map { powf(Float($0 + 1), Float(options.eta)) } } else { e.weights = nil }
        return (e, RankingMetrics.holdOutUnit(e.query))  // the server's split
    }
    func clippedForTraining(_ e: RerankExample) -> RerankExample {
        var e = e
        e.weights = e.weights?.map { min($0, 10) }
        return e
    }
    let seed = options.seed
    let ips: (ListScores) -> Double = { $0.ips }, clipped: (ListScores) -> Double = { $0.clipped }
    let ipsIdeal: (HeldOutList) -> Double = { $0.idealIPS }, clippedIdeal: (HeldOutList) -> Double = { $0.idealClipped }
    if options.folds < 2 {
        let fraction = options.holdout
        let heldOut = all.filter { $0.hash < fraction }.map { HeldOutList($0.example, selectionHalf: $0.hash < fraction / 2) }
        let train = all.filter { $0.hash >= fraction }.map { clippedForTraining($0.example) }
        printSingleSplitRules(gateRun(train: train, heldOut: heldOut, dimension: file.dimension, options: options,
                                      label: "hold-out \(fraction)"), seed: seed)
        return 0
    }
    // Cross-fitting: K runs, each list tested once by the run that held it out.
    var runs = [RunEvidence]()
    for fold in 0..<options.folds {
        let inFold: (Double) -> Bool = { Int($0 * Double(options.folds)) == fold }
        let width = 1 / Double(options.folds)
        let heldOut = all.filter { inFold($0.hash) }.map {
            HeldOutList($0.example, selectionHalf: $0.hash - Double(fold) * width < width / 2)
        }
        let train = all.filter { !inFold($0.hash) }.map { clippedForTraining($0.example) }
        runs.append(gateRun(train: train, heldOut: heldOut, dimension: file.dimension, options: options,
                            label: "fold \(fold + 1) of \(options.folds)"))
    }
    print("fold 1 alone (a hold-out of 1/\(options.folds)):")
    printSingleSplitRules(runs[0], seed: seed)
    // cv-best: each fold's own best epoch (selected on the lists it is tested on).
    var pooled = [(difference: Double, ideal: Double)]()
    for run in runs {
        let epoch = run.bestEpoch(ips, ideal: ipsIdeal)
        for (index, list) in run.lists.enumerated() {
            pooled.append(((epoch > 0 ? run.epochs[epoch - 1][index].ips : run.baseline[index].ips) - run.baseline[index].ips, list.idealIPS))
        }
    }
    var idealMean = pooled.reduce(0) { $0 + $1.ideal } / Double(max(pooled.count, 1))
    print(RuleVerdict(epoch: 1, differences: pooled.map { $0.difference / idealMean }, seed: seed).line("cv-best", lists: pooled.count))
    // cv-common: one epoch for every fold, the best pooled mean over the epochs every fold ran.
    let common = runs.map(\.epochs.count).min() ?? 0
    var bestEpoch = 0, bestSum = 0.0
    for epoch in 1...max(common, 1) where common > 0 {
        let sum = runs.reduce(0.0) { total, run in total + zip(run.epochs[epoch - 1], run.baseline).reduce(0) { $0 + $1.0.ips - $1.1.ips } }
        if sum > bestSum { bestSum = sum; bestEpoch = epoch }
    }
    pooled = runs.flatMap { run in run.lists.indices.map { index in
        ((bestEpoch > 0 ? run.epochs[bestEpoch - 1][index].ips : run.baseline[index].ips) - run.baseline[index].ips, run.lists[index].idealIPS)
    } }
    idealMean = pooled.reduce(0) { $0 + $1.ideal } / Double(max(pooled.count, 1))
    print(RuleVerdict(epoch: bestEpoch, differences: pooled.map { $0.difference / idealMean }, seed: seed)
        .line("cv-common", lists: pooled.count))
    // cv-common-sim: the same epoch, its lower bound simultaneous over the common epochs (the server's rule).
    if common > 0 {
        let ideal = runs.flatMap { $0.lists.map(\.idealIPS) }
        let mean = ideal.reduce(0, +) / Double(ideal.count)
        let rows = (0..<common).map { e in runs.flatMap { run in zip(run.epochs[e], run.baseline).map { ($0.ips - $1.ips) / mean } } }
        let lower = RankingMetrics.simultaneousLowerBounds(rows, seed: seed ^ 0xB007)
        let means = rows.map { $0.reduce(0, +) / Double($0.count) }
        let chosen = means.indices.max { means[$0] < means[$1] } ?? 0
        print("rule cv-common-sim: epoch \(chosen + 1), \(rows[0].count) lists, mean \(means[chosen]), simultaneous lower bound \(lower[chosen]) -> "
              + (means[chosen] > 0 && lower[chosen] > 0 ? "ACTIVATE" : "refuse"))
    }
    // cv-split: each fold's epoch chosen on one half of its lists, tested on the other half; the halves pooled.
    pooled = []
    for run in runs {
        let epoch = run.bestEpoch(ips, ideal: ipsIdeal, included: { $0.selectionHalf })
        for (index, list) in run.lists.enumerated() where !list.selectionHalf {
            pooled.append(((epoch > 0 ? run.epochs[epoch - 1][index].ips : run.baseline[index].ips) - run.baseline[index].ips, list.idealIPS))
        }
    }
    idealMean = pooled.reduce(0) { $0 + $1.ideal } / Double(max(pooled.count, 1))
    print(RuleVerdict(epoch: 1, differences: pooled.map { $0.difference / idealMean }, seed: seed).line("cv-split", lists: pooled.count))
    return 0
}

/// `example` in the server's shape: the candidates' links taken round by round over their link
/// lists, at most `maxExtraNodes` linked points that are not candidates (`HNSWIndex.neighbourhood`),
/// so a run costs what the server's does.
func serverShaped(_ example: RerankExample, maxExtraNodes: Int) -> RerankExample {
    var e = example
    var position = [Int32: Int32]()
    var nodes = Array(example.nodes.prefix(example.candidateCount))
    for i in 0..<example.candidateCount { position[Int32(i)] = Int32(i) }
    var links = [[Int32]](repeating: [], count: example.candidateCount)
    var extra = 0
    let rounds = example.neighbours.map(\.count).max() ?? 0
    for round in 0..<rounds {
        for (c, list) in example.neighbours.enumerated() where round < list.count {
            let m = list[round]
            if let index = position[m] {
                links[c].append(index)
            } else if extra < maxExtraNodes {
                let index = Int32(nodes.count)
                position[m] = index
                nodes.append(example.nodes[Int(m)])
                links[c].append(index)
                extra += 1
            }
        }
    }
    e.nodes = nodes
    e.neighbours = links
    return e
}
