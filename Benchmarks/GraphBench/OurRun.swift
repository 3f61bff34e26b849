import GraphEngine

/// Our side's measurements: every compared query set (`QueryResults`, as the peers report them)
/// plus the store-API breadth-first search, which no peer has.
struct OurRun {
    var queries: QueryResults
    /// The k-hop answers from `OurGraph.kHopOnStore`, keyed by k (compared with the peers' too).
    var kHopStore: [Int: Timed<Int>]

    /// Runs the workload's query sets on `ours` in the order the peers run them, with the same
    /// warm-up and timing rule (`timed`).
    static func measure(_ ours: inout OurGraph, _ workload: Workload, vectors: [[Float]]) throws -> OurRun {
        let w = workload, warmup = workload.warmup, rounds = workload.rounds
        let scanWarmup = min(1, w.scanAges.count)
        var kHop: [String: Timed<Int>] = [:], kHopStore: [Int: Timed<Int>] = [:]
        for hops in w.hops {
            progress("ours: \(hops)-hop expansions ...")
            kHop[String(hops)] = try timed(w.starts, warmup: warmup, rounds: rounds) { s in try ours.kHop(from: s, hops: hops) }
            kHopStore[hops] = timed(w.starts, warmup: warmup, rounds: rounds) { [ours] s in ours.kHopOnStore(from: s, hops: hops) }
        }
        progress("ours: neighbours with an age filter, count by age, lookup by name ...")
        let neighbours = try timed(w.starts, warmup: warmup, rounds: rounds) { s in try ours.olderNeighbours(of: s, minAge: w.neighbourMinAge) }
        let ageCount = try timed(w.scanAges, warmup: scanWarmup, rounds: rounds) { a in try ours.count(age: a) }
        let lookup = try timed(w.lookupNames, warmup: warmup, rounds: rounds) { n in try ours.lookup(name: n) }
        progress("ours: variable-length paths, shortest paths ...")
        let varLength = try timed(w.starts, warmup: warmup, rounds: rounds) { s in
            try ours.varLength(from: s, hops: w.varLengthHops, minAge: w.varLengthMinAge)
        }
        let shortest = try timed(w.shortestPairs, warmup: warmup, rounds: rounds) { p in
            guard p.count == 2 else { throw BenchError("a shortest-path pair has \(p.count) nodes") }
            return try ours.shortest(from: p[0], to: p[1], maxHops: w.shortestMaxHops)
        }
        progress("ours: whole-graph aggregations, the two-label pattern, hybrid search ...")
        let countPerAge = try timed([0], warmup: 0, rounds: rounds) { _ in try ours.countPerAge() }
        let friendsAge = try timed([0], warmup: 0, rounds: rounds) { _ in try ours.friendsAge() }
        let labelPattern = try timed(w.scanAges, warmup: scanWarmup, rounds: rounds) { a in try ours.labelPattern(age: a, minAge: w.labelPatternMinAge) }
        let hybrid = try timed(vectors, warmup: warmup, rounds: rounds) { [ours] v in try ours.hybrid(v, k: w.k, minAge: w.hybridMinAge) }
        return OurRun(queries: QueryResults(kHop: kHop, neighbours: neighbours, ageCount: ageCount, lookup: lookup, varLength: varLength,
                                            shortest: shortest, countPerAge: countPerAge, friendsAge: friendsAge,
                                            labelPattern: labelPattern, hybrid: hybrid),
                      kHopStore: kHopStore)
    }
}
