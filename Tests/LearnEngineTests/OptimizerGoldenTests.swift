import Testing
import LearnEngine

/// Adam, SGD and the schedules against PyTorch 2.13 (float64); the numbers come from
/// Golden/optimizer_golden.py, which prints them.
@Suite struct OptimizerGoldenTests {
    let target = [0.5, -1.0, 2.0], curvature = [1.0, 2.0, 3.0]

    func run(_ kind: OptimizerKind, lr: Double) -> [[Double]] {
        let w = Parameter<Double>(name: "w", shape: [3], value: [1, 2, 3])
        var optimizer = Optimizer(kind, parameters: [w])
        var out = [[Double]]()
        for _ in 0..<5 {
            for i in 0..<3 { w.gradient[i] = curvature[i] * (w.value[i] - target[i]) }
            optimizer.update([w], lr: lr)
            out.append(w.value)
        }
        return out
    }

    func expectClose(_ a: [[Double]], _ b: [[Double]], tolerance: Double = 1e-12) {
        #expect(a.count == b.count)
        for (x, y) in zip(a.joined(), b.joined()) { #expect(abs(x - y) <= tolerance, "\(x) vs \(y)") }
    }

    @Test func adamMatchesPyTorch() {
        let golden = [[0.9000000019607843, 1.900000000166113, 2.900000000330033],
                      [0.8011681119726882, 1.800102905169431, 2.8004084207804967],
                      [0.7047857030220407, 1.7003822677459035, 2.7015710117155405],
                      [0.6126720850519055, 1.6009153368882296, 2.603899591868599],
                      [0.5272600862507884, 1.501783020516055, 2.507880618206417]]
        expectClose(run(.adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01), lr: 0.1), golden)
    }

    @Test func sgdWithMomentumMatchesPyTorch() {
        let golden = [[0.949, 1.398, 2.697], [0.857251, 0.375202, 2.212503],
                      [0.738094549, -0.820731802, 1.7104922969999998],
                      [0.606306193651, -1.932105131598, 1.343824482903],
                      [0.476459748278149, -2.7439879967850023, 1.209332280861897]]
        expectClose(run(.sgd(momentum: 0.9, weightDecay: 0.01), lr: 0.1), golden)
    }

    @Test func warmupThenCosineMatchesPyTorch() {
        let golden = [0.025, 0.05, 0.07500000000000001, 0.1, 0.1, 0.0962320368593087, 0.0855017856687341,
                      0.06944282990207196, 0.0505, 0.03155717009792806, 0.0154982143312659, 0.004767963140691306]
        let schedule = LearningRateSchedule.warmupCosine(warmupSteps: 4, totalSteps: 12, minimumRate: 0.001)
        expectClose([(0..<12).map { schedule.rate(base: 0.1, step: $0) }], [golden])
        #expect(LearningRateSchedule.constant.rate(base: 0.1, step: 1000) == 0.1)
    }

    @Test func reduceOnPlateauMatchesPyTorch() {
        let metrics = [0.1, 0.2, 0.2, 0.15, 0.19, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]
        let golden = [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125, 0.0125]
        var state = PlateauState(base: 0.1)
        let rates = metrics.map { m -> Double in
            state.record(metric: m, factor: 0.5, patience: 2, minimumRate: 0.01)
            return state.rate
        }
        expectClose([rates], [golden])
    }

    @Test func clippingScalesToTheGlobalNorm() {
        let a = Parameter<Double>(name: "a", shape: [2], value: [0, 0]), b = Parameter<Double>(name: "b", shape: [1], value: [0])
        a.gradient = [3, 0]; b.gradient = [4]
        #expect(Gradients.clipGlobalNorm([a, b], maxNorm: 1) == 5)
        #expect(abs(Gradients.globalNorm([a, b]) - 1) < 1e-6)
        #expect(abs(a.gradient[0] - 0.6) < 1e-6 && abs(b.gradient[0] - 0.8) < 1e-6)
    }
}
