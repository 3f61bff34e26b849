/// Recursive-descent Cypher parser. Errors carry line:column; unsupported syntax is
/// reported as `.unsupported`, never silently misparsed.
struct Parser {
    /// Deepest expression/pattern nesting accepted.
    static let maxDepth = 200
    /// Most clauses in one query part: the executor pushes each row through one stage per
    /// clause recursively, so a long chain of clauses overflowed a worker thread's 8 MiB stack
    /// in a debug build (a fuzzer's 514 `MATCH ()`; 500 `OPTIONAL MATCH ()`, 3,000 `WITH`).
    /// At most 250 clauses that read or project (MATCH, OPTIONAL MATCH, WITH, UNWIND, MERGE,
    /// CALL, and the updating SET, REMOVE, DELETE) stay near half of it; CREATE stages cost
    /// little stack (5,000 ran), and the TCK creates its movie graph with 759 of them, so
    /// CREATE counts only towards `maxAllClauses`.
    static let maxClauses = 250
    /// Most clauses of any kind in one query part.
    static let maxAllClauses = 2_000

    private var tokens: [Token]
    private var source: [Unicode.Scalar] = []
    private var pos = 0
    private var depth = 0
    /// Pattern parses tried at each token position (see `attemptPattern`).
    private var patternAttempts: [Int: (PatternPart, Int)?] = [:]
    private var anon = 0

    static func parse(_ text: String) throws(GraphError) -> Query {
        var p = Parser(tokens: try Lexer.tokenize(text))
        p.source = Array(text.unicodeScalars)
        return try p.query()
    }

    /// One expression and nothing else (e.g. a hybrid search filter).
    static func parseExpression(_ text: String) throws(GraphError) -> Expr {
        var p = Parser(tokens: try Lexer.tokenize(text))
        p.source = Array(text.unicodeScalars)
        let e = try p.expr()
        guard p.cur.kind == .end else { throw p.err("unexpected input after the expression") }
        return e
    }

    private init(tokens: [Token]) { self.tokens = tokens }

    // MARK: token helpers
    private var cur: Token { tokens[min(pos, tokens.count - 1)] }
    private func err(_ m: String, _ code: GraphError.Code = .syntax) -> GraphError {
        GraphError(code, "\(cur.line):\(cur.column): \(m)")
    }
    private func isKw(_ k: String, _ o: Int = 0) -> Bool {
        let t = tokens[min(pos + o, tokens.count - 1)]
        if case .identifier(let s) = t.kind { return s.uppercased() == k }
        return false
    }
    private mutating func kw(_ k: String) -> Bool { if isKw(k) { pos += 1; return true }; return false }
    private mutating func expectKw(_ k: String) throws(GraphError) { guard kw(k) else { throw err("expected \(k)") } }
    private func isSym(_ s: String, _ o: Int = 0) -> Bool {
        tokens[min(pos + o, tokens.count - 1)].kind == .symbol(s)
    }
    private mutating func sym(_ s: String) -> Bool { if isSym(s) { pos += 1; return true }; return false }
    private mutating func expect(_ s: String) throws(GraphError) { guard sym(s) else { throw err("expected '\(s)'") } }
    private mutating func name() throws(GraphError) -> String {
        switch cur.kind {
        case .identifier(let s), .quotedIdentifier(let s): pos += 1; return s
        default: throw err("expected a name")
        }
    }
    /// One more link in a left-nested chain (`a + b + c`, `x.a.b`): it deepens the tree too.
    private mutating func chain(_ n: inout Int) throws(GraphError) {
        try enter()
        n += 1
    }
    private mutating func enter() throws(GraphError) {
        depth += 1
        guard depth <= Self.maxDepth else { throw err("nesting deeper than \(Self.maxDepth)", .limitExceeded) }
    }

    // MARK: query structure
    private mutating func query() throws(GraphError) -> Query {
        var q = Query(parts: [try singleQuery()], unionAll: [])
        while kw("UNION") {
            q.unionAll.append(kw("ALL"))
            if q.unionAll.first != q.unionAll.last { throw err("UNION and UNION ALL cannot be mixed in one query", .semantic) }
            q.parts.append(try singleQuery())
        }
        _ = sym(";")
        guard cur.kind == .end else { throw err("unexpected input after the end of the query") }
        return q
    }

