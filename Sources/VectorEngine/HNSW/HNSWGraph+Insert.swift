/// Construction: level draws, `selectNeighborsHeuristic`, linking a node in, update, delete.
///
/// A node enters in two steps: ``appendUnlinked(externalId:vector:payload:)`` stores it and
/// draws its level (exclusive access), then ``link(_:scratch:)`` connects it. `link` is the
/// only construction step that may run on several threads at once (different nodes, while
/// ``linksChangeConcurrently``): it reads and writes each link list under that node's lock,
/// holds at most one node lock at a time, and changes the entry point under
/// ``HNSWEntryPoint``'s mutexes.
extension HNSWGraph {
    mutating func randomLevel() -> Int {
        let l = Int(-rng.nextUnitOpen().logValue * levelMultiplier)
        return min(l, 32)
    }

    /// The codes construction measures on instead of full vectors: the walk's int8, int4 or
    /// float16 codes when ``linksOnCodes`` (PQ and sign bits would cost the graph too much; tier
    /// codes change in background passes). Nil: construction reads full vectors.
    var linkCodes: _QuantizedStore? {
        guard linksOnCodes, let codes = quantized, codes.tiers == nil else { return nil }
        switch codes.kind {
        case .scalarInt8, .scalarInt4, .float16: return codes
        default: return nil
        }
    }

    /// `selectNeighborsHeuristic` (paper algorithm 4, without extending candidates): keep a
    /// candidate only if it is closer to the base than to every neighbour already kept.
    /// `sorted` is ascending; a candidate with id `skipping` (the base itself) is passed over.
    /// The kept ids replace the contents of `kept` (a reused buffer: no allocation once warm).
    /// With `codes`, a candidate's distance to the kept ones is measured from its decoded code
    /// (prepared in `query`, decoded into `buffer`).
    func selectNeighborsHeuristic(_ sorted: [(distance: Float, id: UInt32)], m: Int, skipping: UInt32? = nil,
                                  into kept: inout [UInt32], codes: _QuantizedStore? = nil,
                                  query: inout _QuantizedQuery, buffer: inout [Float]) {
        kept.removeAll(keepingCapacity: true)
        let skipped = skipping.map { s in sorted.contains { $0.id == s } } ?? false
        // No more candidates than room: keep them all, unpruned (hnswlib does the same).
        let keepAll = sorted.count - (skipped ? 1 : 0) <= m
        for c in sorted where c.id != skipping {
            if kept.count >= m { break }
            var good = true
            if !keepAll && !kept.isEmpty {
                if let codes {
                    codes.prepare(node: c.id, into: &query, buffer: &buffer)
                    for r in kept where codes.distance(r, &query) < c.distance { good = false; break }
                } else {
                    for r in kept where distance(c.id, r) < c.distance { good = false; break }
                }
            }
            if good { kept.append(c.id) }
        }
    }

    /// Runs `body`, under `id`'s link lock while a batch links in parallel.
    @inline(__always) private func changingLinks(of id: UInt32, _ body: () -> Void) {
        if linksChangeConcurrently { storage.withLinkLock(id, body) } else { body() }
    }

    /// Adds the directed link `from -> to` on `level`, pruning with the heuristic when full
    /// (measured on `codes` when given; the scratch's pruning buffers are reused).
    func addLink(from: UInt32, to: UInt32, level: Int, codes: _QuantizedStore?, _ scratch: inout HNSWSearchScratch) {
        changingLinks(of: from) {
            let current = storage.neighbors(from, level: level)
            if current.contains(to) { return }
            let cap = maxLinks(level: level)
            if current.count < cap {
                storage.appendNeighbor(from, level: level, to)
                return
            }
            scratch.pruneCandidates.removeAll(keepingCapacity: true)
            if let codes {
                codes.prepare(node: from, into: &scratch.linkQuery, buffer: &scratch.linkDecoded)
                for n in current { scratch.pruneCandidates.append((codes.distance(n, &scratch.linkQuery), n)) }
                scratch.pruneCandidates.append((codes.distance(to, &scratch.linkQuery), to))
            } else {
                for n in current { scratch.pruneCandidates.append((distance(from, n), n)) }
                scratch.pruneCandidates.append((distance(from, to), to))
            }
            prune(m: cap, codes: codes, &scratch)
            storage.setNeighbors(from, level: level, scratch.pruneKept)
        }
    }

    /// Keeps at most `m` of a node's candidate links by the heuristic, nearest first (ties by
    /// id): the one rule for a link list over its cap. `scratch.pruneCandidates` holds each
    /// candidate's distance to the node (sorted in place); the kept ids go to `scratch.pruneKept`.
    private func prune(m: Int, codes: _QuantizedStore?, _ scratch: inout HNSWSearchScratch) {
        scratch.pruneCandidates.sort { ($0.distance, $0.id) < ($1.distance, $1.id) }
        selectNeighborsHeuristic(scratch.pruneCandidates, m: m, into: &scratch.pruneKept, codes: codes,
                                 query: &scratch.linkQuery, buffer: &scratch.linkDecoded)
    }

