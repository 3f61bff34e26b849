// Restart time against the log a crash leaves: how long `DurableCollection.open` takes with
// N points in the snapshot and T more in the log after it (replayed one by one, as live, and
// in batches linked on every core), and what log the automatic snapshots leave at the
// defaults: a steady import with `DurabilityOptions()`'s bounds, sampling after every write
// what a crash at that moment would have to replay, then the restart time of the worst one.
// The graph too: restart with C changed elements in its log.
#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import GraphPersistence
import Storage
import Synchronization
import VectorDatabase
import VectorEngine

enum RestartBench {
    static func run(directory: String, count: Int, dimension: Int, batch: Int, logTable: Bool, importThreads: Int? = nil) throws {
        let cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let config = CollectionConfig(name: "bench", dimension: dimension, metric: .l2Squared,
                                      hnsw: HNSWParameters(m: 16, efConstruction: 100, efSearch: 64))
        print("restart of a collection of \(count) x \(dimension) vectors (M 16, efConstruction 100), writes of \(batch) points, "
            + "\(cores) cores, in \(directory)\n")
        if logTable { try logLength(directory: directory, config: config, count: count, batch: batch, cores: cores) }
        try atTheDefaults(directory: directory, config: config, count: count, batch: batch, cores: cores, importThreads: importThreads)
        try graph(directory: directory, changes: [50_000, DurabilityOptions.defaultAutoSnapshotChanges])
    }

