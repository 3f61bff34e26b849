/// Static checks run before execution, so invalid queries fail even on an empty graph:
/// undefined variables, a variable used as two kinds (node, relationship, path, value),
/// re-binding in CREATE, unaliased WITH expressions and unknown functions.
struct Analyzer {
    enum Kind { case node, relationship, path, value, unknown }

    static let implemented: Set<String> = Set([
        "id", "labels", "type", "keys", "properties", "startnode", "endnode", "size", "head", "last", "tail",
        "reverse", "tolower", "toupper", "abs", "tostring", "tointeger", "tofloat", "toboolean", "coalesce", "range",
        "count", "sum", "avg", "min", "max", "collect", "length", "nodes", "relationships",
        // list quantifiers (all(x IN l WHERE p) and friends; see Executor+Builtins)
        "all", "any", "none", "single",
    ]).union(Executor.builtinNames)
    /// Standard Cypher functions that are valid but not implemented here (reported as unsupported).
    static let standardNotImplemented: Set<String> = [
        "date", "datetime", "localtime", "localdatetime", "time", "duration",
        "percentilecont", "percentiledisc", "stdev", "stdevp", "timestamp", "point", "distance", "randomuuid",
    ]

    static func check(_ q: Query) throws(GraphError) {
        for part in q.parts { try checkSingle(part) }
    }

    private static func bind(_ v: String, _ k: Kind, _ scope: inout [String: Kind]) throws(GraphError) {
        if let old = scope[v], old != .unknown, k != .unknown, old != k || k == .path {
            throw GraphError(.semantic, "variable '\(v)' is already bound as a \(old); use another name")
        }
        scope[v] = k
    }

    private static func checkPattern(_ p: PatternPart, _ scope: inout [String: Kind], creating: Bool,
                                     relsSeen: inout Set<String>, merging: Bool = false) throws(GraphError) {
        if let v = p.pathVariable { try bind(v, .path, &scope) }
        var nodes = [p.start]
        for (_, n) in p.steps { nodes.append(n) }
        for n in nodes {
            if let v = n.variable {
                if creating, scope[v] != nil, !(n.labels.isEmpty && n.properties == nil) || p.steps.isEmpty {
                    throw GraphError(.semantic, "variable '\(v)' is already bound; CREATE cannot create it again")
                }
                try bind(v, .node, &scope)
            }
        }
        for (r, _) in p.steps {
            if creating {
                guard r.types.count == 1, r.length == nil, merging || r.direction != .both else {
                    throw GraphError(.semantic, "CREATE/MERGE needs one relationship type, a direction and no variable length")
                }
            }
            if let v = r.variable {
                if (creating && scope[v] != nil) || !relsSeen.insert(v).inserted {
                    throw GraphError(.semantic, "relationship variable '\(v)' is already bound")
                }
                try bind(v, .relationship, &scope)
            }
        }
        if !creating || merging {
            let maps = nodes.compactMap(\.properties) + p.steps.compactMap(\.0.properties)
            if maps.contains(where: { if case .parameter = $0 { return true }; return false }) {
                throw GraphError(.semantic, "a parameter cannot be used as a whole property map in MATCH or MERGE; write {key: $param}")
            }
        }
        for n in nodes { if let e = n.properties { try checkExpr(e, scope) } }
        for (r, _) in p.steps { if let e = r.properties { try checkExpr(e, scope) } }
    }

    private static func checkSingle(_ clauses: [Clause], scope outer: [String: Kind] = [:]) throws(GraphError) {
        var scope = outer
        for c in clauses {
            switch c {
            case .match(_, let parts, let w):
                var seen = Set<String>()
                for p in parts { try checkPattern(p, &scope, creating: false, relsSeen: &seen) }
                if let w { try checkExpr(w, scope) }
            case .create(let parts):
                var seen = Set<String>()
                for p in parts { try checkPattern(p, &scope, creating: true, relsSeen: &seen) }
            case .merge(let p, let a, let b):
                var seen = Set<String>()
                try checkPattern(p, &scope, creating: true, relsSeen: &seen, merging: true)
                try checkSet(a + b, scope)
            case .unwind(let e, let v):
                try checkExpr(e, scope)
                if scope[v] != nil { throw GraphError(.semantic, "variable '\(v)' is already bound") }
                scope[v] = .unknown
            case .with(let p, let w):
                let newScope = try checkProjection(p, scope, isReturn: false)
                if let w { try checkExpr(w, newScope.merging(scope) { a, _ in a }) }
                scope = newScope
            case .ret(let p):
                _ = try checkProjection(p, scope, isReturn: true)
            case .set(let items): try checkSet(items, scope)
            case .remove(let items):
                for it in items {
                    switch it {
                    case .property(let e, _): try checkExpr(e, scope)
                    case .labels(let v, _): try checkExpr(.variable(v), scope)
                    }
                }
            case .call(let name, let arguments, let yields, let predicate):
                let procedure = try Executor.procedure(named: name, arguments: arguments.count)
                for a in arguments { try checkExpr(a, scope) }
                for (field, alias) in yields ?? procedure.outputs.map({ ($0.name, $0.name) }) {
                    guard let output = procedure.outputs.first(where: { $0.name == field }) else {
                        throw GraphError(.semantic, "\(name) yields \(procedure.outputs.map(\.name).joined(separator: ", ")), not '\(field)'")
                    }
                    if scope[alias] != nil { throw GraphError(.semantic, "variable '\(alias)' is already bound; YIELD \(field) AS another name") }
                    scope[alias] = output.kind
                }
                if let predicate { try checkExpr(predicate, scope) }
            case .delete(_, let es):
                for e in es {
                    try checkExpr(e, scope)
                    if kind(of: e, scope) == .value { throw GraphError(.semantic, "DELETE needs nodes, relationships or paths") }
                }
            }
        }
    }

