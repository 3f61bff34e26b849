import Testing
@testable import ClusterEngine

/// A three-server group led by server 1 whose messages the test routes by hand, so that it
/// can count, hold back or lose what the leader sends to one follower.
private struct Harness {
    var cluster: RaftCluster
    /// Messages held back (neither delivered nor lost yet), in send order.
    var held: [Message] = []
    /// When set, the states the leader's view of server 3 goes through, recorded after every pump.
    var trace: [PeerProgress.State]?

    init(settings: RaftConfiguration = RaftConfiguration()) {
        cluster = RaftCluster(voters: [1, 2, 3], settings: settings)
        cluster.nodes[1]?.campaign()
        cluster.stabilize()
    }

    var leader: RaftNode { cluster.nodes[1]! }
    var follower: RaftNode { cluster.nodes[3]! }
    /// The leader's view of server 3.
    var progress: PeerProgress { cluster.nodes[1]!.progressView()[3]! }

    /// Runs the Readies and hands every queued message to `route`, which says what becomes of it.
    mutating func pump(_ route: (Message) -> Route) {
        cluster.processReadies()
        let batch = cluster.network
        cluster.network = []
        for message in batch {
            switch route(message) {
            case .deliver: cluster.nodes[message.to]?.step(message)
            case .hold: held.append(message)
            case .lose: break
            }
        }
        cluster.processReadies()
        let state = progress.state
        if let last = trace?.last, last != state { trace?.append(state) }
    }

    /// Pumps until nothing is left to route (bounded).
    mutating func settle(_ route: (Message) -> Route) {
        for _ in 0..<1000 {
            pump(route)
            if cluster.network.isEmpty { return }
        }
        Issue.record("the group did not settle")
    }

    /// One tick of every server, then settle.
    mutating func tick(_ route: (Message) -> Route) {
        for id in cluster.nodes.keys.sorted() { cluster.tick(id) }
        settle(route)
    }

    /// Heartbeat intervals of ticks, each settled with `route`.
    mutating func heartbeats(_ count: Int, _ route: (Message) -> Route) {
        for _ in 0..<(count * cluster.settings.heartbeatTicks) { tick(route) }
    }

    /// Heartbeat intervals as above, with a proposal (`label` and a number) before each.
    mutating func heartbeats(_ count: Int, proposing label: String, _ route: (Message) -> Route) throws {
        for i in 0..<count {
            try propose("\(label)\(i)|put|k|\(i)")
            heartbeats(1, route)
        }
    }

    mutating func propose(_ text: String) throws {
        try cluster.nodes[1]!.propose(Array(text.utf8))
    }

    /// Delivers the held messages (in order) and settles.
    mutating func release() {
        let messages = held
        held = []
        for m in messages { cluster.nodes[m.to]?.step(m) }
        settle { _ in .deliver }
    }

    /// Is server 3's log the leader's, committed as far?
    var caughtUp: Bool { follower.lastIndex == leader.lastIndex && follower.commitIndex == leader.commitIndex }
}

private enum Route { case deliver, hold, lose }

@Suite("Raft flow control: per-follower progress states and the in-flight window")
struct RaftProgressTests {
    @Test("a follower behind a compaction gets one snapshot message until it answers or the transfer is reported failed")
    func oneSnapshotUntilAnsweredOrFailed() throws {
        var h = Harness()
        // Server 3 misses ten entries, which server 1 then compacts away.
        h.cluster.partition = [[1, 2], [3]]
        for i in 0..<10 { try h.propose("k\(i)|put|k|\(i)") }
        h.cluster.stabilize()
        try h.cluster.compact(1)
        h.cluster.partition = nil
        // Thirty heartbeat intervals pass, with a proposal in each; snapshot messages to 3 are
        // counted and held back (a transfer that neither finishes nor fails), and so are the
        // appends sent to 3 after a snapshot (there should be none).
        var snapshots = 0
        var appendsAfterSnapshot = 0
        let holdSnapshots: (Message) -> Route = { m in
            if m.to == 3 && m.kind == .append && snapshots > 0 { appendsAfterSnapshot += 1 }
            guard m.kind == .snapshot else { return .deliver }
            snapshots += 1
            return .hold
        }
        try h.heartbeats(30, proposing: "during", holdSnapshots)
        #expect(snapshots == 1, "\(snapshots) snapshot messages to a follower that had not answered")
        #expect(appendsAfterSnapshot == 0, "appends sent while a snapshot is pending")
        #expect(h.progress.state == .snapshot)
        #expect(h.progress.next == h.leader.snapshot.index + 1)

        // The host reports the transfer failed: nothing at once, one more snapshot after the
        // next heartbeat round trip, then nothing again.
        h.held = []
        h.cluster.nodes[1]?.reportSnapshot(3, succeeded: false)
        #expect(h.progress.state == .probe)
        #expect(h.progress.next == h.progress.match + 1, "no snapshot was installed: probe from match")
        try h.propose("retry|put|k|r")
        h.cluster.processReadies()
        #expect(!h.cluster.network.contains { $0.to == 3 && ($0.kind == .snapshot || $0.kind == .append) },
                "a failed transfer is not retried at once")
        try h.heartbeats(30, proposing: "later", holdSnapshots)
        #expect(snapshots == 2, "\(snapshots - 1) snapshot messages after one failure report")
        #expect(appendsAfterSnapshot == 0, "appends sent while a snapshot is pending")
        #expect(h.progress.state == .snapshot)

