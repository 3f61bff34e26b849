import Synchronization
import VectorEngine

/// What a vector index on nodes covers: nodes with `label` whose `property` holds a list of
/// `dimension` finite numbers. Other nodes (no label, no property, wrong length, not numbers)
/// are simply not indexed.
public struct VectorIndexDefinition: Sendable, Hashable {
    /// Longest index, label or property name.
    public static let maxNameBytes = 256

    /// Unique name of the index.
    public var name: String
    /// Nodes with this label are indexed.
    public var label: String
    /// The property holding the vector.
    public var property: String
    /// Vector length.
    public var dimension: Int
    /// Distance measure.
    public var metric: DistanceMetric

    /// A definition (checked by ``validate()``).
    public init(name: String, label: String, property: String, dimension: Int, metric: DistanceMetric) {
        self.name = name; self.label = label; self.property = property; self.dimension = dimension; self.metric = metric
    }

    /// Throws `.runtime` when a name is empty or too long, or the dimension is out of range.
    public func validate() throws(GraphError) {
        try Self.validateNames(name: name, label: label, property: property)
        guard (1...VectorEngineLimits.maxDimension).contains(dimension) else {
            throw GraphError(.runtime, "the dimension must be 1 to \(VectorEngineLimits.maxDimension), got \(dimension)")
        }
    }

    /// Throws `.runtime` when an index's name, label or property is empty or longer than
    /// `maxNameBytes` (every kind of index on nodes).
    static func validateNames(name: String, label: String, property: String) throws(GraphError) {
        for (what, value) in [("index name", name), ("label", label), ("property", property)] {
            guard !value.isEmpty, value.utf8.count <= maxNameBytes else {
                throw GraphError(.runtime, "the \(what) must be 1 to \(maxNameBytes) bytes, got \(value.utf8.count)")
            }
        }
    }

    /// The vector `node` contributes to this index, or `nil` when it is not indexed.
    public func vector(of node: Node) -> [Float]? {
        guard node.labels.contains(label), case .list(let items)? = node.properties[property] else { return nil }
        return Self.vector(items, dimension: dimension)
    }

    /// `items` as `dimension` finite floats, or `nil`.
    static func vector(_ items: [Value], dimension: Int) -> [Float]? {
        guard items.count == dimension else { return nil }
        var out: [Float] = []
        out.reserveCapacity(dimension)
        for item in items {
            let x: Float
            switch item {
            case .float(let d): x = Float(d)
            case .int(let i): x = Float(i)
            default: return nil
            }
            guard x.isFinite else { return nil }
            out.append(x)
        }
        return out
    }

    /// Similarity as results report it, larger is better: `1 - distance` for cosine (the
    /// cosine similarity), the negated distance for the others.
    public func score(distance: Float) -> Float {
        metric == .cosine ? 1 - distance : -distance
    }
}

/// A node found by a vector index.
public struct VectorIndexHit: Sendable, Hashable {
    /// The node id.
    public var node: Int
    /// Similarity, larger is better (see ``VectorIndexDefinition/score(distance:)``).
    public var score: Float
}

/// The vector indexes of a graph: one HNSW index (the vector engine's) per definition, keyed
/// by node id.
///
/// A reference type shared by every copy of a `GraphDatabase`: it follows the *committed*
/// state, updated by whoever commits (`apply(_:from:)`); transactions read it but never
/// write it. Searches therefore re-check each hit against the reader's own store (see
/// ``search(_:vector:k:in:accept:)``), so a reader never sees a node its view does not hold.
public final class GraphVectorIndexes: Sendable {
    /// Most vector indexes one graph may have.
    public static let maxIndexes = 64

    struct Entry: Sendable {
        let definition: VectorIndexDefinition
        let index: HNSWIndex
    }

    private let entries = Mutex<[String: Entry]>([:])

    /// No indexes.
    public init() {}

    /// True when there is no index (then commits skip index maintenance).
    public var isEmpty: Bool { entries.withLock { $0.isEmpty } }

    /// Every definition, by name.
    public var definitions: [VectorIndexDefinition] {
        entries.withLock { $0.values.map(\.definition) }.sorted { $0.name < $1.name }
    }

    /// The definition named `name`.
    public func definition(_ name: String) -> VectorIndexDefinition? { entries.withLock { $0[name]?.definition } }

    /// The HNSW index behind index `name` (keyed by node id), for readers of its graph such as
    /// a learned re-ranker's neighbourhoods; nil if there is no such index. It follows the
    /// committed state, like every search here.
    public func hnsw(_ name: String) -> HNSWIndex? { entries.withLock { $0[name]?.index } }

    /// Nodes held by index `name` (0 if there is no such index).
    public func count(_ name: String) -> Int { entries.withLock { $0[name] }?.index.count ?? 0 }

