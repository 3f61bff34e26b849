/// Static checks run before execution, so invalid queries fail even on an empty graph:
/// undefined variables, a variable used as two kinds (node, relationship, path, value),
/// re-binding in CREATE, unaliased WITH expressions, unknown functions, repeated column
/// names, nested aggregates, UNION parts with different columns, SKIP and LIMIT that are not
/// non-negative integer constants, and operands whose literal type can never be valid
/// (`123 AND true`, `NOT []`, `1 IN 2`, `'a'.name`). openCypher classes all of these as
/// SyntaxError, except a property read of a literal (TypeError).
struct Analyzer {
    /// The type of a literal expression (its raw value names it in messages).
    enum LiteralType: String {
        case boolean = "a boolean", number = "a number", string = "a string", list = "a list", map = "a map"
    }

    /// What a variable holds, as far as the text tells: `literal` for a value bound from a
    /// literal (`WITH 123 AS x`), with what `literalType` says of it.
    enum Kind: Equatable {
        case node, relationship, path, value, unknown, literal(LiteralType)

        /// A value (not a graph element), known or not which one.
        var holdsValue: Bool {
            if case .literal = self { return true }
            return self == .value
        }
    }

    static let implemented: Set<String> = Set([
        "id", "labels", "type", "keys", "properties", "startnode", "endnode", "size", "head", "last", "tail",
        "reverse", "tolower", "toupper", "abs", "tostring", "tointeger", "tofloat", "toboolean", "coalesce", "range",
        "count", "sum", "avg", "min", "max", "collect", "stdev", "stdevp", "percentilecont", "percentiledisc",
        "length", "nodes", "relationships",
        // list quantifiers (all(x IN l WHERE p) and friends; see Executor+Builtins)
        "all", "any", "none", "single",
    ]).union(Executor.builtinNames).union(Executor.temporalNames)
    /// Standard Cypher functions that are valid but not implemented here (reported as unsupported).
    static let standardNotImplemented: Set<String> = [
        "timestamp", "point", "distance", "randomuuid",
    ]

    static func check(_ q: Query) throws(GraphError) {
        for part in q.parts { try checkSingle(part) }
        // UNION parts must return the same columns, in order (known statically unless RETURN *).
        let columns = q.parts.map { part -> [String]? in
            guard case .ret(let p)? = part.last, !p.star else { return nil }
            return p.items.map(\.alias)
        }
        if let first = columns.first ?? nil, columns.contains(where: { $0 != nil && $0 != first }) {
            throw GraphError(.semantic, "all UNION parts must return the same columns in the same order")
        }
    }

    /// The procedures the query being checked can call: `check(_:procedures:)` binds them for
    /// the whole check (EXISTS subqueries included).
    @TaskLocal static var procedures = ProcedureCatalog.builtIn

    /// `check(q)` against `procedures`.
    static func check(_ q: Query, procedures: ProcedureCatalog) throws(GraphError) {
        try $procedures.withValue(procedures) { Result { () throws(GraphError) in try check(q) } }.get()
    }

