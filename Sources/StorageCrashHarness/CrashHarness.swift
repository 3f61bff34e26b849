#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Storage
import VectorDatabase
import VectorEngine

/// `ruvector-storage-crash-harness DIR FIRST_ID`: upserts points with ids FIRST_ID,
/// FIRST_ID+1, ... into the durable collection in DIR (created on first run; WAL policy
/// `always`, a snapshot every 200 points), printing `ACK <id>` on stdout after each upsert
/// returned, until it is killed (a usage error exits 64, a storage error 1). The crash test
/// kills it at random moments and checks that every acknowledged point survived with its exact
/// vector and payload.
@main
struct CrashHarness: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ruvector-storage-crash-harness",
        abstract: "Upserts points into a durable collection, printing ACK <id> after each, until killed (the crash test's writer).")

    static let dimension = 8

    @Argument(help: "Collection folder (created on the first run, reopened after a kill).")
    var directory: String

    @Argument(help: "Id of the first point written; the next ones follow it.")
    var firstID: UInt64

    /// The point stored for `id` (the crash test recomputes it to compare).
    static func point(_ id: UInt64) -> VectorPoint {
        let vector = (0..<dimension).map { Float(Int64(id &* 2654435761 &+ UInt64($0) &* 40503) % 1000) / 1000 }
        return VectorPoint(id: id, vector: vector, payload: ["id": .int(Int64(id)), "tag": .string("p\(id % 7)")])
    }

    func run() throws {
        do {
            let config = CollectionConfig(name: "crash", dimension: Self.dimension, metric: .l2Squared,
                                          hnsw: HNSWParameters(m: 8, efConstruction: 32, efSearch: 32))
            let db = AtomicFile.exists(directory + "/collection.bin")
                ? try DurableCollection.open(directory) : try DurableCollection.create(in: directory, config: config)
            var id = firstID
            while true {
                try db.upsert([Self.point(id)])
                let line = Array("ACK \(id)\n".utf8)
                _ = line.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
                if id % 200 == 0 { try db.snapshot() }
                id += 1
            }
        } catch {
            let line = Array("ERROR \(error)\n".utf8)
            _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
            throw ExitCode.failure
        }
    }
}
