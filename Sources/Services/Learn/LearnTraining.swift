import LearnEngine
import RPC
import Storage
import VectorDatabase
import Wire
import WorkControl

/// What one collection's training keeps in memory between runs: the replay reservoir of older
/// feedback, the EWC anchor and Fisher diagonal of the last activated run, and how many feedback
/// records have been trained on (the next run starts after them). Lost at restart: the first
/// run after it trains on every record (the newest `LearnTraining.maxRecordsPerRun`).
struct LearnContinuity: @unchecked Sendable {
    var architecture: RerankConfig
    var dimension: Int
    var ewc: ElasticWeightConsolidation<Float>
    var replay: ReservoirBuffer<RerankExample>
    var recordsTrained: UInt64
}

/// One training run of a collection's re-ranker, start to end, on the calling thread:
/// examples from the feedback log, a hold-out split by query, training with early stopping on
/// the hold-out, and the gate that activates the model only when it beats the plain HNSW order.
enum LearnTraining {
    /// Most feedback records one run reads (the newest); older ones live on in the replay reservoir.
    static let maxRecordsPerRun = 50_000
    /// Feedback records read from the log at a time.
    static let recordsPerPage = 256
    /// Epochs without a better hold-out score before a run stops early.
    static let patienceEpochs = 5
    /// Fewest training and held-out examples a run needs.
    static let minimumTrainingExamples = 8, minimumHeldOutExamples = 2

    /// A run's settings: the collection's (resolved) model settings overridden by the request.
    struct Settings: Sendable {
        var architecture: RerankConfig
        var training: TrainingConfig
        var holdoutFraction: Double
        var positionBias: Float
        var seed: UInt64
        /// Warm-up left at its default: at most a tenth of the run's steps (short runs on little
        /// feedback would otherwise never leave it).
        var defaultWarmup: Bool
    }

    static func settings(_ configured: RuvectorV1.ModelConfig, _ request: RuvectorV1.TrainRequest) -> Settings {
        let c = LearnLimits.resolved(configured)
        var architecture = RerankConfig()
        architecture.hidden = Int(c.hiddenSize)
        architecture.heads = Int(c.heads)
        architecture.layers = Int(c.layers)
        architecture.dropout = Double(c.dropout)
        architecture.neighbours = Int(c.neighboursPerNode)
        architecture.temperature = Double(c.temperature)
        architecture.loss = lossKind(request.loss == .unspecified ? c.loss : request.loss)
        var training = TrainingConfig()
        training.epochs = request.epochs == 0 ? 10 : Int(request.epochs)
        training.batchSize = Int(request.batchSize == 0 ? c.batchSize : request.batchSize)
        training.learningRate = Double(request.learningRate == 0 ? c.learningRate : request.learningRate)
        training.optimizer = .adam(weightDecay: 1e-4)
        let replay = request.replayBufferSize == 0 ? c.replaySize : request.replayBufferSize
        training.replayCapacity = Int(replay)
        let lambda = request.ewcLambda == 0 ? c.ewcLambda : request.ewcLambda
        training.ewcLambda = lambda < 0 ? 0 : Double(lambda)
        let warmup = Int(request.warmupSteps == 0 ? c.warmupSteps : request.warmupSteps)
        switch request.schedule == .unspecified ? c.schedule : request.schedule {
        case .constant: training.schedule = .constant
        case .plateau: training.schedule = .reduceOnPlateau(factor: 0.5, patience: Int(c.plateauPatience), minimumRate: training.learningRate * 1e-3)
        default: training.schedule = .warmupCosine(warmupSteps: warmup, totalSteps: Int(c.cosineSteps), minimumRate: 0)
        }
        return Settings(architecture: architecture, training: training,
                        holdoutFraction: request.holdoutFraction == 0 ? 0.1 : Double(request.holdoutFraction),
                        positionBias: c.positionBias < 0 ? 0 : c.positionBias, seed: request.seed,
                        defaultWarmup: request.warmupSteps == 0 && configured.warmupSteps == 0)
    }

    static func lossKind(_ loss: RuvectorV1.LossKind) -> RankingLossKind {
        switch loss {
        case .infonce: return .infoNCE
        case .pairwise: return .pairwiseLogistic
        default: return .listwiseSoftmax
        }
    }

