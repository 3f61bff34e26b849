import LearnEngine

/// Row-major matrix products over flat arrays. The weight layout is `[outputs x inputs]`, so
/// y = x Wᵀ for a batch x of `[rows x inputs]` (as `torch.nn.Linear`).
enum DenseKernels {
    /// a · b over `count` elements, in four partial sums so consecutive multiply-adds do not wait
    /// on each other (the order is fixed, so results stay deterministic).
    @inline(__always)
    static func dot<T: LearnScalar>(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, count: Int) -> T {
        var s0: T = 0, s1: T = 0, s2: T = 0, s3: T = 0
        var i = 0
        while i + 4 <= count {
            s0 += a[i] * b[i]; s1 += a[i + 1] * b[i + 1]; s2 += a[i + 2] * b[i + 2]; s3 += a[i + 3] * b[i + 3]
            i += 4
        }
        while i < count { s0 += a[i] * b[i]; i += 1 }
        return (s0 + s1) + (s2 + s3)
    }

    /// y [rows x outputs] = x [rows x inputs] · Wᵀ.
    static func multiply<T: LearnScalar>(_ x: [T], rows: Int, inputs: Int, weight: [T], outputs: Int) -> [T] {
        var y = [T](repeating: 0, count: rows * outputs)
        x.withUnsafeBufferPointer { xp in weight.withUnsafeBufferPointer { wp in y.withUnsafeMutableBufferPointer { yp in
            for r in 0..<rows {
                let xr = xp.baseAddress! + r * inputs
                for o in 0..<outputs { yp[r * outputs + o] = dot(xr, wp.baseAddress! + o * inputs, count: inputs) }
            }
        } } }
        return y
    }

    /// The backward of `multiply`: adds dyᵀ x into `dWeight` and returns dx = dy · W.
    static func multiplyBackward<T: LearnScalar>(_ x: [T], rows: Int, inputs: Int, weight: [T], outputs: Int,
                                                 dy: [T], dWeight: inout [T]) -> [T] {
        var dx = [T](repeating: 0, count: rows * inputs)
        x.withUnsafeBufferPointer { xp in weight.withUnsafeBufferPointer { wp in dy.withUnsafeBufferPointer { dyp in
            dx.withUnsafeMutableBufferPointer { dxp in dWeight.withUnsafeMutableBufferPointer { dwp in
                for r in 0..<rows {
                    let xr = xp.baseAddress! + r * inputs, dxr = dxp.baseAddress! + r * inputs
                    for o in 0..<outputs {
                        let g = dyp[r * outputs + o]
                        if g == 0 { continue }
                        let wr = wp.baseAddress! + o * inputs, dwr = dwp.baseAddress! + o * inputs
                        for i in 0..<inputs {
                            dxr[i] += g * wr[i]
                            dwr[i] += g * xr[i]
                        }
                    }
                }
            } }
        } } }
        return dx
    }
}
