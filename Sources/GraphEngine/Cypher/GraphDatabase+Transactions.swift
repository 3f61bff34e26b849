import WorkControl

/// A unit of work over a snapshot of a `GraphDatabase`: queries see the transaction's own
/// writes; nothing reaches the database until `GraphDatabase.commit(_:)` succeeds.
public struct GraphTransaction: Sendable {
    /// The database version the snapshot was taken at.
    public let baseVersion: Int
    var database: GraphDatabase

    /// Runs a query inside the transaction (atomic per query, like `GraphDatabase.execute`,
    /// and bounded the same way by `bounds`).
    @discardableResult
    public mutating func execute(_ query: String, parameters: [String: Value] = [:],
                                 bounds: WorkBounds = .unbounded(work: "the query")) throws(GraphError) -> QueryResult {
        try database.execute(query, parameters: parameters, bounds: bounds)
    }

    /// The transaction's view of the store.
    public var store: GraphStore { database.store }
}

extension GraphDatabase {
    /// Starts a transaction on a snapshot of the current state.
    public func beginTransaction() -> GraphTransaction {
        var database = self
        database.maintainsVectorIndexes = false
        return GraphTransaction(baseVersion: version, database: database)
    }

    /// Applies a transaction. Fails with `.conflict` if another transaction or query
    /// changed the database after `tx` began (first committer wins); then retry the work.
    /// To roll back, drop the transaction value.
    public mutating func commit(_ tx: GraphTransaction) throws(GraphError) {
        guard tx.baseVersion == version else {
            throw GraphError(.conflict, "the database changed since this transaction began (version \(tx.baseVersion) -> \(version)); begin a new transaction and retry")
        }
        let maintains = maintainsVectorIndexes
        self = tx.database
        maintainsVectorIndexes = maintains
        version += 1
        settleChanges()
    }

    /// After a change: a database that maintains its own vector indexes applies the store's
    /// changes to them, or (having none) forgets them, since nobody else takes them: kept, the
    /// set of touched ids would grow with every write and be copied by the next one.
    mutating func settleChanges() {
        guard maintainsVectorIndexes else { return }
        if vectorIndexes.isEmpty {
            store.forgetChanges()
        } else {
            vectorIndexes.apply(store.takeChanges(), from: store)
        }
    }
}

extension GraphDatabase {
    /// A database holding `store` (recovered from storage).
    public init(store: GraphStore) {
        self.init()
        self.store = store
    }

    /// Runs `body` on the store directly (for operations outside Cypher, e.g. hyperedges); it
    /// throws what `body` throws (nothing, for a body that cannot fail).
    public mutating func withStore<T, Failure: Error>(_ body: (inout GraphStore) throws(Failure) -> T) throws(Failure) -> T {
        try body(&store)
    }

    /// The store's changes since the last call (see `GraphStore.takeChanges`). A copy that
    /// leaves its vector indexes to its owner remembers the nodes, so that its own searches
    /// score them exactly until the owner has applied them (read-your-writes). A database that
    /// maintains its vector indexes itself (the default) settles its changes after each query
    /// and commit: it has none to give (call `leaveVectorIndexesToCommit()` to collect them).
    public mutating func takeChanges() -> GraphChanges {
        let changes = store.takeChanges()
        if !maintainsVectorIndexes { unindexedNodes.formUnion(changes.nodes.keys) }
        return changes
    }

    /// Applies changes not yet committed (a transaction's earlier statements) to this copy's
    /// store; its vector searches score those nodes exactly.
    public mutating func applyUncommitted(_ changes: GraphChanges) throws(GraphError) {
        try store.apply(changes)
        unindexedNodes.formUnion(changes.nodes.keys)
    }

    /// Says that `vectorIndexes` now hold every change of this copy (its owner applied them).
    public mutating func markVectorIndexesCurrent() { unindexedNodes = [] }

    /// Nodes whose vectors the shared indexes may not reflect in this copy's view.
    var nodesNotInVectorIndexes: Set<Int> { unindexedNodes.union(store.touchedNodes) }

    /// Makes this copy leave `vectorIndexes` alone: its owner applies committed changes
    /// (a durable database does, at commit).
    public mutating func leaveVectorIndexesToCommit() { maintainsVectorIndexes = false }

    /// Creates an equality index on a node property (see `GraphStore.createPropertyIndex`).
    /// Its name must not be a vector index's either.
    public mutating func createPropertyIndex(name: String, _ key: PropertyIndexes.Key) throws(GraphError) {
        guard vectorIndexes.definition(name) == nil else { throw GraphError(.conflict, "an index named '\(name)' already exists") }
        try store.createPropertyIndex(name: name, key)
    }

    /// Creates a vector index on nodes and fills it from the store.
    public func createVectorIndex(_ definition: VectorIndexDefinition) throws(GraphError) {
        guard store.propertyIndexes.key(named: definition.name) == nil else {
            throw GraphError(.conflict, "an index named '\(definition.name)' already exists")
        }
        try vectorIndexes.create(definition, from: store)
    }
}
