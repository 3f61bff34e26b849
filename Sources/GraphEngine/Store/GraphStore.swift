/// A node: a set of labels and a property map.
public struct Node: Hashable, Sendable {
    /// Stable identifier, never reused within a store.
    public let id: Int
    /// Labels in insertion order, without duplicates.
    public var labels: [String]
    /// Properties; a key is never mapped to `.null`.
    public var properties: [String: Value]

    /// A node value (as storage decodes it).
    public init(id: Int, labels: [String], properties: [String: Value]) {
        self.id = id; self.labels = labels; self.properties = properties
    }
}

/// A typed, directed relationship between two nodes.
public struct Relationship: Hashable, Sendable {
    /// Stable identifier, never reused within a store.
    public let id: Int
    /// The relationship type.
    public let type: String
    /// Start (source) node id.
    public let start: Int
    /// End (target) node id.
    public let end: Int
    /// Properties; a key is never mapped to `.null`.
    public var properties: [String: Value]

    /// A relationship value (as storage decodes it).
    public init(id: Int, type: String, start: Int, end: Int, properties: [String: Value]) {
        self.id = id; self.type = type; self.start = start; self.end = end; self.properties = properties
    }
}

/// A hyperedge: one typed edge joining three or more nodes, in member order.
public struct Hyperedge: Hashable, Sendable {
    /// Stable identifier, never reused within a store.
    public let id: Int
    /// The hyperedge type.
    public let type: String
    /// Member node ids (at least 3, order kept).
    public let members: [Int]
    /// Properties.
    public var properties: [String: Value]

    /// A hyperedge value (as storage decodes it).
    public init(id: Int, type: String, members: [Int], properties: [String: Value]) {
        self.id = id; self.type = type; self.members = members; self.properties = properties
    }
}

/// An in-memory property graph: nodes, relationships, hyperedges and a label index.
///
/// A value type: copying it is a cheap snapshot, which is how queries run atomically
/// (the executor works on a copy and the caller keeps it only on success).
/// Deterministic: ids are assigned in creation order, iteration is in id order.
public struct GraphStore: Sendable {
    /// Most nodes plus relationships plus hyperedges one store may hold.
    public static let maxElements = 10_000_000

    var nodes: [Int: Node] = [:]
    var relationships: [Int: Relationship] = [:]
    var hyperedges: [Int: Hyperedge] = [:]
    // Internal (not private) for GraphChanges.swift, which applies and collects changes.
    // Kept sorted (see SortedIds): the accessors below return them in id order without sorting.
    var labelIndex: [String: SortedIds] = [:]
    var outgoing: [Int: SortedIds] = [:]
    var incoming: [Int: SortedIds] = [:]
    var hyperedgesOfNode: [Int: SortedIds] = [:]
    /// Equality indexes on node properties (see `PropertyIndexes`).
    public internal(set) var propertyIndexes = PropertyIndexes()
    var nextId = 0
    /// Ids may be taken up to here (a transaction's reserved range ends here).
    var idLimit = Int.max
    /// Elements created, changed or deleted since the last `takeChanges()`, by kind.
    var touchedNodes: Set<Int> = []
    var touchedRelationships: Set<Int> = []
    var touchedHyperedges: Set<Int> = []

    /// Creates an empty store.
    public init() {}

    /// Number of nodes.
    public var nodeCount: Int { nodes.count }
    /// Number of relationships.
    public var relationshipCount: Int { relationships.count }
    /// Number of hyperedges.
    public var hyperedgeCount: Int { hyperedges.count }

    private mutating func takeId() throws(GraphError) -> Int {
        guard nodes.count + relationships.count + hyperedges.count < Self.maxElements else {
            throw GraphError(.limitExceeded, "the store holds \(Self.maxElements) elements; delete some before creating more")
        }
        guard nextId < idLimit else {
            throw GraphError(.limitExceeded, "a transaction may create at most \(Self.transactionIdRange) elements; commit and continue in a new one")
        }
        defer { nextId += 1 }
        return nextId
    }

    private static func checkProperties(_ p: [String: Value]) throws(GraphError) -> [String: Value] {
        var out: [String: Value] = [:]
        for (k, v) in p where !v.isNull {
            guard v.isStorable else {
                throw GraphError(.runtime, "property '\(k)' must be a scalar or a list of scalars, got \(v)")
            }
            out[k] = v
        }
        return out
    }

    /// Creates a node and returns its id.
    @discardableResult
    public mutating func createNode(labels: [String] = [], properties: [String: Value] = [:]) throws(GraphError) -> Int {
        let props = try Self.checkProperties(properties)
        let id = try takeId()
        var uniq: [String] = []
        for l in labels where !uniq.contains(l) { uniq.append(l) }
        nodes[id] = Node(id: id, labels: uniq, properties: props)
        for l in uniq { labelIndex[l, default: SortedIds()].insert(id) }
        propertyIndexes.update(id, from: nil, to: nodes[id])
        touchedNodes.insert(id)
        return id
    }

    /// Creates a relationship `start -[type]-> end` and returns its id.
    @discardableResult
    public mutating func createRelationship(type: String, from start: Int, to end: Int,
                                            properties: [String: Value] = [:]) throws(GraphError) -> Int {
        guard nodes[start] != nil, nodes[end] != nil else {
            throw GraphError(.runtime, "both endpoints must exist (start \(start), end \(end))")
        }
        let props = try Self.checkProperties(properties)
        let id = try takeId()
        relationships[id] = Relationship(id: id, type: type, start: start, end: end, properties: props)
        outgoing[start, default: SortedIds()].insert(id)
        incoming[end, default: SortedIds()].insert(id)
        touchedRelationships.insert(id)
        return id
    }

