import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// `ruvector-fuzz <target> --seconds N --seed S`: seeded mutation fuzzing of one decoder
/// that reads hostile bytes. See docs/fuzzing.md.
struct FuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ruvector-fuzz",
        abstract: "Seeded mutation fuzzing of the decoders that read hostile bytes.",
        discussion: """
            Targets: \(FuzzTargets.names.joined(separator: ", ")).
            A crash (signal), a hang past the per-input time bound, resident memory past --rss-limit-mb
            or a broken invariant stops the run and leaves the input in --save-crashes; replay it with
            --replay FILE. Exit status: 0 clean, 70 hang, 71 memory, 72 broken invariant, else the signal.
            """)

    @Argument(help: "The decoder to fuzz: \(FuzzTargets.names.joined(separator: ", ")).")
    var target: String

    @Option(help: "How long to run (ignored with --runs or --replay).")
    var seconds: Double = 60

    @Option(help: "Seed of the mutation sequence (the same seed replays the same inputs).")
    var seed: UInt64 = 1

    @Option(help: "Stop after this many inputs instead of after --seconds.")
    var runs: Int?

    @Option(help: "A directory of extra seed inputs, one per file (added to the target's own).")
    var corpus: String?

    @Option(name: .customLong("save-crashes"), help: "Where inputs that crash, hang or break an invariant are written.")
    var saveCrashes = "fuzz-findings"

    @Option(name: .customLong("work-dir"), help: "Scratch directory for the files targets write (a tmpfs is fastest).")
    var workDir = "/dev/shm"

    @Option(name: .customLong("rss-limit-mb"), help: "Resident memory that counts as a finding.")
    var rssLimitMB = 2048

    @Option(parsing: .upToNextOption, help: "Run these input files once each instead of fuzzing.")
    var replay: [String] = []

    // The driver's own test: a fault made on purpose at one input (see FaultInjection.swift).
    @Option(name: .customLong("inject-fault"), help: .hidden)
    var injectFault: InjectedFault?

    @Option(name: .customLong("fault-at-input"), help: .hidden)
    var faultAtInput = 0

    func validate() throws {
        guard FuzzTargets.names.contains(target) else {
            throw ValidationError("unknown target '\(target)'; targets: \(FuzzTargets.names.joined(separator: ", "))")
        }
        guard seconds > 0, rssLimitMB > 0, runs.map({ $0 > 0 }) ?? true else {
            throw ValidationError("--seconds, --runs and --rss-limit-mb must be positive")
        }
    }

    func run() throws {
        let scratch = try FuzzFiles.makeTemporaryDirectory(in: workDir, prefix: "ruvector-fuzz-\(target)")
        defer { FuzzFiles.removeTree(scratch) }
        guard var fuzzTarget = try FuzzTargets.make(target, workDirectory: scratch) else { return }
        if let injectFault { fuzzTarget = FaultInjectingTarget(fuzzTarget, fault: injectFault, at: faultAtInput) }
        defer { fuzzTarget.finish() }
        try FuzzFiles.createDirectories(saveCrashes)
        CrashGuard.install(filePrefix: "\(saveCrashes)/\(target)-seed\(seed)", maxInputBytes: fuzzTarget.maxInputBytes,
                           inputTimeBoundSeconds: fuzzTarget.inputTimeBoundSeconds, rssLimitBytes: rssLimitMB << 20)
        if !replay.isEmpty {
            try replayFiles(fuzzTarget)
            return
        }
        var seeds = try fuzzTarget.seedCorpus()
        if let corpus { seeds += try FuzzFiles.readDirectory(corpus) }
        guard !seeds.isEmpty else { throw ValidationError("target \(target) has no seed inputs") }
        Console.print("ruvector-fuzz \(target): seed \(seed), \(seeds.count) seed inputs, "
              + (runs.map { "\($0) runs" } ?? "\(seconds) s") + ", findings to \(saveCrashes)/")
        let driver = FuzzDriver(target: fuzzTarget, seed: seed)
        let statistics: FuzzDriver.Statistics
        do {
            statistics = try driver.run(seeds: seeds, budget: .init(seconds: seconds, runs: runs)) { Console.print($0) }
        } catch is FuzzFinding {
            // The driver printed it and saved its input.
            throw ExitCode(CrashGuard.findingExitCode)
        }
        let rate = Double(statistics.executions) / max(statistics.seconds, 0.001)
        Console.print("ruvector-fuzz \(target) done: seed \(seed), \(statistics.executions) inputs in \(Int(statistics.seconds)) s "
              + "(\(Int(rate)) exec/s), \(statistics.accepted) accepted, \(statistics.rejected) rejected, "
              + "\(statistics.structureAwareMutations) structure-aware mutations, pool \(statistics.poolSize), "
              + "peak RSS \(CrashGuard.peakResidentBytes() >> 20) MiB; no finding")
    }

    private func replayFiles(_ target: any FuzzTarget) throws {
        for (number, path) in replay.enumerated() {
            let input = try FuzzFiles.read(path)
            CrashGuard.begin(input, index: UInt64(number))
            let outcome: String
            do {
                outcome = try target.run(input) == .accepted ? "accepted" : "rejected"
            } catch let finding as FuzzFinding {
                Console.print("\(path): finding: \(finding.description)")
                throw ExitCode(CrashGuard.findingExitCode)
            } catch {
                outcome = "rejected: \(String(describing: error).prefix(300))"
            }
            CrashGuard.end()
            Console.print("\(path): \(outcome)")
        }
    }
}
