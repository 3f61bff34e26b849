import GraphEngine
import Storage
import Wire
import WorkControl

/// One ExecuteResponse part and the call memory it holds until it is sent.
struct ResponsePart: Sendable {
    let response: RuvectorV1.ExecuteResponse
    /// Charged to the call's budget when the part was built; refund it once sent.
    let memoryBytes: Int
}

/// Turns result rows into ExecuteResponse row batches of at most `batchRows` rows and about
/// `batchBytes` wire bytes (a batch is one message, which must stay under the send limit).
/// Each converted row is charged to the call's memory (twice its wire size: the message and
/// its encoding) until its batch is sent, so the rows waiting for a slow client are counted.
struct RowBatcher {
    let batchRows: Int
    let batchBytes: Int
    let maxMessageBytes: Int
    let memory: CallBudget
    private(set) var rows = 0
    private var store: GraphStore
    private var batch: [RuvectorV1.Row] = []
    private var pendingBytes = 0

    init(store: GraphStore, batchRows: Int, maxMessageBytes: Int, memory: CallBudget) {
        self.store = store
        self.batchRows = batchRows
        self.maxMessageBytes = maxMessageBytes
        batchBytes = max(1, min(4 << 20, maxMessageBytes / 2))
        self.memory = memory
    }

    /// Reads graph references of later rows from `store` (the query's snapshot).
    mutating func use(_ store: GraphStore) { self.store = store }

    /// Adds a row; returns the batches now ready to send (none, one, or two).
    mutating func add(_ values: [Value]) throws(GraphError) -> [ResponsePart] {
        let bytes = values.reduce(8) { $0 + GraphMapping.wireBytes($1, store: store) }
        guard bytes <= maxMessageBytes - 1024 else {
            throw GraphError(.resourceExhausted, "a result row takes about \(formatBytes(bytes)), more than one response message may "
                             + "(\(formatBytes(maxMessageBytes)), --max-send-message-bytes); return fewer or smaller values per row")
        }
        var ready: [ResponsePart] = []
        if pendingBytes + bytes > batchBytes, let part = takeBatch() { ready.append(part) }
        do throws(WorkLimitError) { try memory.charge(2 * bytes) } catch { throw GraphError(error) }
        batch.append(RuvectorV1.Row(values: values.map { GraphMapping.graphValue($0, store: store) }))
        pendingBytes += bytes
        rows += 1
        if batch.count >= batchRows, let part = takeBatch() { ready.append(part) }
        return ready
    }

    /// The rows not sent yet, as a batch.
    mutating func takeBatch() -> ResponsePart? {
        guard !batch.isEmpty else { return nil }
        defer {
            batch.removeAll(keepingCapacity: true)
            pendingBytes = 0
        }
        return ResponsePart(response: RuvectorV1.ExecuteResponse(part: .rows(RuvectorV1.RowBatch(rows: batch))),
                            memoryBytes: 2 * pendingBytes)
    }
}

/// Turns a streamed query's events into ExecuteResponse parts (a header, then row batches)
/// and hands them to the RPC writer through a `BlockingHandoff`, which lets the query run
/// ahead of the client by a few parts or a bounded number of (charged) bytes. Runs on the
/// query's thread.
struct RowStream {
    let handoff: BlockingHandoff<ResponsePart>
    let maxRows: Int
    private var batcher: RowBatcher
    /// Rows handed on.
    var rows: Int { batcher.rows }
    /// True once `maxRows` rows were sent (the query was then stopped on purpose).
    var reachedMaxRows: Bool { rows >= maxRows }

    init(handoff: BlockingHandoff<ResponsePart>, maxRows: Int, batchRows: Int, maxMessageBytes: Int, memory: CallBudget) {
        self.handoff = handoff
        self.maxRows = maxRows
        batcher = RowBatcher(store: GraphStore(), batchRows: batchRows, maxMessageBytes: maxMessageBytes, memory: memory)
    }

    mutating func take(_ event: QueryStreamEvent) throws(GraphError) {
        switch event {
        case .columns(let columns, let store):
            batcher.use(store)
            try send(ResponsePart(response: RuvectorV1.ExecuteResponse(part: .header(RuvectorV1.ResultHeader(columns: columns))),
                                  memoryBytes: 0))
        case .row(let values):
            // Stops the query early; the caller sees `reachedMaxRows`.
            guard rows < maxRows else { throw GraphError(.cancelled, "max_rows (\(maxRows)) rows were sent") }
            for part in try batcher.add(values) { try send(part) }
        }
    }

    /// Sends the rows not sent yet.
    mutating func flush() throws(GraphError) {
        if let part = batcher.takeBatch() { try send(part) }
    }

    private func send(_ part: ResponsePart) throws(GraphError) {
        do { try handoff.send(part, bytes: part.memoryBytes) } catch {
            batcher.memory.refund(part.memoryBytes)
            throw GraphError(.cancelled, error.message)
        }
    }
}
