import Foundation
import GraphEngine
import VectorEngine

/// The benchmark graph, drawn from a seed, as plain arrays: both engines load exactly this.
///
/// - Node `i` (0-based, which is also its id in our store and in SQLite) is a `:Person` with
///   `age` uniform in 18...90 and `name` "person-i" (unique, so answers compare as sets).
/// - Relationship `j` is `:KNOWS` from a uniformly random node to a uniformly random node
///   (an Erdős–Rényi-like graph: out- and in-degree about Poisson(R / N); self-loops and
///   parallel relationships are kept, as both engines store them).
/// - Every `nodes / docs`-th node also carries `:Doc` and a `vector` property: `dimension`
///   floats from one of 100 Gaussian clusters (the vector engine benchmark's distribution).
struct GeneratedGraph {
    static let minAge = 18, maxAge = 90
    static let clusterCount = 100

    let nodeCount: Int
    let dimension: Int
    /// `age` of node `i`.
    let ages: [Int32]
    /// Start and end node of relationship `j`.
    let relationshipStarts: [Int32], relationshipEnds: [Int32]
    /// Ids of the `:Doc` nodes, ascending.
    let docIds: [Int32]
    /// Their vectors, row-major (`docIds.count * dimension`).
    let docVectors: [Float]
    private let centres: [[Float]]

    init(nodes: Int, relationships: Int, docs: Int, dimension: Int, rng: inout SeededGenerator) {
        precondition(nodes > 0 && nodes <= Int(Int32.max) && docs >= 0 && docs <= nodes && dimension > 0)
        nodeCount = nodes
        self.dimension = dimension
        let ageSpan = UInt64(Self.maxAge - Self.minAge + 1)
        ages = (0..<nodes).map { _ in Int32(Self.minAge) + Int32(rng.next() % ageSpan) }
        var starts = [Int32](), ends = [Int32]()
        starts.reserveCapacity(relationships); ends.reserveCapacity(relationships)
        for _ in 0..<relationships {
            starts.append(Int32(rng.next() % UInt64(nodes)))
            ends.append(Int32(rng.next() % UInt64(nodes)))
        }
        relationshipStarts = starts; relationshipEnds = ends
        let stride = docs == 0 ? nodes + 1 : nodes / docs
        docIds = (0..<docs).map { Int32($0 * stride) }
        centres = (0..<Self.clusterCount).map { _ in (0..<dimension).map { _ in Float(rng.nextGaussian()) * 3 } }
        var vectors: [Float] = []
        vectors.reserveCapacity(docs * dimension)
        for _ in 0..<docs { vectors += Self.point(centres, &rng) }
        docVectors = vectors
    }

    /// A vector from the same distribution as the documents' (for queries).
    func queryVector(_ rng: inout SeededGenerator) -> [Float] { Self.point(centres, &rng) }

    private static func point(_ centres: [[Float]], _ rng: inout SeededGenerator) -> [Float] {
        centres[Int(rng.next() % UInt64(centres.count))].map { $0 + Float(rng.nextGaussian()) }
    }

    /// `count` (start, end) pairs joined by a random walk of a random length in `steps` (outgoing
    /// relationships), so a shortest path of at most that length exists (a random pair would mostly be 8-9 hops apart
    /// here, and every engine would search most of the graph). Walks that end early (no
    /// outgoing relationship) or where they began are drawn again.
    func walkPairs(count: Int, steps: ClosedRange<Int>, rng: inout SeededGenerator) -> [[Int]] {
        // Outgoing relationships by start node (counting sort: offsets, then ends).
        var offsets = [Int](repeating: 0, count: nodeCount + 1)
        for s in relationshipStarts { offsets[Int(s) + 1] += 1 }
        for i in 0..<nodeCount { offsets[i + 1] += offsets[i] }
        var fill = offsets, ends = [Int32](repeating: 0, count: relationshipStarts.count)
        for (s, e) in zip(relationshipStarts, relationshipEnds) { ends[fill[Int(s)]] = e; fill[Int(s)] += 1 }
        var pairs: [[Int]] = []
        var attempts = 0
        while pairs.count < count && attempts < 100 * max(1, count) {
            attempts += 1
            let start = Int(rng.next() % UInt64(nodeCount))
            let length = steps.lowerBound + Int(rng.next() % UInt64(steps.count))
            var node = start, walked = 0
            while walked < length {
                let degree = offsets[node + 1] - offsets[node]
                guard degree > 0 else { break }
                node = Int(ends[offsets[node] + Int(rng.next() % UInt64(degree))])
                walked += 1
            }
            if walked == length && node != start { pairs.append([start, node]) }
        }
        return pairs
    }

    static func name(of node: Int) -> String { "person-\(node)" }

    /// Loads the graph through the store API, so node `i` gets id `i`. Then takes the change
    /// set the store kept (a database would otherwise hand all of it to its vector indexes at
    /// the first query).
    func load(into store: inout GraphStore) throws {
        let vectorProperties = Dictionary(uniqueKeysWithValues: docIds.enumerated().map { row, id in
            (Int(id), Value.list(docVectors[(row * dimension)..<((row + 1) * dimension)].map { .float(Double($0)) }))
        })
        for i in 0..<nodeCount {
            var properties: [String: Value] = ["age": .int(Int64(ages[i])), "name": .string(Self.name(of: i))]
            var labels = ["Person"]
            if let vector = vectorProperties[i] {
                labels.append("Doc")
                properties["vector"] = vector
            }
            let id = try store.createNode(labels: labels, properties: properties)
            precondition(id == i, "the store must give node ids in creation order from 0")
        }
        for (start, end) in zip(relationshipStarts, relationshipEnds) {
            try store.createRelationship(type: "KNOWS", from: Int(start), to: Int(end))
        }
        _ = store.takeChanges()
    }

    /// Writes the files the Python peers load (graph_peer.py): `ages.i32`, `names.txt`, `relationships.i32`
    /// (start, end pairs), `doc_ids.i32`, `doc_vectors.f32` (native byte order).
    func write(to directory: URL) throws {
        try Self.write(ages, directory.appendingPathComponent("ages.i32"))
        let names = (0..<nodeCount).map(Self.name(of:)).joined(separator: "\n")
        try Data(names.utf8).write(to: directory.appendingPathComponent("names.txt"))
        var pairs = [Int32]()
        pairs.reserveCapacity(2 * relationshipStarts.count)
        for (s, e) in zip(relationshipStarts, relationshipEnds) { pairs.append(s); pairs.append(e) }
        try Self.write(pairs, directory.appendingPathComponent("relationships.i32"))
        try Self.write(docIds, directory.appendingPathComponent("doc_ids.i32"))
        try Self.write(docVectors, directory.appendingPathComponent("doc_vectors.f32"))
    }

    static func write<T>(_ array: [T], _ url: URL) throws {
        try array.withUnsafeBytes { try Data($0).write(to: url) }
    }
}
