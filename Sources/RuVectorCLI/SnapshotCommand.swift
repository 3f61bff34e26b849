import ArgumentParser
import RuVectorClient

/// `ruvector snapshot create|list|download|restore`.
struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot", abstract: "Create, list, download and restore collection snapshots.",
        subcommands: [Create.self, List.self, Download.self, Restore.self])

    static func printSnapshots(_ snapshots: [SnapshotInfo], json: Bool) {
        if json { return Terminal.printJSON(.list(snapshots.map(JSONForm.snapshot))) }
        Terminal.printTable(["NAME", "SIZE", "CREATED", "WAL SEQUENCE", "CRC32C"], snapshots.map {
            [$0.name, String($0.sizeBytes), Describe.time($0.createdUnixMicros), String($0.walSequence), String($0.crc32c, radix: 16)]
        })
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a snapshot of a collection on the server.")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .long, help: "Collection.") var collection: String

        func run() async throws {
            let info = try await connection.run { try await $0.createSnapshot(of: collection) }
            SnapshotCommand.printSnapshots([info], json: connection.json)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a collection's snapshots, newest first.")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .long, help: "Collection.") var collection: String

        func run() async throws {
            let snapshots = try await connection.run { try await $0.listSnapshots(of: collection) }
            SnapshotCommand.printSnapshots(snapshots, json: connection.json)
        }
    }

    struct Download: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Download a snapshot file (size and CRC32C verified).")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .long, help: "Collection.") var collection: String
        @Option(name: .long, help: "Snapshot name (from snapshot list).") var name: String
        @Option(name: .long, help: "Where to write the file.") var output: String

        func run() async throws {
            let bytes = try await connection.run { try await $0.downloadSnapshot(name, of: collection, to: output) }
            if connection.json {
                return Terminal.printJSON(["name": .string(name), "path": .string(output), "size_bytes": .int(Int64(clamping: bytes))])
            }
            print("downloaded \(name) to \(output) (\(bytes) bytes)")
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a collection's content with a snapshot (created if absent).")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .long, help: "Collection to restore into.") var collection: String
        @Option(name: .long, help: "A snapshot of this collection on the server.") var name: String?
        @Option(name: .long, help: "A snapshot file to upload.") var file: String?

        func run() async throws {
            let info = try await connection.run { db -> CollectionInfo in
                switch (name, file) {
                case (let name?, nil): return try await db.restoreSnapshot(named: name, into: collection)
                case (nil, let file?): return try await db.restoreSnapshot(fromFile: file, into: collection)
                default: throw CLIError.usage("give exactly one of --name and --file")
                }
            }
            if !connection.json { print("restored \(collection)") }
            CollectionsCommand.printInfo(info, json: connection.json)
        }
    }
}
