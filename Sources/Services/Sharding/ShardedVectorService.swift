import ClusterEngine
import ClusterNode
import Access
import RPC
import Storage
import Synchronization
import VectorDatabase
import VectorEngine
import Wire
import WorkControl

/// VectorService's point methods on a cluster node. A sharded collection's call is routed:
/// writes go to each touched shard's primary (here, or forwarded), reads to one copy of each
/// shard (the primary unless the request says `READ_FROM_ANY`), searches fan out to every
/// shard and the top k are merged (scores are on one scale: every shard scores with the
/// collection's metric; ties by id). A call a peer sends to one shard (`ruvector-shard`
/// header) is served from this node's copy. Collections made before sharding are local.
extension VectorService {
    /// Where a point call goes.
    enum PointTarget {
        /// A collection held whole by this node (single server, or made before sharding).
        case local(DurableCollection)
        /// One shard's copy here, named by a peer's shard-level call.
        case shard(ShardStore.ShardID, epoch: UInt64?, primary: Bool)
        /// A sharded collection, routed from here.
        case sharded(ClusterMetadata.Collection)
    }

    func target(_ name: String, _ context: ServerContext, _ sharding: ShardedCollections) async throws -> PointTarget {
        if let header = context.requestMetadata[ShardedCollections.shardHeader] {
            guard let number = UInt32(header) else { throw RPCError(.invalidArgument, "\(ShardedCollections.shardHeader) must be a shard number") }
            try VectorMapping.checkCollectionName(name)
            let epoch = context.requestMetadata[ShardedCollections.epochHeader].flatMap { UInt64($0) }
            return .shard(ShardStore.ShardID(name, number), epoch: epoch,
                          primary: context.requestMetadata[ShardedCollections.readHeader] != "any")
        }
        if let found = try await clusterCollection(name, context, sharding) { return found }
        throw RPCError(.notFound, "collection \(MessageText.quoted(name)) does not exist; create it with CreateCollection")
    }

    /// The collection `name` on a cluster node, `.sharded` or (made before sharding) `.local`; nil
    /// when the cluster has none. This node's metadata may lag (a collection just created
    /// through another node, a node restarted behind): before it says "none", it reads the
    /// metadata linearizably, and when it cannot (no leader) it answers UNAVAILABLE rather than
    /// a NOT_FOUND that may be false.
    func clusterCollection(_ name: String, _ context: ServerContext, _ sharding: ShardedCollections) async throws -> PointTarget? {
        func lookup() -> PointTarget? {
            if let collection = sharding.sharded(name) { return .sharded(collection) }
            return catalog.get(name).map { .local($0) }
        }
        if let found = lookup() { return found }
        try VectorMapping.checkCollectionName(name)
        do {
            _ = try await sharding.node().linearizableRead(timeout: ClusterMapping.timeout(context, cap: .seconds(2)))
        } catch {
            throw RPCError(.unavailable, "node cannot confirm whether collection \(MessageText.quoted(name)) exists "
                + "(it cannot reach the cluster's leader): \((error as? ClusterError)?.message ?? "\(error)"); retry")
        }
        return lookup()
    }

    /// This node's copy for a shard-level read: the primary's (holding its lease, once its
    /// replicas have what it shows) or any copy.
    func readableCopy(_ id: ShardStore.ShardID, epoch: UInt64?, primary: Bool, _ sharding: ShardedCollections,
                      _ context: ServerContext) async throws -> DurableCollection {
        if primary {
            let (shard, local) = try await sharding.primary(id, epoch: epoch, within: ClusterMapping.timeout(context, cap: .seconds(1)))
            try await sharding.awaitReplicated(id, shard: shard, local: local, timeout: ClusterMapping.timeout(context, cap: .seconds(5)))
            // Records it logged as a replica (acknowledged before they were indexed) may still be
            // queued: a primary read shows every acknowledged write.
            if local.durable.queuedWrites > 0 { try await local.durable.waitUntilQueuedWritesApplied() }
            return local.durable
        }
        guard let local = try await sharding.localCopy(id, within: ClusterMapping.timeout(context, cap: .seconds(1))) else {
            throw RPCError(.unavailable, "this node holds no copy of shard \(id)")
        }
        return local.durable
    }

    // MARK: Registration

    /// How many sharded collections ListCollections counts at a time.
    static let collectionsCountedAtOnce = 8

