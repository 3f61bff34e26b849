import ArgumentParser

/// graph-bench's command line. main.swift is a script whose helpers read its globals, so it
/// parses these options first (`parseOrExit()`: `--help` exits 0, a bad value exits 64).
struct GraphBenchOptions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph-bench",
        abstract: "Cypher queries and hybrid search of our graph engine beside SQLite, Kuzu and DuckDB (the *_peer.py scripts), same graph, answers compared.")

    @Option(help: "Person nodes in the generated graph.")
    var nodes = 1_000_000

    @Option(help: "Relationships between them.")
    var relationships = 5_000_000

    @Option(help: "Start nodes for the k-hop expansions, and hybrid search queries.")
    var queries = 200

    @Option(name: .customLong("dim"), help: "Dimension of the :Doc vectors.")
    var dimension = 64

    @Option(help: "Nodes that are also :Doc with a vector (1...nodes; default min(100000, nodes / 10)).")
    var docs: Int?

    @Option(help: "MATCH-with-filter scans (default min(10, queries)).")
    var scanQueries: Int?

    @Option(help: "Timed rounds per query set; the fastest is kept, as the peer does.")
    var rounds = 3

    @Option(help: "Shortest-path pairs (default min(50, queries)): each search may visit thousands of nodes.")
    var shortestQueries: Int?

    @Option(help: "Peers to run beside ours, comma-separated, from sqlite, kuzu, duckdb.")
    var peers = "sqlite,kuzu,duckdb"

    @Flag(help: "Run our queries in the clause interpreter instead of the planner (to compare the two).")
    var interpreter = false

    @Option(help: "Threads one of our queries may use (GraphDatabase.queryThreads; default: the machine's cores).")
    var queryThreads: Int?

    @Option(help: "Seed of the generated graph and queries.")
    var seed: UInt64 = 2026

    /// --docs, or its default for this many nodes.
    var docCount: Int { docs ?? min(100_000, nodes / 10) }

    /// --scan-queries, or its default for this many queries.
    var scanQueryCount: Int { scanQueries ?? min(10, queries) }

    /// --shortest-queries, or its default.
    var shortestQueryCount: Int { shortestQueries ?? min(50, queries) }

    /// --peers as engines, in the order given, each once.
    var peerList: [PythonPeer] {
        var seen: [PythonPeer] = []
        for name in peers.split(separator: ",") {
            if let peer = PythonPeer(rawValue: name.trimmingCharacters(in: .whitespaces).lowercased()), !seen.contains(peer) { seen.append(peer) }
        }
        return seen
    }

    func validate() throws {
        let names = peers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard !names.isEmpty, names.allSatisfy({ PythonPeer(rawValue: $0) != nil }) else {
            throw ValidationError("--peers takes a comma-separated list from \(PythonPeer.allCases.map(\.rawValue).joined(separator: ",")); got '\(peers)'")
        }
        guard shortestQueryCount > 0 else { throw ValidationError("--shortest-queries must be at least 1") }
        guard queryThreads.map({ $0 >= 1 }) ?? true else { throw ValidationError("--query-threads must be at least 1") }
        guard nodes > 0, relationships >= 0, queries > 0, dimension > 0, rounds > 0, scanQueryCount >= 0 else {
            throw ValidationError("--nodes, --queries, --dim and --rounds must be at least 1, --relationships and --scan-queries at least 0")
        }
        guard docCount > 0, docCount <= nodes else {
            throw ValidationError("--docs must be within 1...\(nodes) (the default is nodes / 10, at most 100000)")
        }
    }
}
