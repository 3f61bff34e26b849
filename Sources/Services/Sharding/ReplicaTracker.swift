import ClusterEngine
import Synchronization
import Wire

/// A primary's view of its replicas for one shard at one epoch: the highest sequence each
/// acknowledged, whether its stream is open, and when it last had everything. Writes wait
/// here for the acknowledgements their mode asks for.
final class ReplicaTracker: Sendable {
    /// The epoch this primary serves (a new epoch gets a new tracker).
    let epoch: UInt64

    private struct Waiter {
        let sequence: UInt64
        let needed: Int
        let among: Set<NodeID>
        let continuation: CheckedContinuation<Int, any Error>
    }

    private struct State {
        var acked: [NodeID: UInt64] = [:]
        var connected: [NodeID: Int] = [:]
        var caughtUpAt: [NodeID: ContinuousClock.Instant] = [:]
        var waiters: [UInt64: Waiter] = [:]
        var nextWaiter: UInt64 = 0
        /// When recent writes were logged (sequence, time), oldest first, at most `loggedKept`:
        /// a replica's lag in time is the age of the oldest write it does not have.
        var logged: [(sequence: UInt64, at: ContinuousClock.Instant)] = []
        var loggedStart = 0
        /// Set by `failAll`: a wait that comes later fails at once with it, instead of waiting
        /// out its timeout for acknowledgements a deposed or stopping primary will not get.
        var failure: (any Error)?
    }

    /// Writes whose logging time is kept for the lag in time.
    static let loggedKept = 4096

    private let state = Mutex(State())

    init(epoch: UInt64) { self.epoch = epoch }

    /// A replica's stream opened (it has everything before `from`) or closed.
    func connected(_ node: NodeID, open: Bool) {
        state.withLock { state in
            state.connected[node, default: 0] += open ? 1 : -1
            if state.connected[node] ?? 0 <= 0 { state.connected[node] = nil }
        }
    }

    /// Records through `sequence` are in the primary's log now: the first sight of each
    /// sequence counts (a replication stream reads a record as soon as it is appended, the
    /// write that appended it returns after indexing it; a later report changes nothing).
    func logged(_ sequence: UInt64) {
        state.withLock { state in
            if let last = state.logged.last, sequence <= last.sequence { return }
            state.logged.append((sequence, .now))
            if state.logged.count - state.loggedStart > Self.loggedKept { state.loggedStart += 1 }
            // Compact once the dropped prefix is as long as what is kept.
            if state.loggedStart >= Self.loggedKept {
                state.logged.removeFirst(state.loggedStart)
                state.loggedStart = 0
            }
        }
    }

    /// `node` has applied everything through `sequence`; `primaryLast` is the primary's last
    /// logged sequence now (to know when the replica is caught up).
    func acknowledged(_ node: NodeID, through sequence: UInt64, primaryLast: UInt64) {
        let woken = state.withLock { state -> [(CheckedContinuation<Int, any Error>, Int)] in
            if sequence > state.acked[node] ?? 0 { state.acked[node] = sequence }
            if sequence >= primaryLast { state.caughtUpAt[node] = .now }
            var ready: [(CheckedContinuation<Int, any Error>, Int)] = []
            for (key, waiter) in state.waiters {
                let count = Self.count(state.acked, waiter.among, waiter.sequence)
                if count >= waiter.needed {
                    state.waiters[key] = nil
                    ready.append((waiter.continuation, count))
                }
            }
            return ready
        }
        for (continuation, count) in woken { continuation.resume(returning: count) }
    }

    private static func count(_ acked: [NodeID: UInt64], _ among: Set<NodeID>, _ sequence: UInt64) -> Int {
        among.reduce(0) { $0 + ((acked[$1] ?? 0) >= sequence ? 1 : 0) }
    }

    /// Replicas of `among` that have `sequence` now.
    func acknowledgedCount(_ sequence: UInt64, among: [NodeID]) -> Int {
        state.withLock { Self.count($0.acked, Set(among), sequence) }
    }

    /// The lowest sequence every replica of `among` acknowledged (what the log must keep).
    func floor(among: [NodeID]) -> UInt64 {
        state.withLock { state in among.map { state.acked[$0] ?? 0 }.min() ?? .max }
    }