    func registerClusterPoints(into router: inout RPCRouter, _ sharding: ShardedCollections) {
        let service = self
        router.unary(Self.name, "GetCollection", RuvectorV1.GetCollectionRequest.self) { request, context, _ in
            switch try await service.clusterCollection(request.name, context, sharding) {
            case .sharded(let collection)?: return try await service.shardedInfo(collection, context, sharding)
            case .local(let durable)?: return try Self.mapped { try VectorMapping.info(durable) }
            case .shard?, nil:
                throw RPCError(.notFound, "collection \(MessageText.quoted(request.name)) does not exist; create it with CreateCollection")
            }
        }
        router.unary(Self.name, "ListCollections", RuvectorV1.ListCollectionsRequest.self) { _, context, _ in
            // A caller with access to some collections sees those only.
            var infos = try Self.mapped {
                try service.catalog.list().filter { context.allows(.read, collection: $0.collection.config.name) }
                    .map { try VectorMapping.info($0) }
            }
            let sharded = try sharding.node().metadata.metadata.collections.values
                .filter { $0.isSharded && context.allows(.read, collection: $0.name) }
            // Several collections' counts at a time (each a fan-out to its shards), not one after
            // another, nor all at once: each takes a place in the caller's connection's queue of
            // search work, which holds `WorkPool.ownerQueueLimit` calls.
            infos += try await withThrowingTaskGroup(of: RuvectorV1.CollectionInfo.self) { group in
                var waiting = sharded.makeIterator()
                var answers: [RuvectorV1.CollectionInfo] = []
                for _ in 0..<Self.collectionsCountedAtOnce {
                    guard let collection = waiting.next() else { break }
                    group.addTask { try await service.shardedInfo(collection, context, sharding) }
                }
                while let info = try await group.next() {
                    answers.append(info)
                    if let collection = waiting.next() {
                        group.addTask { try await service.shardedInfo(collection, context, sharding) }
                    }
                }
                return answers
            }
            return RuvectorV1.ListCollectionsResponse(collections: infos.sorted { $0.name < $1.name })
        }
        router.unary(Self.name, "Upsert", RuvectorV1.UpsertRequest.self) { request, context, _ in
            switch try await service.target(request.collection, context, sharding) {
            case .local(let durable): return try await service.localUpsert(request, durable, context)
            case .shard(let id, let epoch, _): return try await service.primaryUpsert(request, id, epoch: epoch, context, sharding)
            case .sharded(let collection): return try await service.shardedUpsert(request, collection, context, sharding)
            }
        }
        router.clientStreaming(Self.name, "UpsertStream", RuvectorV1.UpsertRequest.self, RuvectorV1.UpdateResult.self) { requests, context, _ in
            try await service.clusterUpsertStream(requests, context, sharding)
        }
        router.unary(Self.name, "Delete", RuvectorV1.DeleteRequest.self) { request, context, _ in
            switch try await service.target(request.collection, context, sharding) {
            case .local(let durable): return try await service.delete(request, in: durable, context: context)
            case .shard(let id, let epoch, _): return try await service.primaryDelete(request, id, epoch: epoch, context, sharding)
            case .sharded(let collection): return try await service.shardedDelete(request, collection, context, sharding)
            }
        }
        router.unary(Self.name, "Get", RuvectorV1.GetRequest.self) { request, context, _ in
            switch try await service.target(request.collection, context, sharding) {
            case .local(let durable):
                return try await service.run(.search, context, "the get") { bounds in try service.get(request, in: durable, bounds: bounds) }
            case .shard(let id, let epoch, let primary):
                let durable = try await service.readableCopy(id, epoch: epoch, primary: primary, sharding, context)
                return try await service.run(.search, context, "the get") { bounds in try service.get(request, in: durable, bounds: bounds) }
            case .sharded(let collection): return try await service.shardedGet(request, collection, context, sharding)
            }
        }
        router.unary(Self.name, "Count", RuvectorV1.CountRequest.self) { request, context, _ in
            switch try await service.target(request.collection, context, sharding) {
            case .local(let durable):
                return try await service.run(.search, context, "the count") { bounds in try service.count(request, in: durable, bounds: bounds) }
            case .shard(let id, let epoch, let primary):
                let durable = try await service.readableCopy(id, epoch: epoch, primary: primary, sharding, context)
                return try await service.run(.search, context, "the count") { bounds in try service.count(request, in: durable, bounds: bounds) }
            case .sharded(let collection):
                let answers = try await service.readEveryShard(collection, readFrom: request.readFrom, allowPartial: false, context, sharding,
                                                               method: "Count", request: request, as: RuvectorV1.CountResponse.self)
                return RuvectorV1.CountResponse(count: answers.values.reduce(0) { $0 + $1.count })
            }
        }
        router.unary(Self.name, "Scroll", RuvectorV1.ScrollRequest.self) { request, context, _ in
            switch try await service.target(request.collection, context, sharding) {
            case .local(let durable): return try await service.scroll(request, in: durable, context: context)
            case .shard(let id, let epoch, let primary):
                return try await service.scroll(request, in: try await service.readableCopy(id, epoch: epoch, primary: primary, sharding, context), context: context)
            case .sharded(let collection): return try await service.shardedScroll(request, collection, context, sharding)
            }
        }
        router.unary(Self.name, "Search", RuvectorV1.SearchRequest.self) { request, context, _ in
            try await service.clusterSearch(request, context, sharding)
        }
        router.unary(Self.name, "SearchBatch", RuvectorV1.SearchBatchRequest.self) { request, context, _ in
            guard request.searches.count <= service.limits.maxSearchesPerBatch else {
                throw RPCError(.invalidArgument, "at most \(service.limits.maxSearchesPerBatch) searches per batch; use SearchStream for more")
            }
            var results: [RuvectorV1.SearchResponse] = []
            for search in request.searches { results.append(try await service.clusterSearch(search, context, sharding)) }
            return RuvectorV1.SearchBatchResponse(results: results)
        }
        router.bidirectional(Self.name, "SearchStream", RuvectorV1.SearchRequest.self, RuvectorV1.SearchResponse.self) { requests, writer, context in
            for try await request in requests {
                do {
                    try await writer.send(try await service.clusterSearch(request, context, sharding))
                } catch let error as RPCError where ![.cancelled, .deadlineExceeded, .unavailable].contains(error.code) {
                    try await writer.send(RuvectorV1.SearchResponse(
                        tag: request.tag, error: RuvectorV1.SearchError(code: Int32(error.code.rawValue), message: error.message)))
                }
            }
        }
    }

