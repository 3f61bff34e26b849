#if canImport(Glibc)
import Glibc
#endif
import CProcessShims
import Dispatch
import RPC
import Synchronization
import WorkControl

/// A fixed set of threads that run one kind of work (searches, writes, Cypher, background), fed
/// by a bounded queue that is fair between connections: waiting jobs are kept per owner (the
/// call's connection) and taken round-robin, so a client that queues a thousand searches delays
/// another client's search by one job per owner, not by a thousand. Submitting to a full queue,
/// or past an owner's share, fails at once with RESOURCE_EXHAUSTED; a job whose call is
/// cancelled while it waits leaves the queue at once.
///
/// Threads of one pool never run another kind's work, so a flood of one kind (twelve heavy
/// Cypher queries) cannot take the threads that writes or health need.
final class WorkPool: Sendable {
    /// What the pool is for, in messages and thread names ("search", "write", ...).
    let name: String
    /// Threads that run jobs.
    let threads: Int
    /// Jobs that may wait, all owners together.
    let queueLimit: Int
    /// Jobs one owner may have waiting.
    let ownerQueueLimit: Int

    private let state = Mutex(State())
    private let available = DispatchSemaphore(value: 0)

    /// Counters for metrics.
    struct Counters: Sendable, Equatable {
        var running = 0
        var queued = 0
        var completed = 0
        var rejected = 0
    }

    private struct State {
        var waiting: [UInt64: FIFO<Job>] = [:]
        /// Owners with waiting jobs, in the order they are served.
        var turn = FIFO<UInt64>()
        var nextJobID: UInt64 = 0
        var counters = Counters()
        var stopped = false
    }

    private struct Job {
        let id: UInt64
        let run: @Sendable () -> Void
        let abandon: @Sendable (RPCError) -> Void
    }

    /// Starts `threads` threads named `rv-<name>-<n>`.
    init(name: String, threads: Int, queueLimit: Int, ownerQueueLimit: Int) {
        precondition(threads >= 1 && queueLimit >= 1 && ownerQueueLimit >= 1)
        self.name = name
        self.threads = threads
        self.queueLimit = queueLimit
        self.ownerQueueLimit = ownerQueueLimit
        for index in 0..<threads {
            startThread(name: "rv-\(name.prefix(8))-\(index)") { [self] in workLoop() }
        }
    }

    var counters: Counters { state.withLock { $0.counters } }

