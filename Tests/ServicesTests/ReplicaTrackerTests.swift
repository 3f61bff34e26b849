import RPC
import Synchronization
import Testing
@testable import Services

@Suite("Replica tracker: what writes wait for")
struct ReplicaTrackerTests {
    @Test("a write waits for the replicas its mode needs, counts only those asked about, and wakes on the acknowledgement")
    func waits() async throws {
        let tracker = ReplicaTracker(epoch: 1)
        tracker.acknowledged(2, through: 5, primaryLast: 5)
        #expect(try await tracker.wait(for: 5, needed: 1, among: [2, 3], timeout: .seconds(1)) == 1)
        #expect(tracker.acknowledgedCount(5, among: [3]) == 0)
        async let both = tracker.wait(for: 7, needed: 2, among: [2, 3], timeout: .seconds(10))
        try await Task.sleep(for: .milliseconds(20))
        tracker.acknowledged(2, through: 7, primaryLast: 7)
        tracker.acknowledged(9, through: 7, primaryLast: 7)      // not a replica it waits for
        tracker.acknowledged(3, through: 8, primaryLast: 8)
        #expect(try await both == 2)
        #expect(tracker.floor(among: [2, 3]) == 7)
    }

    @Test("a write whose replicas do not confirm in time fails saying how many did; failAll ends the waits")
    func timeoutsAndFailure() async throws {
        let tracker = ReplicaTracker(epoch: 1)
        tracker.acknowledged(2, through: 3, primaryLast: 4)
        await #expect(throws: ReplicationTimeout.self) {
            try await tracker.wait(for: 4, needed: 1, among: [2], timeout: .milliseconds(30))
        }
        do {
            _ = try await tracker.wait(for: 4, needed: 2, among: [2, 3], timeout: .zero)
            Issue.record("a zero timeout must fail at once")
        } catch let timeout as ReplicationTimeout {
            #expect(timeout.acknowledged == 0)
        }
        let ended = EndedFlag()
        let waiting = Task {
            defer { ended.set() }
            return try await tracker.wait(for: 10, needed: 1, among: [2], timeout: .seconds(10))
        }
        // The wait registers when its task first runs, which a busy machine can put off: before
        // or after, one failAll ends it at once (well within its 10 s).
        let failed = ContinuousClock.now
        tracker.failAll(CancellationError())
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(ended.isSet && ContinuousClock.now - failed < .seconds(5))
        let progress = tracker.progress(of: [2, 3], primaryLast: 4)
        #expect(progress.map(\.lagRecords) == [1, 4] && progress[1].lagMillis == .max && !progress[0].connected)
    }

    @Test("a write that starts waiting after failAll fails at once with its error; one its replicas already have still succeeds")
    func waitAfterFailAll() async throws {
        let tracker = ReplicaTracker(epoch: 1)
        tracker.acknowledged(2, through: 5, primaryLast: 6)
        tracker.failAll(RPCError(.unavailable, "the primary of shard docs/0 changed; retry"))
        let started = ContinuousClock.now
        let error = await #expect(throws: RPCError.self) {
            try await tracker.wait(for: 6, needed: 1, among: [2, 3], timeout: .seconds(30))
        }
        #expect(error?.code == .unavailable && error?.message == "the primary of shard docs/0 changed; retry")
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(try await tracker.wait(for: 5, needed: 1, among: [2, 3], timeout: .seconds(30)) == 1)
    }

    @Test("a replica's lag in time counts from the first sight of the record it lacks, not from a later report")
    func lagFromFirstSight() async throws {
        let tracker = ReplicaTracker(epoch: 1)
        tracker.acknowledged(2, through: 4, primaryLast: 4)
        tracker.logged(5)                                   // the stream reads record 5 at once
        try await Task.sleep(for: .milliseconds(120))
        tracker.logged(5)                                   // its write returns, indexed: no new time
        tracker.logged(3)                                   // an older record: nothing
        let lag = try #require(tracker.progress(of: [2], primaryLast: 5).first)
        #expect(lag.lagRecords == 1)
        // At least the sleep (a loaded machine may sleep far longer), and timed (not .max).
        #expect(lag.lagMillis >= 120 && lag.lagMillis != .max)
        tracker.acknowledged(2, through: 5, primaryLast: 5)
        #expect(tracker.progress(of: [2], primaryLast: 5).first?.lagMillis == 0)
    }
}

/// Set once a task has ended, read from another.
private final class EndedFlag: Sendable {
    private let ended = Mutex(false)
    func set() { ended.withLock { $0 = true } }
    var isSet: Bool { ended.withLock { $0 } }
}
