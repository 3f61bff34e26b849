/// Choosing a MATCH's starting nodes from `WHERE id(n) = ...` or a property index.
extension Executor {
    /// The hint name under which `id(n) = expression` is kept (no property can be named so).
    static let idHint = "\u{0}id"

    /// The ids a pattern's start node can be, from the smallest property-index lookup among its
    /// labels and the properties it requires (inline `{p: v}`, or `WHERE n.p = v` at the top of
    /// the MATCH's WHERE); nil when no index applies (then the label or all nodes are scanned).
    /// A superset of the answer: the pattern and WHERE are still checked for every candidate.
    func indexedCandidates(_ node: NodePattern, _ inline: [String: Value], _ row: Row) -> [Int]? {
        var required = inline
        if let v = node.variable {
            // The walk's own mark gives back what evaluating the hints builds.
            for hint in equalityHints[v] ?? [] where required[hint.property] == nil {
                // A hint that needs a variable this row does not have yet is not usable here.
                if let value = try? eval(hint.value, row) { required[hint.property] = value }
            }
        }
        if let id = required.removeValue(forKey: Self.idHint) {
            // `WHERE id(n) = x`: one candidate at most (any other value matches nothing).
            guard let node = Self.nodeId(id), store.node(node) != nil else { return [] }
            return [node]
        }
        guard !node.labels.isEmpty, !store.propertyIndexes.isEmpty else { return nil }
        var best: [Int]? = nil
        for label in node.labels {
            for (property, value) in required {
                guard let ids = store.propertyIndexes.candidates(label: label, property: property, equalTo: value) else { continue }
                if best == nil || ids.count < best?.count ?? 0 { best = ids }
            }
        }
        return best
    }

    /// The node id `WHERE id(n) = value` names: an integer, or a float with an integer value;
    /// nil for anything else (which no node's id equals).
    static func nodeId(_ value: Value) -> Int? {
        switch value {
        case .int(let i): return Int(exactly: i)
        case .float(let d): return Int(exactly: d)
        default: return nil
        }
    }

    /// `variable.property = expression` (either way round) conjuncts at the top level of a
    /// WHERE, by variable. An expression that needs a variable the row does not hold yet
    /// (the node itself, or a later pattern's) fails to evaluate and is skipped.
    static func equalityHints(_ predicate: Expr) -> [String: [(property: String, value: Expr)]] {
        var hints: [String: [(property: String, value: Expr)]] = [:]
        var pending = [predicate]
        while let e = pending.popLast() {
            switch e {
            case .binary("AND", let a, let b):
                pending += [a, b]
            case .binary("=", .property(.variable(let v), let p), let other),
                 .binary("=", let other, .property(.variable(let v), let p)):
                if !containsAggregate(other) { hints[v, default: []].append((p, other)) }
            case .binary("=", .function("id", _, let args), let other) where args.count == 1,
                 .binary("=", let other, .function("id", _, let args)) where args.count == 1:
                if case .variable(let v) = args[0], !containsAggregate(other) { hints[v, default: []].append((idHint, other)) }
            default:
                break
            }
        }
        return hints
    }

}
