/// The whole state of an ``HNSWIndex`` as plain values, for snapshots: flat vectors,
/// level-0 links (`m0 + 1` slots per node, count first), upper links, levels, ids,
/// tombstones and payloads, and the trained quantizer with every node's code (``quantizer``),
/// so an imported index walks on the same codes as the exported one.
///
/// Vectors and level-0 links, the bulk of it, can instead sit in borrowed memory
/// (``borrowedVectors``, ``borrowedLevel0Links``: a memory-mapped snapshot), which
/// ``HNSWIndex/init(state:)`` then uses in place instead of copying.
public struct HNSWState: Sendable, Hashable {
    /// Vector length.
    public var dimension: Int
    /// Metric.
    public var metric: DistanceMetric
    /// Build parameters.
    public var parameters: HNSWParameters
    /// `count * dimension` components, row per internal id.
    public var vectors: [Float]
    /// Level of each internal id.
    public var levels: [UInt8]
    /// `count * (2m + 1)` slots.
    public var level0Links: [UInt32]
    /// Per node, `level * (m + 1)` slots for levels 1...level.
    public var upperLinks: [[UInt32]]
    /// External id of each internal id.
    public var externalIds: [UInt64]
    /// Tombstone of each internal id.
    public var deleted: [Bool]
    /// Payload of each internal id.
    public var payloads: [Payload]
    /// Entry point (internal id), `nil` when empty.
    public var entryPoint: UInt32?
    /// State of the level generator.
    public var generatorState: UInt64
    /// When set, the vectors (`vectors` is then empty); the index adopts the memory, and its
    /// room past `count` lets it append without copying.
    public var borrowedVectors: BorrowedBuffer<Float>?
    /// When set, the level-0 links (`level0Links` is then empty); adopted likewise.
    public var borrowedLevel0Links: BorrowedBuffer<UInt32>?
    /// The quantizer and codes when quantization is on (``HNSWIndex/enableQuantization(_:sampleSize:seed:)``);
    /// `nil` otherwise, or for a state from a snapshot written before quantizers were stored.
    public var quantizer: QuantizerState?
    /// Nodes the index held at its last reorder (``HNSWIndex/reorderIfGrown(minimumNodes:)``
    /// counts from it), at most the node count; `nil` for a state that does not say (a snapshot
    /// written before it was kept): the index then counts from its size at the open.
    public var orderedCount: Int?

    /// A state from its parts (as read back from a snapshot); `HNSWIndex(state:)` validates it.
    public init(dimension: Int, metric: DistanceMetric, parameters: HNSWParameters, vectors: [Float], levels: [UInt8],
                level0Links: [UInt32], upperLinks: [[UInt32]], externalIds: [UInt64], deleted: [Bool],
                payloads: [Payload], entryPoint: UInt32?, generatorState: UInt64,
                borrowedVectors: BorrowedBuffer<Float>? = nil, borrowedLevel0Links: BorrowedBuffer<UInt32>? = nil,
                quantizer: QuantizerState? = nil, orderedCount: Int? = nil) {
        self.dimension = dimension
        self.metric = metric
        self.parameters = parameters
        self.vectors = vectors
        self.levels = levels
        self.level0Links = level0Links
        self.upperLinks = upperLinks
        self.externalIds = externalIds
        self.deleted = deleted
        self.payloads = payloads
        self.entryPoint = entryPoint
        self.generatorState = generatorState
        self.borrowedVectors = borrowedVectors
        self.borrowedLevel0Links = borrowedLevel0Links
        self.quantizer = quantizer
        self.orderedCount = orderedCount
    }
}

extension HNSWIndex {
    /// Whether vectors and level-0 links are still in adopted, borrowed memory (tests).
    var usesBorrowedStorage: (vectors: Bool, links: Bool) {
        access.shared { g, _ in (g.storage.vectorsOwner != nil, g.storage.links0Owner != nil) }
    }

