/// Runs a `BatchPlan` of a scan and one expand (`BatchPlan.readsRelationships`) by reading the
/// store's relationships where they are stored, chunk by chunk, instead of each scanned node's
/// adjacency: for `MATCH (a:Person)-[:KNOWS]->(b:Person)` over most of the graph, five million
/// relationships read in order cost less than a million adjacency lists read at random. Each
/// relationship of the pattern's type whose node at the scan's end carries the scan's labels
/// and whose other node the end's labels is a row, in blocks, to the aggregation.
///
/// The rows come in relationship order, not the row path's (scanned node, then relationship),
/// so each carries its place in that order (`RowPlaces`): the aggregation keeps each group's
/// first place and hands the groups on in that order, and takes only values whose aggregate
/// does not depend on their order (`BatchAccumulator.inOrder`), else the query runs again with
/// its rows in order. It reads the chunks it is given (all of them, or a part of them on
/// several threads), and the relationships held loose when told to.
final class BatchRelationshipScan {
    private let store: GraphStore
    private let control: QueryControl
    private let plan: BatchPlan
    private let profile: PlanProfile?
    private let aggregation: BatchAggregation
    private let chunks: ArraySlice<Int>
    private let readsLoose: Bool
    private let stop: BatchStop?
    private let block: BatchRows
    private let places = RowPlaces()

    init(_ plan: BatchPlan, slots: Int, chunks: ArraySlice<Int>, readsLoose: Bool, _ store: GraphStore, _ control: QueryControl,
         profile: PlanProfile?, stop: BatchStop?, into aggregation: BatchAggregation) {
        self.store = store
        self.control = control
        self.plan = plan
        self.profile = profile
        self.aggregation = aggregation
        self.chunks = chunks
        self.readsLoose = readsLoose
        self.stop = stop
        block = BatchRows(slots: slots, carried: plan.carried[1])
    }

    /// Runs the scan and the aggregation to the end (its memory held as `BatchRunner.run` holds it).
    func run() throws(GraphError) {
        let mark = control.mark
        defer { control.release(to: mark) }
        try control.hold(BatchRows.bytes(carried: plan.carried[1].count) + 2 * BatchBuffer<Int>.bytes() + aggregation.scratchBytes)
        profile?.rows[0] += 1
        try PlanProfile.timing(profile, 1) { () throws(GraphError) in try scan() }
        if block.count > 0 { try handOn() }
        aggregation.endOfRows()
    }

    private func scan() throws(GraphError) {
        let expand = plan.expands[0]
        let outgoing = expand.direction == .outgoing
        let types = expand.types
        let scanned = LabelTest(plan.scan.labels, store), ends = LabelTest(expand.target.labels, store)
        let nodes = block[plan.scan.slot], relationships = block[expand.relationship], others = block[expand.to]
        let placeNodes = places.nodes.elements, placeRelationships = places.relationships.elements
        // As in `BatchRunner`, the count is kept here while rows are added.
        var n = 0
        func take(_ rid: Int, _ relationship: UnsafePointer<Relationship>) throws(GraphError) {
            guard types.isEmpty || types.contains(relationship.pointee.type) else { return }
            let node = outgoing ? relationship.pointee.start : relationship.pointee.end
            let other = outgoing ? relationship.pointee.end : relationship.pointee.start
            guard scanned.contains(node, store), ends.contains(other, store) else { return }
            if nodes.count > 0 { nodes[n] = node }
            if relationships.count > 0 { relationships[n] = rid }
            if others.count > 0 { others[n] = other }
            placeNodes[n] = node
            placeRelationships[n] = rid
            n += 1
            if n == BatchRows.capacity {
                block.count = n
                try handOn()
                n = 0
            }
        }
        for c in chunks {
            try control.check()
            try store.relationships.forEachPointer(inChunk: c) { (rid, relationship) throws(GraphError) in try take(rid, relationship) }
        }
        if readsLoose {
            try store.relationships.forEachLoosePointer { (rid, relationship) throws(GraphError) in try take(rid, relationship) }
        }
        block.count = n
    }

    /// Hands the block's rows to the aggregation and empties it.
    private func handOn() throws(GraphError) {
        try BatchStop.checkBeforeBlock(control, stop)
        profile?.rows[2] += block.count
        try PlanProfile.timing(profile, 2) { () throws(GraphError) in try aggregation.add(block, places: places) }
        block.count = 0
    }
}
