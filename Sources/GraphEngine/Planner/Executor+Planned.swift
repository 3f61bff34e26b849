/// The output of a planned query: a plain projection streamed or collected row by row, a
/// DISTINCT or sorted collection (`ProjectionRows`, as the interpreter's), or a hash
/// aggregation keyed by the grouping values.
extension Executor {
    /// Where a planned segment's rows come from: one empty row (the part's start), or the rows
    /// an update made, with the slots of their variables.
    struct SegmentInput {
        var start: Int
        var rows: RowSet
        var scope: [(name: String, slot: Int)]
    }

    /// Runs `runner` (made `from: input?.start`) on `input` (nil: the part's start).
    private func run(_ runner: PlanRunner, _ plan: PlannedQuery, _ input: SegmentInput?) throws(GraphError) {
        let slots = plan.slotNames.count
        if let input {
            try runner.run(slots: slots, input: input.rows, scope: input.scope)
        } else {
            try runner.run(slots: slots)
        }
    }

    /// Runs a planned part, reading only or writing.
    mutating func runPlannedPart(_ plan: PlannedQuery, profile: PlanProfile?) throws(GraphError) -> QueryResult {
        plan.writes ? try runPlannedWrites(plan, profile: profile) : try runPlanned(plan, profile: profile)
    }

    /// A planned part that writes: each segment's rows collected for the update that ends it,
    /// the update run (changing this executor's store), and its rows handed to the next
    /// segment, run on the graph as the update left it; the last segment ends in the output.
    mutating func runPlannedWrites(_ plan: PlannedQuery, profile: PlanProfile?) throws(GraphError) -> QueryResult {
        var input: SegmentInput? = nil
        for (u, step) in plan.steps.enumerated() {
            guard case .update(let update) = step else { continue }
            var rows = try segmentRows(plan, input, upTo: u, scope: update.scope, profile: profile)
            let last = u == plan.steps.count - 1
            let keepsRows = !last || { if case .discard = plan.output { return false } else { return true } }()
            var names = update.scope.map(\.name)
            let taken = rows.count
            let clause = update.clause
            try PlanProfile.timing(profile, u) { () throws(GraphError) in
                try runUpdate(clause, &rows, &names, keepingRows: keepsRows)
            }
            // The rows an update makes are counted by the step they go to; the last one's, here.
            if !keepsRows { profile?.rows[u + 1] += taken }
            input = SegmentInput(start: u + 1, rows: rows, scope: update.bound)
        }
        return try runPlanned(plan, profile: profile, input: input)
    }

    /// The rows reaching step `end` (an update), as the interpreter's rows of the variables in
    /// `scope` (a list, map or path a step made is charged for the row that keeps it).
    private func segmentRows(_ plan: PlannedQuery, _ input: SegmentInput?, upTo end: Int, scope: [(name: String, slot: Int)],
                             profile: PlanProfile?) throws(GraphError) -> RowSet {
        final class Collected { var rows = RowSet() }
        let collected = Collected(), control = self.control
        let runner = try PlanRunner(self, plan, from: input?.start ?? 0, upTo: end, profile: profile) { frame, _ throws(GraphError) in
            var row: Row = Dictionary(minimumCapacity: scope.count)
            var kept = 0
            for (name, slot) in scope {
                let value = frame[slot]
                switch value {
                case .list, .map, .path:
                    let bytes = try control.measure(value)
                    try control.charge(bytes)
                    kept += bytes
                default:
                    break
                }
                row[name] = value
            }
            do throws(GraphError) {
                try collected.rows.append(row, kept: kept, control)
            } catch {
                control.refund(kept)
                throw error
            }
        }
        try run(runner, plan, input)
        return collected.rows
    }

    /// Runs a planned part that reads only, or the last segment of one that writes (from
    /// `input`, the rows of its last update).
    func runPlanned(_ plan: PlannedQuery, profile: PlanProfile?, input: SegmentInput? = nil) throws(GraphError) -> QueryResult {
        let control = self.control
        if case .discard = plan.output {
            // Nothing returned: what runs is the steps (a CALL that yields nothing); an update
            // that ends the part left no steps after it.
            if let input, input.start == plan.steps.count {
                input.rows.releaseAll(control)
            } else {
                try run(try PlanRunner(self, plan, from: input?.start ?? 0, profile: profile) { _, _ in }, plan, input)
            }
            return QueryResult(columns: [], rows: [])
        }
        guard case .project(let items, let skip, let limit) = plan.output else {
            if input == nil, let batch = plan.batch, let result = try runBatched(plan, batch, profile: profile) { return result }
            let sink = try ProjectionSink(plan.output, columns: plan.columns, scope: plan.scope, self)
            let runner = try PlanRunner(self, plan, from: input?.start ?? 0, profile: profile) { frame, _ throws(GraphError) in
                try sink.add(frame)
            }
            if input == nil { runner.countRows = sink.counter(of: plan) }
            try run(runner, plan, input)
            let result = try sink.finish()
            profile?.outputRows = result.rows.count
            return result
        }
        let window = try self.window(Projection(star: false, distinct: false, items: [], orderBy: [], skip: skip, limit: limit))
        let returned = try ReturnedRows(columns: plan.columns, streamingTo: streamsAsFound ? rowSink : nil, store: store, control)
        if window?.limit != 0 {
            let runner = try PlanRunner(self, plan, from: input?.start ?? 0, profile: profile) { frame, reader throws(GraphError) in
                guard try window?.admit(refunding: 0, control) ?? true else { return }
                var values: [Value] = []
                values.reserveCapacity(items.count)
                var owned = 0
                for item in items {
                    let (value, bytes) = try reader.held(item.expr, frame)
                    values.append(value)
                    owned += bytes
                }
                try returned.take(values, owned: owned)
                if window?.isFull == true { throw GraphError(Self.pipelineStop, "LIMIT reached") }
            }
            try run(runner, plan, input)
        } else {
            input?.rows.releaseAll(control)
        }
        profile?.outputRows = returned.count
        return returned.result()
    }
}

