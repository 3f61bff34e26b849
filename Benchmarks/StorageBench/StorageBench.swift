// WAL append benchmark: appends/s and p99 latency per sync policy, writer count and record
// size, beside the device's own limit measured in the same run (a loop of pwrite +
// fdatasync on a plain file, the peer every durable log is bounded by).
//
//   swift run -c release storage-bench [--directory DIR] [--seconds 2]     (--help lists every option)
//   swift run -c release storage-bench --recovery 1000000 [--dim 128] [--directory DIR] [--threads T]
//       [--keep] [--repeat R] [--quantization int8|f16|pq8|pq4|binary]  (see RecoveryBench; --keep leaves the
//       built collection for later runs to reuse)
//   swift run -c release storage-bench --restart 75000 [--dim 32] [--batch 1000] [--directory DIR] [--defaults-only]  (RestartBench:
//       open time vs log length, the log the default automatic-snapshot bounds leave, the graph)
//       [--import-threads T]: the defaults part writes as UpsertStream does (each batch logged, then
//       linked on T threads while the next is logged) instead of one applied write after another
#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Storage
import Synchronization
import VectorEngine

@main
struct StorageBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage-bench",
        abstract: "WAL appends per sync policy beside a raw pwrite+fdatasync loop; --recovery and --restart time recovery instead.")

    /// The quantizations `--quantization` names (RecoveryBench builds the collection with one).
    enum QuantizationName: String, CaseIterable, ExpressibleByArgument {
        case int8, f16, pq8, pq4, binary
    }

    @Option(help: "Folder the logs and collections are written in.")
    var directory = "/tmp"

    @Option(name: .customLong("seconds"), help: "Seconds each WAL append case runs.")
    var secondsPerCase = 2.0

    @Option(name: .customLong("recovery"), help: "N > 0: recovery of a collection of N points instead (RecoveryBench).")
    var recoveryCount = 0

    @Option(name: .customLong("restart"), help: "N > 0: open time against log length for N points instead (RestartBench).")
    var restartCount = 0

    @Option(name: .customLong("dim"), help: "Vector dimension (--recovery, --restart).")
    var dimension = 128

    @Option(name: .customLong("threads"), help: "Graph build threads (--recovery).")
    var buildThreads = 1

    @Flag(help: "Leave the built collection for later runs to reuse (--recovery).")
    var keep = false

    @Option(name: .customLong("repeat"), help: "Recoveries timed (--recovery).")
    var repeats = 1

    @Option(help: "Quantize the collection: int8, f16, pq8 or pq4 (dim / 8 subspaces), binary (--recovery).")
    var quantization: QuantizationName?

    @Option(help: "Points per write (--restart).")
    var batch = 1000

    @Flag(help: "Only the part with the default automatic snapshots, not the log-length table (--restart).")
    var defaultsOnly = false

    @Option(help: "Write as UpsertStream does: each batch logged, then linked on T threads while the next is logged (--restart).")
    var importThreads: Int?

    /// The engine's quantization for `--quantization`, at this dimension.
    var quantizationKind: QuantizationKind? {
        let subspaces = max(1, dimension / 8)
        switch quantization {
        case nil: return nil
        case .int8: return .scalarInt8
        case .f16: return .float16
        case .pq8: return .pq8(subspaces: subspaces)
        case .pq4: return .pq4(subspaces: subspaces)
        case .binary: return .binary
        }
    }

    func validate() throws {
        guard secondsPerCase > 0, recoveryCount >= 0, restartCount >= 0, dimension > 0 else {
            throw ValidationError("--seconds and --dim must be positive, --recovery and --restart at least 0")
        }
        guard recoveryCount == 0 || restartCount == 0 else { throw ValidationError("--recovery and --restart are separate runs: give one") }
        guard buildThreads > 0, repeats > 0, batch > 0, (importThreads ?? 1) > 0 else {
            throw ValidationError("--threads, --repeat, --batch and --import-threads must be at least 1")
        }
    }

    struct Result {
        var appendsPerSecond: Double
        var p50Micros: Double
        var p99Micros: Double

        init(latencies: [UInt64], elapsedSeconds: Double) {
            let sorted = latencies.sorted()
            let quantile = { (q: Double) in Double(sorted[min(sorted.count - 1, Int(q * Double(sorted.count)))]) / 1000 }
            appendsPerSecond = Double(sorted.count) / elapsedSeconds
            p50Micros = quantile(0.5)
            p99Micros = quantile(0.99)
        }
    }

    /// Latencies gathered by several writer threads.
    final class Latencies: Sendable {
        private let all = Mutex<[UInt64]>([])
        func add(_ values: [UInt64]) { all.withLock { $0 += values } }
        var values: [UInt64] { all.withLock { $0 } }
    }

    func run() throws {
        if restartCount > 0 {
            try RestartBench.run(directory: directory, count: restartCount, dimension: dimension,
                                 batch: batch, logTable: !defaultsOnly, importThreads: importThreads)
            return
        }
        if recoveryCount > 0 {
            try RecoveryBench.run(directory: directory, count: recoveryCount, dimension: dimension,
                                  tail: max(1000, recoveryCount / 100), threads: buildThreads,
                                  keep: keep, repeats: repeats, quantization: quantizationKind)
            return
        }
        try Self.walTable(self)
    }

    /// The WAL append table: each sync policy and writer count beside the raw device limit.
    static func walTable(_ settings: StorageBench) throws {
        print("WAL appends on \(settings.directory), \(settings.secondsPerCase) s per case, "
            + "\(sysconf(Int32(_SC_NPROCESSORS_ONLN))) cores\n")
        print("| policy | writers | record | appends/s | p50 µs | p99 µs | vs raw write+fdatasync |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for recordBytes in [64, 1536] {
            let raw = rawDeviceLimit(settings, recordBytes: recordBytes)
            print("| raw pwrite+fdatasync (peer) | 1 | \(recordBytes) B | \(format(raw.appendsPerSecond)) | "
                + "\(format(raw.p50Micros)) | \(format(raw.p99Micros)) | 1.00x |")
            for (name, policy) in [("always", WALSyncPolicy.always), ("batch 1 ms", .batch(delayMicros: 1000)), ("never", .never)] {
                for writers in [1, 8] {
                    let result = try measure(settings, policy: policy, writers: writers, recordBytes: recordBytes)
                    print("| \(name) | \(writers) | \(recordBytes) B | \(format(result.appendsPerSecond)) | "
                        + "\(format(result.p50Micros)) | \(format(result.p99Micros)) | "
                        + "\(ratio(result.appendsPerSecond / raw.appendsPerSecond)) |")
                }
            }
        }
    }

    static func nowNanos() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    static func freshDirectory(_ settings: StorageBench, _ name: String) -> String {
        let path = "\(settings.directory)/ruvector-storage-bench-\(getpid())-\(name)"
        _ = system("rm -rf '\(path)'")
        return path
    }

    /// `writers` threads appending `recordBytes`-byte records for the case's duration.
    static func measure(_ settings: StorageBench, policy: WALSyncPolicy, writers: Int, recordBytes: Int) throws -> Result {
        let path = freshDirectory(settings, "wal")
        let (wal, _) = try WriteAheadLog.open(directory: path, options: WALOptions(syncPolicy: policy))
        let payload = [UInt8](repeating: 0xAB, count: recordBytes)
        let deadline = nowNanos() + UInt64(settings.secondsPerCase * 1e9)
        let latencies = Latencies()
        let start = nowNanos()
        runOnThreads(writers) { _ in
            var mine: [UInt64] = []
            while nowNanos() < deadline {
                let before = nowNanos()
                _ = try? wal.append(type: 1, payload: payload)
                mine.append(nowNanos() - before)
            }
            latencies.add(mine)
        }
        let elapsed = Double(nowNanos() - start) / 1e9
        try wal.close()
        _ = system("rm -rf '\(path)'")
        return Result(latencies: latencies.values, elapsedSeconds: elapsed)
    }

    /// The device limit: one thread doing pwrite + fdatasync of `recordBytes` in a loop.
    static func rawDeviceLimit(_ settings: StorageBench, recordBytes: Int) -> Result {
        let path = freshDirectory(settings, "raw")
        mkdir(path, 0o755)
        let fd = open(path + "/raw.bin", O_RDWR | O_CREAT, 0o644)
        let payload = [UInt8](repeating: 0xAB, count: recordBytes)
        var latencies: [UInt64] = []
        var offset = 0
        let deadline = nowNanos() + UInt64(settings.secondsPerCase * 1e9)
        let start = nowNanos()
        while nowNanos() < deadline {
            let before = nowNanos()
            _ = payload.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
            fdatasync(fd)
            offset += recordBytes
            latencies.append(nowNanos() - before)
        }
        let elapsed = Double(nowNanos() - start) / 1e9
        close(fd)
        _ = system("rm -rf '\(path)'")
        return Result(latencies: latencies, elapsedSeconds: elapsed)
    }

    static func ratio(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)x"
    }

    static func format(_ value: Double) -> String {
        var digits = String(Int(value.rounded()))
        var index = digits.count - 3
        while index > 0 {
            digits.insert(",", at: digits.index(digits.startIndex, offsetBy: index))
            index -= 3
        }
        return digits
    }
}
