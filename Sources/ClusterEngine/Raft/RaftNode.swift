internal import SeededRandom

/// One Raft server as a pure state machine (Ongaro & Ousterhout, and the thesis's pre-vote,
/// check-quorum, single-server membership changes, leadership transfer and ReadIndex). No
/// threads, clock or sockets: the host calls `tick()` on a timer, `step(_:)` for each message
/// received, `propose`/`readIndex`/... for clients, then takes `ready()` (persist, send,
/// apply) and calls `advance()`. A leader paces what it sends each follower (etcd-raft's
/// progress states and in-flight window); the host helps with `reportUnreachable` and
/// `reportSnapshot`, and can show `progressView()`.
public struct RaftNode: Sendable {
    public enum Role: String, Sendable { case follower, preCandidate = "pre-candidate", candidate, leader }

    public let id: NodeID
    public private(set) var role: Role = .follower
    public private(set) var term: UInt64 = 0
    public private(set) var vote: NodeID = 0
    public private(set) var leader: NodeID = 0
    public private(set) var configuration: Configuration
    var log: RaftLog
    let settings: RaftConfiguration
    private var rng: SeededGenerator

    private var electionElapsed = 0
    /// Leader: ticks since it became leader, and the tick each peer was last heard from.
    private var leaderTicks = 0
    private var lastHeardTick: [NodeID: Int] = [:]
    private var heartbeatElapsed = 0
    private var randomizedElectionTicks = 0
    private var votes: [NodeID: Bool] = [:]
    private var progress: [NodeID: Progress] = [:]
    private var messages: [Message] = []
    private var readStates: [ReadState] = []
    /// ReadIndex requests waiting for a quorum of heartbeat acknowledgements.
    private var pendingReads: [(index: UInt64, context: [UInt8], from: NodeID, acks: Set<NodeID>)] = []
    /// ReadIndex requests made before this leader committed an entry of its term.
    private var readsAwaitingCommit: [(context: [UInt8], from: NodeID)] = []
    /// ReadIndex requests asked for on behalf of each member (never reset: `ReadFence`
    /// compares two counts taken on this node).
    private var readCounts: [NodeID: UInt64] = [:]
    /// Least index of reads asked for by a member that a fenced proposal deposes (`ReadFence`),
    /// until that index commits.
    private var readFloors: [NodeID: UInt64] = [:]
    private var transferTarget: NodeID = 0
    private var transferElapsed = 0
    /// Index of the newest configuration entry in the log (at most one uncommitted at a time).
    private var pendingConfigurationIndex: UInt64 = 0
    private var lastReportedHardState = HardState()

    /// A node starting from persisted state (`HardState()`, no entries, and a snapshot holding
    /// the founding configuration, for a brand new group). A server joining an existing group
    /// starts the same way, from the group's founding configuration: the log (or a snapshot
    /// from the leader) brings the changes since.
    public init(id: NodeID, settings: RaftConfiguration = RaftConfiguration(), hardState: HardState,
                snapshot: Snapshot, entries: [Entry]) {
        precondition(settings.maxInflightMessages > 0, "RaftConfiguration.maxInflightMessages must be at least 1")
        self.id = id
        self.settings = settings
        // Each node's stream must be unrelated to the others'. Seeding with seed + id x the
        // generator's own increment made node i's timeouts node i-1's shifted by one draw, and
        // nodes drawing in step could then time out together forever (split votes, no leader:
        // simulator seed 150). The term makes a restarted node's stream a new one too.
        rng = SeededGenerator(seed: SeededGenerator.mix(settings.seed) ^ SeededGenerator.mix(id ^ 0x632B_E59B_D9B4_E019)
                                    ^ SeededGenerator.mix(hardState.term &+ 0xA076_1D64_78BD_642F))
        log = RaftLog(snapshot: snapshot, entries: entries, committed: hardState.commit)
        term = hardState.term
        vote = hardState.vote
        lastReportedHardState = hardState
        var configuration = snapshot.configuration
        for entry in entries { if case .configuration(let change) = entry.payload { configuration = configuration.applying(change) } }
        self.configuration = configuration
        pendingConfigurationIndex = entries.last(where: { if case .configuration = $0.payload { return true } else { return false } })?.index ?? 0
        resetElectionTimer()
    }

