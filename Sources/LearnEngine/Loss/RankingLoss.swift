/// The ranking losses over the results shown for one query, each with its gradient in the scores.
public enum RankingLossKind: UInt8, Sendable, CaseIterable {
    /// Listwise softmax cross-entropy (ListNet, Cao et al. 2007) against targets (2^g - 1) / sum.
    case listwiseSoftmax = 0
    /// InfoNCE (van den Oord et al. 2018): -log softmax of each relevant result against all shown, averaged.
    case infoNCE = 1
    /// RankNet (Burges et al. 2005): log(1 + e^-(s_i - s_j)/τ) over every pair with g_i > g_j, averaged.
    case pairwiseLogistic = 2
}

/// A ranking loss value and d(loss)/d(score) for each shown result.
public struct LossResult<T: LearnScalar> {
    /// The loss.
    public var value: T
    /// Its gradient in each score.
    public var gradient: [T]
}

/// Ranking losses with temperature τ (scores are divided by τ before the softmax or the logistic).
///
/// `weights` (one per result, >= 0) are inverse examination propensities for feedback that
/// comes from clicks on a ranked list (unbiased learning to rank, Joachims et al. 2017): each
/// result's share of the loss is multiplied by its weight, and the listwise targets are then
/// not normalised per list (normalising would cancel a lone deep click's weight and bring the
/// position bias back). Without weights every result weighs 1 and the listwise targets sum to 1.
public enum RankingLoss {
    /// The loss of `kind` for `scores` against graded relevance `grades` (>= 0), each result's
    /// term scaled by `weights` when given; a list with no positive grade carries no signal and
    /// gives loss 0 with a zero gradient.
    public static func evaluate<T: LearnScalar>(_ kind: RankingLossKind, scores: [T], grades: [T],
                                                temperature: T, weights: [T]? = nil) -> LossResult<T> {
        precondition(scores.count == grades.count && temperature > 0 && (weights?.count ?? scores.count) == scores.count)
        switch kind {
        case .listwiseSoftmax: return listwise(scores: scores, grades: grades, temperature: temperature, weights: weights)
        case .infoNCE: return infoNCE(scores: scores, grades: grades, temperature: temperature, weights: weights)
        case .pairwiseLogistic: return pairwise(scores: scores, grades: grades, temperature: temperature, weights: weights)
        }
    }

    /// log-softmax of scores / τ.
    static func logSoftmax<T: LearnScalar>(_ scores: [T], temperature: T) -> [T] {
        let z = scores.map { $0 / temperature }
        let m = z.max() ?? 0
        var total: T = 0
        for v in z { total += T.exponential(v - m) }
        let lse = m + T.logarithm(total)
        return z.map { $0 - lse }
    }

    /// Targets (2^g - 1) / sum without weights; (2^g - 1) * w unnormalised with them. With targets
    /// t summing to S: loss = -sum t_i log p_i, d/ds_i = (S p_i - t_i) / τ.
    static func listwise<T: LearnScalar>(scores: [T], grades: [T], temperature: T, weights: [T]?) -> LossResult<T> {
        var targets = grades.map { T.exponential($0 * T.logarithm(2)) - 1 }
        let gainTotal = targets.reduce(0, +)
        guard gainTotal > 0 else { return LossResult(value: 0, gradient: [T](repeating: 0, count: scores.count)) }
        if let weights {
            for i in targets.indices { targets[i] *= weights[i] }
        } else {
            for i in targets.indices { targets[i] /= gainTotal }
        }
        let total = targets.reduce(0, +)
        let logP = logSoftmax(scores, temperature: temperature)
        var loss: T = 0
        var grad = [T](repeating: 0, count: scores.count)
        for i in scores.indices {
            loss -= targets[i] * logP[i]
            grad[i] = (total * T.exponential(logP[i]) - targets[i]) / temperature
        }
        return LossResult(value: loss, gradient: grad)
    }

    /// Mean over the positives of -w_p log p_p (w = 1 without weights).
    static func infoNCE<T: LearnScalar>(scores: [T], grades: [T], temperature: T, weights: [T]?) -> LossResult<T> {
        let positives = grades.indices.filter { grades[$0] > 0 }
        guard !positives.isEmpty else { return LossResult(value: 0, gradient: [T](repeating: 0, count: scores.count)) }
        let logP = logSoftmax(scores, temperature: temperature)
        let count = T(positives.count)
        var weightTotal: T = 0
        for p in positives { weightTotal += weights?[p] ?? 1 }
        var loss: T = 0
        var grad = [T](repeating: 0, count: scores.count)
        for i in scores.indices { grad[i] = weightTotal * T.exponential(logP[i]) / (temperature * count) }
        for p in positives {
            let w = weights?[p] ?? 1
            loss -= w * logP[p] / count
            grad[p] -= w / (temperature * count)
        }
        return LossResult(value: loss, gradient: grad)
    }

    /// Mean over the pairs g_i > g_j of w_i log(1 + e^-(s_i - s_j)/τ): the better result's weight
    /// (its click is the evidence) scales the pair.
    static func pairwise<T: LearnScalar>(scores: [T], grades: [T], temperature: T, weights: [T]?) -> LossResult<T> {
        var loss: T = 0
        var grad = [T](repeating: 0, count: scores.count)
        var pairs = 0
        for i in scores.indices { for j in scores.indices where grades[i] > grades[j] { pairs += 1 } }
        guard pairs > 0 else { return LossResult(value: 0, gradient: grad) }
        for i in scores.indices {
            let weight = (weights?[i] ?? 1) / T(pairs)
            for j in scores.indices where grades[i] > grades[j] {
                let d = (scores[i] - scores[j]) / temperature
                // log(1 + e^-d), stable for both signs of d.
                let l = d > 0 ? T.logarithm(1 + T.exponential(-d)) : -d + T.logarithm(1 + T.exponential(d))
                loss += weight * l
                let g = -T.sigmoid(-d) * weight / temperature
                grad[i] += g
                grad[j] -= g
            }
        }
        return LossResult(value: loss, gradient: grad)
    }
}
