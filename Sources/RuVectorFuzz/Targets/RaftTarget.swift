import ClusterEngine
import ClusterNode
import VectorEngine
import Wire

/// Node-to-node bytes into the cluster's decoders and its Raft node: a `RaftBatch` decoded by
/// protobuf-c, checked by `RaftWireMapping`, then stepped into a `RaftNode` that is a follower
/// or a leader with a few entries (hostile terms, indexes, hints and entries must never trap
/// it), whose Ready is then taken as the host would; and the metadata decoders (a command, a
/// snapshot). Invariants: a stepped node's commit index never passes its last index, and a
/// decoded command or snapshot re-encodes to what decodes the same.
///
/// Input: one byte choosing what the rest is (0 a batch for a follower, 1 for a leader, 2 a
/// metadata command, 3 a metadata snapshot), then the bytes.
final class RaftTarget: FuzzTarget {
    static let name = "raft"
    let maxInputBytes = 64 << 10

    var dictionary: [[UInt8]] {
        [[0x08, 0x05], [0x08, 0x07], [0x08, 0x06], [0x10, 0x02], [0x18, 0x01], [0x20, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
         [0x28, 0x00], [0x3A, 0x00], [0x50, 0x01], [0x01, 0x03]]
    }

    func seedCorpus() throws -> [[UInt8]] {
        var seeds: [[UInt8]] = []
        let entries = [RaftWireMapping.wire(Entry(term: 1, index: 3, payload: .command([1, 2]))),
                       RaftWireMapping.wire(Entry(term: 1, index: 4, payload: .configuration(.addLearner(4)))),
                       RaftWireMapping.wire(Entry(term: 1, index: 5, payload: .empty))]
        let messages: [RuvectorV1.RaftMessage] = [
            RuvectorV1.RaftMessage(type: .append, from: 2, to: 1, term: 2, index: 2, logTerm: 1, entries: entries, commit: 4),
            RuvectorV1.RaftMessage(type: .heartbeat, from: 2, to: 1, term: 2, commit: 9, context: [0, 0, 0, 1]),
            RuvectorV1.RaftMessage(type: .appendResponse, from: 2, to: 1, term: 1, index: 3),
            RuvectorV1.RaftMessage(type: .appendResponse, from: 3, to: 1, term: 1, index: 9, reject: true, hint: 2),
            RuvectorV1.RaftMessage(type: .heartbeatResponse, from: 3, to: 1, term: 1, context: [1]),
            RuvectorV1.RaftMessage(type: .preVote, from: 3, to: 1, term: 5, index: 9, logTerm: 4),
            RuvectorV1.RaftMessage(type: .vote, from: 3, to: 1, term: 5, index: 9, logTerm: 4, transfer: true),
            RuvectorV1.RaftMessage(type: .timeoutNow, from: 2, to: 1, term: 1),
        ]
        for selector: UInt8 in [0, 1] {
            for message in messages { seeds.append([selector] + RuvectorV1.RaftBatch(from: message.from, messages: [message]).encoded()) }
            seeds.append([selector] + RuvectorV1.RaftBatch(from: 2, messages: messages.filter { $0.from == 2 }).encoded())
        }
        let collection = ClusterMetadata.Collection(name: "docs", dimension: 4, metric: 1, request: [10, 4, 100, 111, 99, 115], createdIndex: 0)
        for command: ClusterMetadata.Command in [.addMember(.init(id: 2, address: "127.0.0.1:7002")), .removeMember(2),
                                                 .createCollection(collection), .deleteCollection("docs"), .setSettings(.init()),
                                                 .reportCapacity(2, bytes: 1 << 30)] {
            seeds.append([2] + ClusterMetadata.encode(command))
        }
        var metadata = ClusterMetadata()
        _ = metadata.apply(.addMember(.init(id: 1, address: "a:1")), index: 1)
        _ = metadata.apply(.createCollection(collection), index: 2)
        seeds.append([3] + metadata.encoded())
        return seeds
    }

    func mutate(_ input: inout [UInt8], random: inout SeededGenerator, corpus: [[UInt8]]) -> Bool {
        guard let selector = input.first, selector < 2 else { return false }
        var message = Array(input.dropFirst())
        guard ProtobufMutator.mutate(&message, random: &random) else { return false }
        input = [selector] + message
        return true
    }

    func run(_ input: [UInt8]) throws -> FuzzOutcome {
        guard let selector = input.first else { return .rejected }
        let body = Array(input.dropFirst())
        switch selector % 4 {
        case 0, 1:
            let batch = try RuvectorV1.RaftBatch(decoding: body)
            var node = selector % 4 == 0 ? Self.follower() : Self.leader()
            for wire in batch.messages {
                var message = try RaftWireMapping.message(wire)
                message.to = node.id     // what the service checks; past it, the engine must hold
                node.step(message)
                let ready = node.ready()
                node.advance(ready)
                guard node.commitIndex <= node.lastIndex else {
                    throw FuzzFinding("commit index \(node.commitIndex) past the last index \(node.lastIndex) after \(message)")
                }
            }
            return .accepted
        case 2:
            let command = try ClusterMetadata.decode(body)
            guard try ClusterMetadata.decode(ClusterMetadata.encode(command)) == command else {
                throw FuzzFinding("a metadata command does not survive re-encoding: \(command)")
            }
            var metadata = ClusterMetadata()
            _ = metadata.apply(command, index: 1)
            _ = metadata.apply(command, index: 2)
            return .accepted
        default:
            let metadata = try ClusterMetadata(decoding: body)
            guard try ClusterMetadata(decoding: metadata.encoded()) == metadata else {
                throw FuzzFinding("a metadata snapshot does not survive re-encoding")
            }
            return .accepted
        }
    }

    /// Node 1 of a new three-node group, following.
    private static func follower() -> RaftNode {
        var node = RaftNode(id: 1, voters: [1, 2, 3])
        node.advance(node.ready())
        return node
    }

    /// Node 1 elected by node 2's votes, with a few entries proposed.
    private static func leader() -> RaftNode {
        var node = RaftNode(id: 1, voters: [1, 2, 3])
        node.campaign()
        var preVote = Message(kind: .preVoteResponse, from: 2, to: 1, term: 1)
        preVote.reject = false
        node.step(preVote)
        node.step(Message(kind: .voteResponse, from: 2, to: 1, term: 1))
        for command in 0..<3 { try? node.propose([UInt8(command)]) }
        node.advance(node.ready())
        return node
    }
}