    /// Runs `body` on one of the pool's threads and returns its result. Throws RESOURCE_EXHAUSTED
    /// at once when the queue (or `owner`'s share of it) is full, and `cancelled`'s error when
    /// the task is cancelled before the job starts (raising `cancellation` as well, so a started
    /// job sees it).
    func run<T: Sendable>(owner: UInt64, cancellation: CancellationSignal,
                          _ body: @escaping @Sendable () throws -> T) async throws -> T {
        let jobID = state.withLock { s -> UInt64 in s.nextJobID += 1; return s.nextJobID }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let job = Job(id: jobID, run: {
                    if cancellation.isCancelled {
                        continuation.resume(throwing: WorkLimitError.stopped(cancellation.reason ?? .cancelled))
                        return
                    }
                    continuation.resume(with: Result { try body() })
                }, abandon: { continuation.resume(throwing: $0) })
                if let refusal = enqueue(job, owner: owner) { continuation.resume(throwing: refusal) }
            }
        } onCancel: {
            cancellation.cancel(.cancelled)
            remove(jobID, owner: owner)
        }
    }

    /// Queues a job; returns why not when it cannot wait.
    private func enqueue(_ job: Job, owner: UInt64) -> RPCError? {
        let refusal: RPCError? = state.withLock { s in
            if s.stopped { return RPCError(.unavailable, "the server is shutting down") }
            let mine = s.waiting[owner]?.count ?? 0
            if s.counters.queued >= queueLimit {
                s.counters.rejected += 1
                return RPCError(.resourceExhausted, "the server's \(name) queue is full (\(queueLimit) calls waiting); retry with backoff")
            }
            if mine >= ownerQueueLimit {
                s.counters.rejected += 1
                return RPCError(.resourceExhausted,
                    "this connection already has \(ownerQueueLimit) \(name) calls waiting; wait for answers before sending more")
            }
            if mine == 0 { s.turn.append(owner) }
            s.waiting[owner, default: FIFO()].append(job)
            s.counters.queued += 1
            return nil
        }
        if refusal == nil { available.signal() }
        return refusal
    }

    /// Takes a waiting job out of the queue (its call was cancelled); it is answered with CANCELLED.
    private func remove(_ jobID: UInt64, owner: UInt64) {
        let removed: Job? = state.withLock { s in
            guard var jobs = s.waiting[owner], let job = jobs.remove(where: { $0.id == jobID }) else { return nil }
            s.counters.queued -= 1
            if jobs.isEmpty {
                s.waiting[owner] = nil
                _ = s.turn.remove(where: { $0 == owner })
            } else {
                s.waiting[owner] = jobs
            }
            return job
        }
        removed?.abandon(RPCError(.cancelled, "the call was cancelled while it waited for a \(name) thread"))
    }

    /// The next job, round-robin between owners; nil when none waits (a cancelled one was removed).
    private func take() -> Job? {
        state.withLock { s in
            guard let owner = s.turn.popFirst(), var jobs = s.waiting[owner], let job = jobs.popFirst() else { return nil }
            if jobs.isEmpty {
                s.waiting[owner] = nil
            } else {
                s.waiting[owner] = jobs
                s.turn.append(owner)
            }
            s.counters.queued -= 1
            s.counters.running += 1
            return job
        }
    }

    private func workLoop() {
        while true {
            available.wait()
            if state.withLock({ $0.stopped }) { return }
            guard let job = take() else { continue }
            job.run()
            state.withLock { s in
                s.counters.running -= 1
                s.counters.completed += 1
            }
        }
    }

    /// Answers every waiting job with UNAVAILABLE and lets the threads end once their current
    /// job is done.
    func shutdown() {
        let abandoned: [Job] = state.withLock { s in
            s.stopped = true
            var jobs: [Job] = []
            for (_, queue) in s.waiting { jobs += queue.elements }
            s.waiting = [:]
            s.turn = FIFO()
            s.counters.queued = 0
            return jobs
        }
        for job in abandoned { job.abandon(RPCError(.unavailable, "the server is shutting down")) }
        for _ in 0..<threads { available.signal() }
    }
}

/// A first-in first-out queue with O(1) append and pop (an array and a moving head).
struct FIFO<Element> {
    private var storage: [Element] = []
    private var head = 0

    var count: Int { storage.count - head }
    var isEmpty: Bool { count == 0 }
    var elements: ArraySlice<Element> { storage[head...] }

    mutating func append(_ element: Element) { storage.append(element) }

    mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        let element = storage[head]
        head += 1
        // Drop the consumed prefix once it is most of the array.
        if head >= 32 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return element
    }

    /// Removes and returns the first element matching `predicate`.
    mutating func remove(where predicate: (Element) -> Bool) -> Element? {
        guard let index = storage[head...].firstIndex(where: predicate) else { return nil }
        return storage.remove(at: index)
    }
}

/// Starts a detached thread named `name` (visible in `top -H` and perf) running `body`.
private func startThread(name: String, _ body: @escaping @Sendable () -> Void) {
    final class Box: Sendable {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) { self.name = name; self.body = body }
    }
    let box = Unmanaged.passRetained(Box(name: name, body: body)).toOpaque()
    var thread = pthread_t()
    let result = pthread_create(&thread, nil, { argument in
        guard let argument else { return nil }
        let box = Unmanaged<Box>.fromOpaque(argument).takeRetainedValue()
        _ = CProcessShims_setThreadName(String(box.name.prefix(15)))
        box.body()
        return nil
    }, box)
    precondition(result == 0, "cannot start a worker thread (pthread_create: \(result))")
    pthread_detach(thread)
}
