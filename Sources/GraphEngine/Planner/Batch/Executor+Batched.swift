import Dispatch
import Synchronization
import WorkControl

extension Executor {
    /// Thrown inside a batch run when a value is not one the batch path computes with exactly
    /// as the row path does: the run is given up and the query runs row at a time.
    static let batchFallback = GraphError.Code(name: "batchFallback")
    /// Thrown inside a batch run whose rows come out of the row path's order (on several
    /// threads, or from the relationships) when what it met depends on that order
    /// (`BatchAccumulator.inOrder`): the query runs again in blocks, in order, on one thread.
    static let batchInOrder = GraphError.Code(name: "batchInOrder")
    /// Thrown inside a part of a batch run on several threads when another part failed.
    static let batchStopped = GraphError.Code(name: "batchStopped")

    /// Ids (or relationships) a scan must have per thread before a batch run is split (below
    /// it the threads' start and the merge cost more than they save).
    static let idsPerBatchThread = 64 * BatchRows.capacity

    /// Parts a run on several threads cuts its scan into per thread: a thread that is held up
    /// (the machine busy with other work) holds up the end of the run by one part only, the
    /// others taking the parts still waiting.
    static let partsPerBatchThread = 4

    /// The result of `plan` run in blocks, its groups then projected as the row pipeline's are.
    /// Over most of the graph the one expand reads the relationships where they are stored
    /// (`BatchRelationshipScan`), else the scanned nodes' adjacency (`BatchRunner`), in order;
    /// a run whose rows come out of order that meets a value whose aggregate depends on their
    /// order runs again in order on one thread (`batchInOrder`). With `queryThreads` above 1 and
    /// a large enough scan, the scan is cut into parts run on as many threads (each with its own
    /// aggregation, merged). Nil when a batch run gave up (`batchFallback`): what it charged is
    /// given back, PROFILE's counts are cleared, and the caller runs the query row at a time.
    func runBatched(_ plan: PlannedQuery, _ batch: BatchPlan, profile: PlanProfile?) throws(GraphError) -> QueryResult? {
        guard case .aggregate(let keyItems, let aggregateItems, _, _) = plan.output else { return nil }
        let keys = keyItems.map(\.alias), aggregates = aggregateItems.map(\.alias), slots = plan.slotNames.count, store = self.store
        let mark = control.mark
        defer { control.release(to: mark) }
        var aggregation: BatchAggregation? = nil
        // Whether a run out of order met a value whose aggregate depends on the order.
        var needsOrder = false
        do throws(GraphError) {
            if batch.readsRelationships(in: store) {
                let chunks = store.relationships.chunkNumbers
                let threads = min(queryThreads, store.relationshipCount / idsPerQueryThread)
                do throws(GraphError) {
                    aggregation = try runInParts(plan, batch, keys: keys, aggregates: aggregates, placed: true,
                                                 parts: Self.split(chunks, threads * Self.partsPerBatchThread), threads: max(1, threads),
                                                 profile: profile) { part, p, control, profile, stop, aggregation throws(GraphError) in
                        try BatchRelationshipScan(batch, slots: slots, chunks: part, readsLoose: p == 0, store, control, profile: profile,
                                                  stop: stop, into: aggregation).run()
                    }
                    profile?.readRelationships = true
                } catch where error.code == Self.batchInOrder {
                    profile?.clear()
                    needsOrder = true
                }
            }
            if aggregation == nil {
                let source = BatchSource(batch.scan, store)
                try control.hold(source.gatheredBytes)
                let threads = min(queryThreads, source.count / idsPerQueryThread)
                do throws(GraphError) {
                    guard threads > 1, !needsOrder else { throw GraphError(Self.batchInOrder, "one thread") }
                    aggregation = try runInParts(plan, batch, keys: keys, aggregates: aggregates, placed: false,
                                                 parts: source.parts(threads * Self.partsPerBatchThread), threads: threads,
                                                 profile: profile) { part, _, control, profile, stop, aggregation throws(GraphError) in
                        try BatchRunner(batch, slots: slots, runs: part, of: source, store, control, profile: profile, stop: stop,
                                        into: aggregation).run()
                    }
                } catch where error.code == Self.batchInOrder {
                    profile?.clear()
                    let inOrder = BatchAggregation(keys: keys, aggregates: aggregates, batch, store, control, inOrder: true, dense: [:])
                    do throws(GraphError) {
                        try BatchRunner(batch, slots: slots, runs: source.runs[...], of: source, store, control, profile: profile,
                                        stop: nil, into: inOrder).run()
                    } catch {
                        inOrder.abandon()
                        throw error
                    }
                    aggregation = inOrder
                }
            }
        } catch where error.code == Self.batchFallback {
            profile?.clear()
            return nil
        }
        guard let aggregation else { return nil }
        profile?.batched = true
        let sink = try ProjectionSink(plan.output, columns: plan.columns, scope: plan.scope, self, grouped: aggregation)
        let result = try sink.finish()
        profile?.outputRows = result.rows.count
        return result
    }

    /// `items` cut into at most `n` consecutive parts of about equal length.
    private static func split<T>(_ items: [T], _ n: Int) -> [ArraySlice<T>] {
        let n = max(1, min(n, items.count))
        return (0..<n).map { p in items[(items.count * p / n)..<(items.count * (p + 1) / n)] }
    }

    /// One part's run: its part, its number, and the control, PROFILE counts, stop signal and
    /// aggregation it runs with.
    private typealias PartRun<Part> = @Sendable (Part, Int, QueryControl, PlanProfile?, BatchStop, BatchAggregation) throws(GraphError) -> Void

    /// Runs `parts` on `threads` threads at once (`DispatchQueue.concurrentPerform`, the calling
    /// thread one of them, so the run needs no free thread to finish), each thread taking the
    /// next part waiting, each part with an aggregation of its own taking rows out of order,
    /// and merges those in part order (`placed`: the rows carry their places, see
    /// `BatchAggregation`). The first thread charges the query's `control`; each other one a
    /// control of its own on the same budget, signal and deadline, whose account ends once its
    /// groups are merged (and charged here). The `DenseIntColumn`s the parts read are made
    /// once, here, and shared.
    private func runInParts<Part: Sendable>(_ plan: PlannedQuery, _ batch: BatchPlan, keys: [String], aggregates: [String], placed: Bool,
                                            parts: [Part], threads: Int, profile: PlanProfile?,
                                            _ run: PartRun<Part>) throws(GraphError) -> BatchAggregation {
        let stop = BatchStop()
        let store = self.store
        let bounds = WorkBounds(memory: control.memory, cancellation: control.cancellation)
        let dense = BatchInput.denseColumns(for: batch, placed: placed, store, control)
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
                let aggregation = BatchAggregation(keys: keys, aggregates: aggregates, batch, store, worker.control, inOrder: false,
                                                   placed: placed, dense: dense)
                outcomes[p].aggregation = aggregation
                do throws(GraphError) {
                    try run(parts[p], p, worker.control, worker.profile, stop, aggregation)
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
