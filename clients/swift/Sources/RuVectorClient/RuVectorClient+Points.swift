import Wire

extension RuVectorClient {
    /// Most points (or ids) the server takes in one call; `upsert` and `delete(ids:)` split larger inputs.
    public static let maxPointsPerCall = 10_000

    /// Inserts or replaces points. More than `maxPointsPerCall` points go as several calls,
    /// in order; the result then adds up their affected counts and carries the highest sequence.
    /// For large imports `importStream` is faster (one streaming call).
    ///
    /// On a cluster the points go to their shards' primaries, from whichever node this client
    /// called. `consistency` says how many replicas must have the write before it is
    /// acknowledged (nil: the collection's `writeConsistency`), `minReplicas` how many a
    /// semi-sync write waits for (nil: the collection's). A write that does not get its
    /// replicas within the call's timeout throws `.deadlineExceeded` (it is on the primary:
    /// retry it, upserts are idempotent). A single server ignores both.
    @discardableResult
    public func upsert(_ points: [Point], into collection: String, wait: WriteWait = .collectionDefault,
                       consistency: ReplicationMode? = nil, minReplicas: Int? = nil) async throws(RuVectorClientError) -> UpdateResult {
        let replication = try WireConversions.replication(consistency, minReplicas)
        var total: UpdateResult?
        var start = 0
        repeat {
            let end = min(start + Self.maxPointsPerCall, points.count)
            let request = RuvectorV1.UpsertRequest(collection: collection, points: points[start..<end].map(WireConversions.wire),
                                                   wait: WireConversions.wire(wait), consistency: replication.mode,
                                                   minReplicas: replication.minReplicas)
            total = Self.combined(total, try await unary("Upsert", request, as: RuvectorV1.UpdateResult.self))
            start = end
        } while start < points.count
        return total ?? UpdateResult(sequence: 0, pointsAffected: 0, applied: true)
    }

    /// The result of a write sent as several calls: counts added, the highest sequence, the
    /// fewest replicas acknowledged.
    private static func combined(_ total: UpdateResult?, _ next: RuvectorV1.UpdateResult) -> UpdateResult {
        let result = WireConversions.result(next)
        guard let total else { return result }
        return UpdateResult(sequence: max(total.sequence, result.sequence), pointsAffected: total.pointsAffected + result.pointsAffected,
                            applied: total.applied && result.applied,
                            replicasAcknowledged: min(total.replicasAcknowledged, result.replicasAcknowledged))
    }

    /// Reads points by id, in the order asked; missing ids are simply absent. With
    /// `payloadKeys`, payloads carry only those keys. `readFrom` chooses which copy of each
    /// shard answers on a cluster (nil: the primary).
    public func get(_ ids: [PointID], from collection: String, withPayload: Bool = true, withVectors: Bool = false,
                    payloadKeys: [String] = [], readFrom: ReadFrom? = nil) async throws(RuVectorClientError) -> [StoredPoint] {
        var found: [StoredPoint] = []
        var start = 0
        repeat {
            let end = min(start + Self.maxPointsPerCall, ids.count)
            let request = RuvectorV1.GetRequest(collection: collection, ids: ids[start..<end].map(WireConversions.wire),
                                                with: WireConversions.with(payload: withPayload, vectors: withVectors, keys: payloadKeys),
                                                readFrom: WireConversions.wire(readFrom))
            for point in try await unary("Get", request, as: RuvectorV1.GetResponse.self).points {
                found.append(try WireConversions.stored(point))
            }
            start = end
        } while start < ids.count
        return found
    }

    /// Deletes points by id; returns how many existed and were deleted. `consistency` and
    /// `minReplicas` as in `upsert`.
    @discardableResult
    public func delete(ids: [PointID], from collection: String, wait: WriteWait = .collectionDefault,
                       consistency: ReplicationMode? = nil, minReplicas: Int? = nil) async throws(RuVectorClientError) -> UpdateResult {
        let replication = try WireConversions.replication(consistency, minReplicas)
        var total: UpdateResult?
        var start = 0
        repeat {
            let end = min(start + Self.maxPointsPerCall, ids.count)
            let request = RuvectorV1.DeleteRequest(collection: collection, wait: WireConversions.wire(wait), consistency: replication.mode,
                                                   minReplicas: replication.minReplicas,
                                                   selector: .ids(RuvectorV1.PointIdList(ids: ids[start..<end].map(WireConversions.wire))))
            total = Self.combined(total, try await unary("Delete", request, as: RuvectorV1.UpdateResult.self))
            start = end
        } while start < ids.count
        return total ?? UpdateResult(sequence: 0, pointsAffected: 0, applied: true)
    }

    /// Deletes every point matching `filter` (which must not be empty: delete the collection
    /// to remove everything). `consistency` and `minReplicas` as in `upsert`.
    @discardableResult
    public func delete(filter: Filter, from collection: String, wait: WriteWait = .collectionDefault,
                       consistency: ReplicationMode? = nil, minReplicas: Int? = nil) async throws(RuVectorClientError) -> UpdateResult {
        guard !filter.isEmpty else {
            throw RuVectorClientError(.invalidInput, "an empty filter would delete everything; use deleteCollection instead")
        }
        let replication = try WireConversions.replication(consistency, minReplicas)
        let request = RuvectorV1.DeleteRequest(collection: collection, wait: WireConversions.wire(wait), consistency: replication.mode,
                                               minReplicas: replication.minReplicas, selector: .filter(WireConversions.wire(filter)))
        return WireConversions.result(try await unary("Delete", request, as: RuvectorV1.UpdateResult.self))
    }