        // This transfer works: the host delivers it and reports success before the follower's
        // answer reaches the leader, which waits in probe for that answer, then replicates.
        let snapshot = h.held.removeFirst()
        h.cluster.nodes[3]?.step(snapshot)
        h.cluster.nodes[1]?.reportSnapshot(3, succeeded: true)
        #expect(h.progress.state == .probe)
        #expect(h.progress.next == snapshot.snapshot!.index + 1)
        h.settle { _ in .deliver }
        #expect(h.progress.state == .replicate)
        #expect(h.progress.match >= snapshot.snapshot!.index)
        try h.propose("after|put|k|x")
        h.heartbeats(2) { _ in .deliver }
        #expect(h.caughtUp)
        #expect(snapshots == 2)
    }

    @Test("a dead follower receives at most maxInflightMessages appends while 10x that many proposals go in, then catches up")
    func deadFollowerIsBounded() throws {
        #expect(RaftConfiguration().maxInflightMessages == 256)
        var settings = RaftConfiguration()
        settings.maxInflightMessages = 32
        var h = Harness(settings: settings)
        var appendsToDead = 0
        let dead: (Message) -> Route = { m in
            guard m.to == 3 else { return .deliver }
            if m.kind == .append { appendsToDead += 1 }
            return .lose
        }
        for i in 0..<(10 * settings.maxInflightMessages) {
            try h.propose("c\(i)|put|k|\(i)")
            // Time passes too: heartbeats go out (and are lost), elections stay away.
            if i % 8 == 0 { h.tick(dead) } else { h.settle(dead) }
        }
        #expect(h.leader.commitIndex == h.leader.lastIndex, "servers 1 and 2 commit without 3")
        #expect(appendsToDead > 0 && appendsToDead <= settings.maxInflightMessages,
                "\(appendsToDead) appends went to a dead follower (window \(settings.maxInflightMessages))")
        #expect(h.progress.state == .replicate)
        #expect(h.progress.inflight == settings.maxInflightMessages)
        #expect(h.progress.match < 10)

        // 3 comes back. Its answers show the appends were lost: the leader probes, then
        // replicates again, and 3 catches up fully.
        h.trace = [h.progress.state]
        h.heartbeats(5) { _ in .deliver }
        #expect(h.trace == [.replicate, .probe, .replicate])
        #expect(h.caughtUp)
        #expect(h.progress.match == h.leader.lastIndex)
        #expect(h.progress.inflight == 0)
    }

    @Test("a reject in replicate returns the follower to probe, with one append in flight while probing")
    func rejectProbesOneAtATime() throws {
        var h = Harness()
        #expect(h.progress.state == .replicate)
        // 3 misses entries silently: the leader keeps pipelining past them.
        h.cluster.partition = [[1, 2], [3]]
        for i in 0..<5 { try h.propose("lost\(i)|put|k|\(i)") }
        h.cluster.stabilize()
        h.cluster.partition = nil
        #expect(h.progress.state == .replicate)
        #expect(h.progress.next == h.leader.lastIndex + 1)
        // The next append (and the commit after it) reach 3, which rejects them: it lacks
        // the entries before.
        try h.propose("next|put|k|n")
        h.settle { m in m.to == 3 ? .hold : .deliver }
        let stale = h.held
        h.held = []
        for m in stale { h.cluster.nodes[3]?.step(m) }
        var rejects = 0
        h.settle { m in
            if m.kind == .appendResponse && m.reject { rejects += 1 }
            return m.to == 3 && m.kind == .append ? .hold : .deliver
        }
        #expect(rejects == stale.count && rejects >= 1)
        #expect(h.held.count == 1, "\(h.held.count) appends answer \(rejects) rejects: probing sends one at a time")
        #expect(h.progress.state == .probe)
        #expect(h.progress.next == h.follower.lastIndex + 1, "probing from the follower's hint")
        // While that probe is unanswered, proposals and heartbeats (whose answers are lost)
        // send 3 nothing more.
        for i in 0..<20 { try h.propose("more\(i)|put|k|\(i)") }
        h.heartbeats(3) { m in
            if m.to == 3 && m.kind == .append { return .hold }
            return m.from == 3 && m.kind == .heartbeatResponse ? .lose : .deliver
        }
        #expect(h.held.count == 1, "\(h.held.count) appends in flight to a probed follower")
        // The probe is answered: 3 is replicated to again and catches up.
        h.release()
        #expect(h.progress.state == .replicate)
        #expect(h.caughtUp)
    }

    @Test("reportUnreachable moves a replicated follower to probe")
    func unreachableProbes() throws {
        var h = Harness()
        try h.propose("a|put|k|1")
        h.settle { _ in .deliver }
        #expect(h.progress.state == .replicate)
        // Appends sent to 3 fail at the transport: the leader hears of it.
        try h.propose("b|put|k|2")
        h.settle { m in m.to == 3 ? .lose : .deliver }
        #expect(h.progress.next == h.leader.lastIndex + 1, "still pipelining past the lost append")
        h.cluster.nodes[1]?.reportUnreachable(3)
        #expect(h.progress.state == .probe)
        #expect(h.progress.next == h.progress.match + 1)
        #expect(h.progress.inflight == 0)
        // A report about a follower already probed changes nothing.
        h.cluster.nodes[1]?.reportUnreachable(3)
        #expect(h.progress.state == .probe)
        // Proposals while probing: one append at most, until an answer.
        for i in 0..<5 { try h.propose("c\(i)|put|k|\(i)") }
        h.settle { m in m.to == 3 && m.kind == .append ? .hold : .deliver }
        #expect(h.held.count == 1)
        h.release()
        #expect(h.progress.state == .replicate)
        #expect(h.caughtUp)
    }
}

