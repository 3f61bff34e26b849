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

    /// Whether a query's records are held out: a hash of the query vector, so every session of
    /// one query lands on the same side and the split stays the same from run to run.
    static func isHeldOut(_ query: [Float], fraction: Double) -> Bool {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for value in query {
            hash = (hash ^ UInt64(value.bitPattern)) &* 0x0000_0100_0000_01B3
        }
        hash ^= hash >> 33
        hash = hash &* 0xFF51_AFD7_ED55_8CCD
        hash ^= hash >> 33
        return Double(hash >> 11) / Double(1 << 53) < fraction
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
        var vectors: [UInt64: [Float]] = [:]
        var train: [RerankExample] = [], heldOut: [RerankExample] = []
        var position = first
        while position < total {
            let page = try store.feedback(from: position, limit: Int(min(UInt64(recordsPerPage), total - position)))
            guard !page.isEmpty else { break }
            position += UInt64(page.count)
            try cancellation.check()
            for record in page {
                let known = vectors.count
                // Held-out lists score the gate with unclipped propensity weights: clipping
                // undervalues the deep clicks a real lift brings up, and would favour the shown order.
                let held = isHeldOut(record.query?.values ?? [], fraction: settings.holdoutFraction)
                guard let example = try LearnExamples.training(record, source: source, neighbours: settings.architecture.neighbours,
                                                                positionBias: settings.positionBias,
                                                                maxWeight: held ? .infinity : LearnExamples.maxPropensityWeight,
                                                                vectors: &vectors) else { continue }
                try memory.charge((vectors.count - known) * (dimension * 4 + 64) + example.nodes.count * 16 + example.candidateCount * 48)
                if held {
                    heldOut.append(example)
                } else {
                    train.append(example)
                }
            }
        }
        guard train.count >= minimumTrainingExamples, heldOut.count >= minimumHeldOutExamples else {
            throw RPCError(.failedPrecondition, "\(source.described) has \(train.count) usable training and \(heldOut.count) held-out "
                + "feedback records since the last run (a usable record judges a point that still exists as relevant); a run needs at least "
                + "\(minimumTrainingExamples) and \(minimumHeldOutExamples): record more feedback, or raise holdout_fraction")
        }

        // Cosine decay without a length of its own ends with the run.
        var trainingConfig = settings.training
        if case let .warmupCosine(configuredWarmup, configuredTotal, minimum) = trainingConfig.schedule {
            let batches = (train.count + trainingConfig.batchSize - 1) / max(trainingConfig.batchSize, 1)
            let runSteps = trainingConfig.epochs * batches
            let warmup = settings.defaultWarmup ? min(configuredWarmup, max(1, runSteps / 10)) : configuredWarmup
            let total = configuredTotal == 0 ? max(warmup + 1, runSteps) : configuredTotal
            trainingConfig.schedule = .warmupCosine(warmupSteps: warmup, totalSteps: total, minimumRate: minimum)
        }

        // Start from the active model when it has this architecture; otherwise from scratch.
        let model: RerankModel
        if let active = store.ranker, active.model.config == settings.architecture, active.model.dimension == dimension {
            model = try RerankModel(serialised: active.model.serialised())
        } else {
            model = try RerankModel(config: settings.architecture, dimension: dimension, seed: settings.seed)
        }
        var trainer = Trainer(model: model, config: trainingConfig, seed: settings.seed)
        if let c = continuity {
            trainer.ewc = c.ewc
            trainer.ewc.lambda = Float(settings.training.ewcLambda)
            if c.replay.capacity == trainer.replay.capacity { trainer.replay = c.replay }
        }

        let baseline = HoldOutScore(heldOut, positionBias: settings.positionBias) { RerankModel.order($0.hnswScores) }
        var best = (score: baseline.gateMean, bytes: model.serialised(), epoch: 0, evaluation: baseline)
        var sinceBest = 0
        var lastReportedStep = 0
        let outcome = trainer.train(model, examples: train, heldOut: trainingConfig.schedule.isPlateau ? heldOut : [],
                                    consolidating: false,
            progress: { report in
                guard !report.isEpochEnd else { return }
                if report.step - lastReportedStep >= 10 {
                    lastReportedStep = report.step
                    progress(RuvectorV1.TrainProgress(epoch: UInt32(report.epoch), step: UInt64(report.step), loss: Float(report.loss),
                                                      learningRate: Float(report.learningRate)))
                }
            },
            continueAfterEpoch: { report in
                let evaluation = HoldOutScore(heldOut, positionBias: settings.positionBias) { (try? model.rerank($0)) ?? [] }
                if evaluation.gateMean > best.score {
                    best = (evaluation.gateMean, model.serialised(), report.epoch, evaluation)
                    sinceBest = 0
                } else {
                    sinceBest += 1
                }
                progress(RuvectorV1.TrainProgress(epoch: UInt32(report.epoch), step: UInt64(report.step), loss: Float(report.loss),
                                                  learningRate: Float(report.learningRate), evalNdcgAt10: Float(evaluation.ndcg),
                                                  evalRecallAt10: Float(evaluation.recall), evalMrr: Float(evaluation.mrr)))
                return sinceBest < patienceEpochs && !cancellation.isCancelled
            },
            isCancelled: { cancellation.isCancelled })
        if outcome == .cancelled || cancellation.isCancelled { try cancellation.check() }

        // The gate: the best epoch must beat the HNSW order on the held-out feedback, with a
        // paired bootstrap 95% interval above 0 (docs/learn.md, "Training", says why).
        let differences = zip(best.evaluation.gatePerExample, baseline.gatePerExample).map { ($0 - $1) / max(baseline.idealMean, 1e-12) }
        let interval = RankingMetrics.bootstrapInterval(differences, seed: settings.seed ^ 0xB007)
        let activate = best.epoch > 0 && interval.lower > 0
        let kept = try RerankModel(serialised: best.bytes)
        if activate {
            trainer.consolidate(kept, examples: train)
        } else {
            for e in train { trainer.replay.add(e) }
        }
        continuity = LearnContinuity(architecture: settings.architecture, dimension: dimension, ewc: trainer.ewc,
                                     replay: trainer.replay, recordsTrained: total)

        var status = RuvectorV1.ModelStatus(collection: name, parameters: UInt64(kept.parameterCount), trainedUnixMicros: nowMicros(),
                                            baselineNdcgAt10: Float(baseline.ndcg), modelNdcgAt10: Float(best.evaluation.ndcg),
                                            baselineRecallAt10: Float(baseline.recall), modelRecallAt10: Float(best.evaluation.recall),
                                            baselineMrr: Float(baseline.mrr), modelMrr: Float(best.evaluation.mrr),
                                            trainingExamples: UInt64(train.count))
        status.config = LearnLimits.resolved(store.config)
        _ = try store.storeModel(best.bytes, status: status, activate: activate, model: activate ? kept : nil)
        let stored = try LearnStatus.status(of: store, collection: name)
        return stored
    }
}

