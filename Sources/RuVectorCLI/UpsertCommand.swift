import ArgumentParser
import RuVectorClient

/// `ruvector upsert`: imports points from a file over one UpsertStream call.
struct UpsertCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upsert",
        abstract: "Import points from a JSON-lines, .npy or .fvecs file (streamed in batches).",
        discussion: """
            JSON lines: {"id": 1, "vector": [0.1, 0.2], "payload": {"lang": "swift"}} per line. \
            .npy: a 2-D float32 array, row i gets id START-ID + i. .fvecs: int32 dimension + float32 values per record. \
            On a cluster, --consistency makes each batch wait for the replicas that mode asks for before the next \
            is sent (the streamed import's result does not count them).
            """)

    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: "Target collection.") var collection: String
    @Option(name: .long, help: "The file to import ('-' reads JSON lines from standard input).") var file: String
    @Option(name: .long, help: "jsonl, npy or fvecs (default: from the file name).") var format: String?
    @Option(name: .customLong("start-id"), help: "Id of the first row of .npy / .fvecs files.") var startID: UInt64 = 0
    @Option(name: .customLong("batch-size"), help: "Points per message, 1-10000.") var batchSize: Int = 1_000
    @Option(name: .long, help: "Acknowledgement: default, durable or accepted.") var wait: String = "default"
    @OptionGroup var replication: WriteReplicationOptions
    @Flag(name: .customLong("no-progress"), help: "No progress bar on stderr.") var noProgress = false

    func run() async throws {
        let waits: [String: WriteWait] = ["default": .collectionDefault, "durable": .durable, "accepted": .accepted]
        // Arguments and the file are checked before connecting.
        let source: VectorFile
        let writeWait: WriteWait
        do {
            guard (1...RuVectorClient.maxPointsPerCall).contains(batchSize) else {
                throw CLIError.usage("--batch-size must be 1...\(RuVectorClient.maxPointsPerCall)")
            }
            guard let chosenWait = waits[wait] else { throw CLIError.usage("--wait must be default, durable or accepted") }
            writeWait = chosenWait
            var chosenFormat: VectorFile.Format?
            if let format {
                guard let parsed = VectorFile.Format(rawValue: format) else { throw CLIError.usage("--format must be jsonl, npy or fvecs") }
                chosenFormat = parsed
            }
            source = try VectorFile(path: file, format: chosenFormat, startID: startID)
            try source.checkFvecsDimensions()
        } catch {
            throw CLIError.exit(for: error)
        }
        let result = try await connection.run { db -> UpdateResult in
            let bar = ProgressBar(total: source.count, label: "points", enabled: !noProgress)
            let result = try await db.importStream(PointBatches(file: source, batchSize: batchSize), into: collection, wait: writeWait,
                                                   consistency: replication.consistency, minReplicas: replication.minReplicas) { bar.update($0) }
            bar.finish()
            return result
        }
        if connection.json { return Terminal.printJSON(JSONForm.update(result, countsReplicas: false)) }
        print("upserted \(result.pointsAffected) points into \(collection) (sequence \(result.sequence))")
    }
}