@Suite("Raft check-quorum")
struct RaftCheckQuorumTests {
    @Test("a leader cut off at any tick of its check interval steps down within one election timeout and a heartbeat")
    func isolatedLeaderStepsDownPromptly() {
        let settings = RaftConfiguration()
        for offset in 0..<settings.electionTicks {
            var cluster = RaftCluster(voters: [1, 2, 3], settings: settings)
            cluster.nodes[1]?.campaign()
            cluster.stabilize()
            // Run the healthy group for a while, ending `offset` ticks into a check interval.
            for _ in 0..<(3 * settings.electionTicks + offset) {
                for id in [1, 2, 3] as [NodeID] { cluster.tick(id) }
                cluster.stabilize()
            }
            #expect(cluster.nodes[1]?.role == .leader)
            cluster.partition = [[1], [2, 3]]
            var ticks = 0
            while cluster.nodes[1]?.role == .leader, ticks < 10 * settings.electionTicks {
                cluster.tick(1)
                ticks += 1
                cluster.stabilize()
            }
            // Heard from last at most a heartbeat before the cut: down by electionTicks after that.
            #expect(ticks <= settings.electionTicks + settings.heartbeatTicks, "offset \(offset): stepped down after \(ticks) ticks")
        }
    }
}

@Suite("Raft hostile messages")
struct RaftHostileMessageTests {
    @Test("terms, indexes and commits past 2^62 are ignored (a TimeoutNow at UInt64.max trapped the next election's term + 1)")
    func outOfRangeValuesAreIgnored() {
        for kind in [Message.Kind.timeoutNow, .heartbeat, .append, .vote, .preVote, .appendResponse] {
            var node = RaftNode(id: 1, voters: [1, 2, 3])
            var message = Message(kind: kind, from: 2, to: 1, term: .max)
            message.commit = .max
            node.step(message)
            #expect(node.term == 0, "\(kind)")
            message.term = 1
            message.index = .max
            node.step(message)
            #expect(node.commitIndex == 0 && node.lastIndex == 0, "\(kind)")
        }
    }
}
