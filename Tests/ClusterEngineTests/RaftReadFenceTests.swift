import Testing
@testable import ClusterEngine

/// The two-primary window of shard failover (docs/cluster.md, Failover), at the Raft level.
///
/// Server 3 is a shard's primary: it acts as one only while it holds a lease, renewed by a
/// linearizable read (a read index from the leader, then applying that far) after which its
/// metadata must still name it. The leader (server 1) deposes it by proposing `primary=2`. If a
/// read from server 3 is answered with an index before that proposal while the proposal is on
/// its way to commit, server 3 renews its lease as primary and takes writes at the old epoch
/// until it applies the promotion, while server 2 already takes them at the new one.
private struct Deposing {
    var cluster = RaftCluster(voters: [1, 2, 3])
    /// Appends (and their answers) held back: the promotion is slow to commit.
    var held: [Message] = []

    init() {
        cluster.nodes[1]?.campaign()
        cluster.stabilize()
        propose("p1|put|primary|3")
        cluster.stabilize()
    }

    mutating func propose(_ command: String, fence: ReadFence? = nil) {
        if let fence {
            try? cluster.nodes[1]?.propose(Array(command.utf8), fence: fence)
        } else {
            try? cluster.nodes[1]?.propose(Array(command.utf8))
        }
    }

    /// Delivers heartbeats and their answers (what confirms a read), holds back appends.
    mutating func pumpHeartbeats() {
        for _ in 0..<20 {
            cluster.processReadies()
            let batch = cluster.network
            cluster.network = []
            guard !batch.isEmpty else { return }
            for message in batch {
                if message.kind == .heartbeat || message.kind == .heartbeatResponse {
                    cluster.deliver(message)
                } else {
                    held.append(message)
                }
            }
        }
    }

    /// Releases what was held and lets everything settle.
    mutating func releaseAll() {
        cluster.network = held + cluster.network
        held = []
        cluster.stabilize()
    }

    /// Server `member` asks `leader` for a read index (the lease renewal); the confirmed index.
    mutating func leaseRead(by member: NodeID, on leader: NodeID = 1, _ name: String) throws -> UInt64? {
        try cluster.nodes[leader]?.readIndex(context: Array(name.utf8), from: member)
        pumpHeartbeats()
        return cluster.readStates[leader]?.last { $0.context == Array(name.utf8) }?.index
    }

    /// Whether `member`, once it has applied through `index`, sees itself as the primary (it
    /// would then hold a lease as primary). Nil: it has not applied that far yet.
    func primaryAfterApplying(_ member: NodeID, through index: UInt64) -> Bool? {
        guard (cluster.applied[member]?.keys.max() ?? 0) >= index else { return nil }
        return cluster.kv[member]?["primary"] == "\(member)"
    }

    /// Ticks `voters` (the others are cut off) until one of them leads; returns it.
    mutating func elect(among voters: Set<NodeID>) -> NodeID? {
        let others = Set(cluster.nodes.keys).subtracting(voters)
        cluster.partition = [voters] + others.map { [$0] }
        for _ in 0..<200 {
            for id in voters.sorted() { cluster.tick(id) }
            cluster.stabilize()
            if let leader = cluster.leader, voters.contains(leader) { break }
        }
        cluster.partition = nil
        // Its heartbeats tell the others (an old leader included) of the new term.
        for _ in 0..<10 {
            for id in cluster.nodes.keys.sorted() { cluster.tick(id) }
            cluster.stabilize()
        }
        return cluster.leader
    }

    func fence(_ member: NodeID) -> ReadFence {
        ReadFence(member: member, readsSeen: cluster.nodes[1]!.readsRequested(by: member))
    }
}

@Suite("Raft read fences (deposing a lease holder)")
struct RaftReadFenceTests {
    @Test("a lease read asked while the promotion is uncommitted includes it")
    func readWhilePromotionUncommitted() throws {
        var d = Deposing()
        let fence = d.fence(3)
        d.propose("p2|put|primary|2", fence: fence)
        let promotion = d.cluster.nodes[1]!.lastIndex
        d.pumpHeartbeats()
        #expect(d.cluster.nodes[1]!.commitIndex < promotion, "the scenario needs the promotion uncommitted")

        let index = try #require(try d.leaseRead(by: 3, "lease"))
        #expect(index >= promotion, "read answered at \(index), before the promotion at \(promotion)")
        // Server 3 has applied everything before the promotion: with an earlier index, it would
        // renew its lease as primary here, while server 2 is about to be one.
        #expect(d.primaryAfterApplying(3, through: index) != true)

        d.releaseAll()
        #expect(d.primaryAfterApplying(3, through: index) == false)
        #expect(d.primaryAfterApplying(2, through: index) == true)
        #expect(d.cluster.violations.isEmpty, "\(d.cluster.violations)")
    }

