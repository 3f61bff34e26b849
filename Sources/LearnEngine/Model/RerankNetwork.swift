/// The re-ranking network, generic in its scalar so gradient checks run it in `Double`
/// (the server uses `RerankModel`, its `Float` instance).
///
/// Nodes and query are encoded by Linear(d -> hidden); `layers` rounds of message passing update
/// every node from its HNSW neighbours; candidate i then scores `s_i + out(tanh(head([q' ⊙ h_i, h_i])))`
/// (`RerankHeadKind.mlp`, the default) or `s_i + out(q' ⊙ h_i)` (`.bilinear`),
/// where `out` starts at exactly zero, so an untrained network returns the HNSW scores unchanged.
public final class RerankNetwork<T: LearnScalar> {
    /// Architecture and loss settings.
    public let config: RerankConfig
    /// Vector dimension.
    public let dimension: Int
    /// Encodes node vectors.
    public let nodeEncoder: Linear<T>
    /// Encodes the query vector.
    public let queryEncoder: Linear<T>
    /// The message-passing rounds.
    public let rounds: [MessagePassing<T>]
    /// Mixes query and node features (the MLP head only; nil for the bilinear head).
    public let head: Linear<T>?
    /// The zero-initialised output layer (hidden -> 1).
    public let output: Linear<T>

    /// A network with weights drawn from `seed`; the same seed gives the same weights.
    public init(config: RerankConfig, dimension: Int, seed: UInt64) {
        precondition((try? config.validate(dimension: dimension)) != nil, "invalid re-rank configuration")
        self.config = config
        self.dimension = dimension
        var rng = SeededGenerator(seed: seed)
        let h = config.hidden
        nodeEncoder = Linear(name: "encoder.node", inputs: dimension, outputs: h, rng: &rng)
        queryEncoder = Linear(name: "encoder.query", inputs: dimension, outputs: h, rng: &rng)
        rounds = (0..<config.layers).map {
            MessagePassing(name: "mp\($0)", width: h, heads: config.heads, dropoutRate: config.dropout, rng: &rng)
        }
        head = config.head == .mlp ? Linear(name: "head", inputs: 2 * h, outputs: h, rng: &rng) : nil
        output = Linear(name: "output", inputs: h, outputs: 1, rng: &rng, zeroInitialised: true)
    }

    /// Every parameter, in a fixed order (serialisation and optimiser state follow it).
    public var parameters: [Parameter<T>] {
        nodeEncoder.parameters + queryEncoder.parameters + rounds.flatMap(\.parameters) + (head?.parameters ?? []) + output.parameters
    }

    /// The number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Everything backward needs from one forward pass.
    public struct Trace {
        var nodes: [T], query: [T], rowCount: Int, candidates: Int
        var neighbours: [[Int]]
        var states: [[T]]
        var caches: [MessagePassing<T>.Cache]
        var queryEncoding: [T], features: [T], activations: [T]
    }

    /// The neighbour lists the rounds use: each candidate's first M in-range neighbours, none for the rest.
    func neighbourLists(_ e: RerankExample) -> [[Int]] {
        var lists = [[Int]](repeating: [], count: e.nodes.count)
        for i in 0..<e.candidateCount {
            lists[i] = e.neighbours[i].prefix(config.neighbours).map { Int($0) }.filter { $0 >= 0 && $0 < e.nodes.count }
        }
        return lists
    }