    /// A node of a brand new group whose members are `voters`.
    public init(id: NodeID, voters: Set<NodeID>, settings: RaftConfiguration = RaftConfiguration()) {
        self.init(id: id, settings: settings, hardState: HardState(),
                  snapshot: Snapshot(index: 0, term: 0, configuration: Configuration(voters: voters), data: []), entries: [])
    }

    public var commitIndex: UInt64 { log.committed }
    public var lastIndex: UInt64 { log.lastIndex }
    /// The term of the last entry (of the snapshot when there is none after it).
    public var lastTerm: UInt64 { log.lastTerm }
    public var hardState: HardState { HardState(term: term, vote: vote, commit: log.committed) }

    /// The largest term, index or commit a message may carry (2^62): far beyond any real log, and
    /// low enough that the arithmetic on them (next term, index + 1) never overflows.
    public static let maxTerm: UInt64 = 1 << 62

    // MARK: Time

    /// Advances the logical clock by one tick.
    public mutating func tick() {
        electionElapsed += 1
        switch role {
        case .leader:
            heartbeatElapsed += 1
            if transferTarget != 0 {
                transferElapsed += 1
                if transferElapsed >= settings.electionTicks { transferTarget = 0 }    // give up the transfer
            }
            leaderTicks += 1
            // Check-quorum over a sliding window: a leader that has not heard from a quorum in
            // the last election timeout steps down at once. (Judged only at the end of each
            // timeout, as before, a leader cut off just after a check led on for up to two.)
            if settings.checkQuorum, leaderTicks >= settings.electionTicks, !quorumHeardRecently() {
                becomeFollower(term: term, leader: 0)
                return
            }
            if electionElapsed >= settings.electionTicks {
                electionElapsed = 0
                // `recentActive` is judged per election timeout: forget who answered before.
                for peer in progress.keys where peer != id { updateProgress(of: peer) { $0.recentActive = false } }
            }
            if heartbeatElapsed >= settings.heartbeatTicks {
                heartbeatElapsed = 0
                broadcastHeartbeat(context: [])
            }
        case .follower, .preCandidate, .candidate:
            if electionElapsed >= randomizedElectionTicks, configuration.voters.contains(id) {
                startElection(transfer: false)
            }
        }
    }

    /// Starts an election now (as if the election timer had fired).
    public mutating func campaign() {
        guard configuration.voters.contains(id) else { return }
        startElection(transfer: false)
    }

    private mutating func resetElectionTimer() {
        electionElapsed = 0
        randomizedElectionTicks = settings.electionTicks + rng.below(settings.electionTicks)
    }

    // MARK: Roles

    private mutating func becomeFollower(term newTerm: UInt64, leader newLeader: NodeID) {
        if newTerm > term { vote = 0 }
        term = newTerm
        role = .follower
        leader = newLeader
        votes = [:]
        pendingReads = []
        readsAwaitingCommit = []
        // A later term's reads wait for that term's first commit, which follows every fenced
        // entry that survived; one that did not deposes no one (and its index may never fill).
        readFloors = [:]
        transferTarget = 0
        resetElectionTimer()
    }

    private mutating func startElection(transfer: Bool) {
        if settings.preVote && !transfer {
            role = .preCandidate
            leader = 0
            votes = [id: true]
            resetElectionTimer()
            requestVotes(kind: .preVote, term: term + 1, transfer: false)
        } else {
            becomeCandidate()
            requestVotes(kind: .vote, term: term, transfer: transfer)
        }
        finishElectionIfWon()
    }

    private mutating func becomeCandidate() {
        term += 1
        vote = id
        role = .candidate
        leader = 0
        votes = [id: true]
        resetElectionTimer()
    }