    private static let clauseWords: Set<String> = ["MATCH", "OPTIONAL", "CREATE", "MERGE", "WITH", "RETURN", "UNWIND", "SET", "REMOVE", "DELETE", "DETACH"]

    private mutating func singleQuery() throws(GraphError) -> [Clause] {
        var clauses: [Clause] = []
        while true {
            if isKw("UNION") || cur.kind == .end || isSym(";") || isSym("}") { break }
            let stacked = clauses.count { if case .create = $0 { false } else { true } }
            guard stacked < Self.maxClauses, clauses.count < Self.maxAllClauses else {
                throw err("more than \(Self.maxClauses) clauses (\(Self.maxAllClauses) counting CREATE) in one query; "
                          + "split it, or use UNWIND over a list", .limitExceeded)
            }
            if kw("OPTIONAL") { try expectKw("MATCH"); clauses.append(try match(optional: true)) }
            else if kw("MATCH") { clauses.append(try match(optional: false)) }
            else if kw("CREATE") { clauses.append(.create(try noShortest(try patternList(), "CREATE"))) }
            else if kw("MERGE") { clauses.append(try merge()) }
            else if kw("WITH") {
                let p = try projection(requireAlias: true)
                let w = kw("WHERE") ? try expr() : nil
                clauses.append(.with(p, w))
            } else if kw("RETURN") { clauses.append(.ret(try projection(requireAlias: false))) }
            else if kw("UNWIND") {
                let e = try expr(); try expectKw("AS"); clauses.append(.unwind(e, try name()))
            } else if kw("SET") { clauses.append(.set(try setItems())) }
            else if kw("REMOVE") { clauses.append(.remove(try removeItems())) }
            else if kw("DETACH") { try expectKw("DELETE"); clauses.append(.delete(detach: true, try exprList())) }
            else if kw("DELETE") { clauses.append(.delete(detach: false, try exprList())) }
            else if isKw("CALL") && !isSym("{", 1) { pos += 1; clauses.append(try call()) }
            else if case .identifier(let w) = cur.kind, ["CALL", "FOREACH", "LOAD", "USE", "SHOW"].contains(w.uppercased()) {
                throw err("\(w.uppercased()) is not supported yet", .unsupported)
            } else { throw err("expected a clause (MATCH, CREATE, RETURN, ...)") }
        }
        guard !clauses.isEmpty else { throw err("empty query") }
        return clauses
    }

    private mutating func exprList() throws(GraphError) -> [Expr] {
        var l = [try expr()]
        while sym(",") { l.append(try expr()) }
        return l
    }

    private mutating func match(optional: Bool) throws(GraphError) -> Clause {
        let ps = try patternList()
        let w = kw("WHERE") ? try expr() : nil
        return .match(optional: optional, ps, w)
    }

    /// After CALL: `ns.name[(args)] [YIELD * | field [AS alias], ... [WHERE predicate]]`.
    private mutating func call() throws(GraphError) -> Clause {
        var procedure = try name()
        while sym(".") { procedure += "." + (try name()) }
        var call = ProcedureCall(procedure: procedure)
        if sym("(") {
            call.arguments = isSym(")") ? [] : try exprList()
            try expect(")")
        }
        guard kw("YIELD") else { return .call(call) }
        if sym("*") {
            call.yieldsAll = true
            return .call(call)
        }
        var yields: [(field: String, alias: String)] = []
        repeat {
            let field = try name()
            yields.append((field, kw("AS") ? try name() : field))
        } while sym(",")
        call.yields = yields
        call.predicate = kw("WHERE") ? try expr() : nil
        return .call(call)
    }

    /// `parts` unless one is a shortestPath, which only MATCH can use.
    private func noShortest(_ parts: [PatternPart], _ clause: String) throws(GraphError) -> [PatternPart] {
        guard !parts.contains(where: { $0.shortest != nil }) else { throw err("\(clause) cannot use shortestPath; only MATCH can") }
        return parts
    }

