// vector-bench: HNSW recall/QPS/build time/bytes per vector and distance-kernel ns/op,
// against hnswlib, usearch and simsimd (peer.py) on the same generated data, same run.
//
//   swift run -c release vector-bench [--n 100000] [--dim 128] [--queries 1000] [--m 16] [--efc 200] [--build-threads T]
//                                     [--peers hnswlib,usearch] [--efs 10,16,...] [--seed 1] [--cache 1] [--peer-hugepages 1]
//                                     [--quantized 1] [--reorder 1] [--floor 1] [--tiered 1]     (--help says what each does)
//
// Builds twice: one point at a time on one thread, and with upsert(_:threads:) on every core.
// With --build-threads T every engine builds once, on T threads (T = 1: our one-at-a-time path),
// for sizes where building each graph twice takes too long. Searches always run on one thread.
import Foundation
import VectorEngine

let options = VectorBenchOptions.parseOrExit()
let n = options.n, dim = options.build.dimension, nq = options.queries
let m = options.build.m, efc = options.build.efConstruction, k = 10
let seed = options.seed
let buildThreads = options.buildThreads
let quantized = options.quantized != 0
let tiered = options.tiered != 0
let reorder = options.reorder != 0
let floorAccount = options.floor != 0
let peers = options.peers.values
let efs = options.efs.values
let cache = options.cache != 0
let peerHugePages = options.peerHugePages != 0
let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vector-bench-\(n)x\(dim)")
try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)