    private mutating func requestVotes(kind: Message.Kind, term: UInt64, transfer: Bool) {
        for peer in configuration.voters.sorted() where peer != id {
            var m = Message(kind: kind, from: id, to: peer, term: term)
            m.index = log.lastIndex
            m.logTerm = log.lastTerm
            m.transfer = transfer
            messages.append(m)
        }
    }

    private mutating func finishElectionIfWon() {
        let granted = votes.filter { $0.value && configuration.voters.contains($0.key) }.count
        let refused = votes.filter { !$0.value && configuration.voters.contains($0.key) }.count
        if granted >= configuration.quorum {
            if role == .preCandidate {
                becomeCandidate()
                requestVotes(kind: .vote, term: term, transfer: false)
                finishElectionIfWon()
            } else if role == .candidate {
                becomeLeader()
            }
        } else if refused >= configuration.quorum {
            becomeFollower(term: term, leader: 0)
        }
    }

    private mutating func becomeLeader() {
        role = .leader
        leader = id
        heartbeatElapsed = 0
        electionElapsed = 0
        leaderTicks = 0
        lastHeardTick = [:]
        transferTarget = 0
        progress = [:]
        // Where each follower's log ends is unknown: probe them all from our last entry.
        for peer in configuration.voters.union(configuration.learners) {
            progress[peer] = peer == id
                ? Progress(match: log.lastIndex, next: log.lastIndex + 1, state: .replicate, recentActive: true, window: settings.maxInflightMessages)
                : Progress(next: log.lastIndex + 1, window: settings.maxInflightMessages)
        }
        // An empty entry of the new term lets earlier entries commit (§5.4.2).
        appendAsLeader([.empty])
        broadcastAppend()
    }

    // MARK: Client requests

    /// Appends a command (leader only).
    public mutating func propose(_ command: [UInt8]) throws(RaftError) {
        try checkLeaderAcceptsProposals()
        appendAsLeader([.command(command)])
        broadcastAppend()
    }

    /// Proposes a command that deposes `fence.member` (leader only): refused when that member
    /// asked for a read since `fence.readsSeen` was taken (it may hold a lease resting on a
    /// state before this command); once appended, reads it asks for are answered at this
    /// entry's index or later, until it commits.
    public mutating func propose(_ command: [UInt8], fence: ReadFence) throws(RaftError) {
        try checkLeaderAcceptsProposals()
        let asked = readsRequested(by: fence.member)
        guard asked == fence.readsSeen else {
            throw RaftError(code: .rejected, message: "server \(fence.member) asked for \(asked - min(asked, fence.readsSeen)) read(s) "
                + "since this proposal was decided; it may hold a lease: decide again")
        }
        appendAsLeader([.command(command)])
        readFloors[fence.member] = log.lastIndex
        broadcastAppend()
    }

    /// How many ReadIndex requests this node took for `member` (`readIndex(context:from:)`),
    /// as leader, in any term: what a `ReadFence` is decided on.
    public func readsRequested(by member: NodeID) -> UInt64 {
        readCounts[member] ?? 0
    }

    /// Proposes a membership change (leader only; one at a time). A new server joins as a
    /// learner first; `addVoter` is refused until that learner has caught up.
    public mutating func proposeConfigurationChange(_ change: ConfigurationChange) throws(RaftError) {
        try checkLeaderAcceptsProposals()
        guard pendingConfigurationIndex <= log.committed else {
            throw RaftError(code: .rejected, message: "a membership change (entry \(pendingConfigurationIndex)) is still pending; retry once it commits")
        }
        if case .addVoter(let peer) = change, !configuration.voters.contains(peer) {
            guard configuration.learners.contains(peer), let p = progress[peer], p.match >= log.committed else {
                throw RaftError(code: .rejected, message: "server \(peer) must first join as a learner and catch up (match \(progress[peer]?.match ?? 0), commit \(log.committed))")
            }
        }
        if case .remove(let peer) = change, configuration.voters == [peer] {
            throw RaftError(code: .rejected, message: "cannot remove the last voter")
        }
        appendAsLeader([.configuration(change)])
        broadcastAppend()
    }

