import Foundation
import LearnEngine
import Testing
@testable import Services

/// The activation gate's statistics (LearnGate): the split, the one hold-out's test, and the
/// cross-fitted test that must activate a clear lift and refuse noise.
@Suite("learning: the activation gate")
struct LearnGateTests {
    /// Held-out lists in the shape of click feedback: most lists' gate DCG is small, a few (deep
    /// clicks, large propensity weights) are large.
    private func baseline(_ count: Int, rng: inout SeededGenerator) -> (scores: [Double], ideal: [Double]) {
        var scores = [Double](), ideal = [Double]()
        for _ in 0..<count {
            let best = Double(1 + rng.next() % 50)
            ideal.append(best)
            scores.append(best / log2(Double(2 + rng.next() % 12)))
        }
        return (scores, ideal)
    }

    /// Folds whose models differ from the HNSW order by `shift(epoch)` (in ideal units) plus noise:
    /// per list, `spread` drawn once (successive epochs are alike) and `jitter` drawn per epoch;
    /// fold `f` runs `epochs[f]` epochs.
    private func folds(lists: Int, epochs: [Int], shift: (Int) -> Double, spread: Double, jitter: Double = 0,
                       seed: UInt64) -> [LearnGate.FoldScores] {
        var rng = SeededGenerator(seed: seed)
        return epochs.map { count in
            let (scores, ideal) = baseline(lists, rng: &rng)
            let noise = scores.map { _ in spread * rng.nextGaussian() }
            var fold = LearnGate.FoldScores(baseline: scores, ideal: ideal)
            for epoch in 1...count {
                fold.epochs.append(scores.indices.map { i in
                    scores[i] + ideal[i] * (shift(epoch) + noise[i] + jitter * rng.nextGaussian())
                })
            }
            return fold
        }
    }

    /// The best epoch of `fold` tested alone, as one hold-out is (no price for the choice).
    private func bestEpochAlone(_ fold: LearnGate.FoldScores, seed: UInt64) -> LearnGate.Verdict {
        let sums: [Double] = fold.epochs.map { $0.reduce(0, +) }
        let best = 1 + (sums.indices.max { sums[$0] < sums[$1] } ?? 0)
        return LearnGate.test(model: fold.epochs[best - 1], baseline: fold.baseline, ideal: fold.ideal, epoch: best, seed: seed)
    }

    @Test("the split: a query's hash is stable across versions, and held out below the fraction")
    func split() {
        // The values of the hash since the hold-out was introduced: a changed hash would move
        // queries between the sides of every collection's split.
        #expect(RankingMetrics.holdOutUnit([1, 2, 3]) == 0.5989968746130513)
        #expect(RankingMetrics.holdOutUnit([0.5, -0.25]) == 0.5838609502147023)
        #expect(RankingMetrics.holdOutUnit([]) == 0.9247168271715233)
        #expect(RankingMetrics.holdOutUnit([1, 2, 3]) < 0.6 && !(RankingMetrics.holdOutUnit([1, 2, 3]) < 0.59))
        #expect(LearnGate.fold(unit: 0, folds: 5) == 0 && LearnGate.fold(unit: 0.5989968746130513, folds: 5) == 2)
        #expect(LearnGate.fold(unit: 0.999_999_999, folds: 5) == 4 && LearnGate.fold(unit: 1, folds: 5) == 4)
    }

    @Test("one hold-out: the differences are over the mean ideal DCG, and no epoch is no activation")
    func singleTest() {
        let verdict = LearnGate.test(model: [3, 2, 5, 1], baseline: [1, 1, 1, 1], ideal: [4, 4, 4, 4], epoch: 2, seed: 1)
        #expect(verdict.epoch == 2 && verdict.lists == 4)
        #expect(abs(verdict.mean - 1.75 / 4) < 1e-12)
        #expect(verdict.lower > 0 && verdict.lower <= verdict.mean && verdict.mean <= verdict.upper && verdict.activates)
        #expect(!LearnGate.test(model: [3, 2, 5, 1], baseline: [1, 1, 1, 1], ideal: [4, 4, 4, 4], epoch: 0, seed: 1).activates)
        let worse = LearnGate.test(model: [0, 1, 0, 1], baseline: [1, 1, 1, 1], ideal: [4, 4, 4, 4], epoch: 3, seed: 1)
        #expect(worse.mean < 0 && !worse.activates)
    }