    /// Counts the points of a collection, or those matching `filter`. Exact. `readFrom` as in `get`.
    public func count(in collection: String, filter: Filter? = nil, readFrom: ReadFrom? = nil) async throws(RuVectorClientError) -> UInt64 {
        let request = RuvectorV1.CountRequest(collection: collection, filter: filter.map(WireConversions.wire),
                                              readFrom: WireConversions.wire(readFrom))
        return try await unary("Count", request, as: RuvectorV1.CountResponse.self).count
    }

    /// One page of points: in storage order (the order they were first written, not sorted by
    /// id) on a single server, shard after shard on a cluster. Pass the returned `next` as `after` for the next page; it is nil
    /// on the last page. The cursor is opaque: use only what the server returned, with the
    /// same collection and filter. `readFrom` as in `get`.
    public func scrollPage(in collection: String, after cursor: PointID? = nil, limit: Int = 100, filter: Filter? = nil,
                           withPayload: Bool = true, withVectors: Bool = false, payloadKeys: [String] = [], readFrom: ReadFrom? = nil)
    async throws(RuVectorClientError) -> (points: [StoredPoint], next: PointID?) {
        guard (1...Self.maxPointsPerCall).contains(limit) else {
            throw RuVectorClientError(.invalidInput, "limit must be 1...\(Self.maxPointsPerCall), got \(limit)")
        }
        let request = RuvectorV1.ScrollRequest(collection: collection, filter: filter.map(WireConversions.wire),
                                               offset: cursor.map(WireConversions.wire), limit: UInt32(limit),
                                               with: WireConversions.with(payload: withPayload, vectors: withVectors, keys: payloadKeys),
                                               readFrom: WireConversions.wire(readFrom))
        let page = try await unary("Scroll", request, as: RuvectorV1.ScrollResponse.self)
        var points: [StoredPoint] = []
        points.reserveCapacity(page.points.count)
        for point in page.points { points.append(try WireConversions.stored(point)) }
        let next = try page.nextOffset.map { cursor throws(RuVectorClientError) in try WireConversions.id(cursor) }
        return (points, next)
    }

    /// Every point (or every one matching `filter`), fetched a page at a time as the sequence
    /// is iterated: in storage order (first written first, not sorted by id) on a single server,
    /// shard after shard on a cluster
    /// (`readFrom` as in `get`).
    ///
    /// ```swift
    /// for try await point in db.scroll("docs", pageSize: 500) { print(point.id) }
    /// ```
    public func scroll(_ collection: String, filter: Filter? = nil, pageSize: Int = 100, withPayload: Bool = true,
                       withVectors: Bool = false, payloadKeys: [String] = [], readFrom: ReadFrom? = nil) -> ScrollSequence {
        ScrollSequence(client: self, collection: collection, filter: filter, pageSize: pageSize,
                       withPayload: withPayload, withVectors: withVectors, payloadKeys: payloadKeys, readFrom: readFrom)
    }
}

/// The points of a collection, page by page, following the server's cursor (see
/// `RuVectorClient.scroll`). Iterating throws `RuVectorClientError`.
public struct ScrollSequence: AsyncSequence, Sendable {
    /// Each element is one stored point.
    public typealias Element = StoredPoint

    let client: RuVectorClient
    let collection: String
    let filter: Filter?
    let pageSize: Int
    let withPayload: Bool
    let withVectors: Bool
    let payloadKeys: [String]
    let readFrom: ReadFrom?

    /// Fetches pages as elements are consumed.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let sequence: ScrollSequence
        var buffer: [StoredPoint] = []
        var bufferIndex = 0
        var cursor: PointID?
        var finished = false
        /// Guards against a server that returns the same cursor forever.
        var seenCursors: Set<PointID> = []

        /// The next point, fetching the next page when the current one is used up.
        public mutating func next() async throws -> StoredPoint? {
            while bufferIndex == buffer.count {
                if finished { return nil }
                let page = try await sequence.client.scrollPage(
                    in: sequence.collection, after: cursor, limit: sequence.pageSize, filter: sequence.filter,
                    withPayload: sequence.withPayload, withVectors: sequence.withVectors, payloadKeys: sequence.payloadKeys,
                    readFrom: sequence.readFrom)
                buffer = page.points
                bufferIndex = 0
                cursor = page.next
                if let next = page.next {
                    guard seenCursors.insert(next).inserted else {
                        throw RuVectorClientError(.badResponse, "the server returned the scroll cursor \(next) twice")
                    }
                } else {
                    finished = true
                }
            }
            defer { bufferIndex += 1 }
            return buffer[bufferIndex]
        }
    }

    /// Starts from the first page.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(sequence: self) }
}
