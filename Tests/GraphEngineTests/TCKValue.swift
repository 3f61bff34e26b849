import GraphEngine

/// A value as written in a TCK result table, compared structurally with engine output.
indirect enum TCKValue: Equatable, CustomStringConvertible {
    case null, bool(Bool), int(Int64), float(Double), string(String)
    case list([TCKValue]), map([String: TCKValue])
    case node(Set<String>, [String: TCKValue])
    case relationship(String, [String: TCKValue])
    /// Nodes, relationships, and per relationship whether it points forward along the path.
    case path([TCKValue], [TCKValue], [Bool])

    var description: String {
        func props(_ m: [String: TCKValue]) -> String {
            m.isEmpty ? "" : "{" + m.keys.sorted().map { "\($0): \(m[$0]!)" }.joined(separator: ", ") + "}"
        }
        switch self {
        case .null: return "null"
        case .bool(let b): return String(b)
        case .int(let i): return String(i)
        // -0.0 prints as 0.0: it equals 0.0 (==), and the unordered comparison goes by this text.
        case .float(let d): return "F" + (d == 0 ? 0.0 : d).description
        case .string(let s): return "'" + s + "'"
        case .list(let l): return "[" + l.map(\.description).joined(separator: ", ") + "]"
        case .map(let m): return "{" + m.keys.sorted().map { "\($0): \(m[$0]!)" }.joined(separator: ", ") + "}"
        case .node(let ls, let p): return "(" + ls.sorted().map { ":" + $0 }.joined() + " " + props(p) + ")"
        case .relationship(let t, let p): return "[:" + t + " " + props(p) + "]"
        case .path(let ns, let rs, let fw):
            var out = "<" + (ns.first?.description ?? "")
            for (i, r) in rs.enumerated() where i + 1 < ns.count {
                out += (fw[i] ? "-" : "<-") + r.description + (fw[i] ? "->" : "-") + ns[i + 1].description
            }
            return out + ">"
        }
    }

    /// Structural equality; unlike `Double`, NaN equals NaN (the TCK writes NaN as an expected value).
    static func == (a: TCKValue, b: TCKValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.float(let x), .float(let y)): return x == y || (x.isNaN && y.isNaN)
        case (.string(let x), .string(let y)): return x == y
        case (.list(let x), .list(let y)): return x.count == y.count && zip(x, y).allSatisfy { $0 == $1 }
        case (.map(let x), .map(let y)): return x.count == y.count && x.allSatisfy { k, v in y[k].map { $0 == v } ?? false }
        case (.node(let l1, let p1), .node(let l2, let p2)): return l1 == l2 && TCKValue.map(p1) == TCKValue.map(p2)
        case (.relationship(let t1, let p1), .relationship(let t2, let p2)): return t1 == t2 && TCKValue.map(p1) == TCKValue.map(p2)
        case (.path(let n1, let r1, let f1), .path(let n2, let r2, let f2)):
            return f1 == f2 && TCKValue.list(n1) == TCKValue.list(n2) && TCKValue.list(r1) == TCKValue.list(r2)
        default: return false
        }
    }

    /// Lists compared as multisets, for "ignoring element order for lists".
    var unorderedLists: TCKValue {
        switch self {
        case .list(let l): return .list(l.map(\.unorderedLists).sorted { $0.description < $1.description })
        case .map(let m): return .map(m.mapValues(\.unorderedLists))
        default: return self
        }
    }

    /// Converts an engine value, resolving graph references in `store`.
    init(_ v: Value, _ store: GraphStore) {
        switch v {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .float(let d): self = .float(d)
        case .string(let s): self = .string(s)
        case .list(let l): self = .list(l.map { TCKValue($0, store) })
        case .map(let m): self = .map(m.mapValues { TCKValue($0, store) })
        case .node(let id):
            let n = store.node(id)
            self = .node(Set(n?.labels ?? []), (n?.properties ?? [:]).mapValues { TCKValue($0, store) })
        case .relationship(let id):
            let r = store.relationship(id)
            self = .relationship(r?.type ?? "", (r?.properties ?? [:]).mapValues { TCKValue($0, store) })
        case .path(let ns, let rs):
            var fw: [Bool] = []
            for (i, r) in rs.enumerated() { fw.append(store.relationship(r)?.start == ns[i]) }
            self = .path(ns.map { TCKValue(.node($0), store) }, rs.map { TCKValue(.relationship($0), store) }, fw)
        case .temporal(let t):
            // The TCK writes temporal values as their text in quotes ('2015-07-21').
            self = .string(t.description)
        }
    }
}