    @Test("cross-fitting activates a lift that one small hold-out cannot tell from noise")
    func crossFittedLift() {
        // A lift of 1.5% of the ideal DCG from epoch 4 on, per-list noise of 15%: the 180 lists
        // of a tenth of the queries leave the interval across 0, five folds of 360 pooled do not.
        let lift = folds(lists: 360, epochs: [12, 12, 12, 12, 12], shift: { $0 >= 4 ? 0.015 : 0 }, spread: 0.15, jitter: 0.02, seed: 7)
        let alone = LearnGate.FoldScores(baseline: Array(lift[0].baseline.prefix(180)), ideal: Array(lift[0].ideal.prefix(180)),
                                         epochs: lift[0].epochs.map { Array($0.prefix(180)) })
        let single = bestEpochAlone(alone, seed: 1)
        #expect(!single.activates, "\(single)")
        let verdict = LearnGate.crossFitted(lift, seed: 1)
        #expect(verdict.activates && verdict.lists == 1800 && verdict.epoch >= 4, "\(verdict)")
    }

    @Test("cross-fitting refuses noise: the choice of the epoch is paid for")
    func crossFittedNoise() {
        // Epochs that differ from each other as much as from the HNSW order (the worst case for
        // choosing the best): without the price, the best of 12 clears a 2.5% test often.
        var alone = 0, crossFitted = 0
        for seed in 1...20 as ClosedRange<UInt64> {
            let noise = folds(lists: 200, epochs: [12, 9, 12, 7, 12], shift: { _ in 0 }, spread: 0, jitter: 0.15, seed: seed)
            let pooled = LearnGate.FoldScores(baseline: noise.flatMap(\.baseline), ideal: noise.flatMap(\.ideal),
                                              epochs: (0..<7).map { e in noise.flatMap { $0.epochs[e] } })
            if bestEpochAlone(pooled, seed: seed).activates { alone += 1 }
            if LearnGate.crossFitted(noise, seed: seed).activates { crossFitted += 1 }
        }
        #expect(alone >= 3 && crossFitted <= 1, "best epoch tested alone: \(alone) of 20 activated; cross-fitted: \(crossFitted)")
    }

    @Test("the common epoch is one every fold ran, with the best pooled gain; none is no activation")
    func commonEpoch() {
        // Fold 2 stopped after 3 epochs; everyone's epoch 5 would be best, epoch 2 is best of 1...3.
        let shifts: [Double] = [0.01, 0.05, 0.02, 0.0, 0.2, 0.0]
        let shift: (Int) -> Double = { shifts[$0 - 1] }
        let stopped = folds(lists: 100, epochs: [6, 3, 6], shift: shift, spread: 0, seed: 3)
        #expect(LearnGate.crossFitted(stopped, seed: 1).epoch == 2)
        let worse = folds(lists: 100, epochs: [4, 4], shift: { _ in -0.01 }, spread: 0, seed: 3)
        let verdict = LearnGate.crossFitted(worse, seed: 1)
        #expect(verdict.epoch == 0 && !verdict.activates && verdict.lists == 200)
    }

    @Test("hold-out scores pool over folds: metrics weighted by list count, lists concatenated")
    func pooledScores() {
        func example(_ grades: [Float], weights: [Float]) -> RerankExample {
            RerankExample(query: [0], nodes: grades.map { _ in [0] }, candidateCount: grades.count,
                          neighbours: grades.map { _ in [] }, hnswScores: grades.indices.map { -Float($0) }, grades: grades, weights: weights)
        }
        // HNSW order: the relevant result at rank 1 (nDCG 1) in one list, at rank 2 in the others.
        let first = HoldOutScore([example([1, 0], weights: [1, 2])], positionBias: 1) { RerankModel.order($0.hnswScores) }
        let second = HoldOutScore([example([0, 1], weights: [1, 2]), example([0, 1], weights: [1, 3])], positionBias: 1) {
            RerankModel.order($0.hnswScores)
        }
        let pooled = HoldOutScore(pooling: [first, second])
        #expect(abs(pooled.ndcg - (1 + 2 / log2(3.0)) / 3) < 1e-12)
        #expect(abs(pooled.mrr - (1 + 0.5 + 0.5) / 3) < 1e-12)
        #expect(pooled.gatePerExample == first.gatePerExample + second.gatePerExample)
        #expect(pooled.idealPerExample == [1, 2, 3])
        // The gate's score: mean DCG of the weighted gains (1, 2 / log2 3, 3 / log2 3) over the mean ideal DCG (2).
        #expect(abs(pooled.gateMean - (1 + 5 / log2(3.0)) / 3 / 2) < 1e-12)
    }
}
