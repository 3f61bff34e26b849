/// Runs a `BatchPlan`: the scan fills blocks of node ids, each expand turns the blocks it is
/// handed into blocks of the rows it reaches, and the last blocks go to the aggregation
/// (`BatchAggregation`). A step hands a block on once it is full (and what is left at the
/// end), so the rows reach the aggregation in the order the row pipeline makes them: groups
/// are first seen, floats summed and ties of min and max met in the same order.
///
/// It scans the runs of ids it is given: all of the scan's, or one part of them when the query
/// runs on several threads (one runner and aggregation per part, see `Executor.runBatched`).
/// The call's cancel and deadline are polled once per block handed on (and `stop`, raised when
/// another part failed); the blocks' memory is held while it runs; PROFILE counts each step's
/// rows and time as `PlanRunner` does.
final class BatchRunner {
    private let store: GraphStore
    private let control: QueryControl
    private let plan: BatchPlan
    private let profile: PlanProfile?
    private let aggregation: BatchAggregation
    private let runs: ArraySlice<ArraySlice<Int>>
    /// The labels each scanned id must carry besides the one it was found under.
    private let others: LabelTest
    private let stop: BatchStop?
    /// The rows each step makes: the scan's first, then each expand's.
    private let blocks: [BatchRows]
    /// Each expand's relationship types by number (nil: any) and the labels its end must carry.
    private let types: [[UInt32]?]
    private let targets: [LabelTest]
    /// What the last block's adjacency reads added up to: kept, so they are not optimised away.
    private var touched = 0
    /// Rows an expand touches the adjacency of before it walks them.
    private static let window = 128
    /// Each expand's relationships of a window, gathered before they are checked (see `expand`):
    /// one set per expand, as an expand's rows run the expands after it while it is mid-window.
    private let gathered: [Gathered]
    private static let gatheredCapacity = 4 * BatchRows.capacity

    /// (row, relationship, other end) of each gathered relationship.
    private struct Gathered {
        let rows = BatchBuffer(repeating: 0, capacity: BatchRunner.gatheredCapacity)
        let relationships = BatchBuffer(repeating: 0, capacity: BatchRunner.gatheredCapacity)
        let ends = BatchBuffer(repeating: 0, capacity: BatchRunner.gatheredCapacity)
        var capacity: Int { BatchRunner.gatheredCapacity }
    }

    init(_ plan: BatchPlan, slots: Int, runs: ArraySlice<ArraySlice<Int>>, of source: BatchSource, _ store: GraphStore,
         _ control: QueryControl, profile: PlanProfile?, stop: BatchStop?, into aggregation: BatchAggregation) {
        self.store = store
        self.control = control
        self.plan = plan
        self.profile = profile
        self.aggregation = aggregation
        self.runs = runs
        self.stop = stop
        others = LabelTest(source.others, store)
        blocks = plan.carried.map { BatchRows(slots: slots, carried: $0) }
        types = plan.expands.map { store.relationshipTypes.numbers(of: $0.types) }
        targets = plan.expands.map { LabelTest($0.target.labels, store) }
        gathered = plan.expands.map { _ in Gathered() }
    }

    /// Bytes the runner holds while it runs (its blocks and buffers), besides the aggregation's.
    var scratchBytes: Int {
        plan.carried.reduce(0) { $0 + BatchRows.bytes(carried: $1.count) } + 3 * plan.expands.count * BatchBuffer<Int>.bytes(capacity: Self.gatheredCapacity)
    }

    /// Runs the scan, the expands and the aggregation to the end. What it holds meanwhile (its
    /// blocks, the aggregation's buffers and what its inputs make to read columns) is held as
    /// the query's transient bytes, given back when it returns.
    func run() throws(GraphError) {
        let mark = control.mark
        defer { control.release(to: mark) }
        try control.hold(scratchBytes + aggregation.scratchBytes)
        profile?.rows[0] += 1
        try PlanProfile.timing(profile, 0) { () throws(GraphError) in try scan() }
        // What is left in each block, in step order: handing one on may fill the next.
        for step in blocks.indices where blocks[step].count > 0 { try handOn(step) }
        aggregation.endOfRows()
    }

    /// The scan: each run's ids that carry the other labels, in blocks.
    private func scan() throws(GraphError) {
        let out = blocks[0]
        let slot = out[plan.scan.slot]
        for run in runs {
            try control.check()
            // The count is kept here, not in the block (a class's property is checked for
            // exclusive access on every use), and stored before the block is handed on.
            var n = out.count
            if others.testsNothing {
                // Every id is a row: copied a block's room at a time.
                var rest = run[...]
                while !rest.isEmpty {
                    let taken = min(rest.count, BatchRows.capacity - n)
                    _ = UnsafeMutableBufferPointer(rebasing: slot[n..<(n + taken)]).initialize(from: rest.prefix(taken))
                    rest = rest.dropFirst(taken)
                    n += taken
                    if n == BatchRows.capacity {
                        out.count = n
                        try handOn(0)
                        n = 0
                    }
                }
                out.count = n
                continue
            }
            for id in run where others.contains(id, store) {
                slot[n] = id
                n += 1
                if n == BatchRows.capacity {
                    out.count = n
                    try handOn(0)
                    n = 0
                }
            }
            out.count = n
        }
    }

    /// Hands the rows of `blocks[step]` to the step after it (an expand, or the aggregation)
    /// and empties the block.
    private func handOn(_ step: Int) throws(GraphError) {
        try BatchStop.checkBeforeBlock(control, stop)
        profile?.rows[step + 1] += blocks[step].count
        try PlanProfile.timing(profile, step + 1) { () throws(GraphError) in try consume(step) }
        blocks[step].count = 0
    }

