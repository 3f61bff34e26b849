import Synchronization
import VectorEngine
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Cypher functions beyond the core set: list quantifiers, mathematics and strings.
/// Each follows openCypher: a null argument gives null (except where noted), a wrong type is a
/// runtime type error.
extension Executor {
    /// Names `builtin(_:_:)` answers (besides the quantifiers, which only the parser produces).
    static let builtinNames: Set<String> = [
        "rand", "exists", "sqrt", "sign", "ceil", "floor", "round", "exp", "log", "log10", "sin", "cos", "tan", "cot", "asin", "acos",
        "atan", "atan2", "pi", "e", "degrees", "radians", "haversin",
        "split", "substring", "replace", "trim", "ltrim", "rtrim", "left", "right",
        "tostringornull", "tointegerornull", "tofloatornull", "tobooleanornull",
    ]

    /// The value of built-in function `name`, or nil when `name` is not one of these.
    func builtin(_ name: String, _ a: [Value]) throws(GraphError) -> Value? {
        func arity(_ counts: ClosedRange<Int>) throws(GraphError) {
            guard counts.contains(a.count) else {
                let expected = counts.count == 1 ? "\(counts.lowerBound)" : "\(counts.lowerBound) to \(counts.upperBound)"
                throw GraphError(.semantic, "\(name)() takes \(expected) argument(s), got \(a.count)")
            }
        }
        switch name {
        case "all", "any", "none", "single":
            try arity(1...1)
            return try quantify(name, a[0])
        case "rand": try arity(0...0); return .float(random.nextUnitInterval())
        case "exists":      // exists(n.prop): the property is there (not null)
            try arity(1...1)
            return .bool(!a[0].isNull)
        case "pi": try arity(0...0); return .float(.pi)
        case "e": try arity(0...0); return .float(M_E)
        case "tostringornull", "tointegerornull", "tofloatornull", "tobooleanornull":
            try arity(1...1)
            // The plain conversion, with null where it would fail or refuse the type.
            return (try? function(String(name.dropLast("ornull".count)), a)) ?? .null
        case "atan2":
            try arity(2...2)
            if a.contains(where: \.isNull) { return .null }
            return .float(atan2(try number(a[0], name), try number(a[1], name)))
        case "round":
            try arity(1...2)
            if a.contains(where: \.isNull) { return .null }
            let x = try number(a[0], name)
            guard a.count == 2 else { return .float(x.rounded(.toNearestOrAwayFromZero)) }
            guard case .int(let precision) = a[1], (0...15).contains(precision) else {
                throw typeError("round() precision must be an integer 0 to 15, got \(a[1])")
            }
            let scale = pow(10, Double(precision))
            return .float((x * scale).rounded(.toNearestOrAwayFromZero) / scale)
        case "sign":
            try arity(1...1)
            switch a[0] {
            case .null: return .null
            case .int(let i): return .int(i.signum())
            case .float(let d): return .int(d > 0 ? 1 : d < 0 ? -1 : 0)
            default: throw typeError("sign() needs a number, got \(a[0])")
            }
        case "sqrt", "ceil", "floor", "exp", "log", "log10", "sin", "cos", "tan", "cot", "asin", "acos", "atan",
             "degrees", "radians", "haversin":
            try arity(1...1)
            if a[0].isNull { return .null }
            return .float(Self.math(name, try number(a[0], name)))
        case "split", "substring", "replace", "trim", "ltrim", "rtrim", "left", "right":
            return try stringFunction(name, a, arity: arity)
        default:
            return nil
        }
    }

    private func number(_ v: Value, _ function: String) throws(GraphError) -> Double {
        switch v {
        case .int(let i): return Double(i)
        case .float(let d): return d
        default: throw typeError("\(function)() needs a number, got \(v)")
        }
    }

    private static func math(_ name: String, _ x: Double) -> Double {
        switch name {
        case "sqrt": return x.squareRoot()
        case "ceil": return x.rounded(.up)
        case "floor": return x.rounded(.down)
        case "exp": return exp(x)
        case "log": return log(x)
        case "log10": return log10(x)
        case "sin": return sin(x)
        case "cos": return cos(x)
        case "tan": return tan(x)
        case "cot": return 1 / tan(x)
        case "asin": return asin(x)
        case "acos": return acos(x)
        case "atan": return atan(x)
        case "degrees": return x * 180 / .pi
        case "radians": return x * .pi / 180
        default:                // haversin
            return (1 - cos(x)) / 2
        }
    }