    private mutating func merge() throws(GraphError) -> Clause {
        guard let p = try noShortest([try patternPart()], "MERGE").first else { throw err("MERGE needs a pattern") }
        var onCreate: [SetItem] = [], onMatch: [SetItem] = []
        while isKw("ON") {
            pos += 1
            if kw("CREATE") { try expectKw("SET"); onCreate += try setItems() }
            else if kw("MATCH") { try expectKw("SET"); onMatch += try setItems() }
            else { throw err("expected CREATE or MATCH after ON") }
        }
        return .merge(p, onCreate: onCreate, onMatch: onMatch)
    }

    /// `:A:B` after a variable.
    private mutating func labelList() throws(GraphError) -> [String] {
        var ls: [String] = []
        while sym(":") { ls.append(try name()) }
        return ls
    }

    /// `.a.b.c` after variable `v`: the map or entity holding the last key, and that key.
    private mutating func propertyTarget(_ v: String) throws(GraphError) -> (Expr, String) {
        var target = Expr.variable(v)
        try expect(".")
        var key = try name()
        // Each link nests the target one level deeper, like `x.a.b` in an expression.
        var n = 0; defer { depth -= n }
        while sym(".") { try chain(&n); target = .property(target, key); key = try name() }
        return (target, key)
    }

    private mutating func setItems() throws(GraphError) -> [SetItem] {
        var items: [SetItem] = []
        repeat {
            let v = try name()
            if isSym(":") { items.append(.labels(v, try labelList())) }
            else if sym("=") { items.append(.replace(v, try expr())) }
            else if sym("+=") { items.append(.merge(v, try expr())) }
            else {
                let (target, key) = try propertyTarget(v)
                try expect("=")
                items.append(.property(target, key, try expr()))
            }
        } while sym(",")
        return items
    }

    private mutating func removeItems() throws(GraphError) -> [RemoveItem] {
        var items: [RemoveItem] = []
        repeat {
            let v = try name()
            if isSym(":") { items.append(.labels(v, try labelList())) }
            else {
                let (target, key) = try propertyTarget(v)
                items.append(.property(target, key))
            }
        } while sym(",")
        return items
    }

    private mutating func projection(requireAlias: Bool) throws(GraphError) -> Projection {
        var p = Projection(star: false, distinct: kw("DISTINCT"), items: [], orderBy: [], skip: nil, limit: nil)
        if sym("*") { p.star = true; if !sym(",") { return try projectionTail(p) } }
        repeat {
            let start = pos
            let e = try expr()
            let alias: String
            if kw("AS") { alias = try name() }
            else if case .variable(let v) = e { alias = v }
            else if requireAlias { throw err("expression in WITH must be aliased (use AS)", .semantic) }
            else { alias = text(from: start, to: pos) }
            p.items.append(ProjectionItem(expr: e, alias: alias))
        } while sym(",")
        return try projectionTail(p)
    }

    private mutating func projectionTail(_ p0: Projection) throws(GraphError) -> Projection {
        var p = p0
        if kw("ORDER") {
            try expectKw("BY")
            repeat {
                let e = try expr()
                var asc = true
                if kw("DESC") || kw("DESCENDING") { asc = false } else { _ = kw("ASC") || kw("ASCENDING") }
                p.orderBy.append((e, asc))
            } while sym(",")
        }
        if kw("SKIP") { p.skip = try expr() }
        if kw("LIMIT") { p.limit = try expr() }
        return p
    }

    /// The source text of tokens `a..<b`, used as the column name of an unaliased expression.
    private func text(from a: Int, to b: Int) -> String {
        guard a < b, b - 1 < tokens.count else { return "" }
        let lo = tokens[a].start, hi = tokens[b - 1].end
        guard lo <= hi, hi <= source.count else { return "" }
        var s = ""
        s.unicodeScalars.append(contentsOf: source[lo..<hi])
        return s
    }

    // MARK: patterns
    private mutating func patternList() throws(GraphError) -> [PatternPart] {
        var l = [try patternPart()]
        var elements = l[0].steps.count + 1
        while sym(",") {
            l.append(try patternPart())
            elements += (l.last?.steps.count ?? 0) + 1
            guard elements <= Self.maxDepth else { throw err("more than \(Self.maxDepth) pattern elements in one clause", .limitExceeded) }
        }
        return l
    }

