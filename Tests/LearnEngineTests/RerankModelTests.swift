import Testing
import LearnEngine

@Suite struct RerankModelTests {
    /// A small network with random (not zero) output weights, so every gradient path is live.
    func smallNetwork(layers: Int, dropout: Double, head: RerankHeadKind = .bilinear) -> RerankNetwork<Double> {
        var config = RerankConfig()
        config.hidden = 8; config.heads = 2; config.layers = layers; config.dropout = dropout; config.neighbours = 3
        config.temperature = 0.5; config.head = head
        let net = RerankNetwork<Double>(config: config, dimension: 5, seed: 3)
        var rng = SeededGenerator(seed: 4)
        net.output.weight.value = GradientCheck.random(8, &rng)
        return net
    }

    func smallExample() -> RerankExample {
        var rng = SeededGenerator(seed: 5)
        let nodes = (0..<7).map { _ in (0..<5).map { _ in Float(rng.nextGaussian()) } }
        // 4 candidates, then 3 neighbour-only nodes; one candidate lists more than M neighbours.
        return RerankExample(query: (0..<5).map { _ in Float(rng.nextGaussian()) }, nodes: nodes, candidateCount: 4,
                             neighbours: [[1, 4], [0, 2, 5, 6, 3], [], [6]], hnswScores: [0.9, 0.7, 0.4, 0.1],
                             grades: [0, 1, 0, 2])
    }

    @Test(arguments: [(1, 0.0, RerankHeadKind.bilinear), (2, 0.0, .bilinear), (2, 0.2, .bilinear), (0, 0.0, .bilinear),
                      (1, 0.0, .mlp), (2, 0.0, .mlp), (2, 0.2, .mlp)])
    func networkGradientMatchesFiniteDifferences(layers: Int, dropout: Double, head: RerankHeadKind) {
        let net = smallNetwork(layers: layers, dropout: dropout, head: head)
        let e = smallExample()
        let r = GradientCheck.maximumRelativeError(net.parameters,
            loss: { var rng = SeededGenerator(seed: 8); return net.loss(e, training: true, rng: &rng, accumulate: false) },
            backward: { var rng = SeededGenerator(seed: 8); net.loss(e, training: true, rng: &rng) })
        #expect(r.error <= 1e-6, "worst \(r.worst): \(r.error)")
    }

    @Test(arguments: RerankHeadKind.allCases)
    func untrainedModelKeepsHNSWScoresAndOrderExactly(head: RerankHeadKind) throws {
        let task = SyntheticTask(seed: 1, points: 300)
        var config = RerankConfig()
        config.head = head
        let model = try RerankModel(config: config, dimension: task.dimension, seed: 9)
        for e in task.examples(0..<5) {
            #expect(try model.scores(e) == e.hnswScores)
            #expect(try model.rerank(e) == Array(0..<e.candidateCount))
        }
    }

    @Test func invalidExamplesAreRefused() throws {
        let model = try RerankModel(config: RerankConfig(), dimension: 5, seed: 1)
        var e = smallExample()
        e.neighbours[0] = [7]
        #expect(throws: LearnError.self) { try model.scores(e) }
        e = smallExample(); e.query = [1, 2]
        #expect(throws: LearnError.self) { try model.scores(e) }
        e = smallExample(); e.hnswScores[1] = .nan
        #expect(throws: LearnError.self) { try model.scores(e) }
        e = smallExample(); e.candidateCount = 9
        #expect(throws: LearnError.self) { try model.scores(e) }
    }

    @Test(arguments: RerankHeadKind.allCases)
    func parameterCountFollowsTheArchitecture(head: RerankHeadKind) throws {
        var config = RerankConfig()
        config.head = head
        let model = try RerankModel(config: config, dimension: 384, seed: 1)
        let h = 128, d = 384
        let mlp = head == .mlp ? 2 * h * h + h : 0
        let expected = 2 * (d * h + h) + (4 * (h * h + h) + 2 * (3 * h * h + 3 * h) + 2 * h) + mlp + (h + 1)
        #expect(model.parameterCount == expected)
        #expect(RerankConfig().head == .mlp, "the server's models keep the MLP head (the bilinear one ranks no better)")
    }
}
