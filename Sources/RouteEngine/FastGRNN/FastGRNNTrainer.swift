import LearnEngine

/// Training settings, in the paper's three stages: `denseEpochs` of low-rank training, then
/// `hardThresholdEpochs` where every step is followed by keeping only the largest `keepFraction`
/// of each prunable matrix (iterative hard thresholding), then `sparseRetrainEpochs` with that
/// support fixed. With `keepFraction` 1 the later stages are plain training.
public struct FastGRNNTrainingConfig: Equatable, Sendable {
    /// Stage 1 epochs.
    public var denseEpochs = 10
    /// Stage 2 epochs.
    public var hardThresholdEpochs = 0
    /// Stage 3 epochs.
    public var sparseRetrainEpochs = 0
    /// s: the fraction of each of W1, W2, U1, U2 (or W, U) and V kept by stage 2, in (0, 1].
    public var keepFraction = 1.0
    /// Sequences per Adam step.
    public var batchSize = 32
    /// Adam's learning rate.
    public var learningRate = 0.01
    /// Global gradient-norm cap (0 = none): BPTT gradients can spike.
    public var clipNorm = 5.0
    /// Used when the data carry teacher logits.
    public var distillation = Distillation()

    /// Ten dense epochs, batch 32 (the defaults), lr 0.01.
    public init() {}

    /// Throws `invalidConfiguration` for values out of range.
    public func validate() throws(LearnError) {
        func bad(_ m: String) -> LearnError { LearnError(.invalidConfiguration, m) }
        guard denseEpochs >= 0, hardThresholdEpochs >= 0, sparseRetrainEpochs >= 0 else { throw bad("epochs must be >= 0") }
        guard keepFraction > 0, keepFraction <= 1 else { throw bad("keep fraction \(keepFraction) not in (0, 1]") }
        guard batchSize >= 1 else { throw bad("batch size must be >= 1") }
        guard learningRate > 0, learningRate.isFinite else { throw bad("learning rate must be positive") }
        guard clipNorm >= 0 else { throw bad("clip norm must be >= 0") }
        try distillation.validate()
    }
}

/// Which of the paper's stages an epoch belongs to.
public enum FastGRNNStage: String, Equatable, Sendable {
    /// Stage 1: dense (low-rank) training.
    case lowRank
    /// Stage 2: training with hard thresholding after every step.
    case hardThreshold
    /// Stage 3: retraining on the fixed sparse support.
    case sparseRetraining
}

/// The state after one epoch.
public struct FastGRNNEpochReport: Equatable, Sendable {
    /// The stage the epoch ran in.
    public var stage: FastGRNNStage
    /// 1-based over all stages.
    public var epoch: Int
    /// Mean training loss over the epoch's batches.
    public var loss: Double
}

/// Trains a `FastGRNNNetwork` by BPTT with Adam through the three stages. Deterministic: the same
/// network seed, data, config and `seed` give bit-identical weights.
public struct FastGRNNTrainer<T: LearnScalar> {
    /// The settings.
    public let config: FastGRNNTrainingConfig
    var optimizer: Optimizer<T>
    var rng: SeededGenerator
    /// Per prunable matrix, which entries survive; nil until stage 2 ends.
    public private(set) var masks: [[Bool]]?

    /// A trainer for `network` (its parameter list is fixed from here on).
    public init(network: FastGRNNNetwork<T>, config: FastGRNNTrainingConfig, seed: UInt64) throws(LearnError) {
        try config.validate()
        self.config = config
        optimizer = Optimizer(.adam(), parameters: network.parameters)
        rng = SeededGenerator(seed: seed)
    }

