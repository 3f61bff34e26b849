import Storage
import Synchronization
import VectorEngine

/// One node's copy of one shard of a collection: a `DurableCollection` (its own log, whose
/// sequence numbers are the primary's, so "applied through s" means the same on every copy)
/// and the shard's `EpochHistory`.
public final class LocalShard: Sendable {
    /// The collection's name (the copy's configuration carries it too).
    public let collectionName: String
    /// The shard's number in the collection.
    public let number: UInt32
    /// The points of this shard.
    public let durable: DurableCollection
    /// Which collection of that name this copy belongs to (the log index that created it): a
    /// collection deleted and created again under the same name is another collection.
    public let incarnation: UInt64
    private let historyPath: String
    private let history: Mutex<EpochHistory>

    init(collectionName: String, number: UInt32, durable: DurableCollection, folder: String) throws {
        self.collectionName = collectionName
        self.number = number
        self.durable = durable
        historyPath = folder + "/epochs.bin"
        let saved = AtomicFile.exists(historyPath) ? try EpochHistory(decoding: try AtomicFile.read(historyPath)) : EpochHistory()
        history = Mutex(saved)
        var r = BinaryReader(try AtomicFile.read(folder + "/incarnation"))
        do { incarnation = try r.u64() } catch { throw StorageError(.corrupt, "shard copy incarnation cut short", path: folder) }
    }

    /// Which epoch wrote which part of the log.
    public var epochHistory: EpochHistory { history.withLock { $0 } }

    /// The epoch in which the last record of this copy was written (0 when it has none).
    public var lastRecordEpoch: UInt64 {
        let last = durable.lastSequence
        return last == 0 ? 0 : epochHistory.epoch(of: last)
    }

    /// Records that `epoch` logs from `sequence` on (a primary taking over, or a replica
    /// receiving the first record of a new epoch); persisted before it returns.
    public func beginEpoch(_ epoch: UInt64, at sequence: UInt64) throws {
        try history.withLock { history in
            var next = history
            guard next.begin(epoch, at: sequence) else { return }
            try AtomicFile.write(next.encoded, to: historyPath)
            history = next
        }
    }

    /// Replaces the history (a copy installed from its primary's snapshot takes the primary's).
    func replaceHistory(_ replacement: EpochHistory) throws {
        try history.withLock { history in
            try AtomicFile.write(replacement.encoded, to: historyPath)
            history = replacement
        }
    }
}

/// The shard copies this node holds, one folder each: `<data dir>/shards/<collection>/<n>/`
/// with `collection/` (a `DurableCollection`) and `epochs.bin`. The cluster's metadata says
/// which copies a node holds; this store only keeps them.
public final class ShardStore: Sendable {
    private let root: String
    private let options: DurableCollection.Options
    private let shards = Mutex<[ShardID: LocalShard]>([:])

    /// A shard of a collection.
    public struct ShardID: Hashable, Sendable, CustomStringConvertible {
        public var collection: String
        public var number: UInt32
        public init(_ collection: String, _ number: UInt32) {
            self.collection = collection
            self.number = number
        }
        public var description: String { "\(collection)/\(number)" }
    }

    /// Opens every shard copy under `dataDirectory/shards`.
    public init(dataDirectory: String, options: DurableCollection.Options = .init()) throws {
        root = dataDirectory + "/shards"
        self.options = options
        try AtomicFile.createDirectory(root)
        var opened: [ShardID: LocalShard] = [:]
        for name in try AtomicFile.entries(root) where CollectionConfig.isValidName(name) {
            for entry in try AtomicFile.entries("\(root)/\(name)") {
                guard let number = UInt32(entry), String(number) == entry else {
                    // A transfer a crash interrupted (`.install-N`): the copy is fetched again.
                    if entry.hasPrefix(".") { try AtomicFile.removeTree("\(root)/\(name)/\(entry)") }
                    continue
                }
                let folder = "\(root)/\(name)/\(entry)"
                guard AtomicFile.exists(folder + "/collection/collection.bin"), AtomicFile.exists(folder + "/incarnation") else {
                    try AtomicFile.removeTree(folder)   // created but never finished: nothing was written to it
                    continue
                }
                let durable = try DurableCollection.open(folder + "/collection", options: options)
                opened[ShardID(name, number)] = try LocalShard(collectionName: name, number: number, durable: durable, folder: folder)
            }
        }
        shards.withLock { $0 = opened }
    }

