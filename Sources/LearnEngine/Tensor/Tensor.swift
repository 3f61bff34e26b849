/// A dense tensor of rank 1 to 3: contiguous row-major storage and its shape. Activations
/// between layers are rank 2 (`[rows, columns]`, one row per node or query).
public struct Tensor<T: LearnScalar>: Equatable, Sendable {
    /// Dimensions, outermost first.
    public private(set) var shape: [Int]
    /// The values, row-major.
    public var storage: [T]

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        precondition((1...3).contains(shape.count) && shape.allSatisfy { $0 >= 0 }, "tensor shape \(shape)")
        self.shape = shape
        storage = [T](repeating: 0, count: shape.reduce(1, *))
    }

    /// A tensor over `storage`, whose count must match `shape`.
    public init(shape: [Int], storage: [T]) {
        precondition((1...3).contains(shape.count) && shape.reduce(1, *) == storage.count, "tensor shape \(shape)")
        self.shape = shape
        self.storage = storage
    }

    /// A rank-2 tensor from equal-length rows.
    public init(rows: [[T]]) {
        let columns = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == columns }, "ragged rows")
        self.init(shape: [rows.count, columns], storage: rows.flatMap { $0 })
    }

    /// Rows of a rank-2 tensor.
    public var rows: Int { shape[0] }
    /// Columns of a rank-2 tensor.
    public var columns: Int { shape.count > 1 ? shape[1] : 1 }

    /// Element (r, c) of a rank-2 tensor.
    @inlinable public subscript(r: Int, c: Int) -> T {
        get { storage[r * shape[1] + c] }
        set { storage[r * shape[1] + c] = newValue }
    }

    /// Row `r` of a rank-2 tensor, copied.
    public func row(_ r: Int) -> [T] { Array(storage[r * columns ..< (r + 1) * columns]) }
}

