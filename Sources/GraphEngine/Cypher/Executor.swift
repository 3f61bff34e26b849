import WorkControl

/// The rows and column names a query returns.
public struct QueryResult: Sendable, Equatable {
    /// Column names in RETURN order.
    public var columns: [String]
    /// Rows; each has one value per column.
    public var rows: [[Value]]
    /// True when the columns and rows went to the query's stream instead (then both are empty).
    public var streamed = false
    /// The plan, for a query that began with EXPLAIN (then nothing ran: no columns, no rows)
    /// or PROFILE (the rows as usual, the plan with each operator's rows and time).
    public internal(set) var plan: QueryPlan? = nil
    /// Bytes of the call's memory budget these rows still hold after `execute` returned: they
    /// stay charged until the caller closes the budget (when the call ends) or refunds them
    /// (once the rows are sent).
    public internal(set) var memoryBytes = 0

    /// Columns and rows (a result built by hand, holding no budget).
    public init(columns: [String], rows: [[Value]], streamed: Bool = false) {
        self.columns = columns
        self.rows = rows
        self.streamed = streamed
    }

    init(columns: [String], rows: [[Value]], memoryBytes: Int) {
        self.init(columns: columns, rows: rows)
        self.memoryBytes = memoryBytes
    }

    /// Equal columns, rows and streaming (the memory they hold and the plan are not part of
    /// the answer).
    public static func == (a: QueryResult, b: QueryResult) -> Bool {
        a.columns == b.columns && a.rows == b.rows && a.streamed == b.streamed
    }
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

    /// The clock `datetime()` and its siblings read, once per query. Tests set a fixed one.
    public var wallClock = WallClock.system
    /// Whether queries the planner takes run planned (the default); false runs every query in
    /// the clause interpreter (to compare the two).
    public var usesPlanner = true
    /// Parsed and planned queries by text (shared by every copy).
    let plans = PlanCache()
    /// The procedures CALL can run: the built-in ones and those registered with `register`.
    public private(set) var procedures = ProcedureCatalog.builtIn

    /// Makes `procedure` callable by this database's queries (and its later copies), replacing
    /// an application's procedure of the same name; a built-in one cannot be replaced.
    public mutating func register(_ procedure: GraphProcedure) throws(GraphError) {
        try procedures.register(procedure)
    }
    /// Threads one query may use: a whole-graph aggregation run in blocks (`BatchPlan`) over a
    /// large enough scan splits it into this many parts, run at once and merged in order, with
    /// the answer of a run on one thread. 1 (the default) keeps every query on the thread that
    /// calls `execute`; an embedding application with cores to spare may raise it (the graph
    /// benchmark sets it to the machine's core count, as its peers use every core).
    public var queryThreads = 1
    /// Whether planned aggregations run in blocks where they can (`BatchPlan`); false runs
    /// them row at a time (tests compare the two).
    var usesBatches = true
    /// Ids a batch scan must have per thread before it is split (see `queryThreads`).
    var idsPerQueryThread = Executor.idsPerBatchThread

    /// Creates an empty database.
    public init() {}

