/// A gated recurrent unit cell in PyTorch's formulation (Cho et al. 2014):
/// r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
/// n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 - z) ⊙ n + z ⊙ h.
public final class GRUCell<T: LearnScalar> {
    /// The input projection [3 * hidden, inputs], gates in the order r, z, n.
    public let inputProjection: Linear<T>
    /// The hidden projection [3 * hidden, hidden].
    public let hiddenProjection: Linear<T>
    /// Input width.
    public let inputs: Int
    /// State width.
    public let hidden: Int

    /// What backward needs from forward.
    public struct Cache {
        var gi: [T], gh: [T], r: [T], z: [T], n: [T]
    }

    /// A cell from `inputs`-wide messages to a `hidden`-wide state.
    public init(name: String, inputs: Int, hidden: Int, rng: inout SeededGenerator) {
        self.inputs = inputs
        self.hidden = hidden
        inputProjection = Linear(name: name + ".input", inputs: inputs, outputs: 3 * hidden, rng: &rng)
        hiddenProjection = Linear(name: name + ".hidden", inputs: hidden, outputs: 3 * hidden, rng: &rng)
    }

    /// The cell's parameters.
    public var parameters: [Parameter<T>] { inputProjection.parameters + hiddenProjection.parameters }

    /// The next state for each row of x [rows x inputs] and h [rows x hidden].
    @_specialize(where T == Float)
    public func forward(x: [T], h: [T], rows: Int) -> (output: [T], cache: Cache) {
        let gi = inputProjection.forward(x, rows: rows)
        let gh = hiddenProjection.forward(h, rows: rows)
        let H = hidden
        var r = [T](repeating: 0, count: rows * H), z = r, n = r, out = r
        if T.self == Float.self, rows > 0 {
            Kernels.floatPointers(gi, gh, h) { gif, ghf, hf in
                r.withUnsafeMutableBufferPointer { rp in z.withUnsafeMutableBufferPointer { zp in
                    n.withUnsafeMutableBufferPointer { np in out.withUnsafeMutableBufferPointer { op in
                        LearnKernels.gruGates(gi: gif, gh: ghf!, h: hf!, rows: rows, width: H, r: Kernels.mutableFloats(rp),
                                              z: Kernels.mutableFloats(zp), n: Kernels.mutableFloats(np), out: Kernels.mutableFloats(op))
                    } }
                } }
            }
            return (out, Cache(gi: gi, gh: gh, r: r, z: z, n: n))
        }
        for row in 0..<rows {
            let g = row * 3 * H
            for c in 0..<H {
                let i = row * H + c
                r[i] = T.sigmoid(gi[g + c] + gh[g + c])
                z[i] = T.sigmoid(gi[g + H + c] + gh[g + H + c])
                n[i] = T.hyperbolicTangent(gi[g + 2 * H + c] + r[i] * gh[g + 2 * H + c])
                out[i] = (1 - z[i]) * n[i] + z[i] * h[i]
            }
        }
        return (out, Cache(gi: gi, gh: gh, r: r, z: z, n: n))
    }

    /// Adds parameter gradients and returns (dx, dh) for upstream d(h').
    @_specialize(where T == Float)
    public func backward(x: [T], h: [T], rows: Int, cache: Cache, dy: [T]) -> (dx: [T], dh: [T]) {
        let H = hidden
        var dgi = [T](repeating: 0, count: rows * 3 * H), dgh = dgi
        var dh = [T](repeating: 0, count: rows * H)
        for row in 0..<rows {
            let g = row * 3 * H
            for c in 0..<H {
                let i = row * H + c
                let r = cache.r[i], z = cache.z[i], n = cache.n[i]
                let d = dy[i]
                dh[i] = d * z
                let dnPre = d * (1 - z) * (1 - n * n)
                let dzPre = d * (h[i] - n) * z * (1 - z)
                let drPre = dnPre * cache.gh[g + 2 * H + c] * r * (1 - r)
                dgi[g + c] = drPre; dgh[g + c] = drPre
                dgi[g + H + c] = dzPre; dgh[g + H + c] = dzPre
                dgi[g + 2 * H + c] = dnPre; dgh[g + 2 * H + c] = dnPre * r
            }
        }
        let dx = inputProjection.backward(x, rows: rows, dy: dgi)
        hiddenProjection.backward(h, rows: rows, dy: dgh, addingInto: &dh)
        return (dx, dh)
    }
}