/// Hand kernels over contiguous buffers. No BLAS: `Float` runs the C kernels of `LearnKernels`
/// (SIMD, cache-blocked), other scalars the plain loops (the `Double` gradient checks).
enum Kernels {
    /// y[n x out] = x[n x in] * W^T + b, W stored [out x in] (the layout of `torch.nn.Linear`).
    @_specialize(where T == Float)
    static func affine<T: LearnScalar>(_ x: [T], rows n: Int, inputs: Int, weight w: [T], bias b: [T], outputs: Int) -> [T] {
        if T.self == Float.self {
            guard n > 0, outputs > 0 else { return [] }
            return [T](unsafeUninitializedCapacity: n * outputs) { y, count in
                floatPointers(x, w, b) { xf, wf, bf in
                    LearnKernels.gemmNT(x: xf, rows: n, inputs: inputs, weight: wf!, outputs: outputs, bias: bf,
                                        into: mutableFloats(y))
                }
                count = n * outputs
            }
        }
        var y = [T](repeating: 0, count: n * outputs)
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer { yp in
                    for r in 0..<n {
                        let xr = xp.baseAddress! + r * inputs
                        for o in 0..<outputs {
                            let wr = wp.baseAddress! + o * inputs
                            var s: T = 0
                            for i in 0..<inputs { s += xr[i] * wr[i] }
                            yp[r * outputs + o] = s + b[o]
                        }
                    }
                }
            }
        }
        return y
    }

    /// The backward of `affine`: adds dW += dy^T x, db += the column sums of dy and, when `dx` is
    /// given (count n x in), dx += dy W. Encoders of raw vectors pass nil: nothing upstream wants their dx.
    @_specialize(where T == Float)
    static func affineBackward<T: LearnScalar>(_ x: [T], rows n: Int, inputs: Int, weight w: [T], outputs: Int,
                                               dy: [T], dWeight: inout [T], dBias: inout [T], dx: inout [T]?) {
        // x and dx may hold more rows than n: the first n are the layer's.
        precondition(dy.count == n * outputs && x.count >= n * inputs && dx.map { $0.count >= n * inputs } ?? true)
        for r in 0..<n { for o in 0..<outputs { dBias[o] += dy[r * outputs + o] } }
        if T.self == Float.self, n > 0, inputs > 0, outputs > 0 {
            floatPointers(dy, x, w) { dyf, xf, wf in
                dWeight.withUnsafeMutableBufferPointer { dwp in
                    LearnKernels.gemmAccumulate(a: dyf, aRowStride: 1, aColumnStride: outputs, rows: outputs, depth: n,
                                                b: xf!, columns: inputs, into: mutableFloats(dwp))
                }
                if dx != nil {
                    dx!.withUnsafeMutableBufferPointer { dxp in
                        LearnKernels.gemmAccumulate(a: dyf, aRowStride: outputs, aColumnStride: 1, rows: n, depth: outputs,
                                                    b: wf!, columns: inputs, into: mutableFloats(dxp))
                    }
                }
            }
            return
        }
        let wantInput = dx != nil
        var dxLocal = dx ?? []
        dx = nil   // held locally while the loops write it, so it is not copied
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                dy.withUnsafeBufferPointer { dyp in
                    dWeight.withUnsafeMutableBufferPointer { dwp in
                        dxLocal.withUnsafeMutableBufferPointer { dxp in
                            for r in 0..<n {
                                let xr = xp.baseAddress! + r * inputs
                                for o in 0..<outputs {
                                    let g = dyp[r * outputs + o]
                                    if g == 0 { continue }
                                    let wr = wp.baseAddress! + o * inputs
                                    let dwr = dwp.baseAddress! + o * inputs
                                    for i in 0..<inputs { dwr[i] += g * xr[i] }
                                    if wantInput {
                                        let dxr = dxp.baseAddress! + r * inputs
                                        for i in 0..<inputs { dxr[i] += g * wr[i] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if wantInput { dx = dxLocal }
    }

    /// tanh of every element, in place.
    @_specialize(where T == Float)
    static func tanh<T: LearnScalar>(_ x: inout [T]) {
        if T.self == Float.self {
            x.withUnsafeMutableBufferPointer { p in if p.count > 0 { LearnKernels.tanh(mutableFloats(p), count: p.count) } }
            return
        }
        for i in x.indices { x[i] = T.hyperbolicTangent(x[i]) }
    }

    /// Softmax of x[0..<count] in place, shifted by the maximum so large logits do not overflow.
    @inline(__always)
    static func softmax<T: LearnScalar>(_ x: UnsafeMutablePointer<T>, count: Int) {
        if T.self == Float.self {
            LearnKernels.softmax(UnsafeMutableRawPointer(x).assumingMemoryBound(to: Float.self), count: count)
            return
        }
        var top = -T.infinity
        for t in 0..<count { top = max(top, x[t]) }
        var total: T = 0
        for t in 0..<count { x[t] = T.exponential(x[t] - top); total += x[t] }
        for t in 0..<count { x[t] /= total }
    }

    /// Runs `body` on the `Float` storage of three arrays whose element type is `Float` (the caller checked);
    /// an empty array gives nil.
    @inline(__always)
    static func floatPointers<T, R>(_ a: [T], _ b: [T], _ c: [T],
                                    _ body: (UnsafePointer<Float>, UnsafePointer<Float>?, UnsafePointer<Float>?) -> R) -> R {
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeBufferPointer { cp in
            body(floats(ap)!, floats(bp), floats(cp))
        } } }
    }

    /// The buffer's elements as `Float` (they are: the callers checked `T.self == Float.self`), nil when empty.
    @inline(__always)
    static func floats<T>(_ p: UnsafeBufferPointer<T>) -> UnsafePointer<Float>? {
        p.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: Float.self) }
    }

    /// The mutable buffer's elements as `Float`.
    @inline(__always)
    static func mutableFloats<T>(_ p: UnsafeMutableBufferPointer<T>) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer(p.baseAddress!).assumingMemoryBound(to: Float.self)
    }
}
