import LearnEngine

/// Central finite differences in Double against a layer's analytic gradients.
enum GradientCheck {
    /// The largest relative error ‖analytic − numeric‖ / max(‖analytic‖, ‖numeric‖) over `parameters`
    /// (each a layer parameter or an input wrapped as one). `loss` evaluates the scalar loss from the
    /// current values; `backward` zeroes nothing and must add the analytic gradients.
    static func maximumRelativeError(_ parameters: [Parameter<Double>], loss: () -> Double, backward: () -> Void,
                                     step: Double = 1e-5) -> (error: Double, worst: String) {
        for p in parameters { p.zeroGradient() }
        _ = loss()
        backward()
        var worst = 0.0, worstName = ""
        for p in parameters {
            var diff = 0.0, na = 0.0, nn = 0.0
            for i in 0..<p.count {
                let saved = p.value[i]
                p.value[i] = saved + step
                let up = loss()
                p.value[i] = saved - step
                let down = loss()
                p.value[i] = saved
                let numeric = (up - down) / (2 * step)
                let analytic = p.gradient[i]
                diff += (analytic - numeric) * (analytic - numeric)
                na += analytic * analytic
                nn += numeric * numeric
            }
            let scale = max(na.squareRoot(), nn.squareRoot())
            // A gradient that is zero both ways is exact; a tiny one is judged on an absolute floor.
            let error = scale < 1e-9 ? diff.squareRoot() : diff.squareRoot() / scale
            if error > worst { worst = error; worstName = p.name }
        }
        return (worst, worstName)
    }

    /// Values uniform in ±1 from `rng`.
    static func random(_ count: Int, _ rng: inout SeededGenerator) -> [Double] {
        (0..<count).map { _ in rng.nextUnitOpen() * 2 - 1 }
    }

    /// Σ c_k y_k: a scalar whose gradient in y is c, so every output element is exercised.
    static func project(_ y: [Double], _ c: [Double]) -> Double {
        zip(y, c).reduce(0) { $0 + $1.0 * $1.1 }
    }
}
