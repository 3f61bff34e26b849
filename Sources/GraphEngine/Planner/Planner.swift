/// From a parsed, checked query to a `PlannedQuery`: slots for the variables, each pattern part
/// anchored at its cheaper end (a bound node, an id seek, an index lookup, a label scan, in
/// that order) and walked from there, WHERE split into conjuncts that each run right after
/// the step that binds what they read, and the RETURN as a plain projection, a sorted or
/// DISTINCT collection, or a hash aggregation.
///
/// The planner takes query parts (one, or several joined by UNION) made of MATCH, OPTIONAL
/// MATCH, UNWIND, WITH, CALL and the updating clauses (CREATE, MERGE, SET, REMOVE, DELETE),
/// ending in RETURN or an update (or a CALL alone). What it does not take yet (a percentile that
/// reads variables, an aggregation's ORDER BY or expression mixing aggregates it cannot split)
/// is left to the clause interpreter, with the reason.
enum Planner {
    enum Outcome: Sendable {
        /// One plan per part (several for UNION; `unionAll`: one flag per UNION between them).
        case planned([PlannedQuery], unionAll: [Bool])
        case interpreted(reason: String)
    }

    /// `procedures`: the catalog the query was checked against (what its CALLs run).
    static func plan(_ q: Query, procedures: ProcedureCatalog) -> Outcome {
        var parts: [PlannedQuery] = []
        for clauses in q.parts {
            switch plan(part: clauses, procedures) {
            case .success(let part): parts.append(part)
            case .failure(let unplanned): return .interpreted(reason: unplanned.text)
            }
        }
        return .planned(parts, unionAll: q.unionAll)
    }

    struct Unplanned: Error { let text: String }

    private static func plan(part clauses: [Clause], _ procedures: ProcedureCatalog) -> Result<PlannedQuery, Unplanned> {
        // A CALL alone returns what it yields; a part that ends in an update returns nothing.
        let standalone = clauses.count == 1 && clauses[0].isCall
        let endsInUpdate = clauses.last?.isUpdating ?? false
        let body = standalone || endsInUpdate ? clauses[...] : clauses.dropLast()
        var projection: Projection? = nil
        if !standalone && !endsInUpdate {
            guard case .ret(let p)? = clauses.last else { return .failure(Unplanned(text: "the query does not end in RETURN")) }
            projection = p
        }
        var builder = Builder()
        for (k, clause) in body.enumerated() {
            let reason: String?
            switch clause {
            case .match(let optional, let parts, let predicate):
                reason = builder.addMatch(parts, predicate, optional: optional,
                                          distinctEnds: distinctEndsSuffice(after: k, clauses))
            case .unwind(let e, let name):
                builder.addUnwind(e, name)
                reason = nil
            case .with(let p, let predicate):
                reason = builder.addWith(p, predicate)
            case .call(let call):
                reason = builder.addCall(call, procedures, standalone: standalone)
                // (One that yields nothing returns nothing.)
                if standalone, reason == nil, case .call(let step)? = builder.steps.last, !step.bindings.isEmpty {
                    projection = Projection(star: false, distinct: false,
                                            items: step.bindings.map { ProjectionItem(expr: .variable($0.alias), alias: $0.alias) },
                                            orderBy: [], skip: nil, limit: nil)
                }
            case .create, .merge, .set, .remove, .delete:
                builder.addUpdate(clause)
                reason = nil
            case .ret:
                reason = "RETURN must be the last clause"
            }
            if let reason { return .failure(Unplanned(text: reason)) }
        }
        guard let projection else {
            return .success(PlannedQuery(slotNames: builder.slotNames, steps: builder.steps, output: .discard, columns: [],
                                         scope: builder.scope))
        }
        return builder.finish(projection)
    }

