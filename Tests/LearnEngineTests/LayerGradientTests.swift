import Testing
import LearnEngine

/// Every layer's input and parameter gradients against central finite differences in Double;
/// the bound is a relative error of at most 1e-6.
@Suite struct LayerGradientTests {
    let tolerance = 1e-6

    @Test func linear() {
        var rng = SeededGenerator(seed: 1)
        let layer = Linear<Double>(name: "l", inputs: 5, outputs: 3, rng: &rng)
        let x = Parameter<Double>(name: "x", shape: [4, 5], value: GradientCheck.random(20, &rng))
        let c = GradientCheck.random(12, &rng)
        let r = GradientCheck.maximumRelativeError(layer.parameters + [x],
            loss: { GradientCheck.project(layer.forward(x.value, rows: 4), c) },
            backward: { x.gradient = layer.backward(x.value, rows: 4, dy: c) })
        #expect(r.error <= tolerance, "worst \(r.worst): \(r.error)")
    }

    @Test func layerNorm() {
        var rng = SeededGenerator(seed: 2)
        let layer = LayerNorm<Double>(name: "n", width: 6)
        layer.gamma.value = GradientCheck.random(6, &rng)
        layer.beta.value = GradientCheck.random(6, &rng)
        let x = Parameter<Double>(name: "x", shape: [3, 6], value: GradientCheck.random(18, &rng))
        let c = GradientCheck.random(18, &rng)
        let r = GradientCheck.maximumRelativeError(layer.parameters + [x],
            loss: { GradientCheck.project(layer.forward(x.value, rows: 3).output, c) },
            backward: { x.gradient = layer.backward(layer.forward(x.value, rows: 3).cache, rows: 3, dy: c) })
        #expect(r.error <= tolerance, "worst \(r.worst): \(r.error)")
    }

    @Test func multiHeadAttentionWithVariableNeighbourSets() {
        var rng = SeededGenerator(seed: 3)
        let layer = MultiHeadAttention<Double>(name: "a", width: 8, heads: 2, rng: &rng)
        let rows = 5
        // Different set sizes, a node attending to itself, and one with no neighbours at all.
        let neighbours = [[1, 2, 3], [0], [], [0, 1, 2, 3, 4], [4, 2]]
        let x = Parameter<Double>(name: "x", shape: [rows, 8], value: GradientCheck.random(rows * 8, &rng))
        let c = GradientCheck.random(neighbours.count * 8, &rng)
        let r = GradientCheck.maximumRelativeError(layer.parameters + [x],
            loss: { GradientCheck.project(layer.forward(x.value, rows: rows, neighbours: neighbours).output, c) },
            backward: {
                let cache = layer.forward(x.value, rows: rows, neighbours: neighbours).cache
                x.gradient = layer.backward(x.value, rows: rows, neighbours: neighbours, cache: cache, dy: c)
            })
        #expect(r.error <= tolerance, "worst \(r.worst): \(r.error)")
    }

    @Test func gruCell() {
        var rng = SeededGenerator(seed: 4)
        let cell = GRUCell<Double>(name: "g", inputs: 4, hidden: 5, rng: &rng)
        let x = Parameter<Double>(name: "x", shape: [3, 4], value: GradientCheck.random(12, &rng))
        let h = Parameter<Double>(name: "h", shape: [3, 5], value: GradientCheck.random(15, &rng))
        let c = GradientCheck.random(15, &rng)
        let r = GradientCheck.maximumRelativeError(cell.parameters + [x, h],
            loss: { GradientCheck.project(cell.forward(x: x.value, h: h.value, rows: 3).output, c) },
            backward: {
                let cache = cell.forward(x: x.value, h: h.value, rows: 3).cache
                let g = cell.backward(x: x.value, h: h.value, rows: 3, cache: cache, dy: c)
                x.gradient = g.dx
                h.gradient = g.dh
            })
        #expect(r.error <= tolerance, "worst \(r.worst): \(r.error)")
    }

    @Test(arguments: [false, true])
    func messagePassing(training: Bool) {
        var rng = SeededGenerator(seed: 5)
        let layer = MessagePassing<Double>(name: "m", width: 8, heads: 4, dropoutRate: 0.3, rng: &rng)
        let rows = 4
        let neighbours = [[1, 2], [0, 2, 3], [], [1]]
        let h = Parameter<Double>(name: "h", shape: [rows, 8], value: GradientCheck.random(rows * 8, &rng))
        let c = GradientCheck.random(rows * 8, &rng)
        // The same dropout seed every evaluation fixes the mask, so the function is differentiable.
        func run() -> ([Double], MessagePassing<Double>.Cache) {
            var dropoutRng = SeededGenerator(seed: 99)
            let r = layer.forward(h.value, rows: rows, neighbours: neighbours, training: training, rng: &dropoutRng)
            return (r.output, r.cache)
        }
        let r = GradientCheck.maximumRelativeError(layer.parameters + [h],
            loss: { GradientCheck.project(run().0, c) },
            backward: { h.gradient = layer.backward(h.value, rows: rows, neighbours: neighbours, cache: run().1, dy: c) })
        #expect(r.error <= tolerance, "worst \(r.worst): \(r.error)")
    }

    @Test func dropoutIsIdentityOutsideTrainingAndSeededInside() {
        let d = Dropout<Float>(rate: 0.5)
        var a = SeededGenerator(seed: 1), b = SeededGenerator(seed: 1)
        let x = [Float](repeating: 1, count: 1000)
        #expect(d.forward(x, training: false, rng: &a).output == x)
        let m1 = d.forward(x, training: true, rng: &a).output, m2 = d.forward(x, training: true, rng: &b).output
        #expect(m1 == m2)
        let zeros = m1.filter { $0 == 0 }.count
        #expect(zeros > 430 && zeros < 570, "\(zeros) of 1000 dropped at rate 0.5")
        #expect(m1.allSatisfy { $0 == 0 || $0 == 2 })
    }
}
