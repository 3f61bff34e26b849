import GraphPersistence
import LearnEngine
import RPC
import Storage
import VectorDatabase
import VectorEngine
import Wire

/// `ruvector.v1.LearnService`: learned re-ranking. Feedback is validated and appended durably
/// to the source's feedback log (`LearnStore`); settings, status and model versions are kept
/// per source; Train runs the learning engine in the background (`LearnTrainer`), streams
/// its progress and activates the model only when it beats the HNSW order on the hold-out;
/// Export and Import move the engine's model bytes between servers. A source is a vector
/// collection, or a graph vector index named `graph:<index>` (its model re-ranks HybridSearch).
struct LearnService: RPCService {
    static let name = "ruvector.v1.LearnService"

    let collections: CollectionCatalog
    let learning: LearnCatalog
    let work: ServerWork
    /// The graph whose vector indexes may learn (`graph:<index>`).
    var graph: DurableGraphDatabase?
    /// Set on a cluster node: every method answers FAILED_PRECONDITION (feedback written on
    /// one node would not reach the others).
    var clusterNode = false

    /// The collection or graph vector index `name` names on this server, or the status saying why not.
    func source(_ name: String) throws -> any LearnSource {
        guard !clusterNode else {
            throw RPCError(.failedPrecondition, "learning on a cluster is not supported yet: feedback recorded on one node would not reach the others")
        }
        if name.hasPrefix(GraphIndexLearnSource.prefix) {
            let indexName = String(name.dropFirst(GraphIndexLearnSource.prefix.count))
            guard let index = graph?.vectorIndexes.hnsw(indexName) else {
                throw RPCError(.notFound, "there is no graph vector index \(MessageText.quoted(indexName)); GraphService ListIndexes shows them, CreateIndex makes one")
            }
            guard GraphIndexLearnSource.learnName(ofIndex: indexName) != nil else {
                throw RPCError(.invalidArgument, "graph vector index \(MessageText.quoted(indexName)) cannot learn: its name must follow the collection-name rule "
                    + "(\(CollectionConfig.nameRule)) to keep learning state; create an index under such a name")
            }
            return GraphIndexLearnSource(indexName: indexName, index: index)
        }
        guard let durable = collections.get(name) else {
            try VectorMapping.checkCollectionName(name)
            throw RPCError(.notFound, "collection \(MessageText.quoted(name)) does not exist; create it with CreateCollection")
        }
        return CollectionLearnSource(durable: durable)
    }

    func register(into router: inout RPCRouter) {
        let service = self
        router.unary(Self.name, "RecordFeedback", RuvectorV1.RecordFeedbackRequest.self) { request, context, _ in
            let source = try service.source(request.collection)
            return try await service.work.run(.write, context, work: "RecordFeedback", map: VectorMapping.rpcError) { bounds in
                // Everything is checked before the record is written: a refused record leaves no trace.
                let record = try LearnFeedback.validated(request, in: source, bounds: bounds)
                try bounds.cancellation.check()
                let store = try service.learning.store(source.learnName)
                let held = try store.appendFeedback(record)
                service.learning.trainer.feedbackRecorded(source, store: store, budget: service.work.callBudget(work: "the training run"))
                return RuvectorV1.RecordFeedbackResponse(buffered: held)
            }
        }
        router.unary(Self.name, "ConfigureModel", RuvectorV1.ConfigureModelRequest.self) { request, context, _ in
            let source = try service.source(request.collection)
            let config = request.config ?? RuvectorV1.ModelConfig()
            try LearnLimits.check(config)
            return try await service.work.run(.write, context, work: "ConfigureModel", map: VectorMapping.rpcError) { _ in
                let store = try service.learning.store(source.learnName)
                try store.setConfig(config)
                return try LearnStatus.status(of: store, collection: source.learnName)
            }
        }
        router.unary(Self.name, "GetModelStatus", RuvectorV1.ModelStatusRequest.self) { request, context, _ in
            let source = try service.source(request.collection)
            return try await service.work.run(.background, context, work: "GetModelStatus", map: VectorMapping.rpcError) { _ in
                var status = try LearnStatus.status(of: try service.learning.existingStore(source.learnName), collection: source.learnName)
                if let failure = service.learning.trainer.lastBackgroundFailure(request.collection) {
                    status.note += (status.note.isEmpty ? "" : "; ") + "the last continuous training run failed: \(failure)"
                }
                return status
            }
        }
        router.serverStreaming(Self.name, "Train", RuvectorV1.TrainRequest.self, RuvectorV1.TrainProgress.self) { request, writer, context in
            try await service.train(request, to: writer, context: context)
        }
        router.serverStreaming(Self.name, "ExportModel", RuvectorV1.ExportModelRequest.self, RuvectorV1.FileChunk.self) { request, writer, context in
            try await service.export(request, to: writer, context: context)
        }
        router.clientStreaming(Self.name, "ImportModel", RuvectorV1.ImportModelRequest.self, RuvectorV1.ModelStatus.self) { requests, context, _ in
            try await service.importModel(requests, context: context)
        }
    }

