/// The rows and column names a query returns.
public struct QueryResult: Sendable, Equatable {
    /// Column names in RETURN order.
    public var columns: [String]
    /// Rows; each has one value per column.
    public var rows: [[Value]]
    /// True when the columns and rows went to the query's stream instead (then both are empty).
    public var streamed = false
}

/// A property graph with a Cypher front end. Each `execute` call is atomic: it runs on a
/// snapshot of the store and the change is kept only if the whole query succeeds.
///
/// ```swift
/// var db = GraphDatabase()
/// try db.execute("CREATE (:Person {name: 'Ann'})-[:KNOWS]->(:Person {name: 'Bo'})")
/// let r = try db.execute("MATCH (a)-[:KNOWS]->(b) RETURN a.name, b.name")
/// ```
public struct GraphDatabase: Sendable {
    /// The underlying store (read it to inspect nodes and relationships returned by queries).
    public internal(set) var store = GraphStore()
    /// Bumped by every successful query and commit; transactions use it to detect conflicts.
    public internal(set) var version = 0
    /// Vector indexes on nodes (shared by every copy: they follow committed state).
    public let vectorIndexes = GraphVectorIndexes()
    /// Whether `execute` updates `vectorIndexes` itself (an in-memory database). A
    /// transaction's copy and a durable database's copies leave that to their commit.
    var maintainsVectorIndexes = true
    /// Nodes changed in this copy that `vectorIndexes` do not reflect yet (see `takeChanges`).
    var unindexedNodes: Set<Int> = []

    /// Creates an empty database.
    public init() {}

    /// Parses and runs one Cypher query with `$parameters`. A query still running at
    /// `deadline` stops with `.timeout` and changes nothing. `rand()` draws from a generator
    /// seeded with `randomSeed` (the caller brings the entropy; the default is fixed, so an
    /// in-memory run is reproducible).
    ///
    /// With `sink`, a read-only query hands its columns and rows to it as they are found and
    /// returns a result marked `streamed`: a plain `MATCH ... RETURN` tail is never held whole
    /// (other read-only queries are built, then handed on). A query that writes ignores `sink`
    /// and returns its rows, to be sent once its changes are committed.
    @discardableResult
    public mutating func execute(_ query: String, parameters: [String: Value] = [:],
                                 deadline: ContinuousClock.Instant? = nil, randomSeed: UInt64 = 0,
                                 streamingReadsTo sink: ((QueryStreamEvent) throws(GraphError) -> Void)?) throws(GraphError) -> QueryResult {
        let q = try Parser.parse(query)
        try Analyzer.check(q)
        var ex = Executor(store: store, params: parameters, deadline: deadline, vectorIndexes: vectorIndexes,
                          unindexedNodes: unindexedNodes, random: QueryRandom(seed: randomSeed), rowSink: sink)
        let r = try ex.run(q)
        store = ex.store
        version += 1
        if maintainsVectorIndexes && !vectorIndexes.isEmpty {
            vectorIndexes.apply(store.takeChanges(), from: store)
        }
        if let sink = ex.rowSink, !r.streamed {
            try sink(.columns(r.columns, store))
            for row in r.rows { try sink(.row(row)) }
            return QueryResult(columns: [], rows: [], streamed: true)
        }
        return r
    }

    /// Parses and runs one Cypher query with `$parameters`, returning its rows (see
    /// `execute(_:parameters:deadline:randomSeed:streamingReadsTo:)`).
    @discardableResult
    public mutating func execute(_ query: String, parameters: [String: Value] = [:],
                                 deadline: ContinuousClock.Instant? = nil, randomSeed: UInt64 = 0) throws(GraphError) -> QueryResult {
        try execute(query, parameters: parameters, deadline: deadline, randomSeed: randomSeed, streamingReadsTo: nil)
    }
}

typealias Row = [String: Value]

/// Runs parsed queries against a store snapshot.
struct Executor {
    /// Most intermediate rows a clause may produce.
    static let maxRows = 1_000_000
    /// Upper hop bound used for unbounded variable-length patterns (`*`, `*2..`).
    static let maxHops = 32

