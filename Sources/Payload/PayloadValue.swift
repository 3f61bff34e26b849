/// A typed payload value, like JSON with integers kept apart from floating point: what a
/// point carries beside its vector. One definition for the engine (filters match it) and the
/// Swift client (it builds it with literals).
///
/// Literals build values directly:
///
/// ```swift
/// let payload: Payload = ["lang": "swift", "year": 2024, "score": 0.5, "tags": ["a", "b"], "draft": nil]
/// ```
public enum PayloadValue: Sendable, Hashable {
    /// JSON null.
    case null
    /// true or false.
    case bool(Bool)
    /// A 64-bit signed integer.
    case int(Int64)
    /// A 64-bit float.
    case double(Double)
    /// UTF-8 text (the server accepts at most 64 KiB per string and no U+0000).
    case string(String)
    /// An ordered list of values; a filter condition matches a list when any element matches.
    case list([PayloadValue])
    /// A nested object; filters reach its fields with dotted keys (`"author.name"`), through
    /// lists of objects too (`"authors.name"` tests every author).
    case object([String: PayloadValue])

    /// The string, when this is `.string`.
    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    /// The integer, when this is `.int`.
    public var intValue: Int64? { if case .int(let i) = self { i } else { nil } }
    /// The number as a double, when this is `.int` or `.double` (what range conditions compare).
    public var doubleValue: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }
    /// The boolean, when this is `.bool`.
    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    /// The elements, when this is `.list`.
    public var listValue: [PayloadValue]? { if case .list(let l) = self { l } else { nil } }
    /// The fields, when this is `.object`.
    public var objectValue: [String: PayloadValue]? { if case .object(let o) = self { o } else { nil } }
}

/// A point's payload: field names to values.
public typealias Payload = [String: PayloadValue]

extension PayloadValue: ExpressibleByNilLiteral {
    /// `nil` is JSON null.
    public init(nilLiteral: ()) { self = .null }
}

extension PayloadValue: ExpressibleByBooleanLiteral {
    /// `true` / `false`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension PayloadValue: ExpressibleByIntegerLiteral {
    /// An integer literal is `.int`.
    public init(integerLiteral value: Int64) { self = .int(value) }
}

extension PayloadValue: ExpressibleByFloatLiteral {
    /// A float literal is `.double`.
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension PayloadValue: ExpressibleByStringLiteral {
    /// A string literal is `.string`.
    public init(stringLiteral value: String) { self = .string(value) }
}

extension PayloadValue: ExpressibleByArrayLiteral {
    /// An array literal is `.list`.
    public init(arrayLiteral elements: PayloadValue...) { self = .list(elements) }
}

extension PayloadValue: ExpressibleByDictionaryLiteral {
    /// A dictionary literal is `.object`.
    public init(dictionaryLiteral elements: (String, PayloadValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
