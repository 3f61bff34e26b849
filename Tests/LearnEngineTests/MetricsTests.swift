import Testing
import LearnEngine

@Suite struct MetricsTests {
    @Test func ndcgRecallAndMRRByHand() {
        let grades: [Float] = [0, 2, 1]
        // DCG of order [0,1,2] = 0 + 3/log2(3) + 1/2; ideal [2,1,0] = 3 + 1/log2(3).
        let dcg = 3 / (3.0).log2Value + 0.5, ideal = 3 + 1 / (3.0).log2Value
        #expect(abs(RankingMetrics.ndcg(order: [0, 1, 2], grades: grades, k: 10) - dcg / ideal) < 1e-12)
        #expect(RankingMetrics.ndcg(order: [1, 2, 0], grades: grades, k: 10) == 1)
        #expect(RankingMetrics.ndcg(order: [0, 1], grades: [0, 0], k: 10) == 0)
        #expect(RankingMetrics.recall(order: [0, 1, 2], grades: grades, k: 2) == 0.5)
        #expect(RankingMetrics.recall(order: [0, 1, 2], grades: grades, k: 2, totalRelevant: 4) == 0.25)
        #expect(RankingMetrics.reciprocalRank(order: [0, 2, 1], grades: grades) == 0.5)
    }

    @Test func bootstrapIntervalCoversTheMeanAndIsSeeded() {
        var rng = SeededGenerator(seed: 1)
        let d = (0..<200).map { _ in 0.05 + rng.nextGaussian() * 0.1 }
        let a = RankingMetrics.bootstrapInterval(d, seed: 7), b = RankingMetrics.bootstrapInterval(d, seed: 7)
        #expect(a.mean == b.mean && a.lower == b.lower && a.upper == b.upper)
        #expect(a.lower < a.mean && a.mean < a.upper && a.lower > 0)
        // The interval's half width is near 1.96 * sd / sqrt(n) = 0.0139.
        #expect(abs((a.upper - a.lower) / 2 - 0.0139) < 0.004)
    }

    @Test func simultaneousLowerBoundsPayForTheChoiceAmongCandidates() {
        var rng = SeededGenerator(seed: 2)
        let d = (0..<200).map { _ in 0.05 + rng.nextGaussian() * 0.1 }
        // One candidate: the ordinary one-sided bound, mean - 1.96 * sd / sqrt(n) (near 0.05 - 0.0139).
        let one = RankingMetrics.simultaneousLowerBounds([d], seed: 7)
        #expect(abs(one[0] - (d.reduce(0, +) / 200 - 0.0139)) < 0.004)
        #expect(one == RankingMetrics.simultaneousLowerBounds([d], seed: 7))
        // Identical candidates cost nothing more.
        let same = RankingMetrics.simultaneousLowerBounds([d, d, d], seed: 7)
        #expect(same.allSatisfy { $0 == one[0] })
        // Twelve independent candidates: the margin grows towards a Bonferroni bound (z 2.87 instead of 1.96).
        let many = [d] + (1..<12).map { _ in (0..<200).map { _ in 0.05 + rng.nextGaussian() * 0.1 } }
        let bounds = RankingMetrics.simultaneousLowerBounds(many, seed: 7)
        let margin = d.reduce(0, +) / 200 - bounds[0]
        #expect(margin > 0.0139 * 1.25 && margin < 0.0139 * 2.87 / 1.96 * 1.2, "margin \(margin)")
    }
}

extension Double {
    var log2Value: Double { Double.logarithm(self) / Double.logarithm(2) }
}
