import LearnEngine
import RPC
import RouteEngine
import Storage
import Wire
import WorkControl

/// One training run of a router, start to end, on the calling thread: labels from the outcome
/// log (the label rule of route.proto), a split by a hash of the request id (80% train, 10%
/// calibrate the conformal sets, 10% evaluate: accuracy and coverage are measured on requests the
/// model and the calibration never saw), FastGRNN training in the engine's three stages, storage.
enum RouteTraining {
    /// Outcomes read from the log at a time.
    static let outcomesPerPage = 256

    /// A request's data gathered from its outcomes.
    struct Request {
        var features: [Float]
        var good: Set<Int> = []
        var teacher: [Float]?
    }

    /// The engine's training settings for `request`.
    static func settings(_ request: RuvectorV1.TrainRouterRequest, distillation: Bool) -> FastGRNNTrainingConfig {
        var config = FastGRNNTrainingConfig()
        let epochs = request.epochs == 0 ? 10 : Int(request.epochs)
        config.learningRate = request.learningRate == 0 ? 0.01 : Double(request.learningRate)
        config.batchSize = request.batchSize == 0 ? 32 : Int(request.batchSize)
        let keep = request.keepFraction == 0 ? 1 : Double(request.keepFraction)
        config.keepFraction = keep
        if keep < 1 {
            // Half the epochs dense, a quarter thresholding, a quarter retraining the sparse support.
            config.denseEpochs = max(1, epochs / 2)
            config.hardThresholdEpochs = max(1, epochs / 4)
            config.sparseRetrainEpochs = max(1, epochs - config.denseEpochs - config.hardThresholdEpochs)
        } else {
            config.denseEpochs = epochs
        }
        if distillation { config.distillation.weight = request.distillationWeight == 0 ? 0.5 : Double(request.distillationWeight) }
        return config
    }

    /// Which part of the split a request falls in: 0..7 train, 8 calibration, 9 evaluation.
    static func bucket(_ key: String) -> Int {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        hash ^= hash >> 33
        hash = hash &* 0xFF51_AFD7_ED55_8CCD
        hash ^= hash >> 33
        return Int(hash % 10)
    }

