internal import CVectorKernels

/// The mutable HNSW state and the paper's algorithms (`searchLayer`,
/// `selectNeighborsHeuristic`, insert). Not thread-safe: ``HNSWIndex`` owns it behind a `Mutex`.
struct HNSWGraph {
    let dimension: Int
    let metric: DistanceMetric
    let params: HNSWParameters
    let storage: _HNSWUnsafeStorage
    /// Level of each node.
    var levels: [UInt8] = []
    /// Links of levels 1...level, `(m + 1)` slots per level (count first), per node.
    var upperLinks: [[UInt32]] = []
    var externalIds: [UInt64] = []
    var internalOf: [UInt64: UInt32] = [:]
    var deleted: [Bool] = []
    var deletedCount = 0
    var payloads: [Payload] = []
    var entryPoint: UInt32? = nil
    var maxLevel = 0
    var rng: SeededGenerator
    /// Compressed codes used for the graph walk when quantization is on.
    var quantized: _QuantizedStore? = nil
    private let levelMultiplier: Double
    // Reusable search buffers (hot paths allocate nothing once warmed up).
    private var candidates = DistanceHeap()
    private var results = DistanceHeap()
    private var scratch: [(distance: Float, id: UInt32)] = []

    init(dimension: Int, metric: DistanceMetric, params: HNSWParameters) {
        self.dimension = dimension
        self.metric = metric
        self.params = params
        storage = _HNSWUnsafeStorage(dimension: dimension, m0: params.m0)
        rng = SeededGenerator(seed: params.seed)
        levelMultiplier = 1 / Double(params.m).logValue
    }

    var totalCount: Int { externalIds.count }
    var liveCount: Int { externalIds.count - deletedCount }

    @inline(__always) func distance(_ q: UnsafePointer<Float>, _ id: UInt32) -> Float {
        metric.distance(q, storage.vector(id), count: dimension)
    }

    /// Query distance through the codes when `codes` is given (prepared), else on full vectors.
    @inline(__always) func queryDistance(_ q: UnsafePointer<Float>, _ id: UInt32, _ codes: _QuantizedStore?) -> Float {
        if let codes { return codes.distance(id) }
        return distance(q, id)
    }

    @inline(__always) func distance(_ a: UInt32, _ b: UInt32) -> Float {
        metric.distance(storage.vector(a), storage.vector(b), count: dimension)
    }

    func neighbors(_ id: UInt32, level: Int) -> UnsafeBufferPointer<UInt32> {
        if level == 0 { return storage.neighbors0(id) }
        return upperLinks[Int(id)].withUnsafeBufferPointer { buf in
            let base = (level - 1) * (params.m + 1)
            // The array outlives this view because nothing mutates it during a read.
            return UnsafeBufferPointer(rebasing: buf[(base + 1)..<(base + 1 + Int(buf[base]))])
        }
    }

    mutating func setNeighbors(_ id: UInt32, level: Int, _ ids: [UInt32]) {
        if level == 0 { storage.setNeighbors0(id, ids); return }
        precondition(ids.count <= params.m)
        let base = (level - 1) * (params.m + 1)
        upperLinks[Int(id)][base] = UInt32(ids.count)
        for i in 0..<params.m { upperLinks[Int(id)][base + 1 + i] = i < ids.count ? ids[i] : 0 }
    }

    func maxLinks(level: Int) -> Int { level == 0 ? params.m0 : params.m }

    mutating func randomLevel() -> Int {
        let l = Int(-rng.nextUnitOpen().logValue * levelMultiplier)
        return min(l, 32)
    }

    // MARK: search

    /// Greedy descent from the entry point down to `level + 1`; returns the closest node found.
    func greedyDescent(_ q: UnsafePointer<Float>, from top: Int, to level: Int, entry: UInt32,
                       codes: _QuantizedStore? = nil) -> UInt32 {
        var cur = entry
        var curDist = queryDistance(q, cur, codes)
        var l = top
        while l > level {
            var changed = true
            while changed {
                changed = false
                for n in neighbors(cur, level: l) {
                    let d = queryDistance(q, n, codes)
                    if d < curDist { curDist = d; cur = n; changed = true }
                }
            }
            l -= 1
        }
        return cur
    }

