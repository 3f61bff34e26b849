import Foundation

/// The results table (Markdown): ours beside every peer that ran, and ours against the fastest
/// peer on that row (> 1 means we are faster, < 1 slower).
struct Report {
    let nodes: Int, relationships: Int, docs: Int
    let workload: Workload
    let peers: [PeerResult]
    let loadSeconds: Double, indexSeconds: Double, propertyIndexSeconds: Double
    let ours: OurRun
    /// Threads one of our queries may use (`GraphDatabase.queryThreads`).
    let queryThreads: Int

    func print() {
        let q = workload.starts.count
        let versions = peers.map { "\($0.engine) \($0.version)" }.joined(separator: ", ")
        Swift.print("\n## \(nodes) nodes, \(relationships) relationships (uniform random endpoints), \(docs) x \(workload.dimension) vectors; "
            + "\(q) queries per set (\(workload.scanAges.count) for the age scans, \(workload.shortestPairs.count) shortest-path pairs), "
            + "fastest of \(workload.rounds) rounds; \(versions), all in memory; ours: \(queryThreads) thread\(queryThreads == 1 ? "" : "s") per query")
        Swift.print("\n| metric | ours | " + peers.map(\.engine).joined(separator: " | ") + " | ours vs fastest peer (>1: ours faster) |")
        Swift.print("|---|---|" + peers.map { _ in "---|" }.joined() + "---|")
        value("load graph, s (ours: store API; peers: their bulk load + indexes)", loadSeconds, peers.map(\.loadSeconds), lowerIsBetter: true, digits: 1)
        value("vector index, s (ours: HNSW build; peers: vectors into numpy for an exact scan)", indexSeconds, peers.map(\.vectorLoadSeconds),
              lowerIsBetter: true, digits: 1)
        Swift.print("| property indexes on :Person(age), :Person(name), s (peers: in the load) | \(format(propertyIndexSeconds, 1)) | "
            + peers.map { _ in "- | " }.joined() + " |")
        let r = peers.map(\.results)
        for hops in workload.hops {
            let key = String(hops)
            guard let o = ours.queries.kHop[key] else { continue }
            let theirs = r.compactMap { $0.kHop[key] }
            let reached = Double(o.answers.reduce(0, +)) / Double(max(1, o.answers.count))
            value("\(hops)-hop expansions/s (avg \(format(reached, 1)) nodes reached)", o.queriesPerSecond, theirs.map(\.queriesPerSecond),
                  lowerIsBetter: false)
            latency("\(hops)-hop", o, theirs)
            if let raw = ours.kHopStore[hops] {
                value("\(hops)-hop expansions/s, ours on the store API (BFS, no Cypher)", raw.queriesPerSecond, theirs.map(\.queriesPerSecond),
                      lowerIsBetter: false)
            }
        }
        latency("lookup by name (index on name; Kuzu: scan)", ours.queries.lookup, r.map(\.lookup))
        latency("neighbours with b.age > \(workload.neighbourMinAge)", ours.queries.neighbours, r.map(\.neighbours))
        latency("*1..\(workload.varLengthHops) distinct endpoints with age > \(workload.varLengthMinAge)", ours.queries.varLength, r.map(\.varLength))
        latency("shortest path between the ends of a 2-4 step walk, up to \(workload.shortestMaxHops) hops",
                ours.queries.shortest, r.map(\.shortest))
        latency("count(n) WHERE n.age = $age (index on age; Kuzu: scan)", ours.queries.ageCount, r.map(\.ageCount))
        latency("(:Person {age})-[:KNOWS]->(:Doc) age > \(workload.labelPatternMinAge), count", ours.queries.labelPattern, r.map(\.labelPattern))
        value("count per age, whole graph, ms", ours.queries.countPerAge.micros.first.map { $0 / 1000 } ?? .nan,
              r.map { ($0.countPerAge.micros.first ?? .nan) / 1000 }, lowerIsBetter: true, digits: 1)
        value("friends' average age per age, all relationships, ms", ours.queries.friendsAge.micros.first.map { $0 / 1000 } ?? .nan,
              r.map { ($0.friendsAge.micros.first ?? .nan) / 1000 }, lowerIsBetter: true, digits: 1)
        latency("hybrid k=\(workload.k), age >= \(workload.hybridMinAge), expand 1 (peers: exact numpy scan)", ours.queries.hybrid, r.map(\.hybrid))
        let recall = r.first.map { AnswerCheck.recall(ours.queries.hybrid.answers, $0.hybrid.answers) } ?? .nan
        Swift.print("| hybrid recall@\(workload.k) against the exact answer | \(format(recall, 3)) | " + peers.map { _ in "1 (exact) | " }.joined() + " |")
    }

    /// A row of one number per engine; the ratio is against the best peer.
    private func value(_ metric: String, _ ours: Double, _ theirs: [Double], lowerIsBetter: Bool, digits: Int = 0) {
        let finite = theirs.filter(\.isFinite)
        let best = lowerIsBetter ? finite.min() : finite.max()
        let ratio = best.map { lowerIsBetter ? $0 / ours : ours / $0 } ?? .nan
        Swift.print("| \(metric) | \(format(ours, digits)) | " + theirs.map { format($0, digits) + " | " }.joined() + "\(format(ratio, 2))x |")
    }

    /// A row of p50 / p99 latencies in µs; the ratio is on p50 against the peer with the lowest p50.
    private func latency<A, B>(_ metric: String, _ ours: Timed<A>, _ theirs: [Timed<B>]) {
        let best = theirs.map(\.p50Micros).filter(\.isFinite).min()
        Swift.print("| \(metric): p50 / p99, µs | \(format(ours.p50Micros, 0)) / \(format(ours.p99Micros, 0)) | "
            + theirs.map { "\(format($0.p50Micros, 0)) / \(format($0.p99Micros, 0)) | " }.joined()
            + "\(format(best.map { $0 / ours.p50Micros } ?? .nan, 2))x |")
    }

    private func format(_ x: Double, _ digits: Int) -> String {
        guard x.isFinite else { return "-" }
        if digits == 0 && abs(x) >= 10_000 { return Int(x.rounded()).formatted(.number.grouping(.automatic)) }
        return String(format: "%.\(digits)f", x)
    }
}
