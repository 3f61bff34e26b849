import Dispatch
import Synchronization

/// Why an automatic snapshot was taken (which `DurabilityOptions` bound was reached).
public enum AutomaticSnapshotReason: String, Sendable {
    /// `autoSnapshotWALBytes` of log since the last snapshot.
    case logBytes
    /// `autoSnapshotChanges` points or graph elements written since the last snapshot.
    case changes
    /// `autoSnapshotReplayMillis` spent applying the writes since the last snapshot.
    case replayTime
    /// The oldest write not in a snapshot is `autoSnapshotInterval` old.
    case interval
}

/// What an automatic snapshot did, for the host's log.
public struct AutomaticSnapshotReport: Sendable {
    /// The owner's folder (a server path: for logs, not for clients).
    public var directory: String
    /// The bound that was reached.
    public var reason: AutomaticSnapshotReason
    /// The snapshot written, or nil when it failed (see `failure`) or the owner was closed.
    public var snapshot: SnapshotInfo?
    /// Why it failed (the debt stays, so the next write schedules another attempt).
    public var failure: (any Error)?
    /// Time to copy, encode and write it.
    public var durationMicros: Int64
    /// What it covered: the debt when its state was copied.
    public var covered = AutomaticSnapshots.Debt()
    /// What was logged while it was written. A crash just before it finished would have
    /// replayed `covered` and this: the worst moment for a crash.
    public var loggedMeanwhile = AutomaticSnapshots.Debt()
}

/// The bookkeeping behind automatic snapshots for one durable owner (a collection, the
/// graph): what was logged and applied since the last snapshot, whether a bound of
/// `DurabilityOptions` is reached, and at most one snapshot job queued or running at a time
/// (handed to `runInBackground`). A timer catches the interval bound when writes stop.
///
/// The owner calls `logged` under its write lock and `take` under the same lock when it
/// copies its state for a snapshot, so the counts match the log the snapshot covers; it
/// calls `scheduleIfDue` after releasing its locks, so a job never runs inside a client's write.
public final class AutomaticSnapshots: Sendable {
    /// Work logged since the last snapshot: what a restart would replay.
    public struct Debt: Sendable, Equatable {
        /// Log bytes.
        public var logBytes = 0
        /// Points (collections) or graph elements written or deleted.
        public var changes = 0
        /// Time spent applying them, in nanoseconds.
        public var applyNanos: Int64 = 0
        /// When the oldest of them was logged (nil: nothing logged).
        public var oldest: ContinuousClock.Instant?

        /// Nothing owed.
        public init() {}
    }

    private struct State {
        var debt = Debt()
        /// A job is queued or running.
        var pending = false
        /// What the latest `take` took.
        var lastTaken = Debt()
        var timerArmed = false
        var closed = false
        var job: (@Sendable () throws -> SnapshotInfo?)?
    }

    private let state = Mutex(State())
    private let options: DurabilityOptions
    /// The owner's folder, for reports.
    private let directory: String

    /// Bookkeeping against `options`' bounds for the owner of `directory`; nothing is
    /// scheduled before `start`.
    public init(options: DurabilityOptions, directory: String) {
        self.options = options
        self.directory = directory
    }

    /// Sets the owner's snapshot job, which returns the snapshot written (nil: nothing to do)
    /// and throws `.closed` once the owner is closed. Capture the owner weakly.
    public func start(_ job: @escaping @Sendable () throws -> SnapshotInfo?) {
        state.withLock { $0.job = job }
    }

    /// Records a logged write (call holding the owner's write lock).
    public func logged(bytes: Int, changes: Int) {
        let armTimer = state.withLock { state -> Bool in
            if state.debt.oldest == nil { state.debt.oldest = .now }
            state.debt.logBytes += bytes
            state.debt.changes += changes
            guard options.autoSnapshotInterval > .zero, !state.timerArmed, !state.closed else { return false }
            state.timerArmed = true
            return true
        }
        if armTimer { arm(after: options.autoSnapshotInterval) }
    }

    /// Records the time a logged write took to apply.
    public func applied(nanos: Int64) {
        state.withLock { $0.debt.applyNanos += max(0, nanos) }
    }

    /// What is owed now.
    public var debt: Debt { state.withLock { $0.debt } }

