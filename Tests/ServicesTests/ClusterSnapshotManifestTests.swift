import RPC
import Storage
import Testing
import Wire
@testable import Services

@Suite("Cluster snapshot manifest and names")
struct ClusterSnapshotManifestTests {
    private func manifest(shards: Int) -> ClusterSnapshotManifest {
        let request = RuvectorV1.CreateCollectionRequest(name: "docs", dimension: 16, metric: .l2)
        return ClusterSnapshotManifest(
            collection: "docs", createdUnixMicros: 1_700_000_000_000_000, node: 2, request: request.encoded(), dimension: 16,
            metric: UInt32(bitPattern: RuvectorV1.Metric.l2.rawValue), replicationFactor: 3,
            shards: (0..<shards).map { .init(snapshotName: "snapshot-\($0)", sizeBytes: UInt64($0) * 10, crc32c: UInt32($0),
                                             walSequence: UInt64($0) + 5, epoch: 1, node: UInt64($0 % 3) + 1) })
    }

    @Test("a manifest decodes to itself; every cut of it is refused")
    func roundTripAndCuts() throws {
        let original = manifest(shards: 6)
        let bytes = original.encoded
        #expect(try ClusterSnapshotManifest(decoding: bytes) == original)
        for cut in 0..<bytes.count {
            #expect(throws: RPCError.self) { try ClusterSnapshotManifest(decoding: Array(bytes.prefix(cut))) }
        }
        #expect(throws: RPCError.self) { try ClusterSnapshotManifest(decoding: bytes + [0]) }
    }

    @Test("a shard count outside 1-1024 is refused before anything is read for it")
    func shardBounds() throws {
        #expect(throws: RPCError.self) { try ClusterSnapshotManifest(decoding: manifest(shards: 0).encoded) }
        // A manifest claiming a million shards with no bytes for them.
        var claimed = manifest(shards: 1).encoded
        let countAt = claimed.count - (4 + "snapshot-0".utf8.count + 8 + 4 + 8 + 8 + 8) - 4
        claimed.replaceSubrange(countAt..<(countAt + 4), with: [0x40, 0x42, 0x0F, 0x00])
        #expect(throws: RPCError.self) { try ClusterSnapshotManifest(decoding: claimed) }
    }

    @Test("the restore request keeps the configuration and shard count, takes the cluster's replication factor")
    func createRequest() throws {
        let request = try manifest(shards: 6).createRequest(named: "copy", limits: VectorServiceLimits())
        #expect(request.name == "copy" && request.dimension == 16 && request.shards == 6 && request.replicationFactor == 0)
        var wrong = manifest(shards: 6)
        wrong.dimension = 17
        #expect(throws: RPCError.self) { try wrong.createRequest(named: "copy", limits: VectorServiceLimits()) }
    }

    @Test("names carry the node that holds the file; anything else is not a name", arguments: [
        ("cluster-00000000000000000042-n3.rvcsnap", UInt64(3) as UInt64?),
        ("cluster-00000000000000000042-n0.rvcsnap", nil), ("cluster-0000000000000000004-n3.rvcsnap", nil),
        ("cluster-00000000000000000042-n3.rvsnap", nil), ("../cluster-00000000000000000042-n3.rvcsnap", nil),
        ("cluster-00000000000000000042-nx.rvcsnap", nil), ("cluster-00000000000000000042-n.rvcsnap", nil),
        ("snapshot-00000000000000000042.rvsnap", nil),
    ])
    func names(name: String, node: UInt64?) {
        #expect(ClusterSnapshotName.node(of: name) == node)
    }

    @Test func madeNamesParse() {
        #expect(ClusterSnapshotName.node(of: ClusterSnapshotName.make(createdUnixMicros: 1_733_000_000_123_456, node: 12)) == 12)
    }
}
