/// A fully connected layer y = x W^T + b over the rows of x (W is [outputs, inputs], as in PyTorch).
public final class Linear<T: LearnScalar> {
    /// The weight matrix, [outputs, inputs].
    public let weight: Parameter<T>
    /// The bias, [outputs].
    public let bias: Parameter<T>
    /// Input width.
    public let inputs: Int
    /// Output width.
    public let outputs: Int

    /// A layer with weights uniform in ±sqrt(1/inputs) (PyTorch's default bound) and zero bias,
    /// or all zeros when `zeroInitialised` (the re-ranker's output layer, so it starts at exactly 0).
    public init(name: String, inputs: Int, outputs: Int, rng: inout SeededGenerator, zeroInitialised: Bool = false) {
        self.inputs = inputs
        self.outputs = outputs
        if zeroInitialised {
            weight = Parameter(name: name + ".weight", shape: [outputs, inputs])
        } else {
            weight = Parameter(name: name + ".weight", shape: [outputs, inputs],
                               uniformBound: (1.0 / Double(max(inputs, 1))).squareRoot(), rng: &rng)
        }
        bias = Parameter(name: name + ".bias", shape: [outputs])
    }

    /// The layer's parameters.
    public var parameters: [Parameter<T>] { [weight, bias] }

    /// y [rows x outputs] for the first `rows` rows of x [at least rows x inputs] (a round that
    /// updates only the candidates reads a prefix of the node states).
    @_specialize(where T == Float)
    public func forward(_ x: [T], rows: Int) -> [T] {
        precondition(x.count >= rows * inputs, "linear input \(x.count) < \(rows) x \(inputs)")
        return Kernels.affine(x, rows: rows, inputs: inputs, weight: weight.value, bias: bias.value, outputs: outputs)
    }

    /// Adds the parameter gradients for upstream gradient `dy` and returns d(loss)/dx.
    @_specialize(where T == Float)
    public func backward(_ x: [T], rows: Int, dy: [T]) -> [T] {
        var dx: [T]? = [T](repeating: 0, count: rows * inputs)
        Kernels.affineBackward(x, rows: rows, inputs: inputs, weight: weight.value, outputs: outputs,
                               dy: dy, dWeight: &weight.gradient, dBias: &bias.gradient, dx: &dx)
        return dx!
    }

    /// Adds the parameter gradients and adds d(loss)/dx into `dx` (rows x inputs), which several
    /// layers reading the same x share (attention's query, key and value).
    @_specialize(where T == Float)
    func backward(_ x: [T], rows: Int, dy: [T], addingInto dx: inout [T]) {
        var into: [T]? = dx
        dx = []   // so `into` is the only reference and the kernel writes in place
        Kernels.affineBackward(x, rows: rows, inputs: inputs, weight: weight.value, outputs: outputs,
                               dy: dy, dWeight: &weight.gradient, dBias: &bias.gradient, dx: &into)
        dx = into!
    }

    /// Adds the parameter gradients only: for layers whose input is data (the encoders), not another layer.
    @_specialize(where T == Float)
    func accumulateParameterGradients(_ x: [T], rows: Int, dy: [T]) {
        var none: [T]? = nil
        Kernels.affineBackward(x, rows: rows, inputs: inputs, weight: weight.value, outputs: outputs,
                               dy: dy, dWeight: &weight.gradient, dBias: &bias.gradient, dx: &none)
    }
}

extension Linear where T == Float {
    /// y [rows x outputs] = x W^T + b into caller-owned memory (the inference path's scratch); the
    /// same kernel as `forward`, so the same bits.
    func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        weight.value.withUnsafeBufferPointer { w in bias.value.withUnsafeBufferPointer { b in
            LearnKernels.gemmNT(x: x, rows: rows, inputs: inputs, weight: w.baseAddress!, outputs: outputs, bias: b.baseAddress,
                                into: y)
        } }
    }
}