    /// Parses and runs one Cypher query with `$parameters`. A query still running at
    /// `deadline` stops with `.timeout` and changes nothing. `rand()` draws from a generator
    /// seeded with `randomSeed` (the caller brings the entropy; the default is fixed, so an
    /// in-memory run is reproducible).
    ///
    /// `bounds` limit the query: the memory it holds (values, rows, sort and aggregation state,
    /// result rows) is charged to `bounds.memory` as it grows, and a query past it stops with
    /// `.resourceExhausted`; raising `bounds.cancellation` stops it within milliseconds
    /// (`.cancelled`, or `.timeout` for a deadline). Either way nothing it did is kept and its
    /// charges are refunded. A result's rows stay charged (`QueryResult.memoryBytes`).
    ///
    /// With `sink`, a read-only query hands its columns and rows to it as they are found and
    /// returns a result marked `streamed`: a query whose RETURN is plain (no aggregate,
    /// DISTINCT or ORDER BY) is never held whole (other read-only queries are built, then
    /// handed on). A query that writes ignores `sink` and returns its rows, to be sent once
    /// its changes are committed.
    @discardableResult
    public mutating func execute(_ query: String, parameters: [String: Value] = [:],
                                 deadline: ContinuousClock.Instant? = nil, randomSeed: UInt64 = 0,
                                 bounds: WorkBounds = .unbounded(work: "the query"),
                                 streamingReadsTo sink: ((QueryStreamEvent) throws(GraphError) -> Void)?) throws(GraphError) -> QueryResult {
        let control = QueryControl(bounds: bounds, deadline: deadline)
        do throws(GraphError) {
            try control.check()
            let (mode, text) = QueryPlan.Mode.split(query)
            let (entry, cached) = try plans.entry(text, procedures: procedures)
            let q = entry.query
            var ex = Executor(store: store, params: parameters, control: control, vectorIndexes: vectorIndexes,
                              unindexedNodes: unindexedNodes, random: QueryRandom(seed: randomSeed),
                              statementEpochNanos: wallClock.epochNanos(), rowSink: sink)
            ex.procedures = procedures
            ex.queryThreads = max(1, queryThreads)
            ex.idsPerQueryThread = max(1, idsPerQueryThread)
            var planned: [PlannedQuery] = []
            var reason = "the planner is off"
            if usesPlanner {
                switch entry.outcome {
                case .planned(let parts, _): planned = usesBatches ? parts : parts.map { part in
                    var part = part
                    part.batch = nil
                    return part
                }
                case .interpreted(let why): reason = why
                }
            }
            if mode == .explain {
                control.finish(keeping: 0)
                var r = QueryResult(columns: [], rows: [])
                r.plan = planned.isEmpty
                    ? QueryPlan(interpreted: q, reason: reason, mode: .explain, rows: nil, nanoseconds: nil, cached: cached)
                    : QueryPlan(planned, unionAll: q.unionAll, store: store, mode: .explain, profiles: nil, cached: cached)
                return r
            }
            let profiles = mode == .profile ? planned.map { PlanProfile(operators: $0.steps.count) } : nil
            let started = mode == .profile ? PlanProfile.now() : 0
            var r: QueryResult
            if q.writes {
                // A write's rows wait for its commit.
                ex.rowSink = nil
            }
            if planned.count == 1 {
                ex.streamsAsFound = ex.rowSink != nil
                r = try ex.runPlannedPart(planned[0], profile: profiles?[0])
            } else if !planned.isEmpty {
                var results: [QueryResult] = []
                for (k, part) in planned.enumerated() { results.append(try ex.runPlannedPart(part, profile: profiles?[k])) }
                r = try ex.union(results, all: q.unionAll)
            } else {
                r = try ex.run(q)
            }
            if mode == .profile {
                r.plan = planned.isEmpty
                    ? QueryPlan(interpreted: q, reason: reason, mode: .profile, rows: r.streamed ? nil : r.rows.count,
                                nanoseconds: PlanProfile.now() - started, cached: cached)
                    : QueryPlan(planned, unionAll: q.unionAll, store: ex.store, mode: .profile, profiles: profiles, cached: cached)
            }
            if q.writes {
                // A read leaves the store, its version (what transactions check) and the vector
                // indexes as they were: no copy back, no conflict for a transaction begun before.
                store = ex.store
                version += 1
                settleChanges()
            }
            if let sink = ex.rowSink, !r.streamed {
                try sink(.columns(r.columns, store))
                for row in r.rows {
                    try control.check()
                    try sink(.row(row))
                }
                control.finish(keeping: 0)
                var streamed = QueryResult(columns: [], rows: [], streamed: true)
                streamed.plan = r.plan
                return streamed
            }
            r.memoryBytes = control.finish(keeping: r.memoryBytes)
            return r
        } catch {
            control.finish(keeping: 0)
            throw error
        }
    }

    /// Compiles `query` without running it: parsing and semantic analysis, what fails here
    /// fails whatever the graph holds (the openCypher "compile time"). Procedures are the
    /// built-in ones.
    public static func compile(_ query: String) throws(GraphError) {
        try Analyzer.check(try Parser.parse(QueryPlan.Mode.split(query).text), procedures: .builtIn)
    }

