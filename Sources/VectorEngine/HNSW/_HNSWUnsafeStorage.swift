import Synchronization

/// The only place in the HNSW graph that touches raw memory: vectors, level-0 links and
/// upper-level links in buffers indexed by internal id (hnswlib's layout), plus one
/// `Mutex` per node that guards that node's link lists while a batch links in parallel.
///
/// Layout: vector `i` at `vectors + i * dimension`; level-0 adjacency of node `i` at
/// `links0 + i * (m0 + 1)` where slot 0 is the neighbour count and slots 1...m0 the ids;
/// node `i` with level `L > 0` owns a block at `upperLinks[i]` of `L * (m + 1)` slots,
/// level `l` at offset `(l - 1) * (m + 1)`, count first.
///
/// The vector and level-0 buffers may be borrowed (``adopt(count:capacity:vectors:links0:upperLinks:)``
/// from a memory-mapped snapshot): small ones are then used in place, never freed here, and
/// their owner is released when a grow copies them out or the storage goes away; large ones
/// (huge-page sized) are copied onto huge pages at once.
///
/// With a ``VectorArena`` (on-disk vectors) the vectors live in the arena instead, and with a
/// second one (on-disk graph) the level-0 links too: adopted buffers are copied into them,
/// growing resizes them (which may fail: `reserveCapacity` throws, and every append is preceded
/// by one), and nothing here frees them.
///
/// Concurrency contract (``HNSWIndex`` enforces it): `append`, `reserveCapacity`,
/// `replaceVector` and the state import run with exclusive access. While a batch links in
/// parallel, every read or write of a node's links happens inside ``withLinkLock(_:_:)`` of
/// that node; vectors and everything else are then read-only.
final class _HNSWUnsafeStorage {
    let dimension: Int
    let m: Int
    let m0: Int
    private(set) var capacity: Int
    private(set) var count: Int = 0
    private(set) var vectors: UnsafeMutablePointer<Float>
    private(set) var links0: UnsafeMutablePointer<UInt32>
    private var upperLinks: UnsafeMutablePointer<UnsafeMutablePointer<UInt32>?>
    private var linkLocks: UnsafeMutablePointer<Mutex<Void>>
    /// Keep borrowed `vectors` / `links0` valid; nil when this storage allocated them.
    private(set) var vectorsOwner: AnyObject?
    private(set) var links0Owner: AnyObject?
    /// Where the vectors live when they are off the heap; nil: on the heap (or borrowed).
    let arena: (any VectorArena)?
    /// Where the level-0 links live when they are off the heap; nil: on the heap (or borrowed).
    let linkArena: (any VectorArena)?

    init(dimension: Int, m: Int, capacity: Int = 64) {
        self.dimension = dimension
        self.m = m
        self.m0 = 2 * m
        self.capacity = max(capacity, 1)
        arena = nil
        linkArena = nil
        vectors = _HugePageMemory.allocate(Float.self, capacity: self.capacity * dimension)
        links0 = _HugePageMemory.allocate(UInt32.self, capacity: self.capacity * (m0 + 1))
        upperLinks = .allocate(capacity: self.capacity)
        linkLocks = .allocate(capacity: self.capacity)
        for i in 0..<self.capacity { (linkLocks + i).initialize(to: Mutex(())) }
    }

    /// Storage whose vectors live in `arena`, and its level-0 links in `linkArena` when given
    /// (empty; both resized here to `capacity` nodes).
    init(dimension: Int, m: Int, arena: any VectorArena, linkArena: (any VectorArena)?, capacity: Int = 64) throws(VectorEngineError) {
        self.dimension = dimension
        self.m = m
        self.m0 = 2 * m
        self.capacity = max(capacity, 1)
        try Self.reserve(arena, bytes: self.capacity * dimension * 4)
        if let linkArena { try Self.reserve(linkArena, bytes: self.capacity * (m0 + 1) * 4) }
        self.arena = arena
        self.linkArena = linkArena
        vectors = Self.floats(arena)
        vectorsOwner = arena
        if let linkArena {
            links0 = Self.slots(linkArena)
            links0Owner = linkArena
        } else {
            links0 = _HugePageMemory.allocate(UInt32.self, capacity: self.capacity * (m0 + 1))
        }
        upperLinks = .allocate(capacity: self.capacity)
        linkLocks = .allocate(capacity: self.capacity)
        for i in 0..<self.capacity { (linkLocks + i).initialize(to: Mutex(())) }
    }

