import ArgumentParser
import RuVectorClient

/// `ruvector collections list|create|get|delete`.
struct CollectionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collections", abstract: "List, create, describe and delete collections.",
        subcommands: [List.self, Create.self, Get.self, Delete.self])

    static func printInfo(_ info: CollectionInfo, json: Bool) {
        if json { return Terminal.printJSON(JSONForm.collection(info)) }
        let hnsw = [info.hnsw.m.map { "m=\($0)" }, info.hnsw.efConstruction.map { "ef_construction=\($0)" },
                    info.hnsw.efSearch.map { "ef_search=\($0)" }].compactMap { $0 }.joined(separator: " ")
        Terminal.printFields([
            ("name", info.name), ("dimension", String(info.dimension)), ("metric", info.metric?.rawValue ?? "unknown"),
            ("points", String(info.pointsCount)), ("index", info.indexStatus.rawValue), ("hnsw", hnsw.isEmpty ? "defaults" : hnsw),
            ("quantization", info.quantization.map(Describe.quantization) ?? "none"),
            ("memory bytes", String(info.memoryBytes)), ("disk bytes", String(info.diskBytes)),
            ("vectors", info.onDisk ? "on disk (\(info.onDiskVectorBytes) bytes mapped)" : "in memory"),
            ("graph", info.onDiskGraph ? "on disk (\(info.onDiskGraphBytes) bytes of level-0 links mapped)" : "in memory"),
            ("created", Describe.time(info.createdUnixMicros)),
            ("shards", "\(info.shards) x \(info.replicationFactor) copies"),
            ("write consistency", (info.writeConsistency?.rawValue ?? "unknown")
                + (info.writeConsistency == .semiSync ? ", min replicas \(info.minReplicas)" : "")),
        ] + (info.tiers.map { t in
            [("tiers", "hot=\(t.hot) warm=\(t.warm) cool=\(t.cool) cold=\(t.cold) archive=\(t.archive)"),
             ("tier code bytes", String(t.codeBytes)), ("re-tier passes", String(t.passes))]
        } ?? []))
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every collection.")
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let collections = try await connection.run { try await $0.listCollections() }
            if connection.json { return Terminal.printJSON(.list(collections.map(JSONForm.collection))) }
            Terminal.printTable(["NAME", "DIMENSION", "METRIC", "POINTS", "INDEX"], collections.map {
                [$0.name, String($0.dimension), $0.metric?.rawValue ?? "unknown", String($0.pointsCount), $0.indexStatus.rawValue]
            })
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a collection.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Collection name: 1-200 characters of A-Z a-z 0-9 _ -.") var name: String
        @Option(name: .long, help: "Vector length, 1-65536.") var dimension: Int
        @Option(name: .long, help: "Distance: l2, cosine, dot or manhattan.") var metric: String = "cosine"
        @Option(name: .customLong("m"), help: "HNSW links per node (server default 16).") var m: Int?
        @Option(name: .customLong("ef-construction"), help: "HNSW build candidate list (server default 200).") var efConstruction: Int?
        @Option(name: .customLong("ef-search"), help: "Default search candidate list (server default 64).") var efSearch: Int?
        @Option(name: .long, help: "Quantization: none, scalar (int8), int4, float16, pq8, pq4, binary or tiered.") var quantization: String = "none"
        @Option(name: .customLong("hot-threshold"),
                help: "Tiered: returns per million queries that make a vector hot (server default 1000).") var hotThreshold: Int?
        @Option(name: .customLong("retier-interval"),
                help: "Tiered: searches between re-tiering passes (server default 10000).") var retierInterval: Int?
        @Option(name: .long, help: "Cluster: shards, 1-1024 (default: one per member).") var shards: Int?
        @Option(name: .customLong("replication-factor"),
                help: "Cluster: copies of each shard, primary included, 1-16 (default: the cluster setting, else min(3, members)).")
        var replicationFactor: Int?
        @Option(name: .customLong("write-consistency"),
                help: "Cluster: how writes wait for replicas unless they say otherwise (default: the cluster setting, else async).")
        var writeConsistency: ReplicationMode?
        @Option(name: .customLong("min-replicas"), help: "Cluster: replicas a semi-sync write waits for (default 1).") var minReplicas: Int?
        @Flag(name: .customLong("on-disk"),
              help: "Keep full vectors in a memory-mapped file, not in memory (pair with --quantization; tiered always does).")
        var onDisk = false
        @Flag(name: .customLong("on-disk-graph"),
              help: "Keep the graph's level-0 links in a memory-mapped file too (implies --on-disk).")
        var onDiskGraph = false

        func validate() throws {
            for (option, value) in [("--shards", shards), ("--replication-factor", replicationFactor), ("--min-replicas", minReplicas)] {
                if let value, value < 0 { throw ValidationError("\(option) must not be negative") }
            }
        }

        func run() async throws {
            guard let metric = Metric(rawValue: metric) else {
                throw CLIError.exit(for: CLIError.usage("--metric must be l2, cosine, dot or manhattan, got '\(metric)'"))
            }
            let quantizations: [String: Quantization?] = [
                "none": nil, "scalar": .scalar(), "int4": .scalar(bits: 4), "float16": .float16, "pq8": .product(bits: 8), "pq4": .product(bits: 4), "binary": .binary,
                "tiered": .tiered(hotThreshold: hotThreshold, retierIntervalQueries: retierInterval),
            ]
            guard let chosen = quantizations[quantization] else {
                throw CLIError.exit(for: CLIError.usage("--quantization must be none, scalar, int4, float16, pq8, pq4, binary or tiered, got '\(quantization)'"))
            }
            if quantization != "tiered" && (hotThreshold ?? retierInterval) != nil {
                throw CLIError.exit(for: CLIError.usage("--hot-threshold and --retier-interval need --quantization tiered"))
            }
            let hnsw = (m ?? efConstruction ?? efSearch) == nil ? nil : HNSWConfig(m: m, efConstruction: efConstruction, efSearch: efSearch)
            let sharding = Sharding(shards: shards, replicationFactor: replicationFactor, writeConsistency: writeConsistency,
                                    minReplicas: minReplicas)
            let info = try await connection.run {
                try await $0.createCollection(name: name, dimension: dimension, metric: metric, hnsw: hnsw, quantization: chosen,
                                              sharding: sharding == Sharding() ? nil : sharding, onDisk: onDisk,
                                              onDiskGraph: onDiskGraph)
            }
            CollectionsCommand.printInfo(info, json: connection.json)
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Describe a collection.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Collection name.") var name: String

        func run() async throws {
            let info = try await connection.run { try await $0.collection(named: name) }
            CollectionsCommand.printInfo(info, json: connection.json)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a collection and its data.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Collection name.") var name: String

        func run() async throws {
            let deleted = try await connection.run { try await $0.deleteCollection(name) }
            if connection.json { return Terminal.printJSON(["name": .string(name), "points_deleted": .int(Int64(clamping: deleted))]) }
            print("deleted collection \(name) (\(deleted) points)")
        }
    }
}