    var store: GraphStore
    let params: [String: Value]
    var deadline: ContinuousClock.Instant? = nil
    var vectorIndexes: GraphVectorIndexes? = nil
    /// Nodes changed before this query that `vectorIndexes` do not reflect yet.
    var unindexedNodes: Set<Int> = []
    /// Source of `rand()`.
    var random = QueryRandom(seed: 0)
    /// `variable.property = expression` conjuncts of the current MATCH's WHERE (see
    /// `indexedCandidates`).
    var equalityHints: [String: [(property: String, value: Expr)]] = [:]
    /// Compiled `=~` patterns of this query.
    let regexes = RegexCache()
    /// Where a streamed query's rows go (see `GraphDatabase.execute(_:parameters:deadline:randomSeed:streamingReadsTo:)`).
    var rowSink: ((QueryStreamEvent) throws(GraphError) -> Void)? = nil
    /// Whether a streamable MATCH ... RETURN tail hands rows to `rowSink` as they are found.
    var streamsAsFound = false

    /// Throws `.timeout` once the deadline has passed (checked as rows and paths are produced).
    func checkDeadline() throws(GraphError) {
        if let deadline, ContinuousClock.now >= deadline {
            throw GraphError(.timeout, "the query ran past its deadline and was stopped; nothing it did was kept")
        }
    }

    mutating func run(_ q: Query) throws(GraphError) -> QueryResult {
        // Only a read-only query streams (a write's rows wait for its commit), and only a
        // single part can hand rows on as found (UNION's parts are combined first).
        if q.parts.contains(where: { $0.contains(where: \.isUpdating) }) { rowSink = nil }
        streamsAsFound = rowSink != nil && q.parts.count == 1
        var result: QueryResult? = nil
        for (i, part) in q.parts.enumerated() {
            let r = try runSingle(part)
            if let prev = result {
                guard prev.columns == r.columns else {
                    throw GraphError(.semantic, "all UNION parts must return the same columns in the same order")
                }
                var rows = prev.rows + r.rows
                if !q.unionAll[i - 1] { rows = distinct(rows) }
                result = QueryResult(columns: prev.columns, rows: rows)
            } else {
                result = r
            }
        }
        if q.parts.count > 1, q.unionAll.allSatisfy({ !$0 }), let r = result {
            result = QueryResult(columns: r.columns, rows: distinct(r.rows))
        }
        return result ?? QueryResult(columns: [], rows: [])
    }

    private func distinct(_ rows: [[Value]]) -> [[Value]] {
        var seen = Set<[Value]>(), out: [[Value]] = []
        for r in rows where seen.insert(r.map(Semantics.groupKey)).inserted { out.append(r) }
        return out
    }

