import Dispatch
import WorkControl

/// An approximate nearest-neighbour index: a Hierarchical Navigable Small World graph
/// (Malkov & Yashunin 2016) over contiguous storage, with tombstone deletes, in-place
/// updates that re-link the node, and filtered search.
///
/// ```swift
/// let index = try HNSWIndex(dimension: 128, metric: .cosine, parameters: .init(m: 16))
/// try index.upsert(id: 7, vector: v, payload: ["color": .string("red")])
/// let hits = try index.search(q, k: 10, ef: 100, filter: .match("color", .string("red")))
/// ```
///
/// Thread safety: every call may come from any thread. The graph sits behind a
/// ``SharedExclusiveAccess`` (a readers-writer discipline built from `Mutex`es):
/// - **Shared** (run in parallel): searches, `vector`, `payload`, `scroll`, `count`, and the
///   linking phase of ``upsert(_:threads:)``. Each holds one slot of a small pool and walks
///   with that slot's scratch (visited set, heaps, prepared query), so walks share nothing
///   mutable and a warmed search allocates no scratch.
/// - **Exclusive** (alone): single-point ``upsert(id:vector:payload:)``, ``delete(id:)``,
///   ``compact()``, ``enableQuantization(_:sampleSize:seed:)``, ``exportState()``, and the
///   two short steps that open and close a batch (reserving storage, so capacity never grows
///   while others read it).
/// - While a batch links in parallel, the only shared state that changes is each node's link
///   lists (read and written under that node's own lock, never two node locks at once) and
///   the entry point (its own `Mutex`; a node that raises the top level links while holding
///   a promotion lock). Everything else a walk reads was written before the batch's opening
///   exclusive step ended.
///
/// Calls are linearizable except ``upsert(_:threads:)``, whose points become visible one by
/// one while it runs.
public final class HNSWIndex: VectorIndex {
    /// Length of every vector.
    public let dimension: Int
    /// Distance used for search.
    public let metric: DistanceMetric
    /// Build parameters.
    public let parameters: HNSWParameters
    /// Selectivity under which ``FilterStrategy/automatic`` scans exactly instead of walking.
    public let exactFilterSelectivity: Double
    let access: SharedExclusiveAccess<HNSWGraph, HNSWSearchScratch>
    /// Runs re-tiering passes one at a time (``retier()``), in the background when searches
    /// reach the tier policy's interval.
    let retierQueue = DispatchQueue(label: "ruvector.hnsw.retier", qos: .utility)

    /// Shared accesses (searches, batch-insert threads) that can run at once.
    static let concurrencySlots = 32

    /// Creates an empty index. With `vectorArenas`, full vectors live in arenas it provides
    /// (on disk, paged by the operating system) instead of on the heap; pair it with
    /// quantization so the walk reads codes, not paged vectors.
    public init(dimension: Int, metric: DistanceMetric, parameters: HNSWParameters = .init(),
                exactFilterSelectivity: Double = 0.05,
                vectorArenas: (any VectorArenaProvider)? = nil, graphOnDisk: Bool = false) throws(VectorEngineError) {
        try checkDimension(dimension)
        try parameters.validate()
        try checkLimit(!graphOnDisk || vectorArenas != nil, "the graph goes to disk only with the vectors (arenas needed)")
        self.dimension = dimension
        self.metric = metric
        self.parameters = parameters
        self.exactFilterSelectivity = exactFilterSelectivity
        access = SharedExclusiveAccess(try HNSWGraph(dimension: dimension, metric: metric, params: parameters,
                                                     arenas: vectorArenas, linksOffHeap: graphOnDisk),
                                       slotCount: Self.concurrencySlots) {
            HNSWSearchScratch(maxDegree: parameters.m0)
        }
    }

    /// Number of live vectors.
    public var count: Int { access.shared { g, _ in g.liveCount } }

    /// Number of tombstoned vectors still occupying storage (see ``compact()``).
    public var deletedCount: Int { access.shared { g, _ in g.deletedCount } }

    /// Inserts, or replaces the vector and payload of an existing (or deleted) id and re-links it.
    public func upsert(id: UInt64, vector: [Float], payload: Payload) throws(VectorEngineError) {
        let v = try prepareVector(vector, dimension: dimension, metric: metric)
        try access.exclusive { (g: inout HNSWGraph, scratch: inout HNSWSearchScratch) throws(VectorEngineError) in
            if let node = g.internalOf[id] {
                g.update(node: node, vector: v, payload: payload, scratch: &scratch)
            } else {
                try checkLimit(g.totalCount < VectorEngineLimits.maxCount, "index is full")
                try g.insert(externalId: id, vector: v, payload: payload, scratch: &scratch)
            }
        }
    }

