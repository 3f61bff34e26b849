/// Elastic weight consolidation (Kirkpatrick et al. 2017): after a training run, the weights
/// w* and a diagonal Fisher F are kept; the next run adds λ/2 Σ F (w - w*)^2 to its loss so
/// the weights that mattered for earlier feedback move less.
public struct ElasticWeightConsolidation<T: LearnScalar> {
    /// The penalty's strength λ (the default 0.4).
    public var lambda: T
    /// Anchor weights per parameter, empty until the first consolidation.
    public private(set) var anchor: [[T]] = []
    /// Fisher diagonal per parameter.
    public private(set) var fisher: [[T]] = []

    /// No anchor yet: the penalty is zero until `consolidate`.
    public init(lambda: T) { self.lambda = lambda }

    /// Whether an anchor is held.
    public var isConsolidated: Bool { !anchor.isEmpty }

    /// Estimates the Fisher diagonal as the mean over `examples` of the squared gradient of the
    /// log-likelihood (the negated ranking loss) at the current weights, then anchors them there.
    /// Examples are evaluated without dropout. Keeps the previous Fisher when `examples` is empty.
    @_specialize(where T == Float)
    public mutating func consolidate(network: RerankNetwork<T>, examples: [RerankExample]) {
        let parameters = network.parameters
        var estimate = parameters.map { [T](repeating: 0, count: $0.count) }
        var used = 0
        var rng = SeededGenerator(seed: 0)
        for e in examples where e.grades != nil {
            Gradients.zero(parameters)
            network.loss(e, training: false, rng: &rng)
            for (k, p) in parameters.enumerated() {
                p.withGradient { g in estimate[k].withUnsafeMutableBufferPointer { f in for i in g.indices { f[i] += g[i] * g[i] } } }
            }
            used += 1
        }
        Gradients.zero(parameters)
        if used > 0 {
            let inv = 1 / T(used)
            fisher = estimate.map { $0.map { $0 * inv } }
        } else if fisher.isEmpty {
            fisher = estimate
        }
        anchor = parameters.map(\.value)
    }

    /// λ/2 Σ F (w - w*)^2 at the current weights; 0 before consolidation.
    @_specialize(where T == Float)
    public func penalty(_ parameters: [Parameter<T>]) -> T {
        guard isConsolidated else { return 0 }
        var sum: T = 0
        for (k, p) in parameters.enumerated() {
            let value = p.value, f = fisher[k], w = anchor[k]
            for i in value.indices { let d = value[i] - w[i]; sum += f[i] * d * d }
        }
        return lambda / 2 * sum
    }

    /// Adds the penalty's gradient λ F (w - w*) to each parameter's gradient.
    @_specialize(where T == Float)
    public func addGradient(_ parameters: [Parameter<T>]) {
        guard isConsolidated else { return }
        for (k, p) in parameters.enumerated() {
            let value = p.value, f = fisher[k], w = anchor[k]
            p.withGradient { g in for i in g.indices { g[i] += lambda * f[i] * (value[i] - w[i]) } }
        }
    }

    /// Restores a consolidation read back from storage (the service persists anchor and Fisher).
    public mutating func restore(anchor: [[T]], fisher: [[T]]) {
        precondition(anchor.count == fisher.count)
        self.anchor = anchor
        self.fisher = fisher
    }
}
