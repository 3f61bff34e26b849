import Testing
import LearnEngine
@testable import RouteEngine

/// Split conformal prediction: the quantile rule, and coverage over many random splits.
@Suite struct ConformalTests {
    @Test func quantileIsTheCeilingRankOfTheScores() throws {
        // Scores 1 - p = 0.0, 0.1, ..., 0.9 (n = 10). At α = 0.2, ⌈11 · 0.8⌉ = 9: the 9th smallest, 0.8.
        let p = (0..<10).map { 1 - Double($0) / 10 }
        let c = try SplitConformal(alpha: 0.2, trueClassProbabilities: p.reversed())
        #expect(abs(c.threshold - 0.8) < 1e-12)
        #expect(c.predictionSet([0.15, 0.25, 0.6]) == [1, 2])
        // At α = 0.05, ⌈11 · 0.95⌉ = 11 > n: every class is in every set.
        #expect(try SplitConformal(alpha: 0.05, trueClassProbabilities: p).threshold == .infinity)
        #expect(throws: LearnError.self) { try SplitConformal(alpha: 0, trueClassProbabilities: p) }
        #expect(throws: LearnError.self) { try SplitConformal(alpha: 0.1, trueClassProbabilities: []) }
    }

    /// A seeded 5-class "model": logits from a Gaussian, labels drawn from a sharper softmax than the
    /// model reports (so the model is miscalibrated: conformal must fix its coverage anyway).
    static func examples(count: Int, seed: UInt64) -> (probabilities: [[Double]], labels: [Int]) {
        var rng = SeededGenerator(seed: seed)
        var probabilities = [[Double]](), labels = [Int]()
        for _ in 0..<count {
            let logits = (0..<5).map { _ in rng.nextGaussian() * 1.5 }
            probabilities.append(Softmax.probabilities(logits, classes: 5))
            let truth = Softmax.probabilities(logits.map { $0 * 2 }, classes: 5)
            var u = rng.nextUnitOpen(), label = 4
            for k in 0..<5 { u -= truth[k]; if u <= 0 { label = k; break } }
            labels.append(label)
        }
        return (probabilities, labels)
    }

    @Test func meanCoverageOver200SplitsIsNinetyPercent() throws {
        let (probabilities, labels) = Self.examples(count: 2000, seed: 21)
        var rng = SeededGenerator(seed: 22)
        var coverages = [Double](), sizes = [Double]()
        for _ in 0..<200 {
            var order = Array(0..<2000)
            order.shuffle(using: &rng)
            let calibration = order.prefix(1000), test = order.suffix(1000)
            let c = try SplitConformal(alpha: 0.1, trueClassProbabilities: calibration.map { probabilities[$0][labels[$0]] })
            var covered = 0, size = 0
            for i in test {
                let set = c.predictionSet(probabilities[i])
                if set.contains(labels[i]) { covered += 1 }
                size += set.count
            }
            coverages.append(Double(covered) / 1000)
            sizes.append(Double(size) / 1000)
        }
        let mean = coverages.reduce(0, +) / 200
        #expect(mean >= 0.885 && mean <= 0.92, "mean coverage \(mean)")
        // The raw model's top-1 is right far less often than 90%: the sets do the work.
        let top1 = zip(probabilities, labels).filter { ClassScores.argmax($0.0) == $0.1 }.count
        #expect(Double(top1) / 2000 < 0.85)
        #expect(sizes.reduce(0, +) / 200 > 1)
    }
}
