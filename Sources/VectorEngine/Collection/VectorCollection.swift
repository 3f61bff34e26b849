import WorkControl

/// Configuration of a ``VectorCollection``.
public struct CollectionConfig: Sendable, Hashable {
    /// Name: 1 to ``maxNameBytes`` characters from `A-Z a-z 0-9 _ -`.
    public var name: String
    /// Length of every vector.
    public var dimension: Int
    /// Distance used for search.
    public var metric: DistanceMetric
    /// HNSW build and search parameters.
    public var hnsw: HNSWParameters
    /// Compression used for the graph walk, trained once the collection holds
    /// `quantizationTrainingCount` points; `nil` keeps full vectors only.
    public var quantization: QuantizationKind?
    /// Number of points after which the quantizer is trained.
    public var quantizationTrainingCount: Int
    /// Where full vectors live: `.disk` needs arenas from the collection's owner (a
    /// `DurableCollection` maps a file in its folder).
    public var vectors: VectorPlacement
    /// Where the level-0 graph links live (the bulk of the graph; the few upper levels stay in
    /// memory): `.disk` needs the vectors on disk too.
    public var graph: VectorPlacement

    /// Creates a configuration.
    public init(name: String, dimension: Int, metric: DistanceMetric, hnsw: HNSWParameters = .init(),
                quantization: QuantizationKind? = nil, quantizationTrainingCount: Int = 1024,
                vectors: VectorPlacement = .memory, graph: VectorPlacement = .memory) {
        self.name = name; self.dimension = dimension; self.metric = metric; self.hnsw = hnsw
        self.quantization = quantization; self.quantizationTrainingCount = quantizationTrainingCount
        self.vectors = vectors; self.graph = graph
    }

    /// Checks what a collection would refuse (name, dimension, parameters, training count)
    /// without creating one.
    public func validate() throws(VectorEngineError) {
        if let problem = CollectionConfig.nameProblem(name) {
            throw VectorEngineError(code: .invalidArgument, message: "\(CollectionConfig.nameRule); the name \(problem)")
        }
        try checkLimit(quantizationTrainingCount >= 1, "quantizationTrainingCount must be at least 1")
        if graph == .disk && vectors != .disk {
            throw VectorEngineError(code: .invalidArgument, message: "a graph on disk needs the vectors on disk too")
        }
        try checkDimension(dimension)
        try hnsw.validate()
    }

    /// Longest collection name, in bytes: names become folder names, and the durable
    /// catalog derives longer ones from them (`.restore-NAME`, `.replaced-NAME`), which must
    /// still fit the file system's 255 bytes.
    public static let maxNameBytes = 200

    /// What a valid collection name is, for error messages.
    public static let nameRule = "collection names are 1 to \(maxNameBytes) characters of A-Z a-z 0-9 _ -"

    /// True for a valid collection name: 1 to ``maxNameBytes`` characters from
    /// `A-Z a-z 0-9 _ -` (safe as a folder name: never `.`, `..`, a path or a hidden name).
    public static func isValidName(_ name: String) -> Bool { nameProblem(name) == nil }

    /// Why `name` is not a valid collection name ("is empty", "contains '/'"...), or nil when it is.
    public static func nameProblem(_ name: String) -> String? {
        let bytes = name.utf8
        if bytes.isEmpty { return "is empty" }
        if bytes.count > maxNameBytes { return "is \(bytes.count) bytes long" }
        if bytes.first == UInt8(ascii: ".") { return "starts with a dot" }
        for byte in bytes {
            switch byte {
            case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x5F, 0x2D: continue
            case 0x2F: return "contains '/'"
            case 0x5C: return "contains a backslash"
            case 0x2E: return "contains a dot"
            case 0x00..<0x20, 0x7F: return "contains a control character"
            case 0x80...: return "contains a non-ASCII character"
            default: return "contains '\(Character(Unicode.Scalar(byte)))'"
            }
        }
        return nil
    }
}

/// A point: id, vector and payload.
public struct VectorPoint: Sendable, Hashable {
    /// Caller-chosen id.
    public var id: UInt64
    /// The vector (normalised when read back from a cosine collection).
    public var vector: [Float]
    /// Metadata.
    public var payload: Payload
    /// Creates a point.
    public init(id: UInt64, vector: [Float], payload: Payload = [:]) {
        self.id = id; self.vector = vector; self.payload = payload
    }
}