/// Parses TCK cell literals: null, booleans, numbers, 'strings', lists, maps, (:nodes), [:rels].
struct TCKLiteralParser {
    struct Failure: Error { let message: String }
    private let s: [Character]
    private var i = 0

    static func parse(_ text: String) throws -> TCKValue {
        var p = TCKLiteralParser(s: Array(text))
        let v = try p.value()
        p.skip()
        guard p.i == p.s.count else { throw Failure(message: "trailing text in \(text)") }
        return v
    }
    private init(s: [Character]) { self.s = s }
    private mutating func skip() { while i < s.count, s[i].isWhitespace { i += 1 } }
    private mutating func eat(_ c: Character) -> Bool { skip(); if i < s.count, s[i] == c { i += 1; return true }; return false }
    private mutating func need(_ c: Character) throws { guard eat(c) else { throw Failure(message: "expected \(c) at \(i) in \(String(s))") } }
    private mutating func word() -> String {
        skip(); var w = ""
        if i < s.count, s[i] == "`" {
            i += 1; while i < s.count, s[i] != "`" { w.append(s[i]); i += 1 }; i += 1; return w
        }
        while i < s.count, s[i].isLetter || s[i].isNumber || s[i] == "_" { w.append(s[i]); i += 1 }
        return w
    }
    private mutating func props() throws -> [String: TCKValue] {
        guard eat("{") else { return [:] }
        var m: [String: TCKValue] = [:]
        if eat("}") { return m }
        repeat { let k = word(); try need(":"); m[k] = try value() } while eat(",")
        try need("}")
        return m
    }
    mutating func value() throws -> TCKValue {
        skip()
        guard i < s.count else { throw Failure(message: "unexpected end") }
        let c = s[i]
        if c == "'" {
            i += 1; var out = ""
            while i < s.count, s[i] != "'" {
                guard s[i] == "\\", i + 1 < s.count else { out.append(s[i]); i += 1; continue }
                // Cypher's escapes (after Gherkin's own in the table cell: `\\\\` there is one backslash here).
                let escaped: [Character: Character] = ["n": "\n", "t": "\t", "r": "\r", "b": "\u{8}", "f": "\u{c}",
                                                       "\\": "\\", "'": "'", "\"": "\""]
                guard let character = escaped[s[i + 1]] else { throw Failure(message: "unknown escape \\\(s[i + 1]) in \(String(s))") }
                out.append(character)
                i += 2
            }
            i += 1
            return .string(out)
        }
        if c == "[" {
            i += 1
            if eat(":") {
                let t = word(); let p = try props(); try need("]"); return .relationship(t, p)
            }
            var l: [TCKValue] = []
            if eat("]") { return .list(l) }
            repeat { l.append(try value()) } while eat(",")
            try need("]")
            return .list(l)
        }
        if c == "{" { return .map(try props()) }
        if c == "(" {
            i += 1
            var ls = Set<String>()
            while eat(":") { ls.insert(word()) }
            let p = try props(); try need(")")
            return .node(ls, p)
        }
        if c == "<" {
            i += 1
            var ns: [TCKValue] = [try value()], rs: [TCKValue] = [], fw: [Bool] = []
            while !eat(">") {
                let back = eat("<")
                try need("-")
                rs.append(try value())
                try need("-")
                let fwd = eat(">")
                fw.append(fwd && !back)
                ns.append(try value())
            }
            return .path(ns, rs, fw)
        }
        var tok = ""
        while i < s.count, !",]})".contains(s[i]), !s[i].isWhitespace { tok.append(s[i]); i += 1 }
        switch tok {
        case "null": return .null
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "NaN": return .float(.nan)
        case "Infinity": return .float(.infinity)
        case "-Infinity": return .float(-.infinity)
        default:
            if let n = Int64(tok) { return .int(n) }
            if let d = Double(tok) { return .float(d) }
            throw Failure(message: "cannot parse literal '\(tok)'")
        }
    }
}

/// Converts a parsed TCK literal to an engine parameter value.
func engineValue(_ t: TCKValue) -> Value? {
    switch t {
    case .null: return .null
    case .bool(let b): return .bool(b)
    case .int(let i): return .int(i)
    case .float(let d): return .float(d)
    case .string(let s): return .string(s)
    case .list(let l):
        var out: [Value] = []
        for x in l { guard let v = engineValue(x) else { return nil }; out.append(v) }
        return .list(out)
    case .map(let m):
        var out: [String: Value] = [:]
        for (k, x) in m { guard let v = engineValue(x) else { return nil }; out[k] = v }
        return .map(out)
    case .node, .relationship, .path: return nil
    }
}
