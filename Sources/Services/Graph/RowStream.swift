import GraphEngine
import Storage
import Wire

/// Turns a streamed query's events into ExecuteResponse parts (a header, then row batches)
/// and hands them to the RPC writer through a `BlockingHandoff`. Runs on the query's thread.
struct RowStream {
    let handoff: BlockingHandoff<RuvectorV1.ExecuteResponse>
    let maxRows: Int
    let batchRows: Int
    private(set) var rows = 0
    /// True once `maxRows` rows were sent (the query was then stopped on purpose).
    var reachedMaxRows: Bool { rows >= maxRows }
    private var store = GraphStore()
    private var batch: [RuvectorV1.Row] = []

    init(handoff: BlockingHandoff<RuvectorV1.ExecuteResponse>, maxRows: Int, batchRows: Int) {
        self.handoff = handoff
        self.maxRows = maxRows
        self.batchRows = batchRows
    }

    mutating func take(_ event: QueryStreamEvent) throws(GraphError) {
        switch event {
        case .columns(let columns, let store):
            self.store = store
            try send(RuvectorV1.ExecuteResponse(part: .header(RuvectorV1.ResultHeader(columns: columns))))
        case .row(let values):
            // Stops the query early; the caller sees `reachedMaxRows`.
            guard rows < maxRows else { throw GraphError(.cancelled, "max_rows (\(maxRows)) rows were sent") }
            batch.append(RuvectorV1.Row(values: values.map { GraphMapping.graphValue($0, store: store) }))
            rows += 1
            if batch.count == batchRows { try flush() }
        }
    }

    /// Sends the rows not sent yet.
    mutating func flush() throws(GraphError) {
        guard !batch.isEmpty else { return }
        try send(RuvectorV1.ExecuteResponse(part: .rows(RuvectorV1.RowBatch(rows: batch))))
        batch.removeAll(keepingCapacity: true)
    }

    private func send(_ part: RuvectorV1.ExecuteResponse) throws(GraphError) {
        do { try handoff.send(part) } catch { throw GraphError(.cancelled, error.message) }
    }
}
