import ArgumentParser

/// raft-bench's command line. main.swift is a script whose helpers read its globals, so it
/// parses these options first (`parseOrExit()`: `--help` exits 0, a bad value exits 64) and runs on.
struct RaftBenchOptions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "raft-bench",
        abstract: "Throughput, commit latency and allocations of the pure Raft state machine (3 and 5 nodes, in memory).")

    @Option(help: "Proposals of 16 bytes driven through each group.")
    var proposals = 200_000

    @Option(help: "Proposals handed to the leader between two delivery rounds.")
    var batch = 64

    func validate() throws {
        guard proposals > 0 else { throw ValidationError("--proposals must be at least 1") }
        guard batch > 0 else { throw ValidationError("--batch must be at least 1") }
    }
}
