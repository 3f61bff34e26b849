/// Training settings (the defaults: Adam lr 1e-3, batch 32, replay 10,000, EWC λ 0.4).
public struct TrainingConfig: Equatable, Sendable {
    /// Passes over the training examples.
    public var epochs = 10
    /// Examples per optimiser step.
    public var batchSize = 32
    /// Base learning rate.
    public var learningRate = 1e-3
    /// The optimiser.
    public var optimizer = OptimizerKind.adam()
    /// The learning-rate schedule.
    public var schedule = LearningRateSchedule.constant
    /// Global gradient norm cap (0 = none).
    public var clipNorm = 5.0
    /// Reservoir capacity for replayed older feedback (0 = no replay).
    public var replayCapacity = 10_000
    /// Replayed examples mixed into each batch, as a share of the batch.
    public var replayShare = 0.25
    /// EWC strength λ (0 = off).
    public var ewcLambda = 0.4
    /// Examples used to estimate the Fisher diagonal after a run.
    public var fisherSamples = 200

    /// The defaults.
    public init() {}
}

/// Progress after one optimiser step or one epoch.
public struct TrainingProgress: Sendable, Equatable {
    /// 1-based epoch.
    public var epoch: Int
    /// Optimiser steps so far in this run.
    public var step: Int
    /// Mean loss over the step's batch, or over the epoch when `isEpochEnd`.
    public var loss: Double
    /// The rate used for the step.
    public var learningRate: Double
    /// Mean nDCG@10 over the hold-out at the end of an epoch (nil within an epoch or without hold-out).
    public var heldOutNDCG: Double?
    /// Whether this report closes an epoch.
    public var isEpochEnd: Bool
}

/// How a run ended.
public enum TrainingOutcome: Equatable, Sendable {
    /// Every epoch ran.
    case completed
    /// The cancellation check returned true; the weights are those after the last full step.
    case cancelled
}

/// Runs training epochs of a `RerankModel` over examples with the optimiser, schedule, replay
/// and EWC. Deterministic: the same model seed, examples, config and `seed` give bit-identical weights.
public struct Trainer {
    /// The settings.
    public let config: TrainingConfig
    var optimizer: Optimizer<Float>
    /// The EWC state; consolidated at the end of each completed run.
    public var ewc: ElasticWeightConsolidation<Float>
    /// Older examples replayed into later runs.
    public var replay: ReservoirBuffer<RerankExample>
    var rng: SeededGenerator
    var plateau: PlateauState
    var globalStep = 0
    /// Optimiser steps taken over every run of this trainer.
    public var steps: Int { globalStep }

    /// A trainer for `model` (its parameter list must not change).
    public init(model: RerankModel, config: TrainingConfig, seed: UInt64) {
        self.config = config
        optimizer = Optimizer(config.optimizer, parameters: model.parameters)
        ewc = ElasticWeightConsolidation(lambda: Float(config.ewcLambda))
        replay = ReservoirBuffer(capacity: max(config.replayCapacity, 1), seed: seed ^ 0x5EED)
        rng = SeededGenerator(seed: seed)
        plateau = PlateauState(base: config.learningRate)
    }

    /// Mean nDCG@10 of the model's order over `examples` (which carry grades).
    public static func meanNDCG(_ model: RerankModel, _ examples: [RerankExample], k: Int = 10) -> Double {
        guard !examples.isEmpty else { return 0 }
        var total = 0.0
        for e in examples {
            guard let grades = e.grades, let order = try? model.rerank(e) else { continue }
            total += RankingMetrics.ndcg(order: order, grades: grades, k: k)
        }
        return total / Double(examples.count)
    }

