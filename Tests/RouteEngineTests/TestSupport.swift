import LearnEngine
@testable import RouteEngine

/// Shared fixtures: a seeded sequence task and a finite-difference gradient check.
enum Fixtures {
    /// A 3-class task over 8 steps of 4 features: each class adds its own direction (0.6 in length) to
    /// every step, under unit Gaussian noise, so one step alone is ambiguous and the model must integrate
    /// over time.
    static func sequenceTask(count: Int, seed: UInt64, inputs: Int = 4, classes: Int = 3, timeSteps: Int = 8,
                             signal: Double = 0.6) -> LabelledSequences<Double> {
        var rng = SeededGenerator(seed: seed)
        let directions: [[Double]] = (0..<classes).map { k in
            (0..<inputs).map { i in cos(Double(k) * 2.1 + Double(i) * 1.7) }
        }
        var features = [Double](), labels = [Int]()
        for _ in 0..<count {
            let label = Int(rng.next() % UInt64(classes))
            labels.append(label)
            for _ in 0..<timeSteps {
                for i in 0..<inputs { features.append(rng.nextGaussian() + signal * directions[label][i]) }
            }
        }
        return LabelledSequences(features: features, labels: labels)
    }

    /// The task in Float.
    static func asFloat(_ d: LabelledSequences<Double>) -> LabelledSequences<Float> {
        LabelledSequences(features: d.features.map(Float.init), labels: d.labels, teacherLogits: d.teacherLogits?.map(Float.init))
    }

    /// Copies a Double network's weights into a Float one of the same configuration.
    static func floatCopy(_ network: FastGRNNNetwork<Double>) throws -> FastGRNNNetwork<Float> {
        let f = try FastGRNNNetwork<Float>(config: network.config, seed: 0)
        for (to, from) in zip(f.parameters, network.parameters) { to.value = from.value.map(Float.init) }
        return f
    }

    /// The largest per-parameter relative error ‖analytic - numeric‖ / max(‖analytic‖, ‖numeric‖) between
    /// gradients from `backward` and central differences of `loss`, with the parameter's name.
    static func worstGradientError(_ parameters: [Parameter<Double>], loss: () -> Double, backward: () -> Void,
                                   step: Double = 1e-5) -> (error: Double, name: String) {
        Gradients.zero(parameters)
        backward()
        var worst = (error: 0.0, name: "")
        for p in parameters {
            var numeric = [Double](repeating: 0, count: p.count)
            for i in 0..<p.count {
                let saved = p.value[i]
                p.value[i] = saved + step
                let up = loss()
                p.value[i] = saved - step
                numeric[i] = (up - loss()) / (2 * step)
                p.value[i] = saved
            }
            let norm = { (v: [Double]) in v.reduce(0) { $0 + $1 * $1 }.squareRoot() }
            let difference = norm(zip(p.gradient, numeric).map { $0 - $1 })
            let scale = max(norm(p.gradient), norm(numeric))
            let error = scale < 1e-9 ? difference : difference / scale
            if error > worst.error { worst = (error, p.name) }
        }
        return worst
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
