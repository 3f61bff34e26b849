/// Reads one grouping key's or aggregate argument's values for a block of rows: a node's
/// property from the key's column when the store has one (`PropertyColumns`: one slot read per
/// row, no hashing; from a column of integers, the integers themselves, no `Value` made), else
/// from each node's map; a relationship's property from the
/// relationship; a node or relationship as itself. The column is found once per query.
///
/// Rows made from one scanned node come together, so a property of the scan's node is read
/// once per run of equal ids. A column read at random (the property of the nodes an expand
/// reaches) gets a `DenseIntColumn` of its integers once the query has read as many values as
/// a quarter of the column holds: cheaper to read at random, and by then its cost (one pass
/// over the column) is small beside the reads.
struct BatchInput {
    let input: BatchPlan.Input
    private let column: PropertyColumn?
    /// The column's integers when it holds only integers (`PropertyColumn.holdsInts`).
    private let ints: IntColumn?
    /// Whether rows come in the order of their ids (the scan's own slot).
    private let inIdOrder: Bool
    private var dense: DenseIntColumn? = nil
    /// Values read from `column` before `dense` was made (`.max`: never make it).
    private var readsWithoutDense = 0

    /// `dense`: columns of integers made for the whole run (a run on several threads makes
    /// them before it starts), by property key; this input makes its own when it needs one.
    init(_ input: BatchPlan.Input, scanSlot: Int, _ store: GraphStore, dense: [String: DenseIntColumn]) {
        self.input = input
        inIdOrder = input.slot == scanSlot
        if case .nodeProperty(_, let key) = input { column = store.propertyColumns.column(key) } else { column = nil }
        ints = column?.holdsInts == true ? column?.ints : nil
        if !inIdOrder, case .nodeProperty(_, let key) = input, let made = dense[key] {
            self.dense = made
            readsWithoutDense = .max
        }
    }

    /// The `DenseIntColumn` of each node property `batch` reads at random (of the nodes an
    /// expand reaches; with `placed` rows, in relationship order, of the scanned nodes too) that
    /// has a column, made now for a run in parts, which share them; held as `control`'s
    /// transient bytes.
    static func denseColumns(for batch: BatchPlan, placed: Bool, _ store: GraphStore, _ control: QueryControl) -> [String: DenseIntColumn] {
        var made: [String: DenseIntColumn] = [:]
        for input in batch.keys + batch.aggregates.compactMap(\.input) {
            guard case .nodeProperty(let slot, let key) = input, placed || slot != batch.scan.slot, made[key] == nil,
                  let column = store.propertyColumns.column(key) else { continue }
            made[key] = makeDense(column, control)
        }
        return made
    }

    /// The dense column of `column`, when its ids are not spread thin (other elements' ids
    /// between the nodes' would make it larger than the column) and the budget has room for it.
    private static func makeDense(_ column: PropertyColumn, _ control: QueryControl) -> DenseIntColumn? {
        guard let bounds = column.idBounds, bounds.count <= 3 * column.count,
              (try? control.hold(DenseIntColumn.bytes(covering: bounds))) != nil else { return nil }
        return DenseIntColumn(column, bounds: bounds)
    }

    /// The value for the row whose slot holds `id`.
    func value(_ id: Int, _ store: GraphStore) -> Value {
        switch input {
        case .node: return .node(id)
        case .relationship: return .relationship(id)
        case .nodeProperty(_, let key):
            if let column { return column.value(id) ?? .null }
            return (store.nodes.withElement(id) { $0.properties[key] } ?? nil) ?? .null
        case .relationshipProperty(_, let key):
            return (store.relationships.withElement(id) { $0.properties[key] } ?? nil) ?? .null
        }
    }

