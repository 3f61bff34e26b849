// vector-build-scaling: cumulative single-point HNSW build time at growing sizes, ours and
// hnswlib's (peer.py beside this file) on the same seeded data, same run.
//
//   swift run -c release vector-build-scaling [--sizes 100000,200000,400000] [--dim 128] [--m 16] [--efc 200] [--threads 1] [--fingerprint]
//
// --fingerprint: print a hash of the built graph's links instead of timing hnswlib.
//
// One build grows through every size (the same graph as separate builds of each size); the
// time at each size is the time to insert the first `size` points.
import Foundation
import VectorEngine

let options = BuildScalingOptions.parseOrExit()
let sizes = options.sizes.values.sorted()
let dim = options.build.dimension, m = options.build.m, efc = options.build.efConstruction, threads = options.threads
// validate() refuses an empty list.
let n = sizes[sizes.count - 1]

// The data vector-bench makes: 100 clustered Gaussian centres, seeded.
var rng = SeededGenerator(seed: 2026)
let centres = (0..<100).map { _ in (0..<dim).map { _ in Float(rng.nextGaussian()) * 3 } }
var flat = [Float](); flat.reserveCapacity(n * dim)
for _ in 0..<n {
    let c = centres[Int(rng.next() % 100)]
    for x in c { flat.append(x + Float(rng.nextGaussian())) }
}
let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vector-build-scaling-\(n)x\(dim)")
try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
try flat.withUnsafeBytes { try Data($0).write(to: dir.appendingPathComponent("base.f32")) }

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
/// CPU seconds this process has used (all threads): less sensitive than wall time to other
/// jobs on a shared machine.
func cpuSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}
let clock = ContinuousClock()
let index = try HNSWIndex(dimension: dim, metric: .l2Squared, parameters: .init(m: m, efConstruction: efc, seed: 1))
var ours: [Double] = [], oursCPU: [Double] = []
var elapsed = 0.0, elapsedCPU = 0.0, done = 0
for size in sizes {
    let chunk = (done..<size).map { i in VectorPoint(id: UInt64(i), vector: Array(flat[(i * dim)..<((i + 1) * dim)])) }
    let cpu0 = cpuSeconds()
    elapsed += seconds(try clock.measure {
        if threads == 1 { for p in chunk { try index.upsert(id: p.id, vector: p.vector, payload: [:]) } }
        else { try index.upsert(chunk, threads: threads) }
    })
    elapsedCPU += cpuSeconds() - cpu0
    done = size
    ours.append(elapsed); oursCPU.append(elapsedCPU)
    FileHandle.standardError.write(Data("ruvector \(size): \(String(format: "%.2f s, %.2f s CPU", elapsed, elapsedCPU))\n".utf8))
}

if options.fingerprint {
    // FNV-1a over every link slot and the entry point: equal graphs print equal numbers.
    let state = index.exportState()
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for x in state.level0Links + state.upperLinks.flatMap({ $0 }) + [state.entryPoint ?? .max] {
        h = (h ^ UInt64(x)) &* 0x100_0000_01b3
    }
    print("graph fingerprint: \(String(h, radix: 16))")
    exit(0)
}

let process = Process()
process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("peer.py").path
process.arguments = ["python3", script, dir.path, "\(dim)", "\(m)", "\(efc)", "\(threads)", sizes.map(String.init).joined(separator: ",")]
let pipe = Pipe()
process.standardOutput = pipe
try process.run()
let output = pipe.fileHandleForReading.readDataToEndOfFile()
process.waitUntilExit()
let peer = (try? JSONSerialization.jsonObject(with: output) as? [String: [Double]]) ?? [:]

/// Rows of `n | seconds | per-insert us` for ours and hnswlib's, and the ratio.
func table(_ title: String, _ ours: [Double], _ theirs: [Double]) {
    print("\n\(title)\n\n| n | ruvector s | per-insert us | hnswlib s | per-insert us | ratio |\n|---|---|---|---|---|---|")
    var previous = 0
    for (i, size) in sizes.enumerated() {
        let o = ours[i], h = i < theirs.count ? theirs[i] : .nan
        let oPrev = i > 0 ? ours[i - 1] : 0, hPrev = i > 0 && i - 1 < theirs.count ? theirs[i - 1] : 0
        let step = Double(size - previous)
        print(String(format: "| %d | %.2f | %.1f | %.2f | %.1f | %.2fx |", size, o, (o - oPrev) / step * 1e6,
                     h, (h - hPrev) / step * 1e6, o / h))
        previous = size
    }
}
table("wall clock", ours, peer["wall"] ?? [])
table("CPU time (process)", oursCPU, peer["cpu"] ?? [])
print("(per-insert: mean over the inserts since the previous size; \(threads) thread(s), M=\(m), efConstruction=\(efc), dim \(dim))")
