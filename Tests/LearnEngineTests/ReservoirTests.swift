import Testing
import LearnEngine

@Suite struct ReservoirTests {
    /// Chi-squared statistic of how often each of `stream` items ended in a reservoir of `capacity`,
    /// over `trials` seeded runs (each item's expected count is trials * capacity / stream).
    func chiSquared(stream: Int, capacity: Int, trials: Int, offer: (inout ReservoirBuffer<Int>, Int) -> Void) -> Double {
        var counts = [Int](repeating: 0, count: stream)
        for t in 0..<trials {
            var r = ReservoirBuffer<Int>(capacity: capacity, seed: UInt64(t) &* 7919 &+ 1)
            for i in 0..<stream { offer(&r, i) }
            for i in r.items { counts[i] += 1 }
        }
        let expected = Double(trials * capacity) / Double(stream)
        return counts.reduce(0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
    }

    /// 99 degrees of freedom: the 0.999 quantile of chi-squared is 148.2.
    let critical = 148.2

    @Test func algorithmRKeepsEveryItemWithEqualProbability() {
        let stat = chiSquared(stream: 100, capacity: 10, trials: 4000) { r, i in r.add(i) }
        #expect(stat < critical, "chi-squared \(stat)")
    }

    @Test func theTestRejectsABiasedSampler() {
        // Keeps the reservoir's first fill and then only replaces with half the right probability:
        // early items are over-represented, as a sampler with an off-by-some bug would do.
        let stat = chiSquared(stream: 100, capacity: 10, trials: 4000) { r, i in
            if i % 2 == 0 || r.items.count < r.capacity { r.add(i) }
        }
        #expect(stat > critical, "chi-squared \(stat)")
    }

    @Test func capacityAndSeenAreKept() {
        var r = ReservoirBuffer<Int>(capacity: 5, seed: 1)
        for i in 0..<3 { r.add(i) }
        #expect(r.items == [0, 1, 2])
        for i in 3..<1000 { r.add(i) }
        #expect(r.items.count == 5 && r.seen == 1000)
        #expect(r.sample(4).count == 4)
    }
}
