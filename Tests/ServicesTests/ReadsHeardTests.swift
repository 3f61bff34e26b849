import Testing
@testable import Services

@Suite("Reads heard: a member's lease reads count as hearing from it")
struct ReadsHeardTests {
    private static let start = ContinuousClock.now

    private static func at(_ millis: Int64) -> ContinuousClock.Instant { start + .milliseconds(millis) }

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
