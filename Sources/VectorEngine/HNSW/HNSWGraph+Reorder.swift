/// Graph reordering: the same graph with its nodes renumbered so that nodes a walk visits one
/// after another sit near each other in memory (and, for on-disk vectors and links, in the
/// same pages). Internal ids are only storage positions: links, levels, external ids,
/// tombstones, payloads, codes and tiers move with their node, so every search returns what
/// it returned before; only `scroll`'s order (storage order) changes.
///
/// The order is breadth-first over level 0 from the entry point (a walk starts there and
/// follows level-0 links), then breadth-first from each node not reached yet, in storage order.
/// Measured (`vector-bench --reorder 1`, docs/benchmarks/vector-search.md): +25% f32 QPS at
/// recall 0.95 at 1M x 128, +15% at 200k x 128, +14% at 100k x 384.
///
/// Two ways: a renumbered copy (``renumbered(_:)``: searches walk the old graph meanwhile; memory
/// for a second index) or in place (``renumberInPlace(_:)``: exclusive, a bit per node of extra
/// memory beyond the order itself), for indexes kept in less memory than a copy.
extension HNSWGraph {
    /// Every internal id once, in breadth-first order of level 0 from the entry point.
    func breadthFirstOrder() -> [UInt32] {
        let n = totalCount
        var order: [UInt32] = []
        order.reserveCapacity(n)
        var seen = [Bool](repeating: false, count: n)
        func visit(from start: UInt32) {
            seen[Int(start)] = true
            order.append(start)
            var head = order.count - 1
            while head < order.count {
                let node = order[head]
                head += 1
                for next in storage.neighbors(node, level: 0) where !seen[Int(next)] {
                    seen[Int(next)] = true
                    order.append(next)
                }
            }
        }
        if let entry = entryPoint { visit(from: entry) }
        for i in 0..<n where !seen[i] { visit(from: UInt32(i)) }
        return order
    }

    /// This graph with node `order[i]` stored as node `i` (`order` is a permutation of the
    /// internal ids), in new storage (new arenas for on-disk vectors and links) with a renumbered
    /// copy of the quantizer and a new ``layout``; this graph stays as it was, so searches may walk
    /// it meanwhile. Not for a tiered quantizer (its tiers move in background passes: see
    /// ``_QuantizedStore/renumberedCopy(_:)``), nor where memory has no room for a second index:
    /// ``renumberInPlace(_:)`` then. Throws only when on-disk storage has no room for the new
    /// graph; nothing has changed then.
    func renumbered(_ order: [UInt32]) throws(VectorEngineError) -> HNSWGraph {
        let n = totalCount
        precondition(order.count == n && !linksChangeConcurrently)
        var fresh = try HNSWGraph(dimension: dimension, metric: metric, params: params, arenas: arenas,
                                  linksOffHeap: linksOffHeap, capacity: max(n, 64))
        try fresh.storage.reserveCapacity(n)
        // Nothing below throws.
        let newOf = Self.inverse(order)
        fresh.levels.reserveCapacity(n)
        fresh.externalIds.reserveCapacity(n)
        fresh.deleted.reserveCapacity(n)
        fresh.payloads.reserveCapacity(n)
        fresh.internalOf.reserveCapacity(n)
        for old in order.lazy.map(Int.init) {
            let node = fresh.storage.append(UnsafeBufferPointer(start: storage.vector(UInt32(old)), count: dimension),
                                            level: Int(levels[old]))
            fresh.levels.append(levels[old])
            fresh.externalIds.append(externalIds[old])
            fresh.internalOf[externalIds[old]] = node
            fresh.deleted.append(deleted[old])
            fresh.payloads.append(payloads[old])
        }
        fresh.deletedCount = deletedCount
        var mapped: [UInt32] = []
        mapped.reserveCapacity(params.m0)
        for (new, old) in order.enumerated() {
            for level in 0...Int(levels[Int(old)]) {
                mapped.removeAll(keepingCapacity: true)
                for target in storage.neighbors(old, level: level) { mapped.append(newOf[Int(target)]) }
                fresh.storage.setNeighbors(UInt32(new), level: level, mapped)
            }
        }
        fresh.top.set(.init(node: entryPoint.map { newOf[Int($0)] }, level: maxLevel))
        fresh.rng = rng
        fresh.linksOnCodes = linksOnCodes
        fresh.layout = Self.newLayout(after: layout)
        fresh.orderedCount = n
        fresh.quantized = quantized.map { codes in
            guard let copy = codes.renumberedCopy(order) else { preconditionFailure("a tiered quantizer is renumbered in place") }
            return copy
        }
        return fresh
    }

    /// This graph with node `order[i]` moved to position `i`, in place: what is on the heap
    /// (vectors or links kept there, upper links, levels, ids, tombstones, payloads, codes) is
    /// permuted where it lies, with a bit per node and one row aside as extra memory, and on-disk
    /// vectors and links where they lie too, through a scratch arena passed over in order. For a
    /// collection kept in less memory than a second copy of its index (on-disk vectors under a
    /// memory limit) and for tiered codes. Needs exclusive access: searches wait. Throws only
    /// when on-disk storage has no room for the scratch arena; nothing has changed then.
    mutating func renumberInPlace(_ order: [UInt32]) throws(VectorEngineError) {
        let n = totalCount
        precondition(order.count == n && !linksChangeConcurrently)
        let newOf = Self.inverse(order)
        try storage.renumber(order, newOf: newOf, levels: levels, arenas: arenas)
        // Nothing below throws.
        InPlacePermutation.apply(order, to: &levels)
        InPlacePermutation.apply(order, to: &externalIds)
        InPlacePermutation.apply(order, to: &deleted)
        InPlacePermutation.apply(order, to: &payloads)
        for slot in internalOf.values.indices { internalOf.values[slot] = newOf[Int(internalOf.values[slot])] }
        top.set(.init(node: entryPoint.map { newOf[Int($0)] }, level: maxLevel))
        layout = Self.newLayout(after: layout)
        orderedCount = n
        quantized?.renumber(order, vectors: storage.vector)
    }

    /// `newOf[order[i]] == i`.
    private static func inverse(_ order: [UInt32]) -> [UInt32] {
        var newOf = [UInt32](repeating: 0, count: order.count)
        for (new, old) in order.enumerated() { newOf[Int(old)] = UInt32(new) }
        return newOf
    }
}
