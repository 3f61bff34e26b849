/// WITH and RETURN. A plain final RETURN (no aggregate, DISTINCT or ORDER BY) projects each
/// row the pipeline brings and streams or collects it (`returnRows`). Any other projection
/// collects its rows (`project`): through an aggregation when it has aggregates, dropping
/// DISTINCT repeats as they come, and with ORDER BY and LIMIT keeping only the best
/// SKIP + LIMIT rows, so a top-10 over a million rows holds about ten.
extension Executor {
    func nonNegativeInt(_ e: Expr?, _ what: String) throws(GraphError) -> Int? {
        guard let e else { return nil }
        guard case .int(let i) = try eval(e, [:]), i >= 0 else {
            // openCypher classes this a SyntaxError even when a parameter brings the value.
            throw GraphError(.runtime, "\(what) must be a non-negative integer", cypherClass: .syntaxError)
        }
        return Int(clamping: i)
    }

    /// The items of a projection, `*` expanded from `scope`; aliases checked unique.
    func projectionItems(_ p: Projection, _ scope: [String]) throws(GraphError) -> [ProjectionItem] {
        var items = p.items
        if p.star {
            items = scope.filter { !$0.isEmpty }.sorted().map { ProjectionItem(expr: .variable($0), alias: $0) } + items
        }
        guard !items.isEmpty || p.star else { throw GraphError(.semantic, "WITH/RETURN needs at least one item") }
        var seenAlias = Set<String>()
        for it in items where !seenAlias.insert(it.alias).inserted {
            throw GraphError(.semantic, "column name '\(it.alias)' is used twice; use AS to rename")
        }
        return items
    }

    /// The final RETURN when it is plain: each row is projected as the pipeline brings it and
    /// streamed to the query's sink, or collected as the result; a LIMIT stops the pipeline.
    func returnRows(_ input: RowSet, _ stages: [Stage], _ p: Projection, _ scope: [String]) throws(GraphError) -> QueryResult {
        let items = try projectionItems(p, scope)
        let columns = items.map(\.alias)
        let window = try window(p)
        let returned = try ReturnedRows(columns: columns, streamingTo: streamsAsFound ? rowSink : nil, store: store, control)
        if window?.limit == 0 {
            input.releaseAll(control)
        } else {
            let reader = self, control = self.control, firstOnly = stopsAtFirstRow
            try runPipeline(input, stages) { row, kept throws(GraphError) in
                guard try window?.admit(refunding: kept, control) ?? true else { return }
                var values: [Value] = []
                values.reserveCapacity(items.count)
                var owned = kept
                for item in items {
                    let (value, bytes) = try reader.held(item.expr, row)
                    values.append(value)
                    owned += bytes
                }
                try returned.take(values, owned: owned)
                if firstOnly || window?.isFull == true { throw GraphError(Self.pipelineStop, "LIMIT reached") }
            }
        }
        return returned.result()
    }

    /// Runs the pipeline into projection `p` (not plain, or not final): its rows, distinct,
    /// sorted, skipped and limited.
    func project(_ input: RowSet, _ stages: [Stage], _ p: Projection, _ scope: [String]) throws(GraphError) -> ProjectionRows {
        let items = try projectionItems(p, scope)
        let columns = items.map(\.alias)
        // Order keys that repeat a projected expression refer to its column.
        var order = p.orderBy.map { (e, asc) in (items.first { $0.expr == e }.map { Expr.variable($0.alias) } ?? e, asc) }
        let skip = try nonNegativeInt(p.skip, "SKIP") ?? 0
        let limit = try nonNegativeInt(p.limit, "LIMIT")
        let reader = self
        guard items.contains(where: { Self.containsAggregate($0.expr) }) else {
            let rows = ProjectionRows(columns: columns, order: order, distinct: p.distinct, skip: skip, limit: limit, control)
            try runPipeline(input, stages) { row, kept throws(GraphError) in
                var out: Row = [:]
                var owned = kept
                for item in items {
                    let (value, bytes) = try reader.held(item.expr, row)
                    out[item.alias] = value
                    owned += bytes
                }
                guard try rows.add(out: out, env: row.merging(out) { $1 }, owned: owned, reader) else {
                    throw GraphError(Self.pipelineStop, "enough rows")
                }
            }
            try rows.finish()
            return rows
        }
        // Order keys with their own aggregates become hidden columns computed per group.
        var hidden: [ProjectionItem] = []
        var projectedCalls: [Expr] = []
        for it in items { Self.aggregateCalls(it.expr, &projectedCalls) }
        for (j, (e, asc)) in order.enumerated() where Self.containsAggregate(e) {
            var calls: [Expr] = []
            Self.aggregateCalls(e, &calls)
            guard calls.allSatisfy(projectedCalls.contains) else {
                throw GraphError(.semantic, "ORDER BY may only use aggregates that are also projected; add it to WITH/RETURN")
            }
            let alias = "\u{0}order\(j)"
            hidden.append(ProjectionItem(expr: e, alias: alias))
            order[j] = (.variable(alias), asc)
        }
        let aggregation = try Aggregation(items + hidden, self)
        try runPipeline(input, stages) { row, kept throws(GraphError) in try aggregation.add(row, kept) }
        let rows = ProjectionRows(columns: columns, order: order, distinct: p.distinct, skip: skip, limit: limit, control)
        try aggregation.finish { full, owned throws(GraphError) in
            try rows.add(out: full.filter { !$0.key.hasPrefix("\u{0}") }, env: full, owned: owned, reader)
        }
        try rows.finish()
        return rows
    }

