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
    public func forward(_ x: [T], rows: Int, neighbours: [[Int]]) -> (output: [T], cache: Cache) {
        let q = query.forward(x, rows: rows), k = key.forward(x, rows: rows), v = value.forward(x, rows: rows)
        let n = neighbours.count
        let headWidth = width / heads
        let scale = 1 / T(headWidth).squareRoot()
        var context = [T](repeating: 0, count: n * width)
        var weights = [[T]](repeating: [], count: n)
        var logits = [T]()
        for i in 0..<n {
            let set = neighbours[i]
            var w = [T](repeating: 0, count: set.count * heads)
            if set.isEmpty { weights[i] = w; continue }
            for h in 0..<heads {
                let off = h * headWidth
                logits.removeAll(keepingCapacity: true)
                var maxLogit = -T.infinity
                for j in set {
                    var s: T = 0
                    for c in 0..<headWidth { s += q[i * width + off + c] * k[j * width + off + c] }
                    s *= scale
                    logits.append(s)
                    maxLogit = max(maxLogit, s)
                }
                var total: T = 0
                for t in logits.indices { logits[t] = T.exponential(logits[t] - maxLogit); total += logits[t] }
                for (t, j) in set.enumerated() {
                    let a = logits[t] / total
                    w[h * set.count + t] = a
                    for c in 0..<headWidth { context[i * width + off + c] += a * v[j * width + off + c] }
                }
            }
            weights[i] = w
        }
        let y = output.forward(context, rows: n)
        return (y, Cache(q: q, k: k, v: v, context: context, weights: weights))
    }

    /// Adds parameter gradients and returns dx [rows x width] for upstream dy [neighbours.count x width].
    public func backward(_ x: [T], rows: Int, neighbours: [[Int]], cache: Cache, dy: [T]) -> [T] {
        let n = neighbours.count
        let headWidth = width / heads
        let scale = 1 / T(headWidth).squareRoot()
        let dContext = output.backward(cache.context, rows: n, dy: dy)
        var dq = [T](repeating: 0, count: rows * width)
        var dk = dq, dv = dq
        var da = [T]()
        for i in 0..<n {
            let set = neighbours[i]
            if set.isEmpty { continue }
            let w = cache.weights[i]
            for h in 0..<heads {
                let off = h * headWidth
                da.removeAll(keepingCapacity: true)
                var weighted: T = 0
                for (t, j) in set.enumerated() {
                    let a = w[h * set.count + t]
                    var g: T = 0
                    for c in 0..<headWidth {
                        let dc = dContext[i * width + off + c]
                        g += dc * cache.v[j * width + off + c]
                        dv[j * width + off + c] += a * dc
                    }
                    da.append(g)
                    weighted += a * g
                }
                for (t, j) in set.enumerated() {
                    // softmax backward, then the scaled dot product's two operands.
                    let ds = w[h * set.count + t] * (da[t] - weighted) * scale
                    for c in 0..<headWidth {
                        dq[i * width + off + c] += ds * cache.k[j * width + off + c]
                        dk[j * width + off + c] += ds * cache.q[i * width + off + c]
                    }
                }
            }
        }
        var dx = query.backward(x, rows: rows, dy: dq)
        Kernels.add(&dx, key.backward(x, rows: rows, dy: dk))
        Kernels.add(&dx, value.backward(x, rows: rows, dy: dv))
        return dx
    }
}
