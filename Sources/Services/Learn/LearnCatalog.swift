import Storage
import Synchronization

/// Every collection's learning state (`LearnStore`), under `<data>/learn/`, opened on first
/// use. A collection's state goes with it: `delete` is called when the collection is deleted,
/// and at start state whose collection no longer exists (a crash between the two deletions)
/// is removed by `removeOrphans`.
final class LearnCatalog: Sendable {
    let directory: String
    /// Runs training and keeps what runs carry over.
    let trainer = LearnTrainer()
    private let stores = Mutex<[String: LearnStore]>([:])
    /// Collections with state on disk, listed once at start and kept with every creation and
    /// deletion: a search asking for learned re-ranking on a collection that never learned
    /// finds out without touching the file system.
    private let present: Mutex<Set<String>>

    /// The catalog under `<dataDirectory>/learn`.
    init(dataDirectory: String) throws {
        directory = dataDirectory + "/learn"
        try AtomicFile.createDirectory(directory)
        present = Mutex(Set(try AtomicFile.entries(directory).filter { !$0.hasSuffix(".tmp") }))
    }

    /// The state of collection `name` (a valid collection name), opened or created.
    func store(_ name: String) throws -> LearnStore {
        try stores.withLock { stores in
            if let store = stores[name] { return store }
            let store = try LearnStore(directory: "\(directory)/\(name)")
            stores[name] = store
            present.withLock { _ = $0.insert(name) }
            return store
        }
    }

    /// The state of `name` when some was ever written, without creating any.
    func existingStore(_ name: String) throws -> LearnStore? {
        if let open = stores.withLock({ $0[name] }) { return open }
        guard present.withLock({ $0.contains(name) }) else { return nil }
        return try store(name)
    }

    /// The active model of collection `name` (nil: none was ever activated), without creating state.
    func ranker(_ name: String) throws -> LearnedRanker? {
        try existingStore(name)?.ranker
    }

    /// Removes the learning state of collection `name` (its feedback and models).
    func delete(_ name: String) throws {
        trainer.forget(name)
        let store = stores.withLock { stores in
            present.withLock { _ = $0.remove(name) }
            return stores.removeValue(forKey: name)
        }
        try store?.close()
        let path = "\(directory)/\(name)"
        if AtomicFile.exists(path) { try AtomicFile.removeTree(path) }
    }

    /// Removes the state of collections not in `existing`; returns their names.
    func removeOrphans(keeping existing: Set<String>) throws -> [String] {
        let orphans = try AtomicFile.entries(directory).filter { !existing.contains($0) && !$0.hasSuffix(".tmp") }
        for name in orphans { try delete(name) }
        return orphans
    }

    /// Closes every open store (at shutdown); returns the failures.
    func close() -> [(String, any Error)] {
        trainer.cancelAll()
        let open = stores.withLock { stores in
            defer { stores.removeAll() }
            return stores
        }
        var failures: [(String, any Error)] = []
        for (name, store) in open {
            do { try store.close() } catch { failures.append((name, error)) }
        }
        return failures
    }
}
