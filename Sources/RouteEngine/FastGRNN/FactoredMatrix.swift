import LearnEngine

/// A linear map M [outputs x inputs] stored either whole or as the paper's low-rank product
/// M = M1 M2, with M1 [outputs x rank] and M2 [rank x inputs] (FastGRNN's W = W1 W2, U = U1 U2).
/// Low rank costs rank * (outputs + inputs) weights and multiply-adds instead of outputs * inputs.
public final class FactoredMatrix<T: LearnScalar> {
    /// Rows of M.
    public let outputs: Int
    /// Columns of M.
    public let inputs: Int
    /// The rank of the factorisation, or nil when M is stored whole.
    public let rank: Int?
    /// `[M]` when whole, `[M1, M2]` when factored; the parameters an optimiser updates.
    public let factors: [Parameter<T>]

    /// A map with weights uniform in ±sqrt(3 / fan-in) per factor, so each product keeps unit variance
    /// for unit-variance inputs.
    init(name: String, outputs: Int, inputs: Int, rank: Int?, rng: inout SeededGenerator) {
        self.outputs = outputs
        self.inputs = inputs
        self.rank = rank
        if let rank {
            factors = [
                Parameter(name: name + "1", shape: [outputs, rank], uniformBound: (3.0 / Double(rank)).squareRoot(), rng: &rng),
                Parameter(name: name + "2", shape: [rank, inputs], uniformBound: (3.0 / Double(inputs)).squareRoot(), rng: &rng),
            ]
        } else {
            factors = [Parameter(name: name, shape: [outputs, inputs], uniformBound: (3.0 / Double(inputs)).squareRoot(), rng: &rng)]
        }
    }

    /// y = M x for each row of x [rows x inputs], and the middle product M2 x that backward needs
    /// (empty when whole).
    func forward(_ x: [T], rows: Int) -> (y: [T], middle: [T]) {
        guard let rank else {
            return (DenseKernels.multiply(x, rows: rows, inputs: inputs, weight: factors[0].value, outputs: outputs), [])
        }
        let middle = DenseKernels.multiply(x, rows: rows, inputs: inputs, weight: factors[1].value, outputs: rank)
        return (DenseKernels.multiply(middle, rows: rows, inputs: rank, weight: factors[0].value, outputs: outputs), middle)
    }

    /// Adds the factors' gradients for upstream dy [rows x outputs] and returns dx [rows x inputs].
    func backward(_ x: [T], middle: [T], rows: Int, dy: [T]) -> [T] {
        guard let rank else {
            return DenseKernels.multiplyBackward(x, rows: rows, inputs: inputs, weight: factors[0].value, outputs: outputs,
                                                 dy: dy, dWeight: &factors[0].gradient)
        }
        let dMiddle = DenseKernels.multiplyBackward(middle, rows: rows, inputs: rank, weight: factors[0].value, outputs: outputs,
                                                    dy: dy, dWeight: &factors[0].gradient)
        return DenseKernels.multiplyBackward(x, rows: rows, inputs: inputs, weight: factors[1].value, outputs: rank,
                                             dy: dMiddle, dWeight: &factors[1].gradient)
    }

    /// M as one row-major `[outputs x inputs]` array (M1 M2 when factored).
    public func product() -> [T] {
        guard let rank else { return factors[0].value }
        var m = [T](repeating: 0, count: outputs * inputs)
        let a = factors[0].value, b = factors[1].value
        for o in 0..<outputs {
            for k in 0..<rank {
                let s = a[o * rank + k]
                for i in 0..<inputs { m[o * inputs + i] += s * b[k * inputs + i] }
            }
        }
        return m
    }
}
