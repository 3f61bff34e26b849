/// A typed, JSON-like payload value attached to a vector.
public enum PayloadValue: Sendable, Hashable {
    /// JSON null.
    case null
    /// A boolean.
    case bool(Bool)
    /// A 64-bit integer.
    case int(Int64)
    /// A double.
    case double(Double)
    /// A string (keyword).
    case string(String)
    /// A list of values; a filter condition matches a list when any element matches.
    case list([PayloadValue])
    /// A nested object; filters reach its fields with dotted keys (`"author.name"`), through
    /// lists of objects too (`"authors.name"` tests every author).
    case object([String: PayloadValue])

    /// The numeric value of `.int` and `.double`, for range conditions.
    var numeric: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }
}

/// The metadata stored with a vector: field name to value.
public typealias Payload = [String: PayloadValue]
