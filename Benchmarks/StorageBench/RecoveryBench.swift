// Recovery time of a durable collection: build N random vectors (written through the WAL),
// snapshot, log `tail` more points after it, close; then time `DurableCollection.open` (snapshot
// load + replay), beside the floor measured in the same run: reading the same files' bytes
// into memory. With root, the page cache is dropped before each (cold start). The build can
// link on several threads (--threads) and be kept for later runs (--keep): each run times a
// copy whose snapshot was rewritten in the current format. With --quantization, the collection
// is quantized (trained after 1024 points) and open is timed a second time with the snapshot's
// quantizer section removed, as older snapshots are: the quantizer is then trained again.
#if canImport(Glibc)
import Glibc
#endif
import Checksums
import Storage
import VectorDatabase
import VectorEngine

enum RecoveryBench {
    /// Builds the base collection (or, with `keep`, reuses the one an earlier `keep` run left),
    /// then `repeats` times: copies it, prepares the copy (a fresh snapshot in this build's
    /// format replacing the base's, the tail logged after it) and times the floor and `open`.
    static func run(directory: String, count: Int, dimension: Int, tail: Int, threads: Int, keep: Bool, repeats: Int,
                    quantization: QuantizationKind? = nil) throws {
        let kindName = quantization.map { "-\($0)".filter { $0.isLetter || $0.isNumber || $0 == "-" } } ?? ""
        let base = keep ? "\(directory)/ruvector-recovery-base-\(count)x\(dimension)\(kindName)"
                        : "\(directory)/ruvector-recovery-base-\(getpid())"
        let path = "\(directory)/ruvector-recovery-bench-\(getpid())"
        let config = CollectionConfig(name: "bench", dimension: dimension, metric: .l2Squared,
                                      hnsw: HNSWParameters(m: 16, efConstruction: 100, efSearch: 64), quantization: quantization)
        let options = DurableCollection.Options.manualSnapshots(syncPolicy: .never)
        print("recovery of \(count) x \(dimension) vectors (+ \(tail) in the log after the snapshot)"
            + "\(quantization.map { ", quantized \($0)," } ?? "") in \(path)")
        if keep && AtomicFile.exists(base + "/collection.bin") {
            print("base collection: reusing \(base), built by an earlier --keep run")
        } else {
            _ = system("rm -rf '\(base)'")
            try build(base, config: config, options: options, count: count, threads: threads)
        }
        print("\n| what | seconds | MiB |")
        print("|---|---:|---:|")
        var cold = false
        for _ in 0..<max(1, repeats) {
            _ = system("rm -rf '\(path)' && cp -a '\(base)' '\(path)'")
            try prepare(path, options: options, count: count, tail: tail)
            cold = dropCaches()
            var started = StorageBench.nowNanos()
            let floorBytes = readAll(path)
            let floor = Double(StorageBench.nowNanos() - started) / 1e9
            _ = dropCaches()
            started = StorageBench.nowNanos()
            let neededBytes = readAll(path, neededOnly: true)
            let neededFloor = Double(StorageBench.nowNanos() - started) / 1e9
            _ = dropCaches()
            started = StorageBench.nowNanos()
            _ = try SnapshotStore(directory: path + "/snapshots").loadLatestValid()
            let check = Double(StorageBench.nowNanos() - started) / 1e9
            started = StorageBench.nowNanos()
            _ = try SnapshotStore(directory: path + "/snapshots").loadLatestValid()
            let warmCheck = Double(StorageBench.nowNanos() - started) / 1e9
            _ = dropCaches()
            started = StorageBench.nowNanos()
            let reopened = try DurableCollection.open(path, options: options)
            let open = Double(StorageBench.nowNanos() - started) / 1e9
            let points = try reopened.collection.count()
            let report = reopened.recovery
            let queries = Self.points(1_000_000_000..<1_000_000_050, dimension: dimension).map(\.vector)
            let results = try queries.map { try reopened.collection.search($0, k: 10) }
            try reopened.close()
            print("| read the collection's files (snapshot + whole log) into memory: the floor | \(format3(floor)) | \(floorBytes >> 20) |")
            print("| read what recovery needs (snapshot + log segments after it) into memory | \(format3(neededFloor)) | \(neededBytes >> 20) |")
            print("| SnapshotStore.loadLatestValid alone: map + CRC-32C over the whole file | \(format3(check)) | |")
            print("| the same again, file in the page cache (the check's CPU cost; CRC \(CRC32C.usesHardware ? "hardware" : "table")) "
                + "| \(format3(warmCheck)) | |")
            print("| DurableCollection.open: snapshot + replay of \(report.replayedRecords) records, \(points) points | \(format3(open)) | |")
            print("| (of which snapshot load; WAL open; replay) | \(format3(Double(report.snapshotLoadMicros) / 1e6)); "
                + "\(format3(Double(report.walOpenMicros) / 1e6)); \(format3(Double(report.replayMicros) / 1e6)) | |")
            print("| open / floor | \(format3(open / max(floor, 1e-9)))x | |")
            if quantization != nil { try timeOpenTrainingAgain(path, options: options, queries: queries, results: results) }
        }
        print("\npage cache \(cold ? "dropped (cold)" : "not dropped (warm; run as root for cold)")")
        _ = system("rm -rf '\(path)'")
        if !keep { _ = system("rm -rf '\(base)'") }
    }

