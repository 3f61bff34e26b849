/// MATCH: the pattern walk. Candidates for a pattern's first node come from an index, a label
/// or every node; each step follows relationships that fit (type, direction, properties),
/// variable-length steps walk depth first. Matches go to a `MatchOutput` as they are found.
extension Executor {
    func propertiesMatch(_ have: [String: Value], _ want: [String: Value]) -> Bool {
        want.allSatisfy { k, v in Semantics.equal(have[k] ?? .null, v) == true }
    }

    func nodeFits(_ id: Int, _ n: NodePattern, _ want: [String: Value], _ r: Row) -> Bool {
        guard let node = store.node(id) else { return false }
        if let v = n.variable, let b = r[v], b != .node(id) { return false }
        return n.labels.allSatisfy(node.labels.contains) && propertiesMatch(node.properties, want)
    }

    /// Hands every match of `parts` that extends `row` to `out`. What the walk builds on the
    /// way (property maps, candidate lists) is charged while it holds it.
    func matchParts(_ parts: [PatternPart], _ row: Row, into out: inout MatchOutput) throws(GraphError) {
        var used = Set<Int>()
        try matchPart(parts, 0, row, &used, &out)
    }

    func matchPart(_ parts: [PatternPart], _ i: Int, _ row: Row, _ used: inout Set<Int>, _ out: inout MatchOutput) throws(GraphError) {
        guard i < parts.count else { try out.append(row); return }
        let p = parts[i]
        let mark = control.mark
        defer { control.release(to: mark) }
        let want = try propertyMap(p.start.properties, row)
        let candidates: [Int]
        if let v = p.start.variable, let b = row[v] {
            guard case .node(let id) = b else { return }
            candidates = [id]
        } else if let indexed = indexedCandidates(p.start, want, row) {
            candidates = indexed
        } else if let l = p.start.labels.first {
            candidates = store.nodeIds(withLabel: l)
        } else {
            candidates = store.allNodeIds()
        }
        try control.hold(MemoryEstimate.idListBytes(count: candidates.count))
        for c in candidates {
            try control.check()
            guard nodeFits(c, p.start, want, row) else { continue }
            var r = row
            if let v = p.start.variable { r[v] = .node(c) }
            if let shortest = p.shortest {
                try matchShortest(parts, i, shortest, from: c, r, &used, &out)
            } else {
                try matchSteps(parts, i, 0, c, r, [c], [], &used, &out)
            }
        }
    }

    func neighbours(_ node: Int, _ rel: RelPattern) -> [(rel: Int, other: Int)] {
        var out: [(rel: Int, other: Int)] = []
        store.forEachRelationship(of: node, rel.types, rel.direction) { id, other in out.append((id, other)) }
        return out
    }