    /// Links `node` (stored, level known) into every level from `min(its level, topLevel)` down
    /// to 0, starting the descent at `entry` on `topLevel`.
    func connect(_ node: UInt32, entry: UInt32, topLevel: Int, scratch: inout HNSWSearchScratch) {
        guard entry != node || totalCount > 1 else { return }
        let nodeLevel = Int(levels[Int(node)])
        let q = storage.vector(node)
        // On codes, the walks and the new node's own distances are measured from its full vector
        // (the only one read) to the others' codes, as a quantized search measures.
        let codes = linkCodes
        codes?.prepare(q, into: &scratch.quantizedQuery)
        var cur = greedyDescent(q, from: topLevel, to: nodeLevel, entry: entry, codes: codes, scratch: &scratch)
        var level = min(nodeLevel, topLevel)
        while level >= 0 {
            // `found` is the scratch's result buffer: read in place, never copied. It holds
            // `node` itself when an update re-links a node already in the graph.
            let found = searchLayer(q, entry: cur, ef: params.efConstruction, level: level, accept: nil, codes: codes,
                                    scratch: &scratch)
            if let first = found.first(where: { $0.id != node }) { cur = first.id }
            selectNeighborsHeuristic(found, m: params.m, skipping: node, into: &scratch.chosen, codes: codes,
                                     query: &scratch.linkQuery, buffer: &scratch.linkDecoded)
            changingLinks(of: node) {
                if linksChangeConcurrently { keepLinksAddedMeanwhile(node, level: level, codes: codes, &scratch) }
                storage.setNeighbors(node, level: level, scratch.chosen)
            }
            for n in scratch.chosen {
                addLink(from: n, to: node, level: level, codes: codes, &scratch)
            }
            level -= 1
        }
    }

    /// While a batch links in parallel, other nodes may have linked to `node` on `level` (and
    /// added themselves to its list) before it sets its own list there: a walk that reached
    /// `node` on a higher level starts from it on this one. Those links join `scratch.chosen`
    /// (pruned by the heuristic when over the cap, as ``addLink(from:to:level:_:_:)`` would
    /// have pruned them), instead of being overwritten: overwritten, the node that added itself
    /// could be left with no link in at all. Call under `node`'s link lock.
    private func keepLinksAddedMeanwhile(_ node: UInt32, level: Int, codes: _QuantizedStore?,
                                         _ scratch: inout HNSWSearchScratch) {
        let added = storage.neighbors(node, level: level)
        guard added.contains(where: { $0 != node && !scratch.chosen.contains($0) }) else { return }
        scratch.pruneCandidates.removeAll(keepingCapacity: true)
        // On codes, `scratch.quantizedQuery` is still prepared from `node`'s vector (``connect``).
        func measure(_ n: UInt32) -> Float {
            if let codes { return codes.distance(n, &scratch.quantizedQuery) }
            return distance(node, n)
        }
        for n in scratch.chosen {
            let d = measure(n)
            scratch.pruneCandidates.append((d, n))
        }
        for n in added where n != node && !scratch.chosen.contains(n) {
            let d = measure(n)
            scratch.pruneCandidates.append((d, n))
        }
        prune(m: maxLinks(level: level), codes: codes, &scratch)
        swap(&scratch.chosen, &scratch.pruneKept)
    }

    /// Connects a stored node and makes it the entry point when it lands above the top level.
    /// Safe on several threads at once for different nodes while ``linksChangeConcurrently``.
    func link(_ node: UInt32, scratch: inout HNSWSearchScratch) {
        let level = Int(levels[Int(node)])
        let seen = top.top
        if let entry = seen.node, level <= seen.level {
            connect(node, entry: entry, topLevel: seen.level, scratch: &scratch)
            return
        }
        // A new top level (or the first node): one such insert at a time, so the next one
        // links to this node on the levels it adds.
        top.promotion.withLock { _ in
            let now = top.top
            if let entry = now.node {
                connect(node, entry: entry, topLevel: now.level, scratch: &scratch)
            }
            if now.node == nil || level > now.level { top.set(.init(node: node, level: level)) }
        }
    }

    /// Stores a new node for `externalId` with a level from the seeded generator, not linked
    /// yet; the vector is already validated.
    mutating func appendUnlinked(externalId: UInt64, vector: [Float], payload: Payload) -> UInt32 {
        let level = randomLevel()
        let node = vector.withUnsafeBufferPointer { storage.append($0, level: level) }
        levels.append(UInt8(level))
        externalIds.append(externalId)
        internalOf[externalId] = node
        deleted.append(false)
        payloads.append(payload)
        quantized?.append(vector)
        return node
    }

    /// Inserts and links a new node for `externalId`; the vector is already validated. Throws
    /// only when on-disk storage cannot grow (nothing is stored then).
    mutating func insert(externalId: UInt64, vector: [Float], payload: Payload,
                         scratch: inout HNSWSearchScratch) throws(VectorEngineError) {
        try storage.reserveCapacity(totalCount + 1)
        let node = appendUnlinked(externalId: externalId, vector: vector, payload: payload)
        link(node, scratch: &scratch)
    }

    /// Replaces the vector and payload of a node that is stored but not linked yet.
    mutating func replaceUnlinked(node: UInt32, vector: [Float], payload: Payload) {
        vector.withUnsafeBufferPointer { storage.replaceVector(node, with: $0) }
        payloads[Int(node)] = payload
        quantized?.replace(node, vector)
    }

    /// Replaces the vector of an existing node and re-links it on all its levels.
    mutating func update(node: UInt32, vector: [Float], payload: Payload, scratch: inout HNSWSearchScratch) {
        replaceUnlinked(node: node, vector: vector, payload: payload)
        if deleted[Int(node)] { deleted[Int(node)] = false; deletedCount -= 1 }
        let now = top.top
        guard let entry = now.node else { return }
        connect(node, entry: entry, topLevel: now.level, scratch: &scratch)
    }

    mutating func markDeleted(_ externalId: UInt64) -> Bool {
        guard let node = internalOf[externalId], !deleted[Int(node)] else { return false }
        deleted[Int(node)] = true
        deletedCount += 1
        return true
    }
}