    /// Runs all three stages over `data`, reporting after each epoch; stops between steps when
    /// `isCancelled` returns true.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public mutating func train(_ network: FastGRNNNetwork<T>, data: LabelledSequences<T>,
                               progress: (FastGRNNEpochReport) -> Void = { _ in },
                               isCancelled: () -> Bool = { false }) throws(LearnError) -> TrainingOutcome {
        try data.validate(for: network.config)
        guard data.count > 0 else { throw LearnError(.invalidExample, "no training sequences") }
        let plan: [(FastGRNNStage, Int)] = [(.lowRank, config.denseEpochs), (.hardThreshold, config.hardThresholdEpochs),
                                            (.sparseRetraining, config.sparseRetrainEpochs)]
        let pruning = config.keepFraction < 1
        var epoch = 0
        for (stage, epochs) in plan {
            if stage == .sparseRetraining, pruning, masks == nil {
                // No stage 2 ran: prune once here so stage 3 still trains a sparse model.
                masks = Self.hardThreshold(network.prunableMatrices, keepFraction: config.keepFraction)
            }
            for _ in 0..<epochs {
                epoch += 1
                guard let loss = runEpoch(network, data: data, stage: pruning ? stage : .lowRank, isCancelled: isCancelled) else {
                    return .cancelled
                }
                progress(FastGRNNEpochReport(stage: stage, epoch: epoch, loss: loss))
            }
            if stage == .hardThreshold, pruning, epochs > 0 {
                masks = Self.hardThreshold(network.prunableMatrices, keepFraction: config.keepFraction)
            }
        }
        return .completed
    }

    /// One shuffled pass; the mean batch loss, or nil when cancelled.
    mutating func runEpoch(_ network: FastGRNNNetwork<T>, data: LabelledSequences<T>, stage: FastGRNNStage,
                           isCancelled: () -> Bool) -> Double? {
        var order = Array(0..<data.count)
        order.shuffle(using: &rng)
        let parameters = network.parameters
        var total = 0.0, batches = 0
        for start in stride(from: 0, to: order.count, by: config.batchSize) {
            if isCancelled() { return nil }
            let indices = Array(order[start ..< min(start + config.batchSize, order.count)])
            let batch = data.subset(indices, config: network.config)
            Gradients.zero(parameters)
            let trace = network.forward(batch.features, rows: batch.count)
            let (loss, dLogits) = ClassificationLoss.evaluate(
                logits: trace.logits, rows: batch.count, classes: network.config.classes, labels: batch.labels,
                teacherLogits: batch.teacherLogits, distillation: config.distillation)
            network.backward(batch.features, rows: batch.count, trace: trace, dLogits: dLogits)
            if config.clipNorm > 0 { Gradients.clipGlobalNorm(parameters, maxNorm: T(config.clipNorm)) }
            optimizer.update(parameters, lr: config.learningRate)
            switch stage {
            case .lowRank: break
            case .hardThreshold: _ = Self.hardThreshold(network.prunableMatrices, keepFraction: config.keepFraction)
            case .sparseRetraining:
                // Adam's moments from earlier stages would move pruned weights: put them back to zero.
                if let masks { Self.apply(masks, to: network.prunableMatrices) }
            }
            total += Double(loss)
            batches += 1
        }
        return total / Double(max(batches, 1))
    }

    /// Keeps the ceil(s n) largest-magnitude entries of each matrix (ties to the lower index), zeroes
    /// the rest, and returns the masks.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    @discardableResult
    public static func hardThreshold(_ matrices: [Parameter<T>], keepFraction: Double) -> [[Bool]] {
        matrices.map { p in
            let keep = min(p.count, Int((keepFraction * Double(p.count)).rounded(.up)))
            let order = p.value.indices.sorted { a, b in
                let x = abs(p.value[a]), y = abs(p.value[b])
                return x != y ? x > y : a < b
            }
            var mask = [Bool](repeating: false, count: p.count)
            for i in order.prefix(keep) { mask[i] = true }
            for i in 0..<p.count where !mask[i] { p.value[i] = 0 }
            return mask
        }
    }

    /// Zeroes every entry outside `masks`.
    static func apply(_ masks: [[Bool]], to matrices: [Parameter<T>]) {
        for (mask, p) in zip(masks, matrices) { for i in 0..<p.count where !mask[i] { p.value[i] = 0 } }
    }
}
