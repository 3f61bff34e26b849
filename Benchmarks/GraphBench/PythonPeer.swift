import Foundation

/// A peer engine, run by its Python script beside this file on the files graph-bench wrote.
/// Each script prints one `PeerResult` as JSON (graph_peer.py holds what they share).
enum PythonPeer: String, CaseIterable, Sendable {
    case sqlite, kuzu, duckdb

    /// The script that runs this peer.
    var script: String { "\(rawValue)_peer.py" }

    /// The Python packages the script imports besides the standard library.
    var packages: [String] {
        switch self {
        case .sqlite: ["numpy"]
        case .kuzu: ["numpy", "kuzu"]
        case .duckdb: ["numpy", "duckdb"]
        }
    }

    static let pipCommand = ".venv/bin/pip install -r scripts/requirements-bench.txt"
    private static let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

    /// Fails before the long run when a peer's package cannot be imported, naming the pip command.
    static func checkInstalled(_ peers: [PythonPeer]) throws {
        let modules = Set(peers.flatMap(\.packages)).sorted()
        for module in modules {
            let (status, _) = try python(["-c", "import \(module)"], quietErrors: true)
            guard status == 0 else {
                throw BenchError("the Python package '\(module)' is missing (peers \(peers.map(\.rawValue).joined(separator: ","))): "
                    + "run \(pipCommand), or leave that peer out with --peers")
            }
        }
    }

    /// Runs the script on the files in `directory`; its progress goes to our stderr.
    func run(directory: URL) throws -> PeerResult {
        let (status, output) = try Self.python([Self.here.appendingPathComponent(script).path, directory.path], quietErrors: false)
        guard status == 0 else {
            throw BenchError(status == 3 ? "\(script): a Python package is missing; run \(Self.pipCommand)"
                                         : "\(script) exited with status \(status)")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do { return try decoder.decode(PeerResult.self, from: output) } catch {
            throw BenchError("\(script) printed no result we can read (\(error)): \(String(decoding: output.prefix(500), as: UTF8.self))")
        }
    }

    /// Runs the package's `.venv` Python when there is one, else `python3`; returns the exit
    /// status and stdout.
    private static func python(_ arguments: [String], quietErrors: Bool) throws -> (Int32, Data) {
        let venvPython = here.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".venv/bin/python").path
        let process = Process()
        if FileManager.default.isExecutableFile(atPath: venvPython) {
            process.executableURL = URL(fileURLWithPath: venvPython)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3"] + arguments
        }
        // No __pycache__ beside the sources (SwiftPM would list it as an unhandled file).
        process.environment = ProcessInfo.processInfo.environment.merging(["PYTHONDONTWRITEBYTECODE": "1"]) { _, new in new }
        let pipe = Pipe()
        process.standardOutput = pipe
        if quietErrors { process.standardError = FileHandle.nullDevice }
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    /// Writes `queries.json` and `query_vectors.f32` for the peers.
    static func write(_ workload: Workload, vectors: [[Float]], to directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        try encoder.encode(workload).write(to: directory.appendingPathComponent("queries.json"))
        try GeneratedGraph.write(vectors.flatMap { $0 }, directory.appendingPathComponent("query_vectors.f32"))
    }
}
