/// A payload filter, in the must / should / must_not style:
///
/// ```swift
/// let f = PayloadFilter.must([
///     .match("color", .string("red")),
///     .range("price", .init(gte: 10, lt: 100)),
///     .mustNot([.exists("deleted_at")]),
/// ])
/// ```
///
/// A field holding a `.list` matches a condition when any of its elements does.
/// Filters nest (`must` inside `should`, ...) up to ``VectorEngineLimits/maxFilterDepth``.
public indirect enum PayloadFilter: Sendable, Hashable {
    /// All sub-filters hold (an empty list holds).
    case must([PayloadFilter])
    /// At least one sub-filter holds (an empty list holds).
    case should([PayloadFilter])
    /// None of the sub-filters holds.
    case mustNot([PayloadFilter])
    /// The field equals the value (keyword, integer or bool; ints and doubles compare numerically).
    case match(String, PayloadValue)
    /// The field is a number inside the range.
    case range(String, NumericRange)
    /// The field equals one of the values.
    case isIn(String, [PayloadValue])
    /// The field is present and not `.null`.
    case exists(String)
    /// The field is present and `.null`.
    case isNull(String)
    /// The field is absent, `.null`, or an empty list.
    case isEmpty(String)
    /// At least `minimum` of the sub-filters hold.
    case atLeast(MinimumShould)
    /// The point's id is one of these (needs the id: see `matches(_:id:)`).
    case hasId(Set<UInt64>)

    /// `minimum` of `filters` must hold (a should with a threshold above one).
    public struct MinimumShould: Sendable, Hashable {
        public var minimum: Int
        public var filters: [PayloadFilter]
        public init(minimum: Int, filters: [PayloadFilter]) { self.minimum = minimum; self.filters = filters }
    }

    /// Numeric bounds; `nil` means unbounded on that side.
    public struct NumericRange: Sendable, Hashable {
        /// Strict lower bound.
        public var gt: Double?
        /// Inclusive lower bound.
        public var gte: Double?
        /// Strict upper bound.
        public var lt: Double?
        /// Inclusive upper bound.
        public var lte: Double?
        /// Creates a range.
        public init(gt: Double? = nil, gte: Double? = nil, lt: Double? = nil, lte: Double? = nil) {
            self.gt = gt; self.gte = gte; self.lt = lt; self.lte = lte
        }

        func contains(_ x: Double) -> Bool {
            if let g = gt, !(x > g) { return false }
            if let g = gte, !(x >= g) { return false }
            if let l = lt, !(x < l) { return false }
            if let l = lte, !(x <= l) { return false }
            return true
        }
    }

    /// Nesting depth (a leaf condition has depth 1).
    public var depth: Int {
        switch self {
        case .atLeast(let m):
            var d = 0
            for f in m.filters { d = max(d, f.depth) }
            return d + 1
        case .must(let fs), .should(let fs), .mustNot(let fs):
            var d = 0
            for f in fs { d = max(d, f.depth) }
            return d + 1
        default: return 1
        }
    }

    /// Throws when the filter is nested deeper than ``VectorEngineLimits/maxFilterDepth``.
    public func validate() throws(VectorEngineError) {
        // Checked iteratively so a hostile, very deep filter cannot overflow the stack here.
        var stack: [(PayloadFilter, Int)] = [(self, 1)]
        while let (f, d) = stack.popLast() {
            try checkLimit(d <= VectorEngineLimits.maxFilterDepth,
                           "filter nesting depth exceeds \(VectorEngineLimits.maxFilterDepth); flatten the filter")
            switch f {
            case .must(let fs), .should(let fs), .mustNot(let fs):
                for sub in fs { stack.append((sub, d + 1)) }
            case .atLeast(let m):
                for sub in m.filters { stack.append((sub, d + 1)) }
            default: break
            }
        }
    }

    /// Whether the point with `payload` (and `id`, for `hasId`; without it `hasId` never
    /// holds) satisfies the filter.
    public func matches(_ payload: Payload, id: UInt64? = nil) -> Bool {
        switch self {
        case .must(let fs):
            for f in fs where !f.matches(payload, id: id) { return false }
            return true
        case .should(let fs):
            if fs.isEmpty { return true }
            for f in fs where f.matches(payload, id: id) { return true }
            return false
        case .mustNot(let fs):
            for f in fs where f.matches(payload, id: id) { return false }
            return true
        case .hasId(let ids):
            return id.map(ids.contains) ?? false
        case .match(let key, let value):
            return Self.anyValue(payload, key) { v in Self.anyElement(v) { Self.equal($0, value) } }
        case .range(let key, let r):
            return Self.anyValue(payload, key) { v in Self.anyElement(v) { $0.doubleValue.map(r.contains) ?? false } }
        case .isIn(let key, let values):
            return Self.anyValue(payload, key) { v in Self.anyElement(v) { e in values.contains { Self.equal(e, $0) } } }
        case .isNull(let key):
            return Self.anyValue(payload, key) { v in if case .null = v { return true } else { return false } }
        case .isEmpty(let key):
            // Empty: nothing at the key but nulls and empty lists.
            return !Self.anyValue(payload, key) { v in
                switch v {
                case .null: return false
                case .list(let items): return !items.isEmpty
                default: return true
                }
            }
        case .atLeast(let m):
            var held = 0
            for f in m.filters where f.matches(payload, id: id) {
                held += 1
                if held >= m.minimum { return true }
            }
            return m.minimum <= 0
        case .exists(let key):
            return Self.anyValue(payload, key) { v in if case .null = v { return false } else { return true } }
        }
    }

    /// Whether `test` holds for a value at `key`: the field itself when the payload has a
    /// field of that exact name (dotted names stay addressable), otherwise every value the
    /// dotted path reaches through objects and lists of objects.
    private static func anyValue(_ payload: Payload, _ key: String, _ test: (PayloadValue) -> Bool) -> Bool {
        if let v = payload[key] { return test(v) }
        guard key.utf8.contains(UInt8(ascii: ".")) else { return false }
        var path = key.split(separator: ".", omittingEmptySubsequences: false)[...]
        guard let first = path.popFirst(), let start = payload[String(first)] else { return false }
        return anyValue(start, path, test)
    }

    private static func anyValue(_ value: PayloadValue, _ path: ArraySlice<Substring>, _ test: (PayloadValue) -> Bool) -> Bool {
        guard let segment = path.first else { return test(value) }
        switch value {
        case .object(let fields):
            guard let next = fields[String(segment)] else { return false }
            return anyValue(next, path.dropFirst(), test)
        case .list(let items):
            for item in items where anyValue(item, path, test) { return true }
            return false
        default:
            return false
        }
    }

    private static func anyElement(_ v: PayloadValue, _ test: (PayloadValue) -> Bool) -> Bool {
        if case .list(let items) = v {
            for item in items where test(item) { return true }
            return false
        }
        return test(v)
    }

    private static func equal(_ a: PayloadValue, _ b: PayloadValue) -> Bool {
        if let x = a.doubleValue, let y = b.doubleValue { return x == y }
        return a == b
    }
}