    /// Trains over `examples` (validated first; invalid or ungraded ones are skipped),
    /// reporting through `progress` and polling `isCancelled` before each step. After each
    /// epoch's report `continueAfterEpoch` may end the run early (early stopping: the run then
    /// counts as completed). A completed run ends with `consolidate` (replay and EWC) unless
    /// `consolidating` is false: a caller that keeps another epoch's weights, or discards the
    /// run, consolidates on its own terms. `batches`, when given, replaces the seeded shuffle:
    /// for each 1-based epoch, its batches as indices into `examples` (unusable ones are left
    /// out), so a run can follow another trainer's order exactly (the PyTorch reference's, in the
    /// equivalence check of Benchmarks/LearnBench/equivalence.py).
    @discardableResult
    public mutating func train(_ model: RerankModel, examples: [RerankExample], heldOut: [RerankExample] = [],
                               consolidating: Bool = true,
                               batches: ((_ epoch: Int) -> [[Int]])? = nil,
                               progress: (TrainingProgress) -> Void = { _ in },
                               continueAfterEpoch: (TrainingProgress) -> Bool = { _ in true },
                               isCancelled: () -> Bool = { false }) -> TrainingOutcome {
        let isUsable = examples.map { $0.grades != nil && (try? $0.validate(dimension: model.dimension)) != nil }
        let usable = examples.indices.filter { isUsable[$0] }.map { examples[$0] }
        let parameters = model.parameters
        let network = model.network
        let batchSize = max(config.batchSize, 1)
        let replayCount = config.replayCapacity > 0 ? Int(Double(batchSize) * config.replayShare) : 0
        var step = 0
        for epoch in 1...max(config.epochs, 1) {
            let epochBatches: [[RerankExample]]
            if let batches {
                epochBatches = batches(epoch).map { $0.filter { examples.indices.contains($0) && isUsable[$0] }.map { examples[$0] } }
                    .filter { !$0.isEmpty }
            } else {
                var order = Array(usable.indices)
                order.shuffle(using: &rng)
                epochBatches = stride(from: 0, to: order.count, by: batchSize).map {
                    order[$0..<min($0 + batchSize, order.count)].map { usable[$0] }
                }
            }
            var epochLoss = 0.0, epochCount = 0
            for var batch in epochBatches {
                if isCancelled() { return .cancelled }
                if replayCount > 0 { batch += replay.sample(replayCount) }
                Gradients.zero(parameters)
                var batchLoss = 0.0
                for e in batch { batchLoss += Double(network.loss(e, training: true, rng: &rng)) }
                Gradients.scale(parameters, by: 1 / Float(batch.count))
                ewc.addGradient(parameters)
                if config.clipNorm > 0 { Gradients.clipGlobalNorm(parameters, maxNorm: Float(config.clipNorm)) }
                let lr = currentRate()
                optimizer.update(parameters, lr: lr)
                globalStep += 1
                step += 1
                epochLoss += batchLoss
                epochCount += batch.count
                progress(TrainingProgress(epoch: epoch, step: step, loss: batchLoss / Double(batch.count),
                                          learningRate: lr, heldOutNDCG: nil, isEpochEnd: false))
            }
            let held = heldOut.isEmpty ? nil : Self.meanNDCG(model, heldOut)
            if case let .reduceOnPlateau(factor, patience, minimum) = config.schedule, let held {
                plateau.record(metric: held, factor: factor, patience: patience, minimumRate: minimum)
            }
            let report = TrainingProgress(epoch: epoch, step: step, loss: epochCount > 0 ? epochLoss / Double(epochCount) : 0,
                                          learningRate: currentRate(), heldOutNDCG: held, isEpochEnd: true)
            progress(report)
            if !continueAfterEpoch(report) { break }
        }
        if consolidating { consolidate(model, examples: usable) }
        return .completed
    }

    /// Ends a run whose weights are kept: its examples enter the replay reservoir, and with EWC
    /// on, the Fisher diagonal of `model` on them is added and the anchor moves to its weights.
    public mutating func consolidate(_ model: RerankModel, examples: [RerankExample]) {
        for e in examples { replay.add(e) }
        if config.ewcLambda > 0 {
            let sample = Array(examples.prefix(config.fisherSamples))
            ewc.consolidate(network: model.network, examples: sample)
        }
    }

    func currentRate() -> Double {
        if case .reduceOnPlateau = config.schedule { return plateau.rate }
        return config.schedule.rate(base: config.learningRate, step: globalStep)
    }
}