    /// Whether the rows of clause `k` (a MATCH) may each be counted once: the next projection
    /// after it that is not a plain pass-through makes the same answer from distinct rows.
    static func distinctEndsSuffice(after k: Int, _ clauses: [Clause]) -> Bool {
        for clause in clauses[(k + 1)...] {
            switch clause {
            case .match, .unwind: continue
            case .with(let p, _) where Executor.isPlain(p) && p.skip == nil && p.limit == nil: continue
            case .with(let p, _), .ret(let p): return distinctEndsSuffice(p)
            default: return false
            }
        }
        return false
    }

    static func clauseName(_ c: Clause) -> String {
        switch c {
        case .match(true, _, _): return "OPTIONAL MATCH"
        case .match: return "MATCH"
        case .create: return "CREATE"
        case .merge: return "MERGE"
        case .with: return "WITH"
        case .ret: return "RETURN"
        case .unwind: return "UNWIND"
        case .set: return "SET"
        case .remove: return "REMOVE"
        case .delete: return "DELETE"
        case .call: return "CALL"
        }
    }

    /// Whether the result stays the same when each distinct row of the MATCHes is counted once:
    /// RETURN DISTINCT without aggregates, or every aggregate DISTINCT, min or max.
    static func distinctEndsSuffice(_ p: Projection) -> Bool {
        var calls: [Expr] = []
        for item in p.items { Executor.aggregateCalls(item.expr, &calls) }
        if calls.isEmpty { return p.distinct && !p.star }
        guard !p.star else { return false }
        return calls.allSatisfy { call in
            guard case .function(let name, let distinct, _) = call else { return false }
            return distinct || name == "min" || name == "max"
        }
    }

    /// The variables `e` reads, or nil when it has a pattern or subquery (which may read any).
    static func variables(_ e: Expr) -> Set<String>? {
        func all(_ es: [Expr]) -> Set<String>? {
            var out = Set<String>()
            for x in es { guard let v = variables(x) else { return nil }; out.formUnion(v) }
            return out
        }
        switch e {
        case .literal, .parameter, .countStar: return []
        case .variable(let v): return [v]
        case .property(let x, _), .not(let x), .negate(let x), .isNull(let x, _), .hasLabels(let x, _): return variables(x)
        case .list(let l), .map(_, let l), .function(_, _, let l): return all(l)
        case .binary(_, let a, let b), .index(let a, let b): return all([a, b])
        case .slice(let a, let b, let c): return all([a] + [b, c].compactMap { $0 })
        case .caseExpr(let s, let w, let t, let el): return all([s, el].compactMap { $0 } + w + t)
        case .listComprehension(let v, let l, let p, let m):
            guard let outer = variables(l), let inner = all([p, m].compactMap { $0 }) else { return nil }
            return outer.union(inner.subtracting([v]))
        case .reduce(let acc, let initial, let v, let list, let expression):
            guard let outer = all([initial, list]), let inner = variables(expression) else { return nil }
            return outer.union(inner.subtracting([acc, v]))
        case .patternPredicate, .patternComprehension, .exists: return nil
        }
    }

    /// The name of a function call, nil for any other expression.
    static func functionName(_ e: Expr) -> String? {
        if case .function(let name, _, _) = e { return name }
        return nil
    }

