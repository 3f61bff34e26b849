/// Pattern predicates: `WHERE (a)-[:KNOWS]->(b)` asks whether a pattern matches at least once;
/// the walk stops at the first match.
extension Executor {
    /// Thrown from a walk's consumer once it has what it wants (a first match found) and
    /// caught where the walk began: the rest of the walk is skipped.
    private static let walkDone = GraphError.Code(name: "walkDone")

    /// Whether `part` matches at least once from `row`; stops at the first match.
    func hasMatch(_ part: PatternPart, _ row: Row) throws(GraphError) -> Bool {
        if let reached = try reaches(part, row) { return reached }
        var out = MatchOutput { _ throws(GraphError) in throw GraphError(Self.walkDone, "found") }
        let mark = control.mark
        do {
            try matchParts([part], row, into: &out)
            return false
        } catch where error.code == Self.walkDone {
            control.release(to: mark)
            return true
        }
    }

    /// Existence of a variable-length pattern from a bound node, `(a)-[:T*..n]->(b)` with `*0..n`
    /// or `*1..n` in one direction and nothing else on the relationship: a breadth-first search
    /// that visits each node once, where the trail-by-trail walk could enumerate exponentially
    /// many trails before giving up. A node is reachable by a trail of at most `n` steps exactly
    /// when the search reaches it within `n` levels (the nearest way to it is a path; the start
    /// node itself through its shortest cycle, which is a trail too). Nil when the pattern has
    /// another shape (the walk answers).
    private func reaches(_ part: PatternPart, _ row: Row) throws(GraphError) -> Bool? {
        guard part.shortest == nil, part.pathVariable == nil, part.steps.count == 1,
              let start = part.start.variable, case .node(let from)? = row[start] else { return nil }
        let (rel, end) = part.steps[0]
        guard let (lo, hi) = rel.length, lo <= 1, rel.direction != .both, rel.variable == nil, rel.properties == nil else { return nil }
        let mark = control.mark
        defer { control.release(to: mark) }
        let startWant = try propertyMap(part.start.properties, row)
        guard nodeFits(from, part.start, startWant, row) else { return false }
        let endWant = try propertyMap(end.properties, row)
        if lo == 0, nodeFits(from, end, endWant, row) { return true }
        let maxDepth = min(hi ?? Self.maxHops, Self.maxHops)
        var seen: Set<Int> = [from]
        var frontier = [from]
        var depth = 0
        while depth < maxDepth && !frontier.isEmpty {
            depth += 1
            var next: [Int] = []
            var found = false
            for node in frontier where !found {
                try control.check()
                store.forEachRelationship(of: node, rel.types, rel.direction) { _, other in
                    // The start node counts as reached (through a cycle) without being walked again.
                    if !found && other == from && nodeFits(from, end, endWant, row) { found = true }
                    if seen.insert(other).inserted { next.append(other) }
                }
            }
            if found { return true }
            try control.hold(MemoryEstimate.idListBytes(count: 3 * next.count))
            for node in next where nodeFits(node, end, endWant, row) { return true }
            frontier = next
        }
        return false
    }
}
