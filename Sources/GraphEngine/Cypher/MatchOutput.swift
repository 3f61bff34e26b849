/// Where MATCH puts the rows it finds: each is handed to a consumer as it is found (the next
/// pipeline stage, an aggregation, a streamed RETURN), so that a large result is never held
/// by the walk itself.
struct MatchOutput {
    private let consumer: (Row) throws(GraphError) -> Void

    /// Hands each row to `consumer` as it is found.
    init(consumer: @escaping (Row) throws(GraphError) -> Void) { self.consumer = consumer }

    mutating func append(_ row: Row) throws(GraphError) {
        try consumer(row)
    }
}

/// What a streamed query hands its consumer: the column names once, then each row.
public enum QueryStreamEvent: Sendable {
    /// The column names, before any row, and the store the rows' nodes and relationships
    /// are read from (the snapshot the query runs on).
    case columns([String], GraphStore)
    /// One row, a value per column.
    case row([Value])
}
