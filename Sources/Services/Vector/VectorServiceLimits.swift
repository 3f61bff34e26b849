/// Bounds on what `VectorService` accepts from the network. Every request is checked
/// against them before any engine work; over a limit is `INVALID_ARGUMENT` (or
/// `RESOURCE_EXHAUSTED` for an upload) with a message naming the limit. The server reads them
/// from the `vectorLimits` object of its JSON config (keys as the property names, see `init(overrides:)`).
public struct VectorServiceLimits: Sendable, Equatable {
    /// Largest vector dimension a collection may be created with.
    public var maxDimension = 65_536
    /// Points per Upsert (and per UpsertStream message); ids per Get and Delete.
    public var maxPointsPerWrite = 10_000
    /// Largest k + offset of a search.
    public var maxK = 10_000
    /// Largest search-time ef.
    public var maxEf = 100_000
    /// Payload bytes per point, counted as stored: key and string bytes plus 8 per value.
    public var maxPayloadBytes = 65_536
    /// Filter nesting levels.
    public var maxFilterDepth = 16
    /// Conditions in one filter, nested ones included (a `match any` list is one condition).
    public var maxFilterConditions = 1_024
    /// Values listed in one filter's `match any` / `except` lists and `has_id` conditions, together.
    public var maxFilterValues = 10_000
    /// Bytes of keys and keyword values in one filter, together.
    public var maxFilterBytes = 1 << 20
    /// Searches per SearchBatch.
    public var maxSearchesPerBatch = 1_000
    /// Page size of Scroll.
    public var maxScrollLimit = 10_000
    /// Size of a snapshot file uploaded to RestoreSnapshot (it is held in memory while checked).
    public var maxSnapshotUploadBytes = 4 << 30

    /// The defaults above.
    public init() {}

    /// Defaults with the given values replaced, e.g. `["maxK": 1000]` from a config file.
    /// Unknown names and values below 1 are refused with a message listing the known names.
    public init(overrides: [String: Int]) throws(VectorServiceLimitsError) {
        for (name, value) in overrides {
            guard let keyPath = Self.settable[name] else {
                throw VectorServiceLimitsError(description:
                    "unknown vector limit '\(name)'; known: \(Self.settable.keys.sorted().joined(separator: ", "))")
            }
            guard value >= 1 else { throw VectorServiceLimitsError(description: "vector limit '\(name)' must be at least 1, got \(value)") }
            self[keyPath: keyPath] = value
        }
    }

    /// Every limit by its config name.
    static var settable: [String: WritableKeyPath<VectorServiceLimits, Int>] { [
        "maxDimension": \.maxDimension, "maxPointsPerWrite": \.maxPointsPerWrite, "maxK": \.maxK, "maxEf": \.maxEf,
        "maxPayloadBytes": \.maxPayloadBytes, "maxFilterDepth": \.maxFilterDepth,
        "maxFilterConditions": \.maxFilterConditions, "maxFilterValues": \.maxFilterValues, "maxFilterBytes": \.maxFilterBytes,
        "maxSearchesPerBatch": \.maxSearchesPerBatch, "maxScrollLimit": \.maxScrollLimit,
        "maxSnapshotUploadBytes": \.maxSnapshotUploadBytes,
    ] }
}

/// A limits setting the operator must fix.
public struct VectorServiceLimitsError: Error, CustomStringConvertible {
    public let description: String
}
