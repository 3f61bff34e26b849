import RPC
import Storage
import VectorDatabase
import Wire

/// `ruvector.v1.LearnService`: the data side of learned re-ranking. Feedback is validated
/// and appended durably to the collection's feedback log (`LearnStore`); settings, status and
/// model files are kept per collection. Training and importing need the learning engine:
/// until the server hands it in (`trainer`, `importValidator`), Train and ImportModel answer
/// FAILED_PRECONDITION after checking their arguments, and no model is ever active.
struct LearnService: RPCService {
    static let name = "ruvector.v1.LearnService"

    /// Checks an imported model's bytes for the collection (the engine's deserialiser) and
    /// returns the status to store with it (parameters, metrics); throws to refuse them.
    typealias ImportValidator = @Sendable (_ bytes: [UInt8], _ collection: DurableCollection, _ config: RuvectorV1.ModelConfig) throws -> RuvectorV1.ModelStatus

    let collections: CollectionCatalog
    let learning: LearnCatalog
    let work: ServerWork
    /// Set on a cluster node: every method answers FAILED_PRECONDITION (feedback written on
    /// one node would not reach the others).
    var clusterNode = false
    /// The engine's deserialiser; nil: ImportModel refuses.
    var importValidator: ImportValidator?

    /// The collection `name` on this server, or the status saying why not.
    func collection(_ name: String) throws -> DurableCollection {
        guard !clusterNode else {
            throw RPCError(.failedPrecondition, "learning on a cluster is not supported yet: feedback recorded on one node would not reach the others")
        }
        guard let durable = collections.get(name) else {
            try VectorMapping.checkCollectionName(name)
            throw RPCError(.notFound, "collection \(MessageText.quoted(name)) does not exist; create it with CreateCollection")
        }
        return durable
    }

    func register(into router: inout RPCRouter) {
        let service = self
        router.unary(Self.name, "RecordFeedback", RuvectorV1.RecordFeedbackRequest.self) { request, context, _ in
            let durable = try service.collection(request.collection)
            return try await service.work.run(.write, context, work: "RecordFeedback", map: VectorMapping.rpcError) { bounds in
                // Everything is checked before the record is written: a refused record leaves no trace.
                let record = try LearnFeedback.validated(request, in: durable, bounds: bounds)
                try bounds.cancellation.check()
                let held = try service.learning.store(request.collection).appendFeedback(record)
                return RuvectorV1.RecordFeedbackResponse(buffered: held)
            }
        }
        router.unary(Self.name, "ConfigureModel", RuvectorV1.ConfigureModelRequest.self) { request, context, _ in
            let durable = try service.collection(request.collection)
            let config = request.config ?? RuvectorV1.ModelConfig()
            try LearnLimits.check(config)
            return try await service.work.run(.write, context, work: "ConfigureModel", map: VectorMapping.rpcError) { _ in
                let store = try service.learning.store(request.collection)
                try store.setConfig(config)
                return try LearnStatus.status(of: store, collection: durable.collection.config.name)
            }
        }
        router.unary(Self.name, "GetModelStatus", RuvectorV1.ModelStatusRequest.self) { request, context, _ in
            let durable = try service.collection(request.collection)
            return try await service.work.run(.background, context, work: "GetModelStatus", map: VectorMapping.rpcError) { _ in
                try LearnStatus.status(of: try service.learning.existingStore(request.collection), collection: durable.collection.config.name)
            }
        }
        router.serverStreaming(Self.name, "Train", RuvectorV1.TrainRequest.self, RuvectorV1.TrainProgress.self) { request, _, _ in
            _ = try service.collection(request.collection)
            try LearnLimits.check(request)
            throw RPCError(.failedPrecondition, "training needs the learning engine, which is not wired to this server yet; "
                + "feedback is recorded and kept, and will be trained on once it is (see docs/learn.md)")
        }
        router.serverStreaming(Self.name, "ExportModel", RuvectorV1.ExportModelRequest.self, RuvectorV1.FileChunk.self) { request, writer, context in
            try await service.export(request, to: writer, context: context)
        }
        router.clientStreaming(Self.name, "ImportModel", RuvectorV1.ImportModelRequest.self, RuvectorV1.ModelStatus.self) { requests, context, _ in
            try await service.importModel(requests, context: context)
        }
    }

    /// Streams the active model's bytes in chunks, the last with the size and CRC-32C.
    private func export(_ request: RuvectorV1.ExportModelRequest, to writer: TypedWriter<RuvectorV1.FileChunk>, context: ServerContext) async throws {
        _ = try collection(request.collection)
        let model = try await work.run(.background, context, work: "ExportModel", map: VectorMapping.rpcError) { _ in
            try learning.existingStore(request.collection).flatMap { store in try store.model(store.versions.active) }
        }
        guard let model else {
            throw RPCError(.failedPrecondition, "collection \(MessageText.quoted(request.collection)) has no active model to export; "
                + "train one first (GetModelStatus says what exists)")
        }
        var offset = 0
        var crc: UInt32 = 0
        repeat {
            let end = min(offset + LearnLimits.exportChunkBytes, model.bytes.count)
            let data = Array(model.bytes[offset..<end])
            crc = CRC32C.checksum(data, continuing: crc)
            var chunk = RuvectorV1.FileChunk(offset: UInt64(offset), data: data)
            offset = end
            if offset == model.bytes.count { chunk.trailer = RuvectorV1.FileTrailer(sizeBytes: UInt64(offset), crc32c: crc) }
            try await writer.send(chunk)
        } while offset < model.bytes.count
    }

    /// The first message names the collection; chunks follow in order, the last with the
    /// trailer. The upload is bounded (`LearnLimits.maxModelBytes`, charged to a call budget),
    /// checked against its trailer, then handed to the engine's validator before it is stored.
    private func importModel(_ requests: TypedRequests<RuvectorV1.ImportModelRequest>, context: ServerContext) async throws -> RuvectorV1.ModelStatus {
        var target: DurableCollection?
        var upload = LearnUpload()
        let budget = work.callBudget(work: "the model upload", limitBytes: LearnLimits.maxModelBytes + (1 << 20))
        defer { budget.close() }
        for try await request in requests {
            if target == nil {
                let durable = try collection(request.collection)
                guard importValidator != nil else {
                    throw RPCError(.failedPrecondition, "model import needs the learning engine, which is not wired to this server yet")
                }
                target = durable
            } else if !request.collection.isEmpty, request.collection != target?.collection.config.name {
                throw RPCError(.invalidArgument, "only the first message names the collection")
            }
            if let chunk = request.chunk {
                try upload.add(chunk)
                try VectorService.mapped { try budget.charge(chunk.data.count) }
            }
        }
        guard let target, let importValidator else { throw RPCError(.invalidArgument, "the upload was empty: the first message names the collection") }
        let bytes = try upload.finished()
        let name = target.collection.config.name
        return try await work.run(.write, context, work: "ImportModel", map: VectorMapping.rpcError) { _ in
            let store = try learning.store(name)
            var status = try importValidator(bytes, target, LearnLimits.resolved(store.config))
            status.collection = name
            // An imported model is what the operator asked for: it is activated.
            _ = try store.storeModel(bytes, status: status, activate: true)
            return try LearnStatus.status(of: store, collection: name)
        }
    }
}
