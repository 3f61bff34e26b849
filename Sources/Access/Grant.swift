/// What one authenticated caller may do: a level on every collection and call, and levels on
/// named collections (a token can grant write on `docs` and nothing else). Cluster nodes
/// calling each other get `node`, which passes every check.
public struct Grant: Sendable, Equatable {
    /// Who the caller is, for logs and error messages (never a credential): `api key`,
    /// `read-only api key`, `token (sub alice)`, `certificate CN=ops`, `cluster node`.
    public var principal: String
    /// The level on everything; nil when the caller holds only collection grants.
    public var global: AccessLevel?
    /// Levels on single collections (read or write; admin is only ever global).
    public var collections: [String: AccessLevel]
    /// A cluster node: may call the node-to-node methods and everything else.
    public var isNode: Bool

    public init(principal: String, global: AccessLevel?, collections: [String: AccessLevel] = [:], isNode: Bool = false) {
        self.principal = principal
        self.global = global
        self.collections = collections
        self.isNode = isNode
    }

    /// A cluster node (`isNode`).
    public static func node(_ principal: String) -> Grant { Grant(principal: principal, global: .admin, isNode: true) }

    /// Whether the caller reaches `level` on `collection` (nil: on everything).
    public func allows(_ level: AccessLevel, collection: String? = nil) -> Bool {
        if isNode { return true }
        if let global, global >= level { return true }
        guard let collection, level <= .write, let granted = collections[collection] else { return false }
        return granted >= level
    }

    /// Whether the caller reaches `level` on at least one collection (or everywhere): what a
    /// call that lists collections needs before it filters the list.
    public func allowsSome(_ level: AccessLevel) -> Bool {
        allows(level) || collections.values.contains { $0 >= level }
    }
}
