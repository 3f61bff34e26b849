import Dispatch
import RPC
import Synchronization
import Testing
import WorkControl
@testable import Services

/// A gate jobs wait on until the test opens it (so the pool's threads are known to be busy).
private final class Gate: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private let started = Atomic<Int>(0)
    func wait() { _ = started.add(1, ordering: .relaxed); semaphore.wait() }
    func open(_ count: Int) { for _ in 0..<count { semaphore.signal() } }
    var waiting: Int { started.load(ordering: .relaxed) }
}

private final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}

/// Runs the tests' tasks on a thread of their own (a serial dispatch queue, not Swift's
/// cooperative pool): the suite runs beside CPU-heavy synchronous tests that can hold every
/// cooperative thread for a minute, and these tests time what the pool does, not that.
private final class QueueTaskExecutor: TaskExecutor {
    private let queue = DispatchQueue(label: "ruvector.tests.work-pool")
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

private let testExecutor = QueueTaskExecutor()

/// Occupies the pool's only thread with a job of `owner` that waits on the returned gate.
private func occupy(_ pool: WorkPool, owner: UInt64 = 0) async throws -> (Gate, Task<Void, any Error>) {
    let gate = Gate()
    let task = Task(executorPreference: testExecutor) { try await pool.run(owner: owner, cancellation: CancellationSignal()) { gate.wait() } }
    try await waitUntil { gate.waiting == 1 }
    return (gate, task)
}

/// Waits until `condition` holds; throws after 60 s (the suite runs beside CPU-heavy tests,
/// so a task may wait seconds for a thread), ending the test instead of letting it wait on
/// jobs that never ran.
private func waitUntil(_ condition: () -> Bool) async throws {
    struct NotMet: Error {}
    let deadline = ContinuousClock.now + .seconds(60)
    while !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("condition not met within 60 s")
            throw NotMet()
        }
        try await Task.sleep(for: .milliseconds(2))
    }
}

@Suite struct WorkPoolTests {
    @Test func runsJobsOnItsThreadsAndPassesResultsAndErrors() async throws {
        try await withTaskExecutorPreference(testExecutor) {
            let pool = WorkPool(name: "test", threads: 2, queueLimit: 8, ownerQueueLimit: 8)
            defer { pool.shutdown() }
            let value = try await pool.run(owner: 1, cancellation: CancellationSignal()) { 6 * 7 }
            #expect(value == 42)
            struct Failure: Error {}
            await #expect(throws: Failure.self) { try await pool.run(owner: 1, cancellation: CancellationSignal()) { throw Failure() } }
            // The worker counts a job after handing back its result: wait for the count.
            try await waitUntil { pool.counters.completed == 2 }
        }
    }

    @Test func aFullQueueRefusesAtOnce() async throws {
        try await withTaskExecutorPreference(testExecutor) {
            let pool = WorkPool(name: "search", threads: 1, queueLimit: 2, ownerQueueLimit: 2)
            defer { pool.shutdown() }
            let gate = Gate()
            defer { gate.open(16) }
            // One job runs (and blocks), two wait from two owners: the queue is full.
            let running = Task(executorPreference: testExecutor) { try await pool.run(owner: 1, cancellation: CancellationSignal()) { gate.wait() } }
            try await waitUntil { gate.waiting == 1 }
            let queued = (2...3).map { owner in Task(executorPreference: testExecutor) { try await pool.run(owner: UInt64(owner), cancellation: CancellationSignal()) { gate.wait() } } }
            try await waitUntil { pool.counters.queued == 2 }
            let started = ContinuousClock.now
            let error = await #expect(throws: RPCError.self) { try await pool.run(owner: 4, cancellation: CancellationSignal()) { 0 } }
            #expect(error?.code == .resourceExhausted)
            #expect(error?.message.contains("search queue is full") == true)
            #expect(ContinuousClock.now - started < .milliseconds(500))
            #expect(pool.counters.rejected == 1)
            gate.open(3)
            try await running.value
            for task in queued { try await task.value }
        }
    }

    @Test func oneConnectionCannotTakeTheWholeQueue() async throws {
        try await withTaskExecutorPreference(testExecutor) {
            let pool = WorkPool(name: "search", threads: 1, queueLimit: 100, ownerQueueLimit: 3)
            defer { pool.shutdown() }
            let (gate, running) = try await occupy(pool, owner: 9)
            defer { gate.open(16) }
            let mine = (0..<3).map { _ in Task(executorPreference: testExecutor) { try await pool.run(owner: 1, cancellation: CancellationSignal()) { gate.wait() } } }
            try await waitUntil { pool.counters.queued == 3 }
            let error = await #expect(throws: RPCError.self) { try await pool.run(owner: 1, cancellation: CancellationSignal()) { 0 } }
            #expect(error?.code == .resourceExhausted)
            #expect(error?.message.contains("this connection already has 3") == true)
            // Another connection still gets in.
            let other = Task(executorPreference: testExecutor) { try await pool.run(owner: 2, cancellation: CancellationSignal()) { 7 } }
            gate.open(4)
            #expect(try await other.value == 7)
            try await running.value
            for task in mine { try await task.value }
        }
    }