    private static func checkSet(_ items: [SetItem], _ scope: [String: Kind]) throws(GraphError) {
        for it in items {
            switch it {
            case .property(let t, _, let e): try checkExpr(t, scope); try checkExpr(e, scope)
            case .replace(let v, let e), .merge(let v, let e): try checkExpr(.variable(v), scope); try checkExpr(e, scope)
            case .labels(let v, _): try checkExpr(.variable(v), scope)
            }
        }
    }

    private static func checkProjection(_ p: Projection, _ scope: [String: Kind], isReturn: Bool) throws(GraphError) -> [String: Kind] {
        var out: [String: Kind] = p.star ? scope : [:]
        for it in p.items {
            try checkExpr(it.expr, scope)
            out[it.alias] = kind(of: it.expr, scope)
        }
        let orderScope = out.merging(scope) { a, _ in a }
        if isReturn && p.star && out.isEmpty { throw GraphError(.semantic, "RETURN * at least one variable in scope") }
        for (e, _) in p.orderBy { try checkExpr(e, orderScope) }
        let aggregating = p.items.contains { Executor.containsAggregate($0.expr) }
        if aggregating {
            let keys = p.items.map(\.expr).filter { !Executor.containsAggregate($0) }
            for it in p.items where Executor.containsAggregate(it.expr) { try checkAggregateMix(it.expr, keys) }
        }
        if !aggregating, p.orderBy.contains(where: { Executor.containsAggregate($0.0) }) {
            throw GraphError(.semantic, "ORDER BY cannot aggregate when WITH/RETURN does not; project the aggregate first")
        }
        return out
    }

    /// Outside its aggregate calls, an aggregating expression may use only constants,
    /// parameters and grouping keys that are plain variables or property reads.
    private static func checkAggregateMix(_ e: Expr, _ keys: [Expr]) throws(GraphError) {
        switch e {
        case .countStar, .literal, .parameter: return
        case .function(let n, _, let args):
            if Executor.aggregateNames.contains(n) { return }
            for a in args { try checkAggregateMix(a, keys) }
        case .variable, .property(.variable, _):
            guard keys.contains(e) else {
                throw GraphError(.semantic, "an expression mixing aggregates may only use grouping keys, constants and parameters")
            }
        case .property, .hasLabels, .index, .slice, .listComprehension, .reduce, .caseExpr, .patternPredicate,
             .patternComprehension, .exists:
            throw GraphError(.semantic, "an expression mixing aggregates may only use grouping keys, constants and parameters")
        case .not(let x), .negate(let x), .isNull(let x, _): try checkAggregateMix(x, keys)
        case .list(let l), .map(_, let l): for x in l { try checkAggregateMix(x, keys) }
        case .binary(_, let a, let b): try checkAggregateMix(a, keys); try checkAggregateMix(b, keys)
        }
    }

    /// What a projected expression is known to hold; `.unknown` when only run time can tell.
    private static func kind(of e: Expr, _ scope: [String: Kind]) -> Kind {
        switch e {
        case .variable(let v): return scope[v] ?? .unknown
        case .literal(let v): return v.isNull ? .unknown : .value
        case .list, .map, .binary, .not, .negate, .isNull, .hasLabels: return .value
        default: return .unknown
        }
    }

    static func checkExpr(_ e: Expr, _ scope: [String: Kind]) throws(GraphError) {
        switch e {
        case .variable(let v):
            guard scope[v] != nil else { throw GraphError(.semantic, "variable '\(v)' is not defined") }
        case .literal, .parameter, .countStar: break
        case .function(let n, _, let args):
            if n == "size", case .patternPredicate? = args.first {
                throw GraphError(.semantic, "size() of a pattern predicate is not allowed; count matches with size([(a)-->(b) | b]) or use EXISTS { }")
            }
            if !implemented.contains(n) {
                if standardNotImplemented.contains(n) { throw GraphError(.unsupported, "function \(n)() is not supported yet") }
                throw GraphError(.semantic, "unknown function \(n)()")
            }
            for a in args { try checkExpr(a, scope) }
        case .property(let x, _), .not(let x), .negate(let x), .isNull(let x, _), .hasLabels(let x, _): try checkExpr(x, scope)
        case .list(let l), .map(_, let l): for x in l { try checkExpr(x, scope) }
        case .binary(_, let a, let b), .index(let a, let b): try checkExpr(a, scope); try checkExpr(b, scope)
        case .slice(let a, let b, let c):
            try checkExpr(a, scope)
            if let b { try checkExpr(b, scope) }
            if let c { try checkExpr(c, scope) }
        case .listComprehension(let v, let l, let p, let m):
            try checkExpr(l, scope)
            var inner = scope
            inner[v] = .unknown
            if let p { try checkExpr(p, inner) }
            if let m { try checkExpr(m, inner) }
        case .patternPredicate(let sub), .patternComprehension(let sub):
            var inner = scope
            var seen = Set<String>()
            try checkPattern(sub.part, &inner, creating: false, relsSeen: &seen)
            if let p = sub.predicate { try checkExpr(p, inner) }
            if let m = sub.projection { try checkExpr(m, inner) }
        case .exists(let subquery):
            try checkSingle(subquery.clauses, scope: scope)
        case .reduce(let accumulator, let initial, let v, let list, let expression):
            try checkExpr(initial, scope)
            try checkExpr(list, scope)
            var inner = scope
            inner[accumulator] = .unknown
            inner[v] = .unknown
            try checkExpr(expression, inner)
        case .caseExpr(let s, let w, let t, let el):
            if let s { try checkExpr(s, scope) }
            for x in w + t { try checkExpr(x, scope) }
            if let el { try checkExpr(el, scope) }
        }
    }
}
