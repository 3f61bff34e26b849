/// What a batch expand reads of the store: a node's adjacency a window of rows at a time.
extension GraphStore {
    /// Reads the start, middle and end of `node`'s adjacency in `direction`, bringing it into
    /// cache, and returns a number made of what it read. A walk of many nodes touches each
    /// first, in a loop that waits on nothing it loads, so the cache misses of many nodes
    /// overlap instead of each stalling the walk in turn.
    @inline(__always)
    func touchAdjacency(of node: Int, _ direction: Direction) -> Int {
        var sum = 0
        if direction != .incoming { sum &+= outgoing.withElement(node) { $0.touch } ?? 0 }
        if direction != .outgoing { sum &+= incoming.withElement(node) { $0.touch } ?? 0 }
        return sum
    }

    /// At most how many relationships `node` has in `direction` (read from the list's own
    /// count, without loading its entries).
    @inline(__always)
    func adjacencyCount(of node: Int, _ direction: Direction) -> Int {
        var count = 0
        if direction != .incoming { count += outgoing.withElement(node) { $0.count } ?? 0 }
        if direction != .outgoing { count += incoming.withElement(node) { $0.count } ?? 0 }
        return count
    }

    /// Writes each relationship of `node` of `types` (by number; nil: any) in `direction`, in the
    /// order `forEachRelationship` gives them, at `rows`, `relationships` and `ends` (the row
    /// `k`, the relationship, its other end) from position `at`; returns the position after the
    /// last. The buffers must have room for `adjacencyCount(of:_:)` more.
    @inline(__always)
    func gatherRelationships(of node: Int, typeNumbers types: [UInt32]?, _ direction: Direction, row k: Int,
                             rows: UnsafeMutableBufferPointer<Int>, relationships: UnsafeMutableBufferPointer<Int>,
                             ends: UnsafeMutableBufferPointer<Int>, at start: Int) -> Int {
        var n = start
        forEachRelationship(of: node, typeNumbers: types, direction) { rid, other in
            rows[n] = k
            relationships[n] = rid
            ends[n] = other
            n += 1
        }
        return n
    }
}
