import LearnEngine

/// Split conformal prediction for a classifier (Angelopoulos & Bates, "A Gentle Introduction to
/// Conformal Prediction", section 1): on n held-out calibration examples the nonconformity score is
/// s_i = 1 - p(true class of i); q̂ is the ⌈(n+1)(1-α)⌉-th smallest score (the ⌈(n+1)(1-α)⌉/n empirical
/// quantile); a new input's prediction set is every class y with 1 - p(y) ≤ q̂.
///
/// What the set means: if calibration and future examples are exchangeable, the set contains the true
/// class with probability at least 1 - α (and at most 1 - α + 1/(n+1) without ties), averaged over
/// calibration sets and inputs, whatever the model. It is not a per-input guarantee.
public struct SplitConformal: Equatable, Sendable {
    /// The miscoverage level α in (0, 1); 0.1 aims at 90% coverage.
    public let alpha: Double
    /// Calibration examples used.
    public let calibrationCount: Int
    /// q̂; `.infinity` when n is too small for the level (⌈(n+1)(1-α)⌉ > n), so every class is in every set.
    public let threshold: Double

    /// Calibrates from each calibration example's probability of its true class.
    public init(alpha: Double, trueClassProbabilities: [Double]) throws(LearnError) {
        guard alpha > 0, alpha < 1 else { throw LearnError(.invalidConfiguration, "conformal alpha \(alpha) not in (0, 1)") }
        guard !trueClassProbabilities.isEmpty else { throw LearnError(.invalidExample, "no calibration outcomes yet") }
        guard trueClassProbabilities.allSatisfy({ $0.isFinite && (0...1).contains($0) }) else {
            throw LearnError(.invalidExample, "a calibration probability is outside [0, 1]")
        }
        let n = trueClassProbabilities.count
        let scores = trueClassProbabilities.map { 1 - $0 }.sorted()
        let rank = Int((Double(n + 1) * (1 - alpha)).rounded(.up))
        self.alpha = alpha
        calibrationCount = n
        threshold = rank > n ? .infinity : scores[rank - 1]
    }

    /// Restores a calibration (as persisted by a host).
    public init(alpha: Double, calibrationCount: Int, threshold: Double) {
        self.alpha = alpha
        self.calibrationCount = calibrationCount
        self.threshold = threshold
    }

    /// The classes whose nonconformity 1 - p is within q̂, in class order.
    public func predictionSet<S: Collection>(_ probabilities: S) -> [Int] where S.Element: BinaryFloatingPoint {
        var set = [Int]()
        for (k, p) in probabilities.enumerated() where 1 - Double(p) <= threshold { set.append(k) }
        return set
    }
}