    /// Grows `arena` to at least `bytes` (never shrinks it).
    static func reserve(_ arena: any VectorArena, bytes: Int) throws(VectorEngineError) {
        if arena.capacity < bytes { try arena.resize(toBytes: bytes) }
    }

    /// An arena's bytes as the vectors (after every resize: it may move).
    private static func floats(_ arena: any VectorArena) -> UnsafeMutablePointer<Float> {
        arena.base.bindMemory(to: Float.self, capacity: arena.capacity / MemoryLayout<Float>.stride)
    }

    /// An arena's bytes as level-0 link slots (after every resize: it may move).
    private static func slots(_ arena: any VectorArena) -> UnsafeMutablePointer<UInt32> {
        arena.base.bindMemory(to: UInt32.self, capacity: arena.capacity / MemoryLayout<UInt32>.stride)
    }

    deinit {
        for i in 0..<count { upperLinks[i]?.deallocate() }
        releaseOwnedBuffers()
        upperLinks.deallocate()
        linkLocks.deinitialize(count: capacity)
        linkLocks.deallocate()
    }

    /// Replaces the content of this empty storage by `count` nodes (state import): vectors and
    /// level-0 lists in the given buffers, used in place (a borrowed buffer with an owner) or
    /// copied (no owner); each buffer has room for `capacity` nodes (at least `count`, and at
    /// least one, so growing by doubling works). `upperLinks(i)` gives node
    /// `i`'s upper-level slots (its level times `m + 1`; empty for level 0).
    func adopt(count: Int, capacity: Int, vectors newVectors: BorrowedBuffer<Float>?, vectorArray: [Float],
               links0 newLinks: BorrowedBuffer<UInt32>?, links0Array: [UInt32], upperLinks slots: (Int) -> [UInt32]) {
        precondition(self.count == 0 && capacity >= Swift.max(count, 1))
        releaseOwnedBuffers()
        if let arena {
            // Sized by the caller (``HNSWIndex/init(state:vectorArenas:)``) before anything changed.
            precondition(arena.capacity >= capacity * dimension * 4)
            vectors = Self.floats(arena)
            let source = newVectors.map { UnsafePointer($0.base) }
            precondition((newVectors?.count ?? vectorArray.count) == count * dimension)
            if let source {
                vectors.update(from: source, count: count * dimension)
            } else {
                vectorArray.withUnsafeBufferPointer { if let b = $0.baseAddress { vectors.update(from: b, count: $0.count) } }
            }
        } else if let newVectors {
            precondition(newVectors.capacity >= capacity * dimension && newVectors.count == count * dimension)
            (vectors, vectorsOwner) = Self.place(newVectors, capacity: capacity * dimension)
        } else {
            precondition(vectorArray.count == count * dimension)
            vectors = _HugePageMemory.allocate(Float.self, capacity: capacity * dimension)
            vectorArray.withUnsafeBufferPointer { if let b = $0.baseAddress { vectors.initialize(from: b, count: $0.count) } }
            vectorsOwner = nil
        }
        if let linkArena {
            // Sized by the caller, like the vectors' arena.
            precondition(linkArena.capacity >= capacity * (m0 + 1) * 4)
            links0 = Self.slots(linkArena)
            precondition((newLinks?.count ?? links0Array.count) == count * (m0 + 1))
            if let newLinks {
                links0.update(from: newLinks.base, count: count * (m0 + 1))
            } else {
                links0Array.withUnsafeBufferPointer { if let b = $0.baseAddress { links0.update(from: b, count: $0.count) } }
            }
            links0Owner = linkArena
        } else if let newLinks {
            precondition(newLinks.capacity >= capacity * (m0 + 1) && newLinks.count == count * (m0 + 1))
            (links0, links0Owner) = Self.place(newLinks, capacity: capacity * (m0 + 1))
        } else {
            precondition(links0Array.count == count * (m0 + 1))
            links0 = _HugePageMemory.allocate(UInt32.self, capacity: capacity * (m0 + 1))
            links0Array.withUnsafeBufferPointer { if let b = $0.baseAddress { links0.initialize(from: b, count: $0.count) } }
            links0Owner = nil
        }
        upperLinks.deallocate()
        upperLinks = .allocate(capacity: capacity)
        for i in 0..<count {
            let block = slots(i)
            if block.isEmpty {
                upperLinks[i] = nil
            } else {
                let p = UnsafeMutablePointer<UInt32>.allocate(capacity: block.count)
                block.withUnsafeBufferPointer { if let b = $0.baseAddress { p.initialize(from: b, count: $0.count) } }
                upperLinks[i] = p
            }
        }
        linkLocks.deinitialize(count: self.capacity)
        linkLocks.deallocate()
        linkLocks = .allocate(capacity: capacity)
        for i in 0..<capacity { (linkLocks + i).initialize(to: Mutex(())) }
        self.capacity = capacity
        self.count = count
    }

