import ArgumentParser
import RuVectorClient

/// `ruvector learn feedback|status|configure|train|export|import`: LearnService from the shell.
struct LearnCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "learn", abstract: "Record ranking feedback, train a collection's re-ranker, and move models between servers.",
        subcommands: [Feedback.self, Status.self, Configure.self, Train.self, Export.self, Import.self])

    static func printStatus(_ status: ModelStatus, json: Bool) {
        if json {
            return Terminal.printJSON([
                "version": .int(Int64(clamping: status.version)), "latest_version": .int(Int64(clamping: status.latestVersion)),
                "activated": .bool(status.activated), "feedback_records": .int(Int64(clamping: status.feedbackRecords)),
                "baseline_ndcg_at_10": .double(Double(status.baselineNDCGAt10)), "model_ndcg_at_10": .double(Double(status.modelNDCGAt10)),
                "hidden_size": .int(Int64(status.hiddenSize)), "heads": .int(Int64(status.heads)),
                "batch_size": .int(Int64(status.batchSize)), "note": .string(status.note),
            ])
        }
        Terminal.printTable(["VERSION", "LATEST", "ACTIVATED", "FEEDBACK", "NDCG@10 BASE/MODEL", "HIDDEN", "HEADS", "BATCH", "NOTE"], [[
            String(status.version), String(status.latestVersion), String(status.activated), String(status.feedbackRecords),
            "\(status.baselineNDCGAt10)/\(status.modelNDCGAt10)", String(status.hiddenSize), String(status.heads),
            String(status.batchSize), status.note,
        ]])
    }

    struct Feedback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record which results of a query were relevant (the query as a point id or a JSON vector).")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .long, help: "Collection.") var collection: String
        @Option(name: .customLong("query-id"), help: "A point whose vector is the query.") var queryID: UInt64?
        @Option(name: .long, help: "The query vector as JSON, e.g. [0.1,0.2].") var query: String?
        @Option(name: .long, help: "A result id in the order shown (repeat).") var shown: [UInt64] = []
        @Option(name: .long, help: "A clicked id (grade 1; repeat).") var click: [UInt64] = []
        @Option(name: .long, help: "ID=GRADE, grade 0..10 (repeat).") var grade: [String] = []

        func run() async throws {
            let held = try await connection.run { db in
                // Parsed inside `run`, so a bad argument exits with the usage status.
                var judgements: [PointID: Int] = Dictionary(click.map { (PointID.num($0), 1) }, uniquingKeysWith: { first, _ in first })
                for item in grade {
                    let parts = item.split(separator: "=")
                    guard parts.count == 2, let id = UInt64(parts[0]), let value = Int(parts[1]) else {
                        throw CLIError.usage("--grade takes ID=GRADE, e.g. --grade 7=3; got \(item)")
                    }
                    judgements[.num(id)] = value
                }
                let vector = try query.map { try SearchCommand.vector(json: $0, option: "--query") }
                return try await db.recordFeedback(in: collection, query: vector, queryID: queryID.map { .num($0) },
                                                   shown: shown.map { .num($0) }, judgements: judgements)
            }
            if connection.json { return Terminal.printJSON(["feedback_records": .int(Int64(clamping: held))]) }
            print("recorded; \(collection) holds \(held) feedback records")
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a collection's model status and settings.")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .long, help: "Collection.") var collection: String

        func run() async throws {
            let status = try await connection.run { try await $0.modelStatus(of: collection) }
            LearnCommand.printStatus(status, json: connection.json)
        }
    }

    struct Configure: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a collection's model settings (unset: server default).")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .long, help: "Collection.") var collection: String
        @Option(name: .customLong("hidden-size"), help: "Hidden width (default 128).") var hiddenSize: Int?
        @Option(name: .long, help: "Attention heads (default 4).") var heads: Int?
        @Option(name: .customLong("batch-size"), help: "Examples per step (default 32).") var batchSize: Int?
        @Option(name: .customLong("retrain-every"), help: "Retrain after every N feedback records (0 = off).") var retrainEvery: Int?

        func run() async throws {
            let status = try await connection.run {
                try await $0.configureModel(of: collection, hiddenSize: hiddenSize, heads: heads, batchSize: batchSize,
                                            retrainEvery: retrainEvery)
            }
            LearnCommand.printStatus(status, json: connection.json)
        }
    }

    struct Train: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train on the feedback recorded since the last run, showing progress; Ctrl-C cancels the run.")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .long, help: "Collection.") var collection: String
        @Option(name: .long, help: "Passes over the feedback (0 = 10).") var epochs: Int = 0
        @Option(name: .long, help: "Seed (a run is deterministic for a seed).") var seed: UInt64 = 0

        func run() async throws {
            let json = connection.json
            let status = try await connection.run { db in
                try await db.train(collection, epochs: epochs, seed: seed) { progress in
                    guard !json, progress.heldOutNDCGAt10 > 0, !progress.done else { return }
                    print("epoch \(progress.epoch)  step \(progress.step)  loss \(progress.loss)  lr \(progress.learningRate)  "
                          + "held-out nDCG@10 \(progress.heldOutNDCGAt10)")
                }
            }
            LearnCommand.printStatus(status, json: json)
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a collection's active model to a file.")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .long, help: "Collection.") var collection: String
        @Option(name: .long, help: "The file to write.") var output: String

        func run() async throws {
            let model = try await connection.run { try await $0.exportModel(of: collection) }
            try LocalFile.write(model, to: output)
            if connection.json { return Terminal.printJSON(["bytes": .int(Int64(model.count)), "path": .string(output)]) }
            print("wrote the model of \(collection) (\(model.count) bytes) to \(output)")
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Upload a model file (from export) and activate it for a collection.")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .long, help: "Collection.") var collection: String
        @Option(name: .long, help: "The model file.") var input: String

        func run() async throws {
            let bytes = try LocalFile.read(input)
            let status = try await connection.run { try await $0.importModel(bytes, into: collection) }
            LearnCommand.printStatus(status, json: connection.json)
        }
    }
}
