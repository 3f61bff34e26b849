/// Cypher abstract syntax.
indirect enum Expr: Hashable, Sendable {
    case literal(Value)
    case variable(String)
    case parameter(String)
    case property(Expr, String)
    case list([Expr])
    case map([String], [Expr])
    case binary(String, Expr, Expr)   // op: + - * / % ^ = <> < > <= >= AND OR XOR IN STARTS ENDS CONTAINS
    case not(Expr)
    case negate(Expr)
    case isNull(Expr, negated: Bool)
    case function(String, distinct: Bool, [Expr])   // name lower-cased
    case countStar
    case index(Expr, Expr)
    case slice(Expr, Expr?, Expr?)
    case hasLabels(Expr, [String])
    case caseExpr(Expr?, [Expr], [Expr], Expr?)
    /// `[v IN list WHERE predicate | projection]`.
    case listComprehension(String, Expr, Expr?, Expr?)
    /// `reduce(accumulator = initial, v IN list | expression)`.
    case reduce(accumulator: String, initial: Expr, variable: String, list: Expr, expression: Expr)
    /// A pattern as a predicate, `(a)-[:KNOWS]->(b)`: true when it matches at least once.
    case patternPredicate(Subpattern)
    /// `[(a)-->(b) WHERE predicate | projection]`: the projection of every match.
    case patternComprehension(Subpattern)
    /// `EXISTS { ... }`: true when the subquery (the outer row's variables in scope) has a row.
    case exists(Subquery)
}

/// A pattern inside an expression, with its WHERE and (for comprehensions) projection.
/// Compared by identity: it is not a grouping key.
final class Subpattern: Hashable, Sendable {
    let part: PatternPart
    let predicate: Expr?
    let projection: Expr?

    init(_ part: PatternPart, predicate: Expr? = nil, projection: Expr? = nil) {
        self.part = part; self.predicate = predicate; self.projection = projection
    }

    static func == (a: Subpattern, b: Subpattern) -> Bool { a === b }
    func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}

/// The clauses of an `EXISTS { }` subquery, ending in a RETURN. Compared by identity.
final class Subquery: Hashable, Sendable {
    let clauses: [Clause]

    init(_ clauses: [Clause]) { self.clauses = clauses }

    static func == (a: Subquery, b: Subquery) -> Bool { a === b }
    func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}

enum Direction: Sendable { case outgoing, incoming, both }

struct NodePattern: Sendable {
    var variable: String?
    var labels: [String]
    var properties: Expr?
}

struct RelPattern: Sendable {
    var variable: String?
    var types: [String]
    var properties: Expr?
    var direction: Direction
    var length: (min: Int, max: Int?)?
}

struct PatternPart: Sendable {
    /// `shortestPath(...)` finds one shortest path per end node, `allShortestPaths(...)` all of them.
    enum Shortest: Sendable { case one, all }

    var pathVariable: String?
    var start: NodePattern
    var steps: [(RelPattern, NodePattern)]
    /// Set for `shortestPath` / `allShortestPaths` (then `steps` has exactly one relationship).
    var shortest: Shortest? = nil
}

struct ProjectionItem: Sendable {
    var expr: Expr
    var alias: String
}

struct Projection: Sendable {
    var star: Bool
    var distinct: Bool
    var items: [ProjectionItem]
    var orderBy: [(Expr, Bool)]   // (expr, ascending)
    var skip: Expr?
    var limit: Expr?
}

enum SetItem: Sendable {
    case property(Expr, String, Expr)
    case replace(String, Expr)
    case merge(String, Expr)
    case labels(String, [String])
}

enum RemoveItem: Sendable {
    case property(Expr, String)
    case labels(String, [String])
}

enum Clause: Sendable {
    case match(optional: Bool, [PatternPart], Expr?)
    case create([PatternPart])
    case merge(PatternPart, onCreate: [SetItem], onMatch: [SetItem])
    case with(Projection, Expr?)
    case ret(Projection)
    case unwind(Expr, String)
    case set([SetItem])
    case remove([RemoveItem])
    case delete(detach: Bool, [Expr])
    /// `CALL procedure(arguments) [YIELD * | YIELD field [AS alias], ... [WHERE predicate]]`.
    case call(ProcedureCall)

    /// True for clauses that change the graph.
    var isUpdating: Bool {
        switch self {
        case .create, .merge, .set, .remove, .delete: return true
        case .match, .with, .ret, .unwind, .call: return false
        }
    }

    var isCall: Bool {
        if case .call = self { return true }
        return false
    }
}

/// A CALL clause.
struct ProcedureCall: Sendable {
    /// The procedure's dotted name.
    var procedure: String
    /// The argument expressions; nil when written without parentheses (`CALL db.labels`): a
    /// standalone call then takes each input from the parameter of its name.
    var arguments: [Expr]?
    /// The outputs named after YIELD, each under its alias; nil without YIELD (a standalone
    /// call returns every output, a call inside a query binds none) and for `YIELD *`.
    var yields: [(field: String, alias: String)]?
    /// `YIELD *`: every output under its own name (standalone calls only).
    var yieldsAll = false
    /// `YIELD ... WHERE predicate`.
    var predicate: Expr?

    /// What the call binds: each yielded output's position in a record and its alias (every
    /// output for `YIELD *` and for a standalone call without YIELD, none for a call inside a
    /// query without YIELD); the name of an output `procedure` does not have as the failure.
    func bindings(_ procedure: GraphProcedure, standalone: Bool) -> Result<[(output: Int, alias: String)], UnknownOutput> {
        guard let yields else {
            return .success(yieldsAll || standalone ? procedure.outputs.enumerated().map { ($0.offset, $0.element.name) } : [])
        }
        var bound: [(output: Int, alias: String)] = []
        for (field, alias) in yields {
            guard let k = procedure.outputs.firstIndex(where: { $0.name == field }) else { return .failure(UnknownOutput(name: field)) }
            bound.append((k, alias))
        }
        return .success(bound)
    }

    struct UnknownOutput: Error { let name: String }
}

struct Query: Sendable {
    var parts: [[Clause]]
    var unionAll: [Bool]   // one per UNION between parts

    /// Whether a clause changes the graph (CREATE, MERGE, SET, REMOVE, DELETE).
    var writes: Bool { parts.contains { $0.contains(where: \.isUpdating) } }
}
