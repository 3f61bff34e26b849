/// The grouped aggregation at the end of a batch plan: takes blocks of rows (`BatchRows`),
/// gives each row its group and updates each aggregate a column at a time
/// (`BatchAccumulator`). Groups are what `HashAggregation` makes of the same rows: keyed by
/// Cypher's grouping equality (`GroupCodes`), each with the key values of its first row,
/// handed on in the order they were first seen; with no key there is one group (`count(*)` of
/// no rows is 0). Each group is charged to the query's memory as `HashAggregation` charges
/// it, as it is made, so a group table past the budget is refused as it grows.
///
/// Several keys: each key's values get codes of their own, and the codes of a row are folded
/// pairwise (`GroupCodes` over the pair of codes) into the group's code.
///
/// A run on several threads has one aggregation per part of the scan, each charging its own
/// `QueryControl`; `absorb` merges them in the order of the parts, which gives the groups, their
/// order and their values that one aggregation of all the rows would have.
///
/// Rows that come out of the row path's order (a scan of the relationships, `BatchRelationshipScan`)
/// come with their place in that order (`RowPlaces`: the scanned node, then the relationship);
/// each group then keeps the least place it has seen and the key values of that row, and the
/// groups are handed on in the order of those places: the order, and the values, in which the
/// row path would have first seen them.
final class BatchAggregation: AggregationGroups {
    private let control: QueryControl
    private let store: GraphStore
    private let keyAliases: [String]
    private let aggregateAliases: [String]
    /// Everything that changes, in one value: its methods run with the compiler's checks of
    /// exclusive access, not a runtime check per access as a class's properties would.
    private var state: State

    /// The aggregation of `batch` for a plan whose output names its columns `keys` and
    /// `aggregates`; `inOrder` false for rows taken out of the row path's order (see
    /// `BatchAccumulator`), `placed` for rows that come with their places (see above).
    /// `dense`: columns of integers made for the run, by property key (see `BatchInput`).
    init(keys: [String], aggregates: [String], _ batch: BatchPlan, _ store: GraphStore, _ control: QueryControl, inOrder: Bool,
         placed: Bool = false, dense: [String: DenseIntColumn]) {
        self.control = control
        self.store = store
        keyAliases = keys
        aggregateAliases = aggregates
        state = State(batch, store, inOrder: inOrder, placed: placed, dense: dense)
    }

    /// Bytes of the per-block buffers (held while the query runs).
    var scratchBytes: Int {
        BatchValues.bytes + (keyAliases.count + 1) * BatchBuffer<Int>.bytes() + 2 * keyAliases.count * GroupCodes.smallBytes
    }

    /// Takes a block of rows (with their places in the row path's order, when they come out of it).
    func add(_ rows: BatchRows, places: RowPlaces? = nil) throws(GraphError) {
        try state.add(rows, rows.count, places, store, control)
    }

    /// Called once every row is in: lets go of what was made for reading them.
    func endOfRows() {
        for j in state.keys.indices { state.keys[j].endOfRows() }
        for j in state.arguments.indices { state.arguments[j]?.endOfRows() }
    }

    /// Merges `later`, the aggregation of the rows that come after this one's (the next part of
    /// the scan), into this one: each of its groups, in its order, into the group of the same
    /// key here or a new one at the end; charged here (the caller ends `later`'s account).
    func absorb(_ later: BatchAggregation) throws(GraphError) {
        try state.absorb(later.state, control)
    }

    func finish(_ emit: (Row, Int) throws(GraphError) -> Bool) throws(GraphError) {
        var wantsMore = true
        var order = Array(state.groupBytes.indices)
        if state.placed {
            // In the row path's order: by the place of each group's first row.
            let first = state.firstPlaces
            order.sort { first[$0] < first[$1] }
        }
        for g in order {
            try control.check()
            let owned = state.accumulators.reduce(0) { $0 + $1.heldBytes(g) }
            control.refund(state.groupBytes[g])
            guard wantsMore else { control.refund(owned); continue }
            var out: Row = Dictionary(minimumCapacity: keyAliases.count + aggregateAliases.count)
            for (j, alias) in keyAliases.enumerated() { out[alias] = state.representatives[g][j] }
            for (j, alias) in aggregateAliases.enumerated() { out[alias] = state.accumulators[j].value(g) }
            wantsMore = try emit(out, owned)
        }
        state.forgetGroups()
    }