    /// Row `k`'s value into `out` (typed, see `BatchValues`), for each row of `rows`.
    mutating func read(_ rows: BatchRows, into out: BatchValues, _ store: GraphStore, _ control: QueryControl) {
        let ids = rows[input.slot]
        let n = rows.count
        guard let column else {
            for k in 0..<n { out.set(k, value(ids[k], store)) }
            return
        }
        if inIdOrder, let ints {
            ints.read(ids, n, into: out.ints.elements, found: out.isInt.elements)
            for k in 0..<n where !out.isInt.elements[k] { out.values.elements[k] = .null }
            return
        }
        let values = column.values
        if inIdOrder {
            var last = -1
            for k in 0..<n {
                if ids[k] == last {
                    out.copy(k, from: k - 1)
                } else {
                    last = ids[k]
                    values.withElement(last) { out.set(k, $0) } ?? out.set(k, .null)
                }
            }
            return
        }
        makeDenseIfWorth(column, reading: n, control)
        if let dense {
            // The dense column holds every integer: the rest are other values or none.
            dense.read(ids, n, into: out)
            for k in 0..<n where !out.isInt.elements[k] { out.values.elements[k] = column.value(ids[k]) ?? .null }
            return
        }
        if let ints {
            ints.read(ids, n, into: out.ints.elements, found: out.isInt.elements)
            for k in 0..<n where !out.isInt.elements[k] { out.values.elements[k] = .null }
            return
        }
        for k in 0..<n { values.withElement(ids[k]) { out.set(k, $0) } ?? out.set(k, .null) }
    }

    /// Row `k`'s code in `codes` (as a grouping key) into `out[k]`, for each row of `rows`:
    /// `read` and `GroupCodes.code` in one pass, without copying values out of the column (the
    /// integers of a column of integers read first into `scratch`).
    mutating func code(_ rows: BatchRows, into out: UnsafeMutableBufferPointer<Int>, _ codes: inout GroupCodes,
                       scratch: BatchValues, _ store: GraphStore, _ control: QueryControl) {
        let ids = rows[input.slot]
        let n = rows.count
        if input.isElement {
            for k in 0..<n { out[k] = codes.code(int: Int64(ids[k])) }
            return
        }
        guard let column else {
            for k in 0..<n { out[k] = codes.code(value(ids[k], store)) }
            return
        }
        if inIdOrder, let ints {
            code(ints, ids, n, into: out, &codes, scratch: scratch)
            return
        }
        let values = column.values
        if inIdOrder {
            var last = -1
            for k in 0..<n {
                if ids[k] == last {
                    out[k] = out[k - 1]
                } else {
                    last = ids[k]
                    out[k] = values.withElement(last) { codes.code($0) } ?? codes.code(.null)
                }
            }
            return
        }
        makeDenseIfWorth(column, reading: n, control)
        if dense == nil, let ints {
            code(ints, ids, n, into: out, &codes, scratch: scratch)
            return
        }
        for k in 0..<n {
            if let i = dense?.int(ids[k]) {
                out[k] = codes.code(int: i)
            } else {
                out[k] = values.withElement(ids[k]) { codes.code($0) } ?? codes.code(.null)
            }
        }
    }

    /// The codes of a column of integers' values for `ids`: read in one loop, then coded.
    private func code(_ ints: IntColumn, _ ids: UnsafeMutableBufferPointer<Int>, _ n: Int, into out: UnsafeMutableBufferPointer<Int>,
                      _ codes: inout GroupCodes, scratch: BatchValues) {
        let values = scratch.ints.elements, found = scratch.isInt.elements
        ints.read(ids, n, into: values, found: found)
        for k in 0..<n { out[k] = found[k] ? codes.code(int: values[k]) : codes.code(.null) }
    }

    /// Drops what was made for reading (the rows are all in; its bytes were held by the run).
    mutating func endOfRows() { dense = nil }

    private mutating func makeDenseIfWorth(_ column: PropertyColumn, reading n: Int, _ control: QueryControl) {
        guard readsWithoutDense != .max else { return }
        readsWithoutDense += n
        guard 4 * readsWithoutDense >= column.count else { return }
        readsWithoutDense = .max
        // Held while the rows come (see `BatchRunner.run`).
        dense = Self.makeDense(column, control)
    }
}