    /// `compile(query)` against this database's procedures and, when given, the `parameters`
    /// it will run with: a standalone CALL written without parentheses needs one for each
    /// input (`ParameterMissing` otherwise).
    public func compile(_ query: String, parameters: [String: Value]? = nil) throws(GraphError) {
        let parsed = try Parser.parse(QueryPlan.Mode.split(query).text)
        try Analyzer.check(parsed, procedures: procedures)
        guard let parameters, parsed.parts.count == 1, parsed.parts[0].count == 1, case .call(let call) = parsed.parts[0][0],
              call.arguments == nil, let procedure = procedures[call.procedure] else { return }
        for input in procedure.inputs where parameters[input.name] == nil {
            throw GraphError(.semantic, "\(call.procedure) takes its \(input.name) from the parameter $\(input.name), which was not supplied",
                             cypherClass: .parameterMissing)
        }
    }

    /// Whether `query` has a clause that changes the graph (CREATE, MERGE, SET, REMOVE,
    /// DELETE): such a query needs write access. A query that does not parse is reported as
    /// not writing; running it fails with its syntax error.
    public static func writes(_ query: String) -> Bool {
        let (mode, text) = QueryPlan.Mode.split(query)
        guard mode != .explain, let parsed = try? Parser.parse(text) else { return false }
        return parsed.writes
    }

    /// Parses and runs one Cypher query with `$parameters`, returning its rows (see
    /// `execute(_:parameters:deadline:randomSeed:bounds:streamingReadsTo:)`).
    @discardableResult
    public mutating func execute(_ query: String, parameters: [String: Value] = [:],
                                 deadline: ContinuousClock.Instant? = nil, randomSeed: UInt64 = 0,
                                 bounds: WorkBounds = .unbounded(work: "the query")) throws(GraphError) -> QueryResult {
        try execute(query, parameters: parameters, deadline: deadline, randomSeed: randomSeed, bounds: bounds, streamingReadsTo: nil)
    }
}

typealias Row = [String: Value]

/// Runs parsed queries against a store snapshot.
struct Executor {
    /// Upper hop bound used for unbounded variable-length patterns (`*`, `*2..`): it bounds the
    /// walk's recursion (the stack), which the memory budget does not.
    static let maxHops = 32

    var store: GraphStore
    let params: [String: Value]
    /// The query's memory account and stop signal (shared by every copy of this executor).
    let control: QueryControl
    var vectorIndexes: GraphVectorIndexes? = nil
    /// What CALL can run.
    var procedures = ProcedureCatalog.builtIn
    /// The types of relationships this query deleted (`type(r)` still answers after DELETE r).
    var deletedRelationshipTypes: [Int: String] = [:]
    /// Nodes changed before this query that `vectorIndexes` do not reflect yet.
    var unindexedNodes: Set<Int> = []
    /// Source of `rand()`.
    var random = QueryRandom(seed: 0)
    /// The statement's time, nanoseconds since 1970-01-01T00:00Z: read once per query, so
    /// `datetime()` gives one answer however often a query asks.
    var statementEpochNanos: Int64 = 0
    /// `variable.property = expression` conjuncts of the current MATCH's WHERE (see
    /// `indexedCandidates`).
    var equalityHints: [String: [(property: String, value: Expr)]] = [:]
    /// Compiled `=~` patterns of this query.
    let regexes = RegexCache()
    /// Where a streamed query's rows go (see `GraphDatabase.execute(_:parameters:deadline:randomSeed:bounds:streamingReadsTo:)`).
    var rowSink: ((QueryStreamEvent) throws(GraphError) -> Void)? = nil
    /// Whether the final plain RETURN hands rows to `rowSink` as they are found.
    var streamsAsFound = false
    /// Threads a planned aggregation run in blocks may use, and the ids its scan must have
    /// per thread (see `GraphDatabase.queryThreads`).
    var queryThreads = 1
    var idsPerQueryThread = Executor.idsPerBatchThread
    /// Set for an EXISTS subquery: its RETURN stops at the first row.
    var stopsAtFirstRow = false

    mutating func run(_ q: Query) throws(GraphError) -> QueryResult {
        // Only a read-only query streams (a write's rows wait for its commit), and only a
        // single part can hand rows on as found (UNION's parts are combined first).
        if q.writes { rowSink = nil }
        streamsAsFound = rowSink != nil && q.parts.count == 1
        var results: [QueryResult] = []
        for part in q.parts { results.append(try runSingle(part)) }
        return try union(results, all: q.unionAll)
    }

