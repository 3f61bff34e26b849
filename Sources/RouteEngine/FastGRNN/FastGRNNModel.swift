import LearnEngine

/// A trained FastGRNN for inference: immutable, `Sendable`, f32 or int8 weights. The router serves
/// from it; `FastGRNNNetwork` stays the training form.
public struct FastGRNNModel: Equatable, Sendable {
    /// The weights' precision.
    public enum Precision: UInt8, Equatable, Sendable {
        /// Every weight in f32.
        case float32 = 0
        /// Matrices in int8 with a per-matrix scale (serialised sparse: a bitmap and the non-zero bytes);
        /// biases, ζ and ν stay f32.
        case int8 = 1
    }

    /// The shape.
    public let config: FastGRNNConfig
    /// `[W]` or `[W1, W2]`.
    public let w: [StoredMatrix]
    /// `[U]` or `[U1, U2]`.
    public let u: [StoredMatrix]
    /// V.
    public let classifier: StoredMatrix
    /// b_z, b_h, b_V.
    public let gateBias: [Float], updateBias: [Float], classifierBias: [Float]
    /// ζ' and ν' (before the sigmoid), kept so a round trip is exact.
    public let zetaLogit: Float, nuLogit: Float

    /// The precision of the matrices.
    public var precision: Precision {
        if case .int8 = classifier.storage { return .int8 }
        return .float32
    }

    /// The f32 snapshot of a trained network.
    public init(_ network: FastGRNNNetwork<Float>) {
        func stored(_ m: FactoredMatrix<Float>) -> [StoredMatrix] {
            m.factors.map { StoredMatrix(rows: $0.shape[0], columns: $0.shape[1], values: $0.value) }
        }
        self.init(config: network.config, w: stored(network.w), u: stored(network.u),
                  classifier: StoredMatrix(rows: network.config.classes, columns: network.config.hidden,
                                           values: network.classifierWeight.value),
                  gateBias: network.gateBias.value, updateBias: network.updateBias.value,
                  classifierBias: network.classifierBias.value,
                  zetaLogit: network.zetaLogit.value[0], nuLogit: network.nuLogit.value[0])
    }

    init(config: FastGRNNConfig, w: [StoredMatrix], u: [StoredMatrix], classifier: StoredMatrix, gateBias: [Float],
         updateBias: [Float], classifierBias: [Float], zetaLogit: Float, nuLogit: Float) {
        self.config = config
        self.w = w
        self.u = u
        self.classifier = classifier
        self.gateBias = gateBias
        self.updateBias = updateBias
        self.classifierBias = classifierBias
        self.zetaLogit = zetaLogit
        self.nuLogit = nuLogit
    }

    /// The same model with every matrix in int8 (per-matrix scale); pruned zeros stay zero.
    public func quantized() -> FastGRNNModel {
        FastGRNNModel(config: config, w: w.map { $0.quantized() }, u: u.map { $0.quantized() },
                      classifier: classifier.quantized(), gateBias: gateBias, updateBias: updateBias,
                      classifierBias: classifierBias, zetaLogit: zetaLogit, nuLogit: nuLogit)
    }

    /// Non-zero weights over all matrices (what sparsity leaves).
    public var nonZeroWeights: Int { (w + u + [classifier]).reduce(0) { $0 + $1.nonZeroCount } }

    /// The class logits of one sequence of `timeSteps x inputs` features. Throws `invalidInput` for a
    /// wrong length or a non-finite feature (the values come from requests).
    public func logits(_ sequence: [Float]) throws(LearnError) -> [Float] {
        guard sequence.count == config.sequenceLength else {
            throw LearnError(.invalidExample, "\(sequence.count) features, the router takes \(config.timeSteps) x \(config.inputs)")
        }
        guard sequence.allSatisfy({ $0.isFinite }) else { throw LearnError(.invalidExample, "a feature is not finite") }
        return uncheckedLogits(sequence)
    }

    /// Class probabilities (softmax of `logits`).
    public func probabilities(_ sequence: [Float]) throws(LearnError) -> [Float] {
        Softmax.probabilities(try logits(sequence), classes: config.classes)
    }

    /// The logits of a sequence already validated. One scratch allocation per call.
    func uncheckedLogits(_ sequence: [Float]) -> [Float] {
        let h = config.hidden, d = config.inputs
        let middleWidth = max(config.wRank ?? 0, config.uRank ?? 0, 1)
        let zeta = Float.logistic(zetaLogit), nu = Float.logistic(nuLogit)
        var out = [Float](repeating: 0, count: config.classes)
        // state | wx | uh | middle
        var scratch = [Float](repeating: 0, count: 3 * h + middleWidth)
        scratch.withUnsafeMutableBufferPointer { s in
            let state = s.baseAddress!, wx = state + h, uh = wx + h, middle = uh + h
            sequence.withUnsafeBufferPointer { x in
                for t in 0..<config.timeSteps {
                    Self.apply(w, x.baseAddress! + t * d, into: wx, middle: middle)
                    Self.apply(u, UnsafePointer(state), into: uh, middle: middle)
                    for k in 0..<h {
                        let pre = wx[k] + uh[k]
                        let z = Float.logistic(pre + gateBias[k])
                        // tanh y = 2σ(2y) - 1: one expf instead of a tanhf, which costs several times more
                        // and dominates a decision at hidden 64 (the absolute difference stays under 1e-6).
                        let candidate = 2 * Float.logistic(2 * (pre + updateBias[k])) - 1
                        state[k] = (zeta * (1 - z) + nu) * candidate + z * state[k]
                    }
                }
            }
            out.withUnsafeMutableBufferPointer { o in classifier.apply(UnsafePointer(state), into: o.baseAddress!) }
        }
        for k in 0..<config.classes { out[k] += classifierBias[k] }
        return out
    }

    /// y = M x through one matrix or the product of two.
    @inline(__always)
    static func apply(_ m: [StoredMatrix], _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
                      middle: UnsafeMutablePointer<Float>) {
        if m.count == 1 {
            m[0].apply(x, into: y)
        } else {
            m[1].apply(x, into: middle)
            m[0].apply(UnsafePointer(middle), into: y)
        }
    }

    /// The share of `data` whose arg-max logit is its label.
    public func accuracy(_ data: LabelledSequences<Float>) -> Double {
        guard data.count > 0 else { return 0 }
        let n = config.sequenceLength
        var correct = 0
        for i in 0..<data.count {
            let logits = uncheckedLogits(Array(data.features[i * n ..< (i + 1) * n]))
            if ClassScores.argmax(logits) == data.labels[i] { correct += 1 }
        }
        return Double(correct) / Double(data.count)
    }
}