    /// Runs one training run and stores its model (activated or not); returns the stored status.
    /// `progress` receives every tenth step and every epoch's end (with the hold-out metrics).
    /// Throws CANCELLED (nothing stored) when `cancellation` is raised, FAILED_PRECONDITION when
    /// there is too little feedback.
    static func run(store: LearnStore, source: any LearnSource, settings: Settings, continuity: inout LearnContinuity?,
                    memory: CallBudget, cancellation: CancellationSignal, nowMicros: @Sendable () -> Int64,
                    progress: (RuvectorV1.TrainProgress) -> Void) throws -> RuvectorV1.ModelStatus {
        let dimension = source.dimension
        let name = source.learnName
        if let c = continuity, c.architecture != settings.architecture || c.dimension != dimension { continuity = nil }
        let total = store.feedbackRecords
        var first = continuity?.recordsTrained ?? 0
        if total > first + UInt64(maxRecordsPerRun) { first = total - UInt64(maxRecordsPerRun) }
        guard total > first else {
            throw RPCError(.failedPrecondition, "no feedback was recorded for \(source.described) since the last training run; "
                + "record some with RecordFeedback first")
        }

        // Examples, sharing one copy of each point's vector, charged to the run's budget. The
        // log is read a page at a time: only the examples are held, not every record at once.
        // Each keeps its unclipped propensity weights (what the gate scores a held-out list
        // with) and its query's hold-out hash; training copies are clipped (`forTraining`).
        var vectors: [UInt64: [Float]] = [:]
        var examples: [(example: RerankExample, unit: Double)] = []
        var position = first
        while position < total {
            let page = try store.feedback(from: position, limit: Int(min(UInt64(recordsPerPage), total - position)))
            guard !page.isEmpty else { break }
            position += UInt64(page.count)
            try cancellation.check()
            for record in page {
                let known = vectors.count
                guard let example = try LearnExamples.training(record, source: source, neighbours: settings.architecture.neighbours,
                                                                positionBias: settings.positionBias, maxWeight: .infinity,
                                                                vectors: &vectors) else { continue }
                try memory.charge((vectors.count - known) * (dimension * 4 + 64) + example.nodes.count * 16 + example.candidateCount * 56)
                examples.append((example, RankingMetrics.holdOutUnit(record.query?.values ?? [])))
            }
        }
        let heldOut = examples.filter { $0.unit < settings.holdoutFraction }.map(\.example)
        let train = examples.filter { $0.unit >= settings.holdoutFraction }.map { forTraining($0.example) }
        guard train.count >= minimumTrainingExamples, heldOut.count >= minimumHeldOutExamples else {
            throw RPCError(.failedPrecondition, "\(source.described) has \(train.count) usable training and \(heldOut.count) held-out "
                + "feedback records since the last run (a usable record judges a point that still exists as relevant); a run needs at least "
                + "\(minimumTrainingExamples) and \(minimumHeldOutExamples): record more feedback, or raise holdout_fraction")
        }

        // Start from the active model when it has this architecture; otherwise from scratch.
        let start: [UInt8]
        if let active = store.ranker, active.model.config == settings.architecture, active.model.dimension == dimension {
            start = active.model.serialised()
        } else {
            start = try RerankModel(config: settings.architecture, dimension: dimension, seed: settings.seed).serialised()
        }
        var steps = 0
        let baseline = HoldOutScore(heldOut, positionBias: settings.positionBias) { RerankModel.order($0.hnswScores) }
        let held = try fit(start: start, train: train, heldOut: heldOut, baseline: baseline, settings: settings, continuity: continuity,
                           trainerSeed: settings.seed, cancellation: cancellation) { report, evaluation in
            steps += report.isEpochEnd ? 0 : 1
            if let evaluation {
                progress(RuvectorV1.TrainProgress(epoch: UInt32(report.epoch), step: UInt64(report.step), loss: Float(report.loss),
                                                  learningRate: Float(report.learningRate), evalNdcgAt10: Float(evaluation.ndcg),
                                                  evalRecallAt10: Float(evaluation.recall), evalMrr: Float(evaluation.mrr)))
            } else if !report.isEpochEnd, report.step % 10 == 0 {
                progress(RuvectorV1.TrainProgress(epoch: UInt32(report.epoch), step: UInt64(report.step), loss: Float(report.loss),
                                                  learningRate: Float(report.learningRate)))
            }
        }

        // The gate (LearnGate): the best epoch must beat the HNSW order on the hold-out with a
        // paired bootstrap 95% interval above 0; a small hold-out that does not is followed by
        // cross-fitting, whose model, when it passes, is a final fit on every example.
        var verdict = LearnGate.test(model: held.bestEvaluation.gatePerExample, baseline: baseline.gatePerExample,
                                     ideal: baseline.idealPerExample, epoch: held.bestEpoch, seed: settings.seed)
        var gate = "gate: one hold-out, " + verdict.described
        var kept = (bytes: held.bestBytes, trainer: held.trainer, examples: train, baseline: baseline, evaluation: held.bestEvaluation)
        if !verdict.activates, heldOut.count < LearnGate.crossFitBelowLists {
            // Steps of the further trainings are reported after the first one's, under its last
            // epoch: the stream's epochs never go back (each fold's training starts at epoch 1).
            let epochsRun = UInt32(max(1, held.epochs.count))
            func report(_ report: TrainingProgress, _: HoldOutScore?) {
                guard !report.isEpochEnd else { return }
                steps += 1
                if steps % 10 == 0 {
                    progress(RuvectorV1.TrainProgress(epoch: epochsRun, step: UInt64(steps), loss: Float(report.loss),
                                                      learningRate: Float(report.learningRate)))
                }
            }
            if let crossFit = try crossFit(examples, start: start, settings: settings, continuity: continuity,
                                           cancellation: cancellation, progress: report) {
                verdict = crossFit.verdict
                gate += "; cross-fitted over \(LearnGate.crossFitFolds) folds, " + verdict.described
                if verdict.activates {
                    let everything = examples.map { forTraining($0.example) }
                    let final = try fit(start: start, train: everything, heldOut: [], baseline: nil, settings: settings,
                                        continuity: continuity, trainerSeed: settings.seed, epochs: verdict.epoch,
                                        cancellation: cancellation, progress: report)
                    kept = (final.bestBytes, final.trainer, everything, crossFit.baseline, crossFit.evaluation)
                }
            }
        }
        let activate = verdict.activates
        let model = try RerankModel(serialised: kept.bytes)
        var trainer = kept.trainer
        if activate {
            trainer.consolidate(model, examples: kept.examples)
        } else {
            for e in train { trainer.replay.add(e) }
        }
        continuity = LearnContinuity(architecture: settings.architecture, dimension: dimension, ewc: trainer.ewc,
                                     replay: trainer.replay, recordsTrained: total)

        let (base, best) = (kept.baseline, kept.evaluation)
        var status = RuvectorV1.ModelStatus(collection: name, parameters: UInt64(model.parameterCount), trainedUnixMicros: nowMicros(),
                                            baselineNdcgAt10: Float(base.ndcg), modelNdcgAt10: Float(best.ndcg),
                                            baselineRecallAt10: Float(base.recall), modelRecallAt10: Float(best.recall),
                                            baselineMrr: Float(base.mrr), modelMrr: Float(best.mrr),
                                            trainingExamples: UInt64(kept.examples.count))
        status.config = LearnLimits.resolved(store.config)
        status.note = gate
        _ = try store.storeModel(kept.bytes, status: status, activate: activate, model: activate ? model : nil)
        let stored = try LearnStatus.status(of: store, collection: name)
        return stored
    }