    private mutating func patternPart() throws(GraphError) -> PatternPart {
        var pathVar: String? = nil
        if case .identifier = cur.kind, isSym("=", 1) { pathVar = try name(); pos += 1 }
        if case .quotedIdentifier = cur.kind, isSym("=", 1) { pathVar = try name(); pos += 1 }
        if let (w, kind) = (isKw("SHORTESTPATH") ? ("shortestPath", PatternPart.Shortest.one)
                            : isKw("ALLSHORTESTPATHS") ? ("allShortestPaths", .all) : nil) {
            pos += 1
            try expect("(")
            var inner = try patternPart()
            try expect(")")
            guard inner.pathVariable == nil, inner.shortest == nil, inner.steps.count == 1 else {
                throw err("\(w)() takes one relationship between two nodes, e.g. \(w)((a)-[:KNOWS*..5]-(b))")
            }
            let rel = inner.steps[0].0
            guard (rel.length?.min ?? 1) <= 1 else { throw err("\(w)() needs a minimum length of 0 or 1") }
            inner.pathVariable = pathVar
            inner.shortest = kind
            return inner
        }
        var part = PatternPart(pathVariable: pathVar, start: try nodePattern(), steps: [])
        while isSym("-") || isSym("<") {
            let r = try relPattern()
            part.steps.append((r, try nodePattern()))
            guard part.steps.count <= Self.maxDepth else { throw err("pattern longer than \(Self.maxDepth) steps", .limitExceeded) }
        }
        return part
    }

    private mutating func nodePattern() throws(GraphError) -> NodePattern {
        try expect("(")
        var n = NodePattern(variable: nil, labels: [], properties: nil)
        switch cur.kind { case .identifier, .quotedIdentifier: n.variable = try name(); default: break }
        while sym(":") { n.labels.append(try name()) }
        if isSym("{") || { if case .parameter = cur.kind { return true }; return false }() { n.properties = try atom() }
        try expect(")")
        return n
    }

    private mutating func relPattern() throws(GraphError) -> RelPattern {
        let leftArrow = sym("<")
        try expect("-")
        var r = RelPattern(variable: nil, types: [], properties: nil, direction: .both, length: nil)
        if sym("[") {
            switch cur.kind { case .identifier, .quotedIdentifier: r.variable = try name(); default: break }
            if sym(":") {
                r.types.append(try name())
                while sym("|") { _ = sym(":"); r.types.append(try name()) }
            }
            if sym("*") {
                var lo = 1, hi: Int? = nil
                if case .integer(let a) = cur.kind { pos += 1; lo = Int(clamping: a); hi = lo }
                if sym("..") {
                    hi = nil
                    if case .integer(let b) = cur.kind { pos += 1; hi = Int(clamping: b) }
                } else if hi == nil { hi = nil }
                r.length = (lo, hi)
            }
            if isSym("{") || { if case .parameter = cur.kind { return true }; return false }() { r.properties = try atom() }
            try expect("]")
        }
        try expect("-")
        let rightArrow = sym(">")
        // `<-->` is the same as `--`: either direction.
        r.direction = leftArrow == rightArrow ? .both : leftArrow ? .incoming : .outgoing
        return r
    }

