import Testing
import LearnEngine

/// The two long training runs (the held-out lift and EWC's forgetting) take about 5 s each in the
/// debug test build: the layers carry `@_specialize(where T == Float)`, so the unspecialised generic
/// code that made them take minutes there no longer runs.
@Suite struct TrainingTests {
    static func smallConfig() -> RerankConfig {
        var c = RerankConfig()
        c.hidden = 32; c.heads = 4; c.layers = 1; c.dropout = 0.1
        return c
    }

    static func trainingConfig(epochs: Int = 12, ewcLambda: Double = 0) -> TrainingConfig {
        var t = TrainingConfig()
        t.epochs = epochs; t.batchSize = 16; t.learningRate = 3e-3; t.ewcLambda = ewcLambda
        return t
    }

    @Test func trainingLiftsHeldOutNDCGAboveHNSWOrder() throws {
        let task = SyntheticTask(seed: 21)
        // With 160 training queries the model memorised them (train nDCG 0.52 -> 0.71, held-out 0.54 -> 0.48);
        // 900 queries make the hidden class the pattern that generalises.
        let train = task.examples(0..<900), heldOut = task.examples(1000..<1100)
        let model = try RerankModel(config: Self.smallConfig(), dimension: task.dimension, seed: 1)
        var trainer = Trainer(model: model, config: Self.trainingConfig(epochs: 10), seed: 2)
        var reports = [TrainingProgress]()
        let outcome = trainer.train(model, examples: train, heldOut: heldOut, progress: { if $0.isEpochEnd { reports.append($0) } })
        #expect(outcome == .completed)
        #expect(reports.count == 10 && reports.allSatisfy { $0.heldOutNDCG != nil })
        let baseline = SyntheticTask.baselineNDCG(heldOut)
        let learned = Trainer.meanNDCG(model, heldOut)
        let differences = heldOut.map { e -> Double in
            let order = (try? model.rerank(e)) ?? []
            return RankingMetrics.ndcg(order: order, grades: e.grades!, k: 10)
                - RankingMetrics.ndcg(order: Array(0..<e.candidateCount), grades: e.grades!, k: 10)
        }
        let interval = RankingMetrics.bootstrapInterval(differences, seed: 3)
        print("lift: HNSW nDCG@10 \(baseline) -> model \(learned); 95% CI of the paired difference \(interval)")
        #expect(learned - baseline >= 0.05)  // the bar; measured 0.541 -> 0.646
        #expect(interval.lower > 0)
        #expect(reports.last!.loss < reports.first!.loss)
    }

    func trainedWeights(modelSeed: UInt64, trainerSeed: UInt64) throws -> [[Float]] {
        let task = SyntheticTask(seed: 5, points: 400)
        let model = try RerankModel(config: Self.smallConfig(), dimension: task.dimension, seed: modelSeed)
        var trainer = Trainer(model: model, config: Self.trainingConfig(epochs: 2), seed: trainerSeed)
        trainer.train(model, examples: task.examples(0..<40))
        return model.parameters.map(\.value)
    }

    @Test func sameSeedsGiveBitIdenticalWeightsAndOtherSeedsDiffer() throws {
        let a = try trainedWeights(modelSeed: 1, trainerSeed: 2)
        let b = try trainedWeights(modelSeed: 1, trainerSeed: 2)
        #expect(a.map { $0.map(\.bitPattern) } == b.map { $0.map(\.bitPattern) })
        #expect(try trainedWeights(modelSeed: 1, trainerSeed: 3) != a)
        #expect(try trainedWeights(modelSeed: 4, trainerSeed: 2) != a)
    }