    /// Transfers leadership to `target` (thesis §3.10): once its log is current, it is told to
    /// start an election at once. Proposals are refused meanwhile.
    public mutating func transferLeadership(to target: NodeID) throws(RaftError) {
        guard role == .leader else { throw notLeader() }
        guard target != id, configuration.voters.contains(target) else {
            throw RaftError(code: .rejected, message: "server \(target) is not another voter")
        }
        transferTarget = target
        transferElapsed = 0
        if progress[target]?.match == log.lastIndex { sendTimeoutNow(to: target) } else { sendAppend(to: target) }
    }

    /// Asks for a linearizable read (thesis §6.4): when a quorum confirms this node is still
    /// leader, a ReadState with the commit index at the time of the request comes out of
    /// `ready()`; reads of state applied up to that index are linearizable.
    /// `from` is the member the read is for (this node, or a follower that forwarded it; an id
    /// outside the group counts as this node's): a
    /// read for a member that a fenced proposal deposes is answered at that proposal's index or
    /// later (`ReadFence`).
    public mutating func readIndex(context: [UInt8], from requester: NodeID = 0) throws(RaftError) {
        guard role == .leader else { throw notLeader() }
        // Counted per member of the group only (the id comes off the network; others hold no lease).
        let from = progress[requester] == nil ? id : requester
        readCounts[from, default: 0] += 1
        guard log.term(log.committed) == term else {
            readsAwaitingCommit.append((context, from))    // until an entry of this term commits
            return
        }
        startRead(context, from: from)
    }

    private mutating func startRead(_ context: [UInt8], from: NodeID) {
        if configuration.quorum == 1 && configuration.voters.contains(id) {
            readStates.append(ReadState(index: answeredIndex(for: from), context: context))
            return
        }
        pendingReads.append((log.committed, context, from, [id]))
        broadcastHeartbeat(context: context)
    }

    /// The index a read for `member` confirmed now is answered at: the commit index when it was
    /// asked for (`asked`), raised to the entry of a fenced proposal deposing `member`. A higher
    /// index is as linearizable (the host applies further before reading); the floor is dropped
    /// once committed, when every later read includes it anyway.
    private mutating func answeredIndex(for member: NodeID, asked: UInt64? = nil) -> UInt64 {
        guard let floor = readFloors[member] else { return asked ?? log.committed }
        if floor <= log.committed { readFloors[member] = nil }
        return max(asked ?? log.committed, floor)
    }

    private func checkLeaderAcceptsProposals() throws(RaftError) {
        guard role == .leader else { throw notLeader() }
        guard transferTarget == 0 else {
            throw RaftError(code: .rejected, message: "leadership is being transferred to \(transferTarget); retry on the new leader")
        }
    }

    private func notLeader() -> RaftError {
        RaftError(code: .notLeader(leader: leader), message: leader == 0
            ? "server \(id) is not the leader and knows of none; retry shortly"
            : "server \(id) is not the leader; send this to server \(leader)")
    }

    private mutating func appendAsLeader(_ payloads: [Entry.Payload]) {
        var index = log.lastIndex
        let new = payloads.map { payload -> Entry in
            index += 1
            return Entry(term: term, index: index, payload: payload)
        }
        for entry in new {
            if case .configuration(let change) = entry.payload {
                pendingConfigurationIndex = entry.index
                applyConfiguration(change)
            }
        }
        log.append(new)
        updateProgress(of: id) { [last = log.lastIndex] in
            $0.match = last
            $0.next = last + 1
        }
        maybeCommit()
    }

    /// Membership changes take effect as soon as they are in the log (thesis §4.1).
    private mutating func applyConfiguration(_ change: ConfigurationChange) {
        configuration = configuration.applying(change)
        guard role == .leader else { return }
        for peer in configuration.voters.union(configuration.learners) where progress[peer] == nil {
            progress[peer] = Progress(next: log.lastIndex + 1, window: settings.maxInflightMessages)
        }
        for peer in progress.keys where !configuration.voters.contains(peer) && !configuration.learners.contains(peer) {
            progress[peer] = nil
        }
    }

    // MARK: Transport reports and progress