    /// Runs one training run and stores its model; returns the stored status. Throws CANCELLED
    /// (nothing stored) when `cancellation` is raised, FAILED_PRECONDITION with too few labels.
    static func run(store: RouteStore, request: RuvectorV1.TrainRouterRequest, memory: CallBudget,
                    cancellation: CancellationSignal, nowMicros: @Sendable () -> Int64,
                    progress: (RuvectorV1.TrainRouterProgress) -> Void) throws -> RuvectorV1.RouterStatus {
        let config = RouteLimits.engineConfig(store.definition)
        let n = config.sequenceLength
        // The window as of the run's start: outcomes recorded during the run wait for the next one.
        let total = store.outcomesRecorded
        var position = total > store.outcomeWindow ? total - store.outcomeWindow : 0
        var requests: [String: Request] = [:]
        var order: [String] = []
        while position < total {
            let page = try store.outcomes(from: position, limit: Int(min(UInt64(outcomesPerPage), total - position)))
            guard let last = page.last?.number else { break }
            try cancellation.check()
            for (number, outcome) in page where number <= total {
                let key = outcome.requestId.isEmpty ? "#\(number)" : outcome.requestId
                guard let candidate = store.candidates.firstIndex(where: { $0.name == outcome.candidate }),
                      let values = outcome.features?.values, values.count == n else { continue }
                if requests[key] == nil {
                    try memory.charge(n * 4 + key.utf8.count + 96)
                    requests[key] = Request(features: values)
                    order.append(key)
                }
                if outcome.success && outcome.quality >= store.definition.minQuality { requests[key]?.good.insert(candidate) }
                if outcome.teacherScores.count == store.candidates.count {
                    let byName = Dictionary(outcome.teacherScores.map { ($0.name, $0.score) }, uniquingKeysWith: { a, _ in a })
                    // Probabilities in, log-probabilities out: the engine takes teacher logits.
                    requests[key]?.teacher = store.candidates.map { Float.logarithm(max(byName[$0.name] ?? 0, 1e-6)) }
                }
            }
            position = last
        }

        // The label: the cheapest candidate with a good outcome (ties to the earlier candidate).
        var train = LabelledSequences<Float>(features: [], labels: []), calibration = train, evaluation = train
        var teachers: [Float] = []
        var everyTrainingRequestHasTeacher = true
        for key in order {
            guard let r = requests[key], !r.good.isEmpty else { continue }
            let label = r.good.min { (store.candidates[$0].costPerRequest, $0) < (store.candidates[$1].costPerRequest, $1) } ?? 0
            switch bucket(key) {
            case 8: append(r.features, label, to: &calibration)
            case 9: append(r.features, label, to: &evaluation)
            default:
                append(r.features, label, to: &train)
                if let t = r.teacher { teachers += t } else { everyTrainingRequestHasTeacher = false }
            }
        }
        requests = [:]
        let labelled = train.count + calibration.count + evaluation.count
        // The splits are a second copy of the labelled features for the length of the run.
        try memory.charge(labelled * n * 4 + teachers.count * 4)
        guard labelled >= RouteLimits.minimumLabelledRequests, train.count > 0, calibration.count > 0, evaluation.count > 0 else {
            throw RPCError(.failedPrecondition, "router \(MessageText.quoted(store.name)) has \(labelled) labelled requests (\(train.count) to train, "
                + "\(calibration.count) to calibrate, \(evaluation.count) to evaluate); a run needs at least \(RouteLimits.minimumLabelledRequests) "
                + "and every split non-empty. A request is labelled when one of its outcomes succeeded (with quality >= min_quality): "
                + "record more outcomes")
        }
        // Distillation needs a teacher for every training request (the engine takes all or none).
        let distillation = everyTrainingRequestHasTeacher && !teachers.isEmpty
        if distillation { train.teacherLogits = teachers }

        let network = try FastGRNNNetwork<Float>(config: config, seed: request.seed)
        try memory.charge(network.parameters.reduce(0) { $0 + $1.count } * 4 * 4)
        var trainer = try FastGRNNTrainer(network: network, config: settings(request, distillation: distillation), seed: request.seed)
        let outcome = try trainer.train(network, data: train, progress: { report in
            progress(RuvectorV1.TrainRouterProgress(epoch: UInt32(report.epoch), loss: Float(report.loss)))
        }, isCancelled: { cancellation.isCancelled })
        if outcome == .cancelled || cancellation.isCancelled { try cancellation.check() }

        var model = FastGRNNModel(network)
        if request.quantize { model = model.quantized() }
        let conformal = try SplitConformal(alpha: Double(store.definition.conformalAlpha),
                                           trueClassProbabilities: try trueClassProbabilities(model, calibration))
        var covered = 0
        for i in 0..<evaluation.count {
            let p = try model.probabilities(Array(evaluation.features[i * n ..< (i + 1) * n]))
            if conformal.predictionSet(p).contains(evaluation.labels[i]) { covered += 1 }
        }
        let bytes = model.serialised().count
        let status = RuvectorV1.RouterStatus(calibratedCoverage: Float(covered) / Float(evaluation.count),
                                             accuracy: Float(model.accuracy(evaluation)), modelBytes: UInt64(bytes), nonzeroWeights: UInt64(model.nonZeroWeights),
                                             trainingExamples: UInt64(train.count), trainedUnixMicros: nowMicros(), quantized: request.quantize,
                                             evaluationCount: UInt64(evaluation.count))
        try cancellation.check()
        return try store.storeModel(model, conformal: conformal, status: status)
    }

    static func append(_ features: [Float], _ label: Int, to data: inout LabelledSequences<Float>) {
        data.features += features
        data.labels.append(label)
    }

    static func trueClassProbabilities(_ model: FastGRNNModel, _ data: LabelledSequences<Float>) throws -> [Double] {
        let n = model.config.sequenceLength
        return try (0..<data.count).map { i in
            Double(try model.probabilities(Array(data.features[i * n ..< (i + 1) * n]))[data.labels[i]])
        }
    }
}