    /// Scores for the candidates and the trace for `backward`; `e` must have passed `validate`.
    @_specialize(where T == Float)
    public func forward(_ e: RerankExample, training: Bool, rng: inout SeededGenerator) -> (scores: [T], trace: Trace) {
        let h = config.hidden
        let rows = e.nodes.count, candidates = e.candidateCount
        var x = [T](); x.reserveCapacity(rows * dimension)
        if T.self == Float.self {
            for row in e.nodes { x.append(contentsOf: unsafeBitCast(row, to: [T].self)) }
        } else {
            for row in e.nodes { for v in row { x.append(T(v)) } }
        }
        let q = e.query.map { T($0) }
        let neighbours = neighbourLists(e)
        var state = nodeEncoder.forward(x, rows: rows)
        var states = [state]
        var caches = [MessagePassing<T>.Cache]()
        for (index, round) in rounds.enumerated() {
            // The last round updates the candidates only: nothing reads the other nodes' final states.
            let outputRows = index == rounds.count - 1 ? candidates : rows
            let (next, cache) = round.forward(state, rows: rows, outputRows: outputRows, neighbours: neighbours,
                                              training: training, rng: &rng)
            caches.append(cache)
            state = next
            states.append(state)
        }
        let qe = queryEncoder.forward(q, rows: 1)
        let withState = head != nil
        var features = [T](repeating: 0, count: candidates * (withState ? 2 : 1) * h)
        state.withUnsafeBufferPointer { sp in qe.withUnsafeBufferPointer { qp in features.withUnsafeMutableBufferPointer { fp in
            Self.features(states: sp.baseAddress!, query: qp.baseAddress!, candidates: candidates, width: h,
                          withState: withState, into: fp.baseAddress!)
        } } }
        var activations = features
        if let head {
            activations = head.forward(features, rows: candidates)
            Kernels.tanh(&activations)
        }
        let learned = output.forward(activations, rows: candidates)
        var scores = [T](repeating: 0, count: candidates)
        for i in 0..<candidates { scores[i] = T(e.hnswScores[i]) + learned[i] }
        let trace = Trace(nodes: x, query: q, rowCount: rows, candidates: candidates, neighbours: neighbours,
                          states: states, caches: caches, queryEncoding: qe, features: features, activations: activations)
        return (scores, trace)
    }

    /// The head's input rows for the candidates' final states (shared with the inference path):
    /// [q' ⊙ h_i, h_i] when `withState` (the MLP head), q' ⊙ h_i alone otherwise.
    @inline(__always)
    static func features(states: UnsafePointer<T>, query qe: UnsafePointer<T>, candidates: Int, width h: Int,
                         withState: Bool, into features: UnsafeMutablePointer<T>) {
        let featureWidth = withState ? 2 * h : h
        for i in 0..<candidates {
            for c in 0..<h {
                let v = states[i * h + c]
                features[i * featureWidth + c] = qe[c] * v
                if withState { features[i * featureWidth + h + c] = v }
            }
        }
    }

    /// Adds every parameter's gradient for upstream d(loss)/d(score).
    @_specialize(where T == Float)
    public func backward(_ t: Trace, dScores: [T]) {
        let h = config.hidden
        let dActivations = output.backward(t.activations, rows: t.candidates, dy: dScores)
        var dFeatures = dActivations
        if let head {
            var dPre = dActivations
            for i in dPre.indices { dPre[i] *= 1 - t.activations[i] * t.activations[i] }
            dFeatures = head.backward(t.features, rows: t.candidates, dy: dPre)
        }
        let withState = head != nil, featureWidth = withState ? 2 * h : h
        let last = t.states[t.states.count - 1]
        // Gradients reach the candidates' final states only (the last round updated no other row).
        var dState = [T](repeating: 0, count: t.candidates * h)
        var dQuery = [T](repeating: 0, count: h)
        for i in 0..<t.candidates {
            for c in 0..<h {
                let dProduct = dFeatures[i * featureWidth + c]
                dState[i * h + c] = dProduct * t.queryEncoding[c] + (withState ? dFeatures[i * featureWidth + h + c] : 0)
                dQuery[c] += dProduct * last[i * h + c]
            }
        }
        for r in stride(from: rounds.count - 1, through: 0, by: -1) {
            dState = rounds[r].backward(t.states[r], rows: t.rowCount, neighbours: t.neighbours, cache: t.caches[r], dy: dState)
        }
        // With no rounds dState covers the candidates only, the leading rows of the nodes.
        nodeEncoder.accumulateParameterGradients(t.nodes, rows: dState.count / h, dy: dState)
        queryEncoder.accumulateParameterGradients(t.query, rows: 1, dy: dQuery)
    }

    /// The loss for `e` (which must carry grades) and, when `accumulate`, its gradient added to the parameters.
    @_specialize(where T == Float)
    @discardableResult
    public func loss(_ e: RerankExample, training: Bool, rng: inout SeededGenerator, accumulate: Bool = true) -> T {
        let (scores, trace) = forward(e, training: training, rng: &rng)
        let grades = (e.grades ?? []).map { T($0) }
        let result = RankingLoss.evaluate(config.loss, scores: scores, grades: grades, temperature: T(config.temperature),
                                          weights: e.weights.map { $0.map { T($0) } })
        if accumulate { backward(trace, dScores: result.gradient) }
        return result.value
    }
}
