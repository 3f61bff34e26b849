import LearnEngine
import WorkControl

extension LearnTraining {
    /// What one training of a run leaves: its trainer (replay and EWC as they ended), every
    /// epoch's hold-out scores, and the best epoch (0: none beat the HNSW order) with its weights.
    struct Fit {
        var trainer: Trainer
        var epochs: [HoldOutScore] = []
        var bestEpoch = 0
        var bestBytes: [UInt8]
        var bestEvaluation: HoldOutScore
    }

    /// One training from the model `start` with the trainer state of `continuity`: at most the
    /// settings' epochs on `train`, each epoch scored on `heldOut` against `baseline`, stopping
    /// after `patienceEpochs` without a better gate score; with `epochs`, exactly that many and no
    /// scoring (the weights kept are the last epoch's). `progress` gets every step and every
    /// epoch's end, the latter with the epoch's hold-out scores. Throws CANCELLED when cancelled.
    static func fit(start: [UInt8], train: [RerankExample], heldOut: [RerankExample], baseline: HoldOutScore?,
                    settings: Settings, continuity: LearnContinuity?, trainerSeed: UInt64, epochs: Int? = nil,
                    cancellation: CancellationSignal,
                    progress: (TrainingProgress, HoldOutScore?) -> Void) throws -> Fit {
        // Cosine decay without a length of its own ends with the run (the settings' epochs, also
        // when `epochs` stops it earlier: a final fit follows the schedule its folds were scored on).
        var config = settings.training
        if case let .warmupCosine(configuredWarmup, configuredTotal, minimum) = config.schedule {
            let batches = (train.count + config.batchSize - 1) / max(config.batchSize, 1)
            let runSteps = config.epochs * batches
            let warmup = settings.defaultWarmup ? min(configuredWarmup, max(1, runSteps / 10)) : configuredWarmup
            let total = configuredTotal == 0 ? max(warmup + 1, runSteps) : configuredTotal
            config.schedule = .warmupCosine(warmupSteps: warmup, totalSteps: total, minimumRate: minimum)
        }
        let model = try RerankModel(serialised: start)
        var trainer = Trainer(model: model, config: config, seed: trainerSeed)
        if let c = continuity {
            trainer.ewc = c.ewc
            trainer.ewc.lambda = Float(settings.training.ewcLambda)
            if c.replay.capacity == trainer.replay.capacity { trainer.replay = c.replay }
        }
        let empty = baseline ?? HoldOutScore([], positionBias: settings.positionBias) { _ in [] }
        var fit = Fit(trainer: trainer, bestBytes: start, bestEvaluation: empty)
        var bestScore = empty.gateMean, sinceBest = 0
        let outcome = trainer.train(model, examples: train, heldOut: config.schedule.isPlateau ? heldOut : [], consolidating: false,
            progress: { report in
                if !report.isEpochEnd { progress(report, nil) }
            },
            continueAfterEpoch: { report in
                if let epochs {
                    progress(report, nil)
                    return report.epoch < epochs && !cancellation.isCancelled
                }
                let evaluation = HoldOutScore(heldOut, positionBias: settings.positionBias) { (try? model.rerank($0)) ?? [] }
                fit.epochs.append(evaluation)
                if evaluation.gateMean > bestScore {
                    bestScore = evaluation.gateMean
                    (fit.bestEpoch, fit.bestBytes, fit.bestEvaluation) = (report.epoch, model.serialised(), evaluation)
                    sinceBest = 0
                } else {
                    sinceBest += 1
                }
                progress(report, evaluation)
                return sinceBest < patienceEpochs && !cancellation.isCancelled
            },
            isCancelled: { cancellation.isCancelled })
        if outcome == .cancelled || cancellation.isCancelled { try cancellation.check() }
        if let epochs {
            (fit.bestEpoch, fit.bestBytes) = (epochs, model.serialised())
        }
        fit.trainer = trainer
        return fit
    }

    /// The cross-fitted gate (LearnGate): `LearnGate.crossFitFolds` trainings, each holding out one
    /// fold of the queries, and the verdict on all their lists at one common epoch, with the pooled
    /// hold-out metrics of the HNSW order and of the folds' models at that epoch. nil when a fold
    /// would have fewer examples than a run needs.
    static func crossFit(_ examples: [(example: RerankExample, unit: Double)], start: [UInt8], settings: Settings,
                         continuity: LearnContinuity?, cancellation: CancellationSignal,
                         progress: (TrainingProgress, HoldOutScore?) -> Void) throws
        -> (verdict: LearnGate.Verdict, baseline: HoldOutScore, evaluation: HoldOutScore)? {
        let folds = LearnGate.crossFitFolds
        let fold = examples.map { LearnGate.fold(unit: $0.unit, folds: folds) }
        for k in 0..<folds {
            let held = fold.filter { $0 == k }.count
            guard held >= minimumHeldOutExamples, examples.count - held >= minimumTrainingExamples else { return nil }
        }
        var scores: [LearnGate.FoldScores] = [], baselines: [HoldOutScore] = [], evaluations: [[HoldOutScore]] = []
        for k in 0..<folds {
            let heldOut = examples.indices.filter { fold[$0] == k }.map { examples[$0].example }
            let train = examples.indices.filter { fold[$0] != k }.map { forTraining(examples[$0].example) }
            let baseline = HoldOutScore(heldOut, positionBias: settings.positionBias) { RerankModel.order($0.hnswScores) }
            let run = try fit(start: start, train: train, heldOut: heldOut, baseline: baseline, settings: settings, continuity: continuity,
                              trainerSeed: settings.seed &+ UInt64(k + 1), cancellation: cancellation, progress: progress)
            scores.append(LearnGate.FoldScores(baseline: baseline.gatePerExample, ideal: baseline.idealPerExample,
                                               epochs: run.epochs.map(\.gatePerExample)))
            baselines.append(baseline)
            evaluations.append(run.epochs)
        }
        let verdict = LearnGate.crossFitted(scores, seed: settings.seed)
        let evaluation = verdict.epoch == 0 ? baselines : evaluations.map { $0[verdict.epoch - 1] }
        return (verdict, HoldOutScore(pooling: baselines), HoldOutScore(pooling: evaluation))
    }
}
