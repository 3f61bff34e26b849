import Foundation

/// The results table (Markdown), ours beside SQLite with the ratio; > 1 means we are faster.
struct Report {
    let nodes: Int, relationships: Int, docs: Int
    let workload: Workload
    let peer: PeerResult
    let loadSeconds: Double, indexSeconds: Double, ageIndexSeconds: Double
    let kHop: [Int: Timed<Int>], kHopStore: [Int: Timed<Int>]
    let neighbours: Timed<[String]>
    let ageCount: Timed<Int>
    let hybrid: Timed<[HybridAnswer]>
    let recall: Double

    func print() {
        let q = workload.starts.count
        Swift.print("\n## \(nodes) nodes, \(relationships) relationships (uniform random endpoints), \(docs) x \(workload.dimension) vectors; "
            + "\(q) queries per set (\(workload.scanAges.count) for the age scan), fastest of \(workload.rounds) rounds, one thread, SQLite \(peer.sqliteVersion) in memory")
        Swift.print("\n| metric | ours | SQLite | ratio (>1: ours faster) |\n|---|---|---|---|")
        row("load graph, s (ours: store API; SQLite: inserts + indexes)", loadSeconds, peer.loadSeconds, lowerIsBetter: true, digits: 1)
        row("vector index, s (ours: HNSW build; SQLite: vectors into \(peer.vectorScan))", indexSeconds, peer.vectorLoadSeconds,
            lowerIsBetter: true, digits: 1)
        Swift.print("| property index on :Person(age), s (SQLite: built in the load) | \(format(ageIndexSeconds, 1)) | - | |")
        for hops in workload.hops {
            guard let o = kHop[hops], let s = peer.kHop[String(hops)], let raw = kHopStore[hops] else { continue }
            let reached = Double(o.answers.reduce(0, +)) / Double(max(1, o.answers.count))
            row("\(hops)-hop expansions/s, Cypher (avg \(format(reached, 1)) nodes reached)", o.queriesPerSecond, s.queriesPerSecond, lowerIsBetter: false)
            row("\(hops)-hop nodes reached/s, Cypher", o.queriesPerSecond * reached, s.queriesPerSecond * reached, lowerIsBetter: false)
            row("\(hops)-hop p50 / p99 latency, µs, Cypher", o, s)
            row("\(hops)-hop expansions/s, store API BFS", raw.queriesPerSecond, s.queriesPerSecond, lowerIsBetter: false)
        }
        row("neighbours with b.age > \(workload.neighbourMinAge): p50 / p99, µs", neighbours, peer.neighbours)
        row("count(n) WHERE n.age = $age (both: an index on age): p50 / p99, µs", ageCount, peer.ageCount)
        row("hybrid k=\(workload.k), age >= \(workload.hybridMinAge), expand 1 (SQLite: exact scan): p50 / p99, µs", hybrid, peer.hybrid)
        Swift.print("| hybrid recall@\(workload.k) against the exact answer | \(format(recall, 3)) | 1 (exact) | |")
    }

    private func row(_ metric: String, _ ours: Double, _ theirs: Double, lowerIsBetter: Bool, digits: Int = 0) {
        let ratio = lowerIsBetter ? theirs / ours : ours / theirs
        Swift.print("| \(metric) | \(format(ours, digits)) | \(format(theirs, digits)) | \(format(ratio, 2))x |")
    }

    private func row<A, B>(_ metric: String, _ ours: Timed<A>, _ theirs: Timed<B>) {
        Swift.print("| \(metric) | \(format(ours.p50Micros, 0)) / \(format(ours.p99Micros, 0)) | "
            + "\(format(theirs.p50Micros, 0)) / \(format(theirs.p99Micros, 0)) | "
            + "\(format(theirs.p50Micros / ours.p50Micros, 2))x / \(format(theirs.p99Micros / ours.p99Micros, 2))x |")
    }

    private func format(_ x: Double, _ digits: Int) -> String {
        guard x.isFinite else { return "-" }
        if digits == 0 && abs(x) >= 10_000 { return Int(x.rounded()).formatted(.number.grouping(.automatic)) }
        return String(format: "%.\(digits)f", x)
    }
}
