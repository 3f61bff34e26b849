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

    // Nodes, relationships and adjacency by id (see IdTable: no hashing, copy-on-write by chunk).
    var nodes = IdTable<Node>()
    var relationships = IdTable<Relationship>()
    var hyperedges: [Int: Hyperedge] = [:]
    // Internal (not private) for GraphChanges.swift, which applies and collects changes.
    // Kept sorted (see SortedIds): the accessors below return them in id order without sorting.
    var labelIndex = LabelIndex()
    var outgoing = IdTable<SortedList<AdjacentRelationship>>()
    var incoming = IdTable<SortedList<AdjacentRelationship>>()
    /// The relationship types in use, numbered for the adjacency lists.
    var relationshipTypes = RelationshipTypes()
    var hyperedgesOfNode: [Int: SortedIds] = [:]
    /// Equality indexes on node properties (see `PropertyIndexes`).
    public internal(set) var propertyIndexes = PropertyIndexes()
    /// Columns of the node properties many nodes have (see `PropertyColumns`).
    var propertyColumns = PropertyColumns()
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
        for l in uniq { labelIndex.insert(id, l) }
        reindex(id, from: nil, to: nodes[id])
        touchedNodes.insert(id)
        return id
    }

    /// Creates a relationship `start -[type]-> end` and returns its id.
    @discardableResult
    public mutating func createRelationship(type: String, from start: Int, to end: Int,
                                            properties: [String: Value] = [:]) throws(GraphError) -> Int {
        guard nodes.contains(start), nodes.contains(end) else {
            throw GraphError(.runtime, "both endpoints must exist (start \(start), end \(end))")
        }
        let props = try Self.checkProperties(properties)
        let id = try takeId()
        relationships[id] = Relationship(id: id, type: type, start: start, end: end, properties: props)
        link(id, type: type, start: start, end: end)
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

    /// True if node `id` carries every one of `labels` (a missing node carries none): read
    /// from a label's bitset when it has one (see `LabelIndex`), else from the node.
    public func node(_ id: Int, hasLabels labels: [String]) -> Bool {
        for label in labels {
            if let bitset = labelIndex.bitset(label) {
                if !bitset.contains(id) { return false }
            } else if nodes.withElement(id, { $0.labels.contains(label) }) != true {
                return false
            }
        }
        return true
    }
    /// All node ids in ascending order.
    public func allNodeIds() -> [Int] { nodes.ids }
    /// All relationship ids in ascending order.
    public func allRelationshipIds() -> [Int] { relationships.ids }
    /// Ids of nodes carrying `label`, ascending (from the label index).
    public func nodeIds(withLabel label: String) -> [Int] { labelIndex.ids(label) }
    /// Outgoing relationship ids of a node, ascending.
    public func outgoingRelationships(of node: Int) -> [Int] { outgoing[node]?.elements.map(\.id) ?? [] }
    /// Incoming relationship ids of a node, ascending.
    public func incomingRelationships(of node: Int) -> [Int] { incoming[node]?.elements.map(\.id) ?? [] }
    /// Ids of hyperedges a node belongs to, ascending.
    public func hyperedges(of node: Int) -> [Int] { hyperedgesOfNode[node]?.elements ?? [] }
    /// All hyperedge ids in ascending order.
    public func allHyperedgeIds() -> [Int] { hyperedges.keys.sorted() }

    /// Sets (or with `.null`, removes) a node property.
    public mutating func setNodeProperty(_ id: Int, _ key: String, _ value: Value) throws(GraphError) {
        guard let old = nodes[id] else { throw GraphError(.runtime, "node \(id) was deleted") }
        touchedNodes.insert(id)
        nodes[id]?.properties[key] = value.isNull ? nil : try Self.checkProperties([key: value])[key]
        reindex(id, from: old, to: nodes[id])
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
        labelIndex.insert(id, label)
        reindex(id, from: n, to: nodes[id])
    }
    /// Removes a label from a node (no-op if absent).
    public mutating func removeLabel(_ id: Int, _ label: String) {
        guard let old = nodes[id], old.labels.contains(label) else { return }
        touchedNodes.insert(id)
        nodes[id]?.labels.removeAll { $0 == label }
        labelIndex.remove(id, label)
        reindex(id, from: old, to: nodes[id])
    }

    /// Keeps the property indexes and columns right after node `id` went from `old` to `new`
    /// (nil: absent); `new` is already stored. Every change of a node goes through here.
    mutating func reindex(_ id: Int, from old: Node?, to new: Node?) {
        propertyIndexes.update(id, from: old, to: new)
        guard old?.properties != new?.properties else { return }
        for key in propertyColumns.update(id, from: old?.properties, to: new?.properties, idRange: nextId) {
            var column = PropertyColumn()
            nodes.forEach { id, node in if let value = node.properties[key] { column.set(id, value) } }
            propertyColumns.install(key, column)
        }
    }

    /// Node `id`'s property `key`, nil when the node or the property is missing: from the key's
    /// column when it has one, else from the node, read in place.
    @inline(__always)
    func nodeProperty(_ id: Int, _ key: String) -> Value? {
        if let fromColumn = propertyColumns.lookup(key, id) { return fromColumn }
        return nodes.withElement(id) { $0.properties[key] } ?? nil
    }

    /// Lists a new relationship in the adjacency of its two nodes.
    mutating func link(_ id: Int, type: String, start: Int, end: Int) {
        let t = relationshipTypes.number(type)
        outgoing[start, default: SortedList()].insert(AdjacentRelationship(id: id, other: end, type: t))
        incoming[end, default: SortedList()].insert(AdjacentRelationship(id: id, other: start, type: t))
    }

    /// Deletes a relationship (no-op if already gone).
    public mutating func deleteRelationship(_ id: Int) {
        guard let r = relationships[id] else { return }
        relationships[id] = nil
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
        for l in n.labels { labelIndex.remove(id, l) }
        reindex(id, from: n, to: nil)
        touchedNodes.insert(id)
        nodes[id] = nil
        outgoing[id] = nil
        incoming[id] = nil
        hyperedgesOfNode[id] = nil
    }
}

/// Relationship types numbered in order of first use (never renumbered, never forgotten: a
/// type costs its name once), so adjacency lists hold a number instead of a string.
struct RelationshipTypes: Sendable {
    private var names: [String] = []
    private var numbers: [String: UInt32] = [:]

    /// The number of `name`, given one if it has none.
    mutating func number(_ name: String) -> UInt32 {
        if let n = numbers[name] { return n }
        let n = UInt32(names.count)
        names.append(name)
        numbers[name] = n
        return n
    }

    @inline(__always)
    func name(_ number: UInt32) -> String { names[Int(number)] }

    /// The numbers a pattern's `types` stand for: nil for none named (any type), else the
    /// numbers of those in use (a type never used matches no relationship).
    func numbers(of types: [String]) -> [UInt32]? {
        types.isEmpty ? nil : types.compactMap { numbers[$0] }
    }
}