    @Test func waitingJobsAreTakenRoundRobinBetweenConnections() async throws {
        try await withTaskExecutorPreference(testExecutor) {
            let pool = WorkPool(name: "search", threads: 1, queueLimit: 100, ownerQueueLimit: 100)
            defer { pool.shutdown() }
            let gate = Gate()
            defer { gate.open(16) }
            final class Order: Sendable {
                let owners = Mutex<[UInt64]>([])
                func append(_ owner: UInt64) { owners.withLock { $0.append(owner) } }
            }
            let order = Order()
            let blocker = Task(executorPreference: testExecutor) { try await pool.run(owner: 0, cancellation: CancellationSignal()) { gate.wait() } }
            try await waitUntil { gate.waiting == 1 }
            var tasks: [Task<Void, any Error>] = []
            for _ in 0..<20 {
                tasks.append(Task(executorPreference: testExecutor) { try await pool.run(owner: 1, cancellation: CancellationSignal()) { order.append(1) } })
            }
            try await waitUntil { pool.counters.queued == 20 }
            tasks.append(Task(executorPreference: testExecutor) { try await pool.run(owner: 2, cancellation: CancellationSignal()) { order.append(2) } })
            try await waitUntil { pool.counters.queued == 21 }
            gate.open(1)
            try await blocker.value
            for task in tasks { try await task.value }
            // Connection 2's one job ran second, not after connection 1's twenty.
            #expect(order.owners.withLock { $0.firstIndex(of: 2) } == 1)
        }
    }

    @Test func aCallCancelledWhileWaitingLeavesTheQueueAndNeverRuns() async throws {
        try await withTaskExecutorPreference(testExecutor) {
            let pool = WorkPool(name: "cypher", threads: 1, queueLimit: 10, ownerQueueLimit: 10)
            defer { pool.shutdown() }
            let gate = Gate()
            defer { gate.open(16) }
            let ran = Flag()
            let blocker = Task(executorPreference: testExecutor) { try await pool.run(owner: 1, cancellation: CancellationSignal()) { gate.wait() } }
            try await waitUntil { gate.waiting == 1 }
            let waiting = Task(executorPreference: testExecutor) { try await pool.run(owner: 2, cancellation: CancellationSignal()) { ran.set() } }
            try await waitUntil { pool.counters.queued == 1 }
            waiting.cancel()
            let error = await #expect(throws: RPCError.self) { try await waiting.value }
            #expect(error?.code == .cancelled)
            #expect(pool.counters.queued == 0)
            gate.open(1)
            try await blocker.value
            #expect(!ran.isSet)
        }
    }

    @Test func cancellingARunningCallRaisesItsSignal() async throws {
        try await withTaskExecutorPreference(testExecutor) {
            let pool = WorkPool(name: "search", threads: 1, queueLimit: 10, ownerQueueLimit: 10)
            defer { pool.shutdown() }
            let signal = CancellationSignal()
            let started = Flag()
            // When the job saw the signal, on its own thread (the test's task may wait seconds for a
            // cooperative thread when the suite runs beside CPU-heavy tests, so it is not timed).
            final class Box: Sendable { let stoppedAt = Mutex<ContinuousClock.Instant?>(nil) }
            let box = Box()
            let task = Task(executorPreference: testExecutor) {
                try await pool.run(owner: 1, cancellation: signal) { () throws(WorkLimitError) -> Bool in
                    started.set()
                    // Spins until the signal stops it; gives up (returning) after 30 s so a broken
                    // cancel fails the test instead of hanging it.
                    let giveUp = ContinuousClock.now + .seconds(30)
                    while ContinuousClock.now < giveUp {
                        // Noted where the job stops (reading `isCancelled` first raced the cancel:
                        // false there, then `check()` threw and nothing was noted; CI failed on it).
                        do throws(WorkLimitError) { try signal.check() } catch {
                            box.stoppedAt.withLock { $0 = ContinuousClock.now }
                            throw error
                        }
                    }
                    return false
                }
            }
            try await waitUntil { started.isSet }
            let cancelled = ContinuousClock.now
            task.cancel()
            await #expect(throws: WorkLimitError.self) { _ = try await task.value }
            let stopped = try #require(box.stoppedAt.withLock { $0 })
            // A cancel that did not reach the job would take 30 s.
            #expect(stopped - cancelled < .seconds(2))
        }
    }

    @Test func shutdownAnswersWaitingJobsUnavailable() async throws {
        try await withTaskExecutorPreference(testExecutor) {
            let pool = WorkPool(name: "write", threads: 1, queueLimit: 10, ownerQueueLimit: 10)
            let (gate, blocker) = try await occupy(pool, owner: 1)
            defer { gate.open(16) }
            let waiting = Task(executorPreference: testExecutor) { try await pool.run(owner: 2, cancellation: CancellationSignal()) { 1 } }
            try await waitUntil { pool.counters.queued == 1 }
            pool.shutdown()
            let error = await #expect(throws: RPCError.self) { _ = try await waiting.value }
            #expect(error?.code == .unavailable)
            gate.open(1)
            try await blocker.value
            let late = await #expect(throws: RPCError.self) { _ = try await pool.run(owner: 3, cancellation: CancellationSignal()) { 1 } }
            #expect(late?.code == .unavailable)
        }
    }
}

@Suite struct FIFOTests {
    @Test func keepsOrderAcrossCompaction() {
        var queue = FIFO<Int>()
        var expected: [Int] = []
        var next = 0
        for round in 0..<50 {
            for _ in 0..<(round % 7 + 1) { queue.append(next); expected.append(next); next += 1 }
            for _ in 0..<(round % 5) {
                #expect(queue.popFirst() == expected.first)
                if !expected.isEmpty { expected.removeFirst() }
            }
            #expect(Array(queue.elements) == expected)
        }
        if let middle = expected.dropFirst(expected.count / 2).first {
            #expect(queue.remove(where: { $0 == middle }) == middle)
            expected.removeAll { $0 == middle }
        }
        #expect(Array(queue.elements) == expected)
    }
}