    /// Tombstones `id`: it is skipped in results but still routes searches until ``compact()``.
    /// When more than half of the stored nodes are tombstones the graph is compacted (unless
    /// on-disk storage has no room for the compacted copy: the tombstones then stay, and the
    /// next delete tries again).
    @discardableResult
    public func delete(id: UInt64) -> Bool {
        access.exclusive { g, scratch in
            let removed = g.markDeleted(id)
            if removed && g.deletedCount * 2 > g.totalCount && g.totalCount >= 64 {
                try? Self.compact(&g, scratch: &scratch)
            }
            return removed
        }
    }

    /// Rebuilds the graph from the live nodes only, dropping every tombstone, then renumbers
    /// it in breadth-first order (``reorder()``). Throws only when on-disk storage has no room
    /// for the new graph beside the old one (which then stays).
    public func compact() throws(VectorEngineError) {
        try access.exclusive { (g: inout HNSWGraph, scratch: inout HNSWSearchScratch) throws(VectorEngineError) in
            try Self.compact(&g, scratch: &scratch)
        }
    }

    /// Renumbers the nodes so that nodes a walk visits one after another lie near each other
    /// in memory, and in the same pages of on-disk vectors and links: breadth-first over level
    /// 0 from the entry point (``HNSWGraph/breadthFirstOrder()``). The graph, codes, tiers and
    /// payloads are the same, so searches return the same hits; ``scroll(after:limit:)`` pages
    /// in the new order (a cursor from before is refused). An index in memory is copied in the
    /// new order while searches continue and writes wait, then switched to it (exclusive); one
    /// with on-disk vectors, or tiered codes, is renumbered in place with exclusive access
    /// throughout (``HNSWGraph/renumberInPlace(_:)``: it is kept in less memory than a second
    /// copy, and tiers move in background passes). ``compact()`` reorders too. Throws only when
    /// on-disk storage has no room for the copy's arenas or the scratch arena (nothing changes then).
    public func reorder() throws(VectorEngineError) {
        /// The copy, handed from the shared step to the exclusive one on this thread.
        final class Copy: @unchecked Sendable { var graph: HNSWGraph? }
        let copy = Copy()
        try access.withWriterGate { gate throws(VectorEngineError) in
            // Holding the gate: no write (nor a change of quantizer) comes in between.
            let inPlace = access.shared { g, _ in g.quantized?.tiers != nil || g.storage.arena != nil }
            if inPlace {
                try access.exclusive(gate) { (g: inout HNSWGraph, _: inout HNSWSearchScratch) throws(VectorEngineError) in
                    try g.renumberInPlace(g.breadthFirstOrder())
                }
                return
            }
            try access.shared { (g: HNSWGraph, _: inout HNSWSearchScratch) throws(VectorEngineError) in
                copy.graph = try g.renumbered(g.breadthFirstOrder())
            }
            access.exclusive(gate) { g, _ in
                if let fresh = copy.graph { g = fresh }
            }
        }
    }

    /// Nodes an index holds before ``reorderIfGrown(minimumNodes:)`` reorders it by default.
    /// Measured: +15% single-thread QPS at recall 0.95 at 200k x 128 (docs/benchmarks/vector-search.md);
    /// a smaller graph mostly sits in the processor's caches.
    public static let automaticReorderMinimum = 50_000

    /// Reorders (``reorder()``) when the index holds at least `minimumNodes` nodes and at least a
    /// quarter of them came after its last reorder or compaction (kept in its state), that is a
    /// third more than it held then; returns whether it did. A durable collection calls it before
    /// each snapshot, so one built by appending is renumbered each time it has grown by a third
    /// (the work adds up to about four times its size), and the snapshot, which a restart opens,
    /// holds the new order. Waiting for the index to double left up to half of it in insertion
    /// order: a 1M x 128 int4 on-disk import whose last reorder came at 601,000 points searched at
    /// 859-878 QPS (ef 256) against 1,192 for the same points all reordered.
    @discardableResult
    public func reorderIfGrown(minimumNodes: Int = HNSWIndex.automaticReorderMinimum) throws(VectorEngineError) -> Bool {
        let due = access.shared { g, _ in g.totalCount >= max(minimumNodes, 1) && 3 * g.totalCount >= 4 * g.orderedCount }
        if due { try reorder() }
        return due
    }

