import Storage
import Synchronization
import VectorEngine

/// Every collection of a server: one `DurableCollection` per folder under
/// `<data dir>/collections/`, opened (recovered) at start, created and deleted on request.
public final class CollectionCatalog: Sendable {
    private let root: String
    private let syncPolicy: WALSyncPolicy
    private let collections = Mutex<[String: DurableCollection]>([:])

    /// Opens every collection under `dataDirectory/collections`; returns their recovery reports.
    public init(dataDirectory: String, syncPolicy: WALSyncPolicy = .always) throws {
        root = dataDirectory + "/collections"
        self.syncPolicy = syncPolicy
        try AtomicFile.createDirectory(root)
        var opened: [String: DurableCollection] = [:]
        for name in try AtomicFile.entries(root) where AtomicFile.exists("\(root)/\(name)/collection.bin") {
            opened[name] = try DurableCollection.open("\(root)/\(name)", syncPolicy: syncPolicy)
        }
        collections.withLock { $0 = opened }
    }

    /// Recovery reports of the collections opened at start, by name.
    public var recoveryReports: [String: DurableCollection.RecoveryReport] {
        collections.withLock { $0.mapValues(\.recovery) }
    }

    /// Creates a collection; nil when the name is taken.
    public func create(_ config: CollectionConfig) throws -> DurableCollection? {
        try collections.withLock { all -> DurableCollection? in
            guard all[config.name] == nil else { return nil }
            let collection = try DurableCollection.create(in: "\(root)/\(config.name)", config: config, syncPolicy: syncPolicy)
            all[config.name] = collection
            return collection
        }
    }

    /// The collection named `name`, if any.
    public func get(_ name: String) -> DurableCollection? { collections.withLock { $0[name] } }

    /// Every collection, by name.
    public func list() -> [DurableCollection] {
        collections.withLock { all in all.keys.sorted().compactMap { all[$0] } }
    }

    /// Deletes a collection and its files; false when there is none.
    public func delete(_ name: String) throws -> Bool {
        guard let collection = collections.withLock({ $0.removeValue(forKey: name) }) else { return false }
        try collection.close()
        try AtomicFile.removeTree("\(root)/\(name)")
        return true
    }
}
