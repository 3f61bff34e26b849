/// A planned query part: a pipeline of physical steps over slot rows (`Frame`), source first,
/// and the projection that ends it. Built once per query text by `Planner` (and cached); the
/// parts that depend on the graph (which index or label is smallest) are chosen when it runs.
/// The updates (`PlanStep.update`) split it into segments: each update takes every row of
/// the segment before it, and the segment after it reads the graph as the update left it.
struct PlannedQuery: Sendable {
    /// The variable each slot was made for (nil: an unnamed relationship); a WITH gives its
    /// columns new slots.
    let slotNames: [String?]
    let steps: [PlanStep]
    let output: PlanOutput
    /// Result column names, in RETURN order.
    let columns: [String]
    /// The variables in scope at the RETURN and their slots: what ORDER BY sees of a row.
    let scope: [(name: String, slot: Int)]
    /// Whether a step changes the graph (then the part runs segment by segment and never in blocks).
    var writes: Bool { steps.contains { if case .update = $0 { return true } else { return false } } }
    /// The same query run in blocks, for a scan, expands and an aggregation (see `BatchPlan`).
    var batch: BatchPlan? = nil
}

/// One step of the pipeline: each takes a row and passes on zero or more rows.
enum PlanStep: Sendable {
    case nodeScan(NodeScan)
    case expand(Expand)
    case varExpand(VarExpand)
    /// A WHERE conjunct, placed right after the step that binds the last variable it reads.
    case filter(SlotExpr, Expr)
    /// A plain WITH: each column's value into its slot.
    case project([(slot: Int, expr: SlotExpr, alias: String)])
    /// UNWIND: one row per element of the list (none for null, the value itself otherwise).
    case unwind(SlotExpr, Expr, slot: Int, alias: String)
    /// An OPTIONAL MATCH: its steps run up to `end` (an `optionalEnd`); when they pass no row
    /// on, the row goes on past `end` with `slots` (what the MATCH binds) null.
    case optional(end: Int, slots: [Int])
    /// Where an OPTIONAL MATCH's steps end: marks the row found.
    case optionalEnd(start: Int)
    /// A path variable: the path through the pattern part's nodes and relationships.
    case path(slot: Int, pieces: [PathPiece], alias: String)
    /// `shortestPath(...)` / `allShortestPaths(...)` from the node in `from`.
    case shortest(ShortestStep)
    /// A WITH that needs all its rows (aggregate, DISTINCT, ORDER BY, SKIP or LIMIT): they are
    /// collected, and once the steps before it have run, its rows go on, each column in its slot.
    case eager(PlanOutput, columns: [String], slots: [Int], scope: [(name: String, slot: Int)])
    /// CALL: the procedure run once per row, each record it returns handed on with the
    /// yielded outputs in their slots (a procedure without outputs passes the row on once).
    case call(CallStep)
    /// CREATE, MERGE, SET, REMOVE or DELETE: a barrier. It takes every row of the steps before
    /// it, then changes the graph row by row in order (DELETE: all at once, after reading every
    /// row), as the clause interpreter does; the rows it makes go on to the steps after it.
    case update(UpdateStep)
}

/// An updating clause in a planned query. The change itself is the clause interpreter's
/// (`Executor.runUpdate`), on rows of the named slots: so both run a write the same way.
struct UpdateStep: Sendable {
    var clause: Clause
    /// The variables in scope before the clause (what its rows carry in).
    var scope: [(name: String, slot: Int)]
    /// The variables in scope after it: `scope` and those its pattern binds (CREATE, MERGE).
    var bound: [(name: String, slot: Int)]
}

/// A CALL in a planned query (`ProcedureCall`, resolved against the catalog it was checked
/// with).
struct CallStep: Sendable {
    var procedure: GraphProcedure
    /// One per input (a call written without parentheses reads each from its parameter).
    var arguments: [SlotExpr]
    /// Each yielded output's position in a record, and the slot it goes to.
    var bindings: [(output: Int, slot: Int, alias: String)]
    /// `YIELD ... WHERE`: tested on each record's row.
    var predicate: SlotExpr?
}

