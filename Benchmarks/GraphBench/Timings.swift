/// Per-query answers and latencies of one query set on one engine.
struct Timed<Answer: Codable>: Codable {
    var answers: [Answer]
    var micros: [Double]

    var p50Micros: Double { percentile(0.50) }
    var p99Micros: Double { percentile(0.99) }
    /// Queries per second, one after another on one thread.
    var queriesPerSecond: Double { Double(micros.count) / (micros.reduce(0, +) / 1e6) }

    private func percentile(_ p: Double) -> Double {
        let sorted = micros.sorted()
        return sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }
}

/// Runs `body` on the first `warmup` inputs untimed, then `rounds` times on every input timed,
/// and keeps the fastest round: on a shared machine a slower round measures someone else's
/// build. (The peer script does the same.)
func timed<Input, Answer: Codable>(_ inputs: [Input], warmup: Int, rounds: Int,
                                   _ body: (Input) throws -> Answer) rethrows -> Timed<Answer> {
    for input in inputs.prefix(warmup) { _ = try body(input) }
    var best: Timed<Answer>?
    let clock = ContinuousClock()
    for _ in 0..<max(1, rounds) {
        var round = Timed<Answer>(answers: [], micros: [])
        for input in inputs {
            var answer: Answer?
            let elapsed = try clock.measure { answer = try body(input) }
            if let answer { round.answers.append(answer) }
            round.micros.append(micros(elapsed))
        }
        if let b = best, b.micros.reduce(0, +) <= round.micros.reduce(0, +) { continue }
        best = round
    }
    return best ?? Timed(answers: [], micros: [])
}

func micros(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) * 1e-12
}

func seconds(_ d: Duration) -> Double { micros(d) / 1e6 }