/// A named set of points with its own dimension, metric and index parameters, searched
/// through an ``HNSWIndex``. Thread-safe (see ``HNSWIndex`` for the locking discipline).
public final class VectorCollection: Sendable {
    /// The configuration it was created with.
    public let config: CollectionConfig
    /// The underlying index.
    public let index: HNSWIndex

    /// Creates an empty collection; throws on a bad name, dimension or parameters. A
    /// configuration with vectors on disk needs `vectorArenas` (where the vectors go).
    public init(_ config: CollectionConfig, vectorArenas: (any VectorArenaProvider)? = nil) throws(VectorEngineError) {
        try config.validate()
        try Self.check(config, vectorArenas)
        self.config = config
        index = try HNSWIndex(dimension: config.dimension, metric: config.metric, parameters: config.hnsw,
                              vectorArenas: config.vectors == .disk ? vectorArenas : nil, graphOnDisk: config.graph == .disk)
    }

    /// On-disk vectors need somewhere to go.
    private static func check(_ config: CollectionConfig, _ arenas: (any VectorArenaProvider)?) throws(VectorEngineError) {
        if config.vectors == .disk && arenas == nil {
            throw VectorEngineError(code: .invalidArgument,
                                    message: "collection '\(config.name)' keeps its vectors on disk, which needs a data directory")
        }
    }

    /// A collection restored from an exported index state (a snapshot). The state must match
    /// the configuration. Its quantizer (``HNSWState/quantizer``) is used when it is of the
    /// configured kind, so searches walk on the same codes as before; otherwise (a snapshot
    /// from before quantizers were stored) quantization, when configured, is trained again on
    /// the restored data, which can change approximate results.
    public init(_ config: CollectionConfig, restoring state: HNSWState,
                vectorArenas: (any VectorArenaProvider)? = nil) throws(VectorEngineError) {
        guard state.dimension == config.dimension, state.metric == config.metric, state.parameters == config.hnsw else {
            throw VectorEngineError(code: .invalidArgument,
                                    message: "snapshot state does not match collection '\(config.name)' configuration")
        }
        try config.validate()
        try Self.check(config, vectorArenas)
        self.config = config
        var state = state
        if let stored = state.quantizer?.kind, stored != config.quantization { state.quantizer = nil }
        index = try HNSWIndex(state: state, vectorArenas: config.vectors == .disk ? vectorArenas : nil,
                              graphOnDisk: config.graph == .disk)
        if let kind = config.quantization, index.quantization == nil, index.count >= config.quantizationTrainingCount {
            try index.enableQuantization(kind, sampleSize: max(config.quantizationTrainingCount, 10_000),
                                         seed: config.hnsw.seed)
        }
    }

    /// Number of points, or of points matching `filter`. A raised `cancellation` stops the
    /// scan (`.stopped`).
    public func count(filter: PayloadFilter? = nil, cancellation: CancellationSignal = .never) throws(VectorEngineError) -> Int {
        guard let filter else { return index.count }
        return try ids(matching: filter, cancellation: cancellation).count
    }

    /// Ids of the points whose payload matches `filter`, in index order, checking
    /// `cancellation` every 256 points (a large filter can take microseconds per point). The
    /// scan starts again if a compaction or reorder renumbers the points while it pages.
    public func ids(matching filter: PayloadFilter, cancellation: CancellationSignal = .never) throws(VectorEngineError) -> [UInt64] {
        try ids(matching: filter, cancellation: cancellation, pageSize: VectorEngineLimits.maxK)
    }

    /// ``ids(matching:cancellation:)`` reading `pageSize` points a page (tests page in small steps).
    func ids(matching filter: PayloadFilter, cancellation: CancellationSignal, pageSize: Int) throws(VectorEngineError) -> [UInt64] {
        try filter.validate()
        while true {
            var ids: [UInt64] = []
            var cursor: Int? = nil
            do {
                repeat {
                    let page = try index.scroll(after: cursor, limit: pageSize)
                    for (n, id) in page.ids.enumerated() {
                        if n & 255 == 0 { try checkCancelled(cancellation) }
                        if let p = index.payload(id: id), filter.matches(p, id: id) { ids.append(id) }
                    }
                    cursor = page.next
                } while cursor != nil
                return ids
            } catch where error.code == .staleCursor {
                continue
            }
        }
    }