    /// Starts a run in the background and streams its progress until it ends. Cancelling the
    /// call (or its deadline) cancels the run; a run that ends without error has stored its
    /// model, activated or not (the last message says `done`; GetModelStatus says which).
    private func train(_ request: RuvectorV1.TrainRequest, to writer: TypedWriter<RuvectorV1.TrainProgress>, context: ServerContext) async throws {
        let source = try self.source(request.collection)
        try LearnLimits.check(request)
        let store = try await work.run(.write, context, work: "Train", map: VectorMapping.rpcError) { _ in
            try learning.store(source.learnName)
        }
        let status = try await BackgroundRunStream.stream(to: writer, context: context, map: VectorMapping.rpcError) { progress, completion in
            try learning.trainer.start(source, store: store, request: request, budget: work.callBudget(work: "the training run"),
                                       progress: progress, completion: completion)
        }
        try await writer.send(RuvectorV1.TrainProgress(epoch: 0, step: 0, loss: 0, learningRate: 0, evalNdcgAt10: status.modelNdcgAt10,
                                                       done: true, evalRecallAt10: status.modelRecallAt10, evalMrr: status.modelMrr))
    }

    /// Streams the active model's bytes in chunks, the last with the size and CRC-32C.
    private func export(_ request: RuvectorV1.ExportModelRequest, to writer: TypedWriter<RuvectorV1.FileChunk>, context: ServerContext) async throws {
        _ = try source(request.collection)
        let model = try await work.run(.background, context, work: "ExportModel", map: VectorMapping.rpcError) { _ in
            try learning.existingStore(request.collection).flatMap { store in try store.model(store.versions.active) }
        }
        guard let model else {
            throw RPCError(.failedPrecondition, "\(MessageText.quoted(request.collection)) has no active model to export; "
                + "train one first (GetModelStatus says what exists)")
        }
        try await BackgroundRunStream.sendFile(model.bytes, chunkBytes: LearnLimits.exportChunkBytes, to: writer)
    }

    /// The first message names the collection (or `graph:<index>`); chunks follow in order, the last with the
    /// trailer. The upload is bounded (`LearnLimits.maxModelBytes`, charged to a call budget),
    /// checked against its trailer, then handed to the engine's validator before it is stored.
    private func importModel(_ requests: TypedRequests<RuvectorV1.ImportModelRequest>, context: ServerContext) async throws -> RuvectorV1.ModelStatus {
        var target: (any LearnSource)?
        var upload = LearnUpload()
        let budget = work.callBudget(work: "the model upload", limitBytes: LearnLimits.maxModelBytes + (1 << 20))
        defer { budget.close() }
        for try await request in requests {
            if target == nil {
                target = try self.source(request.collection)
            } else if !request.collection.isEmpty, request.collection != target?.learnName {
                throw RPCError(.invalidArgument, "only the first message names the collection")
            }
            if let chunk = request.chunk {
                try upload.add(chunk)
                try VectorService.mapped { try budget.charge(chunk.data.count) }
            }
        }
        guard let target else { throw RPCError(.invalidArgument, "the upload was empty: the first message names the collection") }
        let bytes = try upload.finished()
        let name = target.learnName
        let dimension = target.dimension
        return try await work.run(.write, context, work: "ImportModel", map: VectorMapping.rpcError) { _ in
            // Read in full (checksum, format, shapes) before anything is written.
            let model: RerankModel
            do {
                model = try RerankModel(serialised: bytes, expectedDimension: dimension)
            } catch let error as LearnError {
                throw RPCError(.invalidArgument, "the upload is not a model \(target.described) can use: \(error.message)")
            }
            let store = try learning.store(name)
            var status = RuvectorV1.ModelStatus(collection: name, parameters: UInt64(model.parameterCount),
                                                trainedUnixMicros: DurabilityOptions.unixMicros())
            status.config = LearnLimits.resolved(store.config)
            // An imported model is what the operator asked for: it is activated, and training
            // starts over from it (what earlier runs carried over belongs to another model).
            learning.trainer.forget(name)
            _ = try store.storeModel(bytes, status: status, activate: true, model: model)
            return try LearnStatus.status(of: store, collection: name)
        }
    }
}
