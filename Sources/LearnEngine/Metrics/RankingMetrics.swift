#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Ranking quality of one ordered result list against graded relevance.
public enum RankingMetrics {
    /// nDCG@k with gains 2^g - 1 and discount 1/log2(rank + 1) (Järvelin & Kekäläinen 2002),
    /// normalised by the ideal order of the same grades; 0 when nothing is relevant.
    /// `order` lists indices into `grades`, best first.
    public static func ndcg(order: [Int], grades: [Float], k: Int) -> Double {
        let ideal = dcg(grades.sorted(by: >).map(gain), k: k)
        guard ideal > 0 else { return 0 }
        return dcg(order.map { gain(grades[$0]) }, k: k) / ideal
    }

    /// The gain of a relevance grade: 2^g - 1.
    public static func gain(_ grade: Float) -> Double { pow(2, Double(grade)) - 1 }

    /// DCG@k of gains in ranked order: sum of gain / log2(rank + 1) over the first k.
    public static func dcg(_ gains: [Double], k: Int) -> Double {
        var s = 0.0
        for (rank, g) in gains.prefix(k).enumerated() { s += g / log2(Double(rank) + 2) }
        return s
    }

    /// Share of the relevant items (grade > 0) found in the first k; 0 when nothing is relevant.
    /// `totalRelevant` counts relevant items beyond the list (e.g. missed by HNSW), if known.
    public static func recall(order: [Int], grades: [Float], k: Int, totalRelevant: Int? = nil) -> Double {
        let relevant = totalRelevant ?? grades.filter { $0 > 0 }.count
        guard relevant > 0 else { return 0 }
        return Double(order.prefix(k).filter { grades[$0] > 0 }.count) / Double(relevant)
    }

    /// Reciprocal rank of the first relevant item (0 when none is).
    public static func reciprocalRank(order: [Int], grades: [Float]) -> Double {
        for (rank, i) in order.enumerated() where grades[i] > 0 { return 1 / Double(rank + 1) }
        return 0
    }

    /// The mean of `differences` (e.g. per-query model minus baseline nDCG) with a percentile
    /// bootstrap 95% interval from `resamples` seeded resamples.
    public static func bootstrapInterval(_ differences: [Double], resamples: Int = 2000, seed: UInt64)
        -> (mean: Double, lower: Double, upper: Double) {
        guard !differences.isEmpty else { return (0, 0, 0) }
        let n = differences.count
        let mean = differences.reduce(0, +) / Double(n)
        var rng = SeededGenerator(seed: seed)
        var means = [Double]()
        means.reserveCapacity(resamples)
        for _ in 0..<resamples {
            var s = 0.0
            for _ in 0..<n { s += differences[Int(rng.next() % UInt64(n))] }
            means.append(s / Double(n))
        }
        means.sort()
        let lo = means[Int(Double(resamples) * 0.025)]
        let hi = means[min(Int(Double(resamples) * 0.975), resamples - 1)]
        return (mean, lo, hi)
    }

    /// Lower bounds that hold for several paired comparisons on the same lists at once (each
    /// row of `differences` one candidate, e.g. a model after each epoch, minus a baseline, per
    /// list): each candidate's mean less c times its standard error, c the 97.5th percentile over
    /// seeded bootstrap resamples of the lists of the largest standardised deviation over the
    /// candidates, max of (resampled mean - mean) / standard error (single-step max-T). Choosing
    /// the candidate with the best mean and testing its lower bound > 0 then keeps the one-sided
    /// 2.5% error of one comparison: the choice among candidates is paid for, little when they
    /// are alike (as successive epochs are), up to a Bonferroni bound when they are independent.
    /// A candidate whose differences are all equal has no error and keeps its mean.
    public static func simultaneousLowerBounds(_ differences: [[Double]], resamples: Int = 2000, seed: UInt64) -> [Double] {
        guard let n = differences.first?.count, n > 0 else { return differences.map { _ in 0 } }
        precondition(differences.allSatisfy { $0.count == n }, "one difference per list for every candidate")
        let means = differences.map { $0.reduce(0, +) / Double(n) }
        let errors = zip(differences, means).map { row, mean in
            (row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(n - 1, 1)) / Double(n)).squareRoot()
        }
        var rng = SeededGenerator(seed: seed)
        var maxima = [Double](), sums = [Double](repeating: 0, count: differences.count)
        maxima.reserveCapacity(resamples)
        for _ in 0..<resamples {
            for c in sums.indices { sums[c] = 0 }
            for _ in 0..<n {
                let i = Int(rng.next() % UInt64(n))
                for c in differences.indices { sums[c] += differences[c][i] }
            }
            var largest = -Double.infinity
            for c in sums.indices where errors[c] > 0 { largest = max(largest, (sums[c] / Double(n) - means[c]) / errors[c]) }
            maxima.append(largest.isFinite ? largest : 0)
        }
        maxima.sort()
        let c = maxima[min(Int(Double(resamples) * 0.975), resamples - 1)]
        return zip(means, errors).map { $0 - c * $1 }
    }

    /// Where a query falls in a hold-out split: a hash of its vector, uniform in [0, 1), so every
    /// session of one query lands on the same side of every split and a split stays the same from
    /// run to run (LearnService's gate and learn-bench's gate study split by it).
    public static func holdOutUnit(_ query: [Float]) -> Double {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for value in query {
            hash = (hash ^ UInt64(value.bitPattern)) &* 0x0000_0100_0000_01B3
        }
        hash ^= hash >> 33
        hash = hash &* 0xFF51_AFD7_ED55_8CCD
        hash ^= hash >> 33
        return Double(hash >> 11) / Double(1 << 53)
    }
}
