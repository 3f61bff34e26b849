/// Compares our answers with one peer's, query set by query set; any line it returns fails the
/// run. Exact everywhere except averages (floating-point sums in another order: 1e-9 relative)
/// and the hybrid search, whose seeds come from our approximate index: each of our seeds must
/// pass the filter and have the peer's neighbourhood, and recall must be at least 0.5.
struct AnswerCheck {
    let ours: QueryResults, peer: QueryResults
    let peerName: String
    let workload: Workload
    let graph: GeneratedGraph

    func mismatches() -> [String] {
        var out: [String] = []
        func check<A: Equatable>(_ what: String, _ o: [A], _ t: [A], _ inputs: [String]) {
            compare(what, o, t, inputs, into: &out, same: ==)
        }
        let starts = workload.starts.map(String.init), ages = workload.scanAges.map(String.init)
        for hops in workload.hops {
            check("\(hops)-hop", ours.kHop[String(hops)]?.answers ?? [], peer.kHop[String(hops)]?.answers ?? [], starts)
        }
        check("neighbours older than \(workload.neighbourMinAge)", ours.neighbours.answers, peer.neighbours.answers, starts)
        check("count by age", ours.ageCount.answers, peer.ageCount.answers, ages)
        check("lookup by name", ours.lookup.answers, peer.lookup.answers, workload.lookupNames)
        check("variable-length *1..\(workload.varLengthHops)", ours.varLength.answers, peer.varLength.answers, starts)
        check("shortest path", ours.shortest.answers, peer.shortest.answers, workload.shortestPairs.map { "\($0)" })
        check("count per age", ours.countPerAge.answers, peer.countPerAge.answers, ["whole graph"])
        compare("friends' average age per age", ours.friendsAge.answers, peer.friendsAge.answers, ["whole graph"], into: &out, same: Self.close)
        check("two-label pattern", ours.labelPattern.answers, peer.labelPattern.answers, ages)
        out += hybridMismatches()
        return out
    }

    /// Appends a line per input whose answers differ (or one when the counts differ).
    private func compare<A>(_ what: String, _ o: [A], _ t: [A], _ inputs: [String], into out: inout [String], same: (A, A) -> Bool) {
        guard o.count == t.count else { out.append("\(what): \(o.count) answers, \(peerName) \(t.count)"); return }
        for (i, (a, b)) in zip(o, t).enumerated() where !same(a, b) {
            out.append("\(what), input \(i < inputs.count ? inputs[i] : "#\(i)"): ours \(a), \(peerName) \(b)")
        }
    }

    /// Rows of floats equal up to 1e-9 relative (averages summed in another order).
    static func close(_ a: [[Double]], _ b: [[Double]]) -> Bool {
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) {
            guard x.count == y.count else { return false }
            for (u, v) in zip(x, y) where abs(u - v) > 1e-9 * max(1, abs(u), abs(v)) { return false }
        }
        return true
    }

    /// Our hybrid seeds against the peer's exact ones (see the type's comment).
    private func hybridMismatches() -> [String] {
        var out: [String] = []
        let o = ours.hybrid.answers, exact = peer.hybrid.answers
        guard o.count == exact.count else { return ["hybrid: \(o.count) answers, \(peerName) \(exact.count)"] }
        let docs = Set(graph.docIds)
        for (i, (mine, theirs)) in zip(o, exact).enumerated() {
            let exactById = Dictionary(theirs.map { ($0.node, $0) }, uniquingKeysWith: { a, _ in a })
            for hit in mine {
                if !docs.contains(Int32(truncatingIfNeeded: hit.node)) || Int(graph.ages[hit.node]) < workload.hybridMinAge {
                    out.append("hybrid query \(i): node \(hit.node) is not a :Doc with age >= \(workload.hybridMinAge)")
                }
                if let e = exactById[hit.node], e.neighbours != hit.neighbours {
                    out.append("hybrid query \(i), seed \(hit.node): neighbours ours \(hit.neighbours), \(peerName) \(e.neighbours)")
                }
            }
        }
        let recall = Self.recall(o, exact)
        if recall < 0.5 { out.append("hybrid: recall@\(workload.k) \(recall) against \(peerName)'s exact answer") }
        return out
    }

    /// Mean fraction of the exact seeds that our search found.
    static func recall(_ ours: [[HybridAnswer]], _ exact: [[HybridAnswer]]) -> Double {
        var sum = 0.0
        for (o, e) in zip(ours, exact) {
            let found = Set(o.map(\.node))
            sum += Double(e.filter { found.contains($0.node) }.count) / Double(max(1, e.count))
        }
        return sum / Double(max(1, min(ours.count, exact.count)))
    }
}
