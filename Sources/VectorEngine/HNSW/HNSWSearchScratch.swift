/// Everything one graph walk writes: the visited set, the candidate and result heaps, the
/// pruning list of an insert and the prepared query of a quantized walk. Each search (and
/// each thread of a parallel insert) holds one of these for its duration, taken from the
/// index's pool (``SharedExclusiveAccess``), so walks never share mutable state and a warmed
/// scratch makes a search allocate nothing (hnswlib's `visited_list_pool`).
struct HNSWSearchScratch {
    /// Epoch-stamped visited marks and a buffer for link lists copied under their lock.
    let memory: _HNSWUnsafeScratch
    var candidates = DistanceHeap()
    var results = DistanceHeap()
    var pruneCandidates: [(distance: Float, id: UInt32)] = []
    /// The neighbours an insert picks for its node on one level.
    var chosen: [UInt32] = []
    /// What pruning a full link list keeps.
    var pruneKept: [UInt32] = []
    var quantizedQuery = _QuantizedQuery()
    /// Linking on codes: a neighbour's decoded code as the query of the pruning heuristic.
    var linkQuery = _QuantizedQuery()
    var linkDecoded: [Float] = []
    /// Level-0 nodes expanded and distances measured by the walks this scratch made, counted
    /// for ``HNSWIndex/walkWork(_:k:ef:oversampling:)`` (two additions per expansion).
    var expansions = 0
    var measured = 0
    /// Whether rescoring on vectors in an arena asks for them ahead (learned per slot).
    var rescoringPrefetch = RescoringPrefetch()

    init(maxDegree: Int) {
        memory = _HNSWUnsafeScratch(maxDegree: maxDegree)
    }
}

/// The raw memory of one ``HNSWSearchScratch``: visited marks (one small epoch per node, so
/// clearing the set is one increment) and room for one copied link list. Used by one thread
/// at a time: its owner holds the scratch's slot lock.
///
/// The marks are `UInt16`, as in hnswlib: half the memory of 4-byte marks (2 MB per search
/// slot at a million nodes; at 1M x 128 walks measured the same speed with either). Every
/// 65,535 walks the epoch wraps and the marks are zeroed.
final class _HNSWUnsafeScratch {
    typealias Mark = UInt16
    private var marks: UnsafeMutablePointer<Mark>
    private var markCapacity = 0
    private var epoch: Mark = 0
    /// Room for `maxDegree` ids, the most any link list holds.
    let neighborBuffer: UnsafeMutablePointer<UInt32>
    /// Room for `maxDegree` ids: the not yet visited neighbours of the node a walk expands.
    let freshNeighbors: UnsafeMutablePointer<UInt32>

    init(maxDegree: Int) {
        marks = _HugePageMemory.allocate(Mark.self, capacity: 0)
        neighborBuffer = .allocate(capacity: maxDegree)
        freshNeighbors = .allocate(capacity: maxDegree)
    }

    deinit {
        _HugePageMemory.deallocate(marks, capacity: markCapacity)
        neighborBuffer.deallocate()
        freshNeighbors.deallocate()
    }

    /// Starts a new traversal over nodes `0..<nodeCount`: every node becomes unvisited, in O(1)
    /// except when the set grows or the epoch wraps.
    func startVisit(nodeCount: Int) {
        if nodeCount > markCapacity {
            let bigger = Swift.max(nodeCount, markCapacity * 2)
            _HugePageMemory.deallocate(marks, capacity: markCapacity)
            marks = _HugePageMemory.allocate(Mark.self, capacity: bigger)
            marks.initialize(repeating: 0, count: bigger)
            markCapacity = bigger
            epoch = 0
        }
        epoch &+= 1
        if epoch == 0 {
            marks.update(repeating: 0, count: markCapacity)
            epoch = 1
        }
    }

    /// Marks `id` visited; returns whether it already was.
    @inline(__always) func testAndSetVisited(_ id: UInt32) -> Bool {
        let p = marks + Int(id)
        if p.pointee == epoch { return true }
        p.pointee = epoch
        return false
    }
}