    /// `searchLayer` of the paper: the `ef` closest nodes to `q` on `level` reachable from
    /// `entry`, ascending. Nodes rejected by `accept` are walked through but not returned.
    mutating func searchLayer(_ q: UnsafePointer<Float>, entry: UInt32, ef: Int, level: Int,
                              accept: ((UInt32) -> Bool)?,
                              codes: _QuantizedStore? = nil) -> [(distance: Float, id: UInt32)] {
        storage.newVisitEpoch()
        candidates.removeAll()
        results.removeAll()
        _ = storage.testAndSetVisited(entry)
        let d0 = queryDistance(q, entry, codes)
        candidates.push(-d0, entry)
        if accept?(entry) ?? true { results.push(d0, entry) }
        var lowerBound = results.top?.distance ?? .infinity
        while let c = candidates.top {
            if -c.distance > lowerBound && results.count >= ef { break }
            candidates.pop()
            let ns = neighbors(c.id, level: level)
            if let first = ns.first { CVectorKernels_prefetch(storage.vector(first)) }
            for j in 0..<ns.count {
                let n = ns[j]
                // Fetch the next neighbour's vector while this one is compared (hnswlib does the same).
                if j + 1 < ns.count { CVectorKernels_prefetch(storage.vector(ns[j + 1])) }
                if storage.testAndSetVisited(n) { continue }
                let d = queryDistance(q, n, codes)
                if results.count < ef || d < lowerBound {
                    candidates.push(-d, n)
                    if accept?(n) ?? true {
                        results.push(d, n)
                        if results.count > ef { results.pop() }
                    }
                    lowerBound = results.top?.distance ?? .infinity
                }
            }
        }
        var out = results.items
        out.sort { ($0.distance, $0.id) < ($1.distance, $1.id) }
        return out
    }

