// WAL append benchmark: appends/s and p99 latency per sync policy, writer count and record
// size, beside the device's own limit measured in the same run (a loop of pwrite +
// fdatasync on a plain file, the peer every durable log is bounded by).
//
//   swift run -c release storage-bench [--directory DIR] [--seconds 2]
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
import Storage
import Synchronization
import VectorEngine

@main
struct StorageBench {
    struct Settings {
        var directory = "/tmp"
        var secondsPerCase = 2.0
        var recoveryCount = 0
        var dimension = 128
        var buildThreads = 1
        var keep = false
        var repeats = 1
        var quantization: QuantizationKind? = nil
        var restartCount = 0
        var batch = 1000
        var logTable = true
        var importThreads: Int? = nil
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

    static func main() throws {
        var settings = Settings()
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = arguments.next() {
            switch argument {
            case "--directory": settings.directory = arguments.next() ?? settings.directory
            case "--seconds": settings.secondsPerCase = Double(arguments.next() ?? "") ?? settings.secondsPerCase
            case "--recovery": settings.recoveryCount = Int(arguments.next() ?? "") ?? 0
            case "--dim": settings.dimension = Int(arguments.next() ?? "") ?? settings.dimension
            case "--threads": settings.buildThreads = max(1, Int(arguments.next() ?? "") ?? 1)
            case "--keep": settings.keep = true
            case "--restart": settings.restartCount = Int(arguments.next() ?? "") ?? 0
            case "--batch": settings.batch = max(1, Int(arguments.next() ?? "") ?? settings.batch)
            case "--defaults-only": settings.logTable = false
            case "--import-threads": settings.importThreads = max(1, Int(arguments.next() ?? "") ?? 1)
            case "--repeat": settings.repeats = max(1, Int(arguments.next() ?? "") ?? 1)
            case "--quantization":
                let m = max(1, settings.dimension / 8)
                let kinds: [String: QuantizationKind] = ["int8": .scalarInt8, "f16": .float16, "pq8": .pq8(subspaces: m),
                                                         "pq4": .pq4(subspaces: m), "binary": .binary]
                settings.quantization = kinds[arguments.next() ?? ""]
            default:
                print("usage: storage-bench [--directory DIR] [--seconds S]\n"
                    + "       storage-bench --recovery N [--dim D] [--directory DIR] [--threads T] [--keep] [--repeat R]"
                    + " [--quantization int8|f16|pq8|pq4|binary]  (after --dim)\n"
                    + "       storage-bench --restart N [--dim D] [--batch B] [--directory DIR] [--defaults-only] [--import-threads T]")
                exit(2)
            }
        }
        if settings.restartCount > 0 {
            try RestartBench.run(directory: settings.directory, count: settings.restartCount, dimension: settings.dimension,
                                 batch: settings.batch, logTable: settings.logTable, importThreads: settings.importThreads)
            return
        }
        if settings.recoveryCount > 0 {
            try RecoveryBench.run(directory: settings.directory, count: settings.recoveryCount, dimension: settings.dimension,
                                  tail: max(1000, settings.recoveryCount / 100), threads: settings.buildThreads,
                                  keep: settings.keep, repeats: settings.repeats, quantization: settings.quantization)
            return
        }
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

    static func freshDirectory(_ settings: Settings, _ name: String) -> String {
        let path = "\(settings.directory)/ruvector-storage-bench-\(getpid())-\(name)"
        _ = system("rm -rf '\(path)'")
        return path
    }

    /// `writers` threads appending `recordBytes`-byte records for the case's duration.
    static func measure(_ settings: Settings, policy: WALSyncPolicy, writers: Int, recordBytes: Int) throws -> Result {
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
    static func rawDeviceLimit(_ settings: Settings, recordBytes: Int) -> Result {
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
