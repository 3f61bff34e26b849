// learn-bench: the re-ranker's forward cost on 100 HNSW candidates at d=384, hidden 128, 1 layer, in
// three shapes (no extra nodes, M=8; 100 extra neighbour-only nodes, M=8; the server's shape: 200 extra
// nodes, M=16, half of each candidate's neighbours other candidates), and training throughput.
// Every timed query is cold: a different example each time (a pool larger than the caches), and the
// model carries nothing between queries. One thread.
// Run: swift build -c release --product learn-bench && .build/release/learn-bench     (--help: the training mode's options)
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

/// The 1-, 5- and 15-minute load averages (the machine is shared: numbers mean little without them).
func loadAverage() -> String {
    var loads = [Double](repeating: 0, count: 3)
    guard getloadavg(&loads, 3) == 3 else { return "?" }
    return loads.map { x -> String in
        let hundredths = Int((x * 100).rounded())
        return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
    }.joined(separator: " ")
}

/// One benchmark shape: candidates, extra neighbour-only nodes, neighbours per candidate and how
/// many of those are other candidates (the rest are extra nodes, each extra node listed by someone).
struct Shape {
    var candidates: Int, extra: Int, m: Int, candidateNeighbours: Int
    var label: String { "\(candidates) candidates + \(extra) extra nodes, M=\(m)" }
}

/// A random example of `shape`: Gaussian vectors, neighbour lists as described by the shape.
func example(_ shape: Shape, dimension: Int, rng: inout SeededGenerator) -> RerankExample {
    let total = shape.candidates + shape.extra
    let nodes = (0..<total).map { _ in (0..<dimension).map { _ in Float(rng.nextGaussian()) } }
    let extraSlots = shape.m - shape.candidateNeighbours
    let neighbours = (0..<shape.candidates).map { i -> [Int32] in
        let near = (0..<shape.candidateNeighbours).map { _ in Int32(rng.next() % UInt64(shape.candidates)) }
        // Extra nodes round-robin, so all of them are someone's neighbour (as in an HNSW neighbourhood).
        let far = shape.extra == 0 ? [] : (0..<extraSlots).map { t in Int32(shape.candidates + (i * extraSlots + t) % shape.extra) }
        return near + far
    }
    let grades = (0..<shape.candidates).map { _ in Float(rng.next() % 4 == 0 ? 1 : 0) }
    return RerankExample(query: (0..<dimension).map { _ in Float(rng.nextGaussian()) }, nodes: nodes,
                         candidateCount: shape.candidates, neighbours: neighbours,
                         hnswScores: (0..<shape.candidates).map { -Float($0) * 0.01 }, grades: grades)
}

func percentile(_ xs: [Double], _ p: Double) -> Double {
    let s = xs.sorted()
    return s[min(Int(Double(s.count) * p), s.count - 1)]
}

let options = LearnBenchOptions.parseOrExit()
if let path = options.trainExamples { exit(options.gateStudy ? gateStudy(path: path, options) : trainExamples(path: path, options)) }

let dimension = 384
let shapes = [Shape(candidates: 100, extra: 0, m: 8, candidateNeighbours: 8),
              Shape(candidates: 100, extra: 100, m: 8, candidateNeighbours: 4),
              Shape(candidates: 100, extra: 200, m: 16, candidateNeighbours: 8)]
var rng = SeededGenerator(seed: 42)
print("kernels: \(LearnKernelInstructionSet.name); load average before: \(loadAverage())")

for shape in shapes {
    var config = RerankConfig()   // hidden 128, 4 heads, 1 layer
    config.neighbours = shape.m
    let model = try RerankModel(config: config, dimension: dimension, seed: 1)
    // A trained model's output layer is not zero; random weights keep every term of the score live.
    for p in model.parameters where p.name.hasPrefix("output") {
        for i in p.value.indices { p.value[i] = Float(rng.nextGaussian()) * 0.1 }
    }
    // 48 examples of up to 300 x 384 floats: 22 MB, more than this machine's L2, so each query starts cold.
    let pool = (0..<48).map { _ in example(shape, dimension: dimension, rng: &rng) }
    for e in pool.prefix(8) { _ = try model.rerank(e) }
    var micros = [Double]()
    for i in 0..<480 {
        let e = pool[i % pool.count]
        let t0 = nowNanos()
        _ = try model.rerank(e)
        micros.append(Double(nowNanos() - t0) / 1000)
    }
    print("rerank \(shape.label) (d=\(dimension), hidden \(config.hidden), \(model.parameterCount) parameters): "
          + "p50 \(Int(percentile(micros, 0.5))) µs, p99 \(Int(percentile(micros, 0.99))) µs")
}

for shape in [shapes[0], shapes[2]] {
    var config = RerankConfig()
    config.neighbours = shape.m
    let model = try RerankModel(config: config, dimension: dimension, seed: 1)
    var training = TrainingConfig()
    training.epochs = 1
    training.ewcLambda = 0
    let examples = (0..<128).map { _ in example(shape, dimension: dimension, rng: &rng) }
    var trainer = Trainer(model: model, config: training, seed: 7)
    let t0 = nowNanos()
    trainer.train(model, examples: examples)
    let seconds = Double(nowNanos() - t0) / 1e9
    print("training \(shape.label) (batch 32, Adam, dropout 0.1): \(Int(Double(examples.count) / seconds)) examples/s")
}
print("load average after: \(loadAverage())")
