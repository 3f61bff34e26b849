/// EXPLAIN and PROFILE: the operators of a plan as a user reads them, named as Neo4j names
/// its own (NodeIndexSeek, Expand(All), EagerAggregation, ...), the result first. Which anchor a
/// scan uses is read from the graph the query runs on (the indexes it has now).
extension QueryPlan {
    /// A planned query of one part or several joined by UNION (`profiles`: one per part).
    init(_ parts: [PlannedQuery], unionAll: [Bool], store: GraphStore, mode: Mode, profiles: [PlanProfile]?, cached: Bool) {
        var ops = [Operator(name: "ProduceResults", details: parts[0].columns.joined(separator: ", "),
                            rows: profiles.map { $0.reduce(0) { $0 + $1.outputRows } })]
        if parts.count > 1 {
            ops.append(Operator(name: "Union", details: unionAll.allSatisfy { $0 } ? "ALL, \(parts.count) parts" : "\(parts.count) parts"))
        }
        for (k, part) in parts.enumerated() {
            let partOps = Self.operators(part, store: store, profile: profiles?[k])
            ops += parts.count == 1 ? partOps : partOps.map { op in
                var op = op
                op.details = "part \(k + 1): " + op.details
                return op
            }
        }
        self.init(mode: mode, operators: ops, planned: true, cached: cached)
    }