    /// A CALL clause: the procedure exists, takes that many arguments (or, written without
    /// parentheses, is standalone or takes none), no literal argument has a type its input
    /// refuses, no argument aggregates, YIELD * only standalone, and each yielded output exists
    /// and is bound to a new name (in a query, a call without YIELD binds nothing).
    private static func checkCall(_ call: ProcedureCall, standalone: Bool, _ scope: inout [String: Kind]) throws(GraphError) {
        let procedure = try procedures.procedure(named: call.procedure)
        if let arguments = call.arguments {
            guard arguments.count == procedure.inputs.count else {
                let n = procedure.inputs.count
                throw GraphError(.semantic, "\(call.procedure) takes \(n) argument\(n == 1 ? "" : "s") "
                                 + "(\(procedure.inputs.map(\.name).joined(separator: ", "))), got \(arguments.count)")
            }
            for (argument, input) in zip(arguments, procedure.inputs) {
                try checkExpr(argument, scope)
                if Executor.containsAggregate(argument) {
                    throw GraphError(.semantic, "an argument of \(call.procedure) cannot aggregate; aggregate in a WITH before the CALL")
                }
                if let refused = literalRefused(argument, by: input) {
                    throw GraphError(.semantic, "\(call.procedure): \(input.name) is \(input.type.rawValue), not \(refused)")
                }
            }
        } else if !standalone && !procedure.inputs.isEmpty {
            throw GraphError(.semantic, "\(call.procedure) takes arguments: inside a query, pass them in parentheses "
                             + "(only a standalone CALL takes them from the parameters)")
        }
        if call.yieldsAll && !standalone {
            throw GraphError(.semantic, "YIELD * is only allowed in a standalone CALL; name the outputs to yield")
        }
        var named = Set<String>()
        for (field, alias) in call.yields ?? [] {
            guard let output = procedure.outputs.first(where: { $0.name == field }) else {
                throw GraphError(.semantic, "\(call.procedure) yields \(procedure.outputs.map(\.name).joined(separator: ", ")), not '\(field)'")
            }
            if scope[alias] != nil || !named.insert(alias).inserted {
                throw GraphError(.semantic, "variable '\(alias)' is already bound; YIELD \(field) AS another name")
            }
            switch output.type {
            case .node: scope[alias] = .node
            case .relationship: scope[alias] = .relationship
            case .path: scope[alias] = .path
            case .any: scope[alias] = .unknown
            default: scope[alias] = .value
            }
        }
        if let predicate = call.predicate { try checkExpr(predicate, scope) }
    }

    /// What a literal argument is, when `input` can never take it (`true` for an INTEGER).
    private static func literalRefused(_ argument: Expr, by input: GraphProcedure.Field) -> String? {
        switch argument {
        case .literal(let value), .negate(.literal(let value)):
            return GraphProcedure.argument(value, for: input) == nil ? "\(value)" : nil
        case .list:
            return GraphProcedure.argument(.list([]), for: input) == nil ? "a list" : nil
        case .map:
            return GraphProcedure.argument(.map([:]), for: input) == nil ? "a map" : nil
        default:
            return nil
        }
    }

