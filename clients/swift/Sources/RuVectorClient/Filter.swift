/// A filter over payloads, evaluated during the index walk. An empty filter matches everything.
///
/// ```swift
/// // lang == "swift" AND year >= 2020 AND NOT draft == true
/// let filter = Filter(must: [.match("lang", .keyword("swift")), .range("year", gte: 2020)],
///                     mustNot: [.match("draft", .boolean(true))])
/// // or, built up step by step:
/// let same = Filter.where("lang", equals: "swift").and(.range("year", gte: 2020)).andNot(.match("draft", .boolean(true)))
/// ```
public struct Filter: Sendable, Hashable {
    /// Every condition must hold (AND).
    public var must: [Condition]
    /// At least `minShould` of these must hold (OR when it is 0 or 1).
    public var should: [Condition]
    /// None of these may hold (NOT).
    public var mustNot: [Condition]
    /// How many `should` conditions must hold; 0 means 1 when `should` is not empty.
    public var minShould: UInt32

    /// Makes a filter from its three clauses.
    public init(must: [Condition] = [], should: [Condition] = [], mustNot: [Condition] = [], minShould: UInt32 = 0) {
        self.must = must
        self.should = should
        self.mustNot = mustNot
        self.minShould = minShould
    }

    /// True when the filter has no condition (it matches everything).
    public var isEmpty: Bool { must.isEmpty && should.isEmpty && mustNot.isEmpty }

    /// A filter of one `match` condition: the string field equals `value`.
    public static func `where`(_ key: String, equals value: String) -> Filter { Filter(must: [.match(key, .keyword(value))]) }

    /// A filter of one `match` condition: the integer field equals `value`.
    public static func `where`(_ key: String, equals value: Int64) -> Filter { Filter(must: [.match(key, .integer(value))]) }

    /// A filter of one `match` condition: the boolean field equals `value`.
    public static func `where`(_ key: String, equals value: Bool) -> Filter { Filter(must: [.match(key, .boolean(value))]) }

    /// This filter with one more `must` condition.
    public func and(_ condition: Condition) -> Filter {
        var copy = self
        copy.must.append(condition)
        return copy
    }

    /// This filter with one more `should` condition.
    public func or(_ condition: Condition) -> Filter {
        var copy = self
        copy.should.append(condition)
        return copy
    }

    /// This filter with one more `mustNot` condition.
    public func andNot(_ condition: Condition) -> Filter {
        var copy = self
        copy.mustNot.append(condition)
        return copy
    }
}

/// One condition of a `Filter`.
public indirect enum Condition: Sendable, Hashable {
    /// The field equals a value or is (not) in a set; a list field matches when any element does.
    case match(String, Match)
    /// The field's number lies in a range (unset bounds are open).
    case range(String, NumericRange)
    /// The key is present (`true`) or absent (`false`).
    case exists(String, Bool)
    /// A nested filter, for mixing AND, OR and NOT.
    case filter(Filter)
    /// The point's id is one of these (not accepted by the server yet).
    case hasID([PointID])
    /// The field is missing, null or an empty list (not accepted by the server yet).
    case isEmpty(String)
    /// The field is present and null (not accepted by the server yet).
    case isNull(String)

    /// The field's number is within the given bounds.
    public static func range(_ key: String, lt: Double? = nil, gt: Double? = nil,
                             lte: Double? = nil, gte: Double? = nil) -> Condition {
        .range(key, NumericRange(lt: lt, gt: gt, lte: lte, gte: gte))
    }

    /// The key is present.
    public static func exists(_ key: String) -> Condition { .exists(key, true) }
}

/// Equality or membership test of a `Condition.match`.
public enum Match: Sendable, Hashable {
    /// Equals this string.
    case keyword(String)
    /// Equals this integer.
    case integer(Int64)
    /// Equals this boolean.
    case boolean(Bool)
    /// Equals one of these strings (IN).
    case anyKeywords([String])
    /// Equals one of these integers (IN).
    case anyIntegers([Int64])
    /// Equals none of these strings (NOT IN).
    case exceptKeywords([String])
    /// Equals none of these integers (NOT IN).
    case exceptIntegers([Int64])
}

/// A numeric range; nil bounds are open. Integers and doubles compare numerically.
public struct NumericRange: Sendable, Hashable {
    /// Less than (exclusive upper bound).
    public var lt: Double?
    /// Greater than (exclusive lower bound).
    public var gt: Double?
    /// Less than or equal (inclusive upper bound).
    public var lte: Double?
    /// Greater than or equal (inclusive lower bound).
    public var gte: Double?

    /// Makes a range.
    public init(lt: Double? = nil, gt: Double? = nil, lte: Double? = nil, gte: Double? = nil) {
        self.lt = lt
        self.gt = gt
        self.lte = lte
        self.gte = gte
    }
}
