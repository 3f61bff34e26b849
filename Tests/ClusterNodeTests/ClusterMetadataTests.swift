import ClusterEngine
import Testing
@testable import ClusterNode

@Suite("Cluster metadata")
struct ClusterMetadataTests {
    private let collection = ClusterMetadata.Collection(name: "docs", dimension: 4, metric: 1, request: [1, 2, 3], createdIndex: 0)

    @Test("commands apply with the same outcome everywhere, and survive encoding")
    func applyAndEncode() throws {
        var metadata = ClusterMetadata()
        let commands: [ClusterMetadata.Command] = [
            .addMember(.init(id: 1, address: "127.0.0.1:7001")), .addMember(.init(id: 2, address: "127.0.0.1:7002")),
            .createCollection(collection), .createCollection(collection), .deleteCollection("nope"),
            .addMember(.init(id: 2, address: "127.0.0.1:9999")), .removeMember(1),
            .setSettings(.init(replicationFactor: 3, replicationMode: 2)),
            .reportCapacity(2, bytes: 8 << 30), .reportCapacity(9, bytes: 1),
        ]
        var outcomes: [ClusterMetadata.Outcome] = []
        for (offset, command) in commands.enumerated() {
            let decoded = try ClusterMetadata.decode(ClusterMetadata.encode(command))
            #expect(decoded == command)
            outcomes.append(metadata.apply(decoded, index: UInt64(offset + 1)))
        }
        #expect(outcomes == [.applied, .applied, .applied, .alreadyExists, .notFound,
                             .conflict("node 2 is already a member at 127.0.0.1:7002"), .applied, .applied, .applied, .notFound])
        #expect(metadata.members[2]?.capacityBytes == 8 << 30)
        #expect(metadata.collections["docs"]?.createdIndex == 3)
        #expect(metadata.members.keys.sorted() == [2])
        #expect(try ClusterMetadata(decoding: metadata.encoded()) == metadata)
        #expect(try ClusterMetadata(decoding: []) == ClusterMetadata())
    }

    @Test("damaged command and snapshot bytes are refused, never trapped on")
    func damagedBytes() {
        let good = ClusterMetadata.encode(.createCollection(collection))
        for cut in 0..<good.count { #expect(throws: (any Error).self) { try ClusterMetadata.decode(Array(good.prefix(cut))) } }
        #expect(throws: (any Error).self) { try ClusterMetadata.decode([9, 1]) }
        var metadata = ClusterMetadata()
        _ = metadata.apply(.createCollection(collection), index: 1)
        let snapshot = metadata.encoded()
        for cut in 1..<snapshot.count { #expect(throws: (any Error).self) { try ClusterMetadata(decoding: Array(snapshot.prefix(cut))) } }
    }

    @Test("founding nodes all start from the same entries: voters, then addresses, committed at term 1")
    func foundingEntries() {
        let ready = ClusterNode.foundingReady([2: "b:2", 1: "a:1", 3: "c:3"])
        #expect(ready.hardState == HardState(term: 1, vote: 0, commit: 6))
        #expect(ready.entries.prefix(3).map(\.payload) == [.configuration(.addVoter(1)), .configuration(.addVoter(2)), .configuration(.addVoter(3))])
        #expect(ready.entries.map(\.index) == [1, 2, 3, 4, 5, 6])
        #expect(ClusterNode.foundingReady([1: "a:1", 3: "c:3", 2: "b:2"]) == ready)
    }
}
