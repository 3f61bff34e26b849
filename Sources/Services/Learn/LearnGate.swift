import LearnEngine

/// The statistics of the activation gate: a trained model replaces the plain HNSW order only when
/// its gate score on held-out feedback lists beats the HNSW order's with a paired bootstrap 95%
/// interval above 0. The gate score of a list is the DCG@10 of its propensity-weighted gains
/// (unclipped: clipping undervalues the deep clicks a real lift brings up), and a set's score is
/// the mean over the set's mean ideal DCG (per-list normalisation would reward the shown order).
///
/// One hold-out of a tenth of the queries is a few hundred lists on small feedback sets, too few to
/// tell a real lift from noise (docs/benchmarks/learn.md, "The gate"). When the hold-out is small
/// and does not clear the gate on its own, the run cross-fits: the queries are split into
/// `crossFitFolds` folds, each fold held out once from a training on the others, and every list is
/// scored by the model that did not train on it. One epoch count is chosen for all folds (the best
/// pooled mean), and the pooled differences at that epoch are the evidence, about as many lists as
/// there are queries, with a lower bound that pays for the choice of the epoch.
enum LearnGate {
    /// Folds of a cross-fitted gate.
    static let crossFitFolds = 5
    /// A hold-out with fewer lists than this that does not clear the gate alone is followed by
    /// cross-fitting (`crossFitFolds` more trainings); larger ones are evidence enough, and
    /// cross-fitting them would cost more than the run itself.
    static let crossFitBelowLists = 500

    /// One set of held-out lists, scored by the HNSW order and by a model after each epoch.
    struct FoldScores {
        /// Per list, the gate DCG of the HNSW order.
        var baseline: [Double]
        /// Per list, the ideal gate DCG (every relevant judgement on top).
        var ideal: [Double]
        /// Per epoch (the first is epoch 1), per list, the gate DCG of the model's order.
        var epochs: [[Double]] = []
    }

    /// A gate decision: the epoch it tested (0: none beat the HNSW order), the mean difference
    /// model - HNSW in gate score, its bootstrap 95% interval, and the lists it rests on.
    struct Verdict: Equatable {
        var epoch: Int
        var mean = 0.0, lower = 0.0, upper = 0.0
        var lists = 0
        var activates: Bool { epoch > 0 && lower > 0 }

        /// The verdict for people (GetModelStatus's `note`), e.g. "180 held-out lists, epoch 8:
        /// gate score +0.0121 over the HNSW order, lower bound -0.0070".
        var described: String {
            func signed(_ x: Double) -> String {
                let tenThousandths = Int((abs(x) * 10_000).rounded())
                let fraction = String(tenThousandths % 10_000)
                return (x < 0 && tenThousandths > 0 ? "-" : "+") + "\(tenThousandths / 10_000)."
                    + String(repeating: "0", count: 4 - fraction.count) + fraction
            }
            guard epoch > 0 else { return "\(lists) held-out lists: no epoch beat the HNSW order" }
            return "\(lists) held-out lists, epoch \(epoch): gate score \(signed(mean)) over the HNSW order, lower bound \(signed(lower))"
        }
    }

    /// The fold (0..<folds) of a query whose hold-out hash (`RankingMetrics.holdOutUnit`) is `unit`.
    static func fold(unit: Double, folds: Int) -> Int {
        min(folds - 1, max(0, Int(unit * Double(folds))))
    }

    /// The paired test of one epoch: per-list differences model - HNSW over the lists' mean ideal DCG.
    static func test(model: [Double], baseline: [Double], ideal: [Double], epoch: Int, seed: UInt64) -> Verdict {
        precondition(model.count == baseline.count && ideal.count == baseline.count, "one score per list")
        guard epoch > 0, !baseline.isEmpty else { return Verdict(epoch: 0, lists: baseline.count) }
        let idealMean = ideal.reduce(0, +) / Double(ideal.count)
        let differences = zip(model, baseline).map { ($0 - $1) / max(idealMean, 1e-12) }
        let interval = RankingMetrics.bootstrapInterval(differences, seed: seed ^ 0xB007)
        return Verdict(epoch: epoch, mean: interval.mean, lower: interval.lower, upper: interval.upper, lists: differences.count)
    }

    /// The cross-fitted test: the epoch, among those every fold ran, whose pooled gate score beats
    /// the HNSW order's most, tested on every fold's lists at once with a lower bound that holds
    /// for all those epochs together (`RankingMetrics.simultaneousLowerBounds`): on 5 times the
    /// lists, the optimism of choosing the best of a dozen epochs on the lists it is tested on
    /// would otherwise be enough to pass noise.
    static func crossFitted(_ folds: [FoldScores], seed: UInt64) -> Verdict {
        let baseline = folds.flatMap(\.baseline), ideal = folds.flatMap(\.ideal)
        let epochs = folds.map(\.epochs.count).min() ?? 0
        guard epochs > 0, !baseline.isEmpty else { return Verdict(epoch: 0, lists: baseline.count) }
        let idealMean = max(ideal.reduce(0, +) / Double(ideal.count), 1e-12)
        let differences = (0..<epochs).map { e in
            folds.flatMap { fold in zip(fold.epochs[e], fold.baseline).map { ($0 - $1) / idealMean } }
        }
        let means = differences.map { $0.reduce(0, +) / Double($0.count) }
        guard let best = means.indices.max(by: { means[$0] < means[$1] }), means[best] > 0 else {
            return Verdict(epoch: 0, lists: baseline.count)
        }
        let lower = RankingMetrics.simultaneousLowerBounds(differences, seed: seed ^ 0xB007)
        let interval = RankingMetrics.bootstrapInterval(differences[best], seed: seed ^ 0xB007)
        return Verdict(epoch: best + 1, mean: means[best], lower: lower[best], upper: interval.upper, lists: baseline.count)
    }
}
