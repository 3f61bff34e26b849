import LearnEngine

/// Knowledge distillation (Hinton et al. 2015): how much of the loss follows a teacher's soft labels.
public struct Distillation: Equatable, Sendable {
    /// τ: both the teacher's and the student's logits are divided by it before the softmax.
    public var temperature = 3.0
    /// λ in [0, 1]: loss = (1 - λ) CE(label, softmax(s)) + λ τ² KL(softmax(t/τ) ‖ softmax(s/τ)). The τ² keeps
    /// the soft term's gradient on the scale of the hard one. RuVector uses τ = 3 and λ = 0.5.
    public var weight = 0.5

    /// RuVector's settings (τ 3.0, λ 0.5).
    public init(temperature: Double = 3.0, weight: Double = 0.5) {
        self.temperature = temperature
        self.weight = weight
    }

    /// Throws `invalidConfiguration` unless τ > 0 and 0 ≤ λ ≤ 1.
    public func validate() throws(LearnError) {
        guard temperature > 0, temperature.isFinite else {
            throw LearnError(.invalidConfiguration, "distillation temperature \(temperature) must be positive")
        }
        guard (0...1).contains(weight) else { throw LearnError(.invalidConfiguration, "distillation weight \(weight) not in 0...1") }
    }
}

/// Softmax over rows of logits.
public enum Softmax {
    /// softmax(logits / temperature) of each `classes`-wide row, stable for large logits.
    public static func probabilities<T: LearnScalar>(_ logits: [T], classes: Int, temperature: T = 1) -> [T] {
        var out = [T](repeating: 0, count: logits.count)
        for base in stride(from: 0, to: logits.count, by: classes) {
            var top = -T.infinity
            for k in 0..<classes { top = max(top, logits[base + k] / temperature) }
            var sum: T = 0
            for k in 0..<classes {
                let e = T.exponential(logits[base + k] / temperature - top)
                out[base + k] = e
                sum += e
            }
            for k in 0..<classes { out[base + k] /= sum }
        }
        return out
    }
}

/// The training loss: softmax cross-entropy on hard labels, optionally mixed with distillation.
enum ClassificationLoss {
    /// The mean loss over `rows` and d(mean loss)/d(logits). `teacherLogits` (same layout as `logits`)
    /// switches distillation on; without them the loss is plain cross-entropy whatever `distillation` says.
    static func evaluate<T: LearnScalar>(logits: [T], rows: Int, classes: Int, labels: [Int], teacherLogits: [T]?,
                                         distillation: Distillation) -> (loss: T, dLogits: [T]) {
        let p = Softmax.probabilities(logits, classes: classes)
        let lambda: T = teacherLogits == nil ? 0 : T(distillation.weight)
        let tau = T(distillation.temperature)
        var dLogits = [T](repeating: 0, count: logits.count)
        var loss: T = 0
        let scale = 1 / T(rows)
        for r in 0..<rows {
            let base = r * classes
            let label = labels[r]
            loss += -(1 - lambda) * T.logarithm(max(p[base + label], T.leastNormalMagnitude))
            for k in 0..<classes {
                dLogits[base + k] = (1 - lambda) * (p[base + k] - (k == label ? 1 : 0)) * scale
            }
        }
        if let teacherLogits, lambda > 0 {
            let q = Softmax.probabilities(teacherLogits, classes: classes, temperature: tau)
            let pTau = Softmax.probabilities(logits, classes: classes, temperature: tau)
            for i in 0..<logits.count where q[i] > 0 {
                loss += lambda * tau * tau * q[i] * (T.logarithm(q[i]) - T.logarithm(max(pTau[i], T.leastNormalMagnitude)))
            }
            // d/ds of τ² KL(q ‖ softmax(s/τ)) is τ (softmax(s/τ) - q).
            for i in 0..<logits.count { dLogits[i] += lambda * tau * (pTau[i] - q[i]) * scale }
        }
        return (loss * scale, dLogits)
    }
}
