/// Choosing a MATCH's starting nodes from a property index.
extension Executor {
    /// The ids a pattern's start node can be, from the smallest property-index lookup among its
    /// labels and the properties it requires (inline `{p: v}`, or `WHERE n.p = v` at the top of
    /// the MATCH's WHERE); nil when no index applies (then the label or all nodes are scanned).
    /// A superset of the answer: the pattern and WHERE are still checked for every candidate.
    func indexedCandidates(_ node: NodePattern, _ inline: [String: Value], _ row: Row) -> [Int]? {
        guard !node.labels.isEmpty, !store.propertyIndexes.keys.isEmpty else { return nil }
        var required = inline
        if let v = node.variable {
            for hint in equalityHints[v] ?? [] where required[hint.property] == nil {
                // A hint that needs a variable this row does not have yet is not usable here.
                if let value = try? eval(hint.value, row) { required[hint.property] = value }
            }
        }
        var best: [Int]? = nil
        for label in node.labels {
            for (property, value) in required {
                guard let ids = store.propertyIndexes.candidates(label: label, property: property, equalTo: value) else { continue }
                if best == nil || ids.count < best?.count ?? 0 { best = ids }
            }
        }
        return best
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
            default:
                break
            }
        }
        return hints
    }

}
