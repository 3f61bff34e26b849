import ClusterEngine
import Testing
@testable import ClusterNode

@Suite("Cluster metadata: shard maps")
struct ShardMetadataTests {
    private static func sharded(_ shards: [ClusterMetadata.Shard]) -> ClusterMetadata.Collection {
        ClusterMetadata.Collection(name: "docs", dimension: 4, metric: 1, request: [1], createdIndex: 0, shards: shards,
                                   replicationFactor: 3, writeConsistency: 3, minReplicas: 1)
    }

    private static func members(_ ids: [NodeID]) -> ClusterMetadata {
        var metadata = ClusterMetadata()
        for id in ids { _ = metadata.apply(.addMember(.init(id: id, address: "127.0.0.1:\(7000 + id)")), index: id) }
        return metadata
    }

    @Test("a sharded collection and every shard command survive encoding, in commands and snapshots")
    func encoding() throws {
        let shard = ClusterMetadata.Shard(primary: 1, replicas: [2, 3], epoch: 4, incoming: [5])
        let commands: [ClusterMetadata.Command] = [
            .createCollection(Self.sharded([shard, .init(primary: 2, replicas: [3, 1])])),
            .promoteShard(collection: "docs", shard: 1, primary: 3, epoch: 1),
            .updateShard(collection: "docs", shard: 0, expected: shard, new: .init(primary: 2, replicas: [1, 5], epoch: 5)),
            .drainMember(3),
            .promoteShards([.init(collection: "docs", shard: 0, primary: 2, epoch: 4), .init(collection: "other", shard: 7, primary: 5, epoch: 1)]),
        ]
        for command in commands { #expect(try ClusterMetadata.decode(ClusterMetadata.encode(command)) == command) }
        var metadata = Self.members([1, 2, 3, 5])
        _ = metadata.apply(commands[0], index: 10)
        _ = metadata.apply(commands[3], index: 11)
        #expect(try ClusterMetadata(decoding: metadata.encoded()) == metadata)
        #expect(metadata.members[3]?.draining == true)
    }

    @Test("a collection placed on a node that is no longer a member is refused (the proposer places it again)")
    func placementNeedsMembers() {
        var metadata = Self.members([1, 2])
        let outcome = metadata.apply(.createCollection(Self.sharded([.init(primary: 1, replicas: [2, 3])])), index: 5)
        #expect(outcome == .conflict("node 3 is not a member (the membership changed while the collection was placed); retry"))
        #expect(metadata.collections.isEmpty)
    }

    @Test("promotion is a compare-and-set on the epoch: the old primary stays a replica, the epoch grows")
    func promotion() {
        var metadata = Self.members([1, 2, 3])
        _ = metadata.apply(.createCollection(Self.sharded([.init(primary: 1, replicas: [2, 3])])), index: 4)
        #expect(metadata.apply(.promoteShard(collection: "docs", shard: 0, primary: 3, epoch: 1), index: 5) == .applied)
        #expect(metadata.collections["docs"]?.shards[0] == .init(primary: 3, replicas: [2, 1], epoch: 2))
        // A second promotion decided on the old view changes nothing.
        #expect(metadata.apply(.promoteShard(collection: "docs", shard: 0, primary: 2, epoch: 1), index: 6)
                == .conflict("shard 0 of docs is at epoch 2, not 1"))
        #expect(metadata.apply(.promoteShard(collection: "docs", shard: 0, primary: 9, epoch: 2), index: 7)
                == .conflict("node 9 holds no replica of shard 0 of docs"))
        #expect(metadata.apply(.promoteShard(collection: "docs", shard: 4, primary: 2, epoch: 2), index: 8) == .notFound)
    }

    @Test("promotions in one entry apply one by one: one decided on an old view changes nothing, the others apply")
    func promotions() throws {
        var metadata = Self.members([1, 2, 3])
        _ = metadata.apply(.createCollection(Self.sharded([.init(primary: 1, replicas: [2, 3]), .init(primary: 1, replicas: [3, 2]),
                                                           .init(primary: 2, replicas: [1, 3], epoch: 5)])), index: 4)
        let batch: ClusterMetadata.Command = .promoteShards([
            .init(collection: "docs", shard: 0, primary: 2, epoch: 1),
            .init(collection: "docs", shard: 1, primary: 3, epoch: 1),
            .init(collection: "docs", shard: 2, primary: 3, epoch: 4),   // stale: the shard is at epoch 5
            .init(collection: "gone", shard: 0, primary: 3, epoch: 1),
        ])
        #expect(metadata.apply(batch, index: 5) == .applied)
        #expect(metadata.collections["docs"]?.shards == [.init(primary: 2, replicas: [3, 1], epoch: 2), .init(primary: 3, replicas: [2, 1], epoch: 2),
                                                        .init(primary: 2, replicas: [1, 3], epoch: 5)])
        // Applied again (the same entry decided twice), nothing applies: the first refusal is the outcome.
        #expect(metadata.apply(batch, index: 6) == .conflict("shard 0 of docs is at epoch 2, not 1"))
        // A count above the bound is refused when decoded.
        var bytes = ClusterMetadata.encode(.promoteShards([]))
        bytes.replaceSubrange(2..<6, with: [0xFF, 0xFF, 0, 0])
        #expect(throws: (any Error).self) { try ClusterMetadata.decode(bytes) }
    }

    @Test("a shard update applies only over the placement it was decided on, with the epoch rule")
    func update() {
        var metadata = Self.members([1, 2, 3, 4])
        let initial = ClusterMetadata.Shard(primary: 1, replicas: [2, 3])
        _ = metadata.apply(.createCollection(Self.sharded([initial])), index: 5)
        let arriving = ClusterMetadata.Shard(primary: 1, replicas: [2, 3], epoch: 1, incoming: [4])
        #expect(metadata.apply(.updateShard(collection: "docs", shard: 0, expected: initial, new: arriving), index: 6) == .applied)
        // Decided on the old placement: refused.
        #expect(metadata.apply(.updateShard(collection: "docs", shard: 0, expected: initial, new: arriving), index: 7)
                == .conflict("shard 0 of docs changed meanwhile"))
        // The primary changes only with the next epoch.
        let sameEpoch = ClusterMetadata.Shard(primary: 4, replicas: [1, 2], epoch: 1)
        #expect(metadata.apply(.updateShard(collection: "docs", shard: 0, expected: arriving, new: sameEpoch), index: 8)
                == .conflict("a shard's copies must be distinct and its epoch grow exactly when its primary changes"))
        let switched = ClusterMetadata.Shard(primary: 4, replicas: [1, 2], epoch: 2)
        #expect(metadata.apply(.updateShard(collection: "docs", shard: 0, expected: arriving, new: switched), index: 9) == .applied)
        #expect(metadata.collections["docs"]?.shards[0] == switched)
        // A node it adds must be a member; one it keeps may have left.
        _ = metadata.apply(.removeMember(2), index: 10)
        let withStranger = ClusterMetadata.Shard(primary: 4, replicas: [1, 2], epoch: 2, incoming: [7])
        #expect(metadata.apply(.updateShard(collection: "docs", shard: 0, expected: switched, new: withStranger), index: 11)
                == .conflict("node 7 is not a member"))
        let withThree = ClusterMetadata.Shard(primary: 4, replicas: [1, 2], epoch: 2, incoming: [3])
        #expect(metadata.apply(.updateShard(collection: "docs", shard: 0, expected: switched, new: withThree), index: 12) == .applied)
    }

    @Test("a primary is handed to one of the shard's copies at the same epoch; the switch or a promotion ends the handoff")
    func handoff() throws {
        var metadata = Self.members([1, 2, 3, 4])
        let arriving = ClusterMetadata.Shard(primary: 1, replicas: [2, 3], epoch: 1, incoming: [4])
        _ = metadata.apply(.createCollection(Self.sharded([.init(primary: 1, replicas: [2, 3])])), index: 5)
        _ = metadata.apply(.updateShard(collection: "docs", shard: 0, expected: .init(primary: 1, replicas: [2, 3]), new: arriving), index: 6)
        var toStranger = arriving
        toStranger.handoff = 9
        #expect(metadata.apply(.updateShard(collection: "docs", shard: 0, expected: arriving, new: toStranger), index: 7)
                == .conflict("a shard's primary is handed to one of its copies, and not while it changes"))
        var switchedAndHanding = ClusterMetadata.Shard(primary: 2, replicas: [3, 4], epoch: 2)
        switchedAndHanding.handoff = 3
        #expect(metadata.apply(.updateShard(collection: "docs", shard: 0, expected: arriving, new: switchedAndHanding), index: 8)
                == .conflict("a shard's primary is handed to one of its copies, and not while it changes"))
        var handing = arriving
        handing.handoff = 4   // an incoming copy may take it
        #expect(metadata.apply(.updateShard(collection: "docs", shard: 0, expected: arriving, new: handing), index: 9) == .applied)
        #expect(try ClusterMetadata(decoding: metadata.encoded()) == metadata)
        #expect(try ClusterMetadata.decode(ClusterMetadata.encode(.updateShard(collection: "docs", shard: 0, expected: arriving, new: handing)))
                == .updateShard(collection: "docs", shard: 0, expected: arriving, new: handing))
        // The switch (a new shard value) ends it.
        let switched = ClusterMetadata.Shard(primary: 4, replicas: [2, 3], epoch: 2)
        #expect(metadata.apply(.updateShard(collection: "docs", shard: 0, expected: handing, new: switched), index: 10) == .applied)
        #expect(metadata.collections["docs"]?.shards[0].handoff == 0)
        // So does a failover while one is pending.
        var again = switched
        again.handoff = 2
        _ = metadata.apply(.updateShard(collection: "docs", shard: 0, expected: switched, new: again), index: 11)
        #expect(metadata.apply(.promoteShard(collection: "docs", shard: 0, primary: 3, epoch: 2), index: 12) == .applied)
        #expect(metadata.collections["docs"]?.shards[0] == .init(primary: 3, replicas: [2, 4], epoch: 3))
    }

    @Test("a shard update written by version 2 (shards without a handoff) still decodes")
    func versionTwoShards() throws {
        var bytes: [UInt8] = [2, 8]
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        u32(4); bytes += Array("docs".utf8); u32(3)
        u64(1); u64(1); u64(2); u64(2); u64(3); u64(0)            // expected: primary 1, epoch 1, replicas [2, 3], no incoming
        u64(1); u64(1); u64(2); u64(2); u64(3); u64(1); u64(4)    // new: the same with 4 arriving
        #expect(try ClusterMetadata.decode(bytes) == .updateShard(collection: "docs", shard: 3, expected: .init(primary: 1, replicas: [2, 3]),
                                                                  new: .init(primary: 1, replicas: [2, 3], incoming: [4])))
    }

    @Test("metadata written before sharding (version 1) still decodes: collections without shards, members not draining")
    func versionOne() throws {
        // Version 1 snapshot: one member, one collection, settings.
        var bytes: [UInt8] = [1]
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        func string(_ s: String) { u32(UInt32(s.utf8.count)); bytes += Array(s.utf8) }
        u64(1); u64(7); string("a:1"); u64(42)
        u64(1); string("old"); u32(4); u32(1); u64(2); bytes += [9, 9]; u64(3)
        u32(1); u32(0)
        let metadata = try ClusterMetadata(decoding: bytes)
        #expect(metadata.members[7] == .init(id: 7, address: "a:1", capacityBytes: 42))
        #expect(metadata.collections["old"]?.isSharded == false)
        #expect(metadata.collections["old"]?.request == [9, 9])
    }
}
