/// Cypher comparison, equality and ordering rules.
enum Semantics {
    /// Three-valued equality: nil means null (unknown).
    static func equal(_ a: Value, _ b: Value) -> Bool? {
        switch (a, b) {
        case (.null, _), (_, .null): return nil
        case (.int(let x), .int(let y)): return x == y
        case (.int(let x), .float(let y)): return Double(x) == y
        case (.float(let x), .int(let y)): return x == Double(y)
        case (.float(let x), .float(let y)): return x == y
        case (.list(let x), .list(let y)):
            guard x.count == y.count else { return false }
            var unknown = false
            for (p, q) in zip(x, y) {
                switch equal(p, q) { case false?: return false; case nil: unknown = true; default: break }
            }
            return unknown ? nil : true
        case (.map(let x), .map(let y)):
            guard Set(x.keys) == Set(y.keys) else { return false }
            var unknown = false
            for (k, v) in x {
                switch equal(v, y[k] ?? .null) { case false?: return false; case nil: unknown = true; default: break }
            }
            return unknown ? nil : true
        case (.bool(let x), .bool(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.node(let x), .node(let y)): return x == y
        case (.relationship(let x), .relationship(let y)): return x == y
        case (.path(let a, let b), .path(let c, let d)): return a == c && b == d
        case (.temporal(let x), .temporal(let y)): return x == y
        default: return false
        }
    }

    /// Comparison for < > <= >=: nil when the values are not comparable.
    static func compare(_ a: Value, _ b: Value) -> Int? {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x < y ? -1 : x > y ? 1 : 0
        case (.int, .float), (.float, .int), (.float, .float):
            guard let x = number(a), let y = number(b), !x.isNaN, !y.isNaN else { return nil }
            return x < y ? -1 : x > y ? 1 : 0
        case (.string(let x), .string(let y)): return x < y ? -1 : x > y ? 1 : 0
        case (.bool(let x), .bool(let y)): return x == y ? 0 : (!x ? -1 : 1)
        case (.list(let x), .list(let y)):
            for (p, q) in zip(x, y) {
                guard let c = compare(p, q) else { return nil }
                if c != 0 { return c }
            }
            return x.count < y.count ? -1 : x.count > y.count ? 1 : 0
        case (.temporal(let x), .temporal(let y)): return x.compare(y)
        default: return nil
        }
    }

    static func number(_ v: Value) -> Double? {
        switch v { case .int(let i): return Double(i); case .float(let d): return d; default: return nil }
    }

    /// The openCypher order of types: map, node, relationship, list, path, the temporal types
    /// (datetime, localdatetime, date, time, localtime, duration), string, boolean, number, null.
    private static func rank(_ v: Value) -> Int {
        switch v {
        case .map: return 0
        case .node: return 1
        case .relationship: return 2
        case .list: return 3
        case .path: return 4
        case .temporal(let t):
            switch t {
            case .dateTime: return 5
            case .localDateTime: return 6
            case .date: return 7
            case .time: return 8
            case .localTime: return 9
            case .duration: return 10
            }
        case .string: return 11
        case .bool: return 12
        case .int, .float: return 13
        case .null: return 15
        }
    }

    /// Total order used by ORDER BY (ascending), with null last.
    static func orderCompare(_ a: Value, _ b: Value) -> Int {
        let ra = rank(a), rb = rank(b)
        if ra != rb { return ra < rb ? -1 : 1 }
        switch (a, b) {
        case (.int(let x), .int(let y)): return x < y ? -1 : x > y ? 1 : 0
        case (.int, _), (.float, _):
            let x = number(a) ?? 0, y = number(b) ?? 0
            if x.isNaN || y.isNaN { return x.isNaN == y.isNaN ? 0 : (x.isNaN ? 1 : -1) }
            return x < y ? -1 : x > y ? 1 : 0
        case (.string(let x), .string(let y)): return x < y ? -1 : x > y ? 1 : 0
        case (.bool(let x), .bool(let y)): return x == y ? 0 : (!x ? -1 : 1)
        case (.node(let x), .node(let y)), (.relationship(let x), .relationship(let y)):
            return x < y ? -1 : x > y ? 1 : 0
        case (.list(let x), .list(let y)):
            for (p, q) in zip(x, y) { let c = orderCompare(p, q); if c != 0 { return c } }
            return x.count < y.count ? -1 : x.count > y.count ? 1 : 0
        case (.path(let a, let b), .path(let c, let d)):
            return orderCompare(.list((a + b).map { .int(Int64($0)) }), .list((c + d).map { .int(Int64($0)) }))
        case (.temporal(.duration(let x)), .temporal(.duration(let y))):
            // Durations have no natural order; this one is total and stable.
            let a = [x.months, x.days, x.seconds, x.nanos], b = [y.months, y.days, y.seconds, y.nanos]
            return a == b ? 0 : a.lexicographicallyPrecedes(b) ? -1 : 1
        case (.temporal(let x), .temporal(let y)):
            if let c = x.compare(y), c != 0 { return c }
            // Equal instants in different zones: ordered by their text, so the order is total.
            let sx = x.description, sy = y.description
            return sx < sy ? -1 : sx > sy ? 1 : 0
        case (.map(let x), .map(let y)):
            let kx = x.keys.sorted(), ky = y.keys.sorted()
            let c = orderCompare(.list(kx.map { .string($0) }), .list(ky.map { .string($0) }))
            if c != 0 { return c }
            return orderCompare(.list(kx.map { x[$0] ?? .null }), .list(ky.map { y[$0] ?? .null }))
        default: return 0
        }
    }

    /// Grouping/DISTINCT key: equal values (1 and 1.0 included) map to equal keys.
    static func groupKey(_ v: Value) -> Value {
        switch v {
        case .float(let d): if let i = Int64(exactly: d) { return .int(i) }; return v
        case .list(let l): return .list(l.map(groupKey))
        case .map(let m): return .map(m.mapValues(groupKey))
        default: return v
        }
    }
}