    /// A copy of the index's state (taken with exclusive access, so never mid-batch).
    ///
    /// With `borrowingVectors` and on-disk vectors, the state does not copy them (they may be
    /// larger than memory), nor the level-0 links and the quantizer's codes (except tiered ones),
    /// the bulk of what stays in memory: ``HNSWState/borrowedVectors`` then points into the
    /// index's arena, ``HNSWState/borrowedLevel0Links`` and ``QuantizerState/borrowedCodes`` into
    /// its buffers, and all stay valid only until the next write to the index. The caller must keep writes out
    /// until it is done with the state (a snapshot holds its collection's write lock).
    public func exportState(borrowingVectors: Bool = false) -> HNSWState {
        access.exclusive { g, _ in
            let n = g.totalCount
            let borrowed = g.storage.arena.flatMap { arena in
                borrowingVectors ? BorrowedBuffer(base: g.storage.vectors, count: n * g.dimension, capacity: n * g.dimension,
                                                  owner: arena, isAdoptable: false) : nil
            }
            let linkSlots = n * (g.params.m0 + 1)
            let borrowedLinks = borrowed == nil ? nil
                : BorrowedBuffer(base: g.storage.links0, count: linkSlots, capacity: linkSlots, owner: g.storage, isAdoptable: false)
            return HNSWState(
                dimension: g.dimension, metric: g.metric, parameters: g.params,
                vectors: borrowed == nil ? Array(UnsafeBufferPointer(start: g.storage.vectors, count: n * g.dimension)) : [],
                levels: g.levels,
                level0Links: borrowedLinks == nil ? Array(UnsafeBufferPointer(start: g.storage.links0, count: linkSlots)) : [],
                upperLinks: (0..<n).map { g.storage.upperLinkSlots(UInt32($0), level: Int(g.levels[$0])) },
                externalIds: g.externalIds, deleted: g.deleted,
                payloads: g.payloads, entryPoint: g.entryPoint, generatorState: g.rng.state,
                borrowedVectors: borrowed, borrowedLevel0Links: borrowedLinks,
                // Tier codes move in background passes that do not take the caller's write lock:
                // they are copied (they are the small ones).
                quantizer: g.quantized?.exportState(borrowingCodes: borrowed != nil && g.quantized?.tiers == nil),
                orderedCount: g.orderedCount)
        }
    }

