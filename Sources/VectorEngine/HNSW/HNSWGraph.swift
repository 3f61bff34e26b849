internal import CVectorKernels
import WorkControl

/// The HNSW state and the paper's search algorithms (`searchLayer`, greedy descent, k-NN);
/// construction is in `HNSWGraph+Insert.swift`. ``HNSWIndex`` owns it behind a
/// ``SharedExclusiveAccess``: `mutating` methods run with exclusive access; the others may run
/// on many threads at once, each with its own ``HNSWSearchScratch``. While a batch links in
/// parallel (``linksChangeConcurrently``), the only things that change are link lists (each
/// under its node's lock in ``_HNSWUnsafeStorage``) and the entry point (``HNSWEntryPoint``).
struct HNSWGraph {
    let dimension: Int
    let metric: DistanceMetric
    let params: HNSWParameters
    let storage: _HNSWUnsafeStorage
    let top = HNSWEntryPoint()
    /// Level of each node.
    var levels: [UInt8] = []
    var externalIds: [UInt64] = []
    var internalOf: [UInt64: UInt32] = [:]
    var deleted: [Bool] = []
    var deletedCount = 0
    var payloads: [Payload] = []
    var rng: SeededGenerator
    /// Compressed codes used for the graph walk when quantization is on.
    var quantized: _QuantizedStore? = nil
    /// True while a batch links nodes from several threads (set and cleared with exclusive
    /// access): walks then read each link list under its node's lock.
    var linksChangeConcurrently = false
    /// Construction measures on the walk codes instead of the full vectors, when they are int8
    /// or float16 codes (``linkCodes``). On for on-disk vectors: linking then reads no full vector
    /// but the new node's own, so a collection can be built in less memory than its vectors.
    var linksOnCodes: Bool
    let levelMultiplier: Double
    /// Where full vectors go when they are kept off the heap (a new arena per graph: a
    /// compaction builds the new graph beside the old one); nil: on the heap.
    let arenas: (any VectorArenaProvider)?
    /// Whether the level-0 links go to an arena from ``arenas`` too.
    let linksOffHeap: Bool
    /// Which numbering the nodes have, written into scroll cursors so that one from another
    /// numbering is refused (``HNSWIndex/scroll(after:limit:)``). 0 for a graph grown by appends
    /// since it was created empty: its storage order is the order the points first came, the
    /// same on every copy fed the same writes. A compaction or reorder, or an open from a
    /// snapshot (whose order this index cannot know), draws a new one (``newLayout(after:)``),
    /// so copies renumbered apart, or a cursor from before a restart, do not meet by chance
    /// (but 1 in 32,767).
    var layout: UInt16 = 0

    /// A layout tag in 1...0x7FFF other than `previous` (15 bits: a cluster cursor keeps 48 bits
    /// for a shard's cursor, the tag above 32 bits of position).
    static func newLayout(after previous: UInt16) -> UInt16 {
        var tag: UInt16
        repeat { tag = UInt16.random(in: 1...0x7FFF) } while tag == previous
        return tag
    }
    /// Nodes at the last reorder (``HNSWIndex/reorderIfGrown(minimumNodes:)``), kept in snapshots.
    var orderedCount = 0

    init(dimension: Int, metric: DistanceMetric, params: HNSWParameters) {
        self.init(dimension: dimension, metric: metric, params: params,
                  storage: _HNSWUnsafeStorage(dimension: dimension, m: params.m), arenas: nil, linksOffHeap: false)
    }

    /// A graph whose vectors live in an arena from `arenas` with room for `capacity` nodes, and
    /// its level-0 links in another one when `linksOffHeap` (all on the heap when `arenas` is nil).
    init(dimension: Int, metric: DistanceMetric, params: HNSWParameters,
         arenas: (any VectorArenaProvider)?, linksOffHeap: Bool = false, capacity: Int = 64) throws(VectorEngineError) {
        guard let arenas else { self.init(dimension: dimension, metric: metric, params: params); return }
        let nodes = max(capacity, 1)
        let arena = try arenas.makeArena(bytes: nodes * dimension * 4)
        let linkArena = linksOffHeap ? try arenas.makeArena(bytes: nodes * (params.m0 + 1) * 4) : nil
        self.init(dimension: dimension, metric: metric, params: params,
                  storage: try _HNSWUnsafeStorage(dimension: dimension, m: params.m, arena: arena, linkArena: linkArena,
                                                  capacity: capacity),
                  arenas: arenas, linksOffHeap: linksOffHeap)
    }

