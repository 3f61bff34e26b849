import ArgumentParser
import BenchmarkArguments

/// vector-build-scaling's command line. main.swift is a script whose helpers read its globals, so
/// it parses these options first (`parseOrExit()`: `--help` exits 0, a bad value exits 64).
struct BuildScalingOptions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vector-build-scaling",
        abstract: "Cumulative HNSW build time at growing sizes, ours and hnswlib's (peer.py), same seeded data, same run.")

    @Option(help: "Comma-separated sizes the one growing graph is timed at (sorted before use).")
    var sizes = CommaSeparated<Int>([100_000, 200_000, 400_000])

    @OptionGroup var build: HNSWBuildOptions

    @Option(help: "Build threads: 1 inserts one point at a time, more use upsert(_:threads:).")
    var threads = 1

    @Flag(help: "Print a hash of the built graph's links instead of timing hnswlib.")
    var fingerprint = false

    func validate() throws {
        guard !sizes.values.isEmpty, sizes.values.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--sizes needs one or more positive sizes")
        }
        guard threads > 0 else { throw ValidationError("--threads must be at least 1") }
    }
}