    // MARK: expressions
    mutating func expr() throws(GraphError) -> Expr {
        try enter(); defer { depth -= 1 }
        return try orExpr()
    }
    private mutating func orExpr() throws(GraphError) -> Expr {
        var n = 0; defer { depth -= n }
        var l = try xorExpr()
        while kw("OR") { try chain(&n); l = .binary("OR", l, try xorExpr()) }
        return l
    }
    private mutating func xorExpr() throws(GraphError) -> Expr {
        var n = 0; defer { depth -= n }
        var l = try andExpr()
        while kw("XOR") { try chain(&n); l = .binary("XOR", l, try andExpr()) }
        return l
    }
    private mutating func andExpr() throws(GraphError) -> Expr {
        var n = 0; defer { depth -= n }
        var l = try notExpr()
        while kw("AND") { try chain(&n); l = .binary("AND", l, try notExpr()) }
        return l
    }
    private mutating func notExpr() throws(GraphError) -> Expr {
        if kw("NOT") { try enter(); defer { depth -= 1 }; return .not(try notExpr()) }
        return try comparison()
    }
    private mutating func comparison() throws(GraphError) -> Expr {
        var n = 0; defer { depth -= n }
        let first = try predicateExpr()
        var result: Expr? = nil
        var l = first
        while true {
            var op: String? = nil
            for s in ["=", "<>", "<=", ">=", "<", ">"] where isSym(s) { op = s; break }
            guard let o = op else { break }
            try chain(&n)
            pos += 1
            let r = try predicateExpr()
            let c = Expr.binary(o, l, r)
            result = result.map { .binary("AND", $0, c) } ?? c
            l = r
        }
        return result ?? first
    }
    private mutating func predicateExpr() throws(GraphError) -> Expr {
        var n = 0; defer { depth -= n }
        var l = try additive()
        while true {
            try chain(&n)
            if kw("IN") { l = .binary("IN", l, try additive()) }
            else if isKw("STARTS") && isKw("WITH", 1) { pos += 2; l = .binary("STARTS", l, try additive()) }
            else if isKw("ENDS") && isKw("WITH", 1) { pos += 2; l = .binary("ENDS", l, try additive()) }
            else if kw("CONTAINS") { l = .binary("CONTAINS", l, try additive()) }
            else if sym("=~") { l = .binary("=~", l, try additive()) }
            else if isKw("IS") {
                pos += 1
                let neg = kw("NOT")
                try expectKw("NULL")
                l = .isNull(l, negated: neg)
            } else { return l }
        }
    }
    private mutating func additive() throws(GraphError) -> Expr {
        var n = 0; defer { depth -= n }
        var l = try multiplicative()
        while true {
            try chain(&n)
            if sym("+") { l = .binary("+", l, try multiplicative()) }
            else if sym("-") { l = .binary("-", l, try multiplicative()) }
            else { return l }
        }
    }
    private mutating func multiplicative() throws(GraphError) -> Expr {
        var n = 0; defer { depth -= n }
        var l = try power()
        while true {
            try chain(&n)
            if sym("*") { l = .binary("*", l, try power()) }
            else if sym("/") { l = .binary("/", l, try power()) }
            else if sym("%") { l = .binary("%", l, try power()) }
            else { return l }
        }
    }
    private mutating func power() throws(GraphError) -> Expr {
        var n = 0; defer { depth -= n }
        var l = try unary()
        while sym("^") { try chain(&n); l = .binary("^", l, try unary()) }
        return l
    }
    private mutating func unary() throws(GraphError) -> Expr {
        if sym("-") {
            try enter(); defer { depth -= 1 }
            if case .integer(let i) = cur.kind, i >= 0 { pos += 1; return try postfix(.literal(.int(-i))) }
            if cur.kind == .integerTwoTo63 { pos += 1; return try postfix(.literal(.int(.min))) }
            return .negate(try unary())
        }
        if sym("+") { try enter(); defer { depth -= 1 }; return try unary() }
        return try postfix(try atom())
    }
    private mutating func postfix(_ base: Expr) throws(GraphError) -> Expr {
        var n = 0; defer { depth -= n }
        var e = base
        while true {
            try chain(&n)
            if sym(".") { e = .property(e, try name()) }
            else if isSym("[") {
                pos += 1
                if sym("..") {
                    let hi = isSym("]") ? nil : try expr()
                    try expect("]"); e = .slice(e, nil, hi); continue
                }
                let a = try expr()
                if sym("..") {
                    let hi = isSym("]") ? nil : try expr()
                    try expect("]"); e = .slice(e, a, hi); continue
                }
                try expect("]"); e = .index(e, a)
            } else if isSym(":"), case .variable = e {
                var ls: [String] = []
                while sym(":") { ls.append(try name()) }
                e = .hasLabels(e, ls)
            } else { return e }
        }
    }
    private mutating func atom() throws(GraphError) -> Expr {
        try enter(); defer { depth -= 1 }
        let t = cur
        switch t.kind {
        case .integer(let i): pos += 1; return .literal(.int(i))
        case .integerTwoTo63: throw err("integer literal 9223372036854775808 is too large (only its negation fits)")
        case .float(let d): pos += 1; return .literal(.float(d))
        case .string(let s): pos += 1; return .literal(.string(s))
        case .parameter(let p): pos += 1; return .parameter(p)
        case .quotedIdentifier(let s): pos += 1; return .variable(s)
        case .symbol("("):
            // A pattern with at least one relationship is a predicate; otherwise `(` opens an expression.
            let start = pos
            if let part = attemptPattern(), !part.steps.isEmpty, part.shortest == nil {
                return .patternPredicate(Subpattern(part))
            }
            pos = start
            pos += 1
            let e = try expr()
            try expect(")")
            return e
        case .symbol("[") where isSym("(", 1) || (isIdentifier(1) && isSym("=", 2)):
            let start = pos
            pos += 1
            if let part = attemptPattern(), !part.steps.isEmpty, isKw("WHERE") || isSym("|") {
                guard part.shortest == nil else { throw err("a pattern comprehension cannot use shortestPath") }
                let predicate = kw("WHERE") ? try expr() : nil
                try expect("|")
                let projection = try expr()
                try expect("]")
                return .patternComprehension(Subpattern(part, predicate: predicate, projection: projection))
            }
            pos = start
            return try listLiteral()
        case .symbol("["):
            return try listLiteral()
        case .identifier(let s) where s.uppercased() == "EXISTS" && isSym("{", 1):
            pos += 2
            return .exists(try existsSubquery())
        case .identifier(let s) where s.uppercased() == "EXISTS" && isSym("(", 1) && isSym("(", 2):
            // exists((a)-->(b)): the pattern predicate itself.
            pos += 2
            guard let part = attemptPattern(), !part.steps.isEmpty else {
                throw err("exists() takes a pattern such as (a)-->(b), or a property: exists(n.prop)")
            }
            try expect(")")
            return .patternPredicate(Subpattern(part))
        default:
            return try atomRest()
        }
    }

