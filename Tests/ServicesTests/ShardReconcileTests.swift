import ClusterEngine
import ClusterNode
import Foundation
import Logging
import Testing
import VectorDatabase
import VectorEngine
@testable import Services

/// The order of a reconcile pass (ShardedCollections.reconcile): what a new collection or a
/// promotion needs comes before deleting the copies of deleted collections, and a pass stops
/// deleting once newer metadata waits. cluster-bench found creates and failovers waiting
/// seconds behind hundreds of deletions (2026-12-07).
@Suite("shard reconcile order")
struct ShardReconcileTests {
    private static let selfID: NodeID = 1

    private func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "shard-reconcile-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private func sharding(in directory: String) throws -> ShardedCollections {
        ShardedCollections(store: try ShardStore(dataDirectory: directory + "/data"), limits: VectorServiceLimits(),
                           writePool: WorkPool(name: "test-write", threads: 1, queueLimit: 4, ownerQueueLimit: 4),
                           snapshotDirectory: directory + "/snapshots", logger: Logger(label: "test"))
    }

    /// A collection of one shard held by nodes 1-3, `primary` leading.
    private func collection(_ name: String, primary: NodeID) -> ClusterMetadata.Collection {
        ClusterMetadata.Collection(name: name, dimension: 4, metric: 1, request: [], createdIndex: 0,
                                   shards: [ClusterMetadata.Shard(primary: primary, replicas: [1, 2, 3].filter { $0 != primary })],
                                   replicationFactor: 3)
    }

    private func config(_ collection: ClusterMetadata.Collection) -> CollectionConfig {
        CollectionConfig(name: collection.name, dimension: Int(collection.dimension), metric: .l2Squared)
    }

    private func names(_ sharding: ShardedCollections) -> Set<String> {
        Set(sharding.store.list().map(\.collectionName))
    }

    @Test("new copies and a promotion's takeover come before deletions, which stop while newer metadata waits")
    func creationsBeforeDeletions() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let sharding = try sharding(in: directory)
        var metadata = ClusterMetadata()
        var index: UInt64 = 0
        func apply(_ command: ClusterMetadata.Command) {
            index += 1
            #expect(metadata.apply(command, index: index) == .applied)
        }
        for id: NodeID in 1...3 { apply(.addMember(.init(id: id, address: "127.0.0.1:\(7000 + id)"))) }
        let old = (0..<12).map { "old-\($0)" }
        for name in old { apply(.createCollection(collection(name, primary: 2))) }
        apply(.createCollection(collection("led", primary: 2)))
        sharding.reconcile(metadata, applied: index, selfID: Self.selfID, config: config)
        #expect(names(sharding) == Set(old + ["led"]))

        // Every old collection deleted, a new one created, and node 1 promoted for "led".
        for name in old { apply(.deleteCollection(name)) }
        apply(.createCollection(collection("new", primary: 1)))
        apply(.promoteShard(collection: "led", shard: 0, primary: Self.selfID, epoch: 1))

        // Newer metadata waits throughout: the pass makes the new copy and takes over "led",
        // then removes one deleted copy and stops.
        sharding.reconcile(metadata, applied: index, selfID: Self.selfID, config: config, newerWaiting: { true })
        let afterFirst = names(sharding)
        #expect(afterFirst.contains("new"))
        #expect(sharding.store.get(.init("led", 0))?.epochHistory.starts.last?.epoch == 2)
        #expect(afterFirst.subtracting(["new", "led"]).count == old.count - 1)

        // The next pass, with nothing newer, removes the rest and keeps what the metadata holds.
        sharding.reconcile(metadata, applied: index, selfID: Self.selfID, config: config)
        #expect(names(sharding) == ["new", "led"])
    }

    @Test("a copy made at a log index the metadata has not reached is kept, even when newer metadata waits")
    func copiesAheadOfTheMetadataAreKept() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let sharding = try sharding(in: directory)
        // A restarted node replaying its log: the copy was made at index 50, the metadata is at 3.
        _ = try sharding.store.create(.init("later", 0), config: CollectionConfig(name: "later", dimension: 4, metric: .l2Squared),
                                      incarnation: 50)
        var metadata = ClusterMetadata()
        for id: NodeID in 1...3 { _ = metadata.apply(.addMember(.init(id: id, address: "127.0.0.1:\(7000 + id)")), index: id) }
        sharding.reconcile(metadata, applied: 3, selfID: Self.selfID, config: config, newerWaiting: { true })
        sharding.reconcile(metadata, applied: 3, selfID: Self.selfID, config: config)
        #expect(names(sharding) == ["later"])
    }
}
