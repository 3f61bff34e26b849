/// The rows of a WITH or RETURN that is not plain, collected as the pipeline (or an
/// aggregation) brings them: DISTINCT repeats are dropped at once, a LIMIT without ORDER BY
/// stops the intake once SKIP + LIMIT rows are in, and with ORDER BY and LIMIT only the best
/// SKIP + LIMIT rows are kept (sorted and cut now and then). Everything kept is charged.
final class ProjectionRows {
    /// One projected row: `out` (the projection's columns) and `env` (the input row with the
    /// columns over it: what ORDER BY and a WITH's WHERE see).
    struct Entry {
        var out: Row
        var env: Row
        /// Bytes the row's values hold (made for it or carried from its input row).
        var ownedBytes: Int
        /// Bytes of the entry itself: its dictionaries and its sort keys.
        var entryBytes: Int
        var keys: [Value]
        var sequence: Int
    }

    /// The projection's column names.
    let columns: [String]
    private let control: QueryControl
    private let order: [(Expr, Bool)]
    private let distinct: Bool
    private let skip: Int
    private let limit: Int?
    private(set) var entries: [Entry] = []
    private var seen = Set<[Value]>()
    private var seenBytes = 0
    private var sequence = 0

    init(columns: [String], order: [(Expr, Bool)], distinct: Bool, skip: Int, limit: Int?, _ control: QueryControl) {
        self.columns = columns
        self.order = order
        self.distinct = distinct
        self.skip = skip
        self.limit = limit
        self.control = control
    }

    /// Rows past this many, in the final order, can never be returned.
    /// (Saturated: SKIP and LIMIT may each be as large as Int64.max.)
    private var wanted: Int? { limit.map { skip.addingReportingOverflow($0).overflow ? Int.max : skip + $0 } }

    /// Takes a projected row (its values holding `owned` bytes, now this collection's).
    /// Returns false once no later row can be returned.
    func add(out: Row, env: Row, owned: Int, _ executor: Executor) throws(GraphError) -> Bool {
        if wanted == 0 {
            control.refund(owned)
            return false
        }
        if distinct {
            let key = columns.map { Semantics.groupKey(out[$0] ?? .null) }
            if seen.contains(key) {
                control.refund(owned)
                return true
            }
            let bytes = try control.measure(.list(key)) + MemoryEstimate.mapHeaderBytes
            try control.charge(bytes)
            seenBytes += bytes
            seen.insert(key)
        }
        let structureBytes = MemoryEstimate.rowBytes(out) + MemoryEstimate.rowBytes(env)
            + MemoryEstimate.listBytes(count: order.count) + MemoryLayout<Entry>.stride
        try control.charge(structureBytes)
        var entryBytes = structureBytes
        var keys: [Value] = []
        for (e, _) in order {
            let (value, bytes) = try executor.held(e, env)
            keys.append(value)
            entryBytes += bytes
        }
        entries.append(Entry(out: out, env: env, ownedBytes: owned, entryBytes: entryBytes, keys: keys, sequence: sequence))
        sequence += 1
        guard let wanted else { return true }
        if order.isEmpty { return entries.count < wanted }
        // Sorted and cut back to `wanted` once twice as many are held (never, for a LIMIT
        // too large to double: then every row is kept, as without a LIMIT).
        if wanted <= Int.max / 2, entries.count >= max(2 * wanted, wanted + 1024) {
            try sortEntries()
            drop(from: wanted)
        }
        return true
    }

    /// Sorts, then applies SKIP and LIMIT.
    func finish() throws(GraphError) {
        if !order.isEmpty { try sortEntries() }
        drop(from: wanted ?? entries.count)
        let skipped = min(skip, entries.count)
        for entry in entries.prefix(skipped) { release(entry) }
        entries.removeFirst(skipped)
        control.refund(seenBytes)
        seenBytes = 0
        seen = []
    }

    /// The rows as a query's result (charged as result rows; the entries are given back).
    func result(_ control: QueryControl) throws(GraphError) -> QueryResult {
        var rows: [[Value]] = []
        var bytes = 0
        for entry in entries {
            let rowBytes = MemoryEstimate.resultRowBytes(columns: columns.count)
            try control.charge(rowBytes)
            control.refund(entry.entryBytes)
            rows.append(columns.map { entry.out[$0] ?? .null })
            bytes += rowBytes + entry.ownedBytes
        }
        entries = []
        return QueryResult(columns: columns, rows: rows, memoryBytes: bytes)
    }

    /// The rows as a WITH's output, `predicate` (its WHERE) tested on each row with the
    /// variables from before the WITH still visible.
    func rows(where predicate: Expr?, _ executor: Executor) throws(GraphError) -> RowSet {
        var out = RowSet()
        for entry in entries {
            try control.check()
            control.refund(entry.entryBytes)
            if let predicate, try !executor.test(predicate, entry.env) {
                control.refund(entry.ownedBytes)
                continue
            }
            try out.append(entry.out, kept: entry.ownedBytes, control)
        }
        entries = []
        return out
    }

    /// Stable: equal keys keep the order rows came in.
    private func sortEntries() throws(GraphError) {
        let order = self.order, control = self.control
        // The sort's scratch space.
        let mark = control.mark
        defer { control.release(to: mark) }
        try control.hold(entries.count * MemoryLayout<Entry>.stride)
        var comparisons = 0
        do {
            try entries.sort { a, b in
                comparisons += 1
                if comparisons & 1023 == 0 { try control.check() }
                for (j, (_, ascending)) in order.enumerated() {
                    let c = Semantics.orderCompare(a.keys[j], b.keys[j])
                    if c != 0 { return ascending ? c < 0 : c > 0 }
                }
                return a.sequence < b.sequence
            }
        } catch let error as GraphError {
            throw error
        } catch {
            throw GraphError(.runtime, "sorting failed: \(error)")
        }
    }

    private func drop(from index: Int) {
        guard index < entries.count else { return }
        for entry in entries[index...] { release(entry) }
        entries.removeSubrange(index...)
    }

    private func release(_ entry: Entry) { control.refund(entry.entryBytes + entry.ownedBytes) }
}