    /// `e` with each sub-expression `replace` gives a value for replaced by it (outermost
    /// first; what it replaces is not looked into). Of an expression with a scope of its own,
    /// only what is read in the outer scope is looked into (a comprehension's list, a reduce's
    /// initial value and list: `[x IN collect(r) WHERE ...]`); patterns and subqueries are
    /// kept whole unless replaced.
    static func rewrite(_ e: Expr, _ replace: (Expr) -> Expr?) -> Expr {
        if let r = replace(e) { return r }
        func again(_ x: Expr) -> Expr { rewrite(x, replace) }
        switch e {
        case .literal, .variable, .parameter, .countStar, .patternPredicate, .patternComprehension, .exists:
            return e
        case .listComprehension(let v, let list, let predicate, let projection):
            return .listComprehension(v, again(list), predicate, projection)
        case .reduce(let accumulator, let initial, let v, let list, let expression):
            return .reduce(accumulator: accumulator, initial: again(initial), variable: v, list: again(list), expression: expression)
        case .property(let x, let k): return .property(again(x), k)
        case .list(let l): return .list(l.map(again))
        case .map(let ks, let vs): return .map(ks, vs.map(again))
        case .binary(let op, let a, let b): return .binary(op, again(a), again(b))
        case .not(let x): return .not(again(x))
        case .negate(let x): return .negate(again(x))
        case .isNull(let x, let n): return .isNull(again(x), negated: n)
        case .function(let n, let d, let args): return .function(n, distinct: d, args.map(again))
        case .index(let a, let b): return .index(again(a), again(b))
        case .slice(let a, let b, let c): return .slice(again(a), b.map(again), c.map(again))
        case .hasLabels(let x, let ls): return .hasLabels(again(x), ls)
        case .caseExpr(let s, let w, let t, let el): return .caseExpr(s.map(again), w.map(again), t.map(again), el.map(again))
        }
    }

    /// The conjuncts of a WHERE (its top-level ANDs).
    static func conjuncts(_ e: Expr) -> [Expr] {
        if case .binary("AND", let a, let b) = e { return conjuncts(a) + conjuncts(b) }
        return [e]
    }

    struct Builder {
        var slots: [String: Int] = [:]
        var slotNames: [String?] = []
        var steps: [PlanStep] = []

        mutating func slot(for variable: String?) -> Int {
            if let variable, let s = slots[variable] { return s }
            let s = slotNames.count
            slotNames.append(variable)
            if let variable { slots[variable] = s }
            return s
        }

        func isBound(_ v: String?) -> Bool { v.map { slots[$0] != nil } ?? false }

        /// The named variables in scope and their slots, in slot order.
        var scope: [(name: String, slot: Int)] { slots.map { (name: $0.key, slot: $0.value) }.sorted { $0.slot < $1.slot } }

        /// An updating clause: a barrier step; what CREATE or MERGE binds gets slots.
        mutating func addUpdate(_ clause: Clause) {
            let before = scope
            switch clause {
            case .create(let parts): for v in Executor.patternVariables(parts) { _ = slot(for: v) }
            case .merge(let part, _, _): for v in Executor.patternVariables([part]) { _ = slot(for: v) }
            default: break
            }
            steps.append(.update(UpdateStep(clause: clause, scope: before, bound: scope)))
        }

        func compile(_ e: Expr?) -> SlotExpr? { e.map { SlotExpr.compile($0, slots) } }

        /// UNWIND: a new slot for the element.
        /// CALL: its arguments read the row; each yielded output gets a slot (a standalone call
        /// yields every output unless YIELD names some). Nil, or why it is left to the interpreter.
        mutating func addCall(_ call: ProcedureCall, _ procedures: ProcedureCatalog, standalone: Bool) -> String? {
            guard let procedure = procedures[call.procedure] else { return "there is no procedure '\(call.procedure)'" }
            let arguments = (call.arguments ?? procedure.inputs.map { Expr.parameter($0.name) }).map { SlotExpr.compile($0, slots) }
            let yielded: [(output: Int, alias: String)]
            switch call.bindings(procedure, standalone: standalone) {
            case .success(let bound): yielded = bound
            case .failure(let unknown): return "\(call.procedure) has no output '\(unknown.name)'"
            }
            let bindings = yielded.map { (output: $0.output, slot: slot(for: $0.alias), alias: $0.alias) }
            steps.append(.call(CallStep(procedure: procedure, arguments: arguments, bindings: bindings,
                                        predicate: call.predicate.map { SlotExpr.compile($0, slots) })))
            return nil
        }

        mutating func addUnwind(_ e: Expr, _ name: String) {
            let list = SlotExpr.compile(e, slots)
            let s = slot(for: name)
            steps.append(.unwind(list, e, slot: s, alias: name))
        }

