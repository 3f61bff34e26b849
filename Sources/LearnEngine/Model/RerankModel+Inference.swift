/// Scoring without a trace, in per-thread scratch (`InferenceScratch`): the same kernels in the same
/// order as `RerankNetwork.forward(_:training: false, rng:)`, so the same bits, with nothing kept for
/// a backward pass and no allocation but the returned scores.
extension RerankModel {
    /// The scores of `e`, which must have passed `validate`.
    func inferScores(_ e: RerankExample) -> [Float] {
        let net = network, h = net.config.hidden, d = net.dimension, heads = net.config.heads
        let rows = e.nodes.count, candidates = e.candidateCount
        let lists = net.neighbourLists(e)
        let longestList = lists.map(\.count).max() ?? 0
        // Offsets of the buffers in one scratch block.
        var total = 0
        func take(_ count: Int) -> Int { defer { total += count }; return total }
        let x = take(rows * d), stateA = take(rows * h), stateB = take(rows * h)
        let q = take(rows * h), k = take(rows * h), v = take(rows * h), context = take(rows * h), message = take(rows * h)
        let gi = take(rows * 3 * h), gh = take(rows * 3 * h)
        let r = take(rows * h), z = take(rows * h), n = take(rows * h), updated = take(rows * h)
        let withState = net.head != nil
        let weights = take(longestList * heads), qe = take(h), features = take(candidates * (withState ? 2 : 1) * h)
        let activations = take(withState ? candidates * h : 0), learned = take(candidates)

        return InferenceScratch.withScratch(count: total) { base in
            for (i, row) in e.nodes.enumerated() {
                row.withUnsafeBufferPointer { (base + x + i * d).update(from: $0.baseAddress!, count: d) }
            }
            var state = base + stateA, next = base + stateB
            net.nodeEncoder.forward(base + x, rows: rows, into: state)
            for (index, round) in net.rounds.enumerated() {
                // As in forward: the last round updates the candidates only.
                let out = index == net.rounds.count - 1 ? candidates : rows
                let attention = round.attention
                attention.query.forward(state, rows: out, into: base + q)
                attention.key.forward(state, rows: rows, into: base + k)
                attention.value.forward(state, rows: rows, into: base + v)
                (base + context).update(repeating: 0, count: out * h)
                for i in 0..<out {
                    attention.attend(query: base + q + i * h, keys: base + k, values: base + v, neighbours: lists[i],
                                     weights: base + weights, context: base + context + i * h)
                }
                attention.output.forward(base + context, rows: out, into: base + message)
                round.gru.inputProjection.forward(base + message, rows: out, into: base + gi)
                round.gru.hiddenProjection.forward(state, rows: out, into: base + gh)
                LearnKernels.gruGates(gi: base + gi, gh: base + gh, h: state, rows: out, width: h,
                                      r: base + r, z: base + z, n: base + n, out: base + updated)
                round.norm.gamma.value.withUnsafeBufferPointer { gamma in round.norm.beta.value.withUnsafeBufferPointer { beta in
                    for i in 0..<out {
                        _ = LayerNorm<Float>.normalise(base + updated + i * h, width: h, gamma: gamma.baseAddress!,
                                                       beta: beta.baseAddress!, epsilon: round.norm.epsilon,
                                                       into: next + i * h, normalised: nil)
                    }
                } }
                swap(&state, &next)
            }
            e.query.withUnsafeBufferPointer { net.queryEncoder.forward($0.baseAddress!, rows: 1, into: base + qe) }
            RerankNetwork<Float>.features(states: state, query: base + qe, candidates: candidates, width: h,
                                          withState: withState, into: base + features)
            if let head = net.head {
                head.forward(base + features, rows: candidates, into: base + activations)
                LearnKernels.tanh(base + activations, count: candidates * h)
                net.output.forward(base + activations, rows: candidates, into: base + learned)
            } else {
                net.output.forward(base + features, rows: candidates, into: base + learned)
            }
            return (0..<candidates).map { e.hnswScores[$0] + base[learned + $0] }
        }
    }
}