    private func folder(_ id: ShardID) -> String { "\(root)/\(id.collection)/\(id.number)" }

    /// The copy of `id`, if this node holds one.
    public func get(_ id: ShardID) -> LocalShard? { shards.withLock { $0[id] } }

    /// Every copy, by collection then number.
    public func list() -> [LocalShard] {
        shards.withLock { all in
            all.keys.sorted { ($0.collection, $0.number) < ($1.collection, $1.number) }.compactMap { all[$0] }
        }
    }

    /// The copy of `id`, created empty (with `config`) when this node has none yet. The copy
    /// is complete on disk (its incarnation written last) before it is returned; a folder a
    /// crash left unfinished is removed at the next open.
    public func create(_ id: ShardID, config: CollectionConfig, incarnation: UInt64) throws -> LocalShard {
        try CollectionCatalog.checkName(id.collection)
        return try shards.withLock { all in
            if let existing = all[id] { return existing }
            try AtomicFile.createDirectory("\(root)/\(id.collection)")
            try AtomicFile.removeTree(folder(id))
            try AtomicFile.createDirectory(folder(id))
            let durable = try DurableCollection.create(in: folder(id) + "/collection", config: config, options: options)
            try Self.writeIncarnation(incarnation, in: folder(id))
            let shard = try LocalShard(collectionName: id.collection, number: id.number, durable: durable, folder: folder(id))
            all[id] = shard
            return shard
        }
    }

    private static func writeIncarnation(_ incarnation: UInt64, in folder: String) throws {
        var w = BinaryWriter()
        w.u64(incarnation)
        try AtomicFile.write(w.bytes, to: folder + "/incarnation")
    }

    /// Replaces the copy of `id` with the content of its primary's snapshot file, continuing
    /// the primary's log after the snapshot's sequence, with the primary's epoch history. The
    /// file is validated and the new copy built beside the old one before the old one goes.
    public func install(_ id: ShardID, snapshotFile bytes: [UInt8], history: EpochHistory, incarnation: UInt64) throws -> LocalShard {
        try CollectionCatalog.checkName(id.collection)
        let staging = "\(root)/\(id.collection)/.install-\(id.number)"
        try AtomicFile.createDirectory("\(root)/\(id.collection)")
        try AtomicFile.removeTree(staging)
        try AtomicFile.createDirectory(staging)
        do {
            let built = try DurableCollection.install(snapshotFile: bytes, in: staging + "/collection", name: id.collection,
                                                      options: options, continuingLog: true)
            try built.close()
            try AtomicFile.write(history.encoded, to: staging + "/epochs.bin")
            try Self.writeIncarnation(incarnation, in: staging)
        } catch {
            try? AtomicFile.removeTree(staging)
            throw error
        }
        return try shards.withLock { all in
            if let old = all.removeValue(forKey: id) { try old.durable.close() }
            try AtomicFile.removeTree(folder(id))
            try AtomicFile.rename(staging, to: folder(id))
            let durable = try DurableCollection.open(folder(id) + "/collection", options: options)
            let shard = try LocalShard(collectionName: id.collection, number: id.number, durable: durable, folder: folder(id))
            all[id] = shard
            return shard
        }
    }

    /// Deletes the copy of `id` and its files; false when there is none.
    @discardableResult
    public func delete(_ id: ShardID) throws -> Bool {
        guard let shard = shards.withLock({ $0.removeValue(forKey: id) }) else { return false }
        try shard.durable.close()
        try AtomicFile.removeTree(folder(id))
        // The collection's folder goes with its last copy.
        if try AtomicFile.entries("\(root)/\(id.collection)").isEmpty { try AtomicFile.removeTree("\(root)/\(id.collection)") }
        return true
    }

    /// Closes every copy (at shutdown); returns the failures by shard.
    public func close() -> [(ShardID, any Error)] {
        let all = shards.withLock { all in defer { all = [:] }; return all }
        var failures: [(ShardID, any Error)] = []
        for (id, shard) in all {
            do { try shard.durable.close() } catch { failures.append((id, error)) }
        }
        return failures
    }
}
