import ArgumentParser
import BenchmarkArguments

/// vector-bench's command line. main.swift is a script whose helpers read its globals, so it
/// parses these options first (`parseOrExit()`: `--help` exits 0, a bad value exits 64). The
/// switches take 0 or 1 (`--cache 1`), the form every command in docs/benchmarks uses.
struct VectorBenchOptions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vector-bench",
        abstract: "HNSW recall, QPS, build time, bytes per vector and distance kernels, beside hnswlib, usearch and simsimd (peer.py).")

    @Option(help: "Base vectors (clustered Gaussians, seeded).")
    var n = 100_000

    @OptionGroup var build: HNSWBuildOptions

    @Option(help: "Query vectors; ground truth by brute force.")
    var queries = 1000


    @Option(help: "The level generators' seed, ours and hnswlib's (not the data's).")
    var seed = 1

    @Option(help: "0: build twice (one point at a time, then on every core); T > 0: every engine builds once on T threads.")
    var buildThreads = 0

    @Option(help: "1: also walk on float16, int8 and int4 codes with f32 rescoring (4 x k), beside usearch on f16.")
    var quantized = 0

    @Option(help: """
        1: also a copy of the graph renumbered in breadth-first order (HNSWIndex.reorder(), as compaction does), \
        swept between two sweeps of the original, and the later walks on codes run on the copy.
        """)
    var reorder = 0

    @Option(help: """
        1: account for each walk's time at recall 0.95: nodes expanded and distances measured per query, \
        beside a pointer-chasing floor (one dependent miss per expansion, latency measured over a buffer \
        the size of the index) and the distance kernel's time in cache.
        """)
    var floor = 0

    @Option(help: "1: then tiered compression under a skewed workload (90% of searches on the first 10% of the queries).")
    var tiered = 0

    @Option(help: "Graph peers to run, comma-separated (hnswlib, usearch) or none; simsimd's kernels always run.")
    var peers = CommaSeparated<String>(["hnswlib", "usearch"])

    @Option(help: "The ef grid, comma-separated.")
    var efs = CommaSeparated<Int>([10, 16, 24, 32, 48, 64, 96, 128, 160, 192, 224, 256, 320, 384, 512])

    @Option(help: """
        1: reuse the data, ground truth and graphs an earlier run with the same settings saved in the data folder \
        (build times are then not measured; delete the folder after changing construction).
        """)
    var cache = 0

    @Option(name: .customLong("peer-hugepages"),
            help: "1: run the peers with GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (transparent huge pages, as our engine asks for).")
    var peerHugePages = 0

    func validate() throws {
        guard n > 0, queries > 0, buildThreads >= 0 else {
            throw ValidationError("--n and --queries must be at least 1, --build-threads at least 0")
        }
        let unknownPeers = Set(peers.values).subtracting(["hnswlib", "usearch", "none"])
        guard unknownPeers.isEmpty else { throw ValidationError("--peers: unknown peer \(unknownPeers.sorted()); hnswlib, usearch or none") }
        guard !efs.values.isEmpty, efs.values.allSatisfy({ $0 > 0 }) else { throw ValidationError("--efs needs positive values") }
        for (name, value) in [("--quantized", quantized), ("--reorder", reorder), ("--floor", floor), ("--tiered", tiered), ("--cache", cache), ("--peer-hugepages", peerHugePages)]
        where value != 0 && value != 1 {
            throw ValidationError("\(name) takes 0 or 1, not \(value)")
        }
    }
}
