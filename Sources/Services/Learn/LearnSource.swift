import GraphEngine
import RPC
import Storage
import VectorDatabase
import VectorEngine
import Wire

/// What a model learns to rank: a vector collection, or a vector index of the graph (named
/// `graph:<index>` in LearnService requests; `:` never occurs in a collection name, so the two
/// cannot meet). Feedback validation, training and serving read points through this, by the
/// internal ids of the HNSW graph whose layer-0 links the model reads.
protocol LearnSource: Sendable {
    /// The name LearnService requests use, and the learning state's folder under `learn/`.
    var learnName: String { get }
    /// "collection \"docs\"" or "graph vector index \"papers\"", for messages.
    var described: String { get }
    /// Vector length.
    var dimension: Int { get }
    /// The HNSW index the model reads neighbourhoods from (its metric is the source's).
    var index: HNSWIndex { get }
    /// The internal id of `id`, nil when the source holds no such point. INVALID_ARGUMENT when
    /// `id` cannot name one (a malformed UUID; a UUID for a graph node).
    func internalId(_ id: RuvectorV1.PointId?) throws -> UInt64?
    /// The stored vector of internal id `id`, nil when there is none.
    func vector(_ id: UInt64) -> [Float]?
    /// The internal ids of the `k` points nearest to `query`, best first.
    func nearest(_ query: [Float], k: Int) throws -> [UInt64]
}

/// A vector collection as a learning source (its own name; ids as its points' keys).
struct CollectionLearnSource: LearnSource {
    let durable: DurableCollection

    var learnName: String { durable.collection.config.name }
    var described: String { "collection \(MessageText.quoted(learnName))" }
    var dimension: Int { durable.collection.config.dimension }
    var index: HNSWIndex { durable.collection.index }

    func internalId(_ id: RuvectorV1.PointId?) throws -> UInt64? {
        let key = try VectorService.mapped { try VectorMapping.key(id) }
        guard let internalId = try VectorService.mapped({ try durable.internalId(key) }) else { return nil }
        return durable.collection.index.contains(id: internalId) ? internalId : nil
    }

    func vector(_ id: UInt64) -> [Float]? { durable.collection.get(id: id)?.vector }

    func nearest(_ query: [Float], k: Int) throws -> [UInt64] {
        let config = durable.collection.config
        return try VectorService.mapped { try durable.collection.search(query, k: k, ef: max(config.hnsw.efSearch, k)).map(\.id) }
    }
}

/// A vector index of the graph as a learning source: ids are node ids (numeric), the points
/// are the nodes the index holds (committed state).
struct GraphIndexLearnSource: LearnSource {
    /// The prefix that makes a LearnService name a graph vector index.
    static let prefix = "graph:"

    let indexName: String
    let index: HNSWIndex

    var learnName: String { Self.prefix + indexName }
    var described: String { "graph vector index \(MessageText.quoted(indexName))" }
    var dimension: Int { index.dimension }

    func internalId(_ id: RuvectorV1.PointId?) throws -> UInt64? {
        switch id?.kind {
        case .num(let node)?: return index.contains(id: node) ? node : nil
        case .uuid?: throw RPCError(.invalidArgument, "graph nodes have numeric ids (PointId.num), not UUIDs")
        case nil: throw RPCError(.invalidArgument, "an id is missing")
        }
    }

    func vector(_ id: UInt64) -> [Float]? { index.vector(id: id) }

    func nearest(_ query: [Float], k: Int) throws -> [UInt64] {
        try VectorService.mapped { try index.search(query, k: k, ef: max(100, k)).map(\.id) }
    }

    /// The learning name of graph vector index `index`, or nil when learning cannot keep state
    /// for it (its name is not one a folder may carry: the collection-name rule).
    static func learnName(ofIndex index: String) -> String? {
        CollectionConfig.isValidName(index) ? prefix + index : nil
    }
}
