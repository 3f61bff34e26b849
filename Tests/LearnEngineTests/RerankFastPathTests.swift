import Testing
import Dispatch
import Synchronization
import LearnEngine

/// The `Float` model runs C kernels, and every network updates only the candidates in its last round;
/// both are checked here against the plain `Double` code and against a forward written out with the
/// public layers, which update every row.
@Suite struct RerankFastPathTests {
    /// 30 candidates at d=45, hidden 32, and 25 neighbour-only nodes; some candidates have no neighbours,
    /// some list more than M, and some list other candidates.
    static func example(seed: UInt64, dimension: Int) -> RerankExample {
        var rng = SeededGenerator(seed: seed)
        let candidates = 30, total = 55
        let nodes = (0..<total).map { _ in (0..<dimension).map { _ in Float(rng.nextGaussian()) } }
        let neighbours = (0..<candidates).map { i -> [Int32] in
            i % 7 == 3 ? [] : (0..<(i % 11 + 1)).map { _ in Int32(rng.next() % UInt64(total)) }
        }
        return RerankExample(query: (0..<dimension).map { _ in Float(rng.nextGaussian()) }, nodes: nodes,
                             candidateCount: candidates, neighbours: neighbours,
                             hnswScores: (0..<candidates).map { _ in Float(rng.nextGaussian()) },
                             grades: (0..<candidates).map { _ in Float(rng.next() % 3) })
    }

    static func config(layers: Int, head: RerankHeadKind = .bilinear) -> RerankConfig {
        var c = RerankConfig()
        c.hidden = 32; c.heads = 4; c.layers = layers; c.neighbours = 6; c.head = head
        return c
    }

    /// A model whose output layer is not zero, so the learned term shows in the scores.
    static func model(layers: Int, head: RerankHeadKind = .bilinear) throws -> RerankModel {
        let model = try RerankModel(config: config(layers: layers, head: head), dimension: 45, seed: 3)
        var rng = SeededGenerator(seed: 4)
        for p in model.parameters where p.name.hasPrefix("output") {
            for i in p.value.indices { p.value[i] = Float(rng.nextGaussian()) }
        }
        return model
    }

    /// `model(layers:)` and a Double network holding the same weights.
    static func modelAndDoubleCopy(layers: Int, head: RerankHeadKind) throws -> (RerankModel, RerankNetwork<Double>) {
        let model = try model(layers: layers, head: head)
        let reference = RerankNetwork<Double>(config: model.config, dimension: 45, seed: 99)
        for (p, q) in zip(model.parameters, reference.parameters) { q.value = p.value.map { Double($0) } }
        return (model, reference)
    }

