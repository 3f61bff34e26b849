import LearnEngine

/// The FastGRNN classifier (Kusupati et al., NeurIPS 2018), trainable, generic over the scalar so
/// gradient checks run in Double. Per step t, with W = W1 W2 and U = U1 U2 when low-rank:
///
///     z_t  = σ(W x_t + U h_{t-1} + b_z)
///     h~_t = tanh(W x_t + U h_{t-1} + b_h)
///     h_t  = (ζ (1 - z_t) + ν) ⊙ h~_t + z_t ⊙ h_{t-1},   ζ = σ(ζ'), ν = σ(ν'),  h_0 = 0
///
/// and logits = V h_T + b_V. W and U are shared by the gate and the candidate: that sharing is what makes
/// the cell as cheap as a plain RNN. Initial values follow the authors' EdgeML code (ζ' = 1, ν' = -4,
/// b_z = b_h = 1): ν starts small, so the cell starts near a leaky-integrator RNN.
public final class FastGRNNNetwork<T: LearnScalar> {
    /// The shape.
    public let config: FastGRNNConfig
    /// The input map W [hidden x inputs].
    public let w: FactoredMatrix<T>
    /// The recurrent map U [hidden x hidden].
    public let u: FactoredMatrix<T>
    /// b_z, the gate's bias.
    public let gateBias: Parameter<T>
    /// b_h, the candidate state's bias.
    public let updateBias: Parameter<T>
    /// ζ' (one scalar): ζ = σ(ζ').
    public let zetaLogit: Parameter<T>
    /// ν' (one scalar): ν = σ(ν').
    public let nuLogit: Parameter<T>
    /// V [classes x hidden].
    public let classifierWeight: Parameter<T>
    /// b_V [classes].
    public let classifierBias: Parameter<T>

    /// A network with weights drawn from `seed` (the same seed gives bit-identical weights).
    public init(config: FastGRNNConfig, seed: UInt64) throws(LearnError) {
        try config.validate()
        self.config = config
        var rng = SeededGenerator(seed: seed)
        let h = config.hidden
        w = FactoredMatrix(name: "W", outputs: h, inputs: config.inputs, rank: config.wRank, rng: &rng)
        u = FactoredMatrix(name: "U", outputs: h, inputs: h, rank: config.uRank, rng: &rng)
        gateBias = Parameter(name: "b_z", shape: [h], value: [T](repeating: 1, count: h))
        updateBias = Parameter(name: "b_h", shape: [h], value: [T](repeating: 1, count: h))
        zetaLogit = Parameter(name: "zeta", shape: [1], value: [1])
        nuLogit = Parameter(name: "nu", shape: [1], value: [-4])
        classifierWeight = Parameter(name: "V", shape: [config.classes, h], uniformBound: 1 / Double(h).squareRoot(), rng: &rng)
        classifierBias = Parameter(name: "b_V", shape: [config.classes])
    }

    /// Every trainable parameter, in the serialised order.
    public var parameters: [Parameter<T>] {
        w.factors + u.factors + [gateBias, updateBias, zetaLogit, nuLogit, classifierWeight, classifierBias]
    }

    /// The matrices the sparsity stages prune: W's and U's factors (the paper's sparse W, U) and V.
    public var prunableMatrices: [Parameter<T>] { w.factors + u.factors + [classifierWeight] }

    /// ζ and ν.
    public var zeta: T { T.logistic(zetaLogit.value[0]) }
    /// ν.
    public var nu: T { T.logistic(nuLogit.value[0]) }

    /// What backward needs from forward, per step.
    public struct Trace {
        /// x_t [rows x inputs] per step.
        var inputs: [[T]] = []
        /// W2 x_t and U2 h_{t-1} per step (empty when full rank).
        var wMiddle: [[T]] = [], uMiddle: [[T]] = []
        /// h_0 ... h_T, each [rows x hidden].
        var states: [[T]] = []
        /// z_t and h~_t per step.
        var gates: [[T]] = [], candidates: [[T]] = []
        /// V h_T + b_V, [rows x classes].
        public internal(set) var logits: [T] = []
        /// The last state h_T [rows x hidden].
        public var lastState: [T] { states.last ?? [] }
    }

