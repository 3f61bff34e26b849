import RPC
import Wire

extension RuVectorClient {
    /// Most searches the server answers in one `SearchBatch` call; `searchBatch` splits larger inputs.
    public static let maxSearchesPerBatch = 1_000

    /// The `k` nearest neighbours of `vector`, best first.
    ///
    /// On a cluster every shard is searched and the answers merged; when a shard has no copy
    /// that can answer, the search throws (`.unavailable`). `searchResult(_:in:allowPartial:)`
    /// can answer from the other shards instead, and says which ones are missing.
    ///
    /// - Parameters:
    ///   - ef: candidate list size (recall vs speed); nil uses the collection's default.
    ///   - exact: an exact brute-force search over every point (the ground truth; slower).
    ///   - filter: only points matching it.
    ///   - scoreThreshold: only hits with at least this score.
    ///   - offset: skip this many best hits (paging).
    ///   - payloadKeys: with `withPayload`, only these payload keys (all when empty).
    ///   - quantization: for a quantized collection, how its codes are used (nil: the server's default).
    ///   - readFrom: on a cluster, which copy of each shard answers (nil: the primary).
    public func search(_ vector: [Float], in collection: String, k: Int = 10, ef: Int? = nil, exact: Bool = false,
                       filter: Filter? = nil, withPayload: Bool = false, withVectors: Bool = false,
                       scoreThreshold: Float? = nil, offset: Int = 0, payloadKeys: [String] = [],
                       quantization: QuantizedSearch? = nil, readFrom: ReadFrom? = nil) async throws(RuVectorClientError) -> [Hit] {
        let query = SearchQuery(vector: vector, k: k, ef: ef, exact: exact, filter: filter, withPayload: withPayload,
                                withVectors: withVectors, scoreThreshold: scoreThreshold, offset: offset, payloadKeys: payloadKeys,
                                quantization: quantization, readFrom: readFrom)
        return try await searchResult(query, in: collection).hits
    }

    /// One search with everything the server says about it: the hits, and on a cluster the
    /// shards that did not answer. With `allowPartial`, a shard that has no copy able to
    /// answer (its nodes down or unreachable) is left out and named in `missingShards`
    /// instead of failing the search; the hits are then the best of the other shards.
    ///
    /// ```swift
    /// let result = try await db.searchResult(SearchQuery(vector: query, k: 10, readFrom: .any), in: "docs", allowPartial: true)
    /// if !result.isComplete { print("shards \(result.missingShards) did not answer") }
    /// ```
    public func searchResult(_ query: SearchQuery, in collection: String,
                             allowPartial: Bool = false) async throws(RuVectorClientError) -> SearchResult {
        var request = try WireConversions.wire(query, collection: collection)
        request.allowPartial = allowPartial
        let response = try await unary("Search", request, as: RuvectorV1.SearchResponse.self)
        var result = SearchResult(hits: try WireConversions.hits(response), missingShards: response.missingShards.map(Int.init),
                                  timeMicros: response.timeMicros)
        result.modelVersion = response.modelVersion
        return result
    }

    /// Several searches, answered in order (one `SearchBatch` call per `maxSearchesPerBatch` queries).
    public func searchBatch(_ queries: [SearchQuery], in collection: String) async throws(RuVectorClientError) -> [[Hit]] {
        var answers: [[Hit]] = []
        answers.reserveCapacity(queries.count)
        var start = 0
        while start < queries.count {
            let end = min(start + Self.maxSearchesPerBatch, queries.count)
            var request = RuvectorV1.SearchBatchRequest()
            for query in queries[start..<end] { request.searches.append(try WireConversions.wire(query, collection: collection)) }
            let response = try await unary("SearchBatch", request, as: RuvectorV1.SearchBatchResponse.self)
            guard response.results.count == end - start else {
                throw RuVectorClientError(.badResponse, "asked \(end - start) searches, the server answered \(response.results.count)")
            }
            for result in response.results { answers.append(try WireConversions.hits(result)) }
            start = end
        }
        return answers
    }

