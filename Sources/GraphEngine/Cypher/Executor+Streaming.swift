/// Streaming a read-only query whose last two clauses are `MATCH ... [WHERE ...]` and a plain
/// `RETURN` (no DISTINCT, ORDER BY or aggregate): each row is projected and handed on as the
/// pattern walk finds it, so neither the MATCH nor the RETURN result is held whole, and a
/// LIMIT stops the walk.
extension Executor {
    /// Thrown from a walk's consumer once it has what it wants (LIMIT rows handed on, or a
    /// first match found) and caught where the walk began: the rest of the walk is skipped.
    private static let walkDone = GraphError.Code(name: "walkDone")

    static func isStreamable(_ p: Projection) -> Bool {
        !p.distinct && p.orderBy.isEmpty && !p.items.contains { containsAggregate($0.expr) }
    }

    func streamMatch(_ rows: [Row], optional: Bool, _ parts: [PatternPart], where predicate: Expr?, returning p: Projection,
                     _ scope: [String], to sink: @escaping (QueryStreamEvent) throws(GraphError) -> Void) throws(GraphError) {
        let items = try projectionItems(p, scope)
        try sink(.columns(items.map(\.alias), store))
        var skip = try nonNegativeInt(p.skip, "SKIP") ?? 0
        let limit = try nonNegativeInt(p.limit, "LIMIT") ?? Int.max
        guard limit > 0 else { return }
        var sent = 0, accepted = 0
        let reader = self
        func emit(_ row: Row) throws(GraphError) {
            accepted += 1
            if skip > 0 { skip -= 1; return }
            var values: [Value] = []
            values.reserveCapacity(items.count)
            for item in items { values.append(try reader.eval(item.expr, row)) }
            try sink(.row(values))
            sent += 1
            if sent == limit { throw GraphError(Self.walkDone, "LIMIT reached") }
        }
        var out = MatchOutput { row throws(GraphError) in
            if let predicate, try reader.eval(predicate, row) != .bool(true) { return }
            try emit(row)
        }
        do {
            for r in rows {
                let before = accepted
                try matchParts(parts, r, into: &out)
                if optional && accepted == before {
                    var nr = r
                    for v in Self.patternVariables(parts) where nr[v] == nil { nr[v] = .null }
                    try emit(nr)
                }
                try checkDeadline()
            }
        } catch where error.code == Self.walkDone {
            return
        }
    }

    /// Whether `part` matches at least once from `row`; stops at the first match.
    func hasMatch(_ part: PatternPart, _ row: Row) throws(GraphError) -> Bool {
        var out = MatchOutput { _ throws(GraphError) in throw GraphError(Self.walkDone, "found") }
        do {
            try matchParts([part], row, into: &out)
            return false
        } catch where error.code == Self.walkDone {
            return true
        }
    }
}