    /// One part's operators, its output first. A plan that runs in blocks (`BatchPlan`; under
    /// PROFILE, one that did) names its operators `Batch...`; one whose expand reads the
    /// relationships where they are stored (`BatchRelationshipScan`) shows that one operator for
    /// its scan and expand.
    private static func operators(_ plan: PlannedQuery, store: GraphStore, profile: PlanProfile?) -> [Operator] {
        var ops: [Operator] = []
        let batched = profile?.batched ?? (plan.batch != nil)
        let readsRelationships = batched && (profile.map(\.readRelationships) ?? (plan.batch?.readsRelationships(in: store) ?? false))
        let inBlocks = ", in blocks of \(BatchRows.capacity)"
        let name = { (slot: Int) in plan.slotNames[slot] ?? "anon_\(slot)" }
        func labels(_ ls: [String]) -> String { ls.map { ":" + $0 }.joined() }
        func node(_ slot: Int, _ test: NodeTest) -> String {
            "(\(name(slot))\(labels(test.labels))\(test.properties == nil ? "" : " {...}"))"
        }
        func arrows(_ d: Direction) -> (String, String) {
            switch d { case .outgoing: return ("-", "->"); case .incoming: return ("<-", "-"); case .both: return ("-", "-") }
        }
        for (i, step) in plan.steps.enumerated() {
            var op: Operator
            switch step {
            case .project(let items):
                op = Operator(name: "Projection", details: "WITH " + items.map(\.alias).joined(separator: ", "))
            case .call(let call):
                let yields = call.bindings.map { call.procedure.outputs[$0.output].name == $0.alias ? $0.alias : "\(call.procedure.outputs[$0.output].name) AS \($0.alias)" }
                op = Operator(name: "ProcedureCall", details: call.procedure.name + (yields.isEmpty ? "" : " YIELD " + yields.joined(separator: ", ")))
            case .unwind(_, let list, _, let alias):
                op = Operator(name: "Unwind", details: "\(list.cypherText) AS \(alias)")
            case .optional(_, let slots):
                op = Operator(name: "Optional", details: slots.map(name).joined(separator: ", ") + " null when nothing matches")
            case .optionalEnd:
                continue
            case .path(_, _, let alias):
                op = Operator(name: "Path", details: alias)
            case .shortest(let e):
                let (rel, _) = e.part.steps[0]
                let (l, r) = arrows(rel.direction)
                let length = rel.length.map { "*\($0.min)..\($0.max.map(String.init) ?? "")" } ?? ""
                let relText = "[\(rel.types.isEmpty ? "" : ":" + rel.types.joined(separator: "|"))\(length)]"
                op = Operator(name: e.kind == .all ? "AllShortestPaths" : "ShortestPath",
                              details: "(\(name(e.from)))\(l)\(relText)\(r)(\(name(e.end))), breadth first")
            case .eager(let output, let columns, _, _):
                op = Self.outputOperator(output, columns: columns)
                op.details = "WITH " + op.details
            case .filter(_, let e):
                op = Operator(name: "Filter", details: e.cypherText)
            case .update(let update):
                op = Self.updateOperator(update.clause)
            case .nodeScan(let s):
                let perRow = i > 0 ? " (for each incoming row)" : ""
                if s.bound {
                    op = Operator(name: "Filter", details: "\(node(s.slot, s.test)) bound before")
                } else if s.idSeek != nil {
                    op = Operator(name: "NodeByIdSeek", details: node(s.slot, s.test) + perRow)
                } else if let key = s.indexHints.lazy.flatMap({ h in s.test.labels.map { PropertyIndexes.Key(label: $0, property: h.property) } })
                            .first(where: store.propertyIndexes.contains) {
                    op = Operator(name: "NodeIndexSeek", details: "\(node(s.slot, s.test)) by :\(key.label)(\(key.property))" + perRow)
                } else if readsRelationships {
                    continue
                } else if batched {
                    op = Operator(name: s.test.labels.isEmpty ? "BatchAllNodesScan" : "BatchNodeByLabelScan",
                                  details: node(s.slot, s.test) + inBlocks)
                } else if !s.test.labels.isEmpty {
                    op = Operator(name: "NodeByLabelScan", details: node(s.slot, s.test) + perRow)
                } else {
                    op = Operator(name: "AllNodesScan", details: node(s.slot, s.test) + perRow)
                }
            case .expand(let e):
                let (l, r) = arrows(e.direction)
                let rel = "[\(name(e.relationship))\(e.types.isEmpty ? "" : ":" + e.types.joined(separator: "|"))]"
                let pattern = "\(l)\(rel)\(r)\(node(e.to, e.target))"
                if readsRelationships, case .nodeScan(let s)? = plan.steps.first {
                    op = Operator(name: "BatchRelationshipScan",
                                  details: node(s.slot, s.test) + pattern + ", each relationship where it is stored" + inBlocks)
                } else {
                    op = Operator(name: (batched ? "Batch" : "") + (e.toBound ? "Expand(Into)" : "Expand(All)"),
                                  details: "(\(name(e.from)))" + pattern + (batched ? inBlocks : ""))
                }
            case .varExpand(let e):
                let (l, r) = arrows(e.direction)
                let rel = "[\(e.types.isEmpty ? "" : ":" + e.types.joined(separator: "|"))*\(e.min)..\(e.max)]"
                op = Operator(name: e.distinctEnds ? "VarLengthExpand(Pruning)" : "VarLengthExpand(All)",
                              details: "(\(name(e.from)))\(l)\(rel)\(r)\(node(e.to, e.target))"
                                  + (e.distinctEnds ? ", breadth first, each end once"
                                     : e.relationshipsBound ? ", the relationships of \(e.relationships.map(name) ?? "") in order" : ", every trail"))
            }
            if let profile {
                op.rows = profile.rows[i + 1]
                op.nanoseconds = profile.nanoseconds[i]
            }
            ops.append(op)
        }
        var output = Self.outputOperator(plan.output, columns: plan.columns)
        if batched { output.name = "BatchAggregation" }
        if let profile {
            output.rows = profile.outputRows
            output.nanoseconds = profile.nanoseconds[plan.steps.count]
        }
        return [output] + ops.reversed()
    }

