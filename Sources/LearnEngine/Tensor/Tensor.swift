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

/// Hand kernels: tight loops over contiguous buffers that the compiler vectorises. No BLAS.
enum Kernels {
    /// y[n x out] = x[n x in] * W^T + b, W stored [out x in] (the layout of `torch.nn.Linear`).
    static func affine<T: LearnScalar>(_ x: [T], rows n: Int, inputs: Int, weight w: [T], bias b: [T], outputs: Int) -> [T] {
        // Float takes the SIMD path: the compiler may not reorder a strict floating-point sum, so the
        // scalar loop below stays one multiply-add per cycle for it.
        if T.self == Float.self {
            var y = [T](repeating: 0, count: n * outputs)
            x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in b.withUnsafeBufferPointer { bp in
                y.withUnsafeMutableBufferPointer { yp in
                    xp.withMemoryRebound(to: Float.self) { xf in wp.withMemoryRebound(to: Float.self) { wf in
                        bp.withMemoryRebound(to: Float.self) { bf in yp.withMemoryRebound(to: Float.self) { yf in
                            affineFloat(xf, rows: n, inputs: inputs, weight: wf, bias: bf, outputs: outputs, into: yf)
                        } }
                    } }
                }
            } } }
            return y
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

    /// `affine` for Float, each dot product in four SIMD8 accumulators.
    static func affineFloat(_ x: UnsafeBufferPointer<Float>, rows n: Int, inputs: Int, weight w: UnsafeBufferPointer<Float>,
                            bias b: UnsafeBufferPointer<Float>, outputs: Int, into y: UnsafeMutableBufferPointer<Float>) {
        for r in 0..<n {
            let xr = x.baseAddress! + r * inputs
            for o in 0..<outputs {
                y[r * outputs + o] = dotFloat(xr, w.baseAddress! + o * inputs, count: inputs) + b[o]
            }
        }
    }

    /// a · b for Float: 32 lanes at a time in four independent SIMD8 sums, then the tail.
    @inline(__always)
    static func dotFloat(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>()
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var i = 0
        while i + 32 <= count {
            let o = i * 4
            s0 += ra.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
            s1 += ra.loadUnaligned(fromByteOffset: o + 32, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: o + 32, as: SIMD8<Float>.self)
            s2 += ra.loadUnaligned(fromByteOffset: o + 64, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: o + 64, as: SIMD8<Float>.self)
            s3 += ra.loadUnaligned(fromByteOffset: o + 96, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: o + 96, as: SIMD8<Float>.self)
            i += 32
        }
        while i + 8 <= count {
            s0 += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        var s = ((s0 + s1) + (s2 + s3)).sum()
        while i < count { s += a[i] * b[i]; i += 1 }
        return s
    }

    /// The backward of `affine`: returns dx [n x in] and adds dW += dy^T x, db += sum rows of dy.
    static func affineBackward<T: LearnScalar>(_ x: [T], rows n: Int, inputs: Int, weight w: [T], outputs: Int,
                                               dy: [T], dWeight: inout [T], dBias: inout [T]) -> [T] {
        var dx = [T](repeating: 0, count: n * inputs)
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                dy.withUnsafeBufferPointer { dyp in
                    dx.withUnsafeMutableBufferPointer { dxp in
                        dWeight.withUnsafeMutableBufferPointer { dwp in
                            for r in 0..<n {
                                let xr = xp.baseAddress! + r * inputs
                                let dxr = dxp.baseAddress! + r * inputs
                                for o in 0..<outputs {
                                    let g = dyp[r * outputs + o]
                                    if g == 0 { continue }
                                    dBias[o] += g
                                    let wr = wp.baseAddress! + o * inputs
                                    let dwr = dwp.baseAddress! + o * inputs
                                    for i in 0..<inputs {
                                        dxr[i] += g * wr[i]
                                        dwr[i] += g * xr[i]
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return dx
    }

    /// a · b over `count` elements starting at the given offsets.
    @inline(__always)
    static func dot<T: LearnScalar>(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, count: Int) -> T {
        var s: T = 0
        for i in 0..<count { s += a[i] * b[i] }
        return s
    }

    /// Adds `b` into `a` elementwise.
    static func add<T: LearnScalar>(_ a: inout [T], _ b: [T]) {
        precondition(a.count == b.count)
        for i in a.indices { a[i] += b[i] }
    }
}
