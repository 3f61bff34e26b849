/// Read-only clauses run as a pipeline: MATCH, OPTIONAL MATCH, UNWIND, CALL and a plain WITH
/// (no aggregate, DISTINCT or ORDER BY) pass each row on as soon as they make it, depth first,
/// to the clause that needs their rows: an aggregation, a sort, an update, or the final
/// RETURN (which streams them to the client). So rows between pipelined clauses are never
/// held, an aggregation's memory grows with its groups and not with the rows it reads, and a
/// LIMIT stops the work upstream.
///
/// Each row travels with the bytes its values hold (charged when they were made). Whoever
/// takes the row owns them: a clause that drops it refunds them, one that makes several rows
/// from it hands them to the first.
extension Executor {
    /// One pipelined clause, prepared.
    enum Stage {
        /// `variables`: every pattern variable (nulls for OPTIONAL MATCH); `made`: those bound to
        /// values the walk builds (paths, variable-length relationship lists).
        case match(optional: Bool, parts: [PatternPart], predicate: Expr?, hints: [String: [(property: String, value: Expr)]],
                   variables: [String], made: [String])
        case unwind(Expr, String)
        case with(items: [ProjectionItem], predicate: Expr?, window: Window?)
        /// `bindings`: each output put in the row (by its position in the record) under its alias.
        case call(GraphProcedure, arguments: [Expr], bindings: [(output: Int, alias: String)], predicate: Expr?)
    }

    /// SKIP and LIMIT of a pipelined WITH or RETURN: rows seen so far, across the stage's runs.
    final class Window {
        let skip: Int
        let limit: Int?
        private var seen = 0

        /// SKIP + LIMIT, saturated (both may be as large as Int64.max).
        private let end: Int?

        init(skip: Int, limit: Int?) {
            self.skip = skip
            self.limit = limit
            end = limit.map { skip.addingReportingOverflow($0).overflow ? Int.max : skip + $0 }
        }

        enum Verdict { case skip, take, stop }

        /// What to do with the next row: skip it, take it, or stop (LIMIT rows were taken).
        func next() -> Verdict {
            defer { seen += 1 }
            if let end, seen >= end { return .stop }
            return seen < skip ? .skip : .take
        }

        /// Whether to take the next row (false: SKIP drops it); throws `pipelineStop` once
        /// LIMIT rows were taken. A row not taken gives back the `kept` bytes it holds.
        func admit(refunding kept: Int, _ control: QueryControl) throws(GraphError) -> Bool {
            switch next() {
            case .take: return true
            case .skip: control.refund(kept); return false
            case .stop: control.refund(kept); throw GraphError(Executor.pipelineStop, "LIMIT reached")
            }
        }

        /// Whether the row just taken was the last one LIMIT allows.
        var isFull: Bool { end.map { seen >= $0 } ?? false }
    }

    /// Where a pipeline's rows go: each row and the bytes its values hold (now the taker's).
    typealias RowSink = (Row, Int) throws(GraphError) -> Void

    /// Thrown to end a pipeline early (a LIMIT was reached, a first row found) and caught where
    /// the pipeline began: the rest of its work is skipped.
    static let pipelineStop = GraphError.Code(name: "pipelineStop")

    /// A projection that can run row by row: no aggregate, DISTINCT or ORDER BY.
    static func isPlain(_ p: Projection) -> Bool {
        !p.distinct && p.orderBy.isEmpty && !p.items.contains { containsAggregate($0.expr) }
    }

    /// The stage for `clause`, or nil when the clause needs all its input rows at once;
    /// `scope` follows the clause.
    /// `standalone`: the clause is the whole query (a CALL then returns every output when it
    /// names none).
    func stage(for clause: Clause, _ scope: inout [String], standalone: Bool = false) throws(GraphError) -> Stage? {
        func addScope(_ vs: [String]) { for v in vs where !scope.contains(v) { scope.append(v) } }
        switch clause {
        case .match(let optional, let parts, let predicate):
            let variables = Self.patternVariables(parts)
            addScope(variables)
            var made: [String] = []
            for p in parts {
                if let v = p.pathVariable { made.append(v) }
                for (rel, _) in p.steps where rel.length != nil || p.shortest != nil {
                    if let v = rel.variable { made.append(v) }
                }
            }
            // Only this MATCH's own WHERE may narrow its starting nodes.
            return .match(optional: optional, parts: parts, predicate: predicate,
                          hints: predicate.map(Self.equalityHints) ?? [:], variables: variables, made: made)
        case .unwind(let e, let name):
            addScope([name])
            return .unwind(e, name)
        case .call(let call):
            let procedure = try procedures.procedure(named: call.procedure)
            // Written without parentheses: each input is the parameter of its name. (The
            // analyzer, which every query passes first, checked the count and the outputs.)
            let arguments = call.arguments ?? procedure.inputs.map { Expr.parameter($0.name) }
            let bindings: [(output: Int, alias: String)]
            switch call.bindings(procedure, standalone: standalone) {
            case .success(let bound): bindings = bound
            case .failure(let unknown): throw GraphError(.semantic, "\(call.procedure) has no output '\(unknown.name)'")
            }
            addScope(bindings.map(\.alias))
            return .call(procedure, arguments: arguments, bindings: bindings, predicate: call.predicate)
        case .with(let p, let predicate) where Self.isPlain(p):
            let items = try projectionItems(p, scope)
            scope = items.map(\.alias)
            return .with(items: items, predicate: predicate, window: try window(p))
        default:
            return nil
        }
    }

