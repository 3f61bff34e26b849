/// The clauses that change the graph: CREATE, MERGE, SET, REMOVE and DELETE. Each takes all
/// its input rows (an update's effects must not be seen by the clauses before it) and runs
/// them one by one, in order.
extension Executor {
    /// Runs updating `clause` on `rows`; keeps the rows it makes only when a clause follows.
    mutating func runUpdate(_ clause: Clause, _ rows: inout RowSet, _ scope: inout [String], keepingRows: Bool) throws(GraphError) {
        func addScope(_ vs: [String]) { for v in vs where !scope.contains(v) { scope.append(v) } }
        switch clause {
        case .create(let parts):
            addScope(Self.patternVariables(parts))
            var out = RowSet()
            for (r, kept) in zip(rows.rows, rows.kept) {
                try control.check()
                let created = try create(parts, r)
                if keepingRows { try out.append(created, kept: kept, control) } else { control.refund(kept) }
            }
            rows.releaseRows(control)
            rows = out
        case .merge(let part, let onCreate, let onMatch):
            addScope(Self.patternVariables([part]))
            var out = RowSet()
            for (r, kept) in zip(rows.rows, rows.kept) {
                try control.check()
                let maps = [part.start.properties] + part.steps.flatMap { [$0.0.properties, $0.1.properties] }
                for m in maps {
                    let mark = control.mark
                    defer { control.release(to: mark) }
                    if try propertyMap(m, r).values.contains(where: \.isNull) {
                        throw GraphError(.runtime, "MERGE cannot match or create a null property value", cypherClass: .semanticError)
                    }
                }
                // Every match is found before ON MATCH changes any of them.
                let found = try matchAll([part], r)
                if found.count == 0 {
                    let nr = try create([part], r, undirectedAsOutgoing: true)
                    try applySet(onCreate, nr)
                    if keepingRows { try out.append(nr, kept: kept, control) } else { control.refund(kept) }
                } else {
                    var carry = kept
                    for m in found.rows {
                        try applySet(onMatch, m)
                        if keepingRows { try out.append(m, kept: carry, control) } else { control.refund(carry) }
                        carry = 0
                    }
                }
                found.releaseRows(control)
            }
            rows.releaseRows(control)
            rows = out
        case .set(let items):
            for r in rows.rows {
                try control.check()
                try applySet(items, r)
            }
        case .remove(let items):
            for r in rows.rows {
                try control.check()
                for it in items {
                    switch it {
                    case .property(let t, let k): try setProperty(try eval(t, r), k, .null)
                    case .labels(let v, let ls):
                        guard case .node(let id)? = r[v] else { continue }
                        for l in ls { store.removeLabel(id, l) }
                    }
                }
            }
        case .delete(let detach, let es):
            var nodes: [Int] = [], rels: [Int] = []
            let mark = control.mark
            defer { control.release(to: mark) }
            for r in rows.rows {
                try control.check()
                for e in es {
                    let before = nodes.count + rels.count
                    switch try eval(e, r) {
                    case .null: break
                    case .node(let id): nodes.append(id)
                    case .relationship(let id): rels.append(id)
                    case .path(let ns, let rs): nodes += ns; rels += rs
                    case .list(let l):
                        for x in l {
                            switch x {
                            case .node(let id): nodes.append(id)
                            case .relationship(let id): rels.append(id)
                            case .path(let ns, let rs): nodes += ns; rels += rs
                            default: break
                            }
                        }
                    case let v: throw typeError("DELETE expects nodes or relationships, got \(v.preview)")
                    }
                    try control.hold(MemoryLayout<Int>.stride * (nodes.count + rels.count - before))
                }
            }
            // type() of a relationship deleted earlier in the query still answers (an entry
            // is charged as an id, a string reference and the table's slack).
            let recorded = deletedRelationshipTypes.count
            for id in rels { deletedRelationshipTypes[id] = store.relationship(id)?.type }
            if detach {
                for id in nodes {
                    for r in store.outgoingRelationships(of: id) + store.incomingRelationships(of: id) {
                        deletedRelationshipTypes[r] = store.relationship(r)?.type
                    }
                }
            }
            try control.hold(48 * (deletedRelationshipTypes.count - recorded))
            for id in rels { store.deleteRelationship(id) }
            for id in nodes {
                try control.check()
                try store.deleteNode(id, detach: detach)
            }
        default:
            throw GraphError(.runtime, "internal error: a clause that does not update reached the update step")
        }
    }

    /// Every match of `parts` extending `row`, held.
    private func matchAll(_ parts: [PatternPart], _ row: Row) throws(GraphError) -> RowSet {
        final class Box { var rows = RowSet() }
        let box = Box()
        let control = self.control
        var out = MatchOutput { match throws(GraphError) in try box.rows.append(match, kept: 0, control) }
        try matchParts(parts, row, into: &out)
        return box.rows
    }

