/// Where MATCH puts the rows it finds: collected into `rows`, or handed one at a time to a
/// consumer (a streamed RETURN), so that a large result is never held whole.
struct MatchOutput {
    /// The rows found (empty when a consumer takes them).
    private(set) var rows: [Row] = []
    /// Rows found so far, collected or not.
    private(set) var count = 0
    private let consumer: ((Row) throws(GraphError) -> Void)?

    /// Collects the rows.
    init() { consumer = nil }

    /// Hands each row to `consumer` as it is found.
    init(consumer: @escaping (Row) throws(GraphError) -> Void) { self.consumer = consumer }

    mutating func append(_ row: Row) throws(GraphError) {
        count += 1
        if let consumer { try consumer(row) } else { rows.append(row) }
    }

    /// Throws `.limitExceeded` when more rows are held than one query may hold.
    func checkLimit() throws(GraphError) {
        guard consumer != nil || count <= Executor.maxRows else {
            throw GraphError(.limitExceeded, "MATCH produced more than \(Executor.maxRows) rows")
        }
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