    /// A pattern starting here, or nil (the position put back) when there is none. Each
    /// position is tried once and remembered: an expression may be read as a pattern first and
    /// then as something else, and without the memo nested ones would be re-read 2^depth times.
    private mutating func attemptPattern() -> PatternPart? {
        let start = pos
        if let remembered = patternAttempts[start] {
            guard let (part, end) = remembered else { return nil }
            pos = end
            return part
        }
        let savedDepth = depth
        do {
            let part = try patternPart()
            patternAttempts[start] = (part, pos)
            return part
        } catch {
            (pos, depth) = (start, savedDepth)
            patternAttempts[start] = .some(nil)
            return nil
        }
    }

    private func isIdentifier(_ ahead: Int) -> Bool {
        if case .identifier = tokens[min(pos + ahead, tokens.count - 1)].kind { return true }
        return false
    }

    /// After `EXISTS {`: a pattern with an optional WHERE, or clauses (MATCH ... [RETURN]);
    /// up to `}`. Updating clauses are refused. A RETURN is added when there is none.
    private mutating func existsSubquery() throws(GraphError) -> Subquery {
        var clauses: [Clause]
        if isKw("MATCH") || isKw("OPTIONAL") || isKw("WITH") || isKw("UNWIND") || isKw("CALL") {
            clauses = try singleQuery()
            if let c = clauses.first(where: \.isUpdating) {
                throw err("an EXISTS subquery cannot change the graph (\(c))", .semantic)
            }
        } else {
            let parts = try noShortest(try patternList(), "EXISTS")
            clauses = [.match(optional: false, parts, kw("WHERE") ? try expr() : nil)]
        }
        try expect("}")
        if case .ret? = clauses.last {} else {
            clauses.append(.ret(Projection(star: false, distinct: false, items: [ProjectionItem(expr: .literal(.bool(true)), alias: "exists")],
                                           orderBy: [], skip: nil, limit: .literal(.int(1)))))
        }
        return Subquery(clauses)
    }