    // MARK: Writes

    private func localUpsert(_ request: RuvectorV1.UpsertRequest, _ durable: DurableCollection, _ context: ServerContext) async throws -> RuvectorV1.UpdateResult {
        let acknowledge = VectorMapping.acknowledgement(request.wait)
        return try await run(.write, context, "the upsert") { bounds in
            let points = try points(request, hint: "use UpsertStream for imports", bounds: bounds)
            let sequence = try durable.upsert(keyed: points, acknowledge: acknowledge)
            return RuvectorV1.UpdateResult(sequence: sequence, pointsAffected: UInt64(points.count), applied: acknowledge == .applied)
        }
    }

    /// The write mode and semi-sync count of a write to `collection`.
    private func mode(_ consistency: RuvectorV1.ReplicationMode, _ minReplicas: UInt32,
                      _ collection: ClusterMetadata.Collection) throws -> (mode: UInt32, minReplicas: UInt32) {
        let asked = UInt32(bitPattern: consistency.rawValue)
        guard asked <= 3 else { throw RPCError(.invalidArgument, "consistency must be a ReplicationMode, got \(asked)") }
        return (asked == 0 ? collection.writeConsistency : asked, minReplicas == 0 ? collection.minReplicas : minReplicas)
    }

    /// An upsert a peer forwarded to this node as the shard's primary.
    private func primaryUpsert(_ request: RuvectorV1.UpsertRequest, _ id: ShardStore.ShardID, epoch: UInt64?, _ context: ServerContext,
                               _ sharding: ShardedCollections) async throws -> RuvectorV1.UpdateResult {
        guard let collection = sharding.sharded(id.collection), collection.shards.indices.contains(Int(id.number)) else {
            throw RPCError(.unavailable, "this node knows no shard \(id) (it has not applied its creation yet, or it was deleted); retry")
        }
        let (mode, minReplicas) = try mode(request.consistency, request.minReplicas, collection)
        let shards = collection.shards.count
        let (count, sequence, acked) = try await sharding.primaryWrite(id, epoch: epoch, mode: mode, minReplicas: minReplicas,
                                                                        context: context) { durable in
            try await self.run(.write, context, "the upsert") { bounds in
                let points = try self.points(request, hint: "send smaller batches", bounds: bounds)
                for point in points where ShardedCollections.shard(of: point.key, shards: shards) != id.number {
                    throw RPCError(.invalidArgument, "point \(point.key) belongs to shard \(ShardedCollections.shard(of: point.key, shards: shards)), not \(id.number)")
                }
                return (points.count, try durable.upsert(keyed: points))
            }
        }
        return RuvectorV1.UpdateResult(sequence: sequence, pointsAffected: UInt64(count), applied: true, replicasAcknowledged: UInt32(acked))
    }

    /// A delete a peer forwarded to this node as the shard's primary.
    private func primaryDelete(_ request: RuvectorV1.DeleteRequest, _ id: ShardStore.ShardID, epoch: UInt64?, _ context: ServerContext,
                               _ sharding: ShardedCollections) async throws -> RuvectorV1.UpdateResult {
        guard let collection = sharding.sharded(id.collection) else {
            throw RPCError(.unavailable, "this node knows no shard \(id) (it has not applied its creation yet, or it was deleted); retry")
        }
        let (mode, minReplicas) = try mode(request.consistency, request.minReplicas, collection)
        let (result, sequence, acked) = try await sharding.primaryWrite(id, epoch: epoch, mode: mode, minReplicas: minReplicas,
                                                                         context: context) { durable in
            let result = try await self.delete(request, in: durable, context: context)
            return (result, result.sequence)
        }
        var answer = result
        answer.sequence = sequence
        answer.replicasAcknowledged = UInt32(acked)
        return answer
    }

