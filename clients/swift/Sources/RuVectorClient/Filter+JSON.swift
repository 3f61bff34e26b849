import Wire

/// Filters written as JSON (the CLI's `--filter`).
///
/// Full form: `{"must": [C...], "should": [C...], "must_not": [C...], "min_should": N}` where a
/// condition C is one of
/// `{"key": K, "match": V}` (V a string, integer or boolean),
/// `{"key": K, "match": {"any": [V...]}}`, `{"key": K, "match": {"except": [V...]}}`,
/// `{"key": K, "range": {"gt"|"gte"|"lt"|"lte": N}}`, `{"key": K, "exists": true|false}`,
/// `{"filter": {...}}`, `{"has_id": [ids]}`, `{"is_empty": K}`, `{"is_null": K}`.
/// Short form: `{"lang": "swift", "year": 2024}` means every key matches its value.
///
/// ```swift
/// let filter = try Filter(json: #"{"must": [{"key": "year", "range": {"gte": 2020}}]}"#)
/// ```
extension Filter {
    /// Parses a filter written as JSON (see above). Throws `.invalidInput` with a message
    /// naming what to fix.
    public init(json text: String) throws(RuVectorClientError) {
        let value: PayloadValue
        do { value = try PayloadValue(json: text) } catch {
            throw RuVectorClientError(.invalidInput, "not valid JSON: \(error.message)")
        }
        do { self = try FilterJSON.filter(value, depth: 0) } catch { throw RuVectorClientError.from(error) }
    }
}

@_spi(Fuzzing)
extension Filter {
    /// The filter as the client sends it (the fuzzer follows a parsed filter to the server's mapping).
    public var wireMessage: RuvectorV1.Filter { WireConversions.wire(self) }
}

/// The JSON reader of `Filter(json:)`.
enum FilterJSON {
    private static func fail(_ message: String) -> RuVectorClientError { RuVectorClientError(.invalidInput, message) }

    private static let clauses: Set<String> = ["must", "should", "must_not", "min_should"]

    static func filter(_ value: PayloadValue, depth: Int) throws -> Filter {
        guard depth < 16 else { throw fail("filters nest deeper than 16 levels") }
        guard let object = value.objectValue else { throw fail("a filter is a JSON object") }
        if !object.isEmpty, clauses.isDisjoint(with: object.keys) {
            // Short form: each key equals its value.
            return Filter(must: try object.keys.sorted().map { key in .match(key, try match(object[key] ?? .null, key: key)) })
        }
        if let unknown = Set(object.keys).subtracting(clauses).first {
            throw fail("unknown key '\(unknown)'; a filter has must, should, must_not and min_should")
        }
        func conditions(_ name: String) throws -> [Condition] {
            guard let entry = object[name] else { return [] }
            guard let list = entry.listValue else { throw fail("'\(name)' must be a list of conditions") }
            return try list.map { try condition($0, depth: depth) }
        }
        var minShould: UInt32 = 0
        if let given = object["min_should"] {
            guard let n = given.intValue, let value = UInt32(exactly: n) else { throw fail("min_should must be a non-negative integer") }
            minShould = value
        }
        return Filter(must: try conditions("must"), should: try conditions("should"), mustNot: try conditions("must_not"),
                      minShould: minShould)
    }

    private static func condition(_ value: PayloadValue, depth: Int) throws -> Condition {
        guard let object = value.objectValue else { throw fail("a condition is a JSON object") }
        if let nested = object["filter"] { return .filter(try filter(nested, depth: depth + 1)) }
        if let ids = object["has_id"] {
            guard let list = ids.listValue else { throw fail("has_id must be a list of ids") }
            return .hasID(try list.map { id in
                switch id {
                case .int(let n) where n >= 0: return .num(UInt64(n))
                case .string(let s): return .uuid(s)
                default: throw fail("ids are non-negative integers or UUID strings")
                }
            })
        }
        if let key = object["is_empty"] {
            guard let key = key.stringValue else { throw fail("is_empty names a key (a string)") }
            return .isEmpty(key)
        }
        if let key = object["is_null"] {
            guard let key = key.stringValue else { throw fail("is_null names a key (a string)") }
            return .isNull(key)
        }
        guard let key = object["key"]?.stringValue, !key.isEmpty else {
            throw fail("a condition needs \"key\" (or is filter, has_id, is_empty or is_null): \(value.jsonText)")
        }
        if let test = object["match"] { return .match(key, try match(test, key: key)) }
        if let range = object["range"] {
            guard let bounds = range.objectValue, !bounds.isEmpty else { throw fail("range on '\(key)' needs gt, gte, lt or lte") }
            var result = NumericRange()
            for (name, bound) in bounds {
                guard let number = bound.doubleValue else { throw fail("range bound '\(name)' on '\(key)' must be a number") }
                switch name {
                case "gt": result.gt = number
                case "gte": result.gte = number
                case "lt": result.lt = number
                case "lte": result.lte = number
                default: throw fail("unknown range bound '\(name)'; use gt, gte, lt or lte")
                }
            }
            return .range(key, result)
        }
        if let exists = object["exists"] {
            guard let flag = exists.boolValue else { throw fail("exists on '\(key)' must be true or false") }
            return .exists(key, flag)
        }
        throw fail("condition on '\(key)' needs match, range or exists")
    }

    private static func match(_ value: PayloadValue, key: String) throws -> Match {
        switch value {
        case .string(let s): return .keyword(s)
        case .int(let i): return .integer(i)
        case .bool(let b): return .boolean(b)
        case .object(let object) where object.count == 1:
            let (name, entry) = (object.keys.first ?? "", object.values.first ?? .null)
            guard name == "any" || name == "except", let list = entry.listValue else {
                throw fail("match on '\(key)' is a value, {\"any\": [...]} or {\"except\": [...]}")
            }
            let strings = list.compactMap(\.stringValue)
            if strings.count == list.count {
                return name == "any" ? .anyKeywords(strings) : .exceptKeywords(strings)
            }
            let integers = list.compactMap(\.intValue)
            if integers.count == list.count {
                return name == "any" ? .anyIntegers(integers) : .exceptIntegers(integers)
            }
            throw fail("\(name) on '\(key)' takes a list of strings or a list of integers")
        default:
            throw fail("match on '\(key)' takes a string, an integer or a boolean (floats cannot be matched; use range)")
        }
    }
}
