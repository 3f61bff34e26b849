import Testing
import LearnEngine
@testable import RouteEngine

/// Training on the seeded sequence task: learning, determinism, the three stages and int8.
@Suite struct FastGRNNTrainingTests {
    static let config = FastGRNNConfig(inputs: 4, classes: 3, hidden: 16, timeSteps: 8, wRank: 4, uRank: 8)
    static let train = Fixtures.asFloat(Fixtures.sequenceTask(count: 600, seed: 1))
    static let test = Fixtures.asFloat(Fixtures.sequenceTask(count: 400, seed: 2))

    func trained(_ settings: FastGRNNTrainingConfig, seed: UInt64 = 3,
                 data: LabelledSequences<Float> = train) throws -> (FastGRNNNetwork<Float>, [FastGRNNEpochReport]) {
        let network = try FastGRNNNetwork<Float>(config: Self.config, seed: seed)
        var trainer = try FastGRNNTrainer(network: network, config: settings, seed: seed)
        var reports = [FastGRNNEpochReport]()
        #expect(try trainer.train(network, data: data, progress: { reports.append($0) }) == .completed)
        return (network, reports)
    }

    @Test func trainingLearnsTheTaskAndIsBitIdenticalUnderOneSeed() throws {
        var settings = FastGRNNTrainingConfig()
        settings.denseEpochs = 12
        let untrained = try FastGRNNNetwork<Float>(config: Self.config, seed: 3)
        let (a, reports) = try trained(settings)
        let (b, _) = try trained(settings)
        let before = untrained.accuracy(Self.test), after = a.accuracy(Self.test)
        // The class is in the mean of 8 noisy steps: one step alone gives about 0.55, the sum about 0.9.
        #expect(before < 0.6)
        #expect(after >= 0.85, "test accuracy \(after) (untrained \(before))")
        #expect(reports.count == 12 && reports.last!.loss < reports.first!.loss)
        #expect(FastGRNNModel(a).serialised() == FastGRNNModel(b).serialised(), "same seed, same weights")
        let (c, _) = try trained(settings, seed: 4)
        #expect(FastGRNNModel(a).serialised() != FastGRNNModel(c).serialised())
    }

    @Test func threeStagesThenInt8KeepAccuracyAndShrinkTheModel() throws {
        var settings = FastGRNNTrainingConfig()
        settings.denseEpochs = 10
        settings.hardThresholdEpochs = 4
        settings.sparseRetrainEpochs = 4
        settings.keepFraction = 0.35
        let (dense, _) = try trained({ var s = settings; s.keepFraction = 1; return s }())
        let (sparse, reports) = try trained(settings)
        #expect(reports.map(\.stage) == Array(repeating: .lowRank, count: 10) + Array(repeating: .hardThreshold, count: 4)
                + Array(repeating: .sparseRetraining, count: 4))
        let denseModel = FastGRNNModel(dense), sparseModel = FastGRNNModel(sparse), int8 = sparseModel.quantized()
        let total = sparse.prunableMatrices.reduce(0) { $0 + $1.count }
        // Each matrix keeps ceil(0.35 n) entries.
        let kept = sparse.prunableMatrices.reduce(0) { $0 + Int((0.35 * Double($1.count)).rounded(.up)) }
        #expect(sparseModel.nonZeroWeights <= kept && sparseModel.nonZeroWeights >= kept - 3, "\(sparseModel.nonZeroWeights) of \(total)")
        #expect(int8.nonZeroWeights <= sparseModel.nonZeroWeights)
        let accuracies = (dense: denseModel.accuracy(Self.test), sparse: sparseModel.accuracy(Self.test), int8: int8.accuracy(Self.test))
        #expect(accuracies.dense >= 0.85 && accuracies.sparse >= accuracies.dense - 0.05 && accuracies.int8 >= accuracies.sparse - 0.02,
                "\(accuracies)")
        let sizes = (dense: denseModel.serialisedByteCount, int8: int8.serialisedByteCount)
        #expect(sizes.int8 * 3 < sizes.dense, "\(sizes)")
        // Inference on the int8 model agrees with the f32 sparse model on almost every input.
        var agree = 0
        for i in 0..<Self.test.count {
            let x = Array(Self.test.features[i * 32 ..< (i + 1) * 32])
            if ClassScores.argmax(try int8.logits(x)) == ClassScores.argmax(try sparseModel.logits(x)) { agree += 1 }
        }
        #expect(Double(agree) / Double(Self.test.count) >= 0.95)
    }

    @Test func distillationFollowsTheTeacherOverNoisyLabels() throws {
        // Half the labels are replaced by noise; the teacher's logits carry the true class.
        var noisy = Self.train
        var rng = SeededGenerator(seed: 9)
        var teacher = [Float]()
        for i in 0..<noisy.count {
            for k in 0..<3 { teacher.append(k == noisy.labels[i] ? 4 : 0) }
            if rng.next() % 2 == 0 { noisy.labels[i] = Int(rng.next() % 3) }
        }
        var settings = FastGRNNTrainingConfig()
        settings.denseEpochs = 8
        let (plain, _) = try trained(settings, data: noisy)
        noisy.teacherLogits = teacher
        settings.distillation = Distillation(temperature: 3, weight: 0.9)
        let (distilled, _) = try trained(settings, data: noisy)
        #expect(distilled.accuracy(Self.test) > plain.accuracy(Self.test),
                "distilled \(distilled.accuracy(Self.test)) vs plain \(plain.accuracy(Self.test))")
    }

    @Test func cancellationStopsBetweenSteps() throws {
        let network = try FastGRNNNetwork<Float>(config: Self.config, seed: 3)
        var trainer = try FastGRNNTrainer(network: network, config: FastGRNNTrainingConfig(), seed: 3)
        var calls = 0
        let outcome = try trainer.train(network, data: Self.train, isCancelled: { calls += 1; return calls > 3 })
        #expect(outcome == .cancelled && calls == 4)
    }

    @Test func badInputsAreRefusedWithReasons() throws {
        var bad = FastGRNNConfig(inputs: 4, classes: 3, wRank: 9)
        #expect(throws: LearnError.self) { try bad.validate() }
        bad = FastGRNNConfig(inputs: 4, classes: 1)
        #expect(throws: LearnError.self) { try bad.validate() }
        let network = try FastGRNNNetwork<Float>(config: Self.config, seed: 1)
        var trainer = try FastGRNNTrainer(network: network, config: FastGRNNTrainingConfig(), seed: 1)
        let wrong = LabelledSequences<Float>(features: [1, 2], labels: [0])
        #expect(throws: LearnError.self) { try trainer.train(network, data: wrong) }
        let model = FastGRNNModel(network)
        #expect(throws: LearnError.self) { try model.logits([Float](repeating: .nan, count: 32)) }
        #expect(throws: LearnError.self) { try model.logits([1]) }
    }
}