/// The groups of an aggregation, handed on as rows: `HashAggregation`'s (fed a row at a time)
/// or `BatchAggregation`'s (fed blocks).
protocol AggregationGroups: AnyObject {
    /// Hands each group's row (its columns by alias) and the bytes it holds to `emit`, in the
    /// order groups were first seen, until `emit` returns false.
    func finish(_ emit: (Row, Int) throws(GraphError) -> Bool) throws(GraphError)
}

/// The rows of a WITH or RETURN that needs them all: DISTINCT or sorted (`ProjectionRows`, as
/// the interpreter's, with SKIP and LIMIT), or grouped (`HashAggregation`, then sorted).
final class ProjectionSink {
    private let executor: Executor
    private let rows: ProjectionRows
    /// The groups rows are added to (a row at a time), nil when there are none or they come
    /// from elsewhere (`grouped`).
    private let groups: HashAggregation?
    private let grouped: (any AggregationGroups)?
    private let items: [(alias: String, expr: SlotExpr)]
    /// What ORDER BY sees of a row besides the columns.
    private let scope: [(name: String, slot: Int)]
    /// Columns computed from each group's aggregates.
    private var computed: [(alias: String, expr: Expr)] = []

    /// The projection of `output`; an aggregation's groups are `grouped` when given (made by
    /// the caller), else a `HashAggregation` that `add` feeds.
    init(_ output: PlanOutput, columns: [String], scope: [(name: String, slot: Int)], _ executor: Executor,
         grouped: (any AggregationGroups)? = nil) throws(GraphError) {
        self.executor = executor
        self.scope = scope
        self.grouped = grouped
        let control = executor.control
        switch output {
        case .project(let items, let skip, let limit):
            self.items = items
            groups = nil
            rows = ProjectionRows(columns: columns, order: [], distinct: false, skip: try executor.nonNegativeInt(skip, "SKIP") ?? 0,
                                  limit: try executor.nonNegativeInt(limit, "LIMIT"), control)
        case .collect(let items, let p):
            self.items = items
            groups = nil
            // Order keys that repeat a projected expression refer to its column.
            let order = p.orderBy.map { (e, asc) in (p.items.first { $0.expr == e }.map { Expr.variable($0.alias) } ?? e, asc) }
            rows = ProjectionRows(columns: columns, order: order, distinct: p.distinct, skip: try executor.nonNegativeInt(p.skip, "SKIP") ?? 0,
                                  limit: try executor.nonNegativeInt(p.limit, "LIMIT"), control)
        case .discard:
            throw GraphError(.runtime, "internal: a plan that ends in an update has no projection")
        case .aggregate(let keys, let aggregates, let computed, let p):
            items = []
            self.computed = computed
            groups = grouped == nil ? try HashAggregation(keys: keys, aggregates: aggregates, executor) : nil
            rows = ProjectionRows(columns: columns, order: p.orderBy, distinct: p.distinct, skip: try executor.nonNegativeInt(p.skip, "SKIP") ?? 0,
                                  limit: try executor.nonNegativeInt(p.limit, "LIMIT"), control)
        }
    }

    /// See `HashAggregation.counter(of:)`.
    func counter(of plan: PlannedQuery) -> ((Int) -> Void)? { groups?.counter(of: plan) }

    /// Takes one row; throws `pipelineStop` once no later row can be kept.
    func add(_ frame: Frame) throws(GraphError) {
        if let groups { return try groups.add(frame) }
        var out: Row = Dictionary(minimumCapacity: items.count)
        var env: Row = Dictionary(minimumCapacity: scope.count + items.count)
        for (name, slot) in scope { env[name] = frame[slot] }
        var owned = 0
        for item in items {
            let (value, bytes) = try executor.held(item.expr, frame)
            out[item.alias] = value
            env[item.alias] = value
            owned += bytes
        }
        guard try rows.add(out: out, env: env, owned: owned, executor) else {
            throw GraphError(Executor.pipelineStop, "enough rows")
        }
    }

