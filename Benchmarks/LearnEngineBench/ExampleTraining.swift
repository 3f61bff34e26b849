// `learn-bench --train-examples FILE [--head mlp|bilinear] [--clip X] [--seed N] [--epochs N] [--warmup N]
// [--torch-bias-init] [--dropout X] [--trainer-seed N] [--batch-order FILE] [--dump DIR [--dump-step N]] [--max-steps N]`: trains
// LearnEngine the way the server's LearnTraining does (Adam 1e-3 with L2 1e-4, batch 32, warm-up
// then cosine over the run, clipping at 5, replay and EWC at their defaults) on the examples that
// Benchmarks/LearnBench/export_examples.py wrote from the PyTorch reference's data, clicks and
// split, and prints each epoch's gate score beside the HNSW order's: the engine and the reference
// compared on exactly the same examples.
import LearnEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the little-endian file `export_examples.py` writes; exits with a message on a short file.
struct ExampleFile {
    var dimension = 0
    var train: [RerankExample] = []
    var validation: [RerankExample] = []

    init(path: String) {
        let bytes = readWholeFile(path)
        var position = 0
        func u32() -> Int {
            guard position + 4 <= bytes.count else { fail("\(path) is truncated") }
            defer { position += 4 }
            return Int(UInt32(bytes[position]) | UInt32(bytes[position + 1]) << 8 | UInt32(bytes[position + 2]) << 16
                | UInt32(bytes[position + 3]) << 24)
        }
        func floats(_ count: Int) -> [Float] { (0..<count).map { _ in Float(bitPattern: UInt32(u32())) } }
        guard bytes.count >= 4, Array(bytes[0..<4]) == Array("RVLX".utf8) else { fail("\(path) is not an examples file") }
        position = 4
        dimension = u32()
        let trainCount = u32(), validationCount = u32()
        var examples = [RerankExample]()
        for _ in 0..<(trainCount + validationCount) {
            let candidates = u32(), nodeCount = u32()
            let query = floats(dimension)
            let nodes = (0..<nodeCount).map { _ in floats(dimension) }
            let links = (0..<candidates).map { _ in (0..<u32()).map { _ in Int32(u32()) } }
            let scores = floats(candidates), grades = floats(candidates), weights = floats(candidates)
            examples.append(RerankExample(query: query, nodes: nodes, candidateCount: candidates, neighbours: links,
                                          hnswScores: scores, grades: grades, weights: weights))
        }
        train = Array(examples[0..<trainCount])
        validation = Array(examples[trainCount...])
    }
}

/// The bytes of the file at `path`; exits with a message when it cannot be opened.
func readWholeFile(_ path: String) -> [UInt8] {
    guard let handle = fopen(path, "rb") else { fail("cannot open \(path)") }
    defer { fclose(handle) }
    var bytes = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let n = fread(&chunk, 1, chunk.count, handle)
        if n <= 0 { break }
        bytes += chunk[0..<n]
    }
    return bytes
}

func fail(_ message: String) -> Never {
    print("learn-bench: \(message)")
    exit(2)
}

/// The server's gate score of `order` over `examples`: DCG@10 of the weighted gains over the mean ideal DCG, per example.
func gateScores(_ examples: [RerankExample], order: (RerankExample) -> [Int]) -> (perExample: [Double], idealMean: Double) {
    var scores = [Double](), ideal = 0.0
    for e in examples {
        let gains = e.grades!.indices.map { RankingMetrics.gain(e.grades![$0]) * Double(e.weights?[$0] ?? 1) }
        scores.append(RankingMetrics.dcg(order(e).map { gains[$0] }, k: 10))
        ideal += RankingMetrics.dcg(gains.sorted(by: >), k: 10)
    }
    return (scores, ideal / Double(max(examples.count, 1)))
}

