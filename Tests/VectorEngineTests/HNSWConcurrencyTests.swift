import Foundation
import Synchronization
import Testing
@testable import VectorEngine

/// Parallel build (`upsert(_:threads:)`) and searches running beside writers.
@Suite struct HNSWConcurrencyTests {
    static let dimension = 32

    /// Held-out points of the same clusters (seed 1), as `HNSWTests.queries`.
    func queries(count: Int = 2000) -> [[Float]] {
        Array(clusteredData(count: count + 50, dimension: Self.dimension, seed: 1).suffix(50))
    }

    // Same data, parameters and thresholds as HNSWTests.recallAgainstOracle.
    @Test(arguments: [(DistanceMetric.l2Squared, 0.95), (.cosine, 0.95), (.manhattan, 0.93), (.dot, 0.9)])
    func parallelBuildRecallAgainstOracle(metric: DistanceMetric, threshold: Double) throws {
        let data = Array(clusteredData(count: 2050, dimension: Self.dimension, seed: 1).prefix(2000))
        let index = try HNSWIndex(dimension: Self.dimension, metric: metric,
                                  parameters: .init(m: 12, efConstruction: 100, seed: 1))
        let oracle = try BruteForceIndex(dimension: Self.dimension, metric: metric)
        let batch = makePoints(data)
        for p in batch { try oracle.upsert(id: p.id, vector: p.vector, payload: p.payload) }
        try index.upsert(batch, threads: 4)
        #expect(index.count == 2000)
        let r = try recall({ try index.search($0, k: 10, ef: 100) }, oracle: oracle, queries: queries(), k: 10)
        #expect(r >= threshold, "\(metric) recall@10 \(r)")
        #expect(index.invariantViolations().isEmpty, "\(index.invariantViolations().prefix(3))")
    }

    /// A small batch into an empty index on several threads: every point is reachable. (Two
    /// nodes linking at once could leave one with no way in: a search that entered a node not
    /// yet linked on a level took it as its only neighbour there, and the link it added back
    /// was overwritten when that node set its own list. ruvector upsert of 500 points into a
    /// fresh collection then missed exact neighbours at ef 400.)
    @Test(arguments: [2, 4])
    func smallParallelBatchesLeaveNoPointUnreachable(threads: Int) throws {
        var missed = 0
        for seed in 0..<8 {
            var rng = SeededGenerator(seed: UInt64(seed))
            let data = (0..<500).map { _ in (0..<8).map { _ in Float.random(in: 0..<1, using: &rng) } }
            let index = try HNSWIndex(dimension: 8, metric: .l2Squared, parameters: .init(m: 16, efConstruction: 200))
            try index.upsert(makePoints(data), threads: threads)
            for vector in data {
                // The 5 nearest by an exact scan (plain loops: a sort per point took most of the
                // test's minute in a debug build).
                var exact: [(distance: Float, id: Int)] = []
                for (id, point) in data.enumerated() {
                    var distance: Float = 0
                    for d in 0..<8 { distance += (point[d] - vector[d]) * (point[d] - vector[d]) }
                    if exact.count == 5, (distance, id) >= (exact[4].distance, exact[4].id) { continue }
                    if exact.count == 5 { exact.removeLast() }
                    let at = exact.firstIndex { (distance, id) < ($0.distance, $0.id) } ?? exact.count
                    exact.insert((distance, id), at: at)
                }
                missed += Set(exact.map { UInt64($0.id) }).subtracting(try index.search(vector, k: 5, ef: 400).map(\.id)).count
            }
            #expect(index.invariantViolations().isEmpty)
        }
        #expect(missed == 0, "\(missed) of 20,000 exact neighbours (5 per point) not found at ef 400")
    }

    @Test func parallelBuildDrawsTheLevelsOfAOneByOneBuild() throws {
        let data = clusteredData(count: 1200, dimension: Self.dimension, seed: 3)
        let parameters = HNSWParameters(m: 8, efConstruction: 60, seed: 9)
        let serial = try HNSWIndex(dimension: Self.dimension, metric: .l2Squared, parameters: parameters)
        for p in makePoints(data) { try serial.upsert(id: p.id, vector: p.vector, payload: p.payload) }
        let parallel = try HNSWIndex(dimension: Self.dimension, metric: .l2Squared, parameters: parameters)
        // Two batches: the second lands on a non-empty graph.
        try parallel.upsert(makePoints(data[..<700]), threads: 3)
        try parallel.upsert(makePoints(data[700...], firstId: 700), threads: 3)
        let a = serial.exportState(), b = parallel.exportState()
        #expect(a.levels == b.levels)
        #expect(a.externalIds == b.externalIds && a.vectors == b.vectors && a.payloads == b.payloads)
        #expect(a.generatorState == b.generatorState)
        #expect(b.entryPoint.map { b.levels[Int($0)] } == b.levels.max())
        #expect(parallel.invariantViolations().isEmpty)
    }

