import Dispatch
import Synchronization

extension HNSWIndex {
    /// Inserts or replaces `points`, linking the new ones on up to `threads` threads at once
    /// (pass the machine's core count for the fastest build). The outcome is that of calling
    /// ``upsert(id:vector:payload:)`` for each point in order, except for the order in which
    /// new points are linked; in particular new points get the same levels from the seeded
    /// generator, in the same order, so the level of every node is deterministic.
    ///
    /// ```swift
    /// try index.upsert(points, threads: ProcessInfo.processInfo.activeProcessorCount)
    /// ```
    ///
    /// The batch is validated first (dimension, finite values, room), so a bad point writes
    /// nothing. Searches run alongside and may already see some of the new points; single-point
    /// writes, deletes and other batches wait until it returns.
    ///
    /// Steps: (1) exclusive: existing ids are updated and re-linked one by one, new points are
    /// stored unlinked (storage grows here, once), walks switch to locked link reads; (2) shared,
    /// on `threads` threads: each new node is linked, under per-node link locks; (3) exclusive:
    /// walks switch back to lock-free link reads. The writer gate is held from (1) to (3).
    public func upsert(_ points: [VectorPoint], threads: Int) throws(VectorEngineError) {
        try checkLimit(threads >= 1 && threads <= 1024, "threads \(threads) must be in 1...1024")
        var vectors: [[Float]] = []
        vectors.reserveCapacity(points.count)
        for p in points { vectors.append(try prepareVector(p.vector, dimension: dimension, metric: metric)) }
        let workers = min(threads, access.slotCount)
        try access.withWriterGate { gate throws(VectorEngineError) in
            let pending = try access.exclusive(gate) { (g: inout HNSWGraph, s: inout HNSWSearchScratch) throws(VectorEngineError) in
                try g.storeBatch(points, vectors: vectors, scratch: &s)
            }
            guard !pending.isEmpty else { return }
            let next = Atomic<Int>(pending.lowerBound)
            DispatchQueue.concurrentPerform(iterations: min(workers, pending.count)) { _ in
                access.shared { g, scratch in
                    while true {
                        let node = next.add(1, ordering: .relaxed).oldValue
                        if node >= pending.upperBound { break }
                        g.link(UInt32(node), scratch: &scratch)
                    }
                }
            }
            access.exclusive(gate) { g, _ in g.linksChangeConcurrently = false }
        }
    }
}

extension HNSWGraph {
    /// Step (1) of ``HNSWIndex/upsert(_:threads:)``: applies updates and stores new points
    /// unlinked; returns the internal ids still to link, and turns on locked link reads when
    /// there are any. The first point of an empty graph becomes the entry point right away,
    /// as in a one-by-one build.
    mutating func storeBatch(_ points: [VectorPoint], vectors: [[Float]],
                             scratch: inout HNSWSearchScratch) throws(VectorEngineError) -> Range<Int> {
        var newIds = Set<UInt64>()
        for p in points where internalOf[p.id] == nil { newIds.insert(p.id) }
        try checkLimit(totalCount + newIds.count <= VectorEngineLimits.maxCount, "index is full")
        let firstNew = totalCount
        try storage.reserveCapacity(firstNew + newIds.count)
        for (p, v) in zip(points, vectors) {
            if let node = internalOf[p.id] {
                if Int(node) >= firstNew {
                    replaceUnlinked(node: node, vector: v, payload: p.payload)
                } else {
                    update(node: node, vector: v, payload: p.payload, scratch: &scratch)
                }
            } else {
                _ = appendUnlinked(externalId: p.id, vector: v, payload: p.payload)
            }
        }
        var pending = firstNew..<totalCount
        if entryPoint == nil, let first = pending.first {
            top.set(.init(node: UInt32(first), level: Int(levels[first])))
            pending = pending.dropFirst()
        }
        linksChangeConcurrently = !pending.isEmpty
        return pending
    }
}