    /// The clauses of a query the interpreter runs, one operator each (PROFILE times the whole).
    init(interpreted q: Query, reason: String, mode: Mode, rows: Int?, nanoseconds: UInt64?, cached: Bool) {
        var ops: [Operator] = []
        for part in q.parts {
            for clause in part.reversed() { ops.append(Operator(name: "Interpreted" + Planner.clauseName(clause).replacingSpaces, details: "")) }
        }
        if q.parts.count > 1 { ops.insert(Operator(name: "Union", details: "\(q.parts.count) parts"), at: 0) }
        ops.insert(Operator(name: "ProduceResults", details: "", rows: rows, nanoseconds: nanoseconds), at: 0)
        self.init(mode: mode, operators: ops, planned: false, reason: reason, cached: cached)
    }

    private static func outputOperator(_ output: PlanOutput, columns: [String]) -> Operator {
        switch output {
        case .project(let items, let skip, let limit):
            var details = items.map(\.alias).joined(separator: ", ")
            if let skip { details += " SKIP \(skip.cypherText)" }
            if let limit { details += " LIMIT \(limit.cypherText)" }
            return Operator(name: "Projection", details: details)
        case .collect(_, let p):
            let name = p.orderBy.isEmpty ? (p.distinct ? "Distinct" : "Limit") : (p.limit == nil ? "Sort" : "Top")
            return Operator(name: name, details: columns.joined(separator: ", ") + " " + projectionText(p))
        case .discard:
            return Operator(name: "EmptyResult", details: "")
        case .aggregate(let keys, let aggregates, let computed, let p):
            let grouping = keys.isEmpty ? "" : "by " + keys.map(\.alias).joined(separator: ", ") + ": "
            let named = aggregates.map { $0.alias.hasPrefix("\u{0}") ? $0.call.cypherText : $0.alias } + computed.map(\.alias)
            return Operator(name: "EagerAggregation", details: grouping + named.joined(separator: ", ")
                            + (p.orderBy.isEmpty && !p.distinct && p.skip == nil && p.limit == nil ? "" : "; then " + projectionText(p)))
        }
    }

    /// An updating clause, named as Neo4j names its operators (Create, Merge, SetProperty,
    /// Delete, ...); each takes all its input rows first (Neo4j would show an Eager before it).
    private static func updateOperator(_ clause: Clause) -> Operator {
        switch clause {
        case .create(let parts):
            return Operator(name: "Create", details: parts.map(\.cypherText).joined(separator: ", "))
        case .merge(let part, let onCreate, let onMatch):
            var details = part.cypherText
            if !onCreate.isEmpty { details += " ON CREATE SET " + onCreate.map(\.cypherText).joined(separator: ", ") }
            if !onMatch.isEmpty { details += " ON MATCH SET " + onMatch.map(\.cypherText).joined(separator: ", ") }
            return Operator(name: "Merge", details: details)
        case .set(let items):
            let name = items.allSatisfy { if case .labels = $0 { return true } else { return false } } ? "SetLabels" : "SetProperty"
            return Operator(name: name, details: items.map(\.cypherText).joined(separator: ", "))
        case .remove(let items):
            let name = items.allSatisfy { if case .labels = $0 { return true } else { return false } } ? "RemoveLabels" : "RemoveProperty"
            return Operator(name: name, details: items.map(\.cypherText).joined(separator: ", "))
        case .delete(let detach, let targets):
            return Operator(name: detach ? "DetachDelete" : "Delete", details: targets.map(\.cypherText).joined(separator: ", "))
        case .match, .with, .ret, .unwind, .call:
            return Operator(name: Planner.clauseName(clause), details: "")
        }
    }

    private static func projectionText(_ p: Projection) -> String {
        var parts: [String] = []
        if p.distinct { parts.append("DISTINCT") }
        if !p.orderBy.isEmpty { parts.append("ORDER BY " + p.orderBy.map { $0.0.cypherText + ($0.1 ? "" : " DESC") }.joined(separator: ", ")) }
        if let skip = p.skip { parts.append("SKIP " + skip.cypherText) }
        if let limit = p.limit { parts.append("LIMIT " + limit.cypherText) }
        return parts.joined(separator: " ")
    }
}