    /// all / any / none / single over `predicates`, the list of a predicate's values per
    /// element, in three-valued logic: an unknown (null) element decides only when the known
    /// ones do not.
    private func quantify(_ name: String, _ predicates: Value) throws(GraphError) -> Value {
        guard case .list(let values) = predicates else { return .null }
        var trues = 0, nulls = 0
        for v in values {
            switch v {
            case .bool(true): trues += 1
            case .bool(false): break
            case .null: nulls += 1
            default: throw typeError("\(name)() needs a boolean predicate, got \(v)")
            }
        }
        let falses = values.count - trues - nulls
        switch name {
        case "all": return falses > 0 ? .bool(false) : nulls > 0 ? .null : .bool(true)
        case "any": return trues > 0 ? .bool(true) : nulls > 0 ? .null : .bool(false)
        case "none": return trues > 0 ? .bool(false) : nulls > 0 ? .null : .bool(true)
        default:                // single
            if trues > 1 { return .bool(false) }
            return nulls > 0 ? .null : .bool(trues == 1)
        }
    }

    private func stringFunction(_ name: String, _ a: [Value],
                                arity: (ClosedRange<Int>) throws(GraphError) -> Void) throws(GraphError) -> Value {
        switch name {
        case "trim", "ltrim", "rtrim": try arity(1...1)
        case "substring": try arity(2...3)
        case "replace": try arity(3...3)
        default: try arity(2...2)
        }
        if a.contains(where: \.isNull) { return .null }
        guard case .string(let s) = a[0] else { throw typeError("\(name)() needs a string, got \(a[0])") }
        func count(_ v: Value, _ what: String) throws(GraphError) -> Int {
            guard case .int(let i) = v, i >= 0 else { throw typeError("\(name)() \(what) must be a non-negative integer, got \(v)") }
            return Int(clamping: i)
        }
        func text(_ v: Value, _ what: String) throws(GraphError) -> String {
            guard case .string(let t) = v else { throw typeError("\(name)() \(what) must be a string, got \(v)") }
            return t
        }
        switch name {
        case "trim": return .string(String(s.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed()))
        case "ltrim": return .string(String(s.drop(while: \.isWhitespace)))
        case "rtrim": return .string(String(s.reversed().drop(while: \.isWhitespace).reversed()))
        case "left": return .string(String(s.prefix(try count(a[1], "length"))))
        case "right": return .string(String(s.suffix(try count(a[1], "length"))))
        case "substring":
            let start = try count(a[1], "start")
            let rest = s.dropFirst(start)
            return .string(String(a.count == 3 ? rest.prefix(try count(a[2], "length")) : rest))
        case "split":
            let delimiter = try text(a[1], "delimiter")
            if delimiter.isEmpty {
                // One string per character: charged before the list is built.
                try control.hold(MemoryEstimate.listBytes(count: s.count))
                return .list(s.map { .string(String($0)) })
            }
            let pieces = Self.occurrences(of: delimiter, in: s) + 1
            try control.hold(MemoryEstimate.listBytes(count: pieces) + s.utf8.count + pieces * MemoryEstimate.stringHeaderBytes)
            return .list(s.split(separator: delimiter, omittingEmptySubsequences: false).map { .string(String($0)) })
        default:                // replace
            let search = try text(a[1], "search string"), replacement = try text(a[2], "replacement")
            if search.isEmpty { return .string(s) }
            // The result's size is known before it is built: charge it first.
            let found = Self.occurrences(of: search, in: s)
            let bytes = s.utf8.count + found * (replacement.utf8.count - search.utf8.count)
            try control.hold(MemoryEstimate.stringBytes(utf8Count: bytes))
            var result = ""
            result.reserveCapacity(bytes)
            var rest = s[...]
            while let range = rest.firstRange(of: search) {
                result += rest[..<range.lowerBound]
                result += replacement
                rest = rest[range.upperBound...]
            }
            result += rest
            return .string(result)
        }
    }

    /// Non-overlapping occurrences of `search` (not empty) in `s`, counted without building
    /// anything.
    private static func occurrences(of search: String, in s: String) -> Int {
        var found = 0
        var rest = s[...]
        while let range = rest.firstRange(of: search) {
            found += 1
            rest = rest[range.upperBound...]
        }
        return found
    }
}

/// The random numbers of one query's `rand()` calls: seeded, so the engine draws no entropy
/// of its own (the service brings a fresh seed per query).
final class QueryRandom: Sendable {
    private let generator: Mutex<SeededGenerator>

    init(seed: UInt64) { generator = Mutex(SeededGenerator(seed: seed)) }

    /// A uniform double in [0, 1).
    func nextUnitInterval() -> Double {
        Double(generator.withLock { $0.next() } >> 11) * 0x1p-53
    }
}