        /// WITH: its columns in new slots, which become the scope; its WHERE after them.
        mutating func addWith(_ p: Projection, _ predicate: Expr?) -> String? {
            let eager = !Executor.isPlain(p) || p.skip != nil || p.limit != nil
            var predicate = predicate
            if eager, let original = predicate {
                // After a collecting WITH only its columns are carried on: an item's expression
                // in the WHERE reads its column (`WITH DISTINCT a.x AS x WHERE a.x = 1`).
                let rewritten = Planner.rewrite(original) { e in p.items.first { $0.expr == e }.map { .variable($0.alias) } }
                let columns = Set(p.items.map(\.alias)).union(p.star ? Set(slots.keys) : [])
                guard let read = Planner.variables(rewritten), read.isSubset(of: columns) else {
                    return "a WHERE after this WITH reads more than its columns"
                }
                predicate = rewritten
            }
            let outputScope = slots.map { (name: $0.key, slot: $0.value) }
            let output: PlanOutput, columns: [String]
            switch projectionOutput(p, clause: "WITH") {
            case .success(let made): (output, columns) = made
            case .failure(let reason): return reason.text
            }
            var newSlots: [String: Int] = [:]
            var made: [Int] = []
            for alias in columns {
                let s = slotNames.count
                slotNames.append(alias)
                newSlots[alias] = s
                made.append(s)
            }
            if eager {
                steps.append(.eager(output, columns: columns, slots: made, scope: outputScope))
            } else {
                guard case .project(let items, _, _) = output else { return "an unexpected WITH" }
                steps.append(.project(zip(made, items).map { (slot: $0, expr: $1.expr, alias: $1.alias) }))
            }
            // A plain WITH's WHERE still sees the variables before it (as the interpreter's does).
            let before = slots
            slots = newSlots
            if let predicate {
                let visible = eager ? newSlots : before.merging(newSlots) { $1 }
                steps.append(.filter(SlotExpr.compile(predicate, visible), predicate))
            }
            return nil
        }