    /// Creates a hyperedge joining `members` (3 or more existing nodes) and returns its id.
    @discardableResult
    public mutating func createHyperedge(type: String, members: [Int],
                                         properties: [String: Value] = [:]) throws(GraphError) -> Int {
        guard members.count >= 3 else {
            throw GraphError(.runtime, "a hyperedge joins at least 3 nodes; use a relationship for 2")
        }
        guard members.allSatisfy({ nodes[$0] != nil }) else {
            throw GraphError(.runtime, "every hyperedge member must be an existing node")
        }
        let props = try Self.checkProperties(properties)
        let id = try takeId()
        hyperedges[id] = Hyperedge(id: id, type: type, members: members, properties: props)
        for m in Set(members) { hyperedgesOfNode[m, default: SortedIds()].insert(id) }
        touchedHyperedges.insert(id)
        return id
    }

    /// The node with this id, if any.
    public func node(_ id: Int) -> Node? { nodes[id] }
    /// The relationship with this id, if any.
    public func relationship(_ id: Int) -> Relationship? { relationships[id] }
    /// The hyperedge with this id, if any.
    public func hyperedge(_ id: Int) -> Hyperedge? { hyperedges[id] }

    /// All node ids in ascending order.
    public func allNodeIds() -> [Int] { nodes.keys.sorted() }
    /// All relationship ids in ascending order.
    public func allRelationshipIds() -> [Int] { relationships.keys.sorted() }
    /// Ids of nodes carrying `label`, ascending (from the label index).
    public func nodeIds(withLabel label: String) -> [Int] { labelIndex[label]?.elements ?? [] }
    /// Outgoing relationship ids of a node, ascending.
    public func outgoingRelationships(of node: Int) -> [Int] { outgoing[node]?.elements ?? [] }
    /// Incoming relationship ids of a node, ascending.
    public func incomingRelationships(of node: Int) -> [Int] { incoming[node]?.elements ?? [] }
    /// Ids of hyperedges a node belongs to, ascending.
    public func hyperedges(of node: Int) -> [Int] { hyperedgesOfNode[node]?.elements ?? [] }
    /// All hyperedge ids in ascending order.
    public func allHyperedgeIds() -> [Int] { hyperedges.keys.sorted() }

    /// Sets (or with `.null`, removes) a node property.
    public mutating func setNodeProperty(_ id: Int, _ key: String, _ value: Value) throws(GraphError) {
        guard let old = nodes[id] else { throw GraphError(.runtime, "node \(id) was deleted") }
        touchedNodes.insert(id)
        nodes[id]?.properties[key] = value.isNull ? nil : try Self.checkProperties([key: value])[key]
        propertyIndexes.update(id, from: old, to: nodes[id])
    }
    /// Sets (or with `.null`, removes) a relationship property.
    public mutating func setRelationshipProperty(_ id: Int, _ key: String, _ value: Value) throws(GraphError) {
        guard relationships[id] != nil else { throw GraphError(.runtime, "relationship \(id) was deleted") }
        touchedRelationships.insert(id)
        if value.isNull { relationships[id]?.properties[key] = nil; return }
        relationships[id]?.properties[key] = try Self.checkProperties([key: value])[key]
    }
    /// Adds a label to a node (no-op if present).
    public mutating func addLabel(_ id: Int, _ label: String) throws(GraphError) {
        guard let n = nodes[id] else { throw GraphError(.runtime, "node \(id) was deleted") }
        if n.labels.contains(label) { return }
        touchedNodes.insert(id)
        nodes[id]?.labels.append(label)
        labelIndex[label, default: SortedIds()].insert(id)
        propertyIndexes.update(id, from: n, to: nodes[id])
    }
    /// Removes a label from a node (no-op if absent).
    public mutating func removeLabel(_ id: Int, _ label: String) {
        guard let old = nodes[id], old.labels.contains(label) else { return }
        touchedNodes.insert(id)
        nodes[id]?.labels.removeAll { $0 == label }
        labelIndex[label]?.remove(id)
        propertyIndexes.update(id, from: old, to: nodes[id])
    }

    /// Deletes a relationship (no-op if already gone).
    public mutating func deleteRelationship(_ id: Int) {
        guard let r = relationships.removeValue(forKey: id) else { return }
        touchedRelationships.insert(id)
        outgoing[r.start]?.remove(id)
        incoming[r.end]?.remove(id)
    }
    /// Deletes a hyperedge (no-op if already gone).
    public mutating func deleteHyperedge(_ id: Int) {
        guard let h = hyperedges.removeValue(forKey: id) else { return }
        touchedHyperedges.insert(id)
        for m in Set(h.members) { hyperedgesOfNode[m]?.remove(id) }
    }
    /// Deletes a node; with `detach`, its relationships and hyperedges too, otherwise
    /// it must have none.
    public mutating func deleteNode(_ id: Int, detach: Bool) throws(GraphError) {
        guard let n = nodes[id] else { return }
        let rels = Set(outgoingRelationships(of: id)).union(incomingRelationships(of: id))
        let hes = hyperedges(of: id)
        if !detach && (!rels.isEmpty || !hes.isEmpty) {
            throw GraphError(.runtime, "node \(id) still has relationships; use DETACH DELETE", cypherClass: .constraintVerificationFailed)
        }
        for r in rels { deleteRelationship(r) }
        for h in hes { deleteHyperedge(h) }
        for l in n.labels { labelIndex[l]?.remove(id) }
        propertyIndexes.update(id, from: n, to: nil)
        touchedNodes.insert(id)
        nodes[id] = nil
        outgoing[id] = nil
        incoming[id] = nil
        hyperedgesOfNode[id] = nil
    }
}