    /// Gives back everything the groups hold (the query goes on row at a time instead).
    func abandon() {
        var bytes = 0
        for g in 0..<state.groupBytes.count { bytes += state.groupBytes[g] + state.accumulators.reduce(0) { $0 + $1.heldBytes(g) } }
        control.refund(bytes)
        state.forgetGroups()
    }

    private struct State {
        var keys: [BatchInput]
        var arguments: [BatchInput?]
        var accumulators: [BatchAccumulator]
        var codes: [GroupCodes]
        /// For several keys: the codes of (codes so far, the next key's code), one per key after the first.
        var pairs: [GroupCodes]
        /// Each group's key values (those of its first row) and the bytes charged for it.
        var representatives: [[Value]] = []
        var groupBytes: [Int] = []
        /// Whether rows come with their places, and each group's least place (see above).
        let placed: Bool
        var firstPlaces: [RowPlace] = []
        /// Per block: each row's group, each key's codes, a key's or an argument's values.
        let rowGroups = BatchBuffer(repeating: 0)
        let keyCodes: [BatchBuffer<Int>]
        let values = BatchValues()

        init(_ batch: BatchPlan, _ store: GraphStore, inOrder: Bool, placed: Bool, dense: [String: DenseIntColumn]) {
            // Placed rows come in relationship order: the scanned node's ids are not in order.
            let scanSlot = placed ? -1 : batch.scan.slot
            keys = batch.keys.map { BatchInput($0, scanSlot: scanSlot, store, dense: dense) }
            arguments = batch.aggregates.map { a in a.input.map { BatchInput($0, scanSlot: scanSlot, store, dense: dense) } }
            accumulators = batch.aggregates.map { BatchAccumulator($0.function, inOrder: inOrder) }
            self.placed = placed
            codes = Array(repeating: GroupCodes(), count: keys.count)
            pairs = Array(repeating: GroupCodes(), count: max(0, keys.count - 1))
            keyCodes = keys.map { _ in BatchBuffer(repeating: 0) }
            if keys.isEmpty { addGroup([], bytes: 0, place: RowPlace(node: .min, relationship: .min)) }
        }

        mutating func add(_ rows: BatchRows, _ n: Int, _ places: RowPlaces?, _ store: GraphStore,
                          _ control: QueryControl) throws(GraphError) {
            if keys.isEmpty {
                for k in 0..<n { rowGroups.elements[k] = 0 }
            } else {
                for j in keys.indices { code(key: j, rows, n, store, control) }
                try group(rows, n, places, store, control)
            }
            let groups = UnsafeBufferPointer(rebasing: rowGroups.elements[..<n])
            for j in accumulators.indices {
                guard var argument = arguments[j], !argument.input.isElement else {
                    accumulators[j].countRows(groups)
                    continue
                }
                argument.read(rows, into: values, store, control)
                arguments[j] = argument
                try accumulators[j].add(values, groups, control)
            }
        }

        /// Key `j`'s code for each row, into `keyCodes[j]`.
        private mutating func code(key j: Int, _ rows: BatchRows, _ n: Int, _ store: GraphStore, _ control: QueryControl) {
            keys[j].code(rows, into: keyCodes[j].elements, &codes[j], scratch: values, store, control)
        }