    /// Given batches replace the seeded shuffle (the equivalence check follows PyTorch's order with
    /// them): without dropout the trainer's seed then no longer matters, every listed batch is one
    /// step, and ungraded or out-of-range indices are left out of their batch.
    @Test func givenBatchesReplaceTheShuffle() throws {
        let task = SyntheticTask(seed: 8, points: 300)
        var config = Self.smallConfig()
        config.dropout = 0
        var training = Self.trainingConfig(epochs: 2)
        training.replayCapacity = 0
        var ungraded = task.examples(12..<13)[0]
        ungraded.grades = nil
        func weights(trainerSeed: UInt64, examples: [RerankExample], batches: [[Int]]) throws -> (weights: [[UInt32]], steps: Int) {
            let model = try RerankModel(config: config, dimension: task.dimension, seed: 1)
            var trainer = Trainer(model: model, config: training, seed: trainerSeed)
            var steps = 0
            trainer.train(model, examples: examples, batches: { _ in batches }, progress: { if !$0.isEpochEnd { steps += 1 } })
            return (model.parameters.map { $0.value.map(\.bitPattern) }, steps)
        }
        let listed = try weights(trainerSeed: 2, examples: task.examples(0..<12) + [ungraded],
                                 batches: [[0, 1, 2, 3, 12], [4, 5, 6, 999], [7, 8, 9, 10, 11]])
        let otherSeed = try weights(trainerSeed: 3, examples: task.examples(0..<12) + [ungraded],
                                    batches: [[0, 1, 2, 3, 12], [4, 5, 6, 999], [7, 8, 9, 10, 11]])
        let clean = try weights(trainerSeed: 2, examples: task.examples(0..<12), batches: [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9, 10, 11]])
        let otherOrder = try weights(trainerSeed: 2, examples: task.examples(0..<12), batches: [[7, 8, 9, 10, 11], [0, 1, 2, 3], [4, 5, 6]])
        #expect(listed.steps == 6)
        #expect(listed.weights == otherSeed.weights)
        #expect(listed.weights == clean.weights)
        #expect(listed.weights != otherOrder.weights)
    }

    @Test func cancellationStopsBeforeTheNextStep() throws {
        let task = SyntheticTask(seed: 6, points: 300)
        let model = try RerankModel(config: Self.smallConfig(), dimension: task.dimension, seed: 1)
        var trainer = Trainer(model: model, config: Self.trainingConfig(epochs: 5), seed: 1)
        var steps = 0
        let outcome = trainer.train(model, examples: task.examples(0..<64), progress: { if !$0.isEpochEnd { steps += 1 } },
                                    isCancelled: { steps >= 3 })
        #expect(outcome == .cancelled)
        #expect(steps == 3)
    }

    /// Task B, on the same points, calls relevant the class two steps away from the query's: it
    /// contradicts task A, so plain training on B overwrites A; EWC should hold more of it.
    func forgetting(lambda: Double) throws -> (before: Double, after: Double) {
        let a = SyntheticTask(seed: 31), b = SyntheticTask(seed: 31, relevantClassShift: 2)
        let model = try RerankModel(config: Self.smallConfig(), dimension: a.dimension, seed: 1)
        var config = Self.trainingConfig(epochs: 10, ewcLambda: lambda)
        config.replayCapacity = 0
        config.fisherSamples = 160
        var trainer = Trainer(model: model, config: config, seed: 2)
        let heldOutA = a.examples(1000..<1080)
        trainer.train(model, examples: a.examples(0..<160))
        let before = Trainer.meanNDCG(model, heldOutA)
        trainer.train(model, examples: b.examples(200..<360))
        return (before, Trainer.meanNDCG(model, heldOutA))
    }

    @Test func elasticWeightConsolidationForgetsLessThanPlainTraining() throws {
        let plain = try forgetting(lambda: 0)
        let ewc = try forgetting(lambda: 1000)
        print("forgetting on task A: plain \(plain.before) -> \(plain.after), EWC \(ewc.before) -> \(ewc.after)")
        #expect(plain.before - plain.after > 0.05, "task B must actually interfere with A for this test to mean anything")
        #expect(ewc.before - ewc.after < plain.before - plain.after)
    }
}
