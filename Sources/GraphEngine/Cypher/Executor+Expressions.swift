extension Executor {
    static let aggregateNames: Set<String> = ["count", "sum", "avg", "min", "max", "collect", "stdev", "stdevp",
                                               "percentilecont", "percentiledisc"]

    static func containsAggregate(_ e: Expr) -> Bool {
        containsCall(e) { aggregateNames.contains($0) }
    }

    /// Whether `e` calls a function whose name `matches` (`count(*)` is a call of `count`),
    /// outside subqueries (whose calls are their own).
    static func containsCall(_ e: Expr, where matches: (String) -> Bool) -> Bool {
        func inside(_ x: Expr) -> Bool { containsCall(x, where: matches) }
        switch e {
        case .countStar: return matches("count")
        case .function(let n, _, let args): return matches(n) || args.contains(where: inside)
        case .literal, .variable, .parameter: return false
        case .property(let x, _), .not(let x), .negate(let x), .isNull(let x, _), .hasLabels(let x, _): return inside(x)
        case .list(let l): return l.contains(where: inside)
        case .map(_, let l): return l.contains(where: inside)
        case .binary(_, let a, let b), .index(let a, let b): return inside(a) || inside(b)
        case .slice(let a, let b, let c): return inside(a) || (b.map(inside) ?? false) || (c.map(inside) ?? false)
        case .listComprehension(_, let l, let p, let m):
            return inside(l) || (p.map(inside) ?? false) || (m.map(inside) ?? false)
        case .reduce(_, let initial, _, let list, let expression):
            return inside(initial) || inside(list) || inside(expression)
        case .patternPredicate, .patternComprehension, .exists:
            return false
        case .caseExpr(let s, let w, let t, let el):
            return (s.map(inside) ?? false) || w.contains(where: inside) || t.contains(where: inside) || (el.map(inside) ?? false)
        }
    }

    /// A runtime type error; values interpolated into `m` are cut short (see `ErrorText`).
    func typeError(_ m: ErrorText) -> GraphError { GraphError(.runtime, "type error: \(m.text)", cypherClass: .typeError) }

    /// The value of `e` for `row` (`aggs`: aggregate results of the group being projected).
    /// What it builds is charged as transient bytes (see `QueryControl`): a list, map or string
    /// is charged at its estimated size before it is built, and the operands and temporaries
    /// it no longer needs are given back; loops poll the call's cancellation.
    func eval(_ e: Expr, _ row: Row, _ aggs: [Expr: Value] = [:]) throws(GraphError) -> Value {
        if !aggs.isEmpty, let v = aggs[e] { return v }
        switch e {
        case .literal(let v): return v
        case .variable(let n):
            guard let v = row[n] else { throw GraphError(.semantic, "variable '\(n)' is not defined") }
            return v
        case .parameter(let p):
            guard let v = params[p] else { throw GraphError(.runtime, "parameter $\(p) was not supplied", cypherClass: .parameterMissing) }
            return v
        case .property(let x, let key):
            return try property(try eval(x, row, aggs), key)
        case .list(let l):
            let mark = control.mark
            var out: [Value] = []
            out.reserveCapacity(l.count)
            for x in l { out.append(try eval(x, row, aggs)) }
            // Deep: `[x, x]` holds x twice once expanded.
            try control.settle(since: mark, holding: try control.measure(.list(out)))
            return .list(out)
        case .map(let ks, let vs):
            let mark = control.mark
            var m: [String: Value] = [:]
            for (k, x) in zip(ks, vs) { m[k] = try eval(x, row, aggs) }
            try control.settle(since: mark, holding: try control.measure(.map(m)))
            return .map(m)
        case .not(let x):
            switch try eval(x, row, aggs) {
            case .null: return .null
            case .bool(let b): return .bool(!b)
            case let v: throw typeError("NOT expects a boolean, got \(v)")
            }
        case .negate(let x):
            switch try eval(x, row, aggs) {
            case .null: return .null
            case .int(let i):
                guard i != .min else { throw GraphError(.runtime, "integer overflow in negation") }
                return .int(-i)
            case .float(let d): return .float(-d)
            case .temporal(.duration(let d)):
                guard let n = d.negated else { throw temporalError("duration out of range") }
                return .temporal(.duration(n))
            case let v: throw typeError("cannot negate \(v)")
            }
        case .isNull(let x, let neg):
            return .bool(try eval(x, row, aggs).isNull != neg)
        case .hasLabels(let x, let ls):
            switch try eval(x, row, aggs) {
            case .null: return .null
            case .node(let id):
                return .bool(store.node(id, hasLabels: ls))
            case .relationship(let id):
                return store.relationship(id, hasType: ls).map(Value.bool) ?? .null
            case let v: throw typeError("label test on \(v)")
            }
        case .index(let x, let i):
            return try index(try eval(x, row, aggs), try eval(i, row, aggs))
        case .slice(let x, let a, let b):
            let mark = control.mark
            let v = try eval(x, row, aggs)
            let lo = try a.map { (e) throws(GraphError) in try eval(e, row, aggs) }
            let hi = try b.map { (e) throws(GraphError) in try eval(e, row, aggs) }
            if v.isNull || lo?.isNull == true || hi?.isNull == true { return .null }
            guard case .list(let l) = v else { throw typeError("slicing needs a list") }
            func bound(_ b: Value?, _ d: Int) throws(GraphError) -> Int {
                guard let b else { return d }
                guard case .int(let i) = b else { throw typeError("slice bounds must be integers") }
                let n = Int(clamping: i)
                return max(0, min(l.count, n < 0 ? l.count + n : n))
            }
            let s = try bound(lo, 0), t = try bound(hi, l.count)
            let slice = s < t ? Array(l[s..<t]) : []
            try control.settle(since: mark, holding: try control.measure(.list(slice)))
            return .list(slice)
        case .caseExpr(let subject, let whens, let thens, let els):
            let sv = try subject.map { (e) throws(GraphError) in try eval(e, row, aggs) }
            for (w, t) in zip(whens, thens) {
                let wv = try eval(w, row, aggs)
                let hit = sv.map { Semantics.equal($0, wv) == true } ?? (wv == .bool(true))
                if hit { return try eval(t, row, aggs) }
            }
            return try els.map { (e) throws(GraphError) in try eval(e, row, aggs) } ?? .null
        case .binary(let op, let a, let b):
            return try binary(op, a, b, row, aggs)
        case .listComprehension(let v, let le, let pred, let proj):
            let mark = control.mark
            let lv = try eval(le, row, aggs)
            if lv.isNull { return .null }
            guard case .list(let items) = lv else { throw typeError("list comprehension needs a list, got \(lv)") }
            var out: [Value] = []
            var outBytes = MemoryEstimate.arrayHeaderBytes
            var inner = row
            for x in items {
                try control.check()
                inner[v] = x
                if let pred, try !test(pred, inner, aggs) { continue }
                let elementMark = control.mark
                let element = try proj.map { (e) throws(GraphError) in try eval(e, inner, aggs) } ?? x
                // Each element is charged before it joins the list; its temporaries go back.
                let elementBytes = try control.measure(element, nestedIn: 1) + MemoryEstimate.valueBytes
                try control.settle(since: elementMark, holding: elementBytes)
                outBytes += elementBytes
                out.append(element)
            }
            try control.settle(since: mark, holding: outBytes)
            return .list(out)
        case .reduce(let accumulator, let initial, let v, let le, let expression):
            let mark = control.mark
            let lv = try eval(le, row, aggs)
            if lv.isNull { return .null }
            guard case .list(let items) = lv else { throw typeError("reduce() needs a list, got \(lv)") }
            var inner = row
            let accumulatorMark = control.mark
            var acc = try eval(initial, row, aggs)
            try control.settle(since: accumulatorMark, holding: try control.measure(acc))
            for x in items {
                try control.check()
                inner[accumulator] = acc
                inner[v] = x
                let stepMark = control.mark
                acc = try eval(expression, inner, aggs)
                // The new accumulator was charged as it was built (a doubling string or list hits
                // the budget before the allocator): what this step built holds it, and the old one
                // is garbage now. (What the step built is at least the value's deep size: each
                // builder settles on that, temporaries only add to it.)
                let built = control.transientBytes - stepMark
                if built > 0 { try control.settle(since: accumulatorMark, holding: built) }
            }
            inner = [:]
            try control.settle(since: mark, holding: try control.measure(acc))
            return acc
        case .patternPredicate(let sub):
            return .bool(try hasMatch(sub.part, row))
        case .patternComprehension(let sub):
            let mark = control.mark
            var values: [Value] = []
            var bytes = MemoryEstimate.arrayHeaderBytes
            let reader = self, control = self.control
            var out = MatchOutput { match throws(GraphError) in
                try control.check()
                if let p = sub.predicate, try !reader.test(p, match, aggs) { return }
                let elementMark = control.mark
                let element = try sub.projection.map { (e) throws(GraphError) in try reader.eval(e, match, aggs) } ?? .null
                // Held outside the walk's transient count, which each step of the walk resets.
                let elementBytes = try control.measure(element, nestedIn: 1) + MemoryEstimate.valueBytes
                try control.take(since: elementMark, holding: elementBytes)
                bytes += elementBytes
                values.append(element)
            }
            try matchParts([sub.part], row, into: &out)
            control.adopt(bytes)
            try control.settle(since: mark, holding: bytes)
            return .list(values)
        case .exists(let subquery):
            var inner = self
            inner.rowSink = nil
            inner.streamsAsFound = false
            inner.stopsAtFirstRow = true
            inner.equalityHints = [:]
            let result = try inner.runSingle(subquery.clauses, from: row)
            control.refund(result.memoryBytes)
            return .bool(!result.rows.isEmpty)
        case .countStar:
            throw GraphError(.semantic, "count(*) is only allowed in WITH or RETURN")
        case .function(let name, _, let args):
            if Self.aggregateNames.contains(name) {
                throw GraphError(.semantic, "aggregate \(name)() is only allowed in WITH or RETURN")
            }
            let mark = control.mark
            var vs: [Value] = []
            for x in args { vs.append(try eval(x, row, aggs)) }
            return try settled(try function(name, vs), since: mark)
        }
    }

    /// A function's `result`, its arguments (evaluated since `mark`) given back: builders
    /// charge their result before building it (range, split, replace...); this settles on
    /// what the result holds.
    func settled(_ result: Value, since mark: Int) throws(GraphError) -> Value {
        switch result {
        case .string, .list, .map, .path:
            try control.settle(since: mark, holding: try control.measure(result))
        default:
            control.release(to: mark)
        }
        return result
    }

    func property(_ v: Value, _ key: String) throws(GraphError) -> Value {
        switch v {
        case .null: return .null
        case .node(let id):
            guard let n = store.node(id) else { throw GraphError(.runtime, "node \(id) was deleted; read its properties before DELETE", cypherClass: .entityNotFound) }
            return n.properties[key] ?? .null
        case .relationship(let id):
            guard let r = store.relationship(id) else { throw GraphError(.runtime, "relationship \(id) was deleted; read its properties before DELETE", cypherClass: .entityNotFound) }
            return r.properties[key] ?? .null
        case .map(let m): return m[key] ?? .null
        case .temporal(let t):
            guard let component = t.component(key) else { throw temporalError("\(t.typeName) has no component '\(key)' (or its value does not fit 64 bits)") }
            return component
        default: throw typeError("cannot read property '\(key)' of \(v)")
        }
    }

    func index(_ v: Value, _ i: Value) throws(GraphError) -> Value {
        switch (v, i) {
        case (.null, _), (_, .null): return .null
        case (.list(let l), .int(let k)):
            let n = k < 0 ? Int64(l.count) + k : k
            return n >= 0 && n < Int64(l.count) ? l[Int(n)] : .null
        case (.map, .string(let k)), (.node, .string(let k)), (.relationship, .string(let k)):
            return try property(v, k)
        default: throw typeError("cannot index \(v) with \(i)")
        }
    }

    private func logic(_ v: Value, _ op: String) throws(GraphError) -> Bool? {
        switch v {
        case .null: return nil
        case .bool(let b): return b
        default: throw typeError("\(op) expects booleans, got \(v)")
        }
    }

    func binary(_ op: String, _ ea: Expr, _ eb: Expr, _ row: Row, _ aggs: [Expr: Value]) throws(GraphError) -> Value {
        let mark = control.mark
        let a = try eval(ea, row, aggs), b = try eval(eb, row, aggs)
        return try binary(op, a, b, since: mark)
    }

    /// `a op b` on evaluated operands (both sides are always evaluated: AND and OR do not
    /// short-circuit, so an operand's error is raised whatever the other's value); `mark` is
    /// where the operands' evaluation began (a concatenation settles on its result from there).
    func binary(_ op: String, _ a: Value, _ b: Value, since mark: Int) throws(GraphError) -> Value {
        switch op {
        case "AND":
            let x = try logic(a, op), y = try logic(b, op)
            if x == false || y == false { return .bool(false) }
            return x == nil || y == nil ? .null : .bool(true)
        case "OR":
            let x = try logic(a, op), y = try logic(b, op)
            if x == true || y == true { return .bool(true) }
            return x == nil || y == nil ? .null : .bool(false)
        case "XOR":
            guard let x = try logic(a, op), let y = try logic(b, op) else { return .null }
            return .bool(x != y)
        case "=": return Semantics.equal(a, b).map(Value.bool) ?? .null
        case "<>": return Semantics.equal(a, b).map { .bool(!$0) } ?? .null
        case "<", ">", "<=", ">=":
            // NaN compares with every number and orders with none: each of the four is false.
            if let x = Semantics.number(a), let y = Semantics.number(b), x.isNaN || y.isNaN { return .bool(false) }
            guard let c = Semantics.compare(a, b) else { return .null }
            switch op { case "<": return .bool(c < 0); case ">": return .bool(c > 0); case "<=": return .bool(c <= 0); default: return .bool(c >= 0) }
        case "IN":
            if b.isNull { return .null }
            guard case .list(let l) = b else { throw typeError("IN expects a list on the right, got \(b)") }
            var unknown = false
            for x in l {
                switch Semantics.equal(a, x) { case true?: return .bool(true); case nil: unknown = true; default: break }
            }
            return unknown ? .null : .bool(false)
        case "=~":
            guard case .string(let s) = a, case .string(let pattern) = b else { return .null }
            let control = self.control
            return .bool(try regexes.regex(pattern).matchesWhole(s, checking: { () throws(GraphError) in
                try control.check()
                try control.checkDeadline()
            }))
        case "STARTS", "ENDS", "CONTAINS":
            guard case .string(let s) = a, case .string(let t) = b else { return .null }
            switch op {
            case "STARTS": return .bool(s.hasPrefix(t))
            case "ENDS": return .bool(s.hasSuffix(t))
            default: return .bool(t.isEmpty || s.contains(t))
            }
        default:
            if op == "+", let joined = try concatenate(a, b, since: mark) { return joined }
            return try arithmetic(op, a, b)
        }
    }

    /// `a + b` for strings and lists (nil for other operands): the result is charged at its
    /// size before it is built, so doubling a string or a list in a loop meets the budget
    /// rather than the allocator; the operands' temporaries are given back.
    func concatenate(_ a: Value, _ b: Value, since mark: Int) throws(GraphError) -> Value? {
        func contentBytes(_ items: [Value]) throws(GraphError) -> Int {
            try control.measure(.list(items)) - MemoryEstimate.listBytes(count: items.count)
        }
        switch (a, b) {
        case (.null, _), (_, .null):
            return nil
        case (.list(let x), .list(let y)):
            let bytes = MemoryEstimate.listBytes(count: x.count + y.count) + (try contentBytes(x)) + (try contentBytes(y))
            try control.settle(since: mark, holding: bytes)
            return .list(x + y)
        case (.list(let x), _):
            let bytes = MemoryEstimate.listBytes(count: x.count + 1) + (try contentBytes(x)) + (try control.measure(b, nestedIn: 1))
            try control.settle(since: mark, holding: bytes)
            return .list(x + [b])
        case (_, .list(let y)):
            let bytes = MemoryEstimate.listBytes(count: y.count + 1) + (try contentBytes(y)) + (try control.measure(a, nestedIn: 1))
            try control.settle(since: mark, holding: bytes)
            return .list([a] + y)
        case (.string(let x), .string(let y)):
            try control.settle(since: mark, holding: MemoryEstimate.stringBytes(utf8Count: x.utf8.count + y.utf8.count))
            return .string(x + y)
        case (.string(let x), .int), (.string(let x), .float):
            let y = try toStringValue(b)
            try control.settle(since: mark, holding: MemoryEstimate.stringBytes(utf8Count: x.utf8.count + y.utf8.count))
            return .string(x + y)
        case (.int, .string(let y)), (.float, .string(let y)):
            let x = try toStringValue(a)
            try control.settle(since: mark, holding: MemoryEstimate.stringBytes(utf8Count: x.utf8.count + y.utf8.count))
            return .string(x + y)
        default:
            return nil
        }
    }

    func arithmetic(_ op: String, _ a: Value, _ b: Value) throws(GraphError) -> Value {
        if a.isNull || b.isNull { return .null }
        if case .temporal = a { return try temporalArithmetic(op, a, b) }
        if case .temporal = b { return try temporalArithmetic(op, a, b) }
        if case .int(let x) = a, case .int(let y) = b {
            func checked(_ r: (Int64, Bool)) throws(GraphError) -> Value {
                guard !r.1 else { throw GraphError(.runtime, "integer overflow in \(x) \(op) \(y)") }
                return .int(r.0)
            }
            switch op {
            case "+": return try checked(x.addingReportingOverflow(y))
            case "-": return try checked(x.subtractingReportingOverflow(y))
            case "*": return try checked(x.multipliedReportingOverflow(by: y))
            case "/":
                guard y != 0 else { throw GraphError(.runtime, "division by zero") }
                return try checked(x.dividedReportingOverflow(by: y))
            case "%":
                guard y != 0 else { throw GraphError(.runtime, "division by zero") }
                return try checked(x.remainderReportingOverflow(dividingBy: y))
            case "^": return .float(pow(Double(x), Double(y)))
            default: break
            }
        }
        guard let x = Semantics.number(a), let y = Semantics.number(b) else {
            throw typeError("cannot apply \(op) to \(a) and \(b)")
        }
        switch op {
        case "+": return .float(x + y)
        case "-": return .float(x - y)
        case "*": return .float(x * y)
        case "/": return .float(x / y)
        case "%": return .float(x.truncatingRemainder(dividingBy: y))
        case "^": return .float(pow(x, y))
        default: throw GraphError(.unsupported, "operator \(op) is not supported")
        }
    }

    func toStringValue(_ v: Value) throws(GraphError) -> String {
        switch v {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .float(let d): return d.description
        case .bool(let b): return b ? "true" : "false"
        case .temporal(let t): return t.description
        default: throw typeError("toString() cannot convert \(v)")
        }
    }

    func function(_ name: String, _ a: [Value]) throws(GraphError) -> Value {
        func arity(_ n: Int) throws(GraphError) {
            guard a.count == n else { throw GraphError(.semantic, "\(name)() takes \(n) argument(s), got \(a.count)") }
        }
        switch name {
        case "coalesce": return a.first { !$0.isNull } ?? .null
        case "range":
            guard a.count == 2 || a.count == 3 else { throw GraphError(.semantic, "range() takes 2 or 3 arguments") }
            guard case .int(let lo) = a[0], case .int(let hi) = a[1] else { throw GraphError(.runtime, "range() needs integers", cypherClass: .argumentError) }
            var step: Int64 = 1
            if a.count == 3 { guard case .int(let s) = a[2], s != 0 else { throw GraphError(.runtime, "range() step must be a non-zero integer", cypherClass: .argumentError) }; step = s }
            // The length is known before anything is built: charge it first.
            let span = (Double(hi) - Double(lo)) / Double(step)
            let count = span < 0 ? 0 : span + 1
            let bytes = Double(MemoryEstimate.listBytes(count: 0)) + count * Double(MemoryEstimate.valueBytes)
            try control.hold(bytes < Double(Int.max / 4) ? Int(bytes) : Int.max / 4)
            var out: [Value] = []
            out.reserveCapacity(Int(count))
            var i = lo
            while step > 0 ? i <= hi : i >= hi {
                out.append(.int(i))
                if out.count & 0xFFFF == 0 { try control.check() }
                let (n, o) = i.addingReportingOverflow(step); if o { break }; i = n
            }
            return .list(out)
        default:
            if let value = try temporalFunction(name, a) { return value }
            if let value = try builtin(name, a) { return value }
        }
        try arity(1)
        let x = a[0]
        if x.isNull { return .null }
        switch (name, x) {
        case ("id", .node(let i)), ("id", .relationship(let i)): return .int(Int64(i))
        case ("labels", .node(let i)):
            guard let n = store.node(i) else { throw GraphError(.runtime, "node \(i) was deleted; read its labels before DELETE", cypherClass: .entityNotFound) }
            return .list(n.labels.map(Value.string))
        case ("type", .relationship(let i)): return (store.relationship(i)?.type ?? deletedRelationshipTypes[i]).map(Value.string) ?? .null
        case ("keys", .node(let i)): return .list((store.node(i)?.properties.keys.sorted() ?? []).map(Value.string))
        case ("keys", .relationship(let i)): return .list((store.relationship(i)?.properties.keys.sorted() ?? []).map(Value.string))
        case ("keys", .map(let m)): return .list(m.keys.sorted().map(Value.string))
        case ("properties", .node(let i)): return .map(store.node(i)?.properties ?? [:])
        case ("properties", .relationship(let i)): return .map(store.relationship(i)?.properties ?? [:])
        case ("properties", .map): return x
        case ("startnode", .relationship(let i)): return store.relationship(i).map { .node($0.start) } ?? .null
        case ("endnode", .relationship(let i)): return store.relationship(i).map { .node($0.end) } ?? .null
        case ("length", .path(_, let r)): return .int(Int64(r.count))
        case ("nodes", .path(let n, _)): return .list(n.map(Value.node))
        case ("relationships", .path(_, let r)): return .list(r.map(Value.relationship))
        case ("size", .list(let l)): return .int(Int64(l.count))
        case ("size", .string(let s)): return .int(Int64(s.count))
        case ("head", .list(let l)): return l.first ?? .null
        case ("last", .list(let l)): return l.last ?? .null
        case ("tail", .list(let l)): return .list(Array(l.dropFirst()))
        case ("reverse", .list(let l)): return .list(l.reversed())
        case ("reverse", .string(let s)): return .string(String(s.reversed()))
        case ("tolower", .string(let s)): return .string(s.lowercased())
        case ("toupper", .string(let s)): return .string(s.uppercased())
        case ("abs", .int(let i)):
            guard i != .min else { throw GraphError(.runtime, "integer overflow in abs()") }
            return .int(Swift.abs(i))
        case ("abs", .float(let d)): return .float(Swift.abs(d))
        case ("tostring", _): return .string(try toStringValue(x))
        case ("tointeger", .int): return x
        case ("tointeger", .float(let d)):
            guard d.isFinite, let i = Int64(exactly: d.rounded(.towardZero)) else { return .null }
            return .int(i)
        case ("tointeger", .string(let s)):
            if let i = Int64(s) { return .int(i) }
            if let d = Double(s), d.isFinite, let i = Int64(exactly: d.rounded(.towardZero)) { return .int(i) }
            return .null
        case ("tofloat", .float): return x
        case ("tofloat", .int(let i)): return .float(Double(i))
        case ("tofloat", .string(let s)): return Double(s).map(Value.float) ?? .null
        case ("toboolean", .bool): return x
        case ("toboolean", .string(let s)):
            switch s.lowercased() { case "true": return .bool(true); case "false": return .bool(false); default: return .null }
        case ("length", _), ("nodes", _), ("relationships", _), ("id", _), ("labels", _), ("type", _), ("keys", _), ("properties", _), ("startnode", _), ("endnode", _),
             ("size", _), ("head", _), ("last", _), ("tail", _), ("reverse", _), ("tolower", _), ("toupper", _),
             ("abs", _), ("tointeger", _), ("tofloat", _), ("toboolean", _):
            throw typeError("\(name)() cannot take \(x)")
        default:
            throw GraphError(.unsupported, "function \(name)() is not supported yet")
        }
    }
}

