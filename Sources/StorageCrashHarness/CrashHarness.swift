#if canImport(Glibc)
import Glibc
#endif
import Storage
import VectorDatabase
import VectorEngine

/// `ruvector-storage-crash-harness DIR FIRST_ID`: upserts points with ids FIRST_ID,
/// FIRST_ID+1, ... into the durable collection in DIR (created on first run; WAL policy
/// `always`, a snapshot every 200 points), printing `ACK <id>` on stdout after each upsert
/// returned, until it is killed. The crash test kills it at random moments and checks that
/// every acknowledged point survived with its exact vector and payload.
@main
struct CrashHarness {
    static let dimension = 8

    /// The point stored for `id` (the crash test recomputes it to compare).
    static func point(_ id: UInt64) -> VectorPoint {
        let vector = (0..<dimension).map { Float(Int64(id &* 2654435761 &+ UInt64($0) &* 40503) % 1000) / 1000 }
        return VectorPoint(id: id, vector: vector, payload: ["id": .int(Int64(id)), "tag": .string("p\(id % 7)")])
    }

    static func main() {
        let arguments = CommandLine.arguments
        guard arguments.count == 3, let first = UInt64(arguments[2]) else {
            print("usage: ruvector-storage-crash-harness DIR FIRST_ID")
            exit(2)
        }
        do {
            let directory = arguments[1]
            let config = CollectionConfig(name: "crash", dimension: dimension, metric: .l2Squared,
                                          hnsw: HNSWParameters(m: 8, efConstruction: 32, efSearch: 32))
            let db = AtomicFile.exists(directory + "/collection.bin")
                ? try DurableCollection.open(directory) : try DurableCollection.create(in: directory, config: config)
            var id = first
            while true {
                try db.upsert([point(id)])
                let line = Array("ACK \(id)\n".utf8)
                _ = line.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
                if id % 200 == 0 { try db.snapshot() }
                id += 1
            }
        } catch {
            let line = Array("ERROR \(error)\n".utf8)
            _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
            exit(1)
        }
    }
}
