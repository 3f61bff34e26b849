import Wire

/// A collection's learned model as the server describes it (LearnService GetModelStatus).
public struct ModelStatus: Sendable, Hashable {
    /// The active model version; 0: none, searches keep the plain HNSW order.
    public var version: UInt64
    /// The newest stored version (above `version` when it was not activated).
    public var latestVersion: UInt64
    /// Whether the newest version is the active one.
    public var activated: Bool
    /// Feedback records the server holds for the collection.
    public var feedbackRecords: UInt64
    /// Hold-out nDCG@10 of the plain ranking and of the model (0 until a model is trained).
    public var baselineNDCGAt10: Float
    /// Hold-out nDCG@10 with the model's re-ranking.
    public var modelNDCGAt10: Float
    /// Hidden width, heads and batch size in force (defaults filled in).
    public var hiddenSize: Int
    /// Attention heads in force.
    public var heads: Int
    /// Examples per optimiser step in force.
    public var batchSize: Int
    /// Why no model ranks searches; empty when one does.
    public var note: String

    init(_ status: RuvectorV1.ModelStatus) {
        version = status.version
        latestVersion = status.latestVersion
        activated = status.activated
        feedbackRecords = status.feedbackBuffered
        baselineNDCGAt10 = status.baselineNdcgAt10
        modelNDCGAt10 = status.modelNdcgAt10
        hiddenSize = Int(status.config?.hiddenSize ?? 0)
        heads = Int(status.config?.heads ?? 0)
        batchSize = Int(status.config?.batchSize ?? 0)
        note = status.note
    }
}

/// One message of a training run (LearnService Train).
public struct TrainingProgress: Sendable, Hashable {
    /// 1-based epoch (0 on the final message).
    public var epoch: Int
    /// Optimiser steps so far.
    public var step: Int
    /// Training loss (mean over the step's batch, or over the epoch at an epoch's end).
    public var loss: Float
    /// The learning rate in force.
    public var learningRate: Float
    /// Held-out nDCG@10, recall@10 and MRR of the model (at epoch ends and on the final message; else 0).
    public var heldOutNDCGAt10: Float
    /// Held-out recall@10.
    public var heldOutRecallAt10: Float
    /// Held-out mean reciprocal rank.
    public var heldOutMRR: Float
    /// True on the final message: the run stored its model (`modelStatus` says whether it was activated).
    public var done: Bool

    init(_ message: RuvectorV1.TrainProgress) {
        epoch = Int(message.epoch)
        step = Int(message.step)
        loss = message.loss
        learningRate = message.learningRate
        heldOutNDCGAt10 = message.evalNdcgAt10
        heldOutRecallAt10 = message.evalRecallAt10
        heldOutMRR = message.evalMrr
        done = message.done
    }
}

extension RuVectorClient {
    static let learnService = "/ruvector.v1.LearnService/"

    /// Sends one request and hands every response of the stream to `each`; cancelling the task
    /// cancels the call (and what it runs on the server).
    func serverStream<Response: WireMessage>(_ method: String, _ request: some WireMessage, service: String, as _: Response.Type,
                                             each: (Response) -> Void) async throws(RuVectorClientError) {
        let call = try await makeCall(method, service: service)
        do {
            try? await call.send(request.encoded())  // when this fails, the server's status below says why
            call.closeSend()
            try await withTaskCancellationHandler {
                for try await bytes in call.responses { each(try Response(decoding: bytes)) }
            } onCancel: {
                call.cancel()
            }
        } catch {
            call.cancel()
            throw RuVectorClientError.from(error)
        }
    }