    /// The SKIP/LIMIT window of `p`, nil when it has neither.
    func window(_ p: Projection) throws(GraphError) -> Window? {
        let skip = try nonNegativeInt(p.skip, "SKIP"), limit = try nonNegativeInt(p.limit, "LIMIT")
        if skip == nil && limit == nil { return nil }
        return Window(skip: skip ?? 0, limit: limit)
    }

    /// Pushes every row of `input` through `stages` into `sink`, until the input ends or a
    /// stage (or the sink) stops the pipeline. Takes the input rows over.
    func runPipeline(_ input: RowSet, _ stages: [Stage], into sink: @escaping RowSink) throws(GraphError) {
        let mark = control.mark
        var next = 0
        defer { input.releaseRows(control) }
        do {
            while next < input.count {
                try control.check()
                let (row, kept) = (input.rows[next], input.kept[next])
                next += 1
                try push(row, kept, stages[...], into: sink)
            }
        } catch where error.code == Self.pipelineStop {
            control.release(to: mark)
            // Rows never pushed are dropped with what they hold.
            for bytes in input.kept[next...] { control.refund(bytes) }
        }
    }

    /// Runs the pipeline into a new row set (the next clause needs every row).
    func collect(_ input: RowSet, _ stages: [Stage]) throws(GraphError) -> RowSet {
        final class Box { var rows = RowSet() }
        let box = Box()
        let control = self.control
        try runPipeline(input, stages) { row, kept throws(GraphError) in
            do throws(GraphError) {
                try box.rows.append(row, kept: kept, control)
            } catch {
                control.refund(kept)
                throw error
            }
        }
        return box.rows
    }

    /// Passes `row` (its values holding `kept` bytes) through `stages` into `sink`.
    func push(_ row: Row, _ kept: Int, _ stages: ArraySlice<Stage>, into sink: @escaping RowSink) throws(GraphError) {
        guard let stage = stages.first else { return try sink(row, kept) }
        let rest = stages.dropFirst()
        switch stage {
        case .match(let optional, let parts, let predicate, let hints, let variables, let made):
            // This MATCH's WHERE narrows its own walk only: the clauses after it run without it.
            var reader = self
            reader.equalityHints = hints
            var next = self
            next.equalityHints = [:]
            let control = self.control
            var carry = kept
            var found = false
            let mark = control.mark
            defer { control.release(to: mark) }
            var out = MatchOutput { match throws(GraphError) in
                try control.check()
                if let predicate, try !reader.test(predicate, match) { return }
                found = true
                // Paths and relationship lists are new arrays; nodes and relationships are ids.
                var madeBytes = 0
                for v in made { if let value = match[v] { madeBytes += MemoryEstimate.heapBytes(value) } }
                try control.charge(madeBytes)
                let owned = carry + madeBytes
                carry = 0
                try next.push(match, owned, rest, into: sink)
            }
            try reader.matchParts(parts, row, into: &out)
            if !found && optional {
                var padded = row
                for v in variables where padded[v] == nil { padded[v] = .null }
                carry = 0
                try next.push(padded, kept, rest, into: sink)
            }
            control.refund(carry)
        case .unwind(let e, let name):
            let mark = control.mark
            defer { control.release(to: mark) }
            let items: [Value]
            switch try eval(e, row) { case .null: items = []; case .list(let l): items = l; case let v: items = [v] }
            var carry = kept
            for item in items {
                try control.check()
                // The row keeps its element alive after the list is gone.
                let itemBytes = try control.measure(item)
                try control.charge(itemBytes)
                var next = row
                next[name] = item
                let owned = carry + itemBytes
                carry = 0
                try push(next, owned, rest, into: sink)
            }
            control.refund(carry)
        case .with(let items, let predicate, let window):
            guard try window?.admit(refunding: kept, control) ?? true else { return }
            var projected: Row = [:]
            var owned = kept
            for item in items {
                let (value, bytes) = try held(item.expr, row)
                projected[item.alias] = value
                owned += bytes
            }
            if let predicate, try !test(predicate, row.merging(projected) { $1 }) {
                control.refund(owned)
            } else {
                try push(projected, owned, rest, into: sink)
            }
        case .call(let procedure, let arguments, let bindings, let predicate):
            let mark = control.mark
            defer { control.release(to: mark) }
            var values: [Value] = []
            for argument in arguments { values.append(try eval(argument, row)) }
            var carry = kept
            // A procedure without outputs passes the row on once, whatever it did.
            let records = try callProcedure(procedure, arguments: values)
            for record in procedure.outputs.isEmpty ? [[]] : records {
                try control.check()
                var next = row
                for (output, alias) in bindings { next[alias] = record[output] }
                if let predicate, try !test(predicate, next) { continue }
                let owned = carry
                carry = 0
                try push(next, owned, rest, into: sink)
            }
            control.refund(carry)
        }
    }

    /// Whether `predicate` holds for `row` (null and false do not); what evaluating it built is
    /// given back.
    func test(_ predicate: Expr, _ row: Row, _ aggs: [Expr: Value] = [:]) throws(GraphError) -> Bool {
        let mark = control.mark
        defer { control.release(to: mark) }
        return try eval(predicate, row, aggs) == .bool(true)
    }

    /// The value of `e` for `row`, and the bytes it holds that evaluating it made (now the
    /// caller's, to keep with the row or refund); temporaries are given back.
    func held(_ e: Expr, _ row: Row, _ aggs: [Expr: Value] = [:]) throws(GraphError) -> (Value, Int) {
        let mark = control.mark
        let value = try eval(e, row, aggs)
        guard control.transientBytes > mark else { return (value, 0) }
        return (value, control.keep(since: mark, atMost: try control.measure(value)))
    }
}
