import Testing
@testable import Services

@Suite("Refusal evidence: when a silent primary counts as gone")
struct RefusalEvidenceTests {
    private static let start = ContinuousClock.now

    private static func at(_ millis: Int64) -> ContinuousClock.Instant { start + .milliseconds(millis) }

    @Test("two refusals far enough apart, both after the member was last heard, prove it gone")
    func proof() {
        var evidence = RefusalEvidence()
        evidence.record(2, refused: true, startedAt: Self.at(100))
        #expect(!evidence.provesGone(2, lastHeard: Self.at(0)), "one refusal is not enough")
        evidence.record(2, refused: true, startedAt: Self.at(100 + RefusalEvidence.spreadMillis))
        #expect(evidence.provesGone(2, lastHeard: Self.at(0)))
        #expect(evidence.provesGone(2, lastHeard: nil), "a member this node never heard from")
        #expect(!evidence.provesGone(3, lastHeard: nil), "another member has no evidence")
    }

    @Test("refusals too close together, or from before the member was last heard, prove nothing")
    func noProof() {
        var close = RefusalEvidence()
        close.record(2, refused: true, startedAt: Self.at(100))
        close.record(2, refused: true, startedAt: Self.at(100 + RefusalEvidence.spreadMillis - 1))
        #expect(!close.provesGone(2, lastHeard: Self.at(0)))

        var stale = RefusalEvidence()
        stale.record(2, refused: true, startedAt: Self.at(100))
        stale.record(2, refused: true, startedAt: Self.at(200))
        // Heard in between (a restarted process): only the later refusal counts.
        #expect(!stale.provesGone(2, lastHeard: Self.at(150)))
        #expect(!stale.provesGone(2, lastHeard: Self.at(100)), "a probe must start after the member was heard")
        stale.keep([2], lastHeard: [2: Self.at(150)])
        stale.record(2, refused: true, startedAt: Self.at(220))
        #expect(!stale.provesGone(2, lastHeard: Self.at(0)), "refusals from before the last word were dropped")
        stale.record(2, refused: true, startedAt: Self.at(250))
        #expect(stale.provesGone(2, lastHeard: Self.at(150)))
    }

    @Test("a probe that connects (or fails otherwise) clears the evidence; members that left are forgotten")
    func clearing() {
        var evidence = RefusalEvidence()
        evidence.record(2, refused: true, startedAt: Self.at(100))
        evidence.record(2, refused: false, startedAt: Self.at(150))
        evidence.record(2, refused: true, startedAt: Self.at(200))
        #expect(!evidence.provesGone(2, lastHeard: nil), "an accepting listener in between breaks the chain")
        evidence.record(2, refused: true, startedAt: Self.at(300))
        #expect(evidence.provesGone(2, lastHeard: nil))
        evidence.keep([3], lastHeard: [:])
        #expect(!evidence.provesGone(2, lastHeard: nil))
    }

    // A member's lease reads count as hearing from it (`ShardSupervisor.ReadsHeard`).

    @Test("a member is heard when its read count changes, not while it stays")
    func heardOnChange() {
        var reads = ShardSupervisor.ReadsHeard()
        #expect(reads.update([2: 0, 3: 0], now: Self.at(0)).isEmpty, "no read yet: nothing heard")
        #expect(reads.update([2: 5], now: Self.at(100)) == [2: Self.at(100)])
        #expect(reads.update([2: 5], now: Self.at(200)) == [2: Self.at(100)], "the same count is no new read")
        #expect(reads.update([2: 6, 3: 1], now: Self.at(300)) == [2: Self.at(300), 3: Self.at(300)])
    }

    @Test("refusals from before a member's last read prove nothing: a restarted process read since")
    func readsOutdateRefusals() {
        var reads = ShardSupervisor.ReadsHeard()
        var evidence = RefusalEvidence()
        evidence.record(2, refused: true, startedAt: Self.at(100))
        evidence.record(2, refused: true, startedAt: Self.at(100 + RefusalEvidence.spreadMillis))
        #expect(evidence.provesGone(2, lastHeard: reads.update([2: 1], now: Self.at(50))[2]))
        // The member's new process asked for a read after those probes: it may hold a lease.
        #expect(!evidence.provesGone(2, lastHeard: reads.update([2: 2], now: Self.at(400))[2]))
    }
}
