/// What a unit of work changed in a `GraphStore`: the new state of every element it
/// created, changed or deleted (`nil` = deleted). Durable storage logs these (physical
/// logging: replay never re-runs Cypher), and transactions carry them to commit.
public struct GraphChanges: Sendable, Equatable {
    /// Nodes by id; `nil` for a deleted node.
    public var nodes: [Int: Node?] = [:]
    /// Relationships by id; `nil` for a deleted relationship.
    public var relationships: [Int: Relationship?] = [:]
    /// Hyperedges by id; `nil` for a deleted hyperedge.
    public var hyperedges: [Int: Hyperedge?] = [:]
    /// The store's next element id after the change (ids are never reused).
    public var nextId = 0

    /// No change.
    public init() {}

    /// True when nothing changed.
    public var isEmpty: Bool { nodes.isEmpty && relationships.isEmpty && hyperedges.isEmpty }

    /// Adds `later` on top (its element states win).
    public mutating func merge(_ later: GraphChanges) {
        nodes.merge(later.nodes) { _, new in new }
        relationships.merge(later.relationships) { _, new in new }
        hyperedges.merge(later.hyperedges) { _, new in new }
        nextId = max(nextId, later.nextId)
    }

    /// What these changes do to `base` (the store they were made from), as counted in a
    /// query summary.
    public func counts(against base: GraphStore) -> GraphChangeCounts {
        var c = GraphChangeCounts()
        for (id, new) in nodes {
            let old = base.node(id)
            switch (old, new) {
            case (nil, let n?): c.nodesCreated += 1; c.labelsAdded += n.labels.count; c.propertiesSet += n.properties.count
            case (_?, nil): c.nodesDeleted += 1
            case (let o?, let n?):
                c.labelsAdded += Set(n.labels).subtracting(o.labels).count
                c.labelsRemoved += Set(o.labels).subtracting(n.labels).count
                c.propertiesSet += Self.changedKeys(o.properties, n.properties)
            case (nil, nil): break
            }
        }
        for (id, new) in relationships {
            switch (base.relationship(id), new) {
            case (nil, let r?): c.relationshipsCreated += 1; c.propertiesSet += r.properties.count
            case (_?, nil): c.relationshipsDeleted += 1
            case (let o?, let r?): c.propertiesSet += Self.changedKeys(o.properties, r.properties)
            case (nil, nil): break
            }
        }
        return c
    }

    private static func changedKeys(_ old: [String: Value], _ new: [String: Value]) -> Int {
        Set(old.keys).union(new.keys).filter { old[$0] != new[$0] }.count
    }
}

/// Counters of a query summary.
public struct GraphChangeCounts: Sendable, Equatable {
    public var nodesCreated = 0, nodesDeleted = 0, relationshipsCreated = 0, relationshipsDeleted = 0
    public var propertiesSet = 0, labelsAdded = 0, labelsRemoved = 0
    public init() {}
}

extension GraphStore {
    /// Ids a transaction gets for the elements it creates (disjoint from every other
    /// transaction's, so concurrent creations never collide at commit).
    public static let transactionIdRange = 1 << 20

    /// The changes since the last call (or since the store was made), and starts a new count.
    public mutating func takeChanges() -> GraphChanges {
        var changes = GraphChanges()
        for id in touchedNodes { changes.nodes[id] = .some(node(id)) }
        for id in touchedRelationships { changes.relationships[id] = .some(relationship(id)) }
        for id in touchedHyperedges { changes.hyperedges[id] = .some(hyperedge(id)) }
        changes.nextId = nextId
        touchedNodes = []
        touchedRelationships = []
        touchedHyperedges = []
        return changes
    }

    /// Forgets the changes since the last `takeChanges()` (an owner that nobody asks for them).
    public mutating func forgetChanges() {
        if !touchedNodes.isEmpty { touchedNodes = [] }
        if !touchedRelationships.isEmpty { touchedRelationships = [] }
        if !touchedHyperedges.isEmpty { touchedHyperedges = [] }
    }