    static func aggregateCalls(_ e: Expr, _ acc: inout [Expr]) {
        switch e {
        case .countStar: acc.append(e)
        case .function(let n, _, let args):
            if aggregateNames.contains(n) { acc.append(e) } else { for a in args { aggregateCalls(a, &acc) } }
        case .literal, .variable, .parameter: break
        case .property(let x, _), .not(let x), .negate(let x), .isNull(let x, _), .hasLabels(let x, _): aggregateCalls(x, &acc)
        case .list(let l), .map(_, let l): for x in l { aggregateCalls(x, &acc) }
        case .binary(_, let a, let b), .index(let a, let b): aggregateCalls(a, &acc); aggregateCalls(b, &acc)
        case .slice(let a, let b, let c):
            aggregateCalls(a, &acc); if let b { aggregateCalls(b, &acc) }; if let c { aggregateCalls(c, &acc) }
        case .listComprehension(_, let l, let p, let m):
            aggregateCalls(l, &acc); if let p { aggregateCalls(p, &acc) }; if let m { aggregateCalls(m, &acc) }
        case .reduce(_, let initial, _, let list, let expression):
            aggregateCalls(initial, &acc); aggregateCalls(list, &acc); aggregateCalls(expression, &acc)
        case .patternPredicate, .patternComprehension, .exists: break
        case .caseExpr(let s, let w, let t, let el):
            if let s { aggregateCalls(s, &acc) }; for x in w + t { aggregateCalls(x, &acc) }; if let el { aggregateCalls(el, &acc) }
        }
    }
}

/// The rows of a final plain RETURN as they are made: handed to the query's sink (their
/// bytes given back at once), or collected as the result and charged as result rows.
final class ReturnedRows {
    private let columns: [String]
    private let sink: ((QueryStreamEvent) throws(GraphError) -> Void)?
    private let control: QueryControl
    private var rows: [[Value]] = []
    private var bytes = 0
    /// Rows taken so far.
    private(set) var count = 0

    /// Sends the column names first when streaming.
    init(columns: [String], streamingTo sink: ((QueryStreamEvent) throws(GraphError) -> Void)?, store: GraphStore,
         _ control: QueryControl) throws(GraphError) {
        self.columns = columns
        self.sink = sink
        self.control = control
        if let sink { try sink(.columns(columns, store)) }
    }

    /// Takes one row whose values hold `owned` bytes (now this collection's).
    func take(_ values: [Value], owned: Int) throws(GraphError) {
        count += 1
        if let sink {
            try sink(.row(values))
            control.refund(owned)
            return
        }
        let rowBytes = MemoryEstimate.resultRowBytes(columns: values.count)
        try control.charge(rowBytes)
        rows.append(values)
        bytes += rowBytes + owned
    }

    /// The query's result: the rows, or an empty result marked streamed.
    func result() -> QueryResult {
        if sink != nil { return QueryResult(columns: [], rows: [], streamed: true) }
        return QueryResult(columns: columns, rows: rows, memoryBytes: bytes)
    }
}
