import Testing
import LearnEngine

@Suite struct LossGradientTests {
    @Test(arguments: RankingLossKind.allCases)
    func gradientMatchesFiniteDifferences(kind: RankingLossKind) {
        var rng = SeededGenerator(seed: 11)
        let scores = Parameter<Double>(name: "s", shape: [7], value: GradientCheck.random(7, &rng))
        let grades: [Double] = [0, 2, 0, 1, 3, 0, 1]
        let r = GradientCheck.maximumRelativeError([scores],
            loss: { RankingLoss.evaluate(kind, scores: scores.value, grades: grades, temperature: 0.7).value },
            backward: { scores.gradient = RankingLoss.evaluate(kind, scores: scores.value, grades: grades, temperature: 0.7).gradient })
        #expect(r.error <= 1e-6, "\(kind): \(r.error)")
    }

    @Test(arguments: RankingLossKind.allCases)
    func weightedGradientMatchesFiniteDifferences(kind: RankingLossKind) {
        var rng = SeededGenerator(seed: 12)
        let scores = Parameter<Double>(name: "s", shape: [7], value: GradientCheck.random(7, &rng))
        let grades: [Double] = [0, 2, 0, 1, 3, 0, 1]
        let weights: [Double] = [1, 2, 3, 4, 5, 6, 7.5]
        let r = GradientCheck.maximumRelativeError([scores],
            loss: { RankingLoss.evaluate(kind, scores: scores.value, grades: grades, temperature: 0.7, weights: weights).value },
            backward: { scores.gradient = RankingLoss.evaluate(kind, scores: scores.value, grades: grades, temperature: 0.7, weights: weights).gradient })
        #expect(r.error <= 1e-6, "\(kind): \(r.error)")
    }

    @Test func weightsScaleTheListwiseTermsWithoutNormalising() {
        // One click at rank 5 with propensity 1/5: the target is (2^1 - 1) * 5 = 5, not 1, so the
        // loss is 5 times the unweighted one and a lone deep click keeps its weight.
        let scores: [Double] = [0.3, -0.1, 0.2, 0.0, -0.4]
        let grades: [Double] = [0, 0, 0, 0, 1]
        let plain = RankingLoss.evaluate(.listwiseSoftmax, scores: scores, grades: grades, temperature: 1)
        let weighted = RankingLoss.evaluate(.listwiseSoftmax, scores: scores, grades: grades, temperature: 1, weights: [1, 2, 3, 4, 5])
        #expect(abs(weighted.value - 5 * plain.value) < 1e-12)
        let ones = RankingLoss.evaluate(.listwiseSoftmax, scores: scores, grades: grades, temperature: 1, weights: [1, 1, 1, 1, 1])
        #expect(abs(ones.value - plain.value) < 1e-12)
    }

    @Test(arguments: RankingLossKind.allCases)
    func lossFallsWhenRelevantResultsRise(kind: RankingLossKind) {
        let grades: [Double] = [0, 0, 1]
        let bad = RankingLoss.evaluate(kind, scores: [3, 2, 1], grades: grades, temperature: 1).value
        let good = RankingLoss.evaluate(kind, scores: [1, 2, 3], grades: grades, temperature: 1).value
        #expect(good < bad)
        let none = RankingLoss.evaluate(kind, scores: [1, 2, 3], grades: [0, 0, 0], temperature: 1)
        #expect(none.value == 0 && none.gradient.allSatisfy { $0 == 0 })
    }

    @Test func listwiseMatchesHandComputedValue() {
        // Targets (2^g - 1)/sum for grades [0, 1] are [0, 1]; loss = -log softmax(s)[1] = log(1 + e^(s0 - s1)).
        let r = RankingLoss.evaluate(.listwiseSoftmax, scores: [0.5, -0.25], grades: [0, 1], temperature: 1.0 as Double)
        #expect(abs(r.value - (1 + (0.75).exponentialValue).logValue) < 1e-12)
    }
}

extension Double {
    var exponentialValue: Double { Double.exponential(self) }
    var logValue: Double { Double.logarithm(self) }
}
