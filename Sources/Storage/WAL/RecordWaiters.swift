import Synchronization

/// Tasks waiting for a log to hold a record after some sequence (replication streams waiting
/// for new records to ship). A waiter is a suspended continuation, never a blocked thread and
/// never a poll: `publish` resumes the ones its sequence satisfies.
///
/// The log publishes its last readable sequence after each append; the value published is
/// kept here, under the same lock as the waiters, so a waiter that registers just after an
/// append sees it instead of sleeping past it.
final class RecordWaiters: Sendable {
    private struct Waiter {
        let after: UInt64
        let continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var published: UInt64
        var closed = false
        var nextId = 0
        var waiting: [Int: Waiter] = [:]
    }

    private let state: Mutex<State>

    /// Waiters that find `published` or more already published do not wait.
    init(published: UInt64) {
        state = Mutex(State(published: published))
    }

    /// The log now holds records through `sequence`: resumes the waiters it satisfies.
    func publish(_ sequence: UInt64) {
        let ready = state.withLock { state -> [Waiter] in
            guard sequence > state.published else { return [] }
            state.published = sequence
            let ready = state.waiting.filter { $0.value.after < sequence }
            for id in ready.keys { state.waiting[id] = nil }
            return Array(ready.values)
        }
        for waiter in ready { waiter.continuation.resume() }
    }

    /// The log closed: resumes every waiter, now and later (nothing more will be appended).
    func close() {
        let all = state.withLock { state -> [Waiter] in
            state.closed = true
            defer { state.waiting.removeAll() }
            return Array(state.waiting.values)
        }
        for waiter in all { waiter.continuation.resume() }
    }

    /// Returns once a sequence above `after` is published, the log is closed, or the task is
    /// cancelled.
    func wait(after: UInt64) async {
        let id = state.withLock { state in
            state.nextId += 1
            return state.nextId
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                // A cancellation that came before this point found nothing to resume: the task's
                // flag is already set, so it is seen here.
                let now = state.withLock { state -> Bool in
                    if state.closed || state.published > after || Task.isCancelled { return true }
                    state.waiting[id] = Waiter(after: after, continuation: continuation)
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiting.removeValue(forKey: id) }?.continuation.resume()
        }
    }

    /// Tasks waiting now (tests).
    var count: Int { state.withLock { $0.waiting.count } }
}
