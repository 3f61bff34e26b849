// Recovery time of a durable collection: build N random vectors (written through the WAL),
// snapshot, log `tail` more points after it, close; then time `DurableCollection.open` (snapshot
// load + replay), beside the floor measured in the same run: reading the same files' bytes
// into memory. With root, the page cache is dropped before each (cold start).
#if canImport(Glibc)
import Glibc
#endif
import Storage
import VectorDatabase
import VectorEngine

enum RecoveryBench {
    static func run(directory: String, count: Int, dimension: Int, tail: Int) throws {
        let path = "\(directory)/ruvector-recovery-bench-\(getpid())"
        _ = system("rm -rf '\(path)'")
        let config = CollectionConfig(name: "bench", dimension: dimension, metric: .l2Squared,
                                      hnsw: HNSWParameters(m: 16, efConstruction: 100, efSearch: 64))
        let options = DurableCollection.Options(syncPolicy: .never, autoSnapshotWALBytes: 0)
        var generator = SeededGenerator(seed: 7)
        func batch(_ ids: Range<Int>) -> [VectorPoint] {
            ids.map { id in VectorPoint(id: UInt64(id), vector: (0..<dimension).map { _ in Float.random(in: -1..<1, using: &generator) },
                                        payload: ["n": .int(Int64(id))]) }
        }
        print("recovery of \(count) x \(dimension) vectors (+ \(tail) in the log after the snapshot) in \(path)")
        var started = StorageBench.nowNanos()
        let db = try DurableCollection.create(in: path, config: config, options: options)
        for first in stride(from: 0, to: count, by: 1000) { try db.upsert(batch(first..<min(count, first + 1000))) }
        print("build (WAL + HNSW, 1 thread): \(seconds(since: started)) s")
        started = StorageBench.nowNanos()
        let snapshot = try db.snapshot()
        print("snapshot: \(seconds(since: started)) s, \(snapshot.sizeBytes >> 20) MiB")
        for first in stride(from: count, to: count + tail, by: 1000) { try db.upsert(batch(first..<min(count + tail, first + 1000))) }
        try db.close()
        _ = system("sync")

        let cold = dropCaches()
        started = StorageBench.nowNanos()
        let floorBytes = readAll(path)
        let floor = Double(StorageBench.nowNanos() - started) / 1e9
        _ = dropCaches()
        started = StorageBench.nowNanos()
        let reopened = try DurableCollection.open(path, options: options)
        let open = Double(StorageBench.nowNanos() - started) / 1e9
        let points = try reopened.collection.count()
        print("\n| what | seconds | MiB |")
        print("|---|---:|---:|")
        print("| read the collection's files into memory (floor, peer) | \(format3(floor)) | \(floorBytes >> 20) |")
        print("| DurableCollection.open: snapshot + replay of \(reopened.recovery.replayedRecords) records, \(points) points | \(format3(open)) | |")
        print("\nopen = \(format3(open / max(floor, 1e-9)))x the floor; page cache \(cold ? "dropped (cold)" : "not dropped (warm; run as root for cold)")")
        _ = system("rm -rf '\(path)'")
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

    /// Reads every file under `path` (snapshot and log) with plain read(2); returns the bytes read.
    static func readAll(_ path: String) -> Int {
        var total = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        for sub in ["snapshots", "wal"] {
            guard let dir = opendir("\(path)/\(sub)") else { continue }
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
                guard !name.hasPrefix(".") else { continue }
                let fd = open("\(path)/\(sub)/\(name)", O_RDONLY)
                guard fd >= 0 else { continue }
                var content: [UInt8] = []
                while true {
                    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if n <= 0 { break }
                    content += buffer[0..<n]
                }
                total += content.count
                close(fd)
            }
            closedir(dir)
        }
        return total
    }
}
