// route-bench: FastGRNN on a data set the Python driver exports (digits_peer.py runs it beside a
// PyTorch GRU), and the cost of one routing decision.
//   swift build -c release --product route-bench
//   .build/release/route-bench digits --train T.csv --test T.csv --hidden 32 [--w-rank R] [--u-rank R]
//       [--epochs 30] [--threshold-epochs 10] [--retrain-epochs 10] [--keep 0.3] [--lr 0.01] [--seed 1]
//   .build/release/route-bench latency [--iterations 20000]
//   .build/release/route-bench workload [--history 4000] [--hidden 16] [--epochs 20] [--seeds 1,2,3]
//   .build/release/route-bench help digits       (every option of a subcommand, with its default)
// digits and latency print one JSON object; workload a markdown table, then its JSON. Timings use the monotonic clock here, in the benchmark only.
import Foundation
import LearnEngine
import RouteEngine

func nowNanos() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// Rows of `label,pixel,...` (pixels already scaled by the driver).
func readCSV(_ path: String, timeSteps: Int, inputs: Int) throws -> LabelledSequences<Float> {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    var features = [Float](), labels = [Int]()
    for line in text.split(separator: "\n") where !line.isEmpty {
        let fields = line.split(separator: ",")
        guard fields.count == 1 + timeSteps * inputs, let label = Int(fields[0]) else {
            throw LearnError(.invalidExample, "\(path): a row has \(fields.count) fields")
        }
        labels.append(label)
        for f in fields.dropFirst() { features.append(Float(f) ?? .nan) }
    }
    return LabelledSequences(features: features, labels: labels)
}

func percentile(_ xs: [Double], _ p: Double) -> Double {
    let s = xs.sorted()
    return s[min(s.count - 1, Int(Double(s.count - 1) * p))]
}

func printJSON(_ object: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

func digits(_ o: RouteBench.Digits) throws {
    let config = FastGRNNConfig(inputs: 8, classes: 10, hidden: o.hidden, timeSteps: 8, wRank: o.wRank, uRank: o.uRank)
    let train = try readCSV(o.trainPath, timeSteps: 8, inputs: 8), test = try readCSV(o.testPath, timeSteps: 8, inputs: 8)
    let seed = o.seed
    var settings = FastGRNNTrainingConfig()
    settings.denseEpochs = o.epochs
    settings.learningRate = o.learningRate
    settings.batchSize = o.batchSize

    // f32: stage 1 only.
    let dense = try FastGRNNNetwork<Float>(config: config, seed: seed)
    var trainer = try FastGRNNTrainer(network: dense, config: settings, seed: seed)
    let start = nowNanos()
    _ = try trainer.train(dense, data: train)
    let denseSeconds = Double(nowNanos() - start) / 1e9
    let denseModel = FastGRNNModel(dense)

    // Three stages from the same seed: the same stage 1, then hard thresholding and sparse retraining.
    settings.hardThresholdEpochs = o.thresholdEpochs
    settings.sparseRetrainEpochs = o.retrainEpochs
    settings.keepFraction = o.keepFraction
    let sparse = try FastGRNNNetwork<Float>(config: config, seed: seed)
    var sparseTrainer = try FastGRNNTrainer(network: sparse, config: settings, seed: seed)
    _ = try sparseTrainer.train(sparse, data: train)
    let sparseModel = FastGRNNModel(sparse), int8Model = sparseModel.quantized()
    let int8Dense = denseModel.quantized()

    let examplesTrained = Double(train.count * settings.denseEpochs)
    printJSON([
        "hidden": config.hidden, "w_rank": config.wRank ?? 0, "u_rank": config.uRank ?? 0,
        "train": train.count, "test": test.count, "epochs": settings.denseEpochs,
        "threshold_epochs": settings.hardThresholdEpochs, "retrain_epochs": settings.sparseRetrainEpochs,
        "keep": settings.keepFraction,
        "f32_accuracy": denseModel.accuracy(test), "f32_bytes": denseModel.serialisedByteCount,
        "int8_dense_accuracy": int8Dense.accuracy(test), "int8_dense_bytes": int8Dense.serialisedByteCount,
        "sparse_f32_accuracy": sparseModel.accuracy(test),
        "sparse_int8_accuracy": int8Model.accuracy(test), "sparse_int8_bytes": int8Model.serialisedByteCount,
        "nonzero_weights": int8Model.nonZeroWeights, "weights": denseModel.nonZeroWeights,
        "train_seconds": denseSeconds, "train_examples_per_second": examplesTrained / denseSeconds,
    ])
}

/// p50 and p99 of one `Router.route` (model, conformal set, breakers, policy) per shape.
func latency(iterations: Int) throws {
    let candidates = (0..<4).map { RouteCandidate(name: "c\($0)", costPerRequest: Double($0 + 1), latencyMillis: 100,
                                                  quality: Double($0)) }
    var rows = [[String: Any]]()
    for (hidden, wRank, uRank) in [(16, nil, nil), (32, nil, nil), (64, nil, nil), (64, 4, 16)] as [(Int, Int?, Int?)] {
        let config = FastGRNNConfig(inputs: 8, classes: 4, hidden: hidden, timeSteps: 8, wRank: wRank, uRank: uRank)
        let network = try FastGRNNNetwork<Float>(config: config, seed: 3)
        for (name, model) in [("f32", FastGRNNModel(network)), ("int8", FastGRNNModel(network).quantized())] {
            var router = try Router(candidates: candidates, model: model)
            var rng = SeededGenerator(seed: 5)
            let calibration = LabelledSequences<Float>(features: (0..<(200 * 64)).map { _ in Float(rng.nextGaussian()) },
                                                       labels: (0..<200).map { $0 % 4 })
            try router.calibrate(alpha: 0.1, heldOut: calibration)
            let inputs = (0..<64).map { _ in (0..<64).map { _ in Float(rng.nextGaussian()) } }
            var times = [Double](), chosen = 0
            for i in 0..<(iterations + 1000) {
                let t0 = nowNanos()
                let d = try router.route(inputs[i % 64], nowMillis: Int64(i))
                let t1 = nowNanos()
                chosen &+= d.chosen ?? 0
                if i >= 1000 { times.append(Double(t1 - t0) / 1000) }
            }
            rows.append(["hidden": hidden, "w_rank": wRank ?? 0, "u_rank": uRank ?? 0, "precision": name,
                         "p50_micros": percentile(times, 0.5), "p99_micros": percentile(times, 0.99), "checksum": chosen])
        }
    }
    printJSON(["iterations": iterations, "rows": rows])
}

RouteBench.main()
