import Dispatch
import RPC
import Storage
import Synchronization
import Wire
import WorkControl

/// Runs training in the background, one run at a time for the whole server (on a 2-core
/// machine a second concurrent run would only slow searches further), on its own thread so
/// searches and writes never wait for it. Keeps each collection's `LearnContinuity` between
/// runs, and starts the runs of continuous mode (`retrain_every`).
final class LearnTrainer: Sendable {
    private let queue = DispatchQueue(label: "ruvector.learn.training", qos: .utility)
    private let state = Mutex<[String: Slot]>([:])

    private struct Slot {
        /// The run in progress (queued or running), raised to cancel it.
        var running: CancellationSignal?
        var continuity: LearnContinuity?
        /// Why the last background (continuous) run failed, shown by GetModelStatus.
        var lastBackgroundFailure: String?
    }

    /// Starts a run for `source` (FAILED_PRECONDITION while one is running for it) whose
    /// memory is charged to `budget` (closed when the run ends); `progress` and `completion`
    /// are called on the training thread. Returns the run's cancellation.
    func start(_ source: any LearnSource, store: LearnStore, request: RuvectorV1.TrainRequest, budget: CallBudget,
               progress: @escaping @Sendable (RuvectorV1.TrainProgress) -> Void,
               completion: @escaping @Sendable (Result<RuvectorV1.ModelStatus, any Error>) -> Void) throws -> CancellationSignal {
        let name = source.learnName
        let cancellation = CancellationSignal()
        try state.withLock { slots in
            guard slots[name]?.running == nil else {
                budget.close()
                throw RPCError(.failedPrecondition, "\(source.described) is already training; wait for that run to end or cancel it")
            }
            slots[name, default: Slot()].running = cancellation
        }
        let settings = LearnTraining.settings(store.config, request)
        queue.async { [self] in
            defer { budget.close() }
            var continuity = state.withLock { $0[name]?.continuity }
            let result = Result<RuvectorV1.ModelStatus, any Error> {
                try cancellation.check()
                return try LearnTraining.run(store: store, source: source, settings: settings, continuity: &continuity,
                                             memory: budget, cancellation: cancellation, nowMicros: DurabilityOptions.unixMicros, progress: progress)
            }
            state.withLock { slots in
                slots[name]?.running = nil
                if case .success = result { slots[name]?.continuity = continuity }
            }
            completion(result)
        }
        return cancellation
    }

    /// Continuous mode: after a feedback record, starts a background run when `retrain_every`
    /// records arrived since the last run and none is running.
    func feedbackRecorded(_ source: any LearnSource, store: LearnStore, budget: @autoclosure () -> CallBudget) {
        let every = UInt64(store.config.retrainEvery)
        let name = source.learnName
        guard every > 0 else { return }
        let due = state.withLock { slots in
            slots[name]?.running == nil && store.feedbackRecords >= (slots[name]?.continuity?.recordsTrained ?? 0) + every
        }
        guard due else { return }
        _ = try? start(source, store: store, request: RuvectorV1.TrainRequest(collection: name), budget: budget(), progress: { _ in }) { [self] result in
            let failure: String?
            switch result {
            case .success: failure = nil
            case .failure(let error): failure = (error as? RPCError)?.message ?? "\(error)"
            }
            state.withLock { $0[name]?.lastBackgroundFailure = failure }
        }
    }

    /// Why the last continuous run of `name` failed (nil: it did not, or none ran).
    func lastBackgroundFailure(_ name: String) -> String? {
        state.withLock { $0[name]?.lastBackgroundFailure }
    }

    /// Cancels the run of `name` and forgets what its training kept (the collection or its
    /// learning state was deleted, or a model was imported over it).
    func forget(_ name: String) {
        let running = state.withLock { $0.removeValue(forKey: name)?.running }
        running?.cancel()
    }

    /// Cancels every run (shutdown).
    func cancelAll() {
        let running = state.withLock { slots in slots.values.compactMap(\.running) }
        for signal in running { signal.cancel(.shutdown) }
    }
}