    /// Runs `rows` sequences, laid out `[rows][timeSteps][inputs]` in `sequences`.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public func forward(_ sequences: [T], rows: Int) -> Trace {
        let c = config, h = c.hidden
        precondition(sequences.count == rows * c.sequenceLength, "expected \(rows) x \(c.sequenceLength) features")
        let zeta = self.zeta, nu = self.nu
        var trace = Trace()
        var state = [T](repeating: 0, count: rows * h)
        trace.states.append(state)
        for t in 0..<c.timeSteps {
            var x = [T](repeating: 0, count: rows * c.inputs)
            for r in 0..<rows {
                let from = r * c.sequenceLength + t * c.inputs
                for i in 0..<c.inputs { x[r * c.inputs + i] = sequences[from + i] }
            }
            let (wx, wMiddle) = w.forward(x, rows: rows)
            let (uh, uMiddle) = u.forward(state, rows: rows)
            var z = [T](repeating: 0, count: rows * h), candidate = z, next = z
            for r in 0..<rows {
                for k in 0..<h {
                    let i = r * h + k
                    let pre = wx[i] + uh[i]
                    z[i] = T.logistic(pre + gateBias.value[k])
                    candidate[i] = T.hyperbolicTangent(pre + updateBias.value[k])
                    next[i] = (zeta * (1 - z[i]) + nu) * candidate[i] + z[i] * state[i]
                }
            }
            trace.inputs.append(x); trace.wMiddle.append(wMiddle); trace.uMiddle.append(uMiddle)
            trace.gates.append(z); trace.candidates.append(candidate); trace.states.append(next)
            state = next
        }
        var logits = DenseKernels.multiply(state, rows: rows, inputs: h, weight: classifierWeight.value, outputs: c.classes)
        for r in 0..<rows { for k in 0..<c.classes { logits[r * c.classes + k] += classifierBias.value[k] } }
        trace.logits = logits
        return trace
    }

    /// Backpropagation through time: adds every parameter's gradient for upstream dLogits [rows x classes]
    /// and returns d(loss)/d(sequences) in the input layout.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    @discardableResult
    public func backward(_ sequences: [T], rows: Int, trace: Trace, dLogits: [T]) -> [T] {
        let c = config, h = c.hidden
        let zeta = self.zeta, nu = self.nu
        for r in 0..<rows { for k in 0..<c.classes { classifierBias.gradient[k] += dLogits[r * c.classes + k] } }
        var dState = DenseKernels.multiplyBackward(trace.lastState, rows: rows, inputs: h, weight: classifierWeight.value,
                                                   outputs: c.classes, dy: dLogits, dWeight: &classifierWeight.gradient)
        var dSequences = [T](repeating: 0, count: sequences.count)
        var dZeta: T = 0, dNu: T = 0
        for t in stride(from: c.timeSteps - 1, through: 0, by: -1) {
            let previous = trace.states[t], z = trace.gates[t], candidate = trace.candidates[t]
            var dPre = [T](repeating: 0, count: rows * h)
            var dPrevious = [T](repeating: 0, count: rows * h)
            for r in 0..<rows {
                for k in 0..<h {
                    let i = r * h + k
                    let d = dState[i]
                    // h = (ζ(1-z) + ν) h~ + z h_prev: partials in h~, z, ζ, ν and h_prev.
                    let dCandidate = d * (zeta * (1 - z[i]) + nu)
                    let dGate = d * (previous[i] - zeta * candidate[i])
                    dZeta += d * (1 - z[i]) * candidate[i]
                    dNu += d * candidate[i]
                    dPrevious[i] = d * z[i]
                    let dGatePre = dGate * z[i] * (1 - z[i])
                    let dCandidatePre = dCandidate * (1 - candidate[i] * candidate[i])
                    gateBias.gradient[k] += dGatePre
                    updateBias.gradient[k] += dCandidatePre
                    // W x + U h_prev feeds both pre-activations.
                    dPre[i] = dGatePre + dCandidatePre
                }
            }
            let dx = w.backward(trace.inputs[t], middle: trace.wMiddle[t], rows: rows, dy: dPre)
            let dh = u.backward(previous, middle: trace.uMiddle[t], rows: rows, dy: dPre)
            for i in dPrevious.indices { dPrevious[i] += dh[i] }
            for r in 0..<rows {
                let to = r * c.sequenceLength + t * c.inputs
                for i in 0..<c.inputs { dSequences[to + i] += dx[r * c.inputs + i] }
            }
            dState = dPrevious
        }
        zetaLogit.gradient[0] += dZeta * zeta * (1 - zeta)
        nuLogit.gradient[0] += dNu * nu * (1 - nu)
        return dSequences
    }

    /// The logits of `rows` sequences.
    @_specialize(exported: true, where T == Float)
    @_specialize(exported: true, where T == Double)
    public func logits(_ sequences: [T], rows: Int) -> [T] { forward(sequences, rows: rows).logits }
}
