/// Inverted dropout: in training each element is zeroed with probability `rate` and the rest
/// scaled by 1/(1-rate); at inference it is the identity. Masks come from a seeded generator.
public struct Dropout<T: LearnScalar>: Sendable {
    /// Probability of zeroing an element, in [0, 1).
    public let rate: Double

    /// A dropout of `rate`.
    public init(rate: Double) {
        precondition(rate >= 0 && rate < 1, "dropout rate \(rate)")
        self.rate = rate
    }

    /// Returns the output and the mask (the multiplier of each element), drawing from `rng` only in training.
    @_specialize(where T == Float)
    public func forward(_ x: [T], training: Bool, rng: inout SeededGenerator) -> (output: [T], mask: [T]?) {
        guard training, rate > 0 else { return (x, nil) }
        let keep = T(1 / (1 - rate))
        var mask = [T](repeating: 0, count: x.count)
        var y = x
        for i in x.indices {
            mask[i] = rng.nextUnitOpen() < rate ? 0 : keep
            y[i] *= mask[i]
        }
        return (y, mask)
    }

    /// dx = dy * mask.
    @_specialize(where T == Float)
    public func backward(mask: [T]?, dy: [T]) -> [T] {
        guard let mask else { return dy }
        var dx = dy
        for i in dx.indices { dx[i] *= mask[i] }
        return dx
    }
}