    /// A batch with new ids, updates of existing ids (one tombstoned), and an id given twice,
    /// into an index that has quantization on: the outcome is that of one-by-one upserts.
    @Test func batchUpdatesDuplicatesAndQuantizationBehaveAsOneByOne() throws {
        let all = clusteredData(count: 2050, dimension: Self.dimension, seed: 4)
        let data = Array(all.prefix(2000)), qs = Array(all.suffix(50))
        let index = try HNSWIndex(dimension: Self.dimension, metric: .l2Squared,
                                  parameters: .init(m: 12, efConstruction: 100))
        let oracle = try BruteForceIndex(dimension: Self.dimension, metric: .l2Squared)
        try index.upsert(makePoints(data[..<800]), threads: 2)
        try index.enableQuantization(.scalarInt8, sampleSize: 800)
        #expect(index.delete(id: 3))
        var batch = makePoints(data[800...], firstId: 800)
        let moved = (0..<100).map { i in
            VectorPoint(id: UInt64(i), vector: data[1999 - i].map { $0 + 0.01 }, payload: ["moved": .bool(true)])
        }
        batch.insert(contentsOf: moved, at: 300)
        batch.append(VectorPoint(id: 900, vector: data[5], payload: ["twice": .bool(true)]))
        try index.upsert(batch, threads: 4)

        for p in makePoints(data[..<800]) + batch { try oracle.upsert(id: p.id, vector: p.vector, payload: p.payload) }
        #expect(index.count == 2000 && index.deletedCount == 0)
        #expect(index.vector(id: 900) == data[5] && index.payload(id: 900) == ["twice": .bool(true)])
        #expect(index.vector(id: 3) == moved[3].vector && index.payload(id: 3) == ["moved": .bool(true)])
        #expect(index.invariantViolations().isEmpty, "\(index.invariantViolations().prefix(3))")
        let r = try recall({ try index.search($0, k: 10, ef: 100) }, oracle: oracle, queries: qs, k: 10)
        #expect(r >= 0.93, "recall@10 \(r)")
        #expect(throws: VectorEngineError.self) {
            try index.upsert([VectorPoint(id: 5000, vector: data[0]), VectorPoint(id: 5001, vector: [1])], threads: 2)
        }
        #expect(index.count == 2000, "a bad point writes nothing")
    }

    /// Three searchers run while one thread adds batches (each linked on 2 threads) and another
    /// deletes. A hit must be an inserted id that no delete finished removing before the
    /// search began, at its true distance; afterwards recall and invariants must hold.
    @Test func searchesBesideParallelInsertsAndDeletes() throws {
        let total = 2000, initial = 400
        let all = clusteredData(count: total + 50, dimension: Self.dimension, seed: 6)
        let data = Array(all.prefix(total)), qs = Array(all.suffix(50))
        let index = try HNSWIndex(dimension: Self.dimension, metric: .l2Squared,
                                  parameters: .init(m: 12, efConstruction: 100))
        try index.upsert(makePoints(data[..<initial]), threads: 2)
        let doomed = Array(stride(from: 0, to: total, by: 7).map(UInt64.init))
        let log = SharedLog()
        log.inserting(upTo: initial)
        log.inserted(upTo: initial)

        var bodies: [@Sendable () -> Void] = []
        bodies.append {
            var next = initial
            while next < total {
                let end = min(total, next + 160)
                log.inserting(upTo: end)
                do { try index.upsert(makePoints(data[next..<end], firstId: next), threads: 2) } catch { log.fail("upsert: \(error)") }
                log.inserted(upTo: end)
                next = end
            }
        }
        bodies.append {
            var i = 0
            while i < doomed.count {
                let id = doomed[i]
                // Delete only what is already in, so every id ends up deleted exactly once.
                guard Int(id) < log.insertedCount else { Thread.sleep(forTimeInterval: 0.001); continue }
                if !index.delete(id: id) { log.fail("delete \(id) found nothing") }
                log.deleted(id)
                i += 1
            }
        }
        for s in 0..<3 {
            bodies.append {
                var round = 0
                while round < 40 || !log.writersDone(deletes: doomed.count, inserts: total) {
                    let q = qs[(round * 3 + s) % qs.count]
                    let goneBefore = log.deletedIds
                    do {
                        let hits = try index.search(q, k: 10, ef: 40)
                        let insertedBy = log.insertStartedCount
                        for hit in hits {
                            guard Int(hit.id) < insertedBy, !goneBefore.contains(hit.id) else {
                                log.fail("hit \(hit.id) is not live"); continue
                            }
                            let want = DistanceMetric.l2Squared.distance(q, data[Int(hit.id)])
                            if abs(hit.distance - want) > 1e-3 * max(1, want) { log.fail("hit \(hit.id) distance \(hit.distance) != \(want)") }
                        }
                    } catch { log.fail("search: \(error)") }
                    round += 1
                }
            }
        }
        runOnThreads(bodies)

        #expect(log.failures.isEmpty, "\(log.failures.prefix(5))")
        #expect(index.count == total - doomed.count)
        #expect(index.invariantViolations().isEmpty, "\(index.invariantViolations().prefix(3))")
        let oracle = try BruteForceIndex(dimension: Self.dimension, metric: .l2Squared)
        let gone = Set(doomed)
        for (i, v) in data.enumerated() where !gone.contains(UInt64(i)) { try oracle.upsert(id: UInt64(i), vector: v) }
        let r = try recall({ try index.search($0, k: 10, ef: 100) }, oracle: oracle, queries: qs, k: 10)
        #expect(r >= 0.95, "recall@10 after concurrent writers \(r)")
    }

    /// Search A pauses in the middle of its walk while search B runs from start to end. If
    /// both used the same visited set, heaps or prepared query, B would reset or overwrite
    /// A's state and A's answer would change; if searches excluded each other, B would wait
    /// for A, which waits for B (the pause gives up after 10 s and records it).
    @Test(arguments: [nil, QuantizationKind.pq8(subspaces: 8)])
    func concurrentSearchesUseSeparateScratch(quantization: QuantizationKind?) throws {
        let all = clusteredData(count: 1500, dimension: Self.dimension, seed: 8)
        let index = try HNSWIndex(dimension: Self.dimension, metric: .l2Squared,
                                  parameters: .init(m: 12, efConstruction: 100))
        try index.upsert(makePoints(all.prefix(1450)), threads: 2)
        if let quantization { try index.enableQuantization(quantization, sampleSize: 1000) }
        // Two queries from different clusters (16 clusters, assigned round-robin).
        let qa = all[1450], qb = all[1451]
        let wantA = try index.search(qa, k: 10, ef: 64), wantB = try index.search(qb, k: 10, ef: 64)
        #expect(Set(wantA.map(\.id)).isDisjoint(with: wantB.map(\.id)))

        let aPaused = DispatchSemaphore(value: 0), bDone = DispatchSemaphore(value: 0)
        let log = SharedLog()
        runOnThreads([
            {
                let hits = try? index.search(qa, k: 10, ef: 64, filter: nil, strategy: .graph, oversampling: 4,
                                             probe: {
                    aPaused.signal()
                    if bDone.wait(timeout: .now() + 10) == .timedOut { log.fail("search B could not run while A was searching") }
                })
                log.record("A", hits ?? [])
            },
            {
                aPaused.wait()
                let hits = try? index.search(qb, k: 10, ef: 64)
                log.record("B", hits ?? [])
                bDone.signal()
            },
        ])
        #expect(log.failures.isEmpty, "\(log.failures)")
        #expect(log.results["A"] == wantA)
        #expect(log.results["B"] == wantB)
    }
}