private func pow(_ x: Double, _ y: Double) -> Double {
    // Exponentiation without Foundation: integral exponents by squaring, others via exp/log.
    // A NaN operand gives NaN, as Java's Math.pow (Cypher's reference) does.
    if x.isNaN || y.isNaN { return .nan }
    if y == y.rounded(), Swift.abs(y) < 1_073_741_824.0 {
        var result = 1.0, base = x, n = Int(Swift.abs(y))
        while n > 0 { if n & 1 == 1 { result *= base }; base *= base; n >>= 1 }
        return y < 0 ? 1 / result : result
    }
    if x < 0 { return .nan }
    return expApprox(y * logApprox(x))
}

private func logApprox(_ x: Double) -> Double {
    if x == 0 { return -.infinity }
    if !x.isFinite { return x }
    let e = Double(x.exponent), m = x.significand   // x = m * 2^e, m in [1,2)
    let t = (m - 1) / (m + 1), t2 = t * t
    var sum = 0.0, term = t
    for k in stride(from: 1, through: 41, by: 2) { sum += term / Double(k); term *= t2 }
    return 2 * sum + e * 0.6931471805599453
}

private func expApprox(_ y: Double) -> Double {
    // NaN (e.g. 1 ^ infinity: infinity * log 1) stays NaN; converting it to an exponent traps.
    if y.isNaN { return .nan }
    if y > 709 { return .infinity }
    if y < -745 { return 0 }
    let k = (y / 0.6931471805599453).rounded()
    let r = y - k * 0.6931471805599453
    var sum = 1.0, term = 1.0
    for i in 1...25 { term *= r / Double(i); sum += term }
    return Double(sign: .plus, exponent: Int(k), significand: sum)
}

extension GraphStore {
    /// `r:T` (and `r:T:U`) on a relationship: true when its one type is each of `types`; nil
    /// once it is deleted.
    func relationship(_ id: Int, hasType types: [String]) -> Bool? {
        relationship(id).map { relationship in types.allSatisfy { $0 == relationship.type } }
    }
}
