/// One round of message passing over a node's HNSW neighbours: an attention-weighted message
/// from the neighbours, a GRU update of the node's state with it, layer norm, then dropout.
public final class MessagePassing<T: LearnScalar> {
    /// Aggregates the neighbours' states into a message.
    public let attention: MultiHeadAttention<T>
    /// Updates the node's state with the message.
    public let gru: GRUCell<T>
    /// Normalises the updated state.
    public let norm: LayerNorm<T>
    /// Applied last, in training only.
    public let dropout: Dropout<T>

    /// What backward needs from forward.
    public struct Cache {
        var attention: MultiHeadAttention<T>.Cache
        var message: [T]
        var gru: GRUCell<T>.Cache
        var norm: LayerNorm<T>.Cache
        var mask: [T]?
        /// How many leading rows the round updated.
        var outputRows: Int
    }

    /// A round over states of `width` with `heads` attention heads.
    public init(name: String, width: Int, heads: Int, dropoutRate: Double, rng: inout SeededGenerator) {
        attention = MultiHeadAttention(name: name + ".attention", width: width, heads: heads, rng: &rng)
        gru = GRUCell(name: name + ".gru", inputs: width, hidden: width, rng: &rng)
        norm = LayerNorm(name: name + ".norm", width: width)
        dropout = Dropout(rate: dropoutRate)
    }

    /// The round's parameters.
    public var parameters: [Parameter<T>] { attention.parameters + gru.parameters + norm.parameters }

    /// New states for h [rows x width]; `neighbours` has one (possibly empty) list per row.
    public func forward(_ h: [T], rows: Int, neighbours: [[Int]], training: Bool,
                        rng: inout SeededGenerator) -> (output: [T], cache: Cache) {
        forward(h, rows: rows, outputRows: rows, neighbours: neighbours, training: training, rng: &rng)
    }

    /// New states for the first `outputRows` rows of h [rows x width] only (every row still serves as
    /// a neighbour): the last round, whose states only the candidates' scores read.
    @_specialize(where T == Float)
    func forward(_ h: [T], rows: Int, outputRows: Int, neighbours: [[Int]], training: Bool,
                 rng: inout SeededGenerator) -> (output: [T], cache: Cache) {
        precondition(neighbours.count == rows && outputRows <= rows)
        let queries = outputRows == rows ? neighbours : Array(neighbours.prefix(outputRows))
        let (message, ac) = attention.forward(h, rows: rows, neighbours: queries)
        let (updated, gc) = gru.forward(x: message, h: h, rows: outputRows)
        let (normed, nc) = norm.forward(updated, rows: outputRows)
        let (out, mask) = dropout.forward(normed, training: training, rng: &rng)
        return (out, Cache(attention: ac, message: message, gru: gc, norm: nc, mask: mask, outputRows: outputRows))
    }

    /// Adds parameter gradients and returns dh [rows x width] for upstream dy [outputRows x width].
    @_specialize(where T == Float)
    public func backward(_ h: [T], rows: Int, neighbours: [[Int]], cache: Cache, dy: [T]) -> [T] {
        let n = cache.outputRows
        let dNormed = dropout.backward(mask: cache.mask, dy: dy)
        let dUpdated = norm.backward(cache.norm, rows: n, dy: dNormed)
        let (dMessage, dhDirect) = gru.backward(x: cache.message, h: h, rows: n, cache: cache.gru, dy: dUpdated)
        let queries = n == rows ? neighbours : Array(neighbours.prefix(n))
        var dh = attention.backward(h, rows: rows, neighbours: queries, cache: cache.attention, dy: dMessage)
        for i in dhDirect.indices { dh[i] += dhDirect[i] }
        return dh
    }
}
