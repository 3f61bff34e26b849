#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How the learning rate moves over a training run.
public enum LearningRateSchedule: Equatable, Sendable {
    /// The base rate throughout.
    case constant
    /// Linear warm-up from base/warmupSteps to base over `warmupSteps`, then cosine annealing to
    /// `minimumRate` at `totalSteps` (and `minimumRate` after).
    case warmupCosine(warmupSteps: Int, totalSteps: Int, minimumRate: Double)
    /// Multiply by `factor` after `patience` evaluations without improvement (as
    /// `torch.optim.lr_scheduler.ReduceLROnPlateau`, mode max, threshold 0); see `PlateauState`.
    case reduceOnPlateau(factor: Double, patience: Int, minimumRate: Double)

    /// The rate at 0-based `step` for the step-driven schedules (plateau returns `base`; its state adjusts it).
    public func rate(base: Double, step: Int) -> Double {
        switch self {
        case .constant, .reduceOnPlateau:
            return base
        case let .warmupCosine(warmup, total, minimum):
            if step < warmup { return base * Double(step + 1) / Double(warmup) }
            let span = max(total - warmup, 1)
            let progress = min(Double(step - warmup) / Double(span), 1)
            return minimum + (base - minimum) * 0.5 * (1 + cos(Double.pi * progress))
        }
    }
}

/// Reduce-on-plateau's memory: the best metric seen (higher is better) and evaluations since.
public struct PlateauState: Equatable, Sendable {
    /// The current rate.
    public private(set) var rate: Double
    /// The best metric so far.
    public private(set) var best = -Double.infinity
    /// Evaluations since `best` improved.
    public private(set) var badEvaluations = 0

    /// Starts at `base`.
    public init(base: Double) { rate = base }

    /// Records an evaluation; after more than `patience` evaluations in a row without improvement
    /// the rate is multiplied by `factor` (not below `minimumRate`) and the count restarts.
    public mutating func record(metric: Double, factor: Double, patience: Int, minimumRate: Double) {
        if metric > best {
            best = metric
            badEvaluations = 0
        } else {
            badEvaluations += 1
        }
        if badEvaluations > patience {
            rate = max(rate * factor, minimumRate)
            badEvaluations = 0
        }
    }
}