    /// Takes the whole debt for a snapshot whose state is being copied (call holding the
    /// owner's write lock); give it back if the snapshot fails.
    public func take() -> Debt {
        state.withLock { state in
            defer { state.debt = Debt() }
            state.lastTaken = state.debt
            return state.debt
        }
    }

    /// Puts back the debt of a snapshot that failed.
    public func giveBack(_ debt: Debt) {
        state.withLock { state in
            state.debt.logBytes += debt.logBytes
            state.debt.changes += debt.changes
            state.debt.applyNanos += debt.applyNanos
            if let oldest = debt.oldest { state.debt.oldest = min(state.debt.oldest ?? oldest, oldest) }
        }
    }

    /// Hands a snapshot job to `runInBackground` when a bound is reached and no job is queued
    /// or running (call outside the owner's locks).
    public func scheduleIfDue() {
        let reason = state.withLock { state -> AutomaticSnapshotReason? in
            guard !state.pending, !state.closed, state.job != nil, let reason = dueReason(state.debt) else { return nil }
            state.pending = true
            return reason
        }
        guard let reason else { return }
        options.runInBackground { [weak self] in
            guard let self else { return }
            // A snapshot taken on request while this job waited may have paid the debt already.
            let job = self.state.withLock { state in
                state.closed || self.dueReason(state.debt) == nil ? nil : state.job
            }
            if let job { self.run(job, reason: reason) }
            self.state.withLock { $0.pending = false }
            // Writes that went on during the snapshot may have reached a bound again.
            self.scheduleIfDue()
        }
    }

    /// Runs the owner's job and reports what it did (nothing when the owner closed meanwhile).
    private func run(_ job: @Sendable () throws -> SnapshotInfo?, reason: AutomaticSnapshotReason) {
        let started = ContinuousClock.now
        var report = AutomaticSnapshotReport(directory: directory, reason: reason, durationMicros: 0)
        do {
            guard let info = try job() else { return }
            report.snapshot = info
            (report.covered, report.loggedMeanwhile) = state.withLock { ($0.lastTaken, $0.debt) }
        } catch let error as StorageError where error.code == .closed {
            return
        } catch {
            report.failure = error
        }
        report.durationMicros = (ContinuousClock.now - started).wholeMicroseconds
        options.onAutomaticSnapshot(report)
    }

    /// No more jobs: queued ones do nothing, the timer stops (the owner closes).
    public func close() {
        state.withLock { state in
            state.closed = true
            state.job = nil
        }
    }

    /// The first bound `debt` reaches, if any.
    func dueReason(_ debt: Debt, now: ContinuousClock.Instant = .now) -> AutomaticSnapshotReason? {
        guard debt.oldest != nil else { return nil }
        if options.autoSnapshotWALBytes > 0 && debt.logBytes >= options.autoSnapshotWALBytes { return .logBytes }
        if options.autoSnapshotChanges > 0 && debt.changes >= options.autoSnapshotChanges { return .changes }
        if options.autoSnapshotReplayMillis > 0 && debt.applyNanos >= Int64(options.autoSnapshotReplayMillis) * 1_000_000 {
            return .replayTime
        }
        if options.autoSnapshotInterval > .zero, let oldest = debt.oldest, now - oldest >= options.autoSnapshotInterval {
            return .interval
        }
        return nil
    }

    /// Checks the interval bound after `delay`, then again as long as something is owed.
    private func arm(after delay: Duration) {
        let nanos = max(1_000_000, delay.components.seconds * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000)
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(clamping: nanos))) { [weak self] in
            self?.timerFired()
        }
    }

    private func timerFired() {
        let rearm = state.withLock { state -> Duration? in
            guard !state.closed, let oldest = state.debt.oldest else {
                state.timerArmed = false
                return nil
            }
            let age = ContinuousClock.now - oldest
            // Not old enough yet (a snapshot took the debt the timer was armed for): wait the rest.
            return age < options.autoSnapshotInterval ? options.autoSnapshotInterval - age : .zero
        }
        guard let rearm else { return }
        if rearm > .zero {
            arm(after: rearm)
            return
        }
        state.withLock { $0.timerArmed = false }
        scheduleIfDue()
        // Still owed after this (the job failed or more was written): check again later.
        let owed = state.withLock { state -> Bool in
            guard !state.closed, state.debt.oldest != nil, !state.timerArmed else { return false }
            state.timerArmed = true
            return true
        }
        if owed { arm(after: options.autoSnapshotInterval) }
    }
}
