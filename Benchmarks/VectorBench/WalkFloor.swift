// vector-bench --floor 1: where a walk's time goes at recall 0.95, beside what this machine's
// memory allows. A walk expands nodes one after another: each expansion needs the neighbours
// of the node just chosen, so at least one dependent memory access each (the walk prefetches
// the neighbours' vectors or codes together, so their misses overlap). The pointer-chasing
// floor is that one access per expansion, at the latency measured by chasing pointers through
// a buffer the size of the index (on huge pages, as the engine's memory is). The lines floor
// is every cache line the walk must load at the rate 16 chases in flight reach; the distance
// column is the kernel's time on vectors already in cache, times the distances measured.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
@_spi(Benchmarks) import VectorEngine

/// Nanoseconds per load, chasing `chains` random cycles at once through `bytes` of memory in
/// 64-byte steps (Sattolo's shuffle: one cycle through every line, each chain starting at
/// another place on it), on transparent huge pages. One chain: the latency of a dependent load.
/// Several: the time per cache line when that many misses are in flight, as when a walk loads
/// the vectors or codes of a node's neighbours together.
func pointerChaseNanoseconds(bytes: Int, chains: Int = 1, steps: Int = 20_000_000, seed: UInt64 = 11) -> Double {
    let line = 64, words = line / MemoryLayout<Int>.stride
    let lines = max(2, bytes / line)
    let size = lines * line
    guard let raw = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), raw != MAP_FAILED else {
        return .nan
    }
    defer { munmap(raw, size) }
    _ = madvise(raw, size, MADV_HUGEPAGE)
    let slots = raw.bindMemory(to: Int.self, capacity: size / MemoryLayout<Int>.stride)
    var next = Array(0..<lines)
    var random = SeededGenerator(seed: seed)
    for i in stride(from: lines - 1, to: 0, by: -1) { next.swapAt(i, Int(random.next() % UInt64(i))) }
    for i in 0..<lines { slots[i * words] = next[i] * words }
    var at = 0
    for _ in 0..<lines { at = slots[at] }          // one lap: pages touched, TLB warm as it gets
    var heads = [Int](repeating: 0, count: chains)
    for c in 0..<chains { for _ in 0..<(lines / chains) { at = slots[at] }; heads[c] = at }
    let clock = ContinuousClock()
    let rounds = steps / chains
    let elapsed = heads.withUnsafeMutableBufferPointer { h in
        clock.measure {
            for _ in 0..<rounds {
                for c in 0..<chains { h[c] = slots[h[c]] }
            }
        }
    }
    if heads.contains(-1) { print("") }            // keeps the chase from being optimised away
    return seconds(elapsed) * 1e9 / Double(rounds * chains)
}

/// Nanoseconds per distance between vectors already in cache (64 of them, measured in turn).
func inCacheDistanceNanoseconds(_ metric: DistanceMetric, vectors: [[Float]]) -> Double {
    let few = Array(vectors.prefix(64)).flatMap { $0 }
    let dim = vectors[0].count, count = few.count / dim
    var sink: Float = 0
    let rounds = max(1, 2_000_000 / count)
    let elapsed = few.withUnsafeBufferPointer { p in
        ContinuousClock().measure {
            for r in 0..<rounds {
                let a = p.baseAddress! + (r % count) * dim
                for j in 0..<count { sink += metric.distance(a, p.baseAddress! + j * dim, count: dim) }
            }
        }
    }
    if sink.isNaN { print("") }
    return seconds(elapsed) * 1e9 / Double(rounds * count)
}

/// One row of the floor table: the walk at the smallest ef of `rows` reaching recall 0.95, its
/// measured time per query, the nodes it expands and distances it measures (means over
/// `queries`), and the floors: one dependent miss per expansion; the cache lines it must load
/// (each measured vector or code, each expanded node's link list, and the rescored full
/// vectors) at the time a line takes with many misses in flight (`linesNs`); the distances on
/// vectors in cache (`kernelNs`; nil for walks on codes, whose kernels are not reachable from
/// here). `walkBytes` is what one distance reads (a vector or a code).
func walkFloorRow(_ name: String, _ index: HNSWIndex, rows: Sweep, queries: [[Float]], k: Int, oversampling: Int?,
                  walkBytes: Int, chaseNs: Double, linesNs: Double, kernelNs: Double?) throws -> String {
    guard let at = rows.first(where: { $0.recall >= 0.95 }) else { return "| \(name) | recall 0.95 not reached | | | | | | |" }
    var expansions = 0, measured = 0
    for q in queries {
        let work = try index.walkWork(q, k: k, ef: at.ef, oversampling: oversampling)
        expansions += work.expansions
        measured += work.distances
    }
    let perQuery = (Double(expansions) / Double(queries.count), Double(measured) / Double(queries.count))
    let microseconds = 1e6 / at.qps
    let dim = queries[0].count
    let linkLines = (2 * index.parameters.m + 1 + 15) / 16
    let rescoredLines = oversampling.map { Double($0 * k * ((dim * 4 + 63) / 64)) } ?? 0
    let lines = perQuery.1 * Double((walkBytes + 63) / 64) + perQuery.0 * Double(linkLines) + rescoredLines
    let chase = perQuery.0 * chaseNs / 1000
    let loads = lines * linesNs / 1000
    let kernel = kernelNs.map { perQuery.1 * $0 / 1000 }
    let floor = max(chase, loads, kernel ?? 0)
    func f(_ x: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", x) }
    return "| \(name) | \(at.ef) | \(f(at.recall, 3)) | \(f(microseconds)) | \(f(perQuery.0, 0)) | \(f(perQuery.1, 0)) | "
        + "\(f(chase)) | \(f(lines, 0)) lines: \(f(loads)) | \(kernel.map { f($0) } ?? "-") | "
        + "\(f(1e6 / floor, 0)) (\(f(microseconds / floor, 1))x) |"
}
