/// A Cypher value: the property types plus graph references.
public enum Value: Hashable, Sendable, CustomStringConvertible {
    /// The absence of a value.
    case null
    /// A boolean.
    case bool(Bool)
    /// A 64-bit signed integer.
    case int(Int64)
    /// A 64-bit float.
    case float(Double)
    /// A string.
    case string(String)
    /// A list of values.
    case list([Value])
    /// A map from keys to values.
    case map([String: Value])
    /// A reference to a node by id.
    case node(Int)
    /// A reference to a relationship by id.
    case relationship(Int)
    /// A path: `nodes.count == relationships.count + 1`; relationship `i` joins nodes `i` and `i + 1`.
    case path(nodes: [Int], relationships: [Int])
    /// A date, time, datetime or duration (see `Temporal`). Boxed (`indirect`): inline, its
    /// 40-byte payload would double the size of every value (rows, lists, maps, properties),
    /// temporal or not.
    indirect case temporal(Temporal)

    /// True for `.null`.
    public var isNull: Bool { if case .null = self { return true } else { return false } }

    /// True if the value may be stored as a property (no graph references inside).
    public var isStorable: Bool {
        switch self {
        case .node, .relationship, .map, .path: return false
        case .list(let l): return l.allSatisfy { v in
            switch v { case .list, .map, .node, .relationship, .path: return false; default: return true } }
        default: return true
        }
    }

    /// A Cypher-literal rendering (strings quoted with single quotes).
    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .float(let d): return d.description
        case .string(let s): return "'" + s + "'"
        case .list(let l): return "[" + l.map(\.description).joined(separator: ", ") + "]"
        case .map(let m):
            return "{" + m.keys.sorted().map { "\($0): \(m[$0]!.description)" }.joined(separator: ", ") + "}"
        case .node(let id): return "node(\(id))"
        case .relationship(let id): return "relationship(\(id))"
        case .path(let n, let r): return "path(nodes: \(n), relationships: \(r))"
        case .temporal(let t): return "\(t.functionName)('\(t)')"
        }
    }
}