    /// The host's transport could not deliver a message to `peer` (connection refused or
    /// lost). Appends sent to it are probably lost too: a follower being pipelined to falls
    /// back to probing (one append at a time) until it answers again. Only a leader acts on it.
    public mutating func reportUnreachable(_ peer: NodeID) {
        guard role == .leader, peer != id else { return }
        updateProgress(of: peer) { if $0.state == .replicate { $0.becomeProbe() } }
    }

    /// The host's InstallSnapshot transfer to `peer` (of a `.snapshot` message from `ready()`)
    /// finished or failed. Either way the leader goes back to probing it, but not at once: on
    /// success it waits for the follower's answer to the snapshot; on failure the snapshot is
    /// sent again after the next heartbeat round trip, never in a tight loop. Ignored unless
    /// this node leads and a snapshot to `peer` is pending.
    public mutating func reportSnapshot(_ peer: NodeID, succeeded: Bool) {
        guard role == .leader else { return }
        updateProgress(of: peer) {
            guard $0.state == .snapshot else { return }
            if succeeded { $0.snapshotSucceeded() } else { $0.snapshotFailed() }
        }
    }

    /// What this leader knows of each member's log and how it is sending to it, by id (its
    /// own entry included: match = its last index, state `replicate`). Empty unless this node
    /// leads. For status pages and metrics: replication lag is `lastIndex - match`.
    public func progressView() -> [NodeID: PeerProgress] {
        guard role == .leader else { return [:] }
        return progress.mapValues(\.view)
    }

    // MARK: Messages

    /// Handles one message from another server.
    public mutating func step(_ m: Message) {
        // No real group reaches such terms; adopting one would overflow the next election's term.
        guard m.term <= Self.maxTerm, m.index <= Self.maxTerm, m.logTerm <= Self.maxTerm, m.commit <= Self.maxTerm,
              m.hint <= Self.maxTerm, m.entries.allSatisfy({ $0.term <= Self.maxTerm && $0.index <= Self.maxTerm }),
              (m.snapshot.map { $0.index <= Self.maxTerm && $0.term <= Self.maxTerm } ?? true) else { return }
        if m.term > term {
            if m.kind == .preVote || m.kind == .vote {
                // Leader stickiness: a server hearing from a leader ignores disruptive candidates.
                let inLease = settings.checkQuorum && leader != 0 && electionElapsed < settings.electionTicks
                if inLease && !m.transfer {
                    return
                }
            }
            if m.kind == .preVote || (m.kind == .preVoteResponse && !m.reject) {
                // Pre-vote traffic never changes the term.
            } else {
                let newLeader: NodeID = (m.kind == .append || m.kind == .heartbeat || m.kind == .snapshot) ? m.from : 0
                becomeFollower(term: m.term, leader: newLeader)
            }
        } else if m.term < term {
            // A stale leader learns the new term from our answer; stale votes are ignored.
            if settings.checkQuorum, m.kind == .append || m.kind == .heartbeat {
                messages.append(Message(kind: .appendResponse, from: id, to: m.from, term: term))
            } else if m.kind == .preVote {
                var answer = Message(kind: .preVoteResponse, from: id, to: m.from, term: term)
                answer.reject = true
                messages.append(answer)
            }
            return
        }

        if role == .leader { lastHeardTick[m.from] = leaderTicks }
        switch m.kind {
        case .preVote, .vote:
            let canVote = m.kind == .preVote
                ? (leader == 0 || electionElapsed >= settings.electionTicks || m.transfer) || m.term > term
                : (vote == 0 || vote == m.from) && (leader == 0 || m.transfer || vote == m.from)
            var answer = Message(kind: m.kind == .vote ? .voteResponse : .preVoteResponse, from: id, to: m.from,
                                 term: m.kind == .vote ? term : m.term)
            if canVote && log.isUpToDate(index: m.index, term: m.logTerm) {
                if m.kind == .vote {
                    vote = m.from
                    electionElapsed = 0
                }
            } else {
                answer.reject = true
                if m.kind == .preVote { answer.term = term }
            }
            messages.append(answer)
        case .preVoteResponse, .voteResponse:
            guard (m.kind == .preVoteResponse && role == .preCandidate) || (m.kind == .voteResponse && role == .candidate) else { return }
            votes[m.from] = !m.reject
            finishElectionIfWon()
        case .append:
            electionElapsed = 0
            leader = m.from
            if role != .follower { becomeFollower(term: term, leader: m.from) }
            handleAppend(m)
        case .heartbeat:
            electionElapsed = 0
            leader = m.from
            if role != .follower { becomeFollower(term: term, leader: m.from) }
            if m.commit > log.committed { log.committed = min(m.commit, log.lastIndex) }
            var answer = Message(kind: .heartbeatResponse, from: id, to: m.from, term: term)
            answer.context = m.context
            messages.append(answer)
        case .snapshot:
            electionElapsed = 0
            leader = m.from
            if role != .follower { becomeFollower(term: term, leader: m.from) }
            handleSnapshot(m)
        case .appendResponse:
            guard role == .leader else { return }
            if m.reject {
                // Fast back-off: jump to the follower's hint instead of one entry at a time.
                let news = updateProgress(of: m.from) {
                    $0.recentActive = true
                    return $0.rejected(m.index, hint: m.hint)
                }
                if news == true { sendAppend(to: m.from) }
            } else {
                let news = updateProgress(of: m.from) { [firstIndex = log.firstIndex] in
                    $0.recentActive = true
                    return $0.accepted(m.index, firstLogIndex: firstIndex)
                }
                guard news == true else { return }
                maybeCommit()
                // Send what the window now allows (several messages when catching up), and the
                // commit index if the follower cannot know it yet.
                while sendAppend(to: m.from, evenIfEmpty: false) {}
                if m.from == transferTarget && progress[m.from]?.match == log.lastIndex { sendTimeoutNow(to: m.from) }
            }
        case .heartbeatResponse:
            // A heartbeat round trip: a probe may go out again, and a full window may send one
            // empty append, whose answer frees the window or shows that appends were lost. A
            // caught-up follower still being probed gets an (empty) append too, so that its
            // answer moves it to replicate.
            guard role == .leader, let needsAppend = updateProgress(of: m.from, { [last = log.lastIndex] in
                $0.recentActive = true
                $0.paused = false
                return $0.match < last || $0.state == .probe
            }) else { return }
            if needsAppend { sendAppend(to: m.from) }
            if !m.context.isEmpty { acknowledgeRead(m.context, from: m.from) }
        case .timeoutNow:
            guard configuration.voters.contains(id), role != .leader else { return }
            startElection(transfer: true)
        }
    }