    private mutating func listLiteral() throws(GraphError) -> Expr {
        pos += 1
        if case .identifier = cur.kind, isKw("IN", 1) {
            let v = try name(); pos += 1
            let list = try expr()
            let pred = kw("WHERE") ? try expr() : nil
            let proj = sym("|") ? try expr() : nil
            try expect("]")
            return .listComprehension(v, list, pred, proj)
        }
        var items: [Expr] = []
        if !isSym("]") { items = try exprList() }
        try expect("]")
        return .list(items)
    }

    /// The atoms after the bracketed ones: maps, keywords, function calls, variables.
    private mutating func atomRest() throws(GraphError) -> Expr {
        switch cur.kind {
        case .symbol("{"):
            pos += 1
            var keys: [String] = [], vals: [Expr] = []
            if !isSym("}") {
                repeat {
                    keys.append(try name()); try expect(":"); vals.append(try expr())
                } while sym(",")
            }
            try expect("}")
            return .map(keys, vals)
        case .identifier(let s):
            let u = s.uppercased()
            if u == "NULL" { pos += 1; return .literal(.null) }
            if u == "TRUE" { pos += 1; return .literal(.bool(true)) }
            if u == "FALSE" { pos += 1; return .literal(.bool(false)) }
            if u == "CASE" { pos += 1; return try caseExpr() }
            if isSym("(", 1) {
                pos += 2
                if ["ANY", "ALL", "NONE", "SINGLE"].contains(u) { return try quantifier(u.lowercased()) }
                if u == "REDUCE" { return try reduce() }
                if ["FILTER", "EXTRACT"].contains(u) {
                    throw err("\(s)() was removed from Cypher; use a list comprehension [x IN list WHERE ... | ...]", .unsupported)
                }
                if u == "COUNT" && isSym("*") { pos += 1; try expect(")"); return .countStar }
                let distinct = kw("DISTINCT")
                var args: [Expr] = []
                if !isSym(")") { args = try exprList() }
                try expect(")")
                return .function(s.lowercased(), distinct: distinct, args)
            }
            if isSym(".", 1), case .identifier(let member) = tokens[min(pos + 2, tokens.count - 1)].kind, isSym("(", 3) {
                // A namespaced function (`duration.between(...)`): one name, in lower case.
                pos += 4
                var args: [Expr] = []
                if !isSym(")") { args = try exprList() }
                try expect(")")
                return .function((s + "." + member).lowercased(), distinct: false, args)
            }
            pos += 1
            return .variable(s)
        default:
            throw err("expected an expression")
        }
    }
    /// After `all(` / `any(` / `none(` / `single(`: `v IN list WHERE predicate )`. Becomes the
    /// function `name` over the list of predicate values (three-valued: true, false or null).
    private mutating func quantifier(_ function: String) throws(GraphError) -> Expr {
        let v = try name()
        try expectKw("IN")
        let list = try expr()
        guard kw("WHERE") else { throw err("\(function)() needs a predicate: \(function)(\(v) IN list WHERE ...)") }
        let predicate = try expr()
        try expect(")")
        return .function(function, distinct: false, [.listComprehension(v, list, nil, predicate)])
    }

    /// After `reduce(`: `accumulator = initial, v IN list | expression )`.
    private mutating func reduce() throws(GraphError) -> Expr {
        let accumulator = try name()
        try expect("=")
        let initial = try expr()
        try expect(",")
        let v = try name()
        try expectKw("IN")
        let list = try expr()
        try expect("|")
        let expression = try expr()
        try expect(")")
        return .reduce(accumulator: accumulator, initial: initial, variable: v, list: list, expression: expression)
    }

    private mutating func caseExpr() throws(GraphError) -> Expr {
        let subject = isKw("WHEN") ? nil : try expr()
        var whens: [Expr] = [], thens: [Expr] = []
        while kw("WHEN") {
            whens.append(try expr()); try expectKw("THEN"); thens.append(try expr())
        }
        guard !whens.isEmpty else { throw err("CASE needs at least one WHEN") }
        let els = kw("ELSE") ? try expr() : nil
        try expectKw("END")
        return .caseExpr(subject, whens, thens, els)
    }
}
