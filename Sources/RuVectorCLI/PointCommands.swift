import ArgumentParser
import RuVectorClient

/// `ruvector count`: how many points, optionally matching a filter.
struct CountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "count", abstract: "Count the points of a collection.")
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: "Collection.") var collection: String
    @Option(name: .long, help: "Only points matching this JSON filter.") var filter: String?
    @OptionGroup var read: ReadFromOptions

    func run() async throws {
        let count = try await connection.run { db in
            try await db.count(in: collection, filter: try filter.map(FilterOption.parse), readFrom: read.readFrom)
        }
        if connection.json { return Terminal.printJSON(["count": .int(Int64(clamping: count))]) }
        print(count)
    }
}

/// `ruvector get`: points by id.
struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Read points by id.")
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: "Collection.") var collection: String
    @Option(name: .long, help: "A point id (repeat for several).") var id: [UInt64]
    @Flag(name: .customLong("with-vectors"), help: "Show vectors.") var withVectors = false
    @Option(name: .customLong("payload-key"), help: "Show only this payload key (repeatable).") var payloadKeys: [String] = []
    @OptionGroup var read: ReadFromOptions

    func run() async throws {
        let points = try await connection.run { db in
            guard !id.isEmpty else { throw CLIError.usage("give at least one --id") }
            return try await db.get(id.map { .num($0) }, from: collection, withVectors: withVectors, payloadKeys: payloadKeys,
                                    readFrom: read.readFrom)
        }
        if connection.json { return Terminal.printJSON(.list(points.map(JSONForm.point))) }
        var header = ["ID", "PAYLOAD"]
        if withVectors { header.append("VECTOR") }
        Terminal.printTable(header, points.map { point in
            var row = [point.id.description, Describe.payload(point.payload)]
            if withVectors { row.append(JSONForm.vector(point.vector ?? []).jsonText) }
            return row
        })
    }
}

/// `ruvector delete`: points by id or by filter.
struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete points by id or by filter.")
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: "Collection.") var collection: String
    @Option(name: .long, help: "A point id (repeat for several).") var id: [UInt64] = []
    @Option(name: .long, help: "Delete every point matching this JSON filter.") var filter: String?
    @OptionGroup var replication: WriteReplicationOptions

    func run() async throws {
        let (consistency, minReplicas) = (replication.consistency, replication.minReplicas)
        let result = try await connection.run { db -> UpdateResult in
            switch (id.isEmpty, filter) {
            case (false, nil):
                return try await db.delete(ids: id.map { .num($0) }, from: collection, consistency: consistency, minReplicas: minReplicas)
            case (true, let text?):
                return try await db.delete(filter: try FilterOption.parse(text), from: collection, consistency: consistency,
                                           minReplicas: minReplicas)
            default: throw CLIError.usage("give --id (one or more) or --filter, not both")
            }
        }
        if connection.json { return Terminal.printJSON(JSONForm.update(result)) }
        let replicas = consistency != nil || result.replicasAcknowledged > 0 ? " (\(result.replicasAcknowledged) replicas acknowledged)" : ""
        print("deleted \(result.pointsAffected) points from \(collection)\(replicas)")
    }
}
