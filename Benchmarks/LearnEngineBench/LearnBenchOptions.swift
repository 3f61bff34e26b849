import ArgumentParser

/// learn-bench's command line. main.swift is a script, so it parses these options first
/// (`parseOrExit()`: `--help` exits 0, a bad value exits 64). Without `--train-examples` it times
/// the re-ranker; the other options only shape that training mode.
struct LearnBenchOptions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "learn-bench",
        abstract: "Re-ranker forward cost and training throughput; with --train-examples, training on exported examples.")

    /// The re-ranker's scoring head (`RerankConfig.head`).
    enum Head: String, CaseIterable, ExpressibleByArgument {
        case mlp, bilinear
    }

    @Option(help: "Train on the examples Benchmarks/LearnBench/export_examples.py wrote, printing each epoch's gate score.")
    var trainExamples: String?

    @Option(help: "Scoring head (training mode); the engine's default when absent.")
    var head: Head?

    @Option(help: "Training epochs (training mode).")
    var epochs = 12

    @Option(help: "Gradient clipping norm; 0 turns clipping off (training mode).")
    var clip = 5.0

    @Option(name: .customLong("warmup"), help: "Warm-up steps of the cosine schedule; default min(100, steps / 10) (training mode).")
    var warmupSteps: Int?

    @Option(help: "Seed of the model's initial weights (training mode).")
    var seed: UInt64 = 1

    @Option(help: "Seed of the trainer (its shuffle and dropout masks); --seed when absent (training mode).")
    var trainerSeed: UInt64?

    @Flag(help: "Start the biases as PyTorch does, uniform in ±1/sqrt(fan in), instead of 0 (training mode).")
    var torchBiasInit = false

    @Option(help: "Dropout rate; the engine's default (0.1) when absent (training mode).")
    var dropout: Double?

    @Option(help: "Batches to train on instead of the seeded shuffle: one per line, \"epoch index index ...\" (training mode).")
    var batchOrder: String?

    @Option(help: "Write the initial parameters, the first step's gradients and parameters and each epoch's parameters as .npy under this directory (training mode).")
    var dump: String?

    @Option(help: "With --dump: the step whose parameters before it, gradient and parameters after it are written (1-based; training mode).")
    var dumpStep = 1

    @Option(help: "Stop after this many optimiser steps (training mode).")
    var maxSteps: Int?

    @Flag(help: "With --train-examples: split the file's examples again as the server does and print each gate rule's verdict (GateStudy.swift).")
    var gateStudy = false

    @Option(help: "Gate study: the share of queries held out (the server's holdout_fraction).")
    var holdout = 0.1

    @Option(help: "Gate study: cross-fit over this many folds instead of one hold-out (1 = one hold-out).")
    var folds = 1

    @Option(help: "Gate study: the examination exponent the clicks were made with; the weights are rank^eta (0: none).")
    var eta = 1.0

    /// Epochs without a better gate score before a run stops (the server's `LearnTraining.patienceEpochs`).
    static let patienceEpochs = 5

    func validate() throws {
        guard epochs > 0, clip >= 0, (warmupSteps ?? 1) > 0, (maxSteps ?? 1) > 0, dumpStep > 0 else {
            throw ValidationError("--epochs, --warmup, --max-steps and --dump-step must be at least 1, --clip at least 0")
        }
        guard holdout > 0, holdout < 1, folds >= 1, eta >= 0 else {
            throw ValidationError("--holdout must be in (0, 1), --folds at least 1, --eta at least 0")
        }
        guard (dropout ?? 0) >= 0, (dropout ?? 0) < 1 else { throw ValidationError("--dropout must be in [0, 1)") }
    }
}
