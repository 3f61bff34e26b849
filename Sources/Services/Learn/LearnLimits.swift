import RPC
import Wire

/// Bounds and defaults of LearnService requests (documented in learn.proto): every request is
/// checked against them before anything touches disk.
enum LearnLimits {
    /// Judgements, and shown ids, per feedback record.
    static let maxJudgements = 1000
    /// The highest relevance grade.
    static let maxGrade: UInt32 = 10
    /// The largest model file ImportModel accepts.
    static let maxModelBytes = 256 << 20
    /// Bytes per ExportModel chunk.
    static let exportChunkBytes = 256 << 10
    /// Candidates re-scored when `LearnedRerank.depth` is 0, and the most it may ask.
    static let defaultRerankDepth = 100
    static let maxRerankDepth = 1000

    /// The depth a learned re-ranking asks for (nil: not asked), or INVALID_ARGUMENT.
    static func rerankDepth(_ rerank: RuvectorV1.LearnedRerank?) throws -> Int? {
        guard let rerank else { return nil }
        guard rerank.depth <= UInt32(maxRerankDepth) else {
            throw RPCError(.invalidArgument, "learned_rerank.depth must be 0 (= \(defaultRerankDepth)) to \(maxRerankDepth), got \(rerank.depth)")
        }
        return rerank.depth == 0 ? defaultRerankDepth : Int(rerank.depth)
    }

    /// `config` with its zero fields replaced by the defaults.
    static func resolved(_ config: RuvectorV1.ModelConfig) -> RuvectorV1.ModelConfig {
        var c = config
        if c.hiddenSize == 0 { c.hiddenSize = 128 }
        if c.heads == 0 { c.heads = 4 }
        if c.layers == 0 { c.layers = 1 }
        if c.dropout == 0 { c.dropout = 0.1 }
        if c.neighboursPerNode == 0 { c.neighboursPerNode = 16 }
        if c.loss == .unspecified { c.loss = .listwiseSoftmax }
        if c.temperature == 0 { c.temperature = 1 }
        if c.schedule == .unspecified { c.schedule = .warmupCosine }
        if c.warmupSteps == 0 { c.warmupSteps = 100 }
        if c.plateauPatience == 0 { c.plateauPatience = 3 }
        if c.replaySize == 0 { c.replaySize = 10_000 }
        if c.ewcLambda == 0 { c.ewcLambda = 0.4 }
        if c.batchSize == 0 { c.batchSize = 32 }
        if c.learningRate == 0 { c.learningRate = 1e-3 }
        if c.positionBias == 0 { c.positionBias = 1 }
        return c
    }

    /// Throws INVALID_ARGUMENT naming the first setting out of bounds.
    static func check(_ config: RuvectorV1.ModelConfig) throws {
        let c = resolved(config)
        try require(c.hiddenSize <= 1024, "hidden_size must be 0 (= 128) to 1024, got \(c.hiddenSize)")
        try require(c.heads <= 16 && c.hiddenSize % c.heads == 0, "heads must be 0 (= 4) to 16 and divide hidden_size \(c.hiddenSize), got \(c.heads)")
        try require(c.layers <= 4, "layers must be 0 (= 1) to 4, got \(c.layers)")
        try require(c.dropout.isFinite && c.dropout > 0 && c.dropout < 1, "dropout must be 0 (= 0.1) or in (0, 1), got \(config.dropout)")
        try require(c.neighboursPerNode <= 64, "neighbours_per_node must be 0 (= 16) to 64, got \(c.neighboursPerNode)")
        try require([.listwiseSoftmax, .infonce, .pairwise].contains(c.loss), "loss must be a LossKind, got \(c.loss)")
        try require(c.temperature.isFinite && c.temperature > 0 && c.temperature <= 100, "temperature must be 0 (= 1) or in (0, 100], got \(config.temperature)")
        try schedule(c.schedule, warmupSteps: c.warmupSteps)
        try require(c.cosineSteps <= 100_000_000, "cosine_steps must be at most 100000000, got \(c.cosineSteps)")
        try require(c.plateauPatience <= 1000, "plateau_patience must be 0 (= 3) to 1000, got \(c.plateauPatience)")
        try replayAndEWC(replaySize: c.replaySize, ewcLambda: c.ewcLambda)
        try batch(c.batchSize)
        try require(c.retrainEvery <= 1_000_000, "retrain_every must be 0 (= off) to 1000000, got \(c.retrainEvery)")
        try learningRate(c.learningRate)
        try require(c.positionBias.isFinite && c.positionBias <= 2, "position_bias must be at most 2 (0 = 1: clicks; negative = explicit grades), got \(config.positionBias)")
    }

    /// Throws INVALID_ARGUMENT naming the first TrainRequest setting out of bounds.
    static func check(_ request: RuvectorV1.TrainRequest) throws {
        try require(request.epochs <= 1000, "epochs must be 0 (= 10) to 1000, got \(request.epochs)")
        if request.learningRate != 0 { try learningRate(request.learningRate) }
        try schedule(request.schedule, warmupSteps: request.warmupSteps)
        try replayAndEWC(replaySize: request.replayBufferSize, ewcLambda: request.ewcLambda)
        try require(request.holdoutFraction.isFinite && request.holdoutFraction >= 0 && request.holdoutFraction <= 0.5,
                    "holdout_fraction must be 0 (= 0.1) to 0.5, got \(request.holdoutFraction)")
        try batch(request.batchSize)
        try require([.unspecified, .listwiseSoftmax, .infonce, .pairwise].contains(request.loss), "loss must be a LossKind, got \(request.loss)")
    }

    private static func schedule(_ schedule: RuvectorV1.LearningRateSchedule, warmupSteps: UInt32) throws {
        try require([.unspecified, .constant, .warmupCosine, .plateau].contains(schedule), "schedule must be a LearningRateSchedule, got \(schedule)")
        try require(warmupSteps <= 1_000_000, "warmup_steps must be 0 (= 100) to 1000000, got \(warmupSteps)")
    }

    private static func replayAndEWC(replaySize: UInt32, ewcLambda: Float) throws {
        try require(replaySize <= 1_000_000, "replay size must be 0 (= 10000) to 1000000, got \(replaySize)")
        try require(ewcLambda.isFinite && ewcLambda <= 1000, "ewc_lambda must be at most 1000 (0 = 0.4, negative = off), got \(ewcLambda)")
    }

    private static func batch(_ size: UInt32) throws {
        try require(size <= 4096, "batch_size must be 0 (= 32) to 4096, got \(size)")
    }

    private static func learningRate(_ rate: Float) throws {
        try require(rate.isFinite && rate > 0 && rate <= 1, "learning_rate must be 0 (= 1e-3) or in (0, 1], got \(rate)")
    }

    private static func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        guard condition else { throw RPCError(.invalidArgument, message()) }
    }
}
