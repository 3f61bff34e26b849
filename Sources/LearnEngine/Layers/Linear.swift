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

    /// y [rows x outputs] for x [rows x inputs].
    public func forward(_ x: [T], rows: Int) -> [T] {
        precondition(x.count == rows * inputs, "linear input \(x.count) != \(rows) x \(inputs)")
        return Kernels.affine(x, rows: rows, inputs: inputs, weight: weight.value, bias: bias.value, outputs: outputs)
    }

    /// Adds the parameter gradients for upstream gradient `dy` and returns d(loss)/dx.
    public func backward(_ x: [T], rows: Int, dy: [T]) -> [T] {
        Kernels.affineBackward(x, rows: rows, inputs: inputs, weight: weight.value, outputs: outputs,
                               dy: dy, dWeight: &weight.gradient, dBias: &bias.gradient)
    }
}
