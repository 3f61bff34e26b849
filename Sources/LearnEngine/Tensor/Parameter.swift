/// A trainable tensor: its values and the gradient accumulated since the last `zeroGradient()`,
/// both flat row-major arrays, with a name and shape so serialisation, optimisers and EWC can
/// treat every parameter of a model alike.
public final class Parameter<T: LearnScalar> {
    /// Stable name within its model (e.g. `mp0.attention.query.weight`); serialisation keys on it.
    public let name: String
    /// The tensor's dimensions, outermost first (`[rows, columns]` for a weight matrix).
    public let shape: [Int]
    /// The values, row-major.
    public var value: [T]
    /// d(loss)/d(value), same layout; layers add to it during backward.
    public var gradient: [T]

    /// A parameter filled with `value`, whose count must match `shape`.
    public init(name: String, shape: [Int], value: [T]) {
        precondition(shape.reduce(1, *) == value.count, "parameter \(name): shape \(shape) vs \(value.count) values")
        self.name = name
        self.shape = shape
        self.value = value
        self.gradient = [T](repeating: 0, count: value.count)
    }

    /// A parameter of zeros.
    public convenience init(name: String, shape: [Int]) {
        self.init(name: name, shape: shape, value: [T](repeating: 0, count: shape.reduce(1, *)))
    }

    /// A parameter drawn uniformly from [-bound, bound] (Glorot/He style bounds are chosen by the layer).
    public convenience init(name: String, shape: [Int], uniformBound bound: Double, rng: inout SeededGenerator) {
        let n = shape.reduce(1, *)
        var v = [T](repeating: 0, count: n)
        for i in 0..<n { v[i] = T((rng.nextUnitOpen() * 2 - 1) * bound) }
        self.init(name: name, shape: shape, value: v)
    }

    /// The number of scalars.
    public var count: Int { value.count }

    /// Clears the accumulated gradient.
    @_specialize(where T == Float)
    public func zeroGradient() {
        gradient.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }

    /// Runs `body` on the gradient's storage: one exclusivity check for the whole loop instead of one
    /// per element (the parameter is a class, so every `gradient[i]` is checked on its own).
    @inline(__always)
    func withGradient<R>(_ body: (UnsafeMutableBufferPointer<T>) -> R) -> R {
        gradient.withUnsafeMutableBufferPointer { body($0) }
    }
}

/// Gradient utilities over a model's parameter list.
public enum Gradients {
    /// Clears every parameter's gradient.
    @_specialize(where T == Float)
    public static func zero<T>(_ parameters: [Parameter<T>]) {
        for p in parameters { p.zeroGradient() }
    }

    /// The L2 norm of all gradients taken together.
    @_specialize(where T == Float)
    public static func globalNorm<T>(_ parameters: [Parameter<T>]) -> T {
        var sum: T = 0
        for p in parameters { for g in p.gradient { sum += g * g } }
        return sum.squareRoot()
    }

    /// Scales all gradients down so their global norm is at most `maxNorm` (as
    /// `torch.nn.utils.clip_grad_norm_`); returns the norm before clipping.
    @_specialize(where T == Float)
    @discardableResult
    public static func clipGlobalNorm<T>(_ parameters: [Parameter<T>], maxNorm: T) -> T {
        let norm = globalNorm(parameters)
        guard norm > maxNorm, norm > 0 else { return norm }
        let scale = maxNorm / (norm + T(1e-6))
        for p in parameters { p.withGradient { g in for i in g.indices { g[i] *= scale } } }
        return norm
    }

    /// Multiplies every gradient by `factor` (averaging over a batch).
    @_specialize(where T == Float)
    public static func scale<T>(_ parameters: [Parameter<T>], by factor: T) {
        for p in parameters { p.withGradient { g in for i in g.indices { g[i] *= factor } } }
    }
}