private extension String {
    var replacingSpaces: String { split(separator: " ").map { $0.prefix(1).uppercased() + $0.dropFirst().lowercased() }.joined() }
}

extension SetItem {
    /// Cypher text for a plan's details.
    var cypherText: String {
        switch self {
        case .property(let target, let key, let value): return "\(target.cypherText).\(key) = \(value.cypherText)"
        case .replace(let v, let value): return "\(v) = \(value.cypherText)"
        case .merge(let v, let value): return "\(v) += \(value.cypherText)"
        case .labels(let v, let labels): return v + labels.map { ":" + $0 }.joined()
        }
    }
}

extension RemoveItem {
    /// Cypher text for a plan's details.
    var cypherText: String {
        switch self {
        case .property(let target, let key): return "\(target.cypherText).\(key)"
        case .labels(let v, let labels): return v + labels.map { ":" + $0 }.joined()
        }
    }
}

extension PatternPart {
    /// Cypher text of the pattern for a plan's details (inline maps as `{...}`).
    var cypherText: String {
        func node(_ n: NodePattern) -> String {
            "(" + (n.variable ?? "") + n.labels.map { ":" + $0 }.joined() + (n.properties == nil ? "" : " {...}") + ")"
        }
        var text = (pathVariable.map { $0 + " = " } ?? "") + node(start)
        for (rel, n) in steps {
            let inner = (rel.variable ?? "") + (rel.types.isEmpty ? "" : ":" + rel.types.joined(separator: "|"))
                + (rel.properties == nil ? "" : " {...}")
            switch rel.direction {
            case .outgoing: text += "-[\(inner)]->"
            case .incoming: text += "<-[\(inner)]-"
            case .both: text += "-[\(inner)]-"
            }
            text += node(n)
        }
        return text
    }
}

extension Expr {
    /// Cypher text for a plan's details (pattern predicates and subqueries are abbreviated).
    var cypherText: String {
        switch self {
        case .literal(let v): return v.description
        case .variable(let v): return v
        case .parameter(let p): return "$" + p
        case .property(let x, let k): return x.cypherText + "." + k
        case .list(let l): return "[" + l.map(\.cypherText).joined(separator: ", ") + "]"
        case .map(let ks, let vs): return "{" + zip(ks, vs).map { "\($0): \($1.cypherText)" }.joined(separator: ", ") + "}"
        case .binary(let op, let a, let b):
            let word = ["STARTS": "STARTS WITH", "ENDS": "ENDS WITH"][op] ?? op
            return "(\(a.cypherText) \(word) \(b.cypherText))"
        case .not(let x): return "NOT " + x.cypherText
        case .negate(let x): return "-" + x.cypherText
        case .isNull(let x, let negated): return x.cypherText + (negated ? " IS NOT NULL" : " IS NULL")
        case .function(let n, let distinct, let args): return n + "(" + (distinct ? "DISTINCT " : "") + args.map(\.cypherText).joined(separator: ", ") + ")"
        case .countStar: return "count(*)"
        case .index(let x, let i): return x.cypherText + "[" + i.cypherText + "]"
        case .slice(let x, let a, let b): return x.cypherText + "[" + (a?.cypherText ?? "") + ".." + (b?.cypherText ?? "") + "]"
        case .hasLabels(let x, let ls): return x.cypherText + ls.map { ":" + $0 }.joined()
        case .caseExpr: return "CASE ... END"
        case .listComprehension(let v, let l, _, _): return "[\(v) IN \(l.cypherText) ...]"
        case .reduce(let acc, _, let v, let l, _): return "reduce(\(acc), \(v) IN \(l.cypherText) ...)"
        case .patternPredicate: return "(pattern)"
        case .patternComprehension: return "[pattern ...]"
        case .exists: return "EXISTS { ... }"
        }
    }
}