    private init(dimension: Int, metric: DistanceMetric, params: HNSWParameters, storage: _HNSWUnsafeStorage,
                 arenas: (any VectorArenaProvider)?, linksOffHeap: Bool) {
        self.dimension = dimension
        self.metric = metric
        self.params = params
        self.storage = storage
        rng = SeededGenerator(seed: params.seed)
        levelMultiplier = 1 / Double(params.m).logValue
        self.arenas = arenas
        self.linksOffHeap = linksOffHeap
        linksOnCodes = arenas != nil
    }

    var totalCount: Int { externalIds.count }
    var liveCount: Int { externalIds.count - deletedCount }
    /// The entry node, `nil` when empty.
    var entryPoint: UInt32? { top.top.node }
    /// The top level (the entry node's level).
    var maxLevel: Int { top.top.level }

    @inline(__always) func distance(_ q: UnsafePointer<Float>, _ id: UInt32) -> Float {
        metric.distance(q, storage.vector(id), count: dimension)
    }

    /// Query distance through the codes when `codes` is given (prepared into `query`), else on full vectors.
    @inline(__always)
    func queryDistance(_ q: UnsafePointer<Float>, _ id: UInt32, _ codes: _QuantizedStore?,
                       _ query: inout _QuantizedQuery) -> Float {
        if let codes { return codes.distance(id, &query) }
        return distance(q, id)
    }

    @inline(__always) func distance(_ a: UInt32, _ b: UInt32) -> Float {
        metric.distance(storage.vector(a), storage.vector(b), count: dimension)
    }

    /// Links of `id` on `level`, for code that may not run alongside a parallel batch.
    func neighbors(_ id: UInt32, level: Int) -> UnsafeBufferPointer<UInt32> {
        storage.neighbors(id, level: level)
    }

    /// Links of `id` on `level` as a walk reads them: in place, or, while a batch links in
    /// parallel, copied under the node's lock into `memory` (valid until the next call).
    @inline(__always)
    func walkNeighbors(_ id: UInt32, level: Int, _ memory: _HNSWUnsafeScratch) -> UnsafeBufferPointer<UInt32> {
        if linksChangeConcurrently {
            return storage.lockedCopyOfNeighbors(id, level: level, into: memory.neighborBuffer)
        }
        return storage.neighbors(id, level: level)
    }

    func maxLinks(level: Int) -> Int { level == 0 ? params.m0 : params.m }

    // MARK: search

    /// Greedy descent from `entry` on level `top` down to `level + 1`; returns the closest node found.
    func greedyDescent(_ q: UnsafePointer<Float>, from top: Int, to level: Int, entry: UInt32,
                       codes: _QuantizedStore? = nil, scratch: inout HNSWSearchScratch) -> UInt32 {
        var cur = entry
        var curDist = queryDistance(q, cur, codes, &scratch.quantizedQuery)
        var l = top
        while l > level {
            var changed = true
            while changed {
                changed = false
                for n in walkNeighbors(cur, level: l, scratch.memory) {
                    let d = queryDistance(q, n, codes, &scratch.quantizedQuery)
                    if d < curDist { curDist = d; cur = n; changed = true }
                }
            }
            l -= 1
        }
        return cur
    }