    /// Many searches over one bidirectional `SearchStream` call: queries are sent as
    /// `queries` produces them, and each answer arrives as soon as the server has it
    /// (possibly out of order; `StreamedSearchResult.index` says which query it answers).
    /// A query that fails alone carries its error; the stream goes on. The returned
    /// sequence ends after the last answer, or throws when the call itself fails
    /// (`RuVectorClientError`) or when `queries` throws (that error, unchanged).
    /// Ending the iteration early cancels the call. Answers a slow consumer has not taken
    /// yet are buffered in memory (bounded by the number of queries sent).
    public func searchStream<Queries: AsyncSequence & Sendable>(_ queries: Queries, in collection: String)
    -> AsyncThrowingStream<StreamedSearchResult, any Error> where Queries.Element == SearchQuery {
        let (stream, continuation) = AsyncThrowingStream<StreamedSearchResult, any Error>.makeStream()
        let task = Task {
            do {
                let call = try await makeCall("SearchStream")
                let sender = Task { () throws -> UInt64 in
                    var sent: UInt64 = 0
                    var iterator = queries.makeAsyncIterator()
                    while true {
                        let request: RuvectorV1.SearchRequest
                        do {
                            guard let query = try await iterator.next() else { break }
                            request = try WireConversions.wire(query, collection: collection, tag: sent)
                        } catch {
                            call.cancel()
                            throw StreamInputError(underlying: error)
                        }
                        do {
                            try await call.send(request.encoded())
                        } catch {
                            return sent  // the server ended the call; the response side reports its status
                        }
                        sent += 1
                    }
                    call.closeSend()
                    return sent
                }
                do {
                    var answered = 0
                    try await withTaskCancellationHandler {
                        for try await bytes in call.responses {
                            continuation.yield(try Self.streamedResult(try RuvectorV1.SearchResponse(decoding: bytes)))
                            answered += 1
                        }
                    } onCancel: {
                        call.cancel()
                    }
                    let sent = try await sender.value
                    guard answered == Int(sent) else {
                        throw RuVectorClientError(.badResponse, "sent \(sent) queries, the server answered \(answered)")
                    }
                    continuation.finish()
                } catch {
                    sender.cancel()
                    call.cancel()
                    // When the input failed, that (not the CANCELLED it caused) is the reason.
                    if case .failure(let failure as StreamInputError) = await sender.result { throw failure }
                    throw error
                }
            } catch let failure as StreamInputError {
                continuation.finish(throwing: failure.underlying)
            } catch {
                continuation.finish(throwing: RuVectorClientError.from(error))
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// One `SearchStream` answer as the caller sees it.
    private static func streamedResult(_ response: RuvectorV1.SearchResponse) throws(RuVectorClientError) -> StreamedSearchResult {
        guard let index = Int(exactly: response.tag) else {
            throw RuVectorClientError(.badResponse, "answer tag \(response.tag) names no query")
        }
        let result: Result<[Hit], RuVectorClientError>
        if let error = response.error, error.code != 0 {
            result = .failure(RuVectorClientError(.init(name: StatusCode(rawValue: Int(error.code)).description), error.message,
                                                  grpcStatus: Int(error.code)))
        } else {
            result = .success(try WireConversions.hits(response))
        }
        return StreamedSearchResult(index: index, result: result, timeMicros: response.timeMicros)
    }

    /// Runs `queries` over one `SearchStream` call and returns their hits in query order.
    /// Throws the first failed query's error (after the call has finished).
    public func searchStream(_ queries: [SearchQuery], in collection: String) async throws(RuVectorClientError) -> [[Hit]] {
        var answers = [[Hit]?](repeating: nil, count: queries.count)
        do {
            for try await answer in searchStream(ArrayAsyncSequence(elements: queries), in: collection) {
                guard answers.indices.contains(answer.index), answers[answer.index] == nil else {
                    throw RuVectorClientError(.badResponse, "the server answered query \(answer.index) twice or out of range")
                }
                answers[answer.index] = try answer.get()
            }
        } catch {
            throw RuVectorClientError.from(error)
        }
        return try answers.map { hits throws(RuVectorClientError) in
            guard let hits else { throw RuVectorClientError(.badResponse, "a query got no answer") }
            return hits
        }
    }
}

/// An array as a `Sendable` async sequence (the array forms of `searchStream` and `importStream`).
struct ArrayAsyncSequence<Element: Sendable>: AsyncSequence, Sendable {
    let elements: [Element]

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: IndexingIterator<[Element]>
        mutating func next() async -> Element? { base.next() }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: elements.makeIterator()) }
}

/// Marks a failure of the caller's input sequence inside a streaming call, so that it is
/// reported instead of the CANCELLED status it causes.
struct StreamInputError: Error {
    let underlying: any Error
}
