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
final class BatchAggregation: AggregationGroups {
    private let control: QueryControl
    private let store: GraphStore
    private let keyAliases: [String]
    private let aggregateAliases: [String]
    /// Everything that changes, in one value: its methods run with the compiler's checks of
    /// exclusive access, not a runtime check per access as a class's properties would.
    private var state: State

    /// The aggregation of `batch` for a plan whose output names its columns `keys` and
    /// `aggregates`; `inPart` for one part of a run on several threads (see `BatchAccumulator`).
    /// `dense`: columns of integers made for the run, by property key (see `BatchInput`).
    init(keys: [String], aggregates: [String], _ batch: BatchPlan, _ store: GraphStore, _ control: QueryControl, inPart: Bool,
         dense: [String: DenseIntColumn]) {
        self.control = control
        self.store = store
        keyAliases = keys
        aggregateAliases = aggregates
        state = State(batch, store, inPart: inPart, dense: dense)
    }

    /// Bytes of the per-block buffers (held while the query runs).
    var scratchBytes: Int {
        BatchValues.bytes + (keyAliases.count + 1) * BatchBuffer<Int>.bytes() + 2 * keyAliases.count * GroupCodes.smallBytes
    }

    /// Takes a block of rows.
    func add(_ rows: BatchRows) throws(GraphError) {
        try state.add(rows, rows.count, store, control)
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
        for g in 0..<state.groupBytes.count {
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
        /// Per block: each row's group, each key's codes, an argument's values.
        let rowGroups = BatchBuffer(repeating: 0)
        let keyCodes: [BatchBuffer<Int>]
        let argumentValues = BatchValues()

        init(_ batch: BatchPlan, _ store: GraphStore, inPart: Bool, dense: [String: DenseIntColumn]) {
            keys = batch.keys.map { BatchInput($0, scanSlot: batch.scan.slot, store, dense: dense) }
            arguments = batch.aggregates.map { a in a.input.map { BatchInput($0, scanSlot: batch.scan.slot, store, dense: dense) } }
            accumulators = batch.aggregates.map { BatchAccumulator($0.function, inPart: inPart) }
            codes = Array(repeating: GroupCodes(), count: keys.count)
            pairs = Array(repeating: GroupCodes(), count: max(0, keys.count - 1))
            keyCodes = keys.map { _ in BatchBuffer(repeating: 0) }
            if keys.isEmpty { addGroup([], bytes: 0) }
        }

        mutating func add(_ rows: BatchRows, _ n: Int, _ store: GraphStore, _ control: QueryControl) throws(GraphError) {
            if keys.isEmpty {
                for k in 0..<n { rowGroups.elements[k] = 0 }
            } else {
                for j in keys.indices { code(key: j, rows, n, store, control) }
                try group(rows, n, store, control)
            }
            let groups = UnsafeBufferPointer(rebasing: rowGroups.elements[..<n])
            for j in accumulators.indices {
                guard var argument = arguments[j], !argument.input.isElement else {
                    accumulators[j].countRows(groups)
                    continue
                }
                argument.read(rows, into: argumentValues, store, control)
                arguments[j] = argument
                try accumulators[j].add(argumentValues, groups, control)
            }
        }

        /// Key `j`'s code for each row, into `keyCodes[j]`.
        private mutating func code(key j: Int, _ rows: BatchRows, _ n: Int, _ store: GraphStore, _ control: QueryControl) {
            keys[j].code(rows, into: keyCodes[j].elements, &codes[j], store, control)
        }

        /// Each row's group into `rowGroups`, new groups made (and charged) as they appear.
        private mutating func group(_ rows: BatchRows, _ n: Int, _ store: GraphStore, _ control: QueryControl) throws(GraphError) {
            let first = keyCodes[0].elements, groups = rowGroups.elements
            for k in 0..<n {
                var g = first[k]
                for j in pairs.indices {
                    let next = keyCodes[j + 1].elements[k]
                    // Two codes in one 64-bit key (2^31 groups could not be held anyway).
                    guard g < 1 << 31, next < 1 << 31 else { throw GraphError(Executor.batchFallback, "too many groups to code") }
                    g = pairs[j].code(int: Int64(g) << 32 | Int64(next))
                }
                if g == groupBytes.count { try makeGroup(row: k, rows, store, control) }
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
                if g == groupBytes.count {
                    try control.charge(later.groupBytes[h])
                    addGroup(values, bytes: later.groupBytes[h])
                }
                for j in accumulators.indices { try accumulators[j].absorb(later.accumulators[j], group: h, into: g) }
            }
        }

        private mutating func makeGroup(row k: Int, _ rows: BatchRows, _ store: GraphStore, _ control: QueryControl) throws(GraphError) {
            var values: [Value] = []
            values.reserveCapacity(keys.count)
            for key in keys { values.append(key.value(rows[key.input.slot][k], store)) }
            // As `HashAggregation` charges a group: its key twice (the index and the row), an
            // index entry, a slot per aggregate.
            let keyBytes = try control.measure(.list(values))
            let bytes = 2 * keyBytes + MemoryEstimate.mapHeaderBytes + MemoryEstimate.listBytes(count: accumulators.count)
            try control.charge(bytes)
            addGroup(values, bytes: bytes)
        }

        private mutating func addGroup(_ representative: [Value], bytes: Int) {
            representatives.append(representative)
            groupBytes.append(bytes)
            for j in accumulators.indices { accumulators[j].addGroup() }
        }

        mutating func forgetGroups() {
            representatives = []
            groupBytes = []
            codes = []
            pairs = []
        }
    }
}