    /// The rows, sorted, skipped and limited, charged as result rows.
    func finish() throws(GraphError) -> QueryResult {
        let executor = self.executor, rows = self.rows, computed = self.computed
        try (grouped ?? groups)?.finish { out, owned throws(GraphError) in
            var out = out, owned = owned
            for column in computed {
                let (value, bytes) = try executor.held(column.expr, out)
                out[column.alias] = value
                owned += bytes
            }
            return try rows.add(out: out, env: out, owned: owned, executor)
        }
        try rows.finish()
        return try rows.result(executor.control)
    }
}

/// Grouping for a planned RETURN with aggregates: one group per distinct key (compared as
/// Cypher groups values: 1 and 1.0 together), each with an accumulator per aggregate. One
/// grouping key is looked up by its value, several by their list; with none there is one group
/// (`count(*)` over no rows is 0).
final class HashAggregation: AggregationGroups {
    private let executor: Executor
    private let keys: [(alias: String, expr: SlotExpr)]
    private let aggregates: [(alias: String, call: Expr, argument: SlotExpr?)]
    private var single: [Value: Int] = [:]
    private var multiple: [[Value]: Int] = [:]
    private var groups: [(keys: [Value], accumulators: [Accumulator], bytes: Int)] = []

    init(keys: [(alias: String, expr: SlotExpr)], aggregates: [(alias: String, call: Expr, argument: SlotExpr?)],
         _ executor: Executor) throws(GraphError) {
        self.executor = executor
        self.keys = keys
        self.aggregates = aggregates
        if keys.isEmpty { groups.append(([], try Self.accumulators(aggregates), 0)) }
    }

    private var control: QueryControl { executor.control }

    private static func accumulators(_ aggregates: [(alias: String, call: Expr, argument: SlotExpr?)]) throws(GraphError) -> [Accumulator] {
        try aggregates.map { (a) throws(GraphError) in try Accumulator(a.call) }
    }

    /// For a grouping of nothing whose aggregates only count rows (`count(*)`, `count(n)` of
    /// the plan's first node): takes a number of rows at once, so an exact index lookup is
    /// counted without visiting its nodes. Nil for any other aggregation.
    func counter(of plan: PlannedQuery) -> ((Int) -> Void)? {
        guard keys.isEmpty, case .nodeScan(let scan)? = plan.steps.first else { return nil }
        for a in aggregates {
            guard case .countStar = a.call else {
                guard case .slot(scan.slot)? = a.argument else { return nil }
                continue
            }
        }
        guard (try? Self.accumulators(aggregates).allSatisfy(\.countsRows)) == true else { return nil }
        return { [self] n in for j in groups[0].accumulators.indices { groups[0].accumulators[j].add(rows: n) } }
    }

    func add(_ frame: Frame) throws(GraphError) {
        let g: Int
        if keys.isEmpty {
            g = 0
        } else {
            let mark = control.mark
            let found: Int?
            var values: [Value] = []
            if keys.count == 1 {
                // One key: looked up by its value, no list made per row.
                let value = try executor.evaluate(keys[0].expr, frame)
                found = single[Semantics.groupKey(value)]
                if found == nil { values = [value] }
            } else {
                values.reserveCapacity(keys.count)
                for key in keys { values.append(try executor.evaluate(key.expr, frame)) }
                found = multiple[values.map(Semantics.groupKey)]
            }
            if let found {
                control.release(to: mark)
                g = found
            } else {
                let keyBytes = try control.measure(.list(values))
                let bytes = 2 * keyBytes + MemoryEstimate.mapHeaderBytes + MemoryEstimate.listBytes(count: aggregates.count)
                let kept = control.keep(since: mark, atMost: keyBytes)
                try control.charge(bytes)
                g = groups.count
                groups.append((values, try Self.accumulators(aggregates), bytes + kept))
                if keys.count == 1 { single[Semantics.groupKey(values[0])] = g } else { multiple[values.map(Semantics.groupKey)] = g }
            }
        }
        for j in aggregates.indices {
            let mark = control.mark
            defer { control.release(to: mark) }
            let value = try aggregates[j].argument.map { (a) throws(GraphError) in try executor.evaluate(a, frame) } ?? .null
            // A percentile reads no variable (the planner takes no other): no row needed.
            if groups[g].accumulators[j].needsRow { try groups[g].accumulators[j].takePercentile(from: [:], executor) }
            try groups[g].accumulators[j].add(value: value, control)
        }
    }

    /// Hands each group's row (its columns by alias) and the bytes it holds to `emit`, in
    /// the order groups were first seen, until `emit` returns false.
    func finish(_ emit: (Row, Int) throws(GraphError) -> Bool) throws(GraphError) {
        let finished = groups
        groups = []
        single = [:]
        multiple = [:]
        var wantsMore = true
        for group in finished {
            try control.check()
            let owned = group.accumulators.reduce(0) { $0 + $1.heldBytes }
            control.refund(group.bytes)
            guard wantsMore else { control.refund(owned); continue }
            var out: Row = Dictionary(minimumCapacity: keys.count + aggregates.count)
            for (j, key) in keys.enumerated() { out[key.alias] = group.keys[j] }
            for (j, aggregate) in aggregates.enumerated() { out[aggregate.alias] = try group.accumulators[j].value() }
            wantsMore = try emit(out, owned)
        }
    }
}
