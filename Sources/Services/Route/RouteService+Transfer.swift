import RPC
import Storage
import Synchronization
import Wire

extension RouteService {
    /// Starts a run in the background and streams its progress until it ends. Cancelling the call
    /// (or its deadline) cancels the run; the last message (`done`) carries the stored model's
    /// version, held-out accuracy and coverage.
    func train(_ request: RuvectorV1.TrainRouterRequest, to writer: TypedWriter<RuvectorV1.TrainRouterProgress>, context: ServerContext) async throws {
        let store = try store(request.router)
        try RouteLimits.check(request)
        let status = try await BackgroundRunStream.stream(to: writer, context: context, map: RouteLimits.rpcError) { progress, completion in
            try routers.train(store, request: request, budget: work.callBudget(work: "the training run"), progress: progress, completion: completion)
        }
        try await writer.send(RuvectorV1.TrainRouterProgress(accuracy: status.accuracy, done: true, modelVersion: status.modelVersion,
                                                             coverage: status.calibratedCoverage))
    }

    /// Streams the router's archive (`RouteArchive`) in chunks, the last with the size and CRC-32C.
    func export(_ request: RuvectorV1.ExportRouterRequest, to writer: TypedWriter<RuvectorV1.FileChunk>, context: ServerContext) async throws {
        let store = try store(request.router)
        let bytes = try await work.run(.background, context, work: "ExportRouter", map: RouteLimits.rpcError) { bounds in
            let bytes = RouteArchive(store).serialised()
            try bounds.memory.charge(bytes.count)
            return bytes
        }
        try await BackgroundRunStream.sendFile(bytes, chunkBytes: RouteLimits.exportChunkBytes, to: writer)
    }

    /// The first message names the new router; chunks follow in order, the last with the trailer.
    /// The upload is bounded and charged to a call budget, checked against its trailer, then read in
    /// full (`RouteArchive`) before the router is created.
    func importRouter(_ requests: TypedRequests<RuvectorV1.ImportRouterRequest>, context: ServerContext) async throws -> RuvectorV1.RouterInfo {
        var name: String?
        var upload = LearnUpload()
        let budget = work.callBudget(work: "the router upload", limitBytes: RouteLimits.maxArchiveBytes + (1 << 20))
        defer { budget.close() }
        for try await request in requests {
            if name == nil {
                try requireSingleNode()
                try VectorMapping.checkCollectionName(request.router)
                name = request.router
            } else if !request.router.isEmpty, request.router != name {
                throw RPCError(.invalidArgument, "only the first message names the router")
            }
            if let chunk = request.chunk {
                try upload.add(chunk, maxBytes: RouteLimits.maxArchiveBytes)
                try VectorService.mapped { try budget.charge(chunk.data.count) }
            }
        }
        guard let name else { throw RPCError(.invalidArgument, "the upload was empty: the first message names the router") }
        let bytes = try upload.finished()
        return try await work.run(.write, context, work: "ImportRouter", map: RouteLimits.rpcError) { _ in
            let archive = try RouteArchive(serialised: bytes, name: name)
            return try routers.create(archive.definition, prepare: { try archive.write(into: $0) }).info
        }
    }
}