    /// ``compact()``'s work: the rebuilt graph replaces `g`, then is renumbered in place, so at
    /// most two graphs exist at once. A reorder that finds no room for its scratch arena keeps
    /// the rebuilt graph in insertion order.
    private static func compact(_ g: inout HNSWGraph, scratch: inout HNSWSearchScratch) throws(VectorEngineError) {
        g = try rebuilt(from: g, scratch: &scratch)
        try? g.renumberInPlace(g.breadthFirstOrder())
    }

    private static func rebuilt(from old: HNSWGraph, scratch: inout HNSWSearchScratch) throws(VectorEngineError) -> HNSWGraph {
        var fresh = try HNSWGraph(dimension: old.dimension, metric: old.metric, params: old.params, arenas: old.arenas,
                                  linksOffHeap: old.linksOffHeap,
                                  capacity: max(old.liveCount, 64))
        fresh.rng = old.rng
        fresh.linksOnCodes = old.linksOnCodes
        fresh.layout = HNSWGraph.newLayout(after: old.layout)
        fresh.quantized = old.quantized
        // Live nodes keep their tiers (they are renumbered in order).
        let savedTiers = old.quantized?.tiers.map { tiers in
            (0..<old.totalCount).filter { !old.deleted[$0] }.map { tiers.saved(UInt32($0)) }
        }
        fresh.quantized?.clearCodes()
        for i in 0..<old.totalCount where !old.deleted[i] {
            try fresh.insert(externalId: old.externalIds[i], vector: old.storage.vectorArray(UInt32(i)),
                         payload: old.payloads[i], scratch: &scratch)
        }
        if let savedTiers { fresh.quantized?.tiers?.restore(savedTiers, vectors: fresh.storage.vector) }
        return fresh
    }

    /// The `k` nearest live vectors with the default `efSearch`.
    public func search(_ query: [Float], k: Int, filter: PayloadFilter?) throws(VectorEngineError) -> [SearchHit] {
        try search(query, k: k, ef: parameters.efSearch, filter: filter)
    }

    /// The `k` nearest live vectors that satisfy `filter`, searching with candidate list `ef`
    /// (raised to `k` when smaller). `strategy` picks graph walk or exact scan (`.exact`: brute
    /// force, with or without a filter; `.automatic`: exact only for very selective filters).
    /// When quantization is on (``enableQuantization(_:sampleSize:seed:)``) the walk uses the
    /// codes and the best `k * oversampling` candidates are rescored on full vectors; pass
    /// `oversampling: nil` to walk on full vectors instead.
    /// Once `cancellation` is raised the walk or scan stops and the search throws `.stopped`.
    public func search(_ query: [Float], k: Int, ef: Int, filter: PayloadFilter? = nil,
                       strategy: FilterStrategy = .automatic,
                       oversampling: Int? = 4, cancellation: CancellationSignal = .never) throws(VectorEngineError) -> [SearchHit] {
        try search(query, k: k, ef: ef, filter: filter, strategy: strategy, oversampling: oversampling,
                   cancellation: cancellation, probe: nil)
    }

    /// ``search(_:k:ef:filter:strategy:oversampling:)`` with a test hook: `probe` runs once,
    /// in the middle of the level-0 walk, while this search holds its scratch.
    func search(_ query: [Float], k: Int, ef: Int, filter: PayloadFilter?, strategy: FilterStrategy,
                oversampling: Int?, cancellation: CancellationSignal = .never,
                probe: (() -> Void)?) throws(VectorEngineError) -> [SearchHit] {
        try filter?.validate()
        let q = try checkedQuery(query, k: k, ef: ef, oversampling: oversampling)
        let threshold = exactFilterSelectivity
        var retierDue = false
        let hits = access.shared { g, scratch in
            defer { retierDue = g.quantized?.tiers?.takeDue() ?? false }
            return q.withUnsafeBufferPointer { qp -> [SearchHit] in
                guard let qb = qp.baseAddress else { return [] }
                var exact = strategy == .exact
                if let filter, strategy == .automatic { exact = g.estimateSelectivity(filter) < threshold }
                return exact ? g.exactSearch(qb, k: k, filter: filter, cancellation: cancellation)
                             : g.knn(qb, k: k, ef: ef, filter: filter,
                                     oversampling: g.quantized == nil ? nil : oversampling,
                                     cancellation: cancellation, scratch: &scratch, probe: probe)
            }
        }
        if retierDue { scheduleRetier() }
        // A stopped walk returned early with partial results: they are not an answer.
        try checkCancelled(cancellation)
        return hits
    }