    /// Sends a write for shard `number` to its primary (this node or a peer), retrying while
    /// the shard map moves under it (a promotion in progress).
    private func onPrimary<Request: WireMessage>(_ request: Request, method: String, collection name: String, shard number: UInt32,
                                                 _ context: ServerContext, _ sharding: ShardedCollections,
                                                 local: @escaping @Sendable (UInt64) async throws -> RuvectorV1.UpdateResult) async throws -> RuvectorV1.UpdateResult {
        var attempt = 0
        while true {
            attempt += 1
            // Looked up again on each attempt: a collection deleted (and made again) meanwhile
            // is another collection.
            guard let shard = sharding.sharded(name)?.shard(number) else {
                throw RPCError(.notFound, "collection \(MessageText.quoted(name)) no longer exists (or not with this shard)")
            }
            do {
                let node = try sharding.node()
                if shard.primary == node.id { return try await local(shard.epoch) }
                let bytes = try await callShard(shard.primary, method: method, request: request.encoded(),
                                                id: ShardStore.ShardID(name, number), epoch: shard.epoch, readFrom: nil, context, sharding)
                return try RuvectorV1.UpdateResult(decoding: bytes)
            } catch let error as RPCError where error.code == .unavailable && attempt < 8 && !(context.deadline.map { $0 <= .now } ?? false) {
                // The shard's primary is changing (or its lease lapsed): wait for the new map.
                try await Task.sleep(for: .milliseconds(50 * attempt))
            }
        }
    }

