import Testing
import LearnEngine
@testable import RouteEngine

/// BPTT against central differences in Double, for every parameter, full and low rank, with and
/// without distillation.
@Suite struct FastGRNNGradientTests {
    static let shapes: [(wRank: Int?, uRank: Int?, distil: Bool)] = [
        (nil, nil, false), (2, 3, false), (2, 3, true), (nil, 1, true),
    ]

    @Test(arguments: 0..<shapes.count)
    func backwardMatchesFiniteDifferences(_ k: Int) throws {
        let (wRank, uRank, distil) = Self.shapes[k]
        let config = FastGRNNConfig(inputs: 3, classes: 4, hidden: 5, timeSteps: 6, wRank: wRank, uRank: uRank)
        let network = try FastGRNNNetwork<Double>(config: config, seed: 11 + UInt64(k))
        // Move ζ', ν' and the biases off their initial values so every term of the cell matters.
        network.zetaLogit.value = [0.3]; network.nuLogit.value = [-0.8]
        var rng = SeededGenerator(seed: 5)
        for i in 0..<config.hidden { network.gateBias.value[i] = rng.nextGaussian() * 0.5 }
        let rows = 3
        let x = (0..<(rows * config.sequenceLength)).map { _ in rng.nextGaussian() }
        let labels = [0, 3, 1]
        let teacher: [Double]? = distil ? (0..<(rows * config.classes)).map { _ in rng.nextGaussian() * 2 } : nil
        let distillation = Distillation(temperature: 3.0, weight: 0.5)
        func loss() -> Double {
            ClassificationLoss.evaluate(logits: network.logits(x, rows: rows), rows: rows, classes: config.classes,
                                        labels: labels, teacherLogits: teacher, distillation: distillation).loss
        }
        let input = Parameter<Double>(name: "input", shape: [x.count], value: x)
        let worst = Fixtures.worstGradientError(network.parameters, loss: loss) {
            let trace = network.forward(x, rows: rows)
            let d = ClassificationLoss.evaluate(logits: trace.logits, rows: rows, classes: config.classes, labels: labels,
                                                teacherLogits: teacher, distillation: distillation).dLogits
            input.gradient = network.backward(x, rows: rows, trace: trace, dLogits: d)
        }
        #expect(worst.error <= 1e-6, "worst parameter \(worst.name): relative error \(worst.error)")

        // The input gradient too (what a caller chaining an encoder in front would use).
        var numeric = [Double]()
        var xs = x
        for i in 0..<x.count {
            let saved = xs[i]
            xs[i] = saved + 1e-5
            let up = ClassificationLoss.evaluate(logits: network.logits(xs, rows: rows), rows: rows, classes: config.classes,
                                                 labels: labels, teacherLogits: teacher, distillation: distillation).loss
            xs[i] = saved - 1e-5
            let down = ClassificationLoss.evaluate(logits: network.logits(xs, rows: rows), rows: rows, classes: config.classes,
                                                   labels: labels, teacherLogits: teacher, distillation: distillation).loss
            xs[i] = saved
            numeric.append((up - down) / 2e-5)
        }
        let diff = zip(input.gradient, numeric).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        let scale = numeric.map { $0 * $0 }.reduce(0, +).squareRoot()
        #expect(diff / scale <= 1e-6, "input gradient relative error \(diff / scale)")
    }

    @Test func distillationAtWeightOneIgnoresLabels() {
        // λ = 1 leaves only τ² KL: the hard label must not move the loss.
        let logits = [0.3, -1.2, 2.0], teacher = [1.0, 0.5, -0.5]
        let a = ClassificationLoss.evaluate(logits: logits, rows: 1, classes: 3, labels: [0], teacherLogits: teacher,
                                            distillation: Distillation(temperature: 2, weight: 1))
        let b = ClassificationLoss.evaluate(logits: logits, rows: 1, classes: 3, labels: [2], teacherLogits: teacher,
                                            distillation: Distillation(temperature: 2, weight: 1))
        #expect(a.loss == b.loss && a.dLogits == b.dLogits)
        #expect(a.loss > 0)
        // Matching the teacher exactly gives zero loss and zero gradient.
        let same = ClassificationLoss.evaluate(logits: teacher, rows: 1, classes: 3, labels: [0], teacherLogits: teacher,
                                               distillation: Distillation(temperature: 2, weight: 1))
        #expect(abs(same.loss) < 1e-12 && same.dLogits.allSatisfy { abs($0) < 1e-12 })
    }
}
