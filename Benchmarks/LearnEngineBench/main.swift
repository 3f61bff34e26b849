// learn-bench: the re-ranker's forward cost on 100 HNSW candidates (d=384, hidden 128, M=8,
// 1 layer, the serving shape) and training throughput in examples per second.
// Run: swift build -c release --product learn-bench && .build/release/learn-bench
// Timings use the monotonic clock here, in the benchmark only; the engine reads no clock.
import LearnEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func nowNanos() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}

/// A random example: `candidates` candidates plus `extra` neighbour-only nodes, M neighbours each.
func example(dimension: Int, candidates: Int, extra: Int, m: Int, rng: inout SeededGenerator) -> RerankExample {
    let nodes = (0..<(candidates + extra)).map { _ in (0..<dimension).map { _ in Float(rng.nextGaussian()) } }
    let neighbours = (0..<candidates).map { _ in (0..<m).map { _ in Int32(rng.next() % UInt64(candidates + extra)) } }
    let grades = (0..<candidates).map { _ in Float(rng.next() % 4 == 0 ? 1 : 0) }
    return RerankExample(query: (0..<dimension).map { _ in Float(rng.nextGaussian()) }, nodes: nodes,
                         candidateCount: candidates, neighbours: neighbours,
                         hnswScores: (0..<candidates).map { -Float($0) * 0.01 }, grades: grades)
}

func percentile(_ xs: [Double], _ p: Double) -> Double {
    let s = xs.sorted()
    return s[min(Int(Double(s.count) * p), s.count - 1)]
}

var rng = SeededGenerator(seed: 42)
let config = RerankConfig()   // hidden 128, 4 heads, 1 layer, M = 8
let model = try RerankModel(config: config, dimension: 384, seed: 1)
print("model: d=384 hidden=\(config.hidden) heads=\(config.heads) layers=\(config.layers) M=\(config.neighbours) parameters=\(model.parameterCount)")

for extra in [0, 100] {
    let e = example(dimension: 384, candidates: 100, extra: extra, m: 8, rng: &rng)
    for _ in 0..<20 { _ = try model.rerank(e) }
    var micros = [Double]()
    for _ in 0..<200 {
        let t0 = nowNanos()
        _ = try model.rerank(e)
        micros.append(Double(nowNanos() - t0) / 1000)
    }
    print("rerank 100 candidates + \(extra) neighbour-only nodes: p50 \(Int(percentile(micros, 0.5))) µs, p99 \(Int(percentile(micros, 0.99))) µs")
}

var training = TrainingConfig()
training.epochs = 1
training.ewcLambda = 0
let examples = (0..<128).map { _ in example(dimension: 384, candidates: 100, extra: 0, m: 8, rng: &rng) }
var trainer = Trainer(model: model, config: training, seed: 7)
let t0 = nowNanos()
trainer.train(model, examples: examples)
let seconds = Double(nowNanos() - t0) / 1e9
print("training (batch 32, Adam, dropout 0.1, 100 candidates each): \(Int(Double(examples.count) / seconds)) examples/s")