    /// Upserts `count` random points in batches of 1000 (linked on `threads` threads), snapshots, closes.
    static func build(_ path: String, config: CollectionConfig, options: DurableCollection.Options,
                      count: Int, threads: Int) throws {
        var started = StorageBench.nowNanos()
        let db = try DurableCollection.create(in: path, config: config, options: options)
        for first in stride(from: 0, to: count, by: 1000) {
            try db.upsert(points(first..<min(count, first + 1000), dimension: config.dimension), threads: threads)
        }
        print("build (WAL + HNSW, \(threads) thread\(threads == 1 ? "" : "s")): \(seconds(since: started)) s")
        started = StorageBench.nowNanos()
        let snapshot = try db.snapshot()
        print("snapshot: \(seconds(since: started)) s, \(snapshot.sizeBytes >> 20) MiB")
        try db.close()
    }

    /// Rewrites the copy's only snapshot in this build's format (same WAL sequence, so it
    /// replaces the file and the build's log is kept, as after the first snapshot of a
    /// collection), then logs `tail` points one batch of 1000 at a time, as clients would.
    static func prepare(_ path: String, options: DurableCollection.Options, count: Int, tail: Int) throws {
        let db = try DurableCollection.open(path, options: options)
        var started = StorageBench.nowNanos()
        let snapshot = try db.snapshot()
        print("prepare: snapshot in \(seconds(since: started)) s (\(snapshot.sizeBytes >> 20) MiB); ", terminator: "")
        started = StorageBench.nowNanos()
        for first in stride(from: count, to: count + tail, by: 1000) {
            try db.upsert(points(first..<min(count + tail, first + 1000), dimension: db.collection.config.dimension))
        }
        print("tail of \(tail) points logged in \(seconds(since: started)) s")
        try db.close()
        _ = system("sync")
    }

    /// Removes the quantizer section from the newest snapshot (as a snapshot written before it
    /// existed), then times an open that trains the quantizer again, and counts the searches
    /// whose results differ from those of the open that used the stored quantizer.
    static func timeOpenTrainingAgain(_ path: String, options: DurableCollection.Options, queries: [[Float]],
                                      results: [[SearchHit]]) throws {
        let store = try SnapshotStore(directory: path + "/snapshots")
        guard let snapshot = try store.loadLatestValid().0 else { return }
        let quantizerBytes = snapshot.sections.count(of: "quantizer") ?? 0
        let kept = snapshot.sections.names.filter { $0 != "quantizer" }.map { (name: $0, bytes: snapshot.sections[$0] ?? []) }
        try store.write(sections: kept, walSequence: snapshot.info.walSequence, createdUnixMicros: snapshot.info.createdUnixMicros)
        _ = dropCaches()
        let started = StorageBench.nowNanos()
        let reopened = try DurableCollection.open(path, options: options)
        let open = Double(StorageBench.nowNanos() - started) / 1e9
        let changed = try zip(queries, results).filter { try reopened.collection.search($0.0, k: 10) != $0.1 }.count
        let report = reopened.recovery
        try reopened.close()
        print("| DurableCollection.open, snapshot without its quantizer section (\(quantizerBytes >> 10) KiB): trains again "
            + "| \(format3(open)) | |")
        print("| (of which snapshot load, training included; replay) | \(format3(Double(report.snapshotLoadMicros) / 1e6)); "
            + "\(format3(Double(report.replayMicros) / 1e6)) | |")
        print("| searches (of \(queries.count), k 10) whose results differ from the open with the stored quantizer | \(changed) | |")
    }

    /// Random points with ids `ids`, seeded by the first id (the same points in every run).
    static func points(_ ids: Range<Int>, dimension: Int) -> [VectorPoint] {
        var generator = SeededGenerator(seed: UInt64(ids.lowerBound) &+ 7)
        return ids.map { id in
            VectorPoint(id: UInt64(id), vector: (0..<dimension).map { _ in Float.random(in: -1..<1, using: &generator) },
                        payload: ["n": .int(Int64(id))])
        }
    }

    static func seconds(since start: UInt64) -> String { format3(Double(StorageBench.nowNanos() - start) / 1e9) }

    static func format3(_ value: Double) -> String {
        let thousandths = Int((value * 1000).rounded())
        let fraction = String(thousandths % 1000)
        return "\(thousandths / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    /// Drops the page cache (root only); true when it worked.
    static func dropCaches() -> Bool {
        _ = system("sync")
        return system("echo 3 > /proc/sys/vm/drop_caches 2>/dev/null") == 0
    }

    /// Reads every file under `path` (snapshot and log) with plain read(2); returns the bytes
    /// read. `neededOnly`: the newest snapshot and the log segments holding records after it.
    static func readAll(_ path: String, neededOnly: Bool = false) -> Int {
        var total = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        let snapshots = names(in: "\(path)/snapshots").filter { $0.hasSuffix(".rvsnap") }.sorted()
        var files = snapshots.map { "snapshots/\($0)" }
        var segments = names(in: "\(path)/wal").filter { $0.hasPrefix("wal-") }.sorted()
        if neededOnly, let newest = snapshots.last {
            files = ["snapshots/\(newest)"]
            let covered = sequence(in: newest)
            // Segment i holds records from its first sequence up to segment i+1's first - 1.
            segments = segments.indices.filter { $0 + 1 == segments.count || sequence(in: segments[$0 + 1]) - 1 > covered }
                .map { segments[$0] }
        }
        files += segments.map { "wal/\($0)" }
        for name in files {
            let fd = open("\(path)/\(name)", O_RDONLY)
            guard fd >= 0 else { continue }
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                total += n
            }
            close(fd)
        }
        return total
    }

    /// The 20-digit sequence in a snapshot or segment file name.
    static func sequence(in name: String) -> UInt64 {
        UInt64(String(name.filter(\.isNumber).suffix(20))) ?? 0
    }

    static func names(in directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if !name.hasPrefix(".") { names.append(name) }
        }
        return names
    }
}