/// A shortest-path search, run by the interpreter's breadth-first search
/// (`Executor.matchShortest`) on the row's named variables; what it binds goes to slots.
struct ShortestStep: Sendable {
    var part: PatternPart
    var kind: PatternPart.Shortest
    var from: Int
    /// The end node's slot, and its variable (the search keeps to it when bound before).
    var end: Int
    var endName: String?
    /// The relationship list's slot (named, or hidden when later relationships must differ).
    var relationships: Int?
    var path: Int?
    /// The named variables bound before the step (what the pattern's property maps may read).
    var scope: [(name: String, slot: Int)]
    /// Relationships bound earlier in the same MATCH, which the search does not use.
    var distinctFrom: [Int]
}

/// Where a path's parts are in the row, in pattern order.
enum PathPiece: Sendable {
    /// The first node.
    case start(Int)
    /// One relationship and the node it leads to.
    case step(relationship: Int, node: Int)
    /// A variable-length walk: a path of the nodes after its first and its relationships.
    case segment(Int)
}

/// The labels and inline properties a pattern node must have.
struct NodeTest: Sendable {
    var labels: [String]
    /// The inline `{key: value}` map, evaluated once per incoming row.
    var properties: SlotExpr?
}

/// Binds a node to `slot`: the anchor of a pattern part (or a check of a node bound before).
struct NodeScan: Sendable {
    var slot: Int
    var variable: String?
    var test: NodeTest
    /// The node in `slot` was bound before: only check it.
    var bound: Bool
    /// `WHERE id(n) = expression`: at most one candidate.
    var idSeek: SlotExpr?
    /// `WHERE n.p = expression` conjuncts (and the inline map) that an index on a label of the
    /// node may answer; the smallest lookup wins when the query runs. `filter`: the step that
    /// checks the conjunct again, which rows from an exact lookup skip.
    var indexHints: [IndexHint]
}

/// An equality an index may answer.
struct IndexHint: Sendable {
    var property: String
    var value: SlotExpr
    var filter: Int? = nil
}

/// Follows one relationship pattern from the node in `from`.
struct Expand: Sendable {
    var from: Int
    var relationship: Int
    var to: Int
    var types: [String]
    var direction: Direction
    var relationshipProperties: SlotExpr?
    var target: NodeTest
    /// The node in `to` was bound before: the relationship must reach it.
    var toBound: Bool
    /// The relationship in `relationship` was bound before: only it can match.
    var relationshipBound: Bool
    /// Relationships bound earlier in the same MATCH, which this one must differ from: slots
    /// holding a relationship, or a variable-length walk's list of them.
    var distinctFrom: [Int]
}

/// Follows a variable-length relationship pattern (`*min..max`) from the node in `from`.
struct VarExpand: Sendable {
    var from: Int
    var to: Int
    var types: [String]
    var direction: Direction
    /// The inline map every relationship of the walk must have.
    var relationshipProperties: SlotExpr?
    var min: Int
    var max: Int
    var target: NodeTest
    var toBound: Bool
    /// The relationship variable's slot (`[r*1..3]`: the list of the walk's relationships); a
    /// hidden one when later relationships of the MATCH must differ from the walk's.
    var relationships: Int?
    /// The relationship variable was bound before (`WITH [r1, r2] AS rs MATCH (a)-[rs*]->(b)`):
    /// the walk follows exactly that list of relationships (a value that is not one matches nothing).
    var relationshipsBound = false
    /// Relationships bound earlier in the same MATCH, which the walk must not use (as in `Expand`).
    var distinctFrom: [Int]
    /// Where the walk itself goes, for a path variable: its nodes after the first and its
    /// relationships.
    var segment: Int?
    /// Only which nodes are reached matters downstream (every aggregate is DISTINCT, min or
    /// max, or the RETURN is DISTINCT): a breadth-first search hands each end node on once
    /// instead of once per path.
    var distinctEnds: Bool
}

