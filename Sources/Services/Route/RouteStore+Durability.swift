import Dispatch
import RouteEngine
import Storage
import Synchronization
import Wire

/// The outcome log's bound and the breakers that outlive a restart.
///
/// Compaction: the log keeps the newest `outcomeWindow` outcomes (what Train reads). Its segments
/// are sized to about an eighth of the window (`RouteLimits.outcomeSegmentBytes`), and compaction
/// deletes the oldest segments whose outcomes are all older than the window, oldest first. Nothing
/// is rewritten: each deletion is one unlink, synced before the next, so a crash at any point
/// leaves a contiguous suffix of the log that still holds every outcome inside the window, and the
/// next open compacts again.
/// It runs on one background queue for every router; an append waits for it only while the log's
/// lock is held for an unlink.
///
/// Breakers: a breaker that opens or closes rewrites `breakers.pb` (atomically) with every
/// breaker that is not closed; the open time is the server's wall clock, so after a restart an
/// open breaker keeps refusing until its cool-down ends, and a half-open one lets a trial through.
extension RouteStore {
    /// Background compaction's schedule (guarded by `compaction`).
    struct Compaction {
        var running = false
        /// The log's last sequence at which the next compaction starts.
        var dueAtSequence: UInt64 = 0
    }

    /// One queue for every router's compaction: the work is a few unlinks and a directory sync.
    static let compactionQueue = DispatchQueue(label: "ruvector.route.compaction", qos: .utility)

    /// Outcomes recorded between two compactions: a sixteenth of the window, so the log never
    /// holds much more than the window and one segment.
    var compactionStepOutcomes: UInt64 { max(1, outcomeWindow / 16) }

    /// Deletes the log segments whose outcomes are all older than the newest `outcomeWindow`,
    /// oldest first; returns how many were deleted.
    @discardableResult
    func compactOutcomes() throws -> Int {
        let last = log.lastSequence
        guard last > outcomeWindow else { return 0 }
        let oldestKept = last - outcomeWindow + 1
        var released = 0
        // One segment per call: each unlink is synced (the directory) before the next, so a crash
        // leaves a contiguous tail of the log on any file system, never one with a hole.
        for next in log.segmentFirstSequences.dropFirst() where next <= oldestKept {
            released += try log.releaseSegments(upTo: next - 1)
        }
        return released
    }

    /// Starts a compaction on the background queue when `compactionStepOutcomes` were recorded since
    /// the last one and none is running.
    func compactInBackgroundIfDue(lastSequence: UInt64) {
        let start = compaction.withLock { c in
            guard !c.running, lastSequence >= c.dueAtSequence else { return false }
            c.running = true
            return true
        }
        guard start else { return }
        Self.compactionQueue.async { [self] in
            closedToBackgroundWrites.withLock { closed in
                guard !closed else { return }
                // A failure (a full disk, a damaged directory) loses nothing: the segments stay and
                // the next compaction, or the next open, tries again.
                _ = try? compactOutcomes()
            }
            let next = log.lastSequence + compactionStepOutcomes
            compaction.withLock { c in
                c.running = false
                c.dueAtSequence = next
            }
        }
    }

    /// The outcome log now: outcomes it holds and its bytes on disk.
    var outcomeLog: (records: UInt64, bytes: UInt64) {
        let first = log.firstRetainedSequence, last = log.lastSequence
        return (last >= first ? last - first + 1 : 0, UInt64(AtomicFile.treeSize(directory + "/outcomes")))
    }

    /// Feeds a served request's outcome to its candidate's breaker; when the breaker opened or
    /// closed, persists the breakers before returning.
    func recordBreakerOutcome(candidate: Int, success: Bool, nowMillis: Int64) {
        let changed = state.withLock { s in
            let before = s.breakers[candidate].state
            s.breakers[candidate].record(success: success, nowMillis: nowMillis)
            return Self.persisted(before) != Self.persisted(s.breakers[candidate].state)
        }
        guard changed else { return }
        closedToBackgroundWrites.withLock { closed in
            guard !closed else { return }
            // Read under the lock: of two racing writers, the later one writes the newer state.
            let breakers = state.withLock { $0.breakers }
            let saved = RuvectorV1.RouterStatus(breakers: candidates.indices.compactMap { i -> RuvectorV1.CircuitBreakerStatus? in
                switch breakers[i].state {
                case .closed: nil
                case let .open(since):
                    RuvectorV1.CircuitBreakerStatus(candidate: candidates[i].name, state: .open,
                                                    retryAtUnixMicros: (since &+ breakers[i].config.coolDownMillis) &* 1000)
                case .halfOpen: RuvectorV1.CircuitBreakerStatus(candidate: candidates[i].name, state: .halfOpen)
                }
            })
            // Best effort: the breaker already protects this process; a failed write only means a
            // restart would forget it (the outcome itself is on disk already).
            try? AtomicFile.write(saved.encoded(), to: directory + "/breakers.pb")
        }
    }

    /// What `breakers.pb` records of a state: nil for closed (failure counts stay in memory), the
    /// open time for open, and a marker for half-open.
    static func persisted(_ state: CircuitBreaker.State) -> Int64?? {
        switch state {
        case .closed: nil
        case let .open(since): .some(since)
        case .halfOpen: .some(nil)
        }
    }

    /// The breakers of a router opening from `directory`: closed, but for those `breakers.pb` holds
    /// open (until their cool-down ends) or half-open (their cool-down already over: a trial at
    /// the next request).
    static func restoredBreakers(directory: String, definition: RuvectorV1.CreateRouterRequest) throws -> [CircuitBreaker] {
        let config = RouteLimits.breaker(definition)
        var breakers = definition.candidates.map { _ in CircuitBreaker(config: config) }
        let path = directory + "/breakers.pb"
        guard AtomicFile.exists(path) else { return breakers }
        let saved: RuvectorV1.RouterStatus
        do {
            saved = try RuvectorV1.RouterStatus(decoding: try AtomicFile.read(path))
        } catch {
            throw StorageError(.corrupt, "breakers.pb holds no readable breakers (\(error)); remove it to start with every breaker closed", path: path)
        }
        for b in saved.breakers {
            // A candidate the file names but the router lacks cannot happen (the definition never
            // changes); it is ignored rather than trusted.
            guard let i = definition.candidates.firstIndex(where: { $0.name == b.candidate }) else { continue }
            switch b.state {
            case .open:
                breakers[i] = CircuitBreaker(config: config, openSinceMillis: b.retryAtUnixMicros / 1000 &- config.coolDownMillis)
            case .halfOpen:
                breakers[i] = CircuitBreaker(config: config, openSinceMillis: -config.coolDownMillis)
            default:
                continue
            }
        }
        return breakers
    }
}
