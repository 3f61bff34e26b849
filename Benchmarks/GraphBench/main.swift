// graph-bench: k-hop expansion throughput, MATCH-with-filter latency and hybrid search latency
// of our graph engine, against SQLite (recursive CTEs; sqlite_peer.py) on the same generated
// graph, same queries, same run. Every answer is compared; any difference fails the run.
//
//   swift run -c release graph-bench [--nodes 1000000] [--relationships 5000000] [--queries 200]
//                                    [--dim 64] [--docs 100000] [--scan-queries 10] [--rounds 3] [--seed 2026]
import Foundation
import GraphEngine
import VectorEngine

func progress(_ message: String) { FileHandle.standardError.write(Data((message + "\n").utf8)) }

let options = GraphBenchOptions.parseOrExit()
let nodeCount = options.nodes, relationshipCount = options.relationships
let queryCount = options.queries, dimension = options.dimension
let docCount = options.docCount, scanQueryCount = options.scanQueryCount
let seed = options.seed

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("graph-bench-\(nodeCount)-\(relationshipCount)-\(seed)")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
let clock = ContinuousClock()

progress("generating \(nodeCount) nodes, \(relationshipCount) relationships, \(docCount) x \(dimension) vectors (seed \(seed)) ...")
var rng = SeededGenerator(seed: seed)
let graph = GeneratedGraph(nodes: nodeCount, relationships: relationshipCount, docs: docCount, dimension: dimension, rng: &rng)
let workload = Workload(
    dimension: dimension, warmup: min(5, queryCount), rounds: options.rounds,
    starts: (0..<queryCount).map { _ in Int(rng.next() % UInt64(nodeCount)) }, hops: [1, 2, 3], neighbourMinAge: 60,
    scanAges: (0..<scanQueryCount).map { _ in GeneratedGraph.minAge + Int(rng.next() % UInt64(GeneratedGraph.maxAge - GeneratedGraph.minAge + 1)) },
    k: 10, hybridMinAge: 40, hybridQueries: queryCount)
let hybridVectors = (0..<queryCount).map { _ in graph.queryVector(&rng) }
try graph.write(to: directory)
try SQLitePeer.write(workload, vectors: hybridVectors, to: directory)

progress("loading through the GraphStore API ...")
var store = GraphStore()
let loadSeconds = seconds(try clock.measure { try graph.load(into: &store) })
var ours = OurGraph(database: GraphDatabase(store: store))
store = GraphStore()
progress("building the HNSW index on :Doc(vector) ...")
let indexSeconds = seconds(try clock.measure {
    try ours.database.createVectorIndex(VectorIndexDefinition(name: OurGraph.vectorIndex, label: "Doc", property: "vector",
                                                              dimension: dimension, metric: .l2Squared))
})
// SQLite gets an index on age; so do we.
let ageIndexSeconds = seconds(try clock.measure {
    try ours.database.createPropertyIndex(name: "person_age", PropertyIndexes.Key(label: "Person", property: "age"))
})

var kHop: [Int: Timed<Int>] = [:], kHopStore: [Int: Timed<Int>] = [:]
for hops in workload.hops {
    progress("ours: \(hops)-hop expansions ...")
    kHop[hops] = try timed(workload.starts, warmup: workload.warmup, rounds: workload.rounds) { s in try ours.kHop(from: s, hops: hops) }
    kHopStore[hops] = timed(workload.starts, warmup: workload.warmup, rounds: workload.rounds) { s in ours.kHopOnStore(from: s, hops: hops) }
}
progress("ours: neighbours with an age filter, count by age, hybrid search ...")
let neighbours = try timed(workload.starts, warmup: workload.warmup, rounds: workload.rounds) { s in try ours.olderNeighbours(of: s, minAge: workload.neighbourMinAge) }
let ageCount = try timed(workload.scanAges, warmup: min(1, scanQueryCount), rounds: workload.rounds) { a in try ours.count(age: a) }
let hybrid = try timed(hybridVectors, warmup: workload.warmup, rounds: workload.rounds) { v in try ours.hybrid(v, k: workload.k, minAge: workload.hybridMinAge) }

progress("running the SQLite peer ...")
let peer = try SQLitePeer.run(directory: directory)

// MARK: every answer must agree
var mismatches: [String] = []
@MainActor func check<A: Equatable>(_ what: String, _ ourAnswers: [A], _ theirs: [A], _ inputs: [Int]) {
    guard ourAnswers.count == theirs.count else { mismatches.append("\(what): \(ourAnswers.count) answers vs \(theirs.count)"); return }
    for (i, (o, t)) in zip(ourAnswers, theirs).enumerated() where o != t {
        mismatches.append("\(what), input \(inputs[i]): ours \(o), SQLite \(t)")
    }
}
for hops in workload.hops {
    let theirs = peer.kHop[String(hops)]?.answers ?? []
    check("\(hops)-hop (Cypher)", kHop[hops]?.answers ?? [], theirs, workload.starts)
    check("\(hops)-hop (store API)", kHopStore[hops]?.answers ?? [], theirs, workload.starts)
}
check("neighbours older than \(workload.neighbourMinAge)", neighbours.answers, peer.neighbours.answers, workload.starts)
check("count by age", ageCount.answers, peer.ageCount.answers, workload.scanAges)
var recallSum = 0.0
for (i, (o, exact)) in zip(hybrid.answers, peer.hybrid.answers).enumerated() {
    let exactById = Dictionary(uniqueKeysWithValues: exact.map { ($0.node, $0) })
    recallSum += Double(o.filter { exactById[$0.node] != nil }.count) / Double(max(1, exact.count))
    for hit in o {
        let doc = graph.docIds.contains(Int32(hit.node)) && Int(graph.ages[hit.node]) >= workload.hybridMinAge
        if !doc { mismatches.append("hybrid query \(i): node \(hit.node) is not a :Doc with age >= \(workload.hybridMinAge)") }
        if let e = exactById[hit.node], e.neighbours != hit.neighbours {
            mismatches.append("hybrid query \(i), seed \(hit.node): neighbours ours \(hit.neighbours), SQLite \(e.neighbours)")
        }
    }
}
let recall = recallSum / Double(max(1, hybrid.answers.count))
if hybrid.answers.count != peer.hybrid.answers.count || recall < 0.5 {
    mismatches.append("hybrid: \(hybrid.answers.count) vs \(peer.hybrid.answers.count) answers, recall@\(workload.k) \(recall)")
}
guard mismatches.isEmpty else {
    progress("ANSWERS DIFFER between our engine and SQLite (\(mismatches.count)); no timings reported:")
    for m in mismatches.prefix(20) { progress("  " + m) }
    exit(1)
}

Report(nodes: nodeCount, relationships: relationshipCount, docs: docCount, workload: workload, peer: peer,
       loadSeconds: loadSeconds, indexSeconds: indexSeconds, ageIndexSeconds: ageIndexSeconds, kHop: kHop, kHopStore: kHopStore,
       neighbours: neighbours, ageCount: ageCount, hybrid: hybrid, recall: recall).print()