    /// The parts' results joined as UNION (`all[i]`: UNION ALL between parts i and i + 1)
    /// joins them: repeats dropped after each plain UNION, and throughout when every one is.
    func union(_ results: [QueryResult], all: [Bool]) throws(GraphError) -> QueryResult {
        guard var result = results.first else { return QueryResult(columns: [], rows: []) }
        for (i, r) in results.enumerated().dropFirst() {
            guard result.columns == r.columns else {
                throw GraphError(.semantic, "all UNION parts must return the same columns in the same order")
            }
            var rows = result.rows + r.rows
            if !all[i - 1] { rows = try distinct(rows) }
            result = QueryResult(columns: result.columns, rows: rows, memoryBytes: result.memoryBytes + r.memoryBytes)
        }
        if results.count > 1, all.allSatisfy({ !$0 }) {
            result = QueryResult(columns: result.columns, rows: try distinct(result.rows), memoryBytes: result.memoryBytes)
        }
        return result
    }

    private func distinct(_ rows: [[Value]]) throws(GraphError) -> [[Value]] {
        var seen = Set<[Value]>(), out: [[Value]] = []
        var seenBytes = 0
        defer { control.refund(seenBytes) }
        for r in rows {
            try control.check()
            let key = r.map(Semantics.groupKey)
            guard !seen.contains(key) else { continue }
            let bytes = try control.measure(.list(key)) + MemoryEstimate.mapHeaderBytes
            try control.charge(bytes)
            seenBytes += bytes
            seen.insert(key)
            out.append(r)
        }
        return out
    }

    /// Runs one query part, starting from `initial` (the outer row of an EXISTS subquery).
    /// Pipelined clauses pass their rows on one at a time; each other clause takes them all.
    mutating func runSingle(_ clauses: [Clause], from initial: Row = [:]) throws(GraphError) -> QueryResult {
        try runSingle(clauses, startingAt: 0, rows: try RowSet(initial, control), scope: [])
    }

    /// Runs `clauses` from `start` on, from `rows` with `scope` in scope (what clauses before
    /// `start`, run by the planner, made).
    mutating func runSingle(_ clauses: [Clause], startingAt start: Int, rows startRows: RowSet,
                            scope startScope: [String]) throws(GraphError) -> QueryResult {
        var rows = startRows
        var scope = startScope   // variables in scope, so `*` has columns even with no rows
        var i = start
        while i < clauses.count {
            var stages: [Stage] = []
            while i < clauses.count, let stage = try stage(for: clauses[i], &scope, standalone: clauses.count == 1) {
                stages.append(stage)
                i += 1
            }
            guard i < clauses.count else {
                // The part ends in pipelined clauses: a standalone CALL returns its records.
                let found = try collect(rows, stages)
                if clauses.count == 1, case .call(let procedure, _, let bindings, _)? = stages.first, !procedure.outputs.isEmpty {
                    return try resultRows(found, columns: bindings.map(\.alias))
                }
                found.releaseAll(control)
                return QueryResult(columns: [], rows: [])
            }
            let isLast = i == clauses.count - 1
            switch clauses[i] {
            case .ret(let p):
                guard isLast else { throw GraphError(.syntax, "RETURN must be the last clause") }
                if Self.isPlain(p) { return try returnRows(rows, stages, p, scope) }
                let projected = try project(rows, stages, p, scope)
                return try projected.result(control)
            case .with(let p, let predicate):
                let projected = try project(rows, stages, p, scope)
                scope = projected.columns
                rows = try projected.rows(where: predicate, self)
            case let clause:
                if !stages.isEmpty { rows = try collect(rows, stages) }
                try runUpdate(clause, &rows, &scope, keepingRows: !isLast)
            }
            i += 1
        }
        rows.releaseAll(control)
        return QueryResult(columns: [], rows: [])
    }

    /// `rows` as result rows of `columns`, charged as such.
    private func resultRows(_ rows: RowSet, columns: [String]) throws(GraphError) -> QueryResult {
        var out: [[Value]] = []
        var bytes = 0
        for (row, kept) in zip(rows.rows, rows.kept) {
            let rowBytes = MemoryEstimate.resultRowBytes(columns: columns.count)
            try control.charge(rowBytes)
            bytes += rowBytes + kept
            out.append(columns.map { row[$0] ?? .null })
        }
        rows.releaseRows(control)
        return QueryResult(columns: columns, rows: out, memoryBytes: bytes)
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
}