    /// Open time against the points logged after the snapshot.
    static func logLength(directory: String, config: CollectionConfig, count: Int, batch: Int, cores: Int) throws {
        let path = "\(directory)/ruvector-restart-bench-\(getpid())"
        _ = system("rm -rf '\(path)'")
        defer { _ = system("rm -rf '\(path)'") }
        let manual = DurableCollection.Options.manualSnapshots(syncPolicy: .never)
        var started = StorageBench.nowNanos()
        let db = try DurableCollection.create(in: path, config: config, options: manual)
        try write(db, ids: 0..<count, batch: batch, dimension: config.dimension)
        let buildSeconds = Double(StorageBench.nowNanos() - started) / 1e9
        started = StorageBench.nowNanos()
        let snapshot = try db.snapshot()
        print("build: \(RecoveryBench.format3(buildSeconds)) s (\(RecoveryBench.format3(buildSeconds * 1e3 / Double(count))) ms per point "
            + "live); snapshot: \(RecoveryBench.format3(Double(StorageBench.nowNanos() - started) / 1e9)) s, \(snapshot.sizeBytes >> 20) MiB")
        try db.close()
        print("\n| points in the snapshot | points in the log after it | log MiB | open, replay 1 thread (s) | of which replay | "
            + "open, replay \(cores) threads (s) | of which replay |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        var logged = 0
        for tail in [0, count / 8, count / 4, count / 2, count] {
            if tail > logged {
                let db = try DurableCollection.open(path, options: manual)
                try write(db, ids: (count + logged)..<(count + tail), batch: batch, dimension: config.dimension)
                try db.close()
                logged = tail
            }
            var cells: [String] = []
            var logBytes = 0
            for threads in [1, cores] {
                let (open, reopened) = try timedOpen(path, threads: threads)
                let points = try reopened.collection.count()
                precondition(points == count + tail, "recovered \(points) points, wrote \(count + tail)")
                logBytes = reopened.recovery.replayedBytes
                cells += [RecoveryBench.format3(open), RecoveryBench.format3(Double(reopened.recovery.replayMicros) / 1e6)]
                try reopened.close()
            }
            print("| \(count) | \(tail) | \(logBytes >> 20) | \(cells.joined(separator: " | ")) |")
        }
    }

    /// A steady import at the default bounds: the largest log a crash could have left, and the
    /// restart time with it. With `importThreads`, the import writes as UpsertStream does: each
    /// batch logged and queued, linked on that many threads while the next is logged; the most
    /// owed is then counted in points (queued writes owe their apply time only once applied).
    static func atTheDefaults(directory: String, config: CollectionConfig, count: Int, batch: Int, cores: Int,
                              importThreads: Int? = nil) throws {
        let path = "\(directory)/ruvector-restart-defaults-\(getpid())"
        _ = system("rm -rf '\(path)'")
        defer { _ = system("rm -rf '\(path)'") }
        let reports = Mutex<[AutomaticSnapshotReport]>([])
        let defaults = DurableCollection.Options(syncPolicy: .never,
                                                 onAutomaticSnapshot: { report in reports.withLock { $0.append(report) } })
        let db = try DurableCollection.create(in: path, config: config, options: defaults)
        var worst = AutomaticSnapshots.Debt()
        let total = 2 * count
        let worse = { (a: AutomaticSnapshots.Debt, b: AutomaticSnapshots.Debt) in
            importThreads == nil ? a.applyNanos > b.applyNanos : a.changes > b.changes
        }
        let started = StorageBench.nowNanos()
        for first in stride(from: 0, to: total, by: batch) {
            let points = RecoveryBench.points(first..<min(total, first + batch), dimension: config.dimension)
            if let importThreads {
                try db.upsert(points, threads: importThreads, acknowledge: .logged)
            } else {
                try db.upsert(points)
            }
            let debt = db.unsnapshotted
            if worse(debt, worst) { worst = debt }
        }
        db.waitUntilApplied()
        let importSeconds = Double(StorageBench.nowNanos() - started) / 1e9
        try db.close()
        let taken = reports.withLock { $0 }
        // A crash just before a snapshot finished: what it covered and what came meanwhile.
        for report in taken {
            var both = report.covered
            both.applyNanos += report.loggedMeanwhile.applyNanos
            both.changes += report.loggedMeanwhile.changes
            both.logBytes += report.loggedMeanwhile.logBytes
            if worse(both, worst) { worst = both }
        }
        if let importThreads {
            print("\nImport as UpsertStream writes it (batches logged, then linked on \(importThreads) threads): "
                + "\(total) points in \(RecoveryBench.format3(importSeconds)) s, "
                + "\(Int(Double(total) / importSeconds)) points/s.")
        }
        print("\nAt the defaults (replay bound \(DurabilityOptions.defaultAutoSnapshotReplayMillis) ms of apply time, "
            + "\(DurabilityOptions.defaultAutoSnapshotChanges) changes, \(DurabilityOptions.defaultAutoSnapshotWALBytes >> 20) MiB, "
            + "\(DurabilityOptions.defaultAutoSnapshotInterval)): an import of \(total) points took \(taken.count) automatic snapshots "
            + "(\(Set(taken.map(\.reason.rawValue)).sorted().joined(separator: ", "))), the longest "
            + "\(RecoveryBench.format3(Double(taken.map(\.durationMicros).max() ?? 0) / 1e6)) s; the most ever owed: "
            + "\(worst.changes) points, \(RecoveryBench.format3(Double(worst.applyNanos) / 1e9)) s of apply time, "
            + "\(worst.logBytes >> 20) MiB of log (the worst moment for a crash: after a write, or just before a snapshot finished).")
        // The worst crash: the last snapshot plus the largest debt seen, in the log after it.
        let crash = "\(path)-crash"
        _ = system("rm -rf '\(crash)'")
        defer { _ = system("rm -rf '\(crash)'") }
        let manual = DurableCollection.Options.manualSnapshots(syncPolicy: .never)
        let copy = try DurableCollection.create(in: crash, config: config, options: manual)
        try write(copy, ids: 0..<(total - worst.changes), batch: batch, dimension: config.dimension, threads: importThreads ?? 1)
        try copy.snapshot()
        try write(copy, ids: (total - worst.changes)..<total, batch: batch, dimension: config.dimension, threads: importThreads ?? 1)
        try copy.close()
        print("\n| restart after the worst crash at the defaults | replay threads | open (s) | snapshot load | replay | points replayed |")
        print("|---|---:|---:|---:|---:|---:|")
        for threads in [1, cores] {
            let (open, reopened) = try timedOpen(crash, threads: threads)
            let report = reopened.recovery
            print("| \(total - worst.changes) in the snapshot + \(worst.changes) in the log | \(threads) | \(RecoveryBench.format3(open)) | "
                + "\(RecoveryBench.format3(Double(report.snapshotLoadMicros) / 1e6)) | \(RecoveryBench.format3(Double(report.replayMicros) / 1e6)) | "
                + "\(report.replayedChanges) |")
            try reopened.close()
        }
    }

    /// The graph: open time with `changes` nodes created (in commits of 1,000) in the log.
    static func graph(directory: String, changes: [Int]) throws {
        print("\n| graph: elements created in the log after the snapshot | log MiB | open (s) |")
        print("|---:|---:|---:|")
        for count in changes {
            let path = "\(directory)/ruvector-restart-graph-\(getpid())"
            _ = system("rm -rf '\(path)'")
            defer { _ = system("rm -rf '\(path)'") }
            let manual = DurableGraphDatabase.Options.manualSnapshots(syncPolicy: .never)
            let db = try DurableGraphDatabase.open(path, options: manual)
            for first in stride(from: 0, to: count, by: 1000) {
                _ = try db.execute("UNWIND range($first, $last) AS i CREATE (:Doc {n: i, title: 'document ' + toString(i)})",
                                   parameters: ["first": .int(Int64(first)), "last": .int(Int64(min(count, first + 1000) - 1))])
            }
            try db.close()
            _ = RecoveryBench.dropCaches()
            let started = StorageBench.nowNanos()
            let reopened = try DurableGraphDatabase.open(path, options: manual)
            let open = Double(StorageBench.nowNanos() - started) / 1e9
            precondition(reopened.committedStore.nodeCount == count)
            print("| \(count) | \(AtomicFile.treeSize(path + "/wal") >> 20) | \(RecoveryBench.format3(open)) |")
            try reopened.close()
        }
    }

    /// Opens `path` with a cold page cache, replaying on `threads` threads; returns the seconds
    /// it took and the collection.
    static func timedOpen(_ path: String, threads: Int) throws -> (Double, DurableCollection) {
        var options = DurableCollection.Options.manualSnapshots(syncPolicy: .never)
        options.replayThreads = threads
        _ = RecoveryBench.dropCaches()
        let started = StorageBench.nowNanos()
        let reopened = try DurableCollection.open(path, options: options)
        return (Double(StorageBench.nowNanos() - started) / 1e9, reopened)
    }

    /// Upserts `ids` in writes of `batch` points (as clients do), each applied (linked on
    /// `threads` threads) before it returns.
    static func write(_ db: DurableCollection, ids: Range<Int>, batch: Int, dimension: Int, threads: Int = 1) throws {
        for first in stride(from: ids.lowerBound, to: ids.upperBound, by: batch) {
            try db.upsert(RecoveryBench.points(first..<min(ids.upperBound, first + batch), dimension: dimension), threads: threads)
        }
    }
}