    /// Runs one query part, starting from `initial` (the outer row of an EXISTS subquery).
    mutating func runSingle(_ clauses: [Clause], from initial: Row = [:]) throws(GraphError) -> QueryResult {
        var rows: [Row] = [initial]
        var scope: [String] = []   // variables in scope, so `*` has columns even with no rows
        func addScope(_ vs: [String]) { for v in vs where !scope.contains(v) { scope.append(v) } }
        for (i, c) in clauses.enumerated() {
            let isLast = i == clauses.count - 1
            switch c {
            case .ret(let p):
                guard isLast else { throw GraphError(.syntax, "RETURN must be the last clause") }
                let (cols, out, _) = try project(rows, p, scope)
                return QueryResult(columns: cols, rows: out.map { r in cols.map { r[$0] ?? .null } })
            case .with(let p, let w):
                let (cols, projected, envs) = try project(rows, p, scope)
                scope = cols
                if let w {
                    var kept: [Row] = []
                    for (o, env) in zip(projected, envs) where try eval(w, env) == .bool(true) { kept.append(o) }
                    rows = kept
                } else { rows = projected }
            case .match(let optional, let parts, let w):
                addScope(Self.patternVariables(parts))
                // Only this MATCH's own WHERE may narrow its starting nodes.
                equalityHints = w.map(Self.equalityHints) ?? [:]
                defer { equalityHints = [:] }
                if streamsAsFound, let sink = rowSink, i == clauses.count - 2, case .ret(let p) = clauses[i + 1], Self.isStreamable(p) {
                    try streamMatch(rows, optional: optional, parts, where: w, returning: p, scope, to: sink)
                    return QueryResult(columns: [], rows: [], streamed: true)
                }
                var out: [Row] = []
                for r in rows {
                    var found = try matchParts(parts, r)
                    if let w { found = try keep(found, where: w) }
                    if found.isEmpty && optional {
                        var nr = r
                        for v in Self.patternVariables(parts) where nr[v] == nil { nr[v] = .null }
                        out.append(nr)
                    } else { out += found }
                    guard out.count <= Self.maxRows else { throw GraphError(.limitExceeded, "MATCH produced more than \(Self.maxRows) rows") }
                    try checkDeadline()
                }
                rows = out
            case .unwind(let e, let name):
                addScope([name])
                var out: [Row] = []
                for r in rows {
                    try checkDeadline()
                    let v = try eval(e, r)
                    let items: [Value]
                    switch v { case .null: items = []; case .list(let l): items = l; default: items = [v] }
                    for x in items { var nr = r; nr[name] = x; out.append(nr) }
                    guard out.count <= Self.maxRows else { throw GraphError(.limitExceeded, "UNWIND produced more than \(Self.maxRows) rows") }
                }
                rows = out
            case .create(let parts):
                addScope(Self.patternVariables(parts))
                var out: [Row] = []
                for r in rows { out.append(try create(parts, r)) }
                rows = out
            case .merge(let part, let onCreate, let onMatch):
                addScope(Self.patternVariables([part]))
                var out: [Row] = []
                for r in rows {
                    let maps = [part.start.properties] + part.steps.flatMap { [$0.0.properties, $0.1.properties] }
                    for m in maps {
                        if try propertyMap(m, r).values.contains(where: \.isNull) {
                            throw GraphError(.runtime, "MERGE cannot match or create a null property value")
                        }
                    }
                    let found = try matchParts([part], r)
                    if found.isEmpty {
                        let nr = try create([part], r, undirectedAsOutgoing: true)
                        try applySet(onCreate, nr)
                        out.append(nr)
                    } else {
                        for m in found { try applySet(onMatch, m) }
                        out += found
                    }
                }
                rows = out
            case .set(let items):
                for r in rows { try applySet(items, r) }
            case .remove(let items):
                for r in rows {
                    for it in items {
                        switch it {
                        case .property(let t, let k): try setProperty(try eval(t, r), k, .null)
                        case .labels(let v, let ls):
                            guard case .node(let id)? = r[v] else { continue }
                            for l in ls { store.removeLabel(id, l) }
                        }
                    }
                }
            case .call(let name, let arguments, let yields, let predicate):
                let procedure = try Self.procedure(named: name, arguments: arguments.count)
                let bindings = yields ?? procedure.outputs.map { ($0.name, $0.name) }
                addScope(bindings.map(\.alias))
                var out: [Row] = []
                for r in rows {
                    for record in try callProcedure(procedure, arguments: arguments.map { e throws(GraphError) in try eval(e, r) }) {
                        var nr = r
                        for (field, alias) in bindings { nr[alias] = record[field] ?? .null }
                        if let predicate, try eval(predicate, nr) != .bool(true) { continue }
                        out.append(nr)
                        guard out.count <= Self.maxRows else { throw GraphError(.limitExceeded, "CALL produced more than \(Self.maxRows) rows") }
                    }
                    try checkDeadline()
                }
                rows = out
                if clauses.count == 1 {
                    let columns = bindings.map(\.alias)
                    return QueryResult(columns: columns, rows: rows.map { r in columns.map { r[$0] ?? .null } })
                }
            case .delete(let detach, let es):
                var nodes: [Int] = [], rels: [Int] = []
                for r in rows {
                    for e in es {
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
                        case let v: throw typeError("DELETE expects nodes or relationships, got \(v)")
                        }
                    }
                }
                for id in rels { store.deleteRelationship(id) }
                for id in nodes { try store.deleteNode(id, detach: detach) }
            }
        }
        return QueryResult(columns: [], rows: [])
    }

    private func keep(_ rows: [Row], where w: Expr) throws(GraphError) -> [Row] {
        var out: [Row] = []
        for r in rows where try eval(w, r) == .bool(true) { out.append(r) }
        return out
    }

    static func patternVariables(_ parts: [PatternPart]) -> [String] {
        var vs: [String] = []
        for p in parts {
            if let v = p.pathVariable { vs.append(v) }
            if let v = p.start.variable { vs.append(v) }
            for (r, n) in p.steps {
                if let v = r.variable { vs.append(v) }
                if let v = n.variable { vs.append(v) }
            }
        }
        return vs
    }

    // MARK: SET
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
            case .property(let t, let k, let e): try setProperty(try eval(t, r), k, try eval(e, r))
            case .labels(let v, let ls):
                guard case .node(let id)? = r[v] else { continue }
                for l in ls { try store.addLabel(id, l) }
            case .replace(let v, let e), .merge(let v, let e):
                let target = r[v] ?? .null
                if target.isNull { continue }
                var newProps: [String: Value]
                switch try eval(e, r) {
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

    // MARK: CREATE
    func propertyMap(_ e: Expr?, _ r: Row) throws(GraphError) -> [String: Value] {
        guard let e else { return [:] }
        switch try eval(e, r) {
        case .map(let m): return m
        case .null: return [:]
        case let v: throw typeError("pattern properties must be a map, got \(v)")
        }
    }

    private mutating func createNode(_ n: NodePattern, _ r: inout Row) throws(GraphError) -> Int {
        if let v = n.variable, let bound = r[v] {
            guard case .node(let id) = bound else { throw GraphError(.semantic, "variable '\(v)' is not a node") }
            guard n.labels.isEmpty && n.properties == nil else {
                throw GraphError(.semantic, "variable '\(v)' is already bound; CREATE cannot add labels or properties to it")
            }
            return id
        }
        let id = try store.createNode(labels: n.labels, properties: try propertyMap(n.properties, r))
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
                                                      properties: try propertyMap(rel.properties, r))
                if let v = rel.variable { r[v] = .relationship(id) }
                prev = next
                pathNodes.append(next); pathRels.append(id)
            }
            if let v = p.pathVariable { r[v] = .path(nodes: pathNodes, relationships: pathRels) }
        }
        return r
    }

    // MARK: MATCH
    func propertiesMatch(_ have: [String: Value], _ want: [String: Value]) -> Bool {
        want.allSatisfy { k, v in Semantics.equal(have[k] ?? .null, v) == true }
    }

    func nodeFits(_ id: Int, _ n: NodePattern, _ want: [String: Value], _ r: Row) -> Bool {
        guard let node = store.node(id) else { return false }
        if let v = n.variable, let b = r[v], b != .node(id) { return false }
        return n.labels.allSatisfy(node.labels.contains) && propertiesMatch(node.properties, want)
    }

    private func matchParts(_ parts: [PatternPart], _ row: Row) throws(GraphError) -> [Row] {
        var results = MatchOutput()
        try matchParts(parts, row, into: &results)
        return results.rows
    }

    func matchParts(_ parts: [PatternPart], _ row: Row, into out: inout MatchOutput) throws(GraphError) {
        var used = Set<Int>()
        try matchPart(parts, 0, row, &used, &out)
    }

    func matchPart(_ parts: [PatternPart], _ i: Int, _ row: Row, _ used: inout Set<Int>, _ out: inout MatchOutput) throws(GraphError) {
        guard i < parts.count else { try out.append(row); return }
        let p = parts[i]
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
        for c in candidates where nodeFits(c, p.start, want, row) {
            var r = row
            if let v = p.start.variable { r[v] = .node(c) }
            if let shortest = p.shortest {
                try matchShortest(parts, i, shortest, from: c, r, &used, &out)
            } else {
                try matchSteps(parts, i, 0, c, r, [c], [], &used, &out)
            }
            try out.checkLimit()
            try checkDeadline()
        }
    }

    func neighbours(_ node: Int, _ rel: RelPattern) -> [(rel: Int, other: Int)] {
        var out: [(Int, Int)] = []
        if rel.direction != .incoming {
            for id in store.outgoingRelationships(of: node) { if let r = store.relationship(id) { out.append((id, r.end)) } }
        }
        if rel.direction != .outgoing {
            for id in store.incomingRelationships(of: node) {
                guard let r = store.relationship(id) else { continue }
                if rel.direction == .both && r.start == r.end { continue }  // self-loop already listed
                out.append((id, r.start))
            }
        }
        return out.filter { e in rel.types.isEmpty || rel.types.contains(store.relationship(e.0)?.type ?? "") }
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
        let relWant = try propertyMap(rel.properties, row)
        let nodeWant = try propertyMap(n.properties, row)
        if let (lo, hiOpt) = rel.length {
            let hi = min(hiOpt ?? Self.maxHops, Self.maxHops)
            var path: [Int] = []
            var walked: [Int] = []
            var steps = 0
            func walk(_ cur: Int, _ used: inout Set<Int>, _ out: inout MatchOutput) throws(GraphError) {
                steps += 1
                if steps & 1023 == 0 { try checkDeadline() }
                guard steps <= Self.maxRows else {
                    throw GraphError(.limitExceeded, "variable-length pattern explored more than \(Self.maxRows) paths; add an upper bound or labels")
                }
                if path.count >= lo && nodeFits(cur, n, nodeWant, row) {
                    var r = row
                    if let v = rel.variable {
                        if let b = r[v], b != .list(path.map(Value.relationship)) { return }
                        r[v] = .list(path.map(Value.relationship))
                    }
                    if let v = n.variable { r[v] = .node(cur) }
                    try matchSteps(parts, pi, si + 1, cur, r, pathNodes + walked, pathRels + path, &used, &out)
                }
                guard path.count < hi else { return }
                for (rid, other) in neighbours(cur, rel) where !used.contains(rid) {
                    guard let rr = store.relationship(rid), propertiesMatch(rr.properties, relWant) else { continue }
                    used.insert(rid); path.append(rid); walked.append(other)
                    try walk(other, &used, &out)
                    used.remove(rid); path.removeLast(); walked.removeLast()
                    try out.checkLimit()
                }
            }
            try walk(at, &used, &out)
            return
        }
        for (rid, other) in neighbours(at, rel) where !used.contains(rid) {
            guard let rr = store.relationship(rid), propertiesMatch(rr.properties, relWant) else { continue }
            if let v = rel.variable, let b = row[v], b != .relationship(rid) { continue }
            guard nodeFits(other, n, nodeWant, row) else { continue }
            var r = row
            if let v = rel.variable { r[v] = .relationship(rid) }
            if let v = n.variable { r[v] = .node(other) }
            used.insert(rid)
            try matchSteps(parts, pi, si + 1, other, r, pathNodes + [other], pathRels + [rid], &used, &out)
            used.remove(rid)
        }
    }

    // MARK: projection (WITH / RETURN)
    func nonNegativeInt(_ e: Expr?, _ what: String) throws(GraphError) -> Int? {
        guard let e else { return nil }
        guard case .int(let i) = try eval(e, [:]), i >= 0 else {
            throw GraphError(.runtime, "\(what) must be a non-negative integer")
        }
        return Int(clamping: i)
    }

    /// The items of a projection, `*` expanded from `scope`; aliases checked unique.
    func projectionItems(_ p: Projection, _ scope: [String]) throws(GraphError) -> [ProjectionItem] {
        var items = p.items
        if p.star {
            items = scope.filter { !$0.isEmpty }.sorted().map { ProjectionItem(expr: .variable($0), alias: $0) } + items
        }
        guard !items.isEmpty || p.star else { throw GraphError(.semantic, "WITH/RETURN needs at least one item") }
        var seenAlias = Set<String>()
        for it in items where !seenAlias.insert(it.alias).inserted {
            throw GraphError(.semantic, "column name '\(it.alias)' is used twice; use AS to rename")
        }
        return items
    }

    private func project(_ rows: [Row], _ p: Projection, _ scope: [String]) throws(GraphError) -> ([String], [Row], [Row]) {
        let items = try projectionItems(p, scope)
        let cols = items.map(\.alias)
        // Order keys that repeat a projected expression refer to its column.
        var order = p.orderBy.map { (e, asc) in (items.first { $0.expr == e }.map { Expr.variable($0.alias) } ?? e, asc) }
        var pairs: [(out: Row, env: Row)] = []
        if items.contains(where: { Self.containsAggregate($0.expr) }) {
            // Order keys with their own aggregates become hidden columns computed per group.
            var hidden: [ProjectionItem] = []
            var projectedCalls: [Expr] = []
            for it in items { Self.aggregateCalls(it.expr, &projectedCalls) }
            for (j, (e, asc)) in order.enumerated() where Self.containsAggregate(e) {
                var calls: [Expr] = []
                Self.aggregateCalls(e, &calls)
                guard calls.allSatisfy(projectedCalls.contains) else {
                    throw GraphError(.semantic, "ORDER BY may only use aggregates that are also projected; add it to WITH/RETURN")
                }
                let alias = "\u{0}order\(j)"
                hidden.append(ProjectionItem(expr: e, alias: alias))
                order[j] = (.variable(alias), asc)
            }
            pairs = try aggregate(rows, items + hidden).map { full in
                (full.filter { !$0.key.hasPrefix("\u{0}") }, full)
            }
        } else {
            for r in rows {
                try checkDeadline()
                var o: Row = [:]
                for it in items { o[it.alias] = try eval(it.expr, r) }
                pairs.append((o, r.merging(o) { $1 }))
            }
        }
        if p.distinct {
            var seen = Set<[Value]>()
            pairs = pairs.filter { pr in seen.insert(cols.map { c in Semantics.groupKey(pr.out[c] ?? .null) }).inserted }
        }
        if !order.isEmpty {
            var keyed: [([Value], Int)] = []
            for (i, pr) in pairs.enumerated() {
                try checkDeadline()
                var ks: [Value] = []
                for (e, _) in order { ks.append(try eval(e, pr.env)) }
                keyed.append((ks, i))
            }
            keyed.sort { a, b in
                for (j, (_, asc)) in order.enumerated() {
                    let c = Semantics.orderCompare(a.0[j], b.0[j])
                    if c != 0 { return asc ? c < 0 : c > 0 }
                }
                return a.1 < b.1
            }
            pairs = keyed.map { pairs[$0.1] }
        }
        if let s = try nonNegativeInt(p.skip, "SKIP") { pairs = Array(pairs.dropFirst(s)) }
        if let l = try nonNegativeInt(p.limit, "LIMIT") { pairs = Array(pairs.prefix(l)) }
        return (cols, pairs.map(\.out), pairs.map(\.env))
    }

    private static func aggregateCalls(_ e: Expr, _ acc: inout [Expr]) {
        switch e {
        case .countStar: acc.append(e)
        case .function(let n, _, let args):
            if aggregateNames.contains(n) { acc.append(e) } else { for a in args { aggregateCalls(a, &acc) } }
        case .literal, .variable, .parameter: break
        case .property(let x, _), .not(let x), .negate(let x), .isNull(let x, _), .hasLabels(let x, _): aggregateCalls(x, &acc)
        case .list(let l), .map(_, let l): for x in l { aggregateCalls(x, &acc) }
        case .binary(_, let a, let b), .index(let a, let b): aggregateCalls(a, &acc); aggregateCalls(b, &acc)
        case .slice(let a, let b, let c):
            aggregateCalls(a, &acc); if let b { aggregateCalls(b, &acc) }; if let c { aggregateCalls(c, &acc) }
        case .listComprehension(_, let l, let p, let m):
            aggregateCalls(l, &acc); if let p { aggregateCalls(p, &acc) }; if let m { aggregateCalls(m, &acc) }
        case .reduce(_, let initial, _, let list, let expression):
            aggregateCalls(initial, &acc); aggregateCalls(list, &acc); aggregateCalls(expression, &acc)
        case .patternPredicate, .patternComprehension, .exists: break
        case .caseExpr(let s, let w, let t, let el):
            if let s { aggregateCalls(s, &acc) }; for x in w + t { aggregateCalls(x, &acc) }; if let el { aggregateCalls(el, &acc) }
        }
    }

    private func aggregate(_ rows: [Row], _ items: [ProjectionItem]) throws(GraphError) -> [Row] {
        let keyItems = items.filter { !Self.containsAggregate($0.expr) }
        var calls: [Expr] = []
        for it in items where Self.containsAggregate(it.expr) { Self.aggregateCalls(it.expr, &calls) }
        var groupOrder: [[Value]] = [], groups: [[Value]: [Row]] = [:]
        for r in rows {
            try checkDeadline()
            var k: [Value] = []
            for it in keyItems { k.append(Semantics.groupKey(try eval(it.expr, r))) }
            if groups[k] == nil { groupOrder.append(k) }
            groups[k, default: []].append(r)
        }
        if rows.isEmpty && keyItems.isEmpty { groupOrder = [[]]; groups[[]] = [] }
        var out: [Row] = []
        for k in groupOrder {
            let members = groups[k] ?? []
            var aggs: [Expr: Value] = [:]
            for c in calls { aggs[c] = try aggregateValue(c, members) }
            let base = members.first ?? [:]
            var o: Row = [:]
            for it in keyItems { o[it.alias] = try eval(it.expr, base, aggs) }
            let env = base.merging(o) { $1 }
            for it in items where o[it.alias] == nil { o[it.alias] = try eval(it.expr, env, aggs) }
            out.append(o)
        }
        return out
    }

    private func aggregateValue(_ call: Expr, _ rows: [Row]) throws(GraphError) -> Value {
        if case .countStar = call { return .int(Int64(rows.count)) }
        guard case .function(let name, let distinct, let args) = call, args.count == 1 else {
            throw GraphError(.semantic, "aggregate functions take exactly one argument")
        }
        if Self.containsAggregate(args[0]) { throw GraphError(.semantic, "aggregate functions cannot be nested") }
        var vals: [Value] = []
        var seen = Set<Value>()
        for r in rows {
            let v = try eval(args[0], r)
            if v.isNull { continue }
            if distinct && !seen.insert(Semantics.groupKey(v)).inserted { continue }
            vals.append(v)
        }
        switch name {
        case "count": return .int(Int64(vals.count))
        case "collect": return .list(vals)
        case "sum", "avg":
            var isum: Int64 = 0, fsum = 0.0, anyFloat = false
            for v in vals {
                switch v {
                case .int(let i):
                    let (s, o) = isum.addingReportingOverflow(i)
                    guard !o else { throw GraphError(.runtime, "integer overflow in \(name)()") }
                    isum = s
                case .float(let d): fsum += d; anyFloat = true
                default: throw typeError("\(name)() needs numbers, got \(v)")
                }
            }
            if name == "sum" { return anyFloat ? .float(fsum + Double(isum)) : .int(isum) }
            return vals.isEmpty ? .null : .float((fsum + Double(isum)) / Double(vals.count))
        case "min", "max":
            guard var best = vals.first else { return .null }
            for v in vals.dropFirst() {
                let c = Semantics.orderCompare(v, best)
                if name == "min" ? c < 0 : c > 0 { best = v }
            }
            return best
        default: throw GraphError(.unsupported, "aggregate \(name)() is not supported")
        }
    }
}