    /// Records feedback for one query: `query` (a vector) or `queryID` (a point whose vector is
    /// the query), the ids in the order they were `shown`, and graded `judgements` (0...10; a
    /// click is 1). Returns the feedback records the collection now holds.
    ///
    /// ```swift
    /// try await db.recordFeedback(in: "docs", query: q, shown: hits.map(\.id), judgements: [hits[2].id: 1])
    /// ```
    @discardableResult
    public func recordFeedback(in collection: String, query: [Float]? = nil, queryID: PointID? = nil, shown: [PointID] = [],
                               judgements: [PointID: Int] = [:]) async throws(RuVectorClientError) -> UInt64 {
        guard (query == nil) != (queryID == nil) else {
            throw WireConversions.invalid("give query or queryID, not both")
        }
        var request = RuvectorV1.RecordFeedbackRequest(collection: collection, shown: shown.map(WireConversions.wire))
        request.query = query.map { RuvectorV1.Vector(values: $0) }
        request.queryId = queryID.map(WireConversions.wire)
        for (id, grade) in judgements.sorted(by: { $0.key.description < $1.key.description }) {
            request.judgements.append(RuvectorV1.Judgement(id: WireConversions.wire(id), grade: try WireConversions.uint32(grade, "grade")))
        }
        return try await unary("RecordFeedback", request, service: Self.learnService, as: RuvectorV1.RecordFeedbackResponse.self).buffered
    }

    /// The collection's model status.
    public func modelStatus(of collection: String) async throws(RuVectorClientError) -> ModelStatus {
        ModelStatus(try await unary("GetModelStatus", RuvectorV1.ModelStatusRequest(collection: collection),
                                    service: Self.learnService, as: RuvectorV1.ModelStatus.self))
    }

    /// Sets the collection's model settings; nil leaves the server's default. Returns the status
    /// with the settings in force.
    @discardableResult
    public func configureModel(of collection: String, hiddenSize: Int? = nil, heads: Int? = nil, batchSize: Int? = nil,
                               retrainEvery: Int? = nil) async throws(RuVectorClientError) -> ModelStatus {
        var config = RuvectorV1.ModelConfig()
        config.hiddenSize = try WireConversions.uint32(hiddenSize ?? 0, "hiddenSize")
        config.heads = try WireConversions.uint32(heads ?? 0, "heads")
        config.batchSize = try WireConversions.uint32(batchSize ?? 0, "batchSize")
        config.retrainEvery = try WireConversions.uint32(retrainEvery ?? 0, "retrainEvery")
        return ModelStatus(try await unary("ConfigureModel", RuvectorV1.ConfigureModelRequest(collection: collection, config: config),
                                           service: Self.learnService, as: RuvectorV1.ModelStatus.self))
    }

    /// Trains the collection's model on the feedback recorded since the last run, calling
    /// `progress` for every message (every tenth step, each epoch's end, the final `done`), and
    /// returns the status after the run. Cancelling the task cancels the run on the server.
    /// `epochs` 0 = the server's default (10); `seed` makes the run deterministic.
    @discardableResult
    public func train(_ collection: String, epochs: Int = 0, seed: UInt64 = 0,
                      progress: @Sendable (TrainingProgress) -> Void = { _ in }) async throws(RuVectorClientError) -> ModelStatus {
        let request = RuvectorV1.TrainRequest(collection: collection, epochs: try WireConversions.uint32(epochs, "epochs"), seed: seed)
        try await serverStream("Train", request, service: Self.learnService, as: RuvectorV1.TrainProgress.self) { progress(TrainingProgress($0)) }
        return try await modelStatus(of: collection)
    }

    /// The collection's active model as bytes (the server's model format), checked against the
    /// stream's size and CRC-32C.
    public func exportModel(of collection: String) async throws(RuVectorClientError) -> [UInt8] {
        try await downloadFile("ExportModel", RuvectorV1.ExportModelRequest(collection: collection), service: Self.learnService, what: "model")
    }

    /// Uploads a model (from `exportModel`) in chunks of `chunkBytes` and activates it for the
    /// collection; the server reads it in full and checks it fits the collection first.
    @discardableResult
    public func importModel(_ model: [UInt8], into collection: String, chunkBytes: Int = 1 << 20) async throws(RuVectorClientError) -> ModelStatus {
        ModelStatus(try await uploadFile("ImportModel", model, service: Self.learnService, chunkBytes: chunkBytes, as: RuvectorV1.ModelStatus.self) { first, chunk in
            RuvectorV1.ImportModelRequest(collection: first ? collection : "", chunk: chunk)
        })
    }
}