    func shardedUpsert(_ request: RuvectorV1.UpsertRequest, _ collection: ClusterMetadata.Collection, _ context: ServerContext,
                               _ sharding: ShardedCollections) async throws -> RuvectorV1.UpdateResult {
        guard request.points.count <= limits.maxPointsPerWrite else {
            throw RPCError(.invalidArgument, "at most \(limits.maxPointsPerWrite) points per message, got \(request.points.count); use UpsertStream for imports")
        }
        _ = try mode(request.consistency, request.minReplicas, collection)
        var groups: [UInt32: [RuvectorV1.PointStruct]] = [:]
        for point in request.points {
            groups[ShardedCollections.shard(of: try Self.mapped { try VectorMapping.key(point.id) }, shards: collection.shards.count), default: []].append(point)
        }
        let service = self
        let results = try await withThrowingTaskGroup(of: RuvectorV1.UpdateResult.self) { group in
            for (number, points) in groups {
                var part = request
                part.points = points
                group.addTask { [part] in
                    try await service.onPrimary(part, method: "Upsert", collection: collection.name, shard: number, context, sharding) { epoch in
                        try await service.primaryUpsert(part, ShardStore.ShardID(collection.name, number), epoch: epoch, context, sharding)
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        return Self.combined(results)
    }

    private func shardedDelete(_ request: RuvectorV1.DeleteRequest, _ collection: ClusterMetadata.Collection, _ context: ServerContext,
                               _ sharding: ShardedCollections) async throws -> RuvectorV1.UpdateResult {
        _ = try mode(request.consistency, request.minReplicas, collection)
        var parts: [(UInt32, RuvectorV1.DeleteRequest)] = []
        switch request.selector {
        case .ids(let list)?:
            guard list.ids.count <= limits.maxPointsPerWrite else {
                throw RPCError(.invalidArgument, "at most \(limits.maxPointsPerWrite) ids per Delete; delete by filter for more")
            }
            var groups: [UInt32: [RuvectorV1.PointId]] = [:]
            for id in list.ids {
                groups[ShardedCollections.shard(of: try Self.mapped { try VectorMapping.key(id) }, shards: collection.shards.count), default: []].append(id)
            }
            for (number, ids) in groups {
                var part = request
                part.selector = .ids(RuvectorV1.PointIdList(ids: ids))
                parts.append((number, part))
            }
        case .filter?:
            parts = collection.shards.indices.map { (UInt32($0), request) }
        case nil: throw RPCError(.invalidArgument, "Delete needs ids or a filter")
        }
        let service = self
        let results = try await withThrowingTaskGroup(of: RuvectorV1.UpdateResult.self) { group in
            for (number, part) in parts {
                group.addTask {
                    try await service.onPrimary(part, method: "Delete", collection: collection.name, shard: number, context, sharding) { epoch in
                        try await service.primaryDelete(part, ShardStore.ShardID(collection.name, number), epoch: epoch, context, sharding)
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        return Self.combined(results)
    }

    /// One result for a write that touched several shards: points summed, the highest
    /// sequence, the fewest replicas that confirmed.
    private static func combined(_ results: [RuvectorV1.UpdateResult]) -> RuvectorV1.UpdateResult {
        RuvectorV1.UpdateResult(sequence: results.map(\.sequence).max() ?? 0,
                                pointsAffected: results.reduce(0) { $0 + $1.pointsAffected }, applied: true,
                                replicasAcknowledged: results.map(\.replicasAcknowledged).min() ?? 0)
    }

    /// UpsertStream on a cluster node: each message is routed like an Upsert, in order.
    private func clusterUpsertStream(_ requests: TypedRequests<RuvectorV1.UpsertRequest>, _ context: ServerContext,
                                     _ sharding: ShardedCollections) async throws -> RuvectorV1.UpdateResult {
        var name: String?
        var written: UInt64 = 0
        var sequence: UInt64 = 0
        var messages = 0
        var acknowledged: UInt32?
        do {
            for try await request in requests {
                messages += 1
                if let name, !request.collection.isEmpty, request.collection != name {
                    throw RPCError(.invalidArgument, "every message of an UpsertStream writes to one collection: "
                        + "\(MessageText.quoted(name)), then \(MessageText.quoted(request.collection))")
                }
                var message = request
                message.collection = name ?? request.collection
                name = message.collection
                let result: RuvectorV1.UpdateResult
                switch try await target(message.collection, context, sharding) {
                case .local(let durable): result = try await localUpsert(message, durable, context)
                case .shard(let id, let epoch, _): result = try await primaryUpsert(message, id, epoch: epoch, context, sharding)
                case .sharded(let collection): result = try await shardedUpsert(message, collection, context, sharding)
                }
                written += result.pointsAffected
                sequence = max(sequence, result.sequence)
                acknowledged = min(acknowledged ?? .max, result.replicasAcknowledged)
            }
        } catch {
            let status = VectorMapping.rpcError(error)
            throw RPCError(status.code, "\(status.message) (message \(messages) of the stream; \(written) points of the earlier messages were written)",
                           cause: error)
        }
        return RuvectorV1.UpdateResult(sequence: sequence, pointsAffected: written, applied: true, replicasAcknowledged: acknowledged ?? 0)
    }

    // MARK: Reads

    /// A unary call to one shard's copy on `node`.
    func callShard(_ node: NodeID, method: String, request: [UInt8], id: ShardStore.ShardID, epoch: UInt64, readFrom: String?,
                   _ context: ServerContext, _ sharding: ShardedCollections) async throws -> [UInt8] {
        let channel = try await sharding.node().channel(to: node)
        var metadata = Metadata([(ShardedCollections.shardHeader, "\(id.number)"), (ShardedCollections.epochHeader, "\(epoch)")])
        if let readFrom { metadata.add(ShardedCollections.readHeader, readFrom) }
        do {
            return try await channel.unary("/\(Self.name)/\(method)", request: request, metadata: metadata,
                                           timeout: ClusterMapping.timeout(context, cap: .seconds(60))).response
        } catch let error as RPCError {
            throw error
        } catch {
            throw RPCError(.unavailable, "node \(node) (shard \(id)) cannot be reached: \(error)")
        }
    }

    /// Reads shard `number` from the copy `readFrom` names: the primary, or (ANY) this node's
    /// copy, else the primary, else the other replicas, in turn, until one answers.
    func readShard<Request: WireMessage, Response: WireMessage>(
        _ collection: ClusterMetadata.Collection, shard number: UInt32, readFrom: RuvectorV1.ReadFrom, method: String,
        request: Request, as: Response.Type, _ context: ServerContext, _ sharding: ShardedCollections,
        local: @escaping @Sendable (DurableCollection) async throws -> Response
    ) async throws -> Response {
        let node = try sharding.node()
        let id = ShardStore.ShardID(collection.name, number)
        let shard = collection.shards[Int(number)]
        let primaryOnly = readFrom != .any
        let order = primaryOnly ? [shard.primary]
            : (shard.holders.contains(node.id) ? [node.id] : []) + shard.holders.filter { $0 != node.id }
        var lastError: any Error = RPCError(.unavailable, "shard \(id) has no copy")
        for holder in order {
            do {
                if holder == node.id {
                    return try await local(try await readableCopy(id, epoch: shard.epoch, primary: primaryOnly, sharding, context))
                }
                let bytes = try await callShard(holder, method: method, request: request.encoded(), id: id, epoch: shard.epoch,
                                                readFrom: primaryOnly ? "primary" : "any", context, sharding)
                return try Response(decoding: bytes)
            } catch let error as RPCError where [.unavailable, .deadlineExceeded].contains(error.code) {
                lastError = error
            }
        }
        throw lastError
    }

    /// Reads every shard of `collection` at once: the answers by shard, and (with
    /// `allowPartial`) the shards that could not answer; otherwise a shard without an answering
    /// copy fails the call with UNAVAILABLE naming it.
    func readEveryShard<Request: WireMessage, Response: WireMessage>(
        _ collection: ClusterMetadata.Collection, readFrom: RuvectorV1.ReadFrom, allowPartial: Bool, _ context: ServerContext,
        _ sharding: ShardedCollections, method: String, request: Request, as: Response.Type,
        local: (@Sendable (DurableCollection) async throws -> Response)? = nil
    ) async throws -> [UInt32: Response] {
        let service = self
        let localRead: @Sendable (DurableCollection) async throws -> Response = local ?? { durable in
            try await service.localRead(method: method, request: request, durable, context)
        }
        // Each child files its own outcome under its shard and returns nothing. (Children that
        // returned `(UInt32, Result<Response, any Error>)` came back with the shard number
        // garbled in release builds, Swift 6.3.1: answers filed under the wrong shard or a number
        // that is none, and a fanned-out search then merged one or two shards' hits instead of
        // three. Debug builds were right.)
        let outcomes = ShardOutcomes<Response>()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for number in collection.shards.indices {
                let shard = UInt32(number)
                group.addTask {
                    let outcome: Result<Response, any Error>
                    do {
                        outcome = .success(try await service.readShard(
                            collection, shard: shard, readFrom: readFrom, method: method, request: request, as: Response.self,
                            context, sharding, local: localRead))
                    } catch {
                        outcome = .failure(error)
                    }
                    outcomes.file(outcome, shard: shard)
                }
            }
            try await group.waitForAll()
        }
        var answers: [UInt32: Response] = [:]
        for (number, outcome) in outcomes.all.sorted(by: { $0.key < $1.key }) {
            switch outcome {
            case .success(let answer): answers[number] = answer
            case .failure(let error as RPCError) where allowPartial && [.unavailable, .deadlineExceeded].contains(error.code):
                continue
            case .failure(let error as RPCError) where error.code == .unavailable:
                throw RPCError(.unavailable, "shard \(number) of \(MessageText.quoted(collection.name)) has no copy that answered: \(error.message)")
            case .failure(let error): throw error
            }
        }
        guard answers.keys.allSatisfy({ Int($0) < collection.shards.count }) else {
            throw RPCError(.internal, "a shard's answer was filed under a shard that does not exist")
        }
        return answers
    }

    /// The same read on this node's copy (Count, Get, Scroll and Search requests).
    private func localRead<Request: WireMessage, Response: WireMessage>(method: String, request: Request, _ durable: DurableCollection,
                                                                        _ context: ServerContext) async throws -> Response {
        let service = self
        let answer: any WireMessage
        switch request {
        case let count as RuvectorV1.CountRequest:
            answer = try await run(.search, context, "the count") { bounds in try service.count(count, in: durable, bounds: bounds) }
        case let get as RuvectorV1.GetRequest:
            answer = try await run(.search, context, "the get") { bounds in try service.get(get, in: durable, bounds: bounds) }
        case let scroll as RuvectorV1.ScrollRequest:
            answer = try await service.scroll(scroll, in: durable, context: context)
        case let search as RuvectorV1.SearchRequest:
            answer = try await run(.search, context, "the search") { bounds in
                var response = ResponseBudget(what: "the search response", maxBytes: service.maxResponseBytes, bounds: bounds)
                return try Self.mapped { try service.search(search, in: durable, response: &response) }
            }
        default:
            throw RPCError(.internal, "\(method) has no local read")
        }
        guard let typed = answer as? Response else { throw RPCError(.internal, "\(method) answered with another type") }
        return typed
    }

    private func shardedGet(_ request: RuvectorV1.GetRequest, _ collection: ClusterMetadata.Collection, _ context: ServerContext,
                            _ sharding: ShardedCollections) async throws -> RuvectorV1.GetResponse {
        guard request.ids.count <= limits.maxPointsPerWrite else {
            throw RPCError(.invalidArgument, "at most \(limits.maxPointsPerWrite) ids per Get")
        }
        var groups: [UInt32: [RuvectorV1.PointId]] = [:]
        for id in request.ids {
            groups[ShardedCollections.shard(of: try Self.mapped { try VectorMapping.key(id) }, shards: collection.shards.count), default: []].append(id)
        }
        let service = self
        let found = try await withThrowingTaskGroup(of: [RuvectorV1.RetrievedPoint].self) { group in
            for (number, ids) in groups {
                var part = request
                part.ids = ids
                group.addTask { [part] in
                    try await service.readShard(collection, shard: number, readFrom: request.readFrom, method: "Get", request: part,
                                                as: RuvectorV1.GetResponse.self, context, sharding) { durable in
                        try await service.localRead(method: "Get", request: part, durable, context)
                    }.points
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        // In the order asked, as on a single server.
        var byKey: [PointKey: RuvectorV1.RetrievedPoint] = [:]
        for point in found { if let key = try? VectorMapping.key(point.id) { byKey[key] = point } }
        var points: [RuvectorV1.RetrievedPoint] = []
        for id in request.ids {
            if let key = try? VectorMapping.key(id), let point = byKey.removeValue(forKey: key) { points.append(point) }
        }
        return RuvectorV1.GetResponse(points: points)
    }

    /// A Scroll over the shards in turn. The cursor names the shard in its top 16 bits and the
    /// position within it (plus one; 0 = the shard's start) below.
    private func shardedScroll(_ request: RuvectorV1.ScrollRequest, _ collection: ClusterMetadata.Collection, _ context: ServerContext,
                               _ sharding: ShardedCollections) async throws -> RuvectorV1.ScrollResponse {
        let limit = try scrollLimit(request)
        var shard: UInt64 = 0
        var position: UInt64 = 0
        if let offset = request.offset {
            guard case .num(let cursor)? = offset.kind, cursor >> 48 < UInt64(collection.shards.count) else {
                throw RPCError(.invalidArgument, "offset must be the next_offset of the previous page")
            }
            shard = cursor >> 48
            position = cursor & 0xFFFF_FFFF_FFFF
        }
        var points: [RuvectorV1.RetrievedPoint] = []
        while shard < UInt64(collection.shards.count) {
            var part = request
            part.limit = UInt32(limit - points.count)
            part.offset = position == 0 ? nil : RuvectorV1.PointId(kind: .num(position - 1))
            let service = self
            let page = try await readShard(collection, shard: UInt32(shard), readFrom: request.readFrom, method: "Scroll", request: part,
                                           as: RuvectorV1.ScrollResponse.self, context, sharding) { [part] durable in
                try await service.localRead(method: "Scroll", request: part, durable, context)
            }
            points += page.points
            if case .num(let next)? = page.nextOffset?.kind {
                guard next + 1 < 1 << 48 else { throw RPCError(.outOfRange, "shard \(shard) is too large to scroll through a cluster cursor") }
                return RuvectorV1.ScrollResponse(points: points, nextOffset: RuvectorV1.PointId(kind: .num(shard << 48 | (next + 1))))
            }
            shard += 1
            position = 0
            if points.count >= limit {
                let next = shard < UInt64(collection.shards.count) ? RuvectorV1.PointId(kind: .num(shard << 48)) : nil
                return RuvectorV1.ScrollResponse(points: points, nextOffset: next)
            }
        }
        return RuvectorV1.ScrollResponse(points: points)
    }

    /// Search on a cluster node: a local collection, one shard's copy, or every shard merged.
    func clusterSearch(_ request: RuvectorV1.SearchRequest, _ context: ServerContext, _ sharding: ShardedCollections) async throws -> RuvectorV1.SearchResponse {
        switch try await target(request.collection, context, sharding) {
        case .local(let durable):
            return try await localRead(method: "Search", request: request, durable, context)
        case .shard(let id, let epoch, let primary):
            return try await localRead(method: "Search", request: request, try await readableCopy(id, epoch: epoch, primary: primary, sharding, context), context)
        case .sharded(let collection):
            return try await shardedSearch(request, collection, context, sharding)
        }
    }

    private func shardedSearch(_ request: RuvectorV1.SearchRequest, _ collection: ClusterMetadata.Collection, _ context: ServerContext,
                               _ sharding: ShardedCollections) async throws -> RuvectorV1.SearchResponse {
        let started = ContinuousClock.now
        guard request.k >= 1, Int(request.k) + Int(request.offset) <= limits.maxK else {
            throw RPCError(.invalidArgument, "k must be at least 1 and k + offset at most \(limits.maxK), got k \(request.k) offset \(request.offset)")
        }
        guard let vector = request.vector?.values, vector.count == Int(collection.dimension) else {
            throw RPCError(.invalidArgument, "a query vector of \(collection.dimension) values is required")
        }
        // Each shard answers its best k + offset; the merged list drops the offset.
        var part = request
        part.k = request.k + request.offset
        part.offset = 0
        let answers = try await readEveryShard(collection, readFrom: request.readFrom, allowPartial: request.allowPartial, context, sharding,
                                               method: "Search", request: part, as: RuvectorV1.SearchResponse.self)
        var hits = answers.values.flatMap(\.hits)
        hits.sort { a, b in a.score != b.score ? a.score > b.score : Self.idOrder(a.id, b.id) }
        let missing = collection.shards.indices.map(UInt32.init).filter { answers[$0] == nil }
        return RuvectorV1.SearchResponse(hits: Array(hits.dropFirst(Int(request.offset)).prefix(Int(request.k))), tag: request.tag,
                                         timeMicros: UInt64(max(0, (ContinuousClock.now - started).wholeMicroseconds)),
                                         missingShards: missing)
    }

    /// Ties in score are broken by id: numbers before UUIDs, numbers ascending, UUIDs by text.
    private static func idOrder(_ a: RuvectorV1.PointId?, _ b: RuvectorV1.PointId?) -> Bool {
        switch (a?.kind, b?.kind) {
        case (.num(let x)?, .num(let y)?): return x < y
        case (.num?, _): return true
        case (_, .num?): return false
        case (.uuid(let x)?, .uuid(let y)?): return x < y
        default: return false
        }
    }

    /// The info CreateCollection answers on a cluster node, once the creation is applied here
    /// (a new collection: no points to count yet) and this node has made its copies of the
    /// shards (at most 10 s, and at most half of what is left of the call's deadline: the
    /// collection exists either way, and a create that did happen must not end in
    /// DEADLINE_EXCEEDED). The wait is the creation's backpressure: copies are made on their own
    /// queue, a few milliseconds of file creation each, and clients creating collections faster
    /// than that would otherwise leave every node further behind, its reads of the new
    /// collections failing for want of a copy.
    func clusterInfo(_ request: RuvectorV1.CreateCollectionRequest, context: ServerContext) async throws -> RuvectorV1.CollectionInfo {
        if let sharding, let collection = sharding.sharded(request.name) {
            let deadline = ContinuousClock.now + ClusterMapping.timeout(context, cap: .seconds(20)) / 2
            for number in collection.shards.indices {
                _ = try await sharding.localCopy(ShardStore.ShardID(collection.name, UInt32(number)), within: deadline - .now)
            }
            return try await shardedInfo(collection, context, sharding, counting: false)
        }
        if let durable = catalog.get(request.name) { return try VectorMapping.info(durable) }
        // Created, then deleted by a later entry before this answer: the create happened.
        return RuvectorV1.CollectionInfo(name: request.name, dimension: request.dimension, metric: request.metric)
    }

    /// A sharded collection's info: its configuration, the points of every shard (read from
    /// any copy), and the memory and disk of the copies on this node.
    private func shardedInfo(_ collection: ClusterMetadata.Collection, _ context: ServerContext,
                             _ sharding: ShardedCollections, counting: Bool = true) async throws -> RuvectorV1.CollectionInfo {
        let request = try RuvectorV1.CreateCollectionRequest(decoding: collection.request)
        var info = VectorMapping.info(try Self.mapped { try VectorMapping.config(request, limits: limits) })
        if counting {
            let counts = try await readEveryShard(collection, readFrom: .any, allowPartial: false, context, sharding, method: "Count",
                                                  request: RuvectorV1.CountRequest(collection: collection.name), as: RuvectorV1.CountResponse.self)
            info.pointsCount = counts.values.reduce(0) { $0 + $1.count }
        }
        let copies = sharding.store.list().filter { $0.collectionName == collection.name }
        info.memoryBytes = copies.reduce(0) { $0 + UInt64($1.durable.collection.index.memoryBytes) }
        info.onDiskVectorBytes = copies.reduce(0) { $0 + UInt64($1.durable.collection.index.offHeapVectorBytes) }
        info.onDiskGraphBytes = copies.reduce(0) { $0 + UInt64($1.durable.collection.index.offHeapGraphBytes) }
        info.diskBytes = copies.reduce(0) { $0 + UInt64($1.durable.diskBytes) }
        info.createdUnixMicros = copies.first?.durable.createdUnixMicros ?? 0
        info.indexStatus = copies.contains { $0.durable.queuedWrites > 0 } ? .indexing : .ready
        info.shards = UInt32(collection.shards.count)
        info.replicationFactor = collection.replicationFactor
        info.writeConsistency = RuvectorV1.ReplicationMode(rawValue: Int32(bitPattern: collection.writeConsistency))
        info.minReplicas = collection.minReplicas
        return info
    }
}

/// What each shard's read gave, filed by the child task that read it.
private final class ShardOutcomes<Response: Sendable>: Sendable {
    private let outcomes = Mutex<[UInt32: Result<Response, any Error>]>([:])

    func file(_ outcome: Result<Response, any Error>, shard: UInt32) {
        outcomes.withLock { $0[shard] = outcome }
    }

    var all: [UInt32: Result<Response, any Error>] { outcomes.withLock { $0 } }
}
