import Synchronization

/// The ids a batch scan reads, as runs of at most a block: the smallest of the scan's labels as
/// the label index holds it (its own sorted chunks, not copied), or every node's ids cut into
/// blocks; and the other labels each id must carry. `parts(_:)` splits the runs into
/// consecutive parts of about equal size, for a scan on several threads.
struct BatchSource {
    let runs: [ArraySlice<Int>]
    /// Ids in all the runs.
    let count: Int
    /// The labels an id must carry besides the one it was found under.
    let others: [String]
    /// Bytes held for the ids when they had to be gathered (every node's), else 0.
    let gatheredBytes: Int

    init(_ scan: BatchPlan.Scan, _ store: GraphStore) {
        guard let smallest = scan.labels.min(by: { store.labelIndex.count($0) < store.labelIndex.count($1) }) else {
            let all = store.allNodeIds()
            runs = stride(from: 0, to: all.count, by: BatchRows.capacity).map { all[$0..<min($0 + BatchRows.capacity, all.count)] }
            count = all.count
            others = []
            gatheredBytes = MemoryEstimate.idListBytes(count: all.count)
            return
        }
        var runs: [ArraySlice<Int>] = []
        store.labelIndex.set(smallest).forEachChunk { runs.append($0[...]) }
        self.runs = runs
        count = store.labelIndex.count(smallest)
        others = scan.labels.filter { $0 != smallest }
        gatheredBytes = 0
    }

    /// The runs in `n` consecutive parts (fewer when there are fewer runs), each of about
    /// `count / n` ids.
    func parts(_ n: Int) -> [ArraySlice<ArraySlice<Int>>] {
        guard n > 1, runs.count > 1 else { return [runs[...]] }
        var parts: [ArraySlice<ArraySlice<Int>>] = []
        var start = 0, ids = 0
        for (i, run) in runs.enumerated() {
            ids += run.count
            if ids * n >= count * (parts.count + 1) && parts.count < n - 1 {
                parts.append(runs[start...i])
                start = i + 1
            }
        }
        if start < runs.count { parts.append(runs[start...]) }
        return parts
    }
}

/// Raised by the first part of a batch run on several threads that fails, so the others stop
/// at their next block instead of running on.
final class BatchStop: Sendable {
    private let raised = Atomic<Bool>(false)

    func raise() { raised.store(true, ordering: .relaxed) }

    var isRaised: Bool { raised.load(ordering: .relaxed) }

    /// What a batch runner checks before it hands a block on: cancellation, the deadline (a
    /// block's rows take long enough, a new group each say, to read the clock for) and, for a
    /// part of a run on several threads, whether another part failed (`stop`).
    static func checkBeforeBlock(_ control: QueryControl, _ stop: BatchStop?) throws(GraphError) {
        try control.check()
        try control.checkDeadline()
        if let stop, stop.isRaised { throw GraphError(Executor.batchStopped, "another part of the query failed") }
    }
}
