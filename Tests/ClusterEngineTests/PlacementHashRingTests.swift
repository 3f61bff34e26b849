import Testing
@testable import ClusterEngine

/// `HashRing` and `ShardPlacement.replicas`: positions, the clockwise walk, and golden
/// replica lists cross-checked against an independent model of the ring in Python.
@Suite("Placement: HashRing")
struct PlacementHashRingTests {
    /// Nodes 10, 20, 30 with 4 virtual nodes each. Its points, from xxhash 4.1.0
    /// (`sorted((xxhash.xxh64_intdigest(f"node/{n}/{i}".encode()), n) for n in (10, 20, 30) for i in range(4))`):
    /// 0x04EB8E69D6C4C5C2 30, 0x09CBF3B8A656E831 30, 0x4DC154B0938E3F87 10, 0x4EAB86CB0A140CFD 20,
    /// 0x5878A6BF1D622089 20, 0x89B24A06C41A68AF 20, 0x90DAA02B0032910F 30, 0x9D2F76108017A4F5 10,
    /// 0xAA1A8A75869BCEFE 10, 0xB05BB9BE8119308C 30, 0xD42BEF245C4A4B7C 10, 0xE4F2A735BDC1FC8A 20.
    static let small = HashRing(nodes: [10, 20, 30], virtualNodesPerNode: 4)

    @Test("a key is owned from the first point at or after it, wrapping past the last", arguments: [
        (0, [30, 10, 20]),
        (0x04EB_8E69_D6C4_C5C2, [30, 10, 20]),
        (0x4DC1_54B0_938E_3F87, [10, 20, 30]),
        (0x4DC1_54B0_938E_3F88, [20, 30, 10]),
        (0x9D2F_7610_8017_A4F4, [10, 30, 20]),
        (0xE4F2_A735_BDC1_FC8A, [20, 30, 10]),
        (0xE4F2_A735_BDC1_FC8B, [30, 10, 20]),
        (.max, [30, 10, 20]),
    ] as [(UInt64, [UInt64])])
    func walk(hash: UInt64, expected: [UInt64]) {
        #expect(Self.small.owners(ofKey: hash, count: 3) == expected)
        #expect(Self.small.owners(ofKey: hash, count: 1) == [expected[0]])
        #expect(Self.small.owners(ofKey: hash, count: 2) == Array(expected.prefix(2)))
    }

    /// Replicas of shards 0 ... 7 of collection "docs" on nodes 1 ... 5 (150 virtual nodes, RF 3),
    /// from an independent Python model: the ring above, `bisect_left` on positions for the start,
    /// and the key `xxhash.xxh64_intdigest(f"docs/{s}".encode())`.
    @Test("golden replicas of a fixed ring", arguments: [
        (0, [3, 4, 1]), (1, [3, 5, 2]), (2, [2, 3, 1]), (3, [3, 1, 4]),
        (4, [3, 1, 2]), (5, [5, 2, 3]), (6, [2, 4, 3]), (7, [4, 1, 3]),
    ] as [(UInt32, [UInt64])])
    func goldenReplicas(shard: UInt32, expected: [UInt64]) {
        let ring = HashRing(nodes: [1, 2, 3, 4, 5])
        #expect(ShardPlacement.replicas(collection: "docs", shard: shard, ring: ring, replicationFactor: 3) == expected)
    }

    @Test("the order and repeats of the nodes given never change the ring")
    func orderIndependent() {
        let reference = HashRing(nodes: [1, 2, 3, 4, 5])
        for nodes: [UInt64] in [[5, 4, 3, 2, 1], [3, 1, 5, 2, 4], [2, 2, 5, 1, 4, 3, 1]] {
            let ring = HashRing(nodes: nodes)
            #expect(ring == reference)
            #expect(ring.nodes == [1, 2, 3, 4, 5])
            for shard in UInt32(0)..<200 {
                #expect(ShardPlacement.replicas(collection: "c", shard: shard, ring: ring, replicationFactor: 3)
                        == ShardPlacement.replicas(collection: "c", shard: shard, ring: reference, replicationFactor: 3))
            }
        }
    }

    @Test("owners never repeat a node, and a smaller count is a prefix of a larger one")
    func distinctPrefixes() {
        let ring = HashRing(nodes: [1, 2, 3, 4, 5])
        for key in stride(from: UInt64(0), to: .max - (1 << 54), by: 1 << 54) {
            let all = ring.owners(ofKey: key, count: 5)
            #expect(Set(all).count == 5)
            for count in 1...4 {
                let some = ring.owners(ofKey: key, count: count)
                #expect(some == Array(all.prefix(count)))
            }
        }
    }

    @Test("a count of the node count or more gives every node; no nodes or no count gives none")
    func counts() {
        let ring = HashRing(nodes: [7, 8, 9], virtualNodesPerNode: 10)
        #expect(Set(ring.owners(ofKey: 12345, count: 3)) == [7, 8, 9])
        #expect(ring.owners(ofKey: 12345, count: 10) == ring.owners(ofKey: 12345, count: 3))
        #expect(ring.owners(ofKey: 12345, count: 0) == [])
        #expect(ring.owners(ofKey: 12345, count: -1) == [])
        #expect(HashRing(nodes: []).owners(ofKey: 12345, count: 3) == [])
        #expect(HashRing(nodes: [4]).owners(ofKey: 12345, count: 3) == [4])
        #expect(ShardPlacement.replicas(collection: "c", shard: 0, ring: HashRing(nodes: []), replicationFactor: 3) == [])
    }

    @Test("shards of different collections are placed independently")
    func collectionsApart() {
        let ring = HashRing(nodes: [1, 2, 3, 4, 5])
        let a = (UInt32(0)..<64).map { ShardPlacement.replicas(collection: "a", shard: $0, ring: ring, replicationFactor: 2) }
        let b = (UInt32(0)..<64).map { ShardPlacement.replicas(collection: "b", shard: $0, ring: ring, replicationFactor: 2) }
        // Same placement by chance is 1 in 20 per shard; 64 equal in a row would mean the name is ignored.
        #expect(zip(a, b).filter { $0 != $1 }.count > 32)
    }
}
