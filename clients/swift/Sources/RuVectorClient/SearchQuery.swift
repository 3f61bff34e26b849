/// One nearest-neighbour query, for `searchBatch` and `searchStream` (`search` takes the
/// same parameters directly).
public struct SearchQuery: Sendable, Hashable {
    /// The query vector (length = the collection's dimension).
    public var vector: [Float]
    /// How many neighbours, 1...10000.
    public var k: Int
    /// Candidate list size (recall vs speed); nil uses the collection's `efSearch`.
    public var ef: Int?
    /// True asks for an exact brute-force search over every point (the ground truth; slower).
    public var exact: Bool
    /// Only points matching this filter.
    public var filter: Filter?
    /// Include payloads in the hits.
    public var withPayload: Bool
    /// With `withPayload`, only these payload keys (all when empty).
    public var payloadKeys: [String]
    /// Include vectors in the hits.
    public var withVectors: Bool
    /// Only hits with at least this score.
    public var scoreThreshold: Float?
    /// Skip this many best hits (paging).
    public var offset: Int
    /// How a quantized collection's codes are used; nil: the server's default (walk the codes,
    /// rescore candidates on the full vectors). Collections without quantization ignore it.
    public var quantization: QuantizedSearch?
    /// On a cluster, which copy of each shard answers (nil: the primary).
    public var readFrom: ReadFrom?
    /// Re-rank this many HNSW candidates with the collection's learned model (0 = 100, at most
    /// 1000); nil: plain HNSW order. `SearchResult.modelVersion` says which model ranked.
    public var learnedRerankDepth: Int?

    /// Makes a query.
    public init(vector: [Float], k: Int = 10, ef: Int? = nil, exact: Bool = false, filter: Filter? = nil,
                withPayload: Bool = false, withVectors: Bool = false, scoreThreshold: Float? = nil, offset: Int = 0,
                payloadKeys: [String] = [], quantization: QuantizedSearch? = nil, readFrom: ReadFrom? = nil) {
        self.vector = vector
        self.k = k
        self.ef = ef
        self.exact = exact
        self.filter = filter
        self.withPayload = withPayload
        self.payloadKeys = payloadKeys
        self.withVectors = withVectors
        self.scoreThreshold = scoreThreshold
        self.offset = offset
        self.quantization = quantization
        self.readFrom = readFrom
    }
}

/// The answer to one search (`searchResult(_:in:allowPartial:)`): its hits and, on a cluster,
/// the shards left out of it.
public struct SearchResult: Sendable, Hashable {
    /// The hits, best first.
    public var hits: [Hit]
    /// Shards (numbers from 0) that did not answer a search made with `allowPartial`; empty
    /// when every shard answered (always on a single server).
    public var missingShards: [Int]
    /// Server time spent on the search, in microseconds (0 when not reported).
    public var timeMicros: UInt64
    /// The learned model version that ranked the hits; 0: the plain HNSW order.
    public var modelVersion: UInt64 = 0

    /// True when every shard answered.
    public var isComplete: Bool { missingShards.isEmpty }

    /// Makes a result.
    public init(hits: [Hit], missingShards: [Int] = [], timeMicros: UInt64 = 0) {
        self.hits = hits
        self.missingShards = missingShards
        self.timeMicros = timeMicros
    }
}

/// How a search of a quantized collection uses the compressed codes.
///
/// ```swift
/// let hits = try await db.search(query, in: "docs", k: 10, quantization: .rescore(oversampling: 8))
/// ```
public enum QuantizedSearch: Sendable, Hashable {
    /// Walk the graph on the codes, then rescore `oversampling` x k candidates on the full
    /// vectors (1...100; nil: the server's default). Higher finds more of the true neighbours.
    case rescore(oversampling: Float? = nil)
    /// Walk the graph on the full-precision vectors only (slower, no quantization error).
    case fullPrecision
}

/// One answer of `searchStream`: the hits of the query at `index` in the input order, or
/// the error that query alone met (the others go on).
public struct StreamedSearchResult: Sendable {
    /// Position of the query in the sequence that was sent (0-based).
    public var index: Int
    /// The hits, best first, or why this query failed.
    public var result: Result<[Hit], RuVectorClientError>
    /// Server time spent on this query, in microseconds (0 when not reported).
    public var timeMicros: UInt64

    /// The hits; throws the query's error.
    public func get() throws(RuVectorClientError) -> [Hit] { try result.get() }
}