/// A model's (or the HNSW order's) score on held-out examples: the user-facing metrics on the
/// judgements as given (nDCG@10, recall@10 over min(10, relevant), MRR), and the gate's score:
/// DCG@10 of the propensity-weighted gains, over the set's mean ideal DCG (per-list
/// normalisation would reward the shown order whatever the relevance).
struct HoldOutScore {
    var ndcg = 0.0, recall = 0.0, mrr = 0.0
    var gatePerExample: [Double] = []
    var idealMean = 0.0
    /// Mean gate DCG over the mean ideal DCG.
    var gateMean: Double { gatePerExample.isEmpty || idealMean <= 0 ? 0 : gatePerExample.reduce(0, +) / Double(gatePerExample.count) / idealMean }

    init(_ examples: [RerankExample], positionBias: Float, order: (RerankExample) -> [Int]) {
        guard !examples.isEmpty else { return }
        var ideal = 0.0
        for e in examples {
            let grades = e.grades ?? []
            let ranking = order(e)
            guard ranking.count == grades.count else { gatePerExample.append(0); continue }
            ndcg += RankingMetrics.ndcg(order: ranking, grades: grades, k: 10)
            let relevant = grades.filter { $0 > 0 }.count
            recall += RankingMetrics.recall(order: ranking, grades: grades, k: 10, totalRelevant: min(10, relevant))
            mrr += RankingMetrics.reciprocalRank(order: ranking, grades: grades)
            let gains = grades.indices.map { i in RankingMetrics.gain(grades[i]) * Double(e.weights?[i] ?? 1) }
            gatePerExample.append(RankingMetrics.dcg(ranking.map { gains[$0] }, k: 10))
            ideal += RankingMetrics.dcg(gains.sorted(by: >), k: 10)
        }
        let n = Double(examples.count)
        ndcg /= n
        recall /= n
        mrr /= n
        idealMean = ideal / n
    }
}

extension LearningRateSchedule {
    var isPlateau: Bool {
        if case .reduceOnPlateau = self { return true }
        return false
    }
}