    private mutating func handleAppend(_ m: Message) {
        var answer = Message(kind: .appendResponse, from: id, to: m.from, term: term)
        if m.index < log.committed {
            answer.index = log.committed      // already have everything up to commit
        } else if let last = log.maybeAppend(previousIndex: m.index, previousTerm: m.logTerm, m.entries, commit: m.commit) {
            answer.index = last
            let carriesConfiguration = m.entries.contains { if case .configuration = $0.payload { return true } else { return false } }
            if carriesConfiguration || log.truncated { recomputeConfiguration() }
        } else {
            answer.reject = true
            answer.index = m.index
            answer.hint = m.index > log.lastIndex ? log.lastIndex + 1 : log.firstIndex(ofTermAt: m.index)
        }
        messages.append(answer)
    }

    /// The configuration is the snapshot's plus every change in the log (a truncated change
    /// no longer counts).
    private mutating func recomputeConfiguration() {
        log.truncated = false
        var config = log.snapshot.configuration
        pendingConfigurationIndex = 0
        for entry in log.entries {
            if case .configuration(let change) = entry.payload {
                config = config.applying(change)
                pendingConfigurationIndex = entry.index
            }
        }
        configuration = config
    }

    private mutating func handleSnapshot(_ m: Message) {
        var answer = Message(kind: .appendResponse, from: id, to: m.from, term: term)
        guard let snapshot = m.snapshot else { return }
        if snapshot.index <= log.committed {
            answer.index = log.committed
        } else if log.term(snapshot.index) == snapshot.term {
            log.committed = snapshot.index       // we have it already: just commit
            answer.index = snapshot.index
        } else {
            log.restore(snapshot)
            configuration = snapshot.configuration
            pendingConfigurationIndex = 0
            answer.index = snapshot.index
        }
        messages.append(answer)
    }