    private static func bind(_ v: String, _ k: Kind, _ scope: inout [String: Kind]) throws(GraphError) {
        if let old = scope[v], old != .unknown, k != .unknown, old != k || k == .path {
            throw GraphError(.semantic, "variable '\(v)' is already bound as a \(old.holdsValue ? "value" : "\(old)"); use another name")
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
                // A variable-length relationship already bound to a value (a list of
                // relationships from an earlier clause) is the path to follow.
                if r.length != nil, let old = scope[v], old.holdsValue || old == .unknown {
                    if p.shortest != nil {
                        throw GraphError(.semantic, "shortestPath searches for its relationships: '\(v)' is already bound; use another name")
                    }
                    if case .literal(let type) = old, type != .list {
                        throw GraphError(.semantic, "variable '\(v)' holds \(type.rawValue), not a list of relationships to follow")
                    }
                    continue
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
            case .call(let call):
                try checkCall(call, standalone: clauses.count == 1, &scope)
            case .delete(_, let es):
                for e in es {
                    try checkExpr(e, scope)
                    if kind(of: e, scope).holdsValue { throw GraphError(.semantic, "DELETE needs nodes, relationships or paths") }
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
        var aliases = Set<String>()
        for it in p.items {
            try checkExpr(it.expr, scope)
            try checkNoNestedAggregate(it.expr)
            guard aliases.insert(it.alias).inserted else {
                throw GraphError(.semantic, "column name '\(it.alias)' is used twice; use AS to rename")
            }
            out[it.alias] = kind(of: it.expr, scope)
        }
        if isReturn && p.star && out.isEmpty { throw GraphError(.semantic, "RETURN * at least one variable in scope") }
        let aggregating = p.items.contains { Executor.containsAggregate($0.expr) }
        // An ORDER BY item that aggregates runs after the aggregation: outside its (projected)
        // aggregate calls it may use only the columns, the grouping keys, constants and parameters.
        var projectedCalls: [Expr] = []
        for it in p.items { Executor.aggregateCalls(it.expr, &projectedCalls) }
        let groupingKeys = p.items.map(\.expr).filter { !Executor.containsAggregate($0) } + p.items.map { Expr.variable($0.alias) }
        for (e, _) in p.orderBy {
            try checkNoNestedAggregate(e)
            try checkExpr(e, out.merging(scope) { a, _ in a })
            guard aggregating, Executor.containsAggregate(e), !p.items.contains(where: { $0.expr == e }) else { continue }
            var calls: [Expr] = []
            Executor.aggregateCalls(e, &calls)
            guard calls.allSatisfy(projectedCalls.contains) else {
                throw GraphError(.semantic, "ORDER BY may only use aggregates that are also projected; add it to WITH/RETURN")
            }
            try checkAggregateMix(e, groupingKeys)
        }
        if aggregating {
            let keys = p.items.map(\.expr).filter { !Executor.containsAggregate($0) }
            for it in p.items where Executor.containsAggregate(it.expr) { try checkAggregateMix(it.expr, keys) }
        }
        if !aggregating, p.orderBy.contains(where: { Executor.containsAggregate($0.0) }) {
            throw GraphError(.semantic, "ORDER BY cannot aggregate when WITH/RETURN does not; project the aggregate first")
        }
        for (bound, what) in [(p.skip, "SKIP"), (p.limit, "LIMIT")] { if let bound { try checkRowCount(bound, what) } }
        return out
    }

    /// SKIP and LIMIT take a constant: no variable, and a literal must be a non-negative
    /// integer (a parameter is checked when the query runs).
    private static func checkRowCount(_ e: Expr, _ what: String) throws(GraphError) {
        switch e {
        case .literal(.int(let n)) where n < 0:
            throw GraphError(.semantic, "\(what) must be a non-negative integer")
        case .negate(.literal(.int(let n))) where n > 0:
            throw GraphError(.semantic, "\(what) must be a non-negative integer")
        case .literal(let v) where !(v.isNull || { if case .int = v { return true }; return false }()):
            throw GraphError(.semantic, "\(what) must be a non-negative integer, got \(v)")
        default:
            guard variables(in: e).isEmpty else { throw GraphError(.semantic, "\(what) must be a constant expression (no variables)") }
        }
    }

    /// The variables an expression reads (subquery and pattern contents aside).
    private static func variables(in e: Expr) -> [String] {
        switch e {
        case .variable(let v): return [v]
        case .literal, .parameter, .countStar, .patternPredicate, .patternComprehension, .exists: return []
        case .property(let x, _), .not(let x), .negate(let x), .isNull(let x, _), .hasLabels(let x, _): return variables(in: x)
        case .list(let l), .map(_, let l), .function(_, _, let l): return l.flatMap(variables(in:))
        case .binary(_, let a, let b), .index(let a, let b): return variables(in: a) + variables(in: b)
        case .slice(let a, let b, let c): return variables(in: a) + (b.map(variables(in:)) ?? []) + (c.map(variables(in:)) ?? [])
        case .listComprehension(_, let l, _, _): return variables(in: l)
        case .reduce(_, let initial, _, let list, _): return variables(in: initial) + variables(in: list)
        case .caseExpr(let s, let w, let t, let el):
            return (s.map(variables(in:)) ?? []) + (w + t).flatMap(variables(in:)) + (el.map(variables(in:)) ?? [])
        }
    }

    /// An aggregate may not take an aggregate (`count(count(*))`), nor a random value
    /// (`count(rand())`: openCypher's NonConstantExpression).
    private static func checkNoNestedAggregate(_ e: Expr) throws(GraphError) {
        var calls: [Expr] = []
        Executor.aggregateCalls(e, &calls)
        for call in calls {
            guard case .function(let name, _, let args) = call else { continue }
            if args.contains(where: Executor.containsAggregate) {
                throw GraphError(.semantic, "aggregate functions cannot be nested")
            }
            if args.contains(where: { Executor.containsCall($0) { $0 == "rand" } }) {
                throw GraphError(.semantic, "\(name)() cannot aggregate rand(): its value differs on every row; aggregate a value computed in a WITH before")
            }
        }
    }

    /// Outside its aggregate calls, an aggregating expression may use only constants,
    /// parameters, grouping keys that are plain variables or property reads, and the variables
    /// of list comprehensions (and quantifiers) over it: `[x IN collect(r) WHERE x <> null]`.
    private static func checkAggregateMix(_ e: Expr, _ keys: [Expr], locals: Set<String> = []) throws(GraphError) {
        func mixed() -> GraphError {
            GraphError(.semantic, "an expression mixing aggregates may only use grouping keys, constants and parameters")
        }
        func each(_ parts: [Expr?]) throws(GraphError) { for x in parts { if let x { try checkAggregateMix(x, keys, locals: locals) } } }
        /// Evaluated once per element: an aggregate has no group there.
        func perElement(_ part: Expr, _ names: [String], _ construct: String) throws(GraphError) {
            guard !Executor.containsAggregate(part) else {
                throw GraphError(.semantic, "aggregate functions cannot be used in \(construct)")
            }
            try checkAggregateMix(part, keys, locals: locals.union(names))
        }
        switch e {
        case .countStar, .literal, .parameter: return
        case .function(let n, _, let args):
            if Executor.aggregateNames.contains(n) { return }
            try each(args)
        case .variable(let v), .property(.variable(let v), _):
            // Only a grouping key this simple may be reused: `a.x + b.x + count(*)` is ambiguous
            // even when `a.x + b.x` is projected (the TCK's AmbiguousAggregationExpression).
            guard locals.contains(v) || keys.contains(e) else { throw mixed() }
        case .listComprehension(let v, let list, let predicate, let projection):
            try checkAggregateMix(list, keys, locals: locals)
            for part in [predicate, projection].compactMap({ $0 }) {
                try perElement(part, [v], "a list comprehension's predicate or projection")
            }
        case .reduce(let accumulator, let initial, let v, let list, let expression):
            try each([initial, list])
            try perElement(expression, [accumulator, v], "a reduce's expression")
        // `collect(x)[0]`, `collect(n)[0].name`, `CASE WHEN count(*) > 1 THEN ... END`: built from
        // the group's aggregates and keys.
        case .property(let x, _), .hasLabels(let x, _), .not(let x), .negate(let x), .isNull(let x, _):
            try checkAggregateMix(x, keys, locals: locals)
        case .index(let a, let b): try each([a, b])
        case .slice(let a, let b, let c): try each([a, b, c])
        case .caseExpr(let subject, let whens, let thens, let otherwise): try each([subject, otherwise] + whens + thens)
        case .patternPredicate, .patternComprehension, .exists:
            throw mixed()
        case .list(let l), .map(_, let l): try each(l)
        case .binary(_, let a, let b): try each([a, b])
        }
    }

    /// What a projected expression is known to hold; `.unknown` when only run time can tell.
    private static func kind(of e: Expr, _ scope: [String: Kind]) -> Kind {
        switch e {
        case .variable(let v): return scope[v] ?? .unknown
        case .literal(let v): return v.isNull ? .unknown : literalType(e, scope).map(Kind.literal) ?? .value
        case .list, .map: return literalType(e, scope).map(Kind.literal) ?? .value
        case .binary, .not, .negate, .isNull, .hasLabels: return .value
        default: return .unknown
        }
    }

    /// What a literal (or list or map literal) expression is, or a variable bound from one; nil
    /// when only run time can tell.
    private static func literalType(_ e: Expr, _ scope: [String: Kind]) -> LiteralType? {
        switch e {
        case .variable(let v):
            if case .literal(let type)? = scope[v] { return type }
            return nil
        case .literal(.bool): return .boolean
        case .literal(.int), .literal(.float), .negate(.literal(.int)), .negate(.literal(.float)): return .number
        case .literal(.string): return .string
        case .literal(.list), .list: return .list
        case .literal(.map), .map: return .map
        default: return nil
        }
    }

    /// The one literal type of every element of a list literal (`['Clara', 'Bob']`: string);
    /// nil when it is empty, mixed, holds a null or is not a literal.
    private static func elementType(of list: Expr, _ scope: [String: Kind]) -> LiteralType? {
        let types: [LiteralType?]
        switch list {
        case .literal(.list(let values)): types = values.map { $0.isNull ? nil : literalType(.literal($0), scope) }
        case .list(let elements): types = elements.map { literalType($0, scope) }
        default: return nil
        }
        guard let first = types.first, let type = first, types.allSatisfy({ $0 == type }) else { return nil }
        return type
    }

    /// Operands that can never be valid, whatever the data: non-boolean literals for AND, OR,
    /// XOR and NOT, non-numbers for % - * / ^, a non-list literal right of IN, a property read of
    /// a literal that is not a map, properties() of a literal that is not a map, labels() of a path.
    private static func checkLiteralTypes(_ e: Expr, _ scope: [String: Kind]) throws(GraphError) {
        func invalid(_ message: String, _ cypherClass: CypherErrorClass = .syntaxError) -> GraphError {
            GraphError(.semantic, message, cypherClass: cypherClass)
        }
        switch e {
        case .binary(let op, let a, let b) where op == "AND" || op == "OR" || op == "XOR":
            for side in [a, b] {
                if let type = literalType(side, scope), type != .boolean { throw invalid("\(op) expects booleans, got \(type.rawValue)") }
            }
        case .not(let x):
            if let type = literalType(x, scope), type != .boolean { throw invalid("NOT expects a boolean, got \(type.rawValue)") }
        case .binary(let op, let a, let b) where ["%", "-", "*", "/", "^"].contains(op):
            for side in [a, b] {
                if let type = literalType(side, scope), type != .number { throw invalid("\(op) expects numbers, got \(type.rawValue)") }
            }
        case .binary("IN", _, let b):
            if let type = literalType(b, scope), type != .list { throw invalid("IN expects a list on the right, got \(type.rawValue)") }
        case .property(let x, let key):
            if let type = literalType(x, scope), type != .map { throw invalid("cannot read property '\(key)' of \(type.rawValue)", .typeError) }
        case .function("properties", _, let args):
            if let type = args.first.flatMap({ literalType($0, scope) }), type != .map { throw invalid("properties() cannot take \(type.rawValue)") }
        case .function("labels", _, let args):
            if let first = args.first, kind(of: first, scope) == .path || literalType(first, scope) != nil {
                throw invalid("labels() takes a node, not \(literalType(first, scope)?.rawValue ?? "a path")")
            }
        case .function("length", _, let args):
            if let first = args.first, case let k = kind(of: first, scope), k == .node || k == .relationship {
                throw invalid("length() takes a path, not a \(k == .node ? "node" : "relationship"); size() counts a list or a string")
            }
        case .function("size", _, let args):
            // Not a relationship variable: a variable-length one holds a list.
            if let first = args.first, case let k = kind(of: first, scope), k == .node || k == .path {
                throw invalid("size() takes a list or a string, not a \(k == .node ? "node" : "path"); length() measures a path")
            }
        default: break
        }
    }

    static func checkExpr(_ e: Expr, _ scope: [String: Kind]) throws(GraphError) {
        try checkLiteralTypes(e, scope)
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
            inner[v] = elementType(of: l, scope).map(Kind.literal) ?? .unknown
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
