import Storage
import Synchronization
import VectorEngine

/// Every collection of a server: one `DurableCollection` per folder under
/// `<data dir>/collections/`, opened (recovered) at start, created, deleted and restored on
/// request. Folders whose names start with `.` are work in progress of a restore.
public final class CollectionCatalog: Sendable {
    private let root: String
    private let options: DurableCollection.Options
    private let collections = Mutex<[String: DurableCollection]>([:])
    /// Serializes restores, which replace folders.
    private let restoreLock = Mutex(())

    /// Opens every collection under `dataDirectory/collections`, after finishing or undoing a
    /// restore a crash interrupted.
    public init(dataDirectory: String, options: DurableCollection.Options = .init()) throws {
        root = dataDirectory + "/collections"
        self.options = options
        try AtomicFile.createDirectory(root)
        try Self.repairInterruptedRestores(root)
        var opened: [String: DurableCollection] = [:]
        for name in try AtomicFile.entries(root) where !name.hasPrefix(".") && AtomicFile.exists("\(root)/\(name)/collection.bin") {
            opened[name] = try DurableCollection.open("\(root)/\(name)", options: options)
        }
        collections.withLock { $0 = opened }
    }

    /// A restore builds `.restore-NAME`, then renames `NAME` to `.replaced-NAME` and
    /// `.restore-NAME` to `NAME`. A crash in between leaves `.replaced-NAME` without `NAME`:
    /// the old collection is put back (the restore was never acknowledged). Leftovers go.
    private static func repairInterruptedRestores(_ root: String) throws {
        for name in try AtomicFile.entries(root) where name.hasPrefix(".replaced-") {
            let original = "\(root)/\(name.dropFirst(".replaced-".count))"
            if AtomicFile.exists(original) {
                try AtomicFile.removeTree("\(root)/\(name)")
            } else {
                try AtomicFile.rename("\(root)/\(name)", to: original)
            }
        }
        for name in try AtomicFile.entries(root) where name.hasPrefix(".restore-") {
            try AtomicFile.removeTree("\(root)/\(name)")
        }
    }

    /// Recovery reports of the collections opened at start, by name.
    public var recoveryReports: [String: DurableCollection.RecoveryReport] {
        collections.withLock { $0.mapValues(\.recovery) }
    }

    /// Creates a collection; nil when the name is taken. A refused name or configuration
    /// touches nothing on disk.
    public func create(_ config: CollectionConfig) throws -> DurableCollection? {
        try Self.checkName(config.name)
        return try collections.withLock { all -> DurableCollection? in
            guard all[config.name] == nil else { return nil }
            let collection = try DurableCollection.create(in: "\(root)/\(config.name)", config: config, options: options)
            all[config.name] = collection
            return collection
        }
    }

    /// A scratch folder for building a restore of `name` aside (removed at the next start if a
    /// crash leaves it; `.` never occurs in a collection name, so it meets no `restore`'s folder).
    public func stagingDirectory(for name: String) throws -> String {
        try Self.checkName(name)
        return "\(root)/.restore-.merge-\(name)"
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

    /// Throws `.invalidArgument` saying what a valid name is, unless `name` is one: the one
    /// check between a name from the network and a folder name.
    public static func checkName(_ name: String) throws(StorageError) {
        if let problem = CollectionConfig.nameProblem(name) {
            throw StorageError(.invalidArgument, "\(CollectionConfig.nameRule); \(MessageText.quoted(name)) \(problem)")
        }
    }

    /// Replaces collection `name` (or creates it) with the content of a snapshot file. The
    /// file is validated and the new folder built before the old one is touched; writes to
    /// the old collection that race with the swap fail (its log is closed) rather than vanish
    /// silently after being acknowledged.
    public func restore(_ name: String, snapshotFile bytes: [UInt8]) throws -> DurableCollection {
        try Self.checkName(name)
        return try restoreLock.withLock { _ in
            let staging = "\(root)/.restore-\(name)"
            try AtomicFile.removeTree(staging)
            do {
                let built = try DurableCollection.install(snapshotFile: bytes, in: staging, name: name, options: options)
                try built.close()
            } catch {
                try? AtomicFile.removeTree(staging)
                throw error
            }
            return try collections.withLock { all in
                let replaced = "\(root)/.replaced-\(name)"
                if let old = all.removeValue(forKey: name) {
                    try old.close()
                    try AtomicFile.rename("\(root)/\(name)", to: replaced)
                }
                try AtomicFile.rename(staging, to: "\(root)/\(name)")
                try AtomicFile.removeTree(replaced)
                let opened = try DurableCollection.open("\(root)/\(name)", options: options)
                all[name] = opened
                return opened
            }
        }
    }
}