    @Test(arguments: [0, 1, 2], RerankHeadKind.allCases)
    func floatScoresMatchTheDoubleNetworkWithTheSameWeights(layers: Int, head: RerankHeadKind) throws {
        let (model, reference) = try Self.modelAndDoubleCopy(layers: layers, head: head)
        let e = Self.example(seed: 5, dimension: 45)
        var rng = SeededGenerator(seed: 0)
        let expected = reference.forward(e, training: false, rng: &rng).scores
        let scores = try model.scores(e)
        let learnedSpread = zip(expected, e.hnswScores).map { abs($0 - Double($1)) }.max()!
        #expect(learnedSpread > 0.1, "the learned term must be live for this comparison to mean anything")
        for (s, x) in zip(scores, expected) { #expect(abs(Double(s) - x) <= 1e-4 * max(1, abs(x)), "\(s) vs \(x)") }
    }

    /// `scores` runs its own pass in per-thread scratch; it must give forward's bits exactly.
    @Test(arguments: [0, 1, 2], RerankHeadKind.allCases)
    func scoresInScratchAreForwardsBitsExactly(layers: Int, head: RerankHeadKind) throws {
        let model = try Self.model(layers: layers, head: head)
        for seed in [UInt64(8), 9] {
            let e = Self.example(seed: seed, dimension: 45)
            var rng = SeededGenerator(seed: 0)
            let expected = model.network.forward(e, training: false, rng: &rng).scores
            #expect(try model.scores(e).map(\.bitPattern) == expected.map(\.bitPattern))
        }
    }

    /// The network's forward against one written here with the public layers, every round over every row.
    @Test(arguments: [1, 2], RerankHeadKind.allCases)
    func updatingOnlyTheCandidatesInTheLastRoundChangesNoScore(layers: Int, head: RerankHeadKind) throws {
        let net = RerankNetwork<Double>(config: Self.config(layers: layers, head: head), dimension: 45, seed: 3)
        var rng = SeededGenerator(seed: 4)
        net.output.weight.value = net.output.weight.value.map { _ in rng.nextGaussian() }
        let e = Self.example(seed: 6, dimension: 45)
        let h = net.config.hidden, candidates = e.candidateCount, rows = e.nodes.count
        var lists = [[Int]](repeating: [], count: rows)
        for i in 0..<candidates { lists[i] = e.neighbours[i].prefix(net.config.neighbours).map { Int($0) } }
        var state = net.nodeEncoder.forward(e.nodes.flatMap { $0.map { Double($0) } }, rows: rows)
        for round in net.rounds { state = round.forward(state, rows: rows, neighbours: lists, training: false, rng: &rng).output }
        let qe = net.queryEncoder.forward(e.query.map { Double($0) }, rows: 1)
        var features = [Double]()
        for i in 0..<candidates {
            features += (0..<h).map { qe[$0] * state[i * h + $0] }
            if head == .mlp { features += state[i * h ..< (i + 1) * h] }
        }
        let activations = net.head.map { $0.forward(features, rows: candidates).map { Double.hyperbolicTangent($0) } } ?? features
        let learned = net.output.forward(activations, rows: candidates)
        var unused = SeededGenerator(seed: 0)
        let scores = net.forward(e, training: false, rng: &unused).scores
        for i in 0..<candidates { #expect(abs(scores[i] - (Double(e.hnswScores[i]) + learned[i])) <= 1e-12) }
    }

    /// The Float backward (C kernels) against the Double one (plain loops) with the same weights: each
    /// parameter's gradient within 1e-3 of the reference, relative to its norm.
    @Test(arguments: [0, 1, 2], RerankHeadKind.allCases)
    func floatGradientsMatchTheDoubleNetwork(layers: Int, head: RerankHeadKind) throws {
        let (model, reference) = try Self.modelAndDoubleCopy(layers: layers, head: head)
        let e = Self.example(seed: 7, dimension: 45)
        Gradients.zero(model.parameters)
        Gradients.zero(reference.parameters)
        var rng = SeededGenerator(seed: 0)
        model.network.loss(e, training: false, rng: &rng)
        reference.loss(e, training: false, rng: &rng)
        // Some gradients are zero in exact arithmetic (the output and key biases: the listwise loss and the
        // softmax ignore a shift) and rounding noise in Float: those are judged against the overall scale.
        let global = Gradients.globalNorm(reference.parameters)
        for (p, q) in zip(model.parameters, reference.parameters) {
            let norm = q.gradient.map { $0 * $0 }.reduce(0, +).squareRoot()
            let error = zip(p.gradient, q.gradient).map { (Double($0) - $1) * (Double($0) - $1) }.reduce(0, +).squareRoot()
            #expect(error <= 1e-3 * norm + 1e-5 * global, "\(p.name): error \(error), norm \(norm), global \(global)")
        }
        #expect(reference.parameters.contains { p in p.name.hasPrefix("encoder.node") && p.gradient.contains { $0 != 0 } })
    }
}

/// The server scores with one model from many threads at once: each call must own its scratch.
@Suite struct RerankConcurrencyTests {
    /// Shares the model as the server does: never mutated while it scores.
    struct Shared: @unchecked Sendable { let model: RerankModel }

    @Test func concurrentCallsGiveTheSequentialScoresBitForBit() throws {
        let shared = Shared(model: try RerankFastPathTests.model(layers: 2))
        let model = shared.model
        let examples = (0..<8).map { RerankFastPathTests.example(seed: 40 + $0, dimension: 45) }
        let sequential = try examples.map { try model.scores($0).map(\.bitPattern) }
        let results = Mutex([[UInt32]?](repeating: nil, count: 64))
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            let scores = (try? shared.model.scores(examples[i % examples.count]))?.map(\.bitPattern)
            results.withLock { $0[i] = scores }
        }
        let all = results.withLock { $0 }
        for i in 0..<64 { #expect(all[i] == sequential[i % examples.count], "call \(i)") }
    }
}