    /// A training copy of an example: its propensity weights clipped at `LearnExamples.maxPropensityWeight`
    /// (clipping trades a little bias for much less variance in the gradient).
    static func forTraining(_ example: RerankExample) -> RerankExample {
        var e = example
        e.weights = e.weights?.map { min($0, LearnExamples.maxPropensityWeight) }
        return e
    }
}

/// A model's (or the HNSW order's) score on held-out examples: the user-facing metrics on the
/// judgements as given (nDCG@10, recall@10 over min(10, relevant), MRR), and the gate's score:
/// DCG@10 of the propensity-weighted gains, over the set's mean ideal DCG (per-list
/// normalisation would reward the shown order whatever the relevance).
struct HoldOutScore {
    var ndcg = 0.0, recall = 0.0, mrr = 0.0
    var gatePerExample: [Double] = []
    /// Per example, the gate DCG of the ideal order.
    var idealPerExample: [Double] = []
    var idealMean: Double { idealPerExample.isEmpty ? 0 : idealPerExample.reduce(0, +) / Double(idealPerExample.count) }
    /// Mean gate DCG over the mean ideal DCG.
    var gateMean: Double { gatePerExample.isEmpty || idealMean <= 0 ? 0 : gatePerExample.reduce(0, +) / Double(gatePerExample.count) / idealMean }

    init(_ examples: [RerankExample], positionBias: Float, order: (RerankExample) -> [Int]) {
        guard !examples.isEmpty else { return }
        for e in examples {
            let grades = e.grades ?? []
            let ranking = order(e)
            let gains = grades.indices.map { i in RankingMetrics.gain(grades[i]) * Double(e.weights?[i] ?? 1) }
            idealPerExample.append(RankingMetrics.dcg(gains.sorted(by: >), k: 10))
            guard ranking.count == grades.count else { gatePerExample.append(0); continue }
            ndcg += RankingMetrics.ndcg(order: ranking, grades: grades, k: 10)
            let relevant = grades.filter { $0 > 0 }.count
            recall += RankingMetrics.recall(order: ranking, grades: grades, k: 10, totalRelevant: min(10, relevant))
            mrr += RankingMetrics.reciprocalRank(order: ranking, grades: grades)
            gatePerExample.append(RankingMetrics.dcg(ranking.map { gains[$0] }, k: 10))
        }
        let n = Double(examples.count)
        ndcg /= n
        recall /= n
        mrr /= n
    }

    /// The scores of disjoint sets taken as one set (the folds of a cross-fitted gate).
    init(pooling parts: [HoldOutScore]) {
        let n = Double(parts.reduce(0) { $0 + $1.gatePerExample.count })
        guard n > 0 else { return }
        for part in parts {
            let share = Double(part.gatePerExample.count) / n
            ndcg += part.ndcg * share
            recall += part.recall * share
            mrr += part.mrr * share
            gatePerExample += part.gatePerExample
            idealPerExample += part.idealPerExample
        }
    }
}

extension LearningRateSchedule {
    var isPlateau: Bool {
        if case .reduceOnPlateau = self { return true }
        return false
    }
}

