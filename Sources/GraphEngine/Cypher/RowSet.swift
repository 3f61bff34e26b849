/// The rows one clause hands the next when they must all exist at once (before an update, a
/// sort, or the next pipeline), with what they hold charged to the query's memory: each row's
/// dictionary, counted here, and what its values hold (`kept`, per row), which goes with the
/// row to whichever clause takes it over.
struct RowSet {
    private(set) var rows: [Row] = []
    /// Bytes held by each row's values (charged when they were made).
    private(set) var kept: [Int] = []
    /// Bytes of the rows' dictionaries and this set's arrays.
    private(set) var shallowBytes = 0

    init() {}

    /// One empty row: what a query part starts from.
    init(_ row: Row, _ control: QueryControl) throws(GraphError) {
        try append(row, kept: 0, control)
    }

    var count: Int { rows.count }

    /// Adds `row`, whose values hold `bytes` already charged; charges the row itself.
    mutating func append(_ row: Row, kept bytes: Int, _ control: QueryControl) throws(GraphError) {
        let shallow = MemoryEstimate.rowBytes(row) + 2 * MemoryLayout<Int>.stride
        try control.charge(shallow)
        shallowBytes += shallow
        rows.append(row)
        kept.append(bytes)
    }

    /// The rows were taken over (their values' bytes went with them): refunds the rest.
    func releaseRows(_ control: QueryControl) { control.refund(shallowBytes) }

    /// Every row is dropped: refunds all they held.
    func releaseAll(_ control: QueryControl) {
        control.refund(shallowBytes)
        for bytes in kept { control.refund(bytes) }
    }
}