    /// Creates index `definition` and fills it from `store`. Throws `.runtime` for a bad
    /// definition and `.conflict` when the name is taken.
    public func create(_ definition: VectorIndexDefinition, from store: GraphStore) throws(GraphError) {
        try definition.validate()
        let index: HNSWIndex
        do {
            index = try HNSWIndex(dimension: definition.dimension, metric: definition.metric)
        } catch {
            throw GraphError(.runtime, "cannot create vector index '\(definition.name)': \(error.message)")
        }
        for id in store.nodeIds(withLabel: definition.label) {
            guard let node = store.node(id), let v = definition.vector(of: node) else { continue }
            try Self.upsert(index, id, v)
        }
        try entries.withLock { (entries: inout [String: Entry]) throws(GraphError) in
            guard entries[definition.name] == nil else {
                throw GraphError(.conflict, "a vector index named '\(definition.name)' already exists")
            }
            guard entries.count < Self.maxIndexes else {
                throw GraphError(.limitExceeded, "a graph has at most \(Self.maxIndexes) vector indexes")
            }
            entries[definition.name] = Entry(definition: definition, index: index)
        }
    }

    /// Removes index `name`; false if there is none.
    @discardableResult
    public func drop(_ name: String) -> Bool { entries.withLock { $0.removeValue(forKey: name) != nil } }

    /// Brings every index up to date with `changes`, which `store` (the state after them)
    /// holds. Never fails: the changes are committed already, and `vector(of:)` gives only
    /// vectors of the index's dimension with finite components, which is all `HNSWIndex.upsert`
    /// checks besides its capacity (`VectorEngineLimits.maxCount`, 4,294,967,294 nodes, beyond
    /// any graph's memory). Only past that capacity would a node be left out of the index (and
    /// then found only by the exact scan a search falls back to when the walk comes up short).
    public func apply(_ changes: GraphChanges, from store: GraphStore) {
        let all = entries.withLock { Array($0.values) }
        guard !all.isEmpty else { return }
        for id in changes.nodes.keys {
            let node = store.node(id)
            for entry in all {
                if let node, let v = entry.definition.vector(of: node), (try? Self.upsert(entry.index, id, v)) != nil {
                    continue
                }
                entry.index.delete(id: UInt64(id))
            }
        }
    }

    private static func upsert(_ index: HNSWIndex, _ id: Int, _ v: [Float]) throws(GraphError) {
        do { try index.upsert(id: UInt64(id), vector: v) } catch {
            throw GraphError(.limitExceeded, "vector index update failed for node \(id): \(error.message)")
        }
    }

    /// The `k` nodes nearest to `vector` in index `name`, best first, as `store` sees them:
    /// a node counts only if `store` holds it with the label and a valid vector, and its score
    /// comes from that vector; `accept` may drop more (a filter). The graph walk widens until
    /// `k` nodes pass or the index is exhausted, then falls back to an exact scan of the label.
    /// `unindexed` nodes (changed in `store` but not applied to the index yet) are scored
    /// exactly, so a reader finds its own uncommitted writes.
    public func search(_ name: String, vector: [Float], k: Int, in store: GraphStore, unindexed: Set<Int> = [],
                       accept: (Node) throws(GraphError) -> Bool = { _ in true }) throws(GraphError) -> [VectorIndexHit] {
        guard let entry = entries.withLock({ $0[name] }) else {
            throw GraphError(.notFound, "there is no vector index named '\(name)'")
        }
        let definition = entry.definition
        guard vector.count == definition.dimension else {
            throw GraphError(.runtime, "the query vector has \(vector.count) components; index '\(name)' holds \(definition.dimension)")
        }
        guard vector.allSatisfy(\.isFinite) else { throw GraphError(.runtime, "query vector components must be finite") }
        guard (1...VectorEngineLimits.maxK).contains(k) else {
            throw GraphError(.limitExceeded, "k must be 1 to \(VectorEngineLimits.maxK), got \(k)")
        }
        /// Node `id` scored from `store`'s vector, if it has one and `accept` takes it.
        func scored(_ id: Int) throws(GraphError) -> VectorIndexHit? {
            guard let node = store.node(id), let v = definition.vector(of: node), try accept(node) else { return nil }
            return VectorIndexHit(node: id, score: definition.score(distance: definition.metric.distance(vector, v)))
        }
        // The index's entry for an unindexed node may be stale: skip it there, score it here.
        var hits: [VectorIndexHit] = []
        for id in unindexed { if let hit = try scored(id) { hits.append(hit) } }
        let exact = hits.count
        var seen = unindexed
        func consider(_ id: Int) throws(GraphError) {
            guard seen.insert(id).inserted, let hit = try scored(id) else { return }
            hits.append(hit)
        }
        let indexed = entry.index.count
        var candidates = k
        while true {
            let ef = min(VectorEngineLimits.maxEf, max(100, 2 * candidates))
            let found: [SearchHit]
            do { found = try entry.index.search(vector, k: min(candidates, VectorEngineLimits.maxK), ef: ef) } catch {
                throw GraphError(.runtime, "vector search failed: \(error.message)")
            }
            for hit in found { try consider(Int(hit.id)) }
            if hits.count - exact >= k || candidates >= indexed { break }
            if candidates >= VectorEngineLimits.maxK {
                // Too few pass the filter among the nearest: score every labelled node exactly.
                for id in store.nodeIds(withLabel: definition.label) { try consider(id) }
                break
            }
            candidates = min(candidates * 4, VectorEngineLimits.maxK)
        }
        hits.sort { ($0.score, $1.node) > ($1.score, $0.node) }
        return Array(hits.prefix(k))
    }
}
