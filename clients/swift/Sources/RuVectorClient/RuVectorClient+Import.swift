import Wire

extension RuVectorClient {
    /// Bulk import over one client-streaming `UpsertStream` call: each element of `batches`
    /// is sent as one message (batches larger than `maxPointsPerCall` are split), while
    /// HTTP/2 flow control paces the sender to the server. The server writes each message
    /// durably as it arrives; on failure the error says how many points were written.
    ///
    /// On a cluster each message waits for the replicas `consistency` asks for, as an
    /// `upsert` does (nil: the collection's default); the result does not count them
    /// (`replicasAcknowledged` is 0).
    ///
    /// - Parameter progress: called after each message is handed to the connection, with
    ///   the number of points sent so far.
    @discardableResult
    public func importStream<Batches: AsyncSequence>(_ batches: Batches, into collection: String, wait: WriteWait = .collectionDefault,
                                                     consistency: ReplicationMode? = nil, minReplicas: Int? = nil,
                                                     progress: (@Sendable (Int) -> Void)? = nil)
    async throws(RuVectorClientError) -> UpdateResult where Batches.Element == [Point] {
        let replication = try WireConversions.replication(consistency, minReplicas)
        let call = try await makeCall("UpsertStream")
        var sent = 0
        do {
            batches: for try await batch in batches {
                var start = 0
                while start < batch.count {
                    let end = min(start + Self.maxPointsPerCall, batch.count)
                    let request = RuvectorV1.UpsertRequest(collection: collection, points: batch[start..<end].map(WireConversions.wire),
                                                           wait: WireConversions.wire(wait), consistency: replication.mode,
                                                           minReplicas: replication.minReplicas)
                    do {
                        try await call.send(request.encoded())
                    } catch {
                        // The server ended the call; its status, read below, says why.
                        break batches
                    }
                    sent += end - start
                    progress?(sent)
                    start = end
                }
            }
        } catch {
            // The input failed: cancel, so a partial import never looks finished.
            call.cancel()
            throw error as? RuVectorClientError
                ?? RuVectorClientError(.invalidInput, "reading the points to import failed after \(sent) points: \(error)", cause: error)
        }
        return WireConversions.result(try await finish(call, "UpsertStream", as: RuvectorV1.UpdateResult.self))
    }

    /// Imports `points` over one `UpsertStream` call, `batchSize` points per message.
    @discardableResult
    public func importStream(_ points: [Point], into collection: String, batchSize: Int = 1_000, wait: WriteWait = .collectionDefault,
                             consistency: ReplicationMode? = nil, minReplicas: Int? = nil,
                             progress: (@Sendable (Int) -> Void)? = nil) async throws(RuVectorClientError) -> UpdateResult {
        guard (1...Self.maxPointsPerCall).contains(batchSize) else {
            throw RuVectorClientError(.invalidInput, "batchSize must be 1...\(Self.maxPointsPerCall), got \(batchSize)")
        }
        let batches = stride(from: 0, to: points.count, by: batchSize).map { Array(points[$0..<min($0 + batchSize, points.count)]) }
        return try await importStream(ArrayAsyncSequence(elements: batches), into: collection, wait: wait,
                                      consistency: consistency, minReplicas: minReplicas, progress: progress)
    }
}