    /// Trains `kind` on up to `sampleSize` evenly spaced stored vectors and encodes every
    /// vector; later inserts are encoded as they arrive. Searches then walk on the codes.
    /// With `.tiered`, the vectors stored now start warm and later ones hot; see ``retier()``.
    public func enableQuantization(_ kind: QuantizationKind, sampleSize: Int = 10_000,
                                   seed: UInt64 = 7) throws(VectorEngineError) {
        try checkLimit(sampleSize >= 1 && sampleSize <= 1_000_000, "sampleSize must be in 1...1000000")
        if case .tiered(let policy) = kind { try policy.validate(dimension: dimension) }
        try access.exclusive { (g: inout HNSWGraph, _: inout HNSWSearchScratch) throws(VectorEngineError) in
            let n = g.totalCount
            let stride = max(1, n / sampleSize)
            let sample = Swift.stride(from: 0, to: n, by: stride).map { g.storage.vectorArray(UInt32($0)) }
            let store = try _QuantizedStore(kind: kind, dimension: g.dimension, metric: g.metric,
                                            sample: sample, seed: seed)
            for i in 0..<n { store.append(g.storage.vectorArray(UInt32(i)), tier: .warm) }
            g.quantized = store
        }
    }

    /// What one search's level-0 walk does: nodes it expands and distances it measures (on the
    /// codes when `oversampling` is given and the index is quantized), for a benchmark's
    /// account of where the time goes (`vector-bench --floor 1`). Upper levels and rescoring
    /// are not counted.
    @_spi(Benchmarks) public func walkWork(_ query: [Float], k: Int, ef: Int,
                                           oversampling: Int?) throws(VectorEngineError) -> (expansions: Int, distances: Int) {
        let q = try checkedQuery(query, k: k, ef: ef, oversampling: oversampling)
        return access.shared { g, scratch in
            let before = (scratch.expansions, scratch.measured)
            q.withUnsafeBufferPointer { qp in
                guard let qb = qp.baseAddress else { return }
                _ = g.knn(qb, k: k, ef: ef, filter: nil, oversampling: g.quantized == nil ? nil : oversampling, scratch: &scratch)
            }
            return (scratch.expansions &- before.0, scratch.measured &- before.1)
        }
    }

    /// `query` prepared for a walk (normalized for cosine) once `k`, `ef` and `oversampling` are
    /// checked: what every search entry point does first.
    private func checkedQuery(_ query: [Float], k: Int, ef: Int, oversampling: Int?) throws(VectorEngineError) -> [Float] {
        if let o = oversampling {
            try checkLimit(o >= 1 && o * k <= VectorEngineLimits.maxEf, "oversampling \(o) times k must be in 1...\(VectorEngineLimits.maxEf)")
        }
        try checkK(k)
        try checkLimit(ef >= 1 && ef <= VectorEngineLimits.maxEf, "ef \(ef) must be in 1...\(VectorEngineLimits.maxEf)")
        return try prepareVector(query, dimension: dimension, metric: metric)
    }

    /// The active quantization, if any.
    public var quantization: QuantizationKind? { access.shared { g, _ in g.quantized?.kind } }

    /// Whether new nodes are linked by measuring on the int8 or float16 walk codes instead of
    /// the full vectors (``HNSWGraph/linksOnCodes``): on for on-disk vectors, off otherwise.
    /// Settable for measurements and twin tests (an in-memory index built as an on-disk one).
    @_spi(Benchmarks) public var linksOnCodes: Bool {
        get { access.shared { g, _ in g.linksOnCodes } }
        set { access.exclusive { g, _ in g.linksOnCodes = newValue } }
    }

    /// Runs several searches; results are in query order.
    public func searchBatch(_ queries: [[Float]], k: Int, ef: Int,
                            filter: PayloadFilter? = nil,
                            cancellation: CancellationSignal = .never) throws(VectorEngineError) -> [[SearchHit]] {
        var out: [[SearchHit]] = []
        out.reserveCapacity(queries.count)
        for q in queries { out.append(try search(q, k: k, ef: ef, filter: filter, cancellation: cancellation)) }
        return out
    }

