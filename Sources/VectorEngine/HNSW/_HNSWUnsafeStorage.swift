/// The only place in the HNSW code that touches raw memory: vectors and level-0 links in
/// flat, contiguous buffers indexed by internal id (hnswlib's layout), plus the
/// epoch-stamped visited marks. Not thread-safe; owned by one ``HNSWGraph`` behind a lock.
///
/// Layout: vector `i` at `vectors + i * dimension`; level-0 adjacency of node `i` at
/// `links0 + i * (m0 + 1)` where slot 0 is the neighbour count and slots 1...m0 the ids.
final class _HNSWUnsafeStorage {
    let dimension: Int
    let m0: Int
    private(set) var capacity: Int
    private(set) var count: Int = 0
    private(set) var vectors: UnsafeMutablePointer<Float>
    private(set) var links0: UnsafeMutablePointer<UInt32>
    private var visitedMarks: UnsafeMutablePointer<UInt32>
    private var epoch: UInt32 = 0

    init(dimension: Int, m0: Int, capacity: Int = 64) {
        self.dimension = dimension
        self.m0 = m0
        self.capacity = max(capacity, 1)
        vectors = .allocate(capacity: self.capacity * dimension)
        links0 = .allocate(capacity: self.capacity * (m0 + 1))
        visitedMarks = .allocate(capacity: self.capacity)
        visitedMarks.initialize(repeating: 0, count: self.capacity)
    }

    deinit {
        vectors.deallocate()
        links0.deallocate()
        visitedMarks.deallocate()
    }

    /// Appends a node with `vector` and no links; returns its internal id.
    func append(_ vector: UnsafeBufferPointer<Float>) -> UInt32 {
        precondition(vector.count == dimension)
        if count == capacity { grow(to: capacity * 2) }
        let id = count
        (vectors + id * dimension).update(from: vector.baseAddress!, count: dimension)
        (links0 + id * (m0 + 1)).initialize(repeating: 0, count: m0 + 1)
        count += 1
        return UInt32(id)
    }

    func replaceVector(_ id: UInt32, with vector: UnsafeBufferPointer<Float>) {
        precondition(Int(id) < count && vector.count == dimension)
        (vectors + Int(id) * dimension).update(from: vector.baseAddress!, count: dimension)
    }

    private func grow(to newCapacity: Int) {
        let nv = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity * dimension)
        nv.moveInitialize(from: vectors, count: count * dimension)
        vectors.deallocate(); vectors = nv
        let nl = UnsafeMutablePointer<UInt32>.allocate(capacity: newCapacity * (m0 + 1))
        nl.moveInitialize(from: links0, count: count * (m0 + 1))
        links0.deallocate(); links0 = nl
        let nm = UnsafeMutablePointer<UInt32>.allocate(capacity: newCapacity)
        nm.moveInitialize(from: visitedMarks, count: capacity)
        (nm + capacity).initialize(repeating: 0, count: newCapacity - capacity)
        visitedMarks.deallocate(); visitedMarks = nm
        capacity = newCapacity
    }

    @inline(__always) func vector(_ id: UInt32) -> UnsafePointer<Float> {
        UnsafePointer(vectors + Int(id) &* dimension)
    }

    func vectorArray(_ id: UInt32) -> [Float] {
        Array(UnsafeBufferPointer(start: vector(id), count: dimension))
    }

    /// Level-0 neighbours of `id` (a view valid until the next mutation).
    @inline(__always) func neighbors0(_ id: UInt32) -> UnsafeBufferPointer<UInt32> {
        let p = links0 + Int(id) &* (m0 &+ 1)
        return UnsafeBufferPointer(start: p + 1, count: Int(p[0]))
    }

    func setNeighbors0(_ id: UInt32, _ ids: some Collection<UInt32>) {
        precondition(ids.count <= m0 && Int(id) < count)
        let p = links0 + Int(id) * (m0 + 1)
        p[0] = UInt32(ids.count)
        var i = 1
        for x in ids { p[i] = x; i += 1 }
        // Unused slots stay zero so exported state is a pure function of the graph.
        while i <= m0 { p[i] = 0; i += 1 }
    }

    /// Starts a new traversal: all nodes become unvisited in O(1) (epoch counter).
    func newVisitEpoch() {
        epoch &+= 1
        if epoch == 0 {
            visitedMarks.update(repeating: 0, count: capacity)
            epoch = 1
        }
    }

    /// Marks `id` visited; returns whether it already was.
    @inline(__always) func testAndSetVisited(_ id: UInt32) -> Bool {
        let p = visitedMarks + Int(id)
        if p.pointee == epoch { return true }
        p.pointee = epoch
        return false
    }
}