    /// `searchLayer` of the paper: the `ef` closest nodes to `q` on `level` reachable from
    /// `entry`, ascending. Nodes rejected by `accept` are walked through but not returned.
    /// Once `cancellation` is raised the walk stops at the next expansion and returns what it
    /// has (the caller throws). `probe` (tests only) runs once, after the first node is expanded.
    func searchLayer(_ q: UnsafePointer<Float>, entry: UInt32, ef: Int, level: Int,
                     accept: ((UInt32) -> Bool)?, codes: _QuantizedStore? = nil,
                     cancellation: CancellationSignal = .never,
                     scratch: inout HNSWSearchScratch,
                     probe: (() -> Void)? = nil) -> [(distance: Float, id: UInt32)] {
        let memory = scratch.memory
        memory.startVisit(nodeCount: storage.count)
        scratch.candidates.removeAll()
        scratch.results.removeAll()
        _ = memory.testAndSetVisited(entry)
        let d0 = queryDistance(q, entry, codes, &scratch.quantizedQuery)
        scratch.candidates.push(-d0, entry)
        if accept?(entry) ?? true { scratch.results.push(d0, entry) }
        var lowerBound = scratch.results.top?.distance ?? .infinity
        var pendingProbe = probe
        let fresh = memory.freshNeighbors
        defer { scratch.quantizedQuery.walkBound = -.infinity }
        let vectorBytes = codes == nil ? dimension * MemoryLayout<Float>.stride : 0
        while let c = scratch.candidates.top {
            if -c.distance > lowerBound && scratch.results.count >= ef { break }
            // One relaxed load per expansion: a walk that a filter keeps going over the whole
            // graph still stops within one expansion of its call's end.
            if cancellation.isCancelled { break }
            scratch.candidates.pop()
            // Mark the neighbours visited first and start loading the vectors of the new ones, so
            // their cache misses overlap instead of stalling one distance at a time. The
            // distances then run in list order, as a one-pass loop would.
            var freshCount = 0
            for n in walkNeighbors(c.id, level: level, memory) where !memory.testAndSetVisited(n) {
                fresh[freshCount] = n
                freshCount &+= 1
                CVectorKernels_prefetchBytes(storage.vector(n), vectorBytes)
                codes?.prefetch(n, &scratch.quantizedQuery)
            }
            // Coarse tiered codes that could enter the list are measured exactly (``TierWalkSwitches``).
            if codes != nil { scratch.quantizedQuery.walkBound = scratch.results.count < ef ? .infinity : lowerBound }
            scratch.expansions &+= 1
            scratch.measured &+= freshCount
            for j in 0..<freshCount {
                let n = fresh[j]
                let d = queryDistance(q, n, codes, &scratch.quantizedQuery)
                if scratch.results.count < ef || d < lowerBound {
                    scratch.candidates.push(-d, n)
                    if accept?(n) ?? true {
                        if scratch.results.count < ef { scratch.results.push(d, n) } else { scratch.results.replaceTop(d, n) }
                    }
                    lowerBound = scratch.results.top?.distance ?? .infinity
                    // A candidate is likely expanded later: start loading its link list.
                    if level == 0 { CVectorKernels_prefetch(storage.level0LinksAddress(n)) }
                }
            }
            if let p = pendingProbe { pendingProbe = nil; p() }
        }
        // Sorted where it lies: a caller that only reads the result copies nothing.
        scratch.results.sortAscending()
        return scratch.results.items
    }

