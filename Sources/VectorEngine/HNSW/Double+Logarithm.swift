/// The natural logarithm as a series (no libm), for drawing HNSW levels (`-ln(u) * mL`). Kept when
/// the seeded generator moved to SeededRandom (whose Gaussian uses libm): libm's log differs from
/// this one in the last bits, which could move a level at a boundary and change a seeded graph.
extension Double {
    /// The natural logarithm (`x > 0`): within 1e-15 or 8 ulps of libm's, whichever is larger.
    var logValue: Double {
        // ln(x) = ln(m * 2^e) = ln(m) + e ln 2, m in [1,2); series on atanh form.
        precondition(self > 0)
        let e = Double(self.exponent)
        let m = self.significand
        let y = (m - 1) / (m + 1)
        let y2 = y * y
        var term = y, sum = 0.0, n = 1.0
        for _ in 0..<40 { sum += term / n; term *= y2; n += 2 }
        return 2 * sum + e * 0.693_147_180_559_945_3
    }
}