    /// Checks a batch as `upsert` would (dimension, finite values), without changing anything.
    public func validate(_ points: [VectorPoint]) throws(VectorEngineError) {
        for p in points { _ = try prepareVector(p.vector, dimension: config.dimension, metric: config.metric) }
    }

    /// Inserts or replaces points. The batch is validated first, so a bad point writes nothing.
    /// With `threads` above 1, new points are linked on that many threads
    /// (``HNSWIndex/upsert(_:threads:)``): faster, but the links then depend on thread timing,
    /// so a replay of the same writes builds a slightly different graph.
    public func upsert(_ points: [VectorPoint], threads: Int = 1) throws(VectorEngineError) {
        try validate(points)
        if threads > 1 {
            try index.upsert(points, threads: threads)
        } else {
            for p in points { try index.upsert(id: p.id, vector: p.vector, payload: p.payload) }
        }
        if let kind = config.quantization, index.quantization == nil,
           index.count >= config.quantizationTrainingCount {
            try index.enableQuantization(kind, sampleSize: max(config.quantizationTrainingCount, 10_000),
                                         seed: config.hnsw.seed)
        }
    }

    /// The point with `id`, or `nil`.
    public func get(id: UInt64) -> VectorPoint? {
        guard let v = index.vector(id: id), let p = index.payload(id: id) else { return nil }
        return VectorPoint(id: id, vector: v, payload: p)
    }

    /// Deletes the given ids; returns how many existed.
    @discardableResult
    public func delete(ids: [UInt64]) -> Int { ids.reduce(0) { $0 + (index.delete(id: $1) ? 1 : 0) } }

    /// Deletes every point matching `filter`; returns how many.
    @discardableResult
    public func delete(filter: PayloadFilter, cancellation: CancellationSignal = .never) throws(VectorEngineError) -> Int {
        delete(ids: try ids(matching: filter, cancellation: cancellation))
    }

    /// A page of points after `cursor` (opaque; `nil` starts), optionally filtered, and the
    /// cursor of the next page (`nil` when done). A cursor from before a compaction or reorder
    /// renumbered the points is refused (``VectorEngineError/Code/staleCursor``).
    /// `cancellation` stops the scan (`.stopped`); `keep`, when given, is told about each point
    /// before it joins the page and may throw to end the scroll (a caller's memory budget).
    public func scroll(after cursor: Int?, limit: Int, filter: PayloadFilter? = nil,
                       cancellation: CancellationSignal = .never,
                       keep: ((VectorPoint) throws(VectorEngineError) -> Void)? = nil) throws(VectorEngineError) -> (points: [VectorPoint], next: Int?) {
        try filter?.validate()
        var points: [VectorPoint] = []
        var cur = cursor
        repeat {
            let page = try index.scroll(after: cur, limit: limit - points.count)
            for (n, id) in page.ids.enumerated() {
                if n & 255 == 0 { try checkCancelled(cancellation) }
                // Filtered on the payload before the vector is copied out.
                if let filter, let payload = index.payload(id: id), !filter.matches(payload, id: id) { continue }
                if let point = get(id: id) {
                    try keep?(point)
                    points.append(point)
                }
            }
            cur = page.next
        } while cur != nil && points.count < limit
        return (points, cur)
    }

    /// The `k` nearest points to `query` matching `filter`; `ef` defaults to the collection's.
    /// `exact` scans every point (the ground truth). With quantization, the walk uses the codes
    /// and rescoring looks at `oversampling` times `k` candidates on full vectors; `oversampling:
    /// nil` walks full vectors only.
    /// A raised `cancellation` stops the walk or scan (`.stopped`).
    public func search(_ query: [Float], k: Int, ef: Int? = nil, filter: PayloadFilter? = nil,
                       exact: Bool = false, oversampling: Int? = 4,
                       cancellation: CancellationSignal = .never) throws(VectorEngineError) -> [SearchHit] {
        try index.search(query, k: k, ef: ef ?? config.hnsw.efSearch, filter: filter,
                         strategy: exact ? .exact : .automatic, oversampling: oversampling, cancellation: cancellation)
    }

    /// Several searches, results in query order.
    public func searchBatch(_ queries: [[Float]], k: Int, ef: Int? = nil, filter: PayloadFilter? = nil,
                            cancellation: CancellationSignal = .never) throws(VectorEngineError) -> [[SearchHit]] {
        try index.searchBatch(queries, k: k, ef: ef ?? config.hnsw.efSearch, filter: filter, cancellation: cancellation)
    }
}