    /// Where an adopted buffer lives: in place, kept valid by its owner; or, when `capacity`
    /// elements are enough for huge pages, copied onto them and let go (a walk reads the buffer
    /// at random, and a file mapping stays on 4 KiB pages: about 1.4x the search time at
    /// 1M x 128, 1.1x at 100k x 384).
    private static func place<T>(_ buffer: BorrowedBuffer<T>, capacity: Int) -> (UnsafeMutablePointer<T>, AnyObject?) {
        guard _HugePageMemory.isMapped(T.self, capacity: capacity) else { return (buffer.base, buffer.owner) }
        let copy = _HugePageMemory.allocate(T.self, capacity: capacity)
        copy.initialize(from: buffer.base, count: buffer.count)
        return (copy, nil)
    }

    /// Appends a node with `vector`, level `level` and no links; returns its internal id.
    func append(_ vector: UnsafeBufferPointer<Float>, level: Int) -> UInt32 {
        precondition(vector.count == dimension && level >= 0)
        guard let source = vector.baseAddress else { preconditionFailure("dimension is at least 1") }
        if count == capacity {
            // An arena's growth can fail, so its callers reserve first (``reserveCapacity(_:)``).
            precondition(arena == nil, "append to an arena without reserving room")
            try? grow(to: capacity * 2)
        }
        let id = count
        (vectors + id * dimension).update(from: source, count: dimension)
        (links0 + id * (m0 + 1)).initialize(repeating: 0, count: m0 + 1)
        if level > 0 {
            let block = UnsafeMutablePointer<UInt32>.allocate(capacity: level * (m + 1))
            block.initialize(repeating: 0, count: level * (m + 1))
            upperLinks[id] = block
        } else {
            upperLinks[id] = nil
        }
        count += 1
        return UInt32(id)
    }

    /// Makes room for `total` nodes, so appending up to there moves no buffer. Throws only for
    /// an arena that cannot grow (disk full); the storage is then unchanged.
    func reserveCapacity(_ total: Int) throws(VectorEngineError) {
        if total > capacity { try grow(to: Swift.max(total, capacity * 2)) }
    }

    func replaceVector(_ id: UInt32, with vector: UnsafeBufferPointer<Float>) {
        precondition(Int(id) < count && vector.count == dimension)
        guard let source = vector.baseAddress else { preconditionFailure("dimension is at least 1") }
        (vectors + Int(id) * dimension).update(from: source, count: dimension)
    }

    /// Frees the vector and level-0 buffers this storage allocated (at the current capacity);
    /// borrowed ones are left to their owners.
    private func releaseOwnedBuffers() {
        if vectorsOwner == nil && arena == nil { _HugePageMemory.deallocate(vectors, capacity: capacity * dimension) }
        if links0Owner == nil { _HugePageMemory.deallocate(links0, capacity: capacity * (m0 + 1)) }
    }

