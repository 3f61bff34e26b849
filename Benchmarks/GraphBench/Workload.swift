/// The query inputs every engine runs (`queries.json` beside the graph files; the hybrid
/// search vectors are in `query_vectors.f32`). `graph_peer.py` reads the same keys (snake case).
struct Workload: Codable {
    var dimension: Int
    var warmup: Int
    /// Timed passes over each query set; the fastest counts.
    var rounds: Int
    /// Start nodes of the k-hop, neighbour-filter and variable-length queries.
    var starts: [Int]
    var hops: [Int]
    var neighbourMinAge: Int
    /// Ages counted by the property-filter query, and the start ages of the two-label pattern.
    var scanAges: [Int]
    var k: Int
    var hybridMinAge: Int
    var hybridQueries: Int
    /// Names looked up by the point lookup (the start nodes' names).
    var lookupNames: [String]
    /// `*1..varLengthHops` to endpoints older than `varLengthMinAge`.
    var varLengthHops: Int
    var varLengthMinAge: Int
    /// (start, end) pairs for the shortest path, searched up to `shortestMaxHops`.
    var shortestPairs: [[Int]]
    var shortestMaxHops: Int
    /// `:Doc` endpoints of the two-label pattern must be older than this.
    var labelPatternMinAge: Int
}

/// Every compared query set's answers and latencies on one engine: what each Python peer prints
/// under `results`, and what our side measures.
struct QueryResults: Codable {
    /// Distinct nodes reachable in 1...k hops, keyed by k.
    var kHop: [String: Timed<Int>]
    /// Names of a start's successors older than `neighbourMinAge`, sorted.
    var neighbours: Timed<[String]>
    /// People of one age (an index on age on every side that has one).
    var ageCount: Timed<Int>
    /// (id, age) of the node with one name.
    var lookup: Timed<[Int]>
    /// Distinct endpoints of `*1..varLengthHops` older than `varLengthMinAge`.
    var varLength: Timed<Int>
    /// Length of a shortest path, -1 when there is none within `shortestMaxHops`.
    var shortest: Timed<Int>
    /// (age, count) over the whole graph, by age: one query.
    var countPerAge: Timed<[[Int]]>
    /// (age, average age of the people they know) over every relationship, by age: one query.
    var friendsAge: Timed<[[Double]]>
    /// (:Person {age})-[:KNOWS]->(:Doc) with the Doc older than `labelPatternMinAge`, counted.
    var labelPattern: Timed<Int>
    var hybrid: Timed<[HybridAnswer]>
}

/// What a Python peer prints: which engine, how it loaded, and its `QueryResults`.
struct PeerResult: Codable {
    var engine: String
    var version: String
    var loadSeconds: Double
    /// How the peer loads and which indexes it builds, in a sentence.
    var loadNote: String
    /// What scans the vectors exactly for the hybrid search (numpy and its version).
    var vectorScan: String
    var vectorLoadSeconds: Double
    var results: QueryResults
}