    private func matchSteps(_ parts: [PatternPart], _ pi: Int, _ si: Int, _ at: Int, _ row: Row,
                            _ pathNodes: [Int], _ pathRels: [Int],
                            _ used: inout Set<Int>, _ out: inout MatchOutput) throws(GraphError) {
        let p = parts[pi]
        guard si < p.steps.count else {
            var r = row
            if let v = p.pathVariable {
                let pv = Value.path(nodes: pathNodes, relationships: pathRels)
                if let b = r[v], b != pv { return }
                r[v] = pv
            }
            try matchPart(parts, pi + 1, r, &used, &out)
            return
        }
        let (rel, n) = p.steps[si]
        let mark = control.mark
        defer { control.release(to: mark) }
        let relWant = try propertyMap(rel.properties, row)
        let nodeWant = try propertyMap(n.properties, row)
        if let (lo, hiOpt) = rel.length {
            let hi = min(hiOpt ?? Self.maxHops, Self.maxHops)
            var path: [Int] = []
            var walked: [Int] = []
            // Bound already (`WITH [r1, r2] AS rs MATCH (a)-[rs*]->(b)`): the walk follows that
            // list of relationships and nothing else; a value that is not one matches nothing.
            var follow: [Int]? = nil
            if let v = rel.variable, let bound = row[v] {
                guard case .list(let items) = bound else { return }
                var ids: [Int] = []
                for item in items {
                    guard case .relationship(let id) = item else { return }
                    ids.append(id)
                }
                follow = ids
            }
            // No cap on the paths explored: the walk holds one path at a time (at most
            // `maxHops` long), and the call's deadline or cancel stops a walk that runs long.
            func walk(_ cur: Int, _ used: inout Set<Int>, _ out: inout MatchOutput) throws(GraphError) {
                try control.check()
                let mark = control.mark
                defer { control.release(to: mark) }
                if path.count >= lo && (follow == nil || path.count == follow?.count) && nodeFits(cur, n, nodeWant, row) {
                    var r = row
                    if let v = rel.variable { r[v] = .list(path.map(Value.relationship)) }
                    if let v = n.variable { r[v] = .node(cur) }
                    try matchSteps(parts, pi, si + 1, cur, r, pathNodes + walked, pathRels + path, &used, &out)
                }
                guard path.count < hi, path.count < follow?.count ?? Int.max else { return }
                let edges = neighbours(cur, rel)
                try control.hold(MemoryEstimate.idListBytes(count: 2 * edges.count))
                for (rid, other) in edges where !used.contains(rid) && (follow == nil || follow?[path.count] == rid) {
                    guard let rr = store.relationship(rid), propertiesMatch(rr.properties, relWant) else { continue }
                    used.insert(rid); path.append(rid); walked.append(other)
                    try walk(other, &used, &out)
                    used.remove(rid); path.removeLast(); walked.removeLast()
                }
            }
            try walk(at, &used, &out)
            return
        }
        let edges = neighbours(at, rel)
        try control.hold(MemoryEstimate.idListBytes(count: 2 * edges.count))
        for (rid, other) in edges where !used.contains(rid) {
            guard let rr = store.relationship(rid), propertiesMatch(rr.properties, relWant) else { continue }
            if let v = rel.variable, let b = row[v], b != .relationship(rid) { continue }
            guard nodeFits(other, n, nodeWant, row) else { continue }
            var r = row
            if let v = rel.variable { r[v] = .relationship(rid) }
            if let v = n.variable { r[v] = .node(other) }
            used.insert(rid)
            try control.check()
            try matchSteps(parts, pi, si + 1, other, r, pathNodes + [other], pathRels + [rid], &used, &out)
            used.remove(rid)
        }
    }
}

extension GraphStore {
    /// Calls `body` with each relationship of `node` of one of `types` (any when empty) in
    /// `direction`, and the node at its other end: outgoing first, then incoming, ascending
    /// ids; under `.both` a self-loop once. The one definition of a pattern's adjacency, for
    /// the interpreter's walk and the planner's expands. Reads only the node's adjacency (the
    /// other end and the type are kept there), not the relationships.
    @inline(__always)
    func forEachRelationship<Failure: Error>(of node: Int, _ types: [String], _ direction: Direction,
                                             _ body: (_ relationship: Int, _ other: Int) throws(Failure) -> Void) throws(Failure) {
        try forEachRelationship(of: node, direction, where: { types.isEmpty || types.contains(relationshipTypes.name($0)) }, body)
    }

    /// The same walk for types given by number (`RelationshipTypes`): nil for any type.
    @inline(__always)
    func forEachRelationship<Failure: Error>(of node: Int, typeNumbers types: [UInt32]?, _ direction: Direction,
                                             _ body: (_ relationship: Int, _ other: Int) throws(Failure) -> Void) throws(Failure) {
        try forEachRelationship(of: node, direction, where: { types?.contains($0) ?? true }, body)
    }

    @inline(__always)
    private func forEachRelationship<Failure: Error>(of node: Int, _ direction: Direction, where typeMatches: (UInt32) -> Bool,
                                                     _ body: (_ relationship: Int, _ other: Int) throws(Failure) -> Void) throws(Failure) {
        // Read through pointers: a list is not copied (see `IdTable.withElementPointer`).
        if direction != .incoming {
            try outgoing.withElementPointer(node) { (list) throws(Failure) in
                try list.pointee.forEachInPlace { (entry) throws(Failure) in
                    if typeMatches(entry.type) { try body(entry.id, entry.other) }
                }
            }
        }
        if direction != .outgoing {
            try incoming.withElementPointer(node) { (list) throws(Failure) in
                try list.pointee.forEachInPlace { (entry) throws(Failure) in
                    // A self-loop under `.both` is listed among the outgoing.
                    if typeMatches(entry.type) && !(direction == .both && entry.other == node) { try body(entry.id, entry.other) }
                }
            }
        }
    }
}