    // Runs with exclusive access only: nobody holds a link lock or a pointer into a buffer.
    // Borrowed buffers are copied out and their owners released (a mapping is unmapped).
    private func grow(to newCapacity: Int) throws(VectorEngineError) {
        // The arenas first: the only steps that can fail, and they keep the content (an arena
        // that grew, and maybe moved, before the other one failed is only larger).
        if let arena {
            try Self.reserve(arena, bytes: newCapacity * dimension * 4)
            vectors = Self.floats(arena)
        }
        if let linkArena {
            try Self.reserve(linkArena, bytes: newCapacity * (m0 + 1) * 4)
            links0 = Self.slots(linkArena)
        }
        let nv: UnsafeMutablePointer<Float>
        if let arena {
            nv = Self.floats(arena)
        } else {
            nv = _HugePageMemory.allocate(Float.self, capacity: newCapacity * dimension)
            nv.initialize(from: vectors, count: count * dimension)
        }
        let nl: UnsafeMutablePointer<UInt32>
        if let linkArena {
            nl = Self.slots(linkArena)
        } else {
            nl = _HugePageMemory.allocate(UInt32.self, capacity: newCapacity * (m0 + 1))
            nl.initialize(from: links0, count: count * (m0 + 1))
        }
        releaseOwnedBuffers()
        vectors = nv
        vectorsOwner = arena
        links0 = nl
        links0Owner = linkArena
        let nu = UnsafeMutablePointer<UnsafeMutablePointer<UInt32>?>.allocate(capacity: newCapacity)
        nu.moveInitialize(from: upperLinks, count: count)
        upperLinks.deallocate(); upperLinks = nu
        // Unlocked mutexes hold no state, so fresh ones replace the old ones.
        linkLocks.deinitialize(count: capacity)
        linkLocks.deallocate()
        linkLocks = .allocate(capacity: newCapacity)
        for i in 0..<newCapacity { (linkLocks + i).initialize(to: Mutex(())) }
        capacity = newCapacity
    }

    /// Moves node `order[i]` to position `i` (`newOf` is the inverse: `newOf[order[i]] == i`) and
    /// renames every link through `newOf`; `levels` are the nodes' levels before the move. Heap
    /// buffers are permuted where they lie (``InPlacePermutation``: one row aside, a bit per
    /// node); arena-backed ones too, through a scratch arena from `arenas` that is released
    /// afterwards, in passes that read and write the files in order (a permutation row by row
    /// would read a page at random for every node, and under a memory limit most of them from
    /// disk: 65 s at 800,000 x 128). Exclusive access. Throws only when the scratch arena cannot
    /// be made; nothing has changed then.
    func renumber(_ order: [UInt32], newOf: [UInt32], levels: [UInt8], arenas: (any VectorArenaProvider)?) throws(VectorEngineError) {
        precondition(order.count == count && newOf.count == count && levels.count == count)
        let row0 = m0 + 1
        var scratch: (any VectorArena)?
        if arena != nil || linkArena != nil {
            guard let arenas else { preconditionFailure("an index with arenas has a provider") }
            let bytes = Swift.max(arena == nil ? 0 : count * dimension * 4, linkArena == nil ? 0 : count * row0 * 4)
            scratch = try arenas.makeArena(bytes: Swift.max(bytes, 1))
        }
        // Nothing below throws. Borrowed heap buffers (a snapshot's mapping) are copied out before
        // they are written (growing to the same capacity copies; arenas do not grow).
        if (vectorsOwner != nil && arena == nil) || (links0Owner != nil && linkArena == nil) { try? grow(to: capacity) }
        @inline(__always) func rename(_ list: UnsafeMutablePointer<UInt32>) {
            let n = Int(list[0])
            guard n > 0 else { return }
            for j in 1...n { list[j] = newOf[Int(list[j])] }
        }
        for i in 0..<count {
            if let block = upperLinks[i] {
                for level in 0..<Int(levels[i]) { rename(block + level * (m + 1)) }
            }
        }
        InPlacePermutation.apply(order, rows: UnsafeMutableRawPointer(upperLinks),
                                 rowBytes: MemoryLayout<UnsafeMutablePointer<UInt32>?>.stride)
        if let arena, let scratch {
            InPlacePermutation.apply(newOf, rowBytes: dimension * 4, in: arena, through: scratch)
        } else {
            InPlacePermutation.apply(order, rows: UnsafeMutableRawPointer(vectors), rowBytes: dimension * 4)
        }
        if let linkArena, let scratch {
            InPlacePermutation.apply(newOf, rowBytes: row0 * 4, in: linkArena, through: scratch) {
                rename($0.assumingMemoryBound(to: UInt32.self))
            }
        } else {
            for i in 0..<count { rename(links0 + i * row0) }
            InPlacePermutation.apply(order, rows: UnsafeMutableRawPointer(links0), rowBytes: row0 * 4)
        }
    }

    @inline(__always) func vector(_ id: UInt32) -> UnsafePointer<Float> {
        UnsafePointer(vectors + Int(id) &* dimension)
    }

