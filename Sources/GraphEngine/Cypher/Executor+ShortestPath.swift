/// `shortestPath((a)-[...]-(b))` and `allShortestPaths(...)`: a breadth-first search from
/// each start node over the relationships the pattern allows (types, direction, properties),
/// up to its maximum length (at most `maxHops`). Every end node that fits the end pattern gets
/// one shortest path (the one through the lowest relationship ids), or all of them.
///
/// A WHERE on the MATCH is applied to the paths found, not during the search: a path that
/// fails it is not replaced by a longer one that would pass.
extension Executor {
    /// What the breadth-first search holds per node it reaches (its depth and parents entries).
    static let reachedNodeBytes = 128

    func matchShortest(_ parts: [PatternPart], _ pi: Int, _ kind: PatternPart.Shortest, from start: Int, _ row: Row,
                       _ used: inout Set<Int>, _ out: inout MatchOutput) throws(GraphError) {
        let p = parts[pi]
        let (rel, end) = p.steps[0]
        let mark = control.mark
        defer { control.release(to: mark) }
        let relWant = try propertyMap(rel.properties, row)
        let endWant = try propertyMap(end.properties, row)
        let minLength = rel.length?.min ?? 1
        let maxLength = min(rel.length.map { $0.max ?? Self.maxHops } ?? 1, Self.maxHops)

        // Breadth-first: depth of each reached node, and the (relationship, previous node)
        // pairs that reach it at that depth.
        var depth: [Int: Int] = [start: 0]
        var parents: [Int: [(rel: Int, from: Int)]] = [:]
        var frontier = [start]
        var level = 0
        while !frontier.isEmpty && level < maxLength {
            level += 1
            var next: [Int] = []
            for node in frontier {
                try control.check()
                for (rid, other) in neighbours(node, rel) where !used.contains(rid) {
                    guard let r = store.relationship(rid), propertiesMatch(r.properties, relWant) else { continue }
                    if let d = depth[other] {
                        if d == level { parents[other, default: []].append((rid, node)) }
                        continue
                    }
                    // The search holds every node it reaches: its depth, parents and frontier slot.
                    try control.hold(Self.reachedNodeBytes)
                    depth[other] = level
                    parents[other] = [(rid, node)]
                    next.append(other)
                }
            }
            frontier = next
        }

        var ends = depth.keys.filter { depth[$0].map { $0 >= minLength } ?? false }.sorted()
        if let v = end.variable, case .node(let bound)? = row[v] { ends = ends.filter { $0 == bound } }
        try control.hold(MemoryEstimate.idListBytes(count: ends.count))
        for target in ends where nodeFits(target, end, endWant, row) {
            for (nodes, relationships) in try paths(to: target, from: start, parents, all: kind == .all) {
                var r = row
                if let v = rel.variable { r[v] = .list(relationships.map(Value.relationship)) }
                if let v = end.variable { r[v] = .node(target) }
                if let v = p.pathVariable { r[v] = .path(nodes: nodes, relationships: relationships) }
                for id in relationships { used.insert(id) }
                try matchPart(parts, pi + 1, r, &used, &out)
                for id in relationships { used.remove(id) }
            }
        }
    }

    /// The shortest paths from `start` to `target` recorded in `parents` (one, or all), as
    /// node and relationship lists from `start`.
    private func paths(to target: Int, from start: Int, _ parents: [Int: [(rel: Int, from: Int)]],
                       all: Bool) throws(GraphError) -> [([Int], [Int])] {
        var result: [([Int], [Int])] = []
        var nodes = [target], relationships: [Int] = []
        func walk(_ at: Int) throws(GraphError) {
            if at == start {
                try control.check()
                // allShortestPaths can find exponentially many: each is charged as it is found.
                try control.hold(2 * MemoryEstimate.idListBytes(count: nodes.count))
                result.append((nodes.reversed(), relationships.reversed()))
                return
            }
            let choices = (parents[at] ?? []).sorted { $0.rel < $1.rel }
            for choice in all ? choices[...] : choices.prefix(1) {
                nodes.append(choice.from); relationships.append(choice.rel)
                try walk(choice.from)
                nodes.removeLast(); relationships.removeLast()
            }
        }
        try walk(target)
        return result
    }
}