/// Trains on the file's training examples and prints the gate per epoch; returns the process status.
func trainExamples(path: String, _ options: LearnBenchOptions) -> Int32 {
    let file = ExampleFile(path: path)
    var config = RerankConfig()
    config.neighbours = 16
    switch options.head {
    case nil: break
    case .mlp: config.head = .mlp
    case .bilinear: config.head = .bilinear
    }
    if let dropout = options.dropout { config.dropout = dropout }
    var training = TrainingConfig()
    training.epochs = options.epochs
    training.optimizer = .adam(weightDecay: 1e-4)
    training.clipNorm = options.clip
    let steps = training.epochs * ((file.train.count + training.batchSize - 1) / training.batchSize)
    let warmup = options.warmupSteps ?? min(100, max(1, steps / 10))
    training.schedule = .warmupCosine(warmupSteps: warmup, totalSteps: steps, minimumRate: 0)
    let seed = options.seed
    let model: RerankModel
    do { model = try RerankModel(config: config, dimension: file.dimension, seed: seed) } catch { fail("\(error)") }
    if options.torchBiasInit {
        // PyTorch draws Linear and GRU biases uniform in ±1/sqrt(fan in); the engine starts them at 0.
        // The output layer keeps its zeros (an untrained model is the HNSW order in both).
        var rng = SeededGenerator(seed: seed ^ 0xB1A5)
        let byName = Dictionary(uniqueKeysWithValues: model.parameters.map { ($0.name, $0) })
        for p in model.parameters where p.name.hasSuffix(".bias") && !p.name.hasPrefix("output") {
            guard let weight = byName[String(p.name.dropLast(5)) + ".weight"], weight.shape.count == 2 else { continue }
            let bound = 1 / Double(weight.shape[1]).squareRoot()
            p.value = p.value.map { _ in Float((Double(rng.next() >> 11) / Double(1 << 53) * 2 - 1) * bound) }
        }
    }
    let baseline = gateScores(file.validation) { RerankModel.order($0.hnswScores) }
    let baselineMean = baseline.perExample.reduce(0, +) / Double(baseline.perExample.count) / baseline.idealMean
    print("\(file.train.count) training, \(file.validation.count) validation examples, d=\(file.dimension), head \(config.head), "
          + "clip \(training.clipNorm), warm-up \(warmup); HNSW order's gate score \(baselineMean)")
    let order = options.batchOrder.map(readBatchOrder(path:))
    let dump = options.dump.map(ParameterDump.init(directory:))
    dump?.write(model.parameters, to: "init")
    if options.dumpStep == 1 { dump?.write(model.parameters, to: "before") }
    var stepsTaken = 0
    var trainer = Trainer(model: model, config: training, seed: options.trainerSeed ?? seed)
    trainer.train(model, examples: file.train, consolidating: false, batches: order.map { order in { order[$0] ?? [] } },
                  progress: { report in
        guard !report.isEpochEnd else { return }
        stepsTaken += 1
        guard let dump else { return }
        if stepsTaken == options.dumpStep - 1 { dump.write(model.parameters, to: "before") }
        if stepsTaken == options.dumpStep {
            dump.write(model.parameters, to: "grad", gradients: true)
            dump.write(model.parameters, to: "after")
            dump.write(text: "step \(stepsTaken)\nloss \(report.loss)\nlearning_rate \(report.learningRate)\n", to: "step.txt")
        }
    }, continueAfterEpoch: { report in
        dump?.write(model.parameters, to: "epoch\(report.epoch)")
        let scores = gateScores(file.validation) { (try? model.rerank($0)) ?? [] }
        let mean = scores.perExample.reduce(0, +) / Double(scores.perExample.count) / scores.idealMean
        let differences = zip(scores.perExample, baseline.perExample).map { ($0 - $1) / baseline.idealMean }
        let interval = RankingMetrics.bootstrapInterval(differences, seed: seed ^ 0xB007)
        print("epoch \(report.epoch) loss \(report.loss) gate \(mean) lift interval [\(interval.lower), \(interval.upper)]")
        return true
    }, isCancelled: { options.maxSteps.map { stepsTaken >= $0 } ?? false })
    return 0
}