    /// Tells an arena that `id`'s vector is about to be read (rescoring), so a paged-out one
    /// starts loading while other work runs; nothing for heap vectors.
    @inline(__always) func willRead(_ id: UInt32) {
        arena?.willRead(offset: Int(id) &* dimension &* 4, count: dimension &* 4)
    }

    func vectorArray(_ id: UInt32) -> [Float] {
        Array(UnsafeBufferPointer(start: vector(id), count: dimension))
    }

    /// The count slot of `id`'s list on `level`, followed by its link slots.
    @inline(__always) private func listStart(_ id: UInt32, level: Int) -> UnsafeMutablePointer<UInt32> {
        if level == 0 { return links0 + Int(id) &* (m0 &+ 1) }
        guard let block = upperLinks[Int(id)] else { preconditionFailure("node \(id) has no level \(level)") }
        return block + (level &- 1) &* (m &+ 1)
    }

    /// Where `id`'s level-0 list starts, computed without reading memory (for a prefetch hint).
    @inline(__always) func level0LinksAddress(_ id: UInt32) -> UnsafeRawPointer {
        UnsafeRawPointer(links0 + Int(id) &* (m0 &+ 1))
    }

    /// Neighbours of `id` on `level`: a view valid until the list changes. While a batch links
    /// in parallel, call it only inside ``withLinkLock(_:_:)`` of `id`.
    @inline(__always) func neighbors(_ id: UInt32, level: Int) -> UnsafeBufferPointer<UInt32> {
        let p = listStart(id, level: level)
        return UnsafeBufferPointer(start: p + 1, count: Int(p[0]))
    }

    /// Copies `id`'s neighbours on `level` into `buffer` (room for `m0` ids) under the node's
    /// link lock; returns the copy.
    @inline(__always)
    func lockedCopyOfNeighbors(_ id: UInt32, level: Int,
                               into buffer: UnsafeMutablePointer<UInt32>) -> UnsafeBufferPointer<UInt32> {
        let n = linkLocks[Int(id)].withLock { _ -> Int in
            let list = neighbors(id, level: level)
            if let base = list.baseAddress { buffer.update(from: base, count: list.count) }
            return list.count
        }
        return UnsafeBufferPointer(start: buffer, count: n)
    }

    func setNeighbors(_ id: UInt32, level: Int, _ ids: some Collection<UInt32>) {
        let cap = level == 0 ? m0 : m
        precondition(ids.count <= cap && Int(id) < count)
        let p = listStart(id, level: level)
        p[0] = UInt32(ids.count)
        var i = 1
        for x in ids { p[i] = x; i += 1 }
        // Unused slots stay zero so exported state is a pure function of the graph.
        while i <= cap { p[i] = 0; i += 1 }
    }

    /// Adds `neighbor` at the end of `id`'s list on `level`, which must have room.
    func appendNeighbor(_ id: UInt32, level: Int, _ neighbor: UInt32) {
        let p = listStart(id, level: level)
        let n = Int(p[0])
        precondition(n < (level == 0 ? m0 : m))
        p[n + 1] = neighbor
        p[0] = UInt32(n + 1)
    }

    /// Runs `body` holding `id`'s link lock (never while holding another node's).
    @inline(__always) func withLinkLock(_ id: UInt32, _ body: () -> Void) {
        linkLocks[Int(id)].withLock { _ in body() }
    }

    /// All slots of `id`'s upper levels (count first per level), as exported in ``HNSWState``.
    func upperLinkSlots(_ id: UInt32, level: Int) -> [UInt32] {
        guard let block = upperLinks[Int(id)] else { return [] }
        return Array(UnsafeBufferPointer(start: block, count: level * (m + 1)))
    }

    /// Overwrites `id`'s upper-level slots; `slots.count` must be `level * (m + 1)`.
    func setUpperLinkSlots(_ id: UInt32, _ slots: [UInt32]) {
        guard let block = upperLinks[Int(id)] else { precondition(slots.isEmpty); return }
        slots.withUnsafeBufferPointer { s in
            guard let source = s.baseAddress else { return }
            block.update(from: source, count: s.count)
        }
    }

    /// Bytes per node besides vector and links: its link lock and its upper-links pointer.
    static var perNodeOverheadBytes: Int {
        MemoryLayout<Mutex<Void>>.stride + MemoryLayout<UnsafeMutablePointer<UInt32>?>.stride
    }
}