    private mutating func setProperty(_ target: Value, _ key: String, _ v: Value) throws(GraphError) {
        switch target {
        case .null: return
        case .node(let id): try store.setNodeProperty(id, key, v)
        case .relationship(let id): try store.setRelationshipProperty(id, key, v)
        default: throw typeError("cannot set property '\(key)' on \(target)")
        }
    }

    private mutating func applySet(_ items: [SetItem], _ r: Row) throws(GraphError) {
        for it in items {
            switch it {
            case .property(let t, let k, let e):
                // What the new value holds stays charged: the store keeps it until commit.
                try setProperty(try eval(t, r), k, try held(e, r).0)
            case .labels(let v, let ls):
                guard case .node(let id)? = r[v] else { continue }
                for l in ls { try store.addLabel(id, l) }
            case .replace(let v, let e), .merge(let v, let e):
                let target = r[v] ?? .null
                if target.isNull { continue }
                var newProps: [String: Value]
                switch try held(e, r).0 {
                case .map(let m): newProps = m
                case .node(let id): newProps = store.node(id)?.properties ?? [:]
                case .relationship(let id): newProps = store.relationship(id)?.properties ?? [:]
                case .null: newProps = [:]
                case let x: throw typeError("SET \(v) = needs a map, got \(x)")
                }
                if case .replace = it {
                    let old: [String]
                    switch target {
                    case .node(let id): old = Array(store.node(id)?.properties.keys ?? [:].keys)
                    case .relationship(let id): old = Array(store.relationship(id)?.properties.keys ?? [:].keys)
                    default: old = []
                    }
                    for k in old where newProps[k] == nil { newProps[k] = .null }
                }
                for (k, x) in newProps.sorted(by: { $0.key < $1.key }) { try setProperty(target, k, x) }
            }
        }
    }

    func propertyMap(_ e: Expr?, _ r: Row) throws(GraphError) -> [String: Value] {
        guard let e else { return [:] }
        return try patternProperties(try eval(e, r))
    }

    /// A pattern's inline `{...}` as the properties it requires (null requires none).
    func patternProperties(_ value: Value) throws(GraphError) -> [String: Value] {
        switch value {
        case .map(let m): return m
        case .null: return [:]
        case let v: throw typeError("pattern properties must be a map, got \(v)")
        }
    }

    /// The properties of an element being created, charged with the element: the store holds
    /// them until the query's changes are committed (or dropped).
    private func storedProperties(_ e: Expr?, _ r: Row) throws(GraphError) -> [String: Value] {
        let mark = control.mark
        let properties = try propertyMap(e, r)
        // A map built here was settled at its size; one passed in (a parameter) built nothing.
        _ = control.keep(since: mark, atMost: .max)
        try control.charge(MemoryEstimate.elementBytes)
        return properties
    }

    private mutating func createNode(_ n: NodePattern, _ r: inout Row) throws(GraphError) -> Int {
        if let v = n.variable, let bound = r[v] {
            guard case .node(let id) = bound else { throw GraphError(.semantic, "variable '\(v)' is not a node") }
            guard n.labels.isEmpty && n.properties == nil else {
                throw GraphError(.semantic, "variable '\(v)' is already bound; CREATE cannot add labels or properties to it")
            }
            return id
        }
        let id = try store.createNode(labels: n.labels, properties: try storedProperties(n.properties, r))
        if let v = n.variable { r[v] = .node(id) }
        return id
    }

    private mutating func create(_ parts: [PatternPart], _ row: Row, undirectedAsOutgoing: Bool = false) throws(GraphError) -> Row {
        var r = row
        for p in parts {
            var prev = try createNode(p.start, &r)
            var pathNodes = [prev], pathRels: [Int] = []
            for (rel, n) in p.steps {
                guard rel.types.count == 1, rel.length == nil else {
                    throw GraphError(.semantic, "CREATE needs exactly one relationship type and no variable length")
                }
                guard rel.direction != .both || undirectedAsOutgoing else { throw GraphError(.semantic, "CREATE needs a directed relationship") }
                if let v = rel.variable, r[v] != nil { throw GraphError(.semantic, "variable '\(v)' is already bound") }
                let next = try createNode(n, &r)
                let (s, e) = rel.direction == .incoming ? (next, prev) : (prev, next)
                let id = try store.createRelationship(type: rel.types[0], from: s, to: e,
                                                      properties: try storedProperties(rel.properties, r))
                if let v = rel.variable { r[v] = .relationship(id) }
                prev = next
                pathNodes.append(next); pathRels.append(id)
            }
            if let v = p.pathVariable { r[v] = .path(nodes: pathNodes, relationships: pathRels) }
        }
        return r
    }
}
