/// What a leader knows of one follower's log and how it sends to it, as the host may show it
/// (status pages, metrics). From `RaftNode.progressView()`.
public struct PeerProgress: Sendable, Equatable {
    /// How the leader sends entries to a follower (etcd-raft's progress states).
    public enum State: String, Sendable, Equatable {
        /// Where the follower's log ends is not known: one append at a time, the next only
        /// once it is answered or after a heartbeat round trip. Every follower starts here.
        case probe
        /// The follower is known to match: appends are pipelined, at most
        /// `RaftConfiguration.maxInflightMessages` of them unacknowledged.
        case replicate
        /// The entries it needs are compacted: a snapshot was sent, and nothing else is until
        /// the follower answers or the host reports how the transfer went.
        case snapshot
    }

    /// The last index known to be in the follower's log (Raft's matchIndex).
    public var match: UInt64
    /// The next index to send it (Raft's nextIndex; ahead of `match + 1` while appends are in flight).
    public var next: UInt64
    public var state: State
    /// Heard from within the current election timeout (check-quorum counts these).
    public var recentActive: Bool
    /// Append messages in the in-flight window: sent while replicating and not yet
    /// acknowledged (always 0 in `probe`, which has at most one append out).
    public var inflight: Int

    public init(match: UInt64, next: UInt64, state: State, recentActive: Bool, inflight: Int) {
        self.match = match; self.next = next; self.state = state; self.recentActive = recentActive; self.inflight = inflight
    }
}

extension RaftNode {
    /// The leader's record of one follower (etcd-raft's `tracker.Progress`): what it has, what
    /// to send it next, and the flow control that keeps a slow or unreachable follower from
    /// being flooded. The transitions are the paper's nextIndex / matchIndex rules plus
    /// etcd-raft's probe / replicate / snapshot states.
    struct Progress: Sendable {
        var match: UInt64 = 0
        var next: UInt64
        private(set) var state: PeerProgress.State = .probe
        /// Heard from since the last quorum check.
        var recentActive = false
        /// Probe: an append is out and unanswered. Replicate: the window is full and no
        /// heartbeat has been answered since (which lets one empty append through, so that
        /// appends all lost do not stall the follower forever).
        var paused = false
        /// Snapshot: the index of the snapshot sent.
        private(set) var pendingSnapshot: UInt64 = 0
        /// The highest commit index sent to the follower (so that a commit it cannot have
        /// learned is sent, and one it has is not sent again).
        private(set) var sentCommit: UInt64 = 0
        private(set) var inflights: InflightWindow

        init(match: UInt64 = 0, next: UInt64, state: PeerProgress.State = .probe, recentActive: Bool = false, window: Int) {
            self.match = match
            self.next = next
            self.state = state
            self.recentActive = recentActive
            inflights = InflightWindow(capacity: window)
        }

        var view: PeerProgress {
            PeerProgress(match: match, next: next, state: state, recentActive: recentActive, inflight: inflights.count)
        }

        // MARK: Transitions

        /// Back to one append at a time, from the entry after `match` (or after the snapshot
        /// just sent, when coming from `snapshot` with the transfer reported done).
        mutating func becomeProbe() {
            next = state == .snapshot ? max(match + 1, pendingSnapshot + 1) : match + 1
            reset(to: .probe)
            sentCommit = min(sentCommit, next - 1)
        }

        /// Pipelining from the entry after `match`.
        mutating func becomeReplicate() {
            next = match + 1
            reset(to: .replicate)
        }

        /// Snapshot `index` was sent: nothing more until it is answered or reported.
        mutating func becomeSnapshot(_ index: UInt64) {
            reset(to: .snapshot)
            pendingSnapshot = index
            next = index + 1
            sentCommit = index
        }

        private mutating func reset(to newState: PeerProgress.State) {
            state = newState
            paused = false
            pendingSnapshot = 0
            inflights.reset()
        }

        /// A snapshot transfer the host reports as failed: probe from `match` again (no
        /// snapshot was installed), once a heartbeat round trip has passed.
        mutating func snapshotFailed() {
            pendingSnapshot = 0
            becomeProbe()
            paused = true
        }

        /// A snapshot transfer the host reports as done: probe from after it, once the
        /// follower answers (or a heartbeat round trip passes).
        mutating func snapshotSucceeded() {
            becomeProbe()
            paused = true
        }

        // MARK: Sending

        /// What an append to this follower may be now, nil when none may go (a probe or a
        /// full window waiting for an answer, a snapshot pending): it follows entry `next - 1`,
        /// may carry entries unless the window is full, and is worth sending empty when it
        /// carries a `commit` index the follower cannot have yet (one it has not been sent,
        /// with entries up to `next - 1` to apply it to).
        func appendAllowance(commit: UInt64) -> (next: UInt64, mayCarryEntries: Bool, bumpsCommit: Bool)? {
            switch state {
            case .probe, .replicate:
                guard !paused else { return nil }
                return (next, state != .replicate || !inflights.isFull, commit > sentCommit && sentCommit < next - 1)
            case .snapshot:
                return nil
            }
        }

        /// An append went out carrying entries up to `lastEntry` (nil: none) and `commit`.
        mutating func sentAppend(lastEntry: UInt64?, commit: UInt64) {
            sentCommit = commit
            switch state {
            case .replicate:
                if let lastEntry { next = lastEntry + 1 }    // optimistic: the follower will have them
                // Empty appends count too (they wait for an answer like the others); a full
                // window's one heartbeat-prompted empty append is the exception.
                if !inflights.isFull { inflights.add(next - 1) }
                paused = inflights.isFull
            case .probe:
                paused = true
            case .snapshot:
                preconditionFailure("no appends while a snapshot is pending")
            }
        }

        /// A heartbeat went out carrying `commit`.
        mutating func sentHeartbeat(commit: UInt64) {
            sentCommit = max(sentCommit, commit)
        }

        // MARK: Answers

        /// The follower accepted an append or installed a snapshot and has entries up to
        /// `index`. Returns whether this told the leader something new (match advanced or a
        /// state changed): then there may be more to send.
        mutating func accepted(_ index: UInt64, firstLogIndex: UInt64) -> Bool {
            let advanced = index > match
            if advanced {
                match = index
                next = max(next, index + 1)
            }
            switch state {
            case .probe:
                // An answer at `match` (even an old one) shows where the follower's log is.
                guard index == match else { return false }
                becomeReplicate()
                return true
            case .replicate:
                inflights.free(upTo: index)
                if !inflights.isFull { paused = false }
                return advanced
            case .snapshot:
                // Any snapshot or answer that lets the log continue from `match` will do, not
                // only the one sent (the follower may have had a newer one).
                if advanced && (match >= pendingSnapshot || match + 1 >= firstLogIndex) { becomeReplicate() }
                return advanced
            }
        }

        /// The follower refused an append whose entries followed `rejected`; `hint` is where
        /// it suggests starting again. Returns false for a stale refusal (one that says
        /// nothing the leader does not know), which is ignored.
        mutating func rejected(_ rejected: UInt64, hint: UInt64) -> Bool {
            switch state {
            case .replicate:
                // Appends are pipelined, so any refusal past `match` is news: one was lost
                // or the follower's log differs. Back to probing.
                guard rejected > match else { return false }
                reset(to: .probe)
            case .probe:
                // Probing sends one append at a time: a refusal of any other is old news.
                guard rejected == next - 1 else { return false }
            case .snapshot:
                return false
            }
            next = max(match + 1, min(rejected, hint))
            sentCommit = min(sentCommit, next - 1)
            paused = false    // try again at once, from the hint
            return true
        }
    }
}