/// Progress, on standard error: unbuffered, so it shows while standard output goes to a file.
func progress(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

// Clustered Gaussian data (seeded): 100 centres, N(0, 3^2) each component, unit noise.
var rng = SeededGenerator(seed: 2026)
let clusters = 100
let centres = (0..<clusters).map { _ in (0..<dim).map { _ in Float(rng.nextGaussian()) * 3 } }
@MainActor func point(_ i: Int) -> [Float] { centres[Int(rng.next() % UInt64(clusters))].map { $0 + Float(rng.nextGaussian()) } }
func write<T>(_ array: [T], _ name: String) throws {
    try array.withUnsafeBytes { try Data($0).write(to: dir.appendingPathComponent(name)) }
}
/// `name` from the data folder when it holds exactly `count` values of `T`.
func read<T>(_ name: String, _: T.Type, count: Int) -> [T]? {
    guard let bytes = try? Data(contentsOf: dir.appendingPathComponent(name)),
          bytes.count == count * MemoryLayout<T>.stride else { return nil }
    return bytes.withUnsafeBytes { Array($0.bindMemory(to: T.self)) }
}

// Ground truth by brute force with the engine's kernel: the k smallest (distance, index) pairs
// of each query, kept in a sorted array of k while scanning (no sort of all n distances).
var distances = [Float](repeating: 0, count: n)
@MainActor func generate() throws -> (base: [Float], queries: [Float], truth: [Int32]) {
    progress("generating \(n) x \(dim), \(nq) queries; ground truth by brute force ...")
    let data = (0..<n).map(point)
    let queries = (0..<nq).map(point)
    let flat = data.flatMap { $0 }
    var truth = [[Int32]](repeating: [], count: nq)
    flat.withUnsafeBufferPointer { fp in
        for (qi, q) in queries.enumerated() {
            q.withUnsafeBufferPointer { qp in
                distances.withUnsafeMutableBufferPointer { dp in
                    DistanceMetric.l2Squared.batchDistance(query: qp.baseAddress!, base: fp.baseAddress!, count: n,
                                                           dimension: dim, into: dp.baseAddress!)
                }
            }
            var best: [(distance: Float, index: Int)] = []
            best.reserveCapacity(k + 1)
            for (i, d) in distances.enumerated() where best.count < k || d < best[k - 1].distance {
                // Indices rise, so an equal distance never displaces an earlier index: (distance, index) order.
                var at = best.count
                while at > 0 && best[at - 1].distance > d { at -= 1 }
                best.insert((d, i), at: at)
                if best.count > k { best.removeLast() }
            }
            truth[qi] = best.map { Int32($0.index) }
        }
    }
    let generated = (flat, queries.flatMap { $0 }, truth.flatMap { $0 })
    try write(generated.0, "base.f32"); try write(generated.1, "query.f32"); try write(generated.2, "truth.i32")
    return generated
}
// With --cache, the files an earlier run wrote (the same seeded data) are read back instead.
let files = cache ? read("base.f32", Float.self, count: n * dim).flatMap { base in
    read("query.f32", Float.self, count: nq * dim).flatMap { q in read("truth.i32", Int32.self, count: nq * k).map { (base, q, $0) } }
} : nil
let (flat, flatQ, flatTruth) = try files ?? generate()
let data = (0..<n).map { Array(flat[($0 * dim)..<(($0 + 1) * dim)]) }
let queries = (0..<nq).map { Array(flatQ[($0 * dim)..<(($0 + 1) * dim)]) }
let truth = (0..<nq).map { Array(flatTruth[($0 * k)..<(($0 + 1) * k)]) }

// Our HNSW.
let clock = ContinuousClock()
let cores = ProcessInfo.processInfo.activeProcessorCount
let graphFile = dir.appendingPathComponent("ruvector-m\(m)-efc\(efc)-t\(buildThreads)-s\(seed).graph")
let cachedIndex = cache ? try? loadGraph(graphFile) : nil
let index = try cachedIndex ?? HNSWIndex(dimension: dim, metric: .l2Squared,
                                          parameters: .init(m: m, efConstruction: efc, seed: UInt64(seed)))
// Every build takes these points; a loaded graph (--cache) builds nothing.
let batch = cachedIndex == nil ? data.enumerated().map { VectorPoint(id: UInt64($0.offset), vector: $0.element) } : []
var buildTime = Double.nan
if cachedIndex == nil {
    buildTime = seconds(try clock.measure {
        if buildThreads > 1 { try index.upsert(batch, threads: buildThreads) }
        else { for (i, v) in data.enumerated() { try index.upsert(id: UInt64(i), vector: v) } }
    })
    if cache { try saveGraph(index, graphFile) }
}
progress("ruvector build (\(max(1, buildThreads)) thread(s)): \(cachedIndex == nil ? String(format: "%.2f s", buildTime) : "loaded from \(graphFile.path)")")
let parallelIndex = buildThreads > 0 || cache ? nil : try HNSWIndex(dimension: dim, metric: .l2Squared,
                                                           parameters: .init(m: m, efConstruction: efc, seed: UInt64(seed)))
let parallelBuildTime = try parallelIndex.map { p in seconds(try clock.measure { try p.upsert(batch, threads: cores) }) } ?? .nan

/// Recall@10 and single-thread QPS of `index` at each ef over `subset` of the queries (all by
/// default; `oversampling` nil: full vectors only).
@MainActor func sweep(_ index: HNSWIndex, _ efs: [Int], oversampling: Int? = nil,
                      subset: [Int]? = nil) throws -> Sweep {
    let chosen = subset ?? Array(queries.indices)
    return try efs.map { ef in
        var hits = 0
        let t = seconds(try clock.measure {
            for qi in chosen {
                let got = try index.search(queries[qi], k: k, ef: ef, oversampling: oversampling)
                let want = Set(truth[qi])
                hits += got.filter { want.contains(Int32($0.id)) }.count
            }
        })
        return (ef, Double(hits) / Double(chosen.count * k), Double(chosen.count) / t)
    }
}
var ours = try sweep(index, efs)
let oursParallelBuilt = try parallelIndex.map { try sweep($0, efs) } ?? []
// --reorder: a renumbered copy swept between two sweeps of the original (each engine's row
// keeps its better QPS per ef); the walks on codes below then run on the copy.
var reorderedSweep: Sweep = []
var reorderSeconds = Double.nan
var reorderedIndex: HNSWIndex? = nil
if reorder {
    let copy = try HNSWIndex(state: index.exportState())
    reorderSeconds = seconds(try clock.measure { try copy.reorder() })
    progress("ruvector reorder: " + String(format: "%.2f s", reorderSeconds))
    reorderedSweep = try sweep(copy, efs)
    ours = zip(ours, try sweep(index, efs)).map { a, b in (a.ef, a.recall, max(a.qps, b.qps)) }
    let again = try sweep(copy, efs)
    reorderedSweep = zip(reorderedSweep, again).map { a, b in (a.ef, a.recall, max(a.qps, b.qps)) }
    reorderedIndex = copy
}
/// The index the walks on codes and the tiered run change: the renumbered copy with --reorder.
let codesIndex = reorderedIndex ?? index

// --floor: the pointer-chasing floor (WalkFloor.swift) and each walk's work at recall 0.95.
var floorRows: [String] = []
var chaseNs = Double.nan, linesNs = Double.nan, inCacheNs = Double.nan
if floorAccount {
    chaseNs = pointerChaseNanoseconds(bytes: index.memoryBytes)
    linesNs = pointerChaseNanoseconds(bytes: index.memoryBytes, chains: 16)
    inCacheNs = inCacheDistanceNanoseconds(.l2Squared, vectors: queries)
    progress("pointer chase over \(index.memoryBytes >> 20) MiB: " + String(format: "%.1f ns a load, %.1f with 16 in flight", chaseNs, linesNs))
    floorRows.append(try walkFloorRow(reorder ? "f32 walk, insertion order" : "f32 walk", index, rows: ours, queries: queries,
                                      k: k, oversampling: nil, walkBytes: dim * 4, chaseNs: chaseNs, linesNs: linesNs,
                                      kernelNs: inCacheNs))
    if let reorderedIndex {
        floorRows.append(try walkFloorRow("f32 walk, renumbered", reorderedIndex, rows: reorderedSweep, queries: queries,
                                          k: k, oversampling: nil, walkBytes: dim * 4, chaseNs: chaseNs, linesNs: linesNs,
                                          kernelNs: inCacheNs))
    }
}
let bytesPerVector = Double(index.memoryBytes) / Double(n)

// Searches on one thread, then on every core at once (each thread takes every `cores`-th query), at ef 64.
let concurrentEf = 64
let oursSearch1 = Double(nq) / seconds(clock.measure {
    for q in queries { _ = try? index.search(q, k: k, ef: concurrentEf, oversampling: nil) }
})
let concurrentSearchTime = seconds(clock.measure {
    DispatchQueue.concurrentPerform(iterations: cores) { t in
        for qi in stride(from: t, to: nq, by: cores) { _ = try? index.search(queries[qi], k: k, ef: concurrentEf, oversampling: nil) }
    }
})
let concurrentQps = Double(nq) / concurrentSearchTime

// Distance kernels: one query against all base vectors, ns per distance.
var kernelNs: [String: Double] = [:]
for metric in [DistanceMetric.l2Squared, .dot, .cosine] {
    var best = Double.infinity
    flat.withUnsafeBufferPointer { fp in
        queries[0].withUnsafeBufferPointer { qp in
            distances.withUnsafeMutableBufferPointer { dp in
                for _ in 0..<5 {
                    let t = seconds(clock.measure {
                        metric.batchDistance(query: qp.baseAddress!, base: fp.baseAddress!, count: n,
                                             dimension: dim, into: dp.baseAddress!)
                    })
                    best = min(best, t / Double(n) * 1e9)
                }
            }
        }
    }
    kernelNs[metric.rawValue] = best
}

// Walks on codes, last (they change `index`): f16, int8, then int4 residuals, rescoring 4 x k on f32.
var quantizedSweeps: [(name: String, rows: Sweep)] = []
if quantized {
    for (name, kind) in [("float16", QuantizationKind.float16), ("int8", .scalarInt8), ("int4", .scalarInt4)] {
        try codesIndex.enableQuantization(kind, sampleSize: 10_000, seed: 1)
        quantizedSweeps.append(("ruvector, \(name) walk + f32 rescoring", try sweep(codesIndex, efs, oversampling: 4)))
        if floorAccount {
            floorRows.append(try walkFloorRow("\(name) walk + f32 rescoring" + (reorder ? ", renumbered" : ""), codesIndex,
                                              rows: quantizedSweeps.last!.rows, queries: queries, k: k, oversampling: 4,
                                              walkBytes: kind.codeBytes(dimension: dim), chaseNs: chaseNs, linesNs: linesNs,
                                              kernelNs: nil))
        }
    }
}

// Tiered compression, last of all: traffic moves vectors between tiers, a manual pass after each round.
var tieredSweeps: [(name: String, rows: Sweep)] = []
var tieredSummary: [String] = []
var tieredDiagnosis: [String] = []
if tiered {
    let policy = TierPolicy(hotThreshold: 1_000, retierIntervalQueries: 0)
    try codesIndex.enableQuantization(.tiered(policy), sampleSize: 10_000, seed: 1)
    let popular = Array(0..<max(1, nq / 10)), others = Array(max(1, nq / 10)..<nq)
    var pick = SeededGenerator(seed: 9)
    let rounds = 8, searchesPerRound = 10_000
    var retierSeconds = 0.0
    for round in 1...rounds {
        for _ in 0..<searchesPerRound {
            let fromPopular = pick.next() % 10 < 9
            let qi = fromPopular ? popular[Int(pick.next() % UInt64(popular.count))] : others[Int(pick.next() % UInt64(others.count))]
            _ = try codesIndex.search(queries[qi], k: k, ef: 64)
        }
        retierSeconds += seconds(clock.measure { codesIndex.retier() })
        let s = codesIndex.tierStatistics!
        tieredSummary.append("| \(round) | " + CompressionTier.allCases.map { "\(s.counts[$0] ?? 0)" }.joined(separator: " | ")
                             + " | \(f(Double(s.codeBytes) / Double(n), 0)) |")
    }
    tieredSummary.append("re-tiering passes: \(f(retierSeconds / Double(rounds), 2)) s each on average (encoding movers from full vectors)")
    let tieredEfs = [32, 64, 128, 256]
    tieredSweeps = [("tiered, popular queries", try sweep(codesIndex, tieredEfs, oversampling: 4, subset: popular)),
                    ("tiered, other queries", try sweep(codesIndex, tieredEfs, oversampling: 4, subset: others)),
                    ("tiered, other queries, oversampling 8", try sweep(codesIndex, tieredEfs, oversampling: 8, subset: others)),
                    ("tiered, all queries", try sweep(codesIndex, tieredEfs, oversampling: 4))]
    let cases = tierDiagnosisCases(k: k)
    tieredDiagnosis = try diagnoseTiers(codesIndex, queries: queries, truth: truth, subset: others, label: "rare", cases: cases,
                                        k: k, efs: [64, 128, 256])
    tieredDiagnosis += [""] + (try diagnoseTiers(codesIndex, queries: queries, truth: truth, subset: popular, label: "popular",
                                                 cases: [cases[0], cases[2], cases[cases.count - 1]], k: k, efs: [64, 128, 256]))
}

// Peers, same data, same run.
progress("running peers (\(peers.joined(separator: ", ")), simsimd) ...")
let process = Process()
process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("peer.py").path
process.arguments = ["python3", script, dir.path, "\(n)", "\(dim)", "\(nq)", "\(m)", "\(efc)",
                     efs.map(String.init).joined(separator: ","), "\(concurrentEf)", "\(buildThreads)", quantized ? "1" : "0",
                     peers.joined(separator: ","), cache ? "1" : "0", "\(seed)"]
if peerHugePages {
    process.environment = ProcessInfo.processInfo.environment.merging(["GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"]) { $1 }
}
let pipe = Pipe()
process.standardOutput = pipe
try process.run()
let output = pipe.fileHandleForReading.readDataToEndOfFile()
process.waitUntilExit()
guard process.terminationStatus == 0,
      let peer = (try? JSONSerialization.jsonObject(with: output)) as? [String: Any] else {
    // Its own error (a missing package, most often) is on stderr above.
    FileHandle.standardError.write(Data("vector-bench: peer.py (python3 on PATH) exited with \(process.terminationStatus) and no result; "
        .appending("install the peers with `pip install -r scripts/requirements-bench.txt` and put that python3 first on PATH\n").utf8))
    exit(1)
}

func rows(_ name: String) -> Sweep {
    ((peer[name] as? [String: Any])?["sweep"] as? [[Double]] ?? []).map { (Int($0[0]), $0[1], $0[2]) }
}
func f(_ x: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", x) }

print("\n## \(n) x \(dim), \(nq) queries, k=\(k), M=\(m), efConstruction=\(efc), single-thread search"
      + (peerHugePages ? "; peers on transparent huge pages (glibc.malloc.hugetlb=1)" : ""))
let graphPeers = ["hnswlib", "usearch"].filter { peer[$0] != nil }
var engines: [(name: String, rows: Sweep)] = [("ruvector", ours)]
if reorder { engines.append(("ruvector, renumbered breadth-first", reorderedSweep)) }
if parallelIndex != nil { engines.append(("ruvector (graph built on \(cores) threads)", oursParallelBuilt)) }
engines += graphPeers.map { ($0, rows($0)) }
print("\n| engine | ef | recall@10 | QPS |\n|---|---|---|---|")
for (name, sweepRows) in engines + quantizedSweeps + (quantized ? [("usearch f16", rows("usearch_f16"))] : []) {
    for r in sweepRows { print("| \(name) | \(r.ef) | \(f(r.recall, 3)) | \(f(r.qps, 0)) |") }
}
// Graph quality apart from speed: recall of each graph at the same ef.
print("\n| ef | recall@10: " + engines.map(\.name).joined(separator: " | ") + " |")
print("|---|" + engines.map { _ in "---|" }.joined())
for (i, ef) in efs.enumerated() {
    print("| \(ef) | " + engines.map { $0.rows.count > i ? f($0.rows[i].recall, 3) : "-" }.joined(separator: " | ") + " |")
}
printTargets("Full-precision walks", engines, against: graphPeers.map { ($0, rows($0)) })
if quantized {
    let references = [("hnswlib f32", rows("hnswlib")), ("usearch f16", rows("usearch_f16"))].filter { !$0.1.isEmpty }
    printTargets("Compressed walks", quantizedSweeps + [("usearch f16", rows("usearch_f16"))].filter { !$0.1.isEmpty },
                 against: references)
}
if floorAccount {
    print("\n### Where a walk's time goes at recall 0.95 (WalkFloor.swift), single thread\n")
    print(String(format: "Pointer chase over %d MiB (the index's memory, huge pages): %.1f ns a dependent load, ", index.memoryBytes >> 20, chaseNs)
          + String(format: "%.1f ns a line with 16 chases in flight; l2Squared on %d dims in cache: %.1f ns a distance.\n", linesNs, dim, inCacheNs))
    print("| walk | ef | recall@10 | µs a query | nodes expanded | distances | one miss per expansion, µs | lines loaded: µs at 16 in flight | distances in cache, µs | floor QPS (measured / floor) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in floorRows { print(row) }
}
if tiered {
    print("\n| tiered: after round (10,000 searches, then a pass) | hot | warm | cool | cold | archive | walk code bytes/vector |")
    print("|---|---|---|---|---|---|---|")
    for line in tieredSummary { print(line) }
    print("f32 is \(dim * 4) bytes/vector, int8 \(dim), hnswlib's whole index \(f((peer["hnswlib"] as? [String: Any])?["bytes_per_vector"] as? Double ?? .nan, 0)); full vectors stay held for rescoring.")
    print("\n| tiered search (rescoring 4 x k unless stated) | ef | recall@10 | QPS |\n|---|---|---|---|")
    for (name, sweepRows) in tieredSweeps + [("hnswlib f32, all queries", rows("hnswlib"))] {
        for r in sweepRows where [32, 64, 128, 256].contains(r.ef) { print("| \(name) | \(r.ef) | \(f(r.recall, 3)) | \(f(r.qps, 0)) |") }
    }
    print("\n### Why rare regions lose recall: one cause a row, same index and tiers\n")
    for line in tieredDiagnosis { print(line) }
}
let hb = (peer["hnswlib"] as? [String: Any]) ?? [:], ub = (peer["usearch"] as? [String: Any]) ?? [:]
let hBuild1 = hb["build_seconds_1thread"] as? Double ?? .nan, hBuildAll = hb["build_seconds_all"] as? Double ?? .nan
let uBuild1 = ub["build_seconds_1thread"] as? Double ?? .nan
print("\n| build | seconds | ruvector / peer |\n|---|---|---|")
if buildThreads > 0 {
    let t = buildThreads, hBuild = hb["build_seconds"] as? Double ?? .nan, uBuild = ub["build_seconds"] as? Double ?? .nan
    print("| ruvector (\(t) thread(s)) | \(f(buildTime, 2)) | |")
    print("| hnswlib (\(t) thread(s)) | \(f(hBuild, 2)) | \(f(buildTime / hBuild, 2))x |")
    print("| usearch (\(t) thread(s)) | \(f(uBuild, 2)) | \(f(buildTime / uBuild, 2))x |")
} else {
print("| ruvector (1 thread) | \(f(buildTime, 2)) | |")
print("| ruvector (all \(cores) cores) | \(f(parallelBuildTime, 2)) | |")
print("| hnswlib (1 thread) | \(f(hBuild1, 2)) | \(f(buildTime / hBuild1, 2))x |")
print("| hnswlib (all cores) | \(f(hBuildAll, 2)) | \(f(buildTime / hBuildAll, 2))x; all cores vs all cores: \(f(parallelBuildTime / hBuildAll, 2))x |")
print("| usearch (1 thread) | \(f(uBuild1, 2)) | \(f(buildTime / uBuild1, 2))x |")
}
if reorder { print("| ruvector reorder (renumbering the built graph breadth-first) | \(f(reorderSeconds, 2)) | |") }
let hSearch1 = hb["batch_search_qps_1thread"] as? Double ?? .nan, hSearchAll = hb["batch_search_qps_all"] as? Double ?? .nan
print("\n| search QPS at ef \(concurrentEf) | 1 thread | \(cores) threads | speed-up |\n|---|---|---|---|")
print("| ruvector (one search per call, \(cores) threads calling) | \(f(oursSearch1, 0)) | \(f(concurrentQps, 0)) | \(f(concurrentQps / oursSearch1, 2))x |")
print("| hnswlib (knn_query on all queries, num_threads) | \(f(hSearch1, 0)) | \(f(hSearchAll, 0)) | \(f(hSearchAll / hSearch1, 2))x |")
print("\n| memory | bytes/vector |\n|---|---|")
print("| ruvector (vectors + links + ids) | \(f(bytesPerVector, 0)) |")
if let hm = hb["bytes_per_vector"] as? Double { print("| hnswlib (index file size / n) | \(f(hm, 0)) |") }
if let um = ub["bytes_per_vector"] as? Double { print("| usearch (index file size / n) | \(f(um, 0)) |") }
let simsimd = (peer["simsimd_ns"] as? [String: Double]) ?? [:]
print("\n| kernel (dim \(dim), 1 x \(n) batch) | ruvector ns/op | simsimd ns/op | ratio |\n|---|---|---|---|")
for (ours, theirs) in [("l2Squared", "sqeuclidean"), ("dot", "inner"), ("cosine", "cosine")] {
    let o = kernelNs[ours] ?? .nan, s = simsimd[theirs] ?? .nan
    print("| \(ours) | \(f(o, 2)) | \(f(s, 2)) | \(f(o / s, 2))x |")
}
print("kernels in use: \(DistanceKernels.useAVX2 ? "AVX2+FMA (C, chosen at start-up)" : "SIMD16 Swift (portable)")")
print("\nnote: simsimd's cosine computes norms per pair; ours is a dot product on pre-normalised vectors.")
