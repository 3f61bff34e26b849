/// Reads one grouping key's or aggregate argument's values for a block of rows: a node's
/// property from the key's column when the store has one (`PropertyColumns`: one slot read per
/// row, no hashing), else from each node's map; a relationship's property from the
/// relationship; a node or relationship as itself. The column is found once per query.
///
/// Rows made from one scanned node come together, so a property of the scan's node is read
/// once per run of equal ids. A column read at random (the property of the nodes an expand
/// reaches) gets a `DenseIntColumn` of its integers once the query has read as many values as
/// a quarter of the column holds: cheaper to read at random, and by then its cost (one pass
/// over the column) is small beside the reads.
struct BatchInput {
    let input: BatchPlan.Input
    private let column: IdTable<Value>?
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
    private static func makeDense(_ column: IdTable<Value>, _ control: QueryControl) -> DenseIntColumn? {
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
            if let column { return column.withElement(id) { $0 } ?? .null }
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
        if inIdOrder {
            var last = -1
            for k in 0..<n {
                if ids[k] == last {
                    out.copy(k, from: k - 1)
                } else {
                    last = ids[k]
                    column.withElement(last) { out.set(k, $0) } ?? out.set(k, .null)
                }
            }
            return
        }
        makeDenseIfWorth(column, reading: n, control)
        if let dense {
            dense.read(ids, n, into: out)
            for k in 0..<n where !out.isInt.elements[k] { out.values.elements[k] = column.withElement(ids[k]) { $0 } ?? .null }
            return
        }
        for k in 0..<n { column.withElement(ids[k]) { out.set(k, $0) } ?? out.set(k, .null) }
    }

    /// Row `k`'s code in `codes` (as a grouping key) into `out[k]`, for each row of `rows`:
    /// `read` and `GroupCodes.code` in one pass, without copying values out of the column.
    mutating func code(_ rows: BatchRows, into out: UnsafeMutableBufferPointer<Int>, _ codes: inout GroupCodes,
                       _ store: GraphStore, _ control: QueryControl) {
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
        if inIdOrder {
            var last = -1
            for k in 0..<n {
                if ids[k] == last {
                    out[k] = out[k - 1]
                } else {
                    last = ids[k]
                    out[k] = column.withElement(last) { codes.code($0) } ?? codes.code(.null)
                }
            }
            return
        }
        makeDenseIfWorth(column, reading: n, control)
        for k in 0..<n {
            if let i = dense?.int(ids[k]) {
                out[k] = codes.code(int: i)
            } else {
                out[k] = column.withElement(ids[k]) { codes.code($0) } ?? codes.code(.null)
            }
        }
    }

    /// Drops what was made for reading (the rows are all in; its bytes were held by the run).
    mutating func endOfRows() { dense = nil }

    private mutating func makeDenseIfWorth(_ column: IdTable<Value>, reading n: Int, _ control: QueryControl) {
        guard readsWithoutDense != .max else { return }
        readsWithoutDense += n
        guard 4 * readsWithoutDense >= column.count else { return }
        readsWithoutDense = .max
        // Held while the rows come (see `BatchRunner.run`).
        dense = Self.makeDense(column, control)
    }
}