    /// The whole store as changes to an empty store (what a snapshot holds).
    public var everything: GraphChanges {
        var changes = GraphChanges()
        nodes.forEach { id, n in changes.nodes[id] = .some(n) }
        relationships.forEach { id, r in changes.relationships[id] = .some(r) }
        for (id, h) in hyperedges { changes.hyperedges[id] = .some(h) }
        changes.nextId = nextId
        return changes
    }

    /// Takes the next `count` ids for a transaction's creations.
    public mutating func reserveIds(_ count: Int = GraphStore.transactionIdRange) -> Range<Int> {
        defer { nextId += count }
        return nextId..<(nextId + count)
    }

    /// Creates elements with ids from `range` only (a transaction's reserved range).
    public mutating func useIds(_ range: Range<Int>) {
        nextId = range.lowerBound
        idLimit = range.upperBound
    }

    /// The next id this store would give (a transaction's cursor in its range).
    public var nextElementId: Int { nextId }

    /// Applies changes made elsewhere (a transaction's, or the log's at recovery), keeping the
    /// indexes right. Refuses, with `.conflict`, changes that no longer fit this store: a
    /// relationship or hyperedge whose nodes are gone, a deleted node that still has
    /// relationships. On failure the store is partly changed: apply to a copy and keep it
    /// only on success. Does not count as changes for `takeChanges()`.
    public mutating func apply(_ changes: GraphChanges) throws(GraphError) {
        // Ids are never negative (the store hands them out from 0); a change with one comes from
        // a damaged log or snapshot, and is refused before anything changes.
        let negative = changes.nodes.keys.contains { $0 < 0 } || changes.hyperedges.keys.contains { $0 < 0 }
            || changes.relationships.contains { id, r in id < 0 || (r.map { $0.start < 0 || $0.end < 0 } ?? false) }
            || changes.hyperedges.values.contains { $0?.members.contains { $0 < 0 } ?? false }
        if negative { throw GraphError(.runtime, "a graph change names a negative element id: the log or snapshot is damaged") }
        for (id, r) in changes.relationships where r == nil { removeRelationshipQuietly(id) }
        for (id, h) in changes.hyperedges where h == nil { removeHyperedgeQuietly(id) }
        for (id, n) in changes.nodes {
            if let n {
                let old = nodes[id]
                if let old { for l in old.labels where !n.labels.contains(l) { labelIndex.remove(id, l) } }
                nodes[id] = n
                reindex(id, from: old, to: n)
                for l in n.labels { labelIndex.insert(id, l) }
            } else if let old = nodes[id] {
                guard outgoing[id]?.isEmpty ?? true, incoming[id]?.isEmpty ?? true, hyperedgesOfNode[id]?.isEmpty ?? true else {
                    throw GraphError(.conflict, "node \(id) gained relationships or hyperedges in another commit; it cannot be deleted by this one")
                }
                for l in old.labels { labelIndex.remove(id, l) }
                nodes[id] = nil
                reindex(id, from: old, to: nil)
                outgoing[id] = nil
                incoming[id] = nil
                hyperedgesOfNode[id] = nil
            }
        }
        for case let (id, r?) in changes.relationships {
            guard nodes[r.start] != nil, nodes[r.end] != nil else {
                throw GraphError(.conflict, "relationship \(id) joins node \(r.start) and \(r.end), one of which another commit deleted")
            }
            if relationships[id] == nil { link(id, type: r.type, start: r.start, end: r.end) }
            relationships[id] = r
        }
        for case let (id, h?) in changes.hyperedges {
            guard h.members.allSatisfy({ nodes[$0] != nil }) else {
                throw GraphError(.conflict, "hyperedge \(id) joins a node another commit deleted")
            }
            if hyperedges[id] == nil { for m in Set(h.members) { hyperedgesOfNode[m, default: SortedIds()].insert(id) } }
            hyperedges[id] = h
        }
        nextId = max(nextId, changes.nextId)
    }

    private mutating func removeRelationshipQuietly(_ id: Int) {
        guard let r = relationships[id] else { return }
        relationships[id] = nil
        outgoing[r.start]?.remove(id)
        incoming[r.end]?.remove(id)
    }

    private mutating func removeHyperedgeQuietly(_ id: Int) {
        guard let h = hyperedges.removeValue(forKey: id) else { return }
        for m in Set(h.members) { hyperedgesOfNode[m]?.remove(id) }
    }
}
