/// Layer normalisation over each row: y = gamma * (x - mean) / sqrt(var + eps) + beta.
public final class LayerNorm<T: LearnScalar> {
    /// Scale, [width], initialised to 1.
    public let gamma: Parameter<T>
    /// Shift, [width], initialised to 0.
    public let beta: Parameter<T>
    /// Row width.
    public let width: Int
    /// Added to the variance (PyTorch's default 1e-5).
    public let epsilon: T

    /// What backward needs from forward.
    public struct Cache {
        var normalised: [T]
        var inverseStd: [T]
    }

    /// A layer norm over rows of `width`.
    public init(name: String, width: Int, epsilon: T = T(1e-5)) {
        self.width = width
        self.epsilon = epsilon
        gamma = Parameter(name: name + ".gamma", shape: [width], value: [T](repeating: 1, count: width))
        beta = Parameter(name: name + ".beta", shape: [width])
    }

    /// The layer's parameters.
    public var parameters: [Parameter<T>] { [gamma, beta] }

    /// Normalises each row of x [rows x width].
    @_specialize(where T == Float)
    public func forward(_ x: [T], rows: Int) -> (output: [T], cache: Cache) {
        precondition(x.count == rows * width)
        var y = [T](repeating: 0, count: x.count)
        var xhat = [T](repeating: 0, count: x.count)
        var inv = [T](repeating: 0, count: rows)
        gamma.value.withUnsafeBufferPointer { g in beta.value.withUnsafeBufferPointer { b in
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in xhat.withUnsafeMutableBufferPointer { hp in
                for r in 0..<rows {
                    inv[r] = Self.normalise(xp.baseAddress! + r * width, width: width, gamma: g.baseAddress!, beta: b.baseAddress!,
                                            epsilon: epsilon, into: yp.baseAddress! + r * width, normalised: hp.baseAddress! + r * width)
                }
            } } }
        } }
        return (y, Cache(normalised: xhat, inverseStd: inv))
    }

    /// Normalises one row of `width` into y (and x̂ into `normalised` when given); returns 1/std.
    /// Shared by `forward` and the model's inference path, so both compute the same bits.
    @inline(__always)
    static func normalise(_ x: UnsafePointer<T>, width: Int, gamma: UnsafePointer<T>, beta: UnsafePointer<T>, epsilon: T,
                          into y: UnsafeMutablePointer<T>, normalised xhat: UnsafeMutablePointer<T>?) -> T {
        let n = T(width)
        var mean: T = 0
        for i in 0..<width { mean += x[i] }
        mean /= n
        var variance: T = 0
        for i in 0..<width { let d = x[i] - mean; variance += d * d }
        variance /= n
        let s = 1 / (variance + epsilon).squareRoot()
        for i in 0..<width {
            let h = (x[i] - mean) * s
            xhat?[i] = h
            y[i] = gamma[i] * h + beta[i]
        }
        return s
    }

    /// Adds d(gamma), d(beta) and returns dx.
    @_specialize(where T == Float)
    public func backward(_ cache: Cache, rows: Int, dy: [T]) -> [T] {
        var dx = [T](repeating: 0, count: dy.count)
        let n = T(width)
        // Through buffer pointers: the parameters are class properties, checked for exclusive access on
        // every element otherwise.
        gamma.gradient.withUnsafeMutableBufferPointer { dGamma in beta.gradient.withUnsafeMutableBufferPointer { dBeta in
            gamma.value.withUnsafeBufferPointer { gammaValue in
                for r in 0..<rows {
                    let base = r * width
                    var sumG: T = 0, sumGH: T = 0
                    for i in 0..<width {
                        let g = dy[base + i]
                        let h = cache.normalised[base + i]
                        dGamma[i] += g * h
                        dBeta[i] += g
                        let gh = g * gammaValue[i]
                        sumG += gh
                        sumGH += gh * h
                    }
                    let s = cache.inverseStd[r]
                    for i in 0..<width {
                        let gh = dy[base + i] * gammaValue[i]
                        dx[base + i] = s * (gh - sumG / n - cache.normalised[base + i] * sumGH / n)
                    }
                }
            }
        } }
        return dx
    }
}
