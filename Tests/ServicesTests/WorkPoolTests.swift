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

/// Occupies the pool's only thread with a job of `owner` that waits on the returned gate.
private func occupy(_ pool: WorkPool, owner: UInt64 = 0) async throws -> (Gate, Task<Void, any Error>) {
    let gate = Gate()
    let task = Task { try await pool.run(owner: owner, cancellation: CancellationSignal()) { gate.wait() } }
    try await waitUntil { gate.waiting == 1 }
    return (gate, task)
}

private func waitUntil(_ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(10)
    while !condition() {
        guard ContinuousClock.now < deadline else { Issue.record("condition not met within 10 s"); return }
        try await Task.sleep(for: .milliseconds(2))
    }
}

@Suite struct WorkPoolTests {
    @Test func runsJobsOnItsThreadsAndPassesResultsAndErrors() async throws {
        let pool = WorkPool(name: "test", threads: 2, queueLimit: 8, ownerQueueLimit: 8)
        defer { pool.shutdown() }
        let value = try await pool.run(owner: 1, cancellation: CancellationSignal()) { 6 * 7 }
        #expect(value == 42)
        struct Failure: Error {}
        await #expect(throws: Failure.self) { try await pool.run(owner: 1, cancellation: CancellationSignal()) { throw Failure() } }
        #expect(pool.counters.completed == 2)
    }

    @Test func aFullQueueRefusesAtOnce() async throws {
        let pool = WorkPool(name: "search", threads: 1, queueLimit: 2, ownerQueueLimit: 2)
        defer { pool.shutdown() }
        let gate = Gate()
        // One job runs (and blocks), two wait from two owners: the queue is full.
        let running = Task { try await pool.run(owner: 1, cancellation: CancellationSignal()) { gate.wait() } }
        try await waitUntil { gate.waiting == 1 }
        let queued = (2...3).map { owner in Task { try await pool.run(owner: UInt64(owner), cancellation: CancellationSignal()) { gate.wait() } } }
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

    @Test func oneConnectionCannotTakeTheWholeQueue() async throws {
        let pool = WorkPool(name: "search", threads: 1, queueLimit: 100, ownerQueueLimit: 3)
        defer { pool.shutdown() }
        let (gate, running) = try await occupy(pool, owner: 9)
        let mine = (0..<3).map { _ in Task { try await pool.run(owner: 1, cancellation: CancellationSignal()) { gate.wait() } } }
        try await waitUntil { pool.counters.queued == 3 }
        let error = await #expect(throws: RPCError.self) { try await pool.run(owner: 1, cancellation: CancellationSignal()) { 0 } }
        #expect(error?.code == .resourceExhausted)
        #expect(error?.message.contains("this connection already has 3") == true)
        // Another connection still gets in.
        let other = Task { try await pool.run(owner: 2, cancellation: CancellationSignal()) { 7 } }
        gate.open(4)
        #expect(try await other.value == 7)
        try await running.value
        for task in mine { try await task.value }
    }

    @Test func waitingJobsAreTakenRoundRobinBetweenConnections() async throws {
        let pool = WorkPool(name: "search", threads: 1, queueLimit: 100, ownerQueueLimit: 100)
        defer { pool.shutdown() }
        let gate = Gate()
        final class Order: Sendable {
            let owners = Mutex<[UInt64]>([])
            func append(_ owner: UInt64) { owners.withLock { $0.append(owner) } }
        }
        let order = Order()
        let blocker = Task { try await pool.run(owner: 0, cancellation: CancellationSignal()) { gate.wait() } }
        try await waitUntil { gate.waiting == 1 }
        var tasks: [Task<Void, any Error>] = []
        for _ in 0..<20 {
            tasks.append(Task { try await pool.run(owner: 1, cancellation: CancellationSignal()) { order.append(1) } })
        }
        try await waitUntil { pool.counters.queued == 20 }
        tasks.append(Task { try await pool.run(owner: 2, cancellation: CancellationSignal()) { order.append(2) } })
        try await waitUntil { pool.counters.queued == 21 }
        gate.open(1)
        try await blocker.value
        for task in tasks { try await task.value }
        // Connection 2's one job ran second, not after connection 1's twenty.
        #expect(order.owners.withLock { $0.firstIndex(of: 2) } == 1)
    }

    @Test func aCallCancelledWhileWaitingLeavesTheQueueAndNeverRuns() async throws {
        let pool = WorkPool(name: "cypher", threads: 1, queueLimit: 10, ownerQueueLimit: 10)
        defer { pool.shutdown() }
        let gate = Gate()
        let ran = Flag()
        let blocker = Task { try await pool.run(owner: 1, cancellation: CancellationSignal()) { gate.wait() } }
        try await waitUntil { gate.waiting == 1 }
        let waiting = Task { try await pool.run(owner: 2, cancellation: CancellationSignal()) { ran.set() } }
        try await waitUntil { pool.counters.queued == 1 }
        waiting.cancel()
        let error = await #expect(throws: RPCError.self) { try await waiting.value }
        #expect(error?.code == .cancelled)
        #expect(pool.counters.queued == 0)
        gate.open(1)
        try await blocker.value
        #expect(!ran.isSet)
    }

    @Test func cancellingARunningCallRaisesItsSignal() async throws {
        let pool = WorkPool(name: "search", threads: 1, queueLimit: 10, ownerQueueLimit: 10)
        defer { pool.shutdown() }
        let signal = CancellationSignal()
        let started = Flag()
        let task = Task {
            try await pool.run(owner: 1, cancellation: signal) { () throws(WorkLimitError) -> Int in
                started.set()
                var spins = 0
                while true {
                    try signal.check()
                    spins += 1
                }
            }
        }
        try await waitUntil { started.isSet }
        let cancelled = ContinuousClock.now
        task.cancel()
        await #expect(throws: WorkLimitError.self) { _ = try await task.value }
        #expect(ContinuousClock.now - cancelled < .milliseconds(200))
    }

    @Test func shutdownAnswersWaitingJobsUnavailable() async throws {
        let pool = WorkPool(name: "write", threads: 1, queueLimit: 10, ownerQueueLimit: 10)
        let (gate, blocker) = try await occupy(pool, owner: 1)
        let waiting = Task { try await pool.run(owner: 2, cancellation: CancellationSignal()) { 1 } }
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