    @Test("a read asked after the decision and before the proposal cancels the proposal")
    func readBetweenDecisionAndProposal() throws {
        var d = Deposing()
        let fence = d.fence(3)
        let readIndex = try #require(try d.leaseRead(by: 3, "lease"))
        #expect(d.primaryAfterApplying(3, through: readIndex) == true)    // a lease, legitimately
        let before = d.cluster.nodes[1]!.lastIndex
        #expect(throws: RaftError.self) { try d.cluster.nodes[1]!.propose(Array("p2|put|primary|2".utf8), fence: fence) }
        #expect(d.cluster.nodes[1]!.lastIndex == before)
        // Decided again with the read counted, it is appended.
        try d.cluster.nodes[1]!.propose(Array("p2|put|primary|2".utf8), fence: d.fence(3))
        #expect(d.cluster.nodes[1]!.lastIndex == before + 1)
    }

    @Test("other members' reads, and reads once the promotion committed, are not raised")
    func otherReadsUnaffected() throws {
        var d = Deposing()
        let committed = d.cluster.nodes[1]!.commitIndex
        d.propose("p2|put|primary|2", fence: d.fence(3))
        d.pumpHeartbeats()
        #expect(try d.leaseRead(by: 2, "other") == committed)
        #expect(try d.leaseRead(by: 1, "own") == committed)
        d.releaseAll()
        let now = d.cluster.nodes[1]!.commitIndex
        #expect(try d.leaseRead(by: 3, "after") == now)
        d.propose("p3|put|other|x")
        d.pumpHeartbeats()
        // Plain reads are answered at the commit index when asked, as before.
        #expect(try d.leaseRead(by: 3, "plain") == now)
    }

    @Test("after a leader change the promotion, if it survived, is in every read of the new term")
    func leaderChangeBeforeCommit() throws {
        var d = Deposing()
        d.propose("p2|put|primary|2", fence: d.fence(3))
        let promotion = d.cluster.nodes[1]!.lastIndex
        // The promotion reaches server 2 only; server 1 dies before it commits.
        d.pumpHeartbeats()
        for message in d.held where message.kind == .append && message.to == 2 { d.cluster.deliver(message) }
        d.held = []
        d.cluster.processReadies()
        d.cluster.network = []
        d.cluster.crash(1)
        // Only server 2 can win: server 3 lacks the promotion.
        let next = d.elect(among: [2, 3])
        try #require(next == 2)
        let index = try #require(try d.leaseRead(by: 3, on: 2, "lease"))
        #expect(index > promotion)
        d.releaseAll()
        #expect(d.primaryAfterApplying(3, through: index) == false)
    }

    @Test("a leader that steps down forgets its fences")
    func steppingDownDropsFloors() throws {
        var d = Deposing()
        // Entries ahead of the promotion, lost with it: its index is past what the next terms fill.
        for n in 0..<5 { d.propose("x\(n)|put|other|\(n)") }
        d.propose("p2|put|primary|2", fence: d.fence(3))
        let lost = d.cluster.nodes[1]!.lastIndex
        let promotionTerm = d.cluster.nodes[1]!.term
        d.held = []    // the promotion reaches no one
        d.cluster.network = []
        let elected = d.elect(among: [2, 3])
        let next = try #require(elected)
        #expect(next != 1)
        #expect(d.cluster.nodes[1]!.role == .follower)
        try d.cluster.nodes[next]?.transferLeadership(to: 1)
        for _ in 0..<20 where d.cluster.leader != 1 {
            d.cluster.tick(next)
            d.cluster.stabilize()
        }
        try #require(d.cluster.leader == 1)
        #expect(d.cluster.nodes[1]!.entries.first { $0.index == lost }?.term != promotionTerm)
        // Server 1 leads again, its old entry overwritten: a read for server 3 is answered at
        // the commit index, not held to the lost entry's index.
        #expect(d.cluster.nodes[1]!.lastIndex < lost, "the scenario needs the lost index unfilled")
        let index = try #require(try d.leaseRead(by: 3, "lease"))
        #expect(index == d.cluster.nodes[1]!.commitIndex)
        #expect(d.primaryAfterApplying(3, through: index) == true)
    }
}
