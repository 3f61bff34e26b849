import ClusterEngine

/// The metadata leader's proof that a member's process is gone, short of the full silence
/// (`ShardSupervisor.silenceMillis`): connects to the address the member advertises, refused
/// (`ClusterNode.connectRefused`) at least `refusalsNeeded` times, the first and the last at
/// least `spreadMillis` apart, all by probes started after the leader last heard from it.
///
/// Why it is enough to replace a primary at once: a server listens before it joins the cluster
/// and drops its lease before it stops listening, so a refused connect means no process that
/// holds (or can use) a lease listens there; a process started after the refusal holds none
/// until it has caught up with the metadata. Only a refusal counts: a connect that succeeds,
/// times out or cannot be routed (a paused or partitioned node, a proxy that accepts and then
/// resets) clears the member's evidence, and the full silence applies to it.
///
/// A value, fed the probes' outcomes and start times by its owner: no clock, no I/O.
struct RefusalEvidence: Sendable {
    /// Refused connects needed for a proof.
    static let refusalsNeeded = 2
    /// The least time between the first and the last of them: a port that is free for an
    /// instant (a listener being replaced) does not make a proof.
    static let spreadMillis: Int64 = 50

    /// Start times of each member's refused probes since its last non-refused one.
    private var refusals: [NodeID: [ContinuousClock.Instant]] = [:]

    /// Records one probe of `member` started at `started`: a refusal adds to its evidence,
    /// any other outcome clears it.
    mutating func record(_ member: NodeID, refused: Bool, startedAt started: ContinuousClock.Instant) {
        if refused {
            refusals[member, default: []].append(started)
        } else {
            refusals[member] = nil
        }
    }

    /// Whether `member`'s process is proven gone: enough refusals from probes started after
    /// `lastHeard` (nil: this node never heard from it), far enough apart.
    func provesGone(_ member: NodeID, lastHeard: ContinuousClock.Instant?) -> Bool {
        let since = (refusals[member] ?? []).filter { started in lastHeard.map { started > $0 } ?? true }
        guard since.count >= Self.refusalsNeeded, let first = since.min(), let last = since.max() else { return false }
        return last - first >= .milliseconds(Self.spreadMillis)
    }

    /// Drops what was recorded about members other than `members` (and, for each, refusals
    /// from before `lastHeard`, which no longer count).
    mutating func keep(_ members: Set<NodeID>, lastHeard: [NodeID: ContinuousClock.Instant]) {
        refusals = refusals.filter { members.contains($0.key) }
        for (member, heard) in lastHeard where refusals[member] != nil {
            refusals[member] = refusals[member]?.filter { $0 > heard }
        }
    }
}