        /// Adds one MATCH; returns why it cannot be planned, or nil.
        mutating func addMatch(_ parts: [PatternPart], _ predicate: Expr?, optional: Bool, distinctEnds: Bool) -> String? {
            // (A path variable, or a shortestPath's relationship variable, bound before is refused
            // by the analyzer.)
            let relationshipCount = parts.reduce(0) { $0 + $1.steps.count }
            var pending = predicate.map(Planner.conjuncts) ?? []
            var matchRelationships: [Int] = []
            let optionalStart = steps.count
            let slotsBefore = slotNames.count
            if optional { steps.append(.optional(end: -1, slots: [])) }

            // Conjuncts whose variables are all bound now become filters here.
            func placeFilters(_ builder: inout Builder, final: Bool) {
                pending.removeAll { conjunct in
                    let vars = Planner.variables(conjunct)
                    guard final || (vars.map { $0.allSatisfy { builder.slots[$0] != nil } } ?? false) else { return false }
                    builder.steps.append(.filter(SlotExpr.compile(conjunct, builder.slots), conjunct))
                    return true
                }
            }
            // Equalities `v.p = e` / `id(v) = e` whose `e` reads only bound variables.
            let equalities = predicate.map(Executor.equalityHints) ?? [:]
            func hints(for variable: String?) -> (id: SlotExpr?, index: [(hint: IndexHint, value: Expr)]) {
                guard let variable else { return (nil, []) }
                var id: SlotExpr? = nil, index: [(hint: IndexHint, value: Expr)] = []
                if let list = equalities[variable] {
                    for (property, value) in list {
                        guard let read = Planner.variables(value), read.allSatisfy({ slots[$0] != nil }) else { continue }
                        if property == Executor.idHint { id = id ?? SlotExpr.compile(value, slots) }
                        else { index.append((IndexHint(property: property, value: SlotExpr.compile(value, slots)), value)) }
                    }
                }
                return (id, index)
            }
            func score(_ n: NodePattern) -> Int {
                if isBound(n.variable) { return 0 }
                let h = hints(for: n.variable)
                if h.id != nil { return 1 }
                if !n.labels.isEmpty && (!h.index.isEmpty || n.properties != nil) { return 2 }
                return n.labels.isEmpty ? 4 : 3
            }

            for original in parts {
                var part = original
                // Anchor at the cheaper end: walk the chain backwards when the last node is (a
                // path keeps its own order: it is walked from its start).
                if part.pathVariable == nil, part.shortest == nil, let last = part.steps.last?.1, score(last) < score(part.start) {
                    var nodes = [part.start] + part.steps.map(\.1)
                    var rels = part.steps.map(\.0)
                    nodes.reverse()
                    rels.reverse()
                    for i in rels.indices {
                        switch rels[i].direction {
                        case .outgoing: rels[i].direction = .incoming
                        case .incoming: rels[i].direction = .outgoing
                        case .both: break
                        }
                    }
                    part = PatternPart(pathVariable: nil, start: nodes[0], steps: Array(zip(rels, nodes.dropFirst())))
                }
                let start = part.start
                let wasBound = isBound(start.variable)
                let h = wasBound ? (id: nil, index: []) : hints(for: start.variable)
                var inline: [IndexHint] = []
                if case .map(let keys, let values)? = start.properties {
                    for (k, v) in zip(keys, values) { inline.append(IndexHint(property: k, value: SlotExpr.compile(v, slots))) }
                }
                let test = NodeTest(labels: start.labels, properties: compile(start.properties))
                let s = slot(for: start.variable)
                let scanStep = steps.count
                // A node bound before with nothing to check needs no step.
                if !wasBound || !test.labels.isEmpty || test.properties != nil {
                    steps.append(.nodeScan(NodeScan(slot: s, variable: start.variable, test: test, bound: wasBound,
                                                    idSeek: h.id, indexHints: [])))
                }
                var pieces: [PathPiece] = [.start(s)]
                placeFilters(&self, final: false)
                // Each WHERE equality an index may answer, with the filter that checks it again.
                var indexHints = inline
                for (hint, value) in h.index {
                    var hint = hint
                    let conjuncts: [Expr] = [.binary("=", .property(.variable(start.variable ?? ""), hint.property), value),
                                             .binary("=", value, .property(.variable(start.variable ?? ""), hint.property))]
                    hint.filter = steps.indices.dropFirst(scanStep + 1).first { i in
                        if case .filter(_, let e) = steps[i] { return conjuncts.contains(e) }
                        return false
                    }
                    indexHints.append(hint)
                }
                if scanStep < steps.count, case .nodeScan(var scan) = steps[scanStep] {
                    scan.indexHints = indexHints
                    steps[scanStep] = .nodeScan(scan)
                }
                var at = s
                if let kind = part.shortest, let (rel, end) = part.steps.first {
                    // The search itself is the interpreter's; its end node is tested there too.
                    let scope = slots.map { (name: $0.key, slot: $0.value) }
                    let endSlot = slot(for: end.variable)
                    let relationships = rel.variable != nil || relationshipCount > 1 ? slot(for: rel.variable) : nil
                    let path = part.pathVariable.map { slot(for: $0) }
                    steps.append(.shortest(ShortestStep(part: part, kind: kind, from: s, end: endSlot, endName: end.variable,
                                                        relationships: relationships, path: path, scope: scope,
                                                        distinctFrom: matchRelationships)))
                    if let relationships { matchRelationships.append(relationships) }
                    placeFilters(&self, final: false)
                    continue
                }
                for (rel, node) in part.steps {
                    let target = NodeTest(labels: node.labels, properties: compile(node.properties))
                    let toBound = isBound(node.variable)
                    if let (lo, hi) = rel.length {
                        let relationshipsBound = isBound(rel.variable)
                        let to = slot(for: node.variable)
                        // Other relationships of the MATCH must differ from the walk's: it is kept.
                        let relationships = rel.variable != nil || relationshipCount > 1 ? slot(for: rel.variable) : nil
                        let segment = part.pathVariable == nil ? nil : slot(for: nil)
                        if let segment { pieces.append(.segment(segment)) }
                        steps.append(.varExpand(VarExpand(
                            from: at, to: to, types: rel.types, direction: rel.direction,
                            relationshipProperties: compile(rel.properties), min: lo,
                            max: Swift.min(hi ?? Executor.maxHops, Executor.maxHops), target: target, toBound: toBound,
                            relationships: relationships, relationshipsBound: relationshipsBound,
                            distinctFrom: matchRelationships, segment: segment,
                            distinctEnds: distinctEnds && lo <= 1 && rel.direction != .both && rel.properties == nil && !toBound
                                && relationships == nil && segment == nil)))
                        if let relationships { matchRelationships.append(relationships) }
                        at = to
                    } else {
                        let relationshipBound = isBound(rel.variable)
                        let r = slot(for: rel.variable)
                        let to = slot(for: node.variable)
                        steps.append(.expand(Expand(from: at, relationship: r, to: to, types: rel.types, direction: rel.direction,
                                                    relationshipProperties: compile(rel.properties), target: target,
                                                    toBound: toBound, relationshipBound: relationshipBound,
                                                    distinctFrom: matchRelationships)))
                        matchRelationships.append(r)
                        pieces.append(.step(relationship: r, node: to))
                        at = to
                    }
                    placeFilters(&self, final: false)
                }
                if let name = part.pathVariable {
                    steps.append(.path(slot: slot(for: name), pieces: pieces, alias: name))
                    placeFilters(&self, final: false)
                }
            }
            placeFilters(&self, final: true)
            if optional {
                steps[optionalStart] = .optional(end: steps.count, slots: Array(slotsBefore..<slotNames.count))
                steps.append(.optionalEnd(start: optionalStart))
            }
            return nil
        }