    /// Rebuilds an index from exported state, checking every size, link and id first (and the
    /// quantizer's parameters, tiers and codes): a corrupt state throws `.invalidArgument`, it
    /// never crashes. Borrowed vectors and level-0 links are adopted in place (copied onto huge
    /// pages when 4 MB and more); arrays are copied once. With `vectorArenas`, the vectors are
    /// copied into a new arena instead (on-disk vectors).
    public convenience init(state s: HNSWState, vectorArenas: (any VectorArenaProvider)? = nil,
                            graphOnDisk: Bool = false) throws(VectorEngineError) {
        try self.init(dimension: s.dimension, metric: s.metric, parameters: s.parameters, vectorArenas: vectorArenas,
                      graphOnDisk: graphOnDisk)
        func bad(_ why: String) -> VectorEngineError {
            VectorEngineError(code: .invalidArgument, message: "HNSW state is inconsistent: \(why)")
        }
        let n = s.externalIds.count
        let m0 = s.parameters.m0, m = s.parameters.m, dim = s.dimension
        guard n <= VectorEngineLimits.maxCount, (s.borrowedVectors?.count ?? s.vectors.count) == n * dim, s.levels.count == n,
              (s.borrowedLevel0Links?.count ?? s.level0Links.count) == n * (m0 + 1), s.upperLinks.count == n,
              s.deleted.count == n, s.payloads.count == n else { throw bad("array lengths disagree") }
        guard (0...n).contains(s.orderedCount ?? n) else { throw bad("ordered count \(s.orderedCount ?? n) of \(n) nodes") }
        // Everything a walk relies on not to trap: degrees within bounds, link targets that
        // exist and reach the level, an entry point on the top level. (Duplicate links and
        // the like only cost quality; the full check runs with RUVECTOR_INTERNAL_CHECKS.)
        var topLevel = 0
        for i in 0..<n {
            let level = Int(s.levels[i])
            guard level <= 32, s.upperLinks[i].count == level * (m + 1) else { throw bad("node \(i) levels") }
            topLevel = max(topLevel, level)
        }
        func checkList(_ list: UnsafeBufferPointer<UInt32>, node: Int, level: Int) throws(VectorEngineError) {
            let degree = Int(list[0])
            guard degree <= (level == 0 ? m0 : m) else { throw bad("node \(node) level \(level) degree") }
            for slot in 1..<(degree + 1) {
                let target = Int(list[slot])
                guard target < n, target != node, Int(s.levels[target]) >= level else {
                    throw bad("node \(node) level \(level) links to \(target)")
                }
            }
        }
        let level0 = s.borrowedLevel0Links?.elements
        try s.level0Links.withUnsafeBufferPointer { (array) throws(VectorEngineError) in
            let links = level0 ?? array
            for i in 0..<n {
                try checkList(UnsafeBufferPointer(rebasing: links[(i * (m0 + 1))..<((i + 1) * (m0 + 1))]), node: i, level: 0)
            }
        }
        for i in 0..<n where s.levels[i] > 0 {
            try s.upperLinks[i].withUnsafeBufferPointer { (slots) throws(VectorEngineError) in
                for l in 1...Int(s.levels[i]) {
                    try checkList(UnsafeBufferPointer(rebasing: slots[((l - 1) * (m + 1))..<(l * (m + 1))]), node: i, level: l)
                }
            }
        }
        if n > 0 {
            guard let ep = s.entryPoint, Int(ep) < n, Int(s.levels[Int(ep)]) == topLevel else { throw bad("entry point") }
        }
        var internalOf: [UInt64: UInt32] = [:]
        internalOf.reserveCapacity(n)
        for (i, id) in s.externalIds.enumerated() {
            guard internalOf.updateValue(UInt32(i), forKey: id) == nil else { throw bad("duplicate external ids") }
        }
        // Adopt borrowed buffers with all their room (appends then copy nothing); buffers
        // without room for at least one node are copied instead.
        var vectors = s.borrowedVectors, links = s.borrowedLevel0Links
        var vectorArray = s.vectors, linkArray = s.level0Links
        // Another index's memory (a borrowing export) is copied, never shared.
        if let v = vectors, !v.isAdoptable, vectorArenas == nil { (vectorArray, vectors) = (Array(v.elements), nil) }
        if let l = links, !l.isAdoptable, !graphOnDisk { (linkArray, links) = (Array(l.elements), nil) }
        var capacity = max(n, 64)
        // With arenas, borrowed vectors (and links, for an on-disk graph) are only the source of
        // a copy into the arena (sized to the capacity): their room does not count, and they are
        // never copied to the heap.
        let vectorRoom = vectorArenas == nil ? vectors.map { $0.capacity / dim } : nil
        let linkRoom = graphOnDisk ? nil : links.map { $0.capacity / (m0 + 1) }
        if vectorRoom != nil || linkRoom != nil {
            capacity = min(vectorRoom ?? .max, linkRoom ?? .max)
            if capacity < max(n, 1) {
                if vectorArenas == nil, let v = vectors { vectorArray = Array(v.elements); vectors = nil }
                if !graphOnDisk, let l = links { linkArray = Array(l.elements); links = nil }
                capacity = max(n, 64)
            }
        }
        let violations = try access.exclusive { (g: inout HNSWGraph, _: inout HNSWSearchScratch) throws(VectorEngineError) -> [String] in
            if let arena = g.storage.arena { try _HNSWUnsafeStorage.reserve(arena, bytes: capacity * dim * 4) }
            if let arena = g.storage.linkArena { try _HNSWUnsafeStorage.reserve(arena, bytes: capacity * (m0 + 1) * 4) }
            g.storage.adopt(count: n, capacity: capacity, vectors: vectors, vectorArray: vectorArray,
                            links0: links, links0Array: linkArray, upperLinks: { s.upperLinks[$0] })
            g.internalOf = internalOf
            g.levels = s.levels
            g.externalIds = s.externalIds
            g.deleted = s.deleted
            g.deletedCount = s.deleted.reduce(0) { $0 + ($1 ? 1 : 0) }
            g.payloads = s.payloads
            g.top.set(.init(node: s.entryPoint, level: s.entryPoint.map { Int(s.levels[Int($0)]) } ?? 0))
            g.rng = SeededGenerator(seed: s.generatorState)
            g.orderedCount = s.orderedCount ?? n
            g.layout = HNSWGraph.newLayout(after: 0)
            if let q = s.quantizer {
                g.quantized = try _QuantizedStore(restoring: q, dimension: dim, metric: s.metric, nodeCount: n,
                                                  vectors: g.storage.vector)
            }
            #if RUVECTOR_INTERNAL_CHECKS
            return g.invariantViolations()
            #else
            return []
            #endif
        }
        if let first = violations.first { throw bad(first) }
    }
}
