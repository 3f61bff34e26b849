import LearnEngine

/// Training or evaluation data: sequences with their class labels and, for distillation, a teacher's logits.
public struct LabelledSequences<T: LearnScalar>: Sendable {
    /// `[count][timeSteps][inputs]`, flat.
    public var features: [T]
    /// One class per sequence.
    public var labels: [Int]
    /// `[count][classes]` teacher logits (pass log-probabilities when the teacher gives probabilities), or nil.
    public var teacherLogits: [T]?

    /// Data of `labels.count` sequences.
    public init(features: [T], labels: [Int], teacherLogits: [T]? = nil) {
        self.features = features
        self.labels = labels
        self.teacherLogits = teacherLogits
    }

    /// The number of sequences.
    public var count: Int { labels.count }

    /// Throws `invalidInput` when the shapes or labels do not fit `config` or a value is not finite.
    public func validate(for config: FastGRNNConfig) throws(LearnError) {
        func bad(_ m: String) -> LearnError { LearnError(.invalidExample, m) }
        guard features.count == count * config.sequenceLength else {
            throw bad("\(features.count) feature values for \(count) sequences of \(config.timeSteps) x \(config.inputs)")
        }
        guard labels.allSatisfy({ (0..<config.classes).contains($0) }) else { throw bad("a label is outside 0..<\(config.classes)") }
        guard features.allSatisfy({ $0.isFinite }) else { throw bad("a feature is not finite") }
        if let teacherLogits {
            guard teacherLogits.count == count * config.classes else {
                throw bad("\(teacherLogits.count) teacher logits for \(count) sequences of \(config.classes) classes")
            }
            guard teacherLogits.allSatisfy({ $0.isFinite }) else { throw bad("a teacher logit is not finite") }
        }
    }

    /// The sequences at `indices`, in that order.
    public func subset(_ indices: [Int], config: FastGRNNConfig) -> LabelledSequences {
        let n = config.sequenceLength, c = config.classes
        var f = [T](), l = [Int](), t = [T]()
        f.reserveCapacity(indices.count * n)
        for i in indices {
            f += features[i * n ..< (i + 1) * n]
            l.append(labels[i])
            if let teacherLogits { t += teacherLogits[i * c ..< (i + 1) * c] }
        }
        return LabelledSequences(features: f, labels: l, teacherLogits: teacherLogits == nil ? nil : t)
    }
}

extension FastGRNNNetwork {
    /// The share of `data` whose arg-max logit is its label.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public func accuracy(_ data: LabelledSequences<T>, batchSize: Int = 256) -> Double {
        guard data.count > 0 else { return 0 }
        let n = config.sequenceLength, c = config.classes
        var correct = 0
        for start in stride(from: 0, to: data.count, by: batchSize) {
            let rows = min(batchSize, data.count - start)
            let logits = self.logits(Array(data.features[start * n ..< (start + rows) * n]), rows: rows)
            for r in 0..<rows where ClassScores.argmax(logits[r * c ..< (r + 1) * c]) == data.labels[start + r] { correct += 1 }
        }
        return Double(correct) / Double(data.count)
    }
}

/// Small helpers over score vectors.
enum ClassScores {
    /// The index of the largest value (the first on ties), relative to the slice's start.
    static func argmax<C: Collection>(_ values: C) -> Int where C.Element: Comparable {
        var best = 0, k = 0, top = values.first
        for v in values {
            if let t = top, v > t { top = v; best = k }
            k += 1
        }
        return best
    }
}