    /// k-NN search over live nodes; `accept` further restricts which nodes are returned.
    /// With `oversampling` and quantization on, the walk uses the codes and the best
    /// `k * oversampling` candidates are rescored on the full vectors.
    mutating func knn(_ q: UnsafePointer<Float>, k: Int, ef: Int,
                      filter: PayloadFilter?, oversampling: Int? = nil) -> [SearchHit] {
        guard let ep = entryPoint else { return [] }
        let codes = oversampling == nil ? nil : quantized
        codes?.prepare(q)
        let start = greedyDescent(q, from: maxLevel, to: 0, entry: ep, codes: codes)
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
            let pool = k * max(1, oversampling)
            let found = searchLayer(q, entry: start, ef: max(ef, pool), level: 0, accept: accept, codes: codes)
            var rescored = found.prefix(pool).map { (distance: distance(q, $0.id), id: $0.id) }
            rescored.sort { ($0.distance, $0.id) < ($1.distance, $1.id) }
            return rescored.prefix(k).map { SearchHit(id: externalIds[Int($0.id)], distance: $0.distance) }
        }
        let found = searchLayer(q, entry: start, ef: max(ef, k), level: 0, accept: accept)
        return found.prefix(k).map { SearchHit(id: externalIds[Int($0.id)], distance: $0.distance) }
    }

    /// Exact scan over live nodes that pass `filter`.
    func exactSearch(_ q: UnsafePointer<Float>, k: Int, filter: PayloadFilter?) -> [SearchHit] {
        var heap = DistanceHeap()
        for i in 0..<totalCount where !deleted[i] {
            if let filter, !filter.matches(payloads[i], id: externalIds[i]) { continue }
            let d = distance(q, UInt32(i))
            if heap.count < k { heap.push(d, UInt32(i)) } else if let t = heap.top, d < t.distance {
                heap.pop(); heap.push(d, UInt32(i))
            }
        }
        var items = heap.items
        items.sort { ($0.distance, externalIds[Int($0.id)]) < ($1.distance, externalIds[Int($1.id)]) }
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

    // MARK: construction

    /// `selectNeighborsHeuristic` (paper algorithm 4, without extending candidates): keep a
    /// candidate only if it is closer to the base than to every neighbour already kept.
    func selectNeighborsHeuristic(_ sorted: [(distance: Float, id: UInt32)], m: Int) -> [UInt32] {
        if sorted.count <= m { return sorted.map(\.id) }
        var kept: [UInt32] = []
        kept.reserveCapacity(m)
        for c in sorted {
            if kept.count >= m { break }
            var good = true
            for r in kept where distance(c.id, r) < c.distance { good = false; break }
            if good { kept.append(c.id) }
        }
        return kept
    }

    /// Adds the directed link `from -> to` on `level`, pruning with the heuristic when full.
    mutating func addLink(from: UInt32, to: UInt32, level: Int) {
        let current = neighbors(from, level: level)
        if current.contains(to) { return }
        let cap = maxLinks(level: level)
        if current.count < cap {
            var ids = Array(current); ids.append(to)
            setNeighbors(from, level: level, ids)
            return
        }
        scratch.removeAll(keepingCapacity: true)
        for n in current { scratch.append((distance(from, n), n)) }
        scratch.append((distance(from, to), to))
        scratch.sort { ($0.distance, $0.id) < ($1.distance, $1.id) }
        setNeighbors(from, level: level, selectNeighborsHeuristic(scratch, m: cap))
    }

    /// Links `node` (already stored, level known) into every level from its own down to 0.
    mutating func connect(_ node: UInt32) {
        guard let ep = entryPoint, ep != node || totalCount > 1 else { return }
        let nodeLevel = Int(levels[Int(node)])
        let q = storage.vector(node)
        var cur = greedyDescent(q, from: maxLevel, to: nodeLevel, entry: ep)
        var level = min(nodeLevel, maxLevel)
        while level >= 0 {
            var found = searchLayer(q, entry: cur, ef: params.efConstruction, level: level, accept: nil)
            found.removeAll { $0.id == node }
            if let first = found.first { cur = first.id }
            let chosen = selectNeighborsHeuristic(found, m: params.m)
            setNeighbors(node, level: level, chosen)
            for n in chosen { addLink(from: n, to: node, level: level) }
            level -= 1
        }
    }

    /// Inserts a new node for `externalId`; the vector is already validated.
    mutating func insert(externalId: UInt64, vector: [Float], payload: Payload) {
        let node = vector.withUnsafeBufferPointer { storage.append($0) }
        let level = randomLevel()
        levels.append(UInt8(level))
        upperLinks.append(level == 0 ? [] : [UInt32](repeating: 0, count: level * (params.m + 1)))
        externalIds.append(externalId)
        internalOf[externalId] = node
        deleted.append(false)
        payloads.append(payload)
        quantized?.append(vector)
        guard entryPoint != nil else { entryPoint = node; maxLevel = level; return }
        connect(node)
        if level > maxLevel { maxLevel = level; entryPoint = node }
    }

    /// Replaces the vector of an existing node and re-links it on all its levels.
    mutating func update(node: UInt32, vector: [Float], payload: Payload) {
        vector.withUnsafeBufferPointer { storage.replaceVector(node, with: $0) }
        payloads[Int(node)] = payload
        quantized?.replace(node, vector)
        if deleted[Int(node)] { deleted[Int(node)] = false; deletedCount -= 1 }
        connect(node)
    }

    mutating func markDeleted(_ externalId: UInt64) -> Bool {
        guard let node = internalOf[externalId], !deleted[Int(node)] else { return false }
        deleted[Int(node)] = true
        deletedCount += 1
        return true
    }
}