    private func consume(_ step: Int) throws(GraphError) {
        if step == plan.expands.count {
            try aggregation.add(blocks[step])
        } else {
            try expand(step)
        }
    }

    /// Expand `e` of the plan (`e` is also the block it reads): each row's relationships, in
    /// the order the row pipeline follows them, each one that matches a row of the next block.
    ///
    /// A window of rows at a time: the adjacency of its nodes is first read through (each read
    /// independent of the others, so their cache misses overlap instead of each stalling the
    /// walk in turn), then its relationships of the pattern's types gathered, then each
    /// checked and made a row. A node with more relationships than the gathered buffers hold
    /// is walked on its own.
    private func expand(_ e: Int) throws(GraphError) {
        let expand = plan.expands[e]
        let input = blocks[e]
        let from = input[expand.from]
        let gathered = self.gathered[e]
        var touched = 0
        var start = 0
        while start < input.count {
            let end = min(start + Self.window, input.count)
            for k in start..<end { touched &+= store.touchAdjacency(of: from[k], expand.direction) }
            var n = 0
            for k in start..<end {
                let degree = store.adjacencyCount(of: from[k], expand.direction)
                if n + degree > gathered.capacity {
                    try emit(e, n)
                    n = 0
                }
                if degree > gathered.capacity {
                    try walk(e, row: k)
                    continue
                }
                n = store.gatherRelationships(of: from[k], typeNumbers: types[e], expand.direction, row: k,
                                              rows: gathered.rows.elements, relationships: gathered.relationships.elements,
                                              ends: gathered.ends.elements, at: n)
            }
            try emit(e, n)
            start = end
        }
        self.touched = touched
    }

    /// The rows of expand `e` for the first `count` gathered relationships.
    private func emit(_ e: Int, _ count: Int) throws(GraphError) {
        let gathered = self.gathered[e]
        try emit(e, count) { body throws(GraphError) in
            for i in 0..<count {
                try body(gathered.rows.elements[i], gathered.relationships.elements[i], gathered.ends.elements[i])
            }
        }
    }

    /// The rows of expand `e` for row `k`'s relationships, walked one at a time (a node with
    /// more than the gathered buffers hold).
    private func walk(_ e: Int, row k: Int) throws(GraphError) {
        let node = blocks[e][plan.expands[e].from][k]
        try emit(e, 1) { body throws(GraphError) in
            try store.forEachRelationship(of: node, typeNumbers: types[e], plan.expands[e].direction) { (rid, other) throws(GraphError) in
                try body(k, rid, other)
            }
        }
    }

    /// Makes a row of the next block of each (row, relationship, other end) `relationships`
    /// gives that passes the expand's checks (the end's labels, a bound end, relationships
    /// that must differ), handing the block on whenever it is full.
    @inline(__always)
    private func emit(_ e: Int, _ count: Int,
                      _ relationships: ((Int, Int, Int) throws(GraphError) -> Void) throws(GraphError) -> Void) throws(GraphError) {
        guard count > 0 else { return }
        let expand = plan.expands[e]
        let input = blocks[e], output = blocks[e + 1]
        let boundTo = expand.toBound ? input[expand.to] : nil
        let distinctFrom = expand.distinctFrom.map { input[$0] }
        // Columns the rows made here carry on from the row they come from.
        let copied = plan.carried[e + 1].filter { $0 != expand.relationship && $0 != expand.to }.map { (input[$0], output[$0]) }
        let relationshipColumn = output[expand.relationship], ends = output[expand.to]
        let writesRelationship = relationshipColumn.count > 0, writesEnd = ends.count > 0
        let target = targets[e]
        // As in the scan, the count is kept here while rows are added.
        var n = output.count
        try relationships { (k, rid, other) throws(GraphError) in
            if let boundTo, boundTo[k] != other { return }
            for column in distinctFrom where column[k] == rid { return }
            guard target.contains(other, store) else { return }
            for (source, destination) in copied { destination[n] = source[k] }
            if writesRelationship { relationshipColumn[n] = rid }
            if writesEnd { ends[n] = other }
            n += 1
            if n == BatchRows.capacity {
                output.count = n
                try handOn(e + 1)
                n = 0
            }
        }
        output.count = n
    }
}

/// Whether a node carries every one of some labels, resolved once for a batch step: a label
/// with a bitset (`LabelIndex`) is one bit test, a sparse one is read from the node, and one
/// that every node carries (`:Person` on a graph of people) none: the nodes tested are nodes of
/// the store (scanned, or at the end of a relationship).
struct LabelTest {
    private let bitsets: [IdBitset]
    private let sparse: [String]

    /// The test of `labels` on the nodes of `store`; a label every node carries is not tested.
    init(_ labels: [String], _ store: GraphStore) {
        var bitsets: [IdBitset] = [], sparse: [String] = []
        for label in labels where store.labelIndex.count(label) < store.nodeCount {
            if let bitset = store.labelIndex.bitset(label) { bitsets.append(bitset) } else { sparse.append(label) }
        }
        self.bitsets = bitsets
        self.sparse = sparse
    }

    /// Whether every node passes (no label to test).
    var testsNothing: Bool { bitsets.isEmpty && sparse.isEmpty }

    @inline(__always)
    func contains(_ id: Int, _ store: GraphStore) -> Bool {
        for bitset in bitsets where !bitset.contains(id) { return false }
        return sparse.isEmpty || store.node(id, hasLabels: sparse)
    }
}