/// Points with ids `firstId...` and a small payload.
func makePoints(_ data: some Collection<[Float]>, firstId: Int = 0) -> [VectorPoint] {
    data.enumerated().map { i, v in
        VectorPoint(id: UInt64(firstId + i), vector: v, payload: ["group": .int(Int64((firstId + i) % 10))])
    }
}

/// What the threads of a test saw, shared between them.
final class SharedLog: Sendable {
    private struct State {
        var failures: [String] = []
        var deleted: Set<UInt64> = []
        var insertStartedCount = 0
        var insertedCount = 0
        var results: [String: [SearchHit]] = [:]
    }
    private let state = Mutex(State())

    func fail(_ message: String) { state.withLock { $0.failures.append(message) } }
    func deleted(_ id: UInt64) { state.withLock { _ = $0.deleted.insert(id) } }
    func inserting(upTo count: Int) { state.withLock { $0.insertStartedCount = count } }
    func inserted(upTo count: Int) { state.withLock { $0.insertedCount = count } }
    func record(_ name: String, _ hits: [SearchHit]) { state.withLock { $0.results[name] = hits } }
    var failures: [String] { state.withLock { $0.failures } }
    var deletedIds: Set<UInt64> { state.withLock { $0.deleted } }
    /// Ids below this may be in the index (their batch has at least started).
    var insertStartedCount: Int { state.withLock { $0.insertStartedCount } }
    var insertedCount: Int { state.withLock { $0.insertedCount } }
    var results: [String: [SearchHit]] { state.withLock { $0.results } }
    func writersDone(deletes: Int, inserts: Int) -> Bool {
        state.withLock { $0.deleted.count == deletes && $0.insertedCount == inserts }
    }
}

/// Runs each body on its own thread (not the cooperative pool, which may have as few
/// threads as cores) and returns when all have finished.
func runOnThreads(_ bodies: [@Sendable () -> Void]) {
    let finished = DispatchSemaphore(value: 0)
    for body in bodies {
        Thread { body(); finished.signal() }.start()
    }
    for _ in bodies { finished.wait() }
}
