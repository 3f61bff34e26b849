import ArgumentParser
import BenchmarkArguments

/// route-bench's command line: one subcommand per measurement (main.swift runs it).
struct RouteBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "route-bench",
        abstract: "FastGRNN accuracy and size on load_digits, routing-decision latency, and a simulated routing workload.",
        subcommands: [Digits.self, Latency.self, Workload.self])
}

extension RouteBench {
    /// `route-bench digits`: trains FastGRNN on the split digits_peer.py exported; prints one JSON object.
    struct Digits: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train FastGRNN (dense, then three-stage sparse, then int8) on an exported split; print JSON.")

        @Option(name: .customLong("train"), help: "Training rows: label,pixel,... (64 pixels, already scaled).")
        var trainPath: String

        @Option(name: .customLong("test"), help: "Test rows, same format.")
        var testPath: String

        @Option(help: "Hidden units.")
        var hidden = 32

        @Option(help: "Rank of W (low-rank input weights); full rank when absent.")
        var wRank: Int?

        @Option(help: "Rank of U (low-rank recurrent weights); full rank when absent.")
        var uRank: Int?

        @Option(help: "Dense training epochs (stage 1).")
        var epochs = 30

        @Option(help: "Hard-thresholding epochs (stage 2).")
        var thresholdEpochs = 10

        @Option(help: "Sparse retraining epochs (stage 3).")
        var retrainEpochs = 10

        @Option(name: .customLong("keep"), help: "Fraction of weights kept by thresholding, in (0, 1].")
        var keepFraction = 0.3

        @Option(name: .customLong("lr"), help: "Adam learning rate.")
        var learningRate = 0.01

        @Option(name: .customLong("batch"), help: "Examples per mini-batch.")
        var batchSize = 32

        @Option(help: "Seed of the initial weights and the shuffles.")
        var seed: UInt64 = 1

        func validate() throws {
            guard hidden > 0, (wRank ?? 1) > 0, (uRank ?? 1) > 0, epochs > 0, thresholdEpochs >= 0, retrainEpochs >= 0,
                  batchSize > 0, learningRate > 0 else {
                throw ValidationError("--hidden, ranks, --epochs, --batch and --lr must be positive, the other epochs at least 0")
            }
            guard keepFraction > 0, keepFraction <= 1 else { throw ValidationError("--keep must be in (0, 1]") }
        }

        func run() throws { try digits(self) }
    }

    /// `route-bench latency`: p50 and p99 of one routing decision per model shape; prints JSON.
    struct Latency: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "p50 and p99 of one Router.route per model shape (f32 and int8); print JSON.")

        @Option(help: "Timed decisions per shape (after 1000 warm-up ones).")
        var iterations = 20_000

        func validate() throws {
            guard iterations > 0 else { throw ValidationError("--iterations must be at least 1") }
        }

        func run() throws { try latency(iterations: iterations) }
    }

    /// `route-bench workload`: the simulated routing workload; a markdown table, then JSON.
    struct Workload: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cost saved and APGR on a simulated routing workload, per seed; a markdown table, then JSON.")

        @Option(name: .customLong("history"), help: "Logged requests the model learns from (a fifth calibrates).")
        var historyCount = 4000

        @Option(help: "Hidden units.")
        var hidden = 16

        @Option(help: "Training epochs.")
        var epochs = 20

        @Option(help: "Seeds, comma-separated: one run and one table row each.")
        var seeds = CommaSeparated<UInt64>([1, 2, 3])

        func validate() throws {
            guard historyCount > 0, hidden > 0, epochs > 0, !seeds.values.isEmpty else {
                throw ValidationError("--history, --hidden and --epochs must be at least 1, --seeds needs a seed")
            }
        }

        func run() throws { try workload(self) }
    }
}