    private mutating func maybeCommit() {
        let matches = configuration.voters.map { readProgress(of: $0) { $0.match } ?? 0 }.sorted(by: >)
        guard !matches.isEmpty else { return }
        let candidate = matches[configuration.quorum - 1]
        // Only entries of the current term commit by counting (§5.4.2, Figure 8).
        if candidate > log.committed, log.term(candidate) == term {
            log.committed = candidate
            broadcastAppend(evenIfEmpty: false)    // the new commit index, to followers that lack it
            if !readsAwaitingCommit.isEmpty {
                let waiting = readsAwaitingCommit
                readsAwaitingCommit = []
                for read in waiting { startRead(read.context, from: read.from) }
            }
        }
    }

    /// Did a quorum of voters (this node included) send anything in the last election timeout?
    private func quorumHeardRecently() -> Bool {
        configuration.voters.filter { voter in
            voter == id || leaderTicks - (lastHeardTick[voter] ?? 0) < settings.electionTicks
        }.count >= configuration.quorum
    }

    private mutating func acknowledgeRead(_ context: [UInt8], from peer: NodeID) {
        guard let position = pendingReads.firstIndex(where: { $0.context == context }) else { return }
        pendingReads[position].acks.insert(peer)
        guard pendingReads[position].acks.filter({ configuration.voters.contains($0) }).count >= configuration.quorum else { return }
        // This read and every earlier one are confirmed.
        for read in pendingReads[...position] {
            readStates.append(ReadState(index: answeredIndex(for: read.from, asked: read.index), context: read.context))
        }
        pendingReads.removeFirst(position + 1)
    }

    // MARK: Sending

    private mutating func broadcastAppend(evenIfEmpty: Bool = true) {
        for peer in progress.keys.sorted() where peer != id { sendAppend(to: peer, evenIfEmpty: evenIfEmpty) }
    }

    /// Heartbeats go to every follower whatever its state: they carry the commit index and
    /// ReadIndex confirmations, and their answers are what un-pause a probe.
    private mutating func broadcastHeartbeat(context: [UInt8]) {
        for peer in progress.keys.sorted() where peer != id {
            var m = Message(kind: .heartbeat, from: id, to: peer, term: term)
            // Never past what the follower is known to have: it may lack the entries before.
            m.commit = updateProgress(of: peer) { [committed = log.committed] in
                let commit = min(committed, $0.match)
                $0.sentHeartbeat(commit: commit)
                return commit
            } ?? 0
            m.context = context
            messages.append(m)
        }
    }

    /// Sends `peer` an append if its progress allows: its next entries (as many as the
    /// message and the window take), else an empty append, which goes out only when
    /// `evenIfEmpty` or when it carries a commit index the follower cannot have. When the
    /// entries it needs are compacted, the snapshot goes instead. Returns whether a message
    /// went out.
    @discardableResult
    private mutating func sendAppend(to peer: NodeID, evenIfEmpty: Bool = true) -> Bool {
        guard let allowed = readProgress(of: peer, { [committed = log.committed] in $0.appendAllowance(commit: committed) }) ?? nil else { return false }
        let previous = allowed.next - 1
        guard let previousTerm = log.term(previous) else { return sendSnapshot(to: peer) }
        let entries = allowed.mayCarryEntries ? log.slice(from: allowed.next, to: log.lastIndex, limit: settings.maxEntriesPerMessage) : []
        guard !entries.isEmpty || evenIfEmpty || allowed.bumpsCommit else { return false }
        var m = Message(kind: .append, from: id, to: peer, term: term)
        m.index = previous
        m.logTerm = previousTerm
        m.entries = entries
        m.commit = log.committed
        messages.append(m)
        updateProgress(of: peer) { [committed = log.committed] in $0.sentAppend(lastEntry: entries.last?.index, commit: committed) }
        return true
    }

