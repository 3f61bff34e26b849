import Dispatch
import Synchronization
import WorkControl

extension Executor {
    /// Thrown inside a batch run when a value is not one the batch path computes with exactly
    /// as the row path does: the run is given up and the query runs row at a time.
    static let batchFallback = GraphError.Code(name: "batchFallback")
    /// Thrown inside one part of a batch run on several threads when what it met cannot be
    /// merged exactly (`BatchAccumulator.inPart`): the query runs again in one part.
    static let batchOneThread = GraphError.Code(name: "batchOneThread")
    /// Thrown inside a part of a batch run on several threads when another part failed.
    static let batchStopped = GraphError.Code(name: "batchStopped")

    /// Ids a scan must have per thread before a batch run is split (below it the threads'
    /// start and the merge cost more than they save).
    static let idsPerBatchThread = 64 * BatchRows.capacity

    /// The result of `plan` run in blocks (`BatchRunner`, `BatchAggregation`), its groups then
    /// projected as the row pipeline's are. With `queryThreads` above 1 and a large enough scan,
    /// the scan is split into consecutive parts run on as many threads (each with its own
    /// aggregation, merged in order), and in one part when a part meets what it cannot merge
    /// exactly. Nil when the batch run gave up (`batchFallback`): what it charged is given
    /// back, PROFILE's counts are cleared, and the caller runs the query row at a time.
    func runBatched(_ plan: PlannedQuery, _ batch: BatchPlan, profile: PlanProfile?) throws(GraphError) -> QueryResult? {
        guard case .aggregate(let keys, let aggregates, _, _) = plan.output else { return nil }
        let source = BatchSource(batch.scan, store)
        let mark = control.mark
        defer { control.release(to: mark) }
        try control.hold(source.gatheredBytes)
        let threads = min(queryThreads, source.count / idsPerQueryThread)
        let aggregation: BatchAggregation
        do throws(GraphError) {
            do throws(GraphError) {
                guard threads > 1 else { throw GraphError(Self.batchOneThread, "one thread") }
                aggregation = try runInParts(plan, batch, source, keys: keys.map(\.alias), aggregates: aggregates.map(\.alias),
                                             parts: source.parts(threads * Self.partsPerBatchThread), threads: threads, profile: profile)
            } catch where error.code == Self.batchOneThread {
                profile?.clear()
                aggregation = BatchAggregation(keys: keys.map(\.alias), aggregates: aggregates.map(\.alias), batch, store, control,
                                               inPart: false, dense: [:])
                do throws(GraphError) {
                    try BatchRunner(batch, slots: plan.slotNames.count, runs: source.runs[...], of: source, store, control,
                                    profile: profile, stop: nil, into: aggregation).run()
                } catch {
                    aggregation.abandon()
                    throw error
                }
            }
        } catch where error.code == Self.batchFallback {
            profile?.clear()
            return nil
        }
        profile?.batched = true
        let sink = try ProjectionSink(plan.output, columns: plan.columns, scope: plan.scope, self, grouped: aggregation)
        let result = try sink.finish()
        profile?.outputRows = result.rows.count
        return result
    }

    /// Parts a run on several threads cuts its scan into per thread: a thread that is held up
    /// (the machine busy with other work) holds up the end of the run by one part only, the
    /// others taking the parts still waiting.
    static let partsPerBatchThread = 4

    /// Runs the scan's `parts` on `threads` threads at once (`DispatchQueue.concurrentPerform`,
    /// the calling thread one of them, so the run needs no free thread to finish), each thread
    /// taking the next part waiting, and merges the parts' aggregations in order. The first
    /// thread charges the query's `control`; each other one a control of its own on the same
    /// budget, signal and deadline, whose account ends once its groups are merged (and charged
    /// here). The `DenseIntColumn`s the parts read are made once, here, and shared.
    private func runInParts(_ plan: PlannedQuery, _ batch: BatchPlan, _ source: BatchSource, keys: [String], aggregates: [String],
                            parts: [ArraySlice<ArraySlice<Int>>], threads: Int, profile: PlanProfile?) throws(GraphError) -> BatchAggregation {
        let stop = BatchStop()
        let store = self.store, slots = plan.slotNames.count
        let bounds = WorkBounds(memory: control.memory, cancellation: control.cancellation)
        let dense = BatchInput.denseColumns(for: batch, store, control)
        // Each thread's control and profile are made here, on one thread.
        let workers = (0..<threads).map { w in
            BatchWorker(control: w == 0 ? control : QueryControl(bounds: bounds, deadline: control.deadline),
                        profile: w == 0 ? profile : profile.map { _ in PlanProfile(operators: plan.steps.count) })
        }
        let outcomes = parts.map { _ in BatchPart() }
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: threads) { w in
            let worker = workers[w]
            while !stop.isRaised {
                let p = next.add(1, ordering: .relaxed).oldValue
                guard p < parts.count else { return }
                let aggregation = BatchAggregation(keys: keys, aggregates: aggregates, batch, store, worker.control, inPart: true,
                                                   dense: dense)
                outcomes[p].aggregation = aggregation
                do throws(GraphError) {
                    try BatchRunner(batch, slots: slots, runs: parts[p], of: source, store, worker.control, profile: worker.profile,
                                    stop: stop, into: aggregation).run()
                } catch {
                    outcomes[p].error = error
                    stop.raise()
                    return
                }
            }
        }
        defer {
            for worker in workers.dropFirst() { worker.control.finish(keeping: 0) }
        }
        if let profile {
            for worker in workers.dropFirst() {
                guard let partial = worker.profile else { continue }
                for i in profile.rows.indices.dropFirst() { profile.rows[i] += partial.rows[i] }
                for i in profile.nanoseconds.indices { profile.nanoseconds[i] += partial.nanoseconds[i] }
            }
        }
        // A part's own failure, in part order, over the stops it caused in the others.
        let failures = outcomes.compactMap { $0.error }.filter { $0.code != Self.batchStopped }
        if let failure = failures.first(where: { $0.code == Self.batchFallback }) ?? failures.first {
            for part in outcomes { part.aggregation?.abandon() }
            throw failure
        }
        guard let first = outcomes.first?.aggregation else { throw GraphError(.runtime, "internal: a batch part did not run") }
        do throws(GraphError) {
            for part in outcomes.dropFirst() {
                guard let later = part.aggregation else { throw GraphError(.runtime, "internal: a batch part did not run") }
                try first.absorb(later)
                later.abandon()
            }
        } catch {
            for part in outcomes { part.aggregation?.abandon() }
            throw error
        }
        return first
    }
}

/// One thread of a batch run on several threads: the account and PROFILE counts of the parts
/// it runs, used by that thread only while the run lasts.
private final class BatchWorker: @unchecked Sendable {
    let control: QueryControl
    let profile: PlanProfile?

    init(control: QueryControl, profile: PlanProfile?) {
        self.control = control
        self.profile = profile
    }
}

/// What one part of a batch run on several threads made: written by the thread that ran it,
/// read once every thread has ended.
private final class BatchPart: @unchecked Sendable {
    var aggregation: BatchAggregation?
    var error: GraphError?
}
