/// Multi-head scaled dot-product attention of each node over its own set of neighbours
/// (Vaswani et al. 2017, with per-row key sets instead of a padded mask): for node i and head h,
/// a_ij = softmax_j(q_i,h · k_j,h / sqrt(d_h)) over j in N(i), out_i = W_o concat_h(sum_j a_ij v_j,h).
/// A node with no neighbours gets a zero context before W_o (its mask is empty).
public final class MultiHeadAttention<T: LearnScalar> {
    /// Query, key, value and output projections (width -> width).
    public let query: Linear<T>, key: Linear<T>, value: Linear<T>, output: Linear<T>
    /// Row width (the model's hidden size).
    public let width: Int
    /// Number of heads; `width` must be a multiple of it.
    public let heads: Int

    /// What backward needs from forward.
    public struct Cache {
        var q: [T], k: [T], v: [T]
        var context: [T]
        /// Attention weights, per node, per head, per neighbour (flattened in `neighbours` order).
        var weights: [[T]]
    }

    /// An attention layer of `heads` heads over rows of `width`.
    public init(name: String, width: Int, heads: Int, rng: inout SeededGenerator) {
        precondition(heads > 0 && width % heads == 0, "width \(width) is not a multiple of heads \(heads)")
        self.width = width
        self.heads = heads
        query = Linear(name: name + ".query", inputs: width, outputs: width, rng: &rng)
        key = Linear(name: name + ".key", inputs: width, outputs: width, rng: &rng)
        value = Linear(name: name + ".value", inputs: width, outputs: width, rng: &rng)
        output = Linear(name: name + ".output", inputs: width, outputs: width, rng: &rng)
    }

    /// The layer's parameters.
    public var parameters: [Parameter<T>] { query.parameters + key.parameters + value.parameters + output.parameters }

    /// Attends rows `0..<neighbours.count` of x [rows x width] over the rows listed in `neighbours[i]`.
    /// Returns one output row per entry of `neighbours`.
    @_specialize(where T == Float)
    public func forward(_ x: [T], rows: Int, neighbours: [[Int]]) -> (output: [T], cache: Cache) {
        let n = neighbours.count
        precondition(n <= rows)
        // Only the attending rows need queries; every row may be someone's key and value.
        let q = query.forward(x, rows: n), k = key.forward(x, rows: rows), v = value.forward(x, rows: rows)
        var context = [T](repeating: 0, count: n * width)
        var weights = [[T]](repeating: [], count: n)
        q.withUnsafeBufferPointer { qp in k.withUnsafeBufferPointer { kp in v.withUnsafeBufferPointer { vp in
            context.withUnsafeMutableBufferPointer { cp in
                for i in 0..<n {
                    var w = [T](repeating: 0, count: neighbours[i].count * heads)
                    w.withUnsafeMutableBufferPointer { wp in
                        attend(query: qp.baseAddress! + i * width, keys: kp.baseAddress!, values: vp.baseAddress!,
                               neighbours: neighbours[i], weights: wp.baseAddress, context: cp.baseAddress! + i * width)
                    }
                    weights[i] = w
                }
            }
        } } }
        let y = output.forward(context, rows: n)
        return (y, Cache(q: q, k: k, v: v, context: context, weights: weights))
    }

    /// One node's attention: for each head, softmax over `neighbours` of its query row · their key rows
    /// (scaled), then `context` (zeroed, `width` wide) += the weighted value rows; the weights go to
    /// `weights` (neighbours.count per head, head after head). Shared by `forward` and the model's
    /// inference path, so both compute the same bits.
    @inline(__always)
    func attend(query qi: UnsafePointer<T>, keys: UnsafePointer<T>, values: UnsafePointer<T>, neighbours set: [Int],
                weights: UnsafeMutablePointer<T>?, context: UnsafeMutablePointer<T>) {
        guard let weights, !set.isEmpty else { return }
        let headWidth = width / heads
        let scale = 1 / T(headWidth).squareRoot()
        for h in 0..<heads {
            let off = h * headWidth
            let logits = weights + h * set.count, ci = context + off
            for (t, j) in set.enumerated() { logits[t] = Self.dot(qi + off, keys + j * width + off, count: headWidth) * scale }
            Kernels.softmax(logits, count: set.count)
            for (t, j) in set.enumerated() {
                let a = logits[t], vj = values + j * width + off
                for c in 0..<headWidth { ci[c] += a * vj[c] }
            }
        }
    }

    /// a · b in four independent sums: a head is 32 wide at the defaults, and one running sum would
    /// wait on each add in turn.
    @inline(__always)
    static func dot(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, count: Int) -> T {
        var s0: T = 0, s1: T = 0, s2: T = 0, s3: T = 0
        var c = 0
        while c + 4 <= count {
            s0 += a[c] * b[c]; s1 += a[c + 1] * b[c + 1]; s2 += a[c + 2] * b[c + 2]; s3 += a[c + 3] * b[c + 3]
            c += 4
        }
        while c < count { s0 += a[c] * b[c]; c += 1 }
        return (s0 + s1) + (s2 + s3)
    }

    /// Adds parameter gradients and returns dx [rows x width] for upstream dy [neighbours.count x width].
    @_specialize(where T == Float)
    public func backward(_ x: [T], rows: Int, neighbours: [[Int]], cache: Cache, dy: [T]) -> [T] {
        let n = neighbours.count
        let headWidth = width / heads
        let scale = 1 / T(headWidth).squareRoot()
        let dContext = output.backward(cache.context, rows: n, dy: dy)
        var dq = [T](repeating: 0, count: n * width)
        var dk = [T](repeating: 0, count: rows * width), dv = dk
        var da = [T]()
        dContext.withUnsafeBufferPointer { dcp in
            cache.q.withUnsafeBufferPointer { qp in cache.k.withUnsafeBufferPointer { kp in cache.v.withUnsafeBufferPointer { vp in
                dq.withUnsafeMutableBufferPointer { dqp in dk.withUnsafeMutableBufferPointer { dkp in dv.withUnsafeMutableBufferPointer { dvp in
                    for i in 0..<n {
                        let set = neighbours[i]
                        if set.isEmpty { continue }
                        let w = cache.weights[i]
                        for h in 0..<heads {
                            let off = h * headWidth
                            let dci = dcp.baseAddress! + i * width + off
                            da.removeAll(keepingCapacity: true)
                            var weighted: T = 0
                            for (t, j) in set.enumerated() {
                                let a = w[h * set.count + t]
                                let g = Self.dot(dci, vp.baseAddress! + j * width + off, count: headWidth)
                                let dvj = dvp.baseAddress! + j * width + off
                                for c in 0..<headWidth { dvj[c] += a * dci[c] }
                                da.append(g)
                                weighted += a * g
                            }
                            let qi = qp.baseAddress! + i * width + off, dqi = dqp.baseAddress! + i * width + off
                            for (t, j) in set.enumerated() {
                                // softmax backward, then the scaled dot product's two operands.
                                let ds = w[h * set.count + t] * (da[t] - weighted) * scale
                                let kj = kp.baseAddress! + j * width + off, dkj = dkp.baseAddress! + j * width + off
                                for c in 0..<headWidth {
                                    dqi[c] += ds * kj[c]
                                    dkj[c] += ds * qi[c]
                                }
                            }
                        }
                    }
                } } }
            } } }
        }
        var dx = [T](repeating: 0, count: rows * width)
        query.backward(x, rows: n, dy: dq, addingInto: &dx)
        key.backward(x, rows: rows, dy: dk, addingInto: &dx)
        value.backward(x, rows: rows, dy: dv, addingInto: &dx)
        return dx
    }
}