    /// Waits until `needed` replicas of `among` have `sequence`; returns how many had it.
    /// Throws `ReplicationTimeout` (with how many did) when `timeout` passes first.
    func wait(for sequence: UInt64, needed: Int, among: [NodeID], timeout: Duration) async throws -> Int {
        let set = Set(among)
        let (key, settled): (UInt64, Result<Int, any Error>?) = state.withLock { state in
            if let settled = Self.settled(state, set, sequence, needed) { return (0, settled) }
            state.nextWaiter += 1
            return (state.nextWaiter, nil)
        }
        if let settled { return try settled.get() }
        guard timeout > .zero else { throw ReplicationTimeout(acknowledged: acknowledgedCount(sequence, among: among)) }
        let timer = Mutex<Task<Void, Never>?>(nil)
        defer { timer.withLock { $0?.cancel() } }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int, any Error>) in
                let immediate = state.withLock { state -> Result<Int, any Error>? in
                    // An acknowledgement, or failAll, may have come between the check and now.
                    if let settled = Self.settled(state, set, sequence, needed) { return settled }
                    state.waiters[key] = Waiter(sequence: sequence, needed: needed, among: set, continuation: continuation)
                    return nil
                }
                if let immediate { return continuation.resume(with: immediate) }
                // Started once the waiter is registered, so it always finds it (or its answer).
                timer.withLock { $0 = Task { [self] in
                    try? await Task.sleep(for: timeout)
                    guard !Task.isCancelled else { return }
                    let expired = state.withLock { state -> (Waiter, Int)? in
                        guard let waiter = state.waiters.removeValue(forKey: key) else { return nil }
                        return (waiter, Self.count(state.acked, set, sequence))
                    }
                    if let (waiter, count) = expired { waiter.continuation.resume(throwing: ReplicationTimeout(acknowledged: count)) }
                } }
            }
        } onCancel: {
            let cancelled = state.withLock { $0.waiters.removeValue(forKey: key) }
            cancelled?.continuation.resume(throwing: CancellationError())
        }
    }

    /// A wait's outcome without waiting: how many have `sequence` when `needed` do, else
    /// failAll's error once it ran; nil while it must wait.
    private static func settled(_ state: State, _ among: Set<NodeID>, _ sequence: UInt64, _ needed: Int) -> Result<Int, any Error>? {
        let count = Self.count(state.acked, among, sequence)
        if count >= needed { return .success(count) }
        return state.failure.map { .failure($0) }
    }

    /// Fails every waiting write, and every later one at once (the node stopped being primary
    /// at this epoch, or is stopping: a new epoch gets a new tracker).
    func failAll(_ error: any Error) {
        let all = state.withLock { state in
            state.failure = state.failure ?? error
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in all { waiter.continuation.resume(throwing: error) }
    }

    /// Each replica's progress, for ShardStatus.
    func progress(of replicas: [NodeID], primaryLast: UInt64) -> [RuvectorV1.ReplicaProgress] {
        let now = ContinuousClock.now
        return state.withLock { state in
            replicas.map { node in
                let acked = state.acked[node] ?? 0
                let behind = primaryLast > acked ? primaryLast - acked : 0
                // The age of the oldest write it lacks (with no such write timed, the time since
                // it last had everything).
                let oldestMissing = state.logged[state.loggedStart...].first { $0.sequence > acked }?.at
                let since = oldestMissing ?? state.caughtUpAt[node]
                let lagMillis: UInt64 = behind == 0 ? 0 : since.map {
                    UInt64(max(0, (now - $0).components.seconds * 1000 + (now - $0).components.attoseconds / 1_000_000_000_000_000))
                } ?? UInt64.max
                return RuvectorV1.ReplicaProgress(nodeId: node, ackedSequence: acked, lagRecords: behind, lagMillis: lagMillis,
                                                  connected: state.connected[node] != nil)
            }
        }
    }
}

/// A write's replicas did not all confirm it in time (it is on the primary).
struct ReplicationTimeout: Error {
    let acknowledged: Int
}