        func finish(_ p: Projection) -> Result<PlannedQuery, Unplanned> {
            projectionOutput(p, clause: "RETURN").map { output, columns in
                var planned = PlannedQuery(slotNames: slotNames, steps: steps, output: output, columns: columns, scope: scope)
                planned.batch = BatchPlan(planned)
                return planned
            }
        }

        /// How a WITH or RETURN makes its rows from the current scope, and its columns.
        func projectionOutput(_ p: Projection, clause: String) -> Result<(PlanOutput, [String]), Unplanned> {
            var items = p.items
            if p.star {
                items = slots.keys.filter { !$0.isEmpty }.sorted().map { ProjectionItem(expr: .variable($0), alias: $0) } + items
            }
            // `WITH *` with nothing in scope passes empty rows on.
            guard !items.isEmpty || p.star, Set(items.map(\.alias)).count == items.count else {
                return .failure(Unplanned(text: "the \(clause) items are not plannable"))
            }
            let columns = items.map(\.alias)
            let aggregating = items.contains { Executor.containsAggregate($0.expr) }
            if !aggregating {
                let compiled = items.map { (alias: $0.alias, expr: SlotExpr.compile($0.expr, slots)) }
                if !p.distinct && p.orderBy.isEmpty && (clause == "RETURN" || (p.skip == nil && p.limit == nil)) {
                    return .success((.project(items: compiled, skip: p.skip, limit: p.limit), columns))
                }
                return .success((.collect(items: compiled, projection: Projection(star: false, distinct: p.distinct, items: items,
                                                                                  orderBy: p.orderBy, skip: p.skip, limit: p.limit)),
                                 columns))
            }
            var calls: [Expr] = []
            for item in items { Executor.aggregateCalls(item.expr, &calls) }
            // A percentile is read once per group, from its first row: one that reads variables
            // (whose first row then matters) is the interpreter's.
            if let percentile = calls.first(where: { call in
                guard case .function(_, _, let args) = call, args.count > 1 else { return false }
                return args.dropFirst().contains { Planner.variables($0) != [] }
            }) {
                return .failure(Unplanned(text: "\(percentile.cypherText), a percentile that reads variables, is not planned yet"))
            }
            var keys: [(alias: String, expr: SlotExpr)] = []
            var keyExprs: [(alias: String, expr: Expr)] = []
            var aggregates: [(alias: String, call: Expr, argument: SlotExpr?)] = []
            var computed: [(alias: String, expr: Expr)] = []
            // Each distinct aggregate call once; a call an item does not name gets a hidden column.
            func aggregateColumn(_ call: Expr) -> String? {
                if let known = aggregates.first(where: { $0.call == call }) { return known.alias }
                switch call {
                case .countStar:
                    aggregates.append(("\u{0}agg\(aggregates.count)", call, nil))
                case .function(let name, _, let args) where (1...2).contains(args.count) && !Executor.containsAggregate(args[0]):
                    guard Executor.aggregateNames.contains(name) else { return nil }
                    aggregates.append(("\u{0}agg\(aggregates.count)", call, SlotExpr.compile(args[0], slots)))
                default:
                    return nil
                }
                return aggregates.last?.alias
            }
            for item in items where !Executor.containsAggregate(item.expr) {
                keys.append((item.alias, SlotExpr.compile(item.expr, slots)))
                keyExprs.append((item.alias, item.expr))
            }
            for item in items where Executor.containsAggregate(item.expr) {
                var direct = item.expr == .countStar
                if case .function(let name, _, let args) = item.expr, Executor.aggregateNames.contains(name), (1...2).contains(args.count) {
                    direct = !Executor.containsAggregate(args[0])
                }
                if direct && !aggregates.contains(where: { $0.call == item.expr }) {
                    // A column that is one aggregate: the aggregate's own column.
                    _ = aggregateColumn(item.expr)
                    aggregates[aggregates.count - 1].alias = item.alias
                } else {
                    // An expression over aggregates and grouping keys, computed on each group's row.
                    var failed = false
                    let rewritten = Planner.rewrite(item.expr) { e in
                        if Executor.aggregateNames.contains(Planner.functionName(e) ?? "") || e == .countStar {
                            guard let column = aggregateColumn(e) else { failed = true; return e }
                            return .variable(column)
                        }
                        return keyExprs.first { $0.expr == e }.map { .variable($0.alias) }
                    }
                    let columns = Set(keyExprs.map(\.alias) + aggregates.map(\.alias))
                    guard !failed, let read = Planner.variables(rewritten), read.isSubset(of: columns) else {
                        return .failure(Unplanned(text: "an expression mixing aggregates is not planned yet"))
                    }
                    computed.append((item.alias, rewritten))
                }
            }
            // After aggregation ORDER BY sees the columns: an item's expression stands for its
            // column, an aggregate for its (projected) column.
            let aliases = Set(columns)
            var order: [(Expr, Bool)] = []
            for (e, ascending) in p.orderBy {
                let key = items.first { $0.expr == e }.map { Expr.variable($0.alias) } ?? e
                var failed = false
                let rewritten = Planner.rewrite(key) { x in
                    if Executor.aggregateNames.contains(Planner.functionName(x) ?? "") || x == .countStar {
                        guard let known = aggregates.first(where: { $0.call == x }) else { failed = true; return x }
                        return .variable(known.alias)
                    }
                    return keyExprs.first { $0.expr == x }.map { .variable($0.alias) }
                }
                let visible = aliases.union(aggregates.map(\.alias))
                guard !failed, let read = Planner.variables(rewritten), read.isSubset(of: visible) else {
                    return .failure(Unplanned(text: "ORDER BY after aggregation reads more than the columns"))
                }
                order.append((rewritten, ascending))
            }
            return .success((.aggregate(keys: keys, aggregates: aggregates, computed: computed,
                                        projection: Projection(star: false, distinct: p.distinct, items: items, orderBy: order,
                                                               skip: p.skip, limit: p.limit)),
                             columns))
        }
    }
}