    /// Whether `id` is a live point (without copying its vector).
    public func contains(id: UInt64) -> Bool {
        access.shared { g, _ in g.internalOf[id].map { !g.deleted[Int($0)] } ?? false }
    }

    /// The stored vector of a live id.
    public func vector(id: UInt64) -> [Float]? {
        access.shared { g, _ in
            guard let n = g.internalOf[id], !g.deleted[Int(n)] else { return nil }
            return g.storage.vectorArray(n)
        }
    }

    /// The payload of a live id.
    public func payload(id: UInt64) -> Payload? {
        access.shared { g, _ in
            guard let n = g.internalOf[id], !g.deleted[Int(n)] else { return nil }
            return g.payloads[Int(n)]
        }
    }

    /// Live ids in storage order (insertion order until a compaction or ``reorder()``
    /// renumbers the nodes), starting after `cursor` (`nil`: from the start; otherwise the
    /// `next` of an earlier page); returns the page and the cursor of the next page (`nil` at
    /// the end). A cursor from before a renumbering, or not from this index, is refused with
    /// ``VectorEngineError/Code/staleCursor`` (its position means another point now): scroll
    /// again from the start.
    public func scroll(after cursor: Int?, limit: Int) throws(VectorEngineError) -> (ids: [UInt64], next: Int?) {
        try checkLimit(limit >= 1 && limit <= VectorEngineLimits.maxK, "limit \(limit) must be in 1...\(VectorEngineLimits.maxK)")
        return try access.shared { (g, _) throws(VectorEngineError) in
            var i = 0
            if let cursor {
                guard cursor >= 0, cursor >> 32 == Int(g.layout) else {
                    throw VectorEngineError(code: .staleCursor, message:
                        "the scroll cursor is from before a compaction or reorder renumbered the points (or not from this collection); scroll again from the start")
                }
                i = (cursor & 0xFFFF_FFFF) + 1
            }
            var ids: [UInt64] = []
            while i < g.totalCount && ids.count < limit {
                if !g.deleted[i] { ids.append(g.externalIds[i]) }
                i += 1
            }
            // The layout above the position (below 2^32: internal ids are 32-bit).
            return (ids, i < g.totalCount ? Int(g.layout) << 32 | (i - 1) : nil)
        }
    }

    /// Bytes of full vectors kept off the heap, in the index's arena (0 when on the heap):
    /// memory the operating system pages in and out as searches read it.
    public var offHeapVectorBytes: Int {
        access.shared { g, _ in g.storage.arena == nil ? 0 : g.totalCount * g.dimension * 4 }
    }

    /// Bytes of level-0 links kept off the heap (0 when on the heap).
    public var offHeapGraphBytes: Int {
        access.shared { g, _ in g.storage.linkArena == nil ? 0 : g.totalCount * (g.params.m0 + 1) * 4 }
    }

    /// Where the full vectors live.
    public var vectorPlacement: VectorPlacement {
        access.shared { g, _ in g.storage.arena == nil ? .memory : .disk }
    }

    /// Where the level-0 links live.
    public var graphPlacement: VectorPlacement {
        access.shared { g, _ in g.storage.linkArena == nil ? .memory : .disk }
    }

    /// Bytes held in memory for vectors and level-0 links (unless they are off the heap, see
    /// ``offHeapVectorBytes`` and ``offHeapGraphBytes``), upper links, link locks, levels, ids,
    /// tombstones and codes (payloads and the search scratch pool excluded).
    public var memoryBytes: Int {
        access.shared { g, _ in
            let n = g.totalCount
            let vectorBytes = g.storage.arena == nil ? g.dimension * 4 : 0
            let linkBytes = g.storage.linkArena == nil ? (g.params.m0 + 1) * 4 : 0
            var bytes = n * (vectorBytes + linkBytes + _HNSWUnsafeStorage.perNodeOverheadBytes + 1 + 8 + 1 + 16)
            for level in g.levels { bytes += Int(level) * (g.params.m + 1) * 4 }
            bytes += g.quantized?.memoryBytes ?? 0
            return bytes
        }
    }

    /// Checks the graph's structural invariants; returns a description of each violation.
    func invariantViolations() -> [String] {
        access.exclusive { g, _ in g.invariantViolations() }
    }
}