    /// The entries `peer` needs are compacted: the snapshot goes instead, once, and nothing
    /// more until the follower answers or the host reports the transfer (`reportSnapshot`).
    private mutating func sendSnapshot(to peer: NodeID) -> Bool {
        // A follower not heard from lately may be down: do not start a transfer to it yet
        // (its next heartbeat answer will).
        guard readProgress(of: peer, { $0.recentActive }) == true else { return false }
        var m = Message(kind: .snapshot, from: id, to: peer, term: term)
        m.snapshot = log.snapshot
        messages.append(m)
        updateProgress(of: peer) { [index = log.snapshot.index] in $0.becomeSnapshot(index) }
        return true
    }

    /// Runs `body` on `peer`'s progress in place and returns its result (nil: no such peer).
    /// Through `values[index]`, because `progress[peer]?.x = ...` allocates (an accessor
    /// frame per call, measured with raft-bench), and a copy written back would make the
    /// window's buffer copy on write at every send.
    @discardableResult
    private mutating func updateProgress<T>(of peer: NodeID, _ body: (inout Progress) -> T) -> T? {
        guard let position = progress.index(forKey: peer) else { return nil }
        return body(&progress.values[position])
    }

    /// `body`'s result on `peer`'s progress, borrowed rather than copied (nil: no such peer):
    /// this runs for every message sent and answered.
    private func readProgress<T>(of peer: NodeID, _ body: (borrowing Progress) -> T) -> T? {
        guard let position = progress.index(forKey: peer) else { return nil }
        return body(progress.values[position])
    }

    private mutating func sendTimeoutNow(to peer: NodeID) {
        messages.append(Message(kind: .timeoutNow, from: id, to: peer, term: term))
    }

    // MARK: Ready / advance

    /// Is there anything for the host to do?
    public var hasReady: Bool { !ready().isEmpty }

    /// What to persist, send and apply now. Call `advance()` after doing it.
    public func ready() -> Ready {
        var r = Ready()
        if hardState != lastReportedHardState { r.hardState = hardState }
        r.entries = log.slice(from: log.stable + 1, to: log.lastIndex)
        r.snapshot = log.pendingSnapshot
        r.messages = messages
        r.committedEntries = log.slice(from: log.applied + 1, to: log.committed)
        r.readStates = readStates
        return r
    }

    /// Marks `ready` as done: its entries are persisted, committed entries applied, messages sent.
    public mutating func advance(_ ready: Ready) {
        if let hard = ready.hardState { lastReportedHardState = hard }
        if let last = ready.entries.last { log.stable = max(log.stable, last.index) }
        if let snapshot = ready.snapshot {
            log.pendingSnapshot = nil
            log.applied = max(log.applied, snapshot.index)
        }
        if let last = ready.committedEntries.last { log.applied = max(log.applied, last.index) }
        messages.removeFirst(min(messages.count, ready.messages.count))
        readStates.removeFirst(min(readStates.count, ready.readStates.count))
    }

    /// Compacts the log: the application's state as of applied entry `index` replaces the
    /// entries up to it (§7). Followers too far behind get this snapshot. The host persists
    /// it too (`RaftStorage.saveCompaction(node.snapshot)`).
    public mutating func compact(upTo index: UInt64, data: [UInt8]) throws(RaftError) {
        guard index <= log.applied, index > log.snapshot.index, let t = log.term(index) else {
            throw RaftError(code: .rejected, message: "can only compact applied entries after the current snapshot (applied \(log.applied), snapshot \(log.snapshot.index))")
        }
        var config = log.snapshot.configuration
        for entry in log.slice(from: log.snapshot.index + 1, to: index) {
            if case .configuration(let change) = entry.payload { config = config.applying(change) }
        }
        log.compact(Snapshot(index: index, term: t, configuration: config, data: data))
    }

    /// The snapshot the log starts from.
    public var snapshot: Snapshot { log.snapshot }
    /// Entries after the snapshot.
    public var entries: [Entry] { log.entries }
}
