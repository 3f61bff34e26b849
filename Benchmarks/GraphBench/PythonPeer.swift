import Foundation

/// The query inputs both engines run (`queries.json` beside the graph files; the hybrid
/// search vectors are in `query_vectors.f32`).
struct Workload: Codable {
    var dimension: Int
    var warmup: Int
    /// Timed passes over each query set; the fastest counts.
    var rounds: Int
    /// Start nodes of the k-hop and neighbour-filter queries.
    var starts: [Int]
    var hops: [Int]
    var neighbourMinAge: Int
    /// Ages counted by the property-filter query.
    var scanAges: [Int]
    var k: Int
    var hybridMinAge: Int
    var hybridQueries: Int
}

/// What `sqlite_peer.py` prints: its load times and, per query set, answers and latencies.
struct PeerResult: Codable {
    var sqliteVersion: String
    var vectorScan: String
    var loadSeconds: Double
    var vectorLoadSeconds: Double
    var kHop: [String: Timed<Int>]
    var neighbours: Timed<[String]>
    var ageCount: Timed<Int>
    var hybrid: Timed<[HybridAnswer]>
}

enum SQLitePeer {
    /// Runs `sqlite_peer.py` on the files in `directory` with the package's `.venv` Python
    /// when there is one, else `python3`; its progress goes to our stderr.
    static func run(directory: URL) throws -> PeerResult {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        let script = here.appendingPathComponent("sqlite_peer.py").path
        let venvPython = here.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".venv/bin/python").path
        let process = Process()
        if FileManager.default.isExecutableFile(atPath: venvPython) {
            process.executableURL = URL(fileURLWithPath: venvPython)
            process.arguments = [script, directory.path]
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", script, directory.path]
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchError("sqlite_peer.py exited with status \(process.terminationStatus)") }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do { return try decoder.decode(PeerResult.self, from: output) } catch {
            throw BenchError("sqlite_peer.py printed no result we can read (\(error)): \(String(decoding: output.prefix(500), as: UTF8.self))")
        }
    }

    static func write(_ workload: Workload, vectors: [[Float]], to directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        try encoder.encode(workload).write(to: directory.appendingPathComponent("queries.json"))
        try GeneratedGraph.write(vectors.flatMap { $0 }, directory.appendingPathComponent("query_vectors.f32"))
    }
}
