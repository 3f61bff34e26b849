import ArgumentParser
import BenchmarkArguments

/// search-rpc-bench's command line (bench_search.py passes every option). main.swift is a script,
/// so it parses these first (`parseOrExit()`: `--help` exits 0, a bad value exits 64).
struct SearchRPCBenchOptions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search-rpc-bench",
        abstract: "VectorService/Search latency over one HTTP/2 connection beside the server's own search time (bench_search.py drives it).")

    /// Where the calling tasks run.
    enum Callers: String, CaseIterable, ExpressibleByArgument {
        /// Swift's global pool.
        case pool
        /// The channel's event loop (`GRPCChannel.executor`).
        case loop
    }

    @Option(help: "Server address.")
    var host = "127.0.0.1"

    @Option(help: "Server port.")
    var port = 50051

    @Option(help: "Collection searched.")
    var collection = "bench"

    @Option(name: .customLong("queries"), help: "Query vectors: little-endian float32, --dim values each.")
    var queriesPath: String

    @Option(name: .customLong("dim"), help: "Query dimension.")
    var dimension: Int

    @Option(help: "Hits per search.")
    var k = 10

    @Option(help: "Search ef; 0 leaves the collection's own.")
    var ef = 0

    @Option(help: "Times the query set is sent at each concurrency.")
    var rounds = 3

    @Option(name: .customLong("concurrency"), help: "Concurrent calling tasks, comma-separated: one measurement each.")
    var concurrencyList = CommaSeparated<Int>([1, 8])

    @Option(help: "File the warm-up pass's hit ids are written to (uint64, k per query), for recall.")
    var idsOut = ""

    @Option(help: "Where the calling tasks run: pool (Swift's global pool) or loop (the channel's event loop).")
    var callers = Callers.pool

    /// The concurrencies measured, in order.
    var concurrency: [Int] { concurrencyList.values }

    /// Whether the calling tasks prefer the channel's event loop.
    var callersOnLoop: Bool { callers == .loop }

    func validate() throws {
        guard dimension > 0, k > 0, ef >= 0, rounds > 0, (1...65535).contains(port) else {
            throw ValidationError("--dim, --k and --rounds must be at least 1, --ef at least 0, --port within 1...65535")
        }
        guard !concurrency.isEmpty, concurrency.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--concurrency needs one or more positive counts")
        }
    }
}
