// graph-bench: lookups, k-hop expansions, variable-length and shortest paths, aggregations, a
// two-label pattern and hybrid search of our graph engine, against SQLite, Kuzu and DuckDB (the
// *_peer.py scripts, sharing graph_peer.py) on the same generated graph, same queries, same run.
// Every answer is compared; any difference fails the run.
//
//   swift run -c release graph-bench [--nodes 1000000] [--relationships 5000000] [--queries 200]
//                                    [--dim 64] [--docs 100000] [--scan-queries 10] [--shortest-queries 50]
//                                    [--rounds 3] [--seed 2026] [--peers sqlite,kuzu,duckdb] [--query-threads <cores>]
import Foundation
import GraphEngine
import VectorEngine

func progress(_ message: String) { FileHandle.standardError.write(Data((message + "\n").utf8)) }

let options = GraphBenchOptions.parseOrExit()
let nodeCount = options.nodes, relationshipCount = options.relationships
let queryCount = options.queries, dimension = options.dimension
let docCount = options.docCount, scanQueryCount = options.scanQueryCount
let seed = options.seed
let peers = options.peerList
do { try PythonPeer.checkInstalled(peers) } catch {
    progress("graph-bench: \(error)")
    exit(2)
}

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("graph-bench-\(nodeCount)-\(relationshipCount)-\(seed)")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
let clock = ContinuousClock()

progress("generating \(nodeCount) nodes, \(relationshipCount) relationships, \(docCount) x \(dimension) vectors (seed \(seed)) ...")
var rng = SeededGenerator(seed: seed)
let graph = GeneratedGraph(nodes: nodeCount, relationships: relationshipCount, docs: docCount, dimension: dimension, rng: &rng)
let starts = (0..<queryCount).map { _ in Int(rng.next() % UInt64(nodeCount)) }
let workload = Workload(
    dimension: dimension, warmup: min(5, queryCount), rounds: options.rounds,
    starts: starts, hops: [1, 2, 3], neighbourMinAge: 60,
    scanAges: (0..<scanQueryCount).map { _ in GeneratedGraph.minAge + Int(rng.next() % UInt64(GeneratedGraph.maxAge - GeneratedGraph.minAge + 1)) },
    k: 10, hybridMinAge: 40, hybridQueries: queryCount,
    lookupNames: starts.map(GeneratedGraph.name(of:)), varLengthHops: 3, varLengthMinAge: 60,
    shortestPairs: graph.walkPairs(count: options.shortestQueryCount, steps: 2...4, rng: &rng), shortestMaxHops: 5,
    labelPatternMinAge: 60)
let hybridVectors = (0..<queryCount).map { _ in graph.queryVector(&rng) }
try graph.write(to: directory)
try PythonPeer.write(workload, vectors: hybridVectors, to: directory)

progress("loading through the GraphStore API ...")
var store = GraphStore()
let loadSeconds = seconds(try clock.measure { try graph.load(into: &store) })
var ours = OurGraph(database: GraphDatabase(store: store))
ours.database.usesPlanner = !options.interpreter
// Every core for a query that can use them (the whole-graph aggregations), as Kuzu and DuckDB use theirs.
ours.database.queryThreads = options.queryThreads ?? ProcessInfo.processInfo.activeProcessorCount
store = GraphStore()
progress("building the HNSW index on :Doc(vector) ...")
let indexSeconds = seconds(try clock.measure {
    try ours.database.createVectorIndex(VectorIndexDefinition(name: OurGraph.vectorIndex, label: "Doc", property: "vector",
                                                              dimension: dimension, metric: .l2Squared))
})
// SQLite and DuckDB get indexes on age and name; so do we (Kuzu has no secondary indexes).
let ageIndexSeconds = seconds(try clock.measure {
    try ours.database.createPropertyIndex(name: "person_age", PropertyIndexes.Key(label: "Person", property: "age"))
    try ours.database.createPropertyIndex(name: "person_name", PropertyIndexes.Key(label: "Person", property: "name"))
})

let ourResults = try OurRun.measure(&ours, workload, vectors: hybridVectors)

var peerResults: [PeerResult] = []
for peer in peers {
    progress("running the \(peer.rawValue) peer ...")
    peerResults.append(try peer.run(directory: directory))
}

// MARK: every answer must agree
var mismatches: [String] = []
for peer in peerResults {
    mismatches += AnswerCheck(ours: ourResults.queries, peer: peer.results, peerName: peer.engine, workload: workload, graph: graph).mismatches()
}
guard mismatches.isEmpty else {
    progress("ANSWERS DIFFER between our engine and a peer (\(mismatches.count)); no timings reported:")
    for m in mismatches.prefix(30) { progress("  " + m) }
    exit(1)
}

Report(nodes: nodeCount, relationships: relationshipCount, docs: docCount, workload: workload, peers: peerResults,
       loadSeconds: loadSeconds, indexSeconds: indexSeconds, propertyIndexSeconds: ageIndexSeconds, ours: ourResults,
       queryThreads: ours.database.queryThreads).print()
