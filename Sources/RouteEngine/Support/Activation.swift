import LearnEngine

extension LearnScalar {
    /// The logistic function 1 / (1 + e^-x), evaluated on the side where the exponential cannot overflow.
    /// (LearnEngine keeps its own internal; this module needs it in the cell's inner loop.)
    @inline(__always) static func logistic(_ x: Self) -> Self {
        x >= 0 ? 1 / (1 + exponential(-x)) : 1 - 1 / (1 + exponential(x))
    }
}
