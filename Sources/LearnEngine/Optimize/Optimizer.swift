/// Which update rule a trainer uses.
public enum OptimizerKind: Equatable, Sendable {
    /// Adam (Kingma & Ba 2015) with PyTorch's defaults; `weightDecay` is L2 added to the gradient (as `torch.optim.Adam`).
    case adam(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0)
    /// SGD with momentum (as `torch.optim.SGD`: v = μ v + g, w -= lr v).
    case sgd(momentum: Double = 0, weightDecay: Double = 0)
}

/// An optimiser's state over a fixed list of parameters (one moment buffer per parameter).
public struct Optimizer<T: LearnScalar> {
    /// The rule.
    public let kind: OptimizerKind
    /// Steps taken (Adam's bias correction uses it).
    public private(set) var step = 0
    var first: [[T]]
    var second: [[T]]

    /// State for `parameters` (their count and sizes must not change afterwards).
    public init(_ kind: OptimizerKind, parameters: [Parameter<T>]) {
        self.kind = kind
        first = parameters.map { [T](repeating: 0, count: $0.count) }
        if case .adam = kind { second = first } else { second = [] }
    }

    /// Applies one update with learning rate `lr` from the parameters' current gradients.
    @_specialize(where T == Float)
    public mutating func update(_ parameters: [Parameter<T>], lr: Double) {
        precondition(parameters.count == first.count)
        step += 1
        let rate = T(lr)
        switch kind {
        case let .adam(beta1, beta2, epsilon, weightDecay):
            let b1 = T(beta1), b2 = T(beta2), eps = T(epsilon), wd = T(weightDecay)
            let correction1 = 1 - T.exponential(T(Double(step)) * T.logarithm(b1))
            let correction2 = 1 - T.exponential(T(Double(step)) * T.logarithm(b2))
            let stepSize = rate / correction1
            let root2 = correction2.squareRoot()
            for (k, p) in parameters.enumerated() {
                // Buffer pointers: element access to a class's arrays is checked for exclusivity each time.
                p.value.withUnsafeMutableBufferPointer { value in p.withGradient { gradient in
                    first[k].withUnsafeMutableBufferPointer { m in second[k].withUnsafeMutableBufferPointer { v in
                        for i in 0..<value.count {
                            let g = gradient[i] + wd * value[i]
                            m[i] = b1 * m[i] + (1 - b1) * g
                            v[i] = b2 * v[i] + (1 - b2) * g * g
                            value[i] -= stepSize * m[i] / (v[i].squareRoot() / root2 + eps)
                        }
                    } }
                } }
            }
        case let .sgd(momentum, weightDecay):
            let mu = T(momentum), wd = T(weightDecay)
            for (k, p) in parameters.enumerated() {
                for i in 0..<p.count {
                    let g = p.gradient[i] + wd * p.value[i]
                    if mu != 0 {
                        first[k][i] = step == 1 ? g : mu * first[k][i] + g
                        p.value[i] -= rate * first[k][i]
                    } else {
                        p.value[i] -= rate * g
                    }
                }
            }
        }
    }
}