        /// Each row's group into `rowGroups`, new groups made (and charged) as they appear; with
        /// `places`, a group's first place and key values moved to an earlier row's.
        private mutating func group(_ rows: BatchRows, _ n: Int, _ places: RowPlaces?, _ store: GraphStore,
                                    _ control: QueryControl) throws(GraphError) {
            let first = keyCodes[0].elements, groups = rowGroups.elements
            if pairs.isEmpty && !placed {
                // One key, no places to keep: a row's group is its key's code (codes are given
                // in the order first seen, as groups are made).
                for k in 0..<n {
                    let g = first[k]
                    if g == groupBytes.count {
                        try makeGroup(row: k, rows, places?.place(k) ?? RowPlace(node: .min, relationship: .min), store, control)
                    }
                    groups[k] = g
                }
                return
            }
            for k in 0..<n {
                var g = first[k]
                for j in pairs.indices {
                    let next = keyCodes[j + 1].elements[k]
                    // Two codes in one 64-bit key (2^31 groups could not be held anyway).
                    guard g < 1 << 31, next < 1 << 31 else { throw GraphError(Executor.batchFallback, "too many groups to code") }
                    g = pairs[j].code(int: Int64(g) << 32 | Int64(next))
                }
                let place = places?.place(k) ?? RowPlace(node: .min, relationship: .min)
                if g == groupBytes.count {
                    try makeGroup(row: k, rows, place, store, control)
                } else if placed, place < firstPlaces[g] {
                    // Equal keys of an earlier row: its values are the group's (1 or 1.0, as first seen).
                    firstPlaces[g] = place
                    representatives[g] = keys.map { $0.value(rows[$0.input.slot][k], store) }
                }
                groups[k] = g
            }
        }

        mutating func absorb(_ later: State, _ control: QueryControl) throws(GraphError) {
            for (h, values) in later.representatives.enumerated() {
                try control.check()
                var g = keys.isEmpty ? 0 : -1
                for (j, value) in values.enumerated() {
                    let code: Int
                    switch value {
                    case .node(let id) where keys[j].input.isElement, .relationship(let id) where keys[j].input.isElement:
                        code = codes[j].code(int: Int64(id))
                    default:
                        code = codes[j].code(value)
                    }
                    if j == 0 {
                        g = code
                    } else {
                        guard g < 1 << 31, code < 1 << 31 else { throw GraphError(Executor.batchFallback, "too many groups to code") }
                        g = pairs[j - 1].code(int: Int64(g) << 32 | Int64(code))
                    }
                }
                let place = later.firstPlaces[h]
                if g == groupBytes.count {
                    try control.charge(later.groupBytes[h])
                    addGroup(values, bytes: later.groupBytes[h], place: place)
                } else if placed, place < firstPlaces[g] {
                    firstPlaces[g] = place
                    representatives[g] = values
                }
                for j in accumulators.indices { try accumulators[j].absorb(later.accumulators[j], group: h, into: g) }
            }
        }

        private mutating func makeGroup(row k: Int, _ rows: BatchRows, _ place: RowPlace, _ store: GraphStore,
                                        _ control: QueryControl) throws(GraphError) {
            var values: [Value] = []
            values.reserveCapacity(keys.count)
            for key in keys { values.append(key.value(rows[key.input.slot][k], store)) }
            // As `HashAggregation` charges a group: its key twice (the index and the row), an
            // index entry, a slot per aggregate.
            let keyBytes = try control.measure(.list(values))
            let bytes = 2 * keyBytes + MemoryEstimate.mapHeaderBytes + MemoryEstimate.listBytes(count: accumulators.count)
            try control.charge(bytes)
            addGroup(values, bytes: bytes, place: place)
        }

        private mutating func addGroup(_ representative: [Value], bytes: Int, place: RowPlace) {
            representatives.append(representative)
            groupBytes.append(bytes)
            firstPlaces.append(place)
            for j in accumulators.indices { accumulators[j].addGroup() }
        }

        mutating func forgetGroups() {
            representatives = []
            groupBytes = []
            firstPlaces = []
            codes = []
            pairs = []
        }
    }
}

/// Where a row comes in the row path's order of an expand from a scan: by the scanned node (the
/// scan hands out ids in ascending order), then by the relationship (a node's relationships are
/// walked by ascending id).
struct RowPlace: Comparable {
    var node: Int
    var relationship: Int

    static func < (a: RowPlace, b: RowPlace) -> Bool {
        a.node != b.node ? a.node < b.node : a.relationship < b.relationship
    }
}

/// The places of a block's rows (`RowPlace`), as columns.
struct RowPlaces {
    let nodes = BatchBuffer(repeating: 0)
    let relationships = BatchBuffer(repeating: 0)

    @inline(__always)
    func place(_ k: Int) -> RowPlace { RowPlace(node: nodes.elements[k], relationship: relationships.elements[k]) }
}