    /// k-NN search over live nodes; `accept` further restricts which nodes are returned.
    /// With `oversampling` and quantization on, the walk uses the codes and the best
    /// `k * oversampling` candidates are rescored on the full vectors.
    func knn(_ q: UnsafePointer<Float>, k: Int, ef: Int, filter: PayloadFilter?, oversampling: Int? = nil,
             cancellation: CancellationSignal = .never,
             scratch: inout HNSWSearchScratch, probe: (() -> Void)? = nil) -> [SearchHit] {
        let start = top.top
        guard let ep = start.node else { return [] }
        let codes = oversampling == nil ? nil : quantized
        codes?.prepare(q, into: &scratch.quantizedQuery)
        scratch.quantizedQuery.fullVectors = codes?.tiers == nil || storage.count == 0 ? nil : storage.vector(0)
        let entry = greedyDescent(q, from: start.level, to: 0, entry: ep, codes: codes, scratch: &scratch)
        let accept: ((UInt32) -> Bool)?
        if let filter {
            accept = { [deleted, payloads, externalIds] id in
                !deleted[Int(id)] && filter.matches(payloads[Int(id)], id: externalIds[Int(id)])
            }
        } else if deletedCount > 0 {
            accept = { [deleted] id in !deleted[Int(id)] }
        } else {
            accept = nil
        }
        if let codes, let oversampling {
            var pool = k * max(1, oversampling)
            let walkEf = tieredWalkEf(max(ef, pool), pool: pool, entry: entry, codes: codes, memory: scratch.memory)
            let found = searchLayer(q, entry: entry, ef: walkEf, level: 0, accept: accept, codes: codes,
                                    cancellation: cancellation, scratch: &scratch, probe: probe)
            pool = tieredRescoringDepth(found, pool: pool, codes: codes)
            // Start loading every candidate's full vector before measuring any (their misses
            // overlap); vectors in an arena are asked for only while their pages go missing.
            let vectorBytes = dimension * MemoryLayout<Float>.stride
            let inArena = storage.arena != nil
            let asks = inArena && scratch.rescoringPrefetch.asks
            for candidate in found.prefix(pool) {
                if asks { storage.willRead(candidate.id) }
                CVectorKernels_prefetchBytes(storage.vector(candidate.id), vectorBytes)
            }
            let faults = inArena ? RescoringPrefetch.threadFaults() : 0
            var rescored = found.prefix(pool).map { (distance: distance(q, $0.id), id: $0.id) }
            if inArena { scratch.rescoringPrefetch.record(faults: RescoringPrefetch.threadFaults() - faults) }
            rescored.sort { ($0.distance, $0.id) < ($1.distance, $1.id) }
            quantized?.tiers?.recordSearch(returned: rescored.prefix(k).lazy.map { $0.id })
            return rescored.prefix(k).map { SearchHit(id: externalIds[Int($0.id)], distance: $0.distance) }
        }
        let found = searchLayer(q, entry: entry, ef: max(ef, k), level: 0, accept: accept,
                                cancellation: cancellation, scratch: &scratch, probe: probe)
        quantized?.tiers?.recordSearch(returned: found.prefix(k).lazy.map { $0.id })
        return found.prefix(k).map { SearchHit(id: externalIds[Int($0.id)], distance: $0.distance) }
    }

    /// Exact scan over live nodes that pass `filter`; stops early (returning what it has) once
    /// `cancellation` is raised.
    func exactSearch(_ q: UnsafePointer<Float>, k: Int, filter: PayloadFilter?,
                     cancellation: CancellationSignal = .never) -> [SearchHit] {
        var heap = DistanceHeap()
        for i in 0..<totalCount where !deleted[i] {
            if i & 255 == 0, cancellation.isCancelled { break }
            if let filter, !filter.matches(payloads[i], id: externalIds[i]) { continue }
            let d = distance(q, UInt32(i))
            if heap.count < k { heap.push(d, UInt32(i)) } else if let t = heap.top, d < t.distance {
                heap.pop(); heap.push(d, UInt32(i))
            }
        }
        var items = heap.items
        items.sort { ($0.distance, externalIds[Int($0.id)]) < ($1.distance, externalIds[Int($1.id)]) }
        quantized?.tiers?.recordSearch(returned: items.lazy.map { $0.id })
        return items.map { SearchHit(id: externalIds[Int($0.id)], distance: $0.distance) }
    }

    /// Fraction of live nodes matching `filter`, estimated on an evenly spaced sample.
    func estimateSelectivity(_ filter: PayloadFilter, sampleSize: Int = 256) -> Double {
        let n = totalCount
        guard n > 0 else { return 0 }
        let step = max(1, n / sampleSize)
        var seen = 0, hit = 0
        var i = 0
        while i < n {
            if !deleted[i] {
                seen += 1
                if filter.matches(payloads[i], id: externalIds[i]) { hit += 1 }
            }
            i += step
        }
        return seen == 0 ? 0 : Double(hit) / Double(seen)
    }
}