/// How the rows become the result.
enum PlanOutput: Sendable {
    /// A plain RETURN: each row projected as it comes (streamed when the caller asked).
    case project(items: [(alias: String, expr: SlotExpr)], skip: Expr?, limit: Expr?)
    /// RETURN with DISTINCT or ORDER BY and no aggregate.
    case collect(items: [(alias: String, expr: SlotExpr)], projection: Projection)
    /// RETURN with aggregates: grouped by the other items.
    /// `computed`: columns whose expression holds aggregates (`count(*) + 1`), evaluated on
    /// each group's row, where the aggregates and grouping keys are hidden or named columns.
    case aggregate(keys: [(alias: String, expr: SlotExpr)], aggregates: [(alias: String, call: Expr, argument: SlotExpr?)],
                   computed: [(alias: String, expr: Expr)], projection: Projection)
    /// Nothing: the part ends in an update (its rows are dropped, no columns).
    case discard
}

/// What `EXPLAIN` and `PROFILE` tell of a query: its operators, the result first (as Neo4j
/// prints them), each with what it does and, under PROFILE, the rows it produced and the time
/// spent in it (not counting the operators it feeds).
public struct QueryPlan: Sendable, Equatable {
    /// One operator of the plan.
    public struct Operator: Sendable, Equatable {
        /// The operator, e.g. `NodeIndexSeek`, `Expand(All)`, `EagerAggregation`.
        public var name: String
        /// What it works on: variables, labels, predicates.
        public var details: String
        /// Rows it produced (PROFILE only).
        public var rows: Int?
        /// Time spent in it, nanoseconds (PROFILE only).
        public var nanoseconds: UInt64?

        /// An operator.
        public init(name: String, details: String, rows: Int? = nil, nanoseconds: UInt64? = nil) {
            self.name = name; self.details = details; self.rows = rows; self.nanoseconds = nanoseconds
        }
    }

    /// EXPLAIN (no rows ran) or PROFILE (the query ran, counted).
    public enum Mode: String, Sendable { case explain = "EXPLAIN", profile = "PROFILE" }

    public var mode: Mode
    /// The result operator first, the sources last.
    public var operators: [Operator]
    /// False when the planner did not take the query and the clause interpreter ran it (its
    /// clauses are then listed as `Interpreted...` operators, timed as a whole).
    public var planned: Bool
    /// Why the interpreter ran it (empty when planned).
    public var reason: String
    /// Whether the plan came from the plan cache.
    public var cached: Bool

    /// A plan description.
    public init(mode: Mode, operators: [Operator], planned: Bool, reason: String = "", cached: Bool = false) {
        self.mode = mode; self.operators = operators; self.planned = planned; self.reason = reason; self.cached = cached
    }

    /// A text table of the operators (what the CLI prints).
    public var table: String {
        let note = planned ? (reason.isEmpty ? "" : " (\(reason))") : " (interpreted: \(reason))"
        var lines = ["\(mode.rawValue)\(note)\(cached ? ", plan cached" : "")"]
        for op in operators {
            var line = "+\(op.name)"
            if !op.details.isEmpty { line += "  \(op.details)" }
            if let rows = op.rows { line += "  rows=\(rows)" }
            if let ns = op.nanoseconds { line += "  time=\(Double(ns / 1_000) / 1_000)ms" }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}

extension QueryPlan.Mode {
    /// The mode a query asks for with a leading `EXPLAIN` or `PROFILE` (any case), and the
    /// query after it; nil and the whole text for a query without one.
    static func split(_ query: String) -> (mode: QueryPlan.Mode?, text: String) {
        // Bytes, not characters: this runs before every query.
        let bytes = query.utf8
        guard let first = bytes.firstIndex(where: { !Self.isSpace($0) }) else { return (nil, query) }
        for mode in [QueryPlan.Mode.explain, .profile] {
            var at = first
            var matched = true
            for letter in mode.rawValue.utf8 {
                guard at < bytes.endIndex, bytes[at] | 0x20 == letter | 0x20 else { matched = false; break }
                at = bytes.index(after: at)
            }
            guard matched, at < bytes.endIndex, Self.isSpace(bytes[at]) else { continue }
            return (mode, String(query[at...]))
        }
        return (nil, query)
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }
}
