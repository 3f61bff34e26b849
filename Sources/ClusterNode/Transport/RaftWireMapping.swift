import ClusterEngine
import Wire

/// Raft messages and entries to and from their wire form (`ruvector.v1.RaftMessage`,
/// `ruvector.v1.Entry`). Decoding checks what the engine relies on: a known kind, a sender, a
/// receiver, entries numbered in sequence after the append's previous index.
public enum RaftWireMapping {
    /// Why bytes from a peer were refused.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    private static let kinds: [(Message.Kind, RuvectorV1.RaftMessageType)] = [
        (.preVote, .preVote), (.preVoteResponse, .preVoteResponse), (.vote, .vote), (.voteResponse, .voteResponse),
        (.append, .append), (.appendResponse, .appendResponse), (.heartbeat, .heartbeat),
        (.heartbeatResponse, .heartbeatResponse), (.timeoutNow, .timeoutNow),
    ]

    /// The wire form of `message` (a snapshot message travels by InstallSnapshot instead: nil).
    public static func wire(_ message: Message) -> RuvectorV1.RaftMessage? {
        guard let type = kinds.first(where: { $0.0 == message.kind })?.1 else { return nil }
        return RuvectorV1.RaftMessage(
            type: type, from: message.from, to: message.to, term: message.term, index: message.index,
            logTerm: message.logTerm, entries: message.entries.map(wire), commit: message.commit, reject: message.reject,
            hint: message.hint, context: message.context, transfer: message.transfer)
    }

    /// The engine's form of a message received from a peer.
    public static func message(_ wire: RuvectorV1.RaftMessage) throws(Invalid) -> Message {
        guard let kind = kinds.first(where: { $0.1 == wire.type })?.0 else {
            throw Invalid(description: "unknown Raft message type \(wire.type.rawValue)")
        }
        guard wire.from != 0, wire.to != 0 else { throw Invalid(description: "a Raft message needs a sender and a receiver") }
        var m = Message(kind: kind, from: wire.from, to: wire.to, term: wire.term)
        m.index = wire.index
        m.logTerm = wire.logTerm
        m.commit = wire.commit
        m.reject = wire.reject
        m.hint = wire.hint
        m.context = wire.context
        m.transfer = wire.transfer
        if !wire.entries.isEmpty {
            guard kind == .append else { throw Invalid(description: "only appends carry entries") }
            var expected = wire.index
            for e in wire.entries {
                guard expected < UInt64.max, e.index == expected + 1 else {
                    throw Invalid(description: "append entries must follow index \(wire.index) in sequence")
                }
                expected = e.index
                m.entries.append(try entry(e))
            }
        }
        return m
    }

    /// The wire form of a log entry.
    public static func wire(_ entry: Entry) -> RuvectorV1.Entry {
        var e = RuvectorV1.Entry(term: entry.term, index: entry.index)
        switch entry.payload {
        case .empty: e.type = .noop
        case .command(let bytes): e.type = .unspecified; e.data = bytes
        case .configuration(let change):
            e.type = .configChange
            switch change {
            case .addLearner(let id): e.change = RuvectorV1.ConfigChange(type: .addLearner, nodeId: id)
            case .addVoter(let id): e.change = RuvectorV1.ConfigChange(type: .addVoter, nodeId: id)
            case .remove(let id): e.change = RuvectorV1.ConfigChange(type: .remove, nodeId: id)
            }
        }
        return e
    }

    /// The engine's form of a log entry.
    public static func entry(_ e: RuvectorV1.Entry) throws(Invalid) -> Entry {
        let payload: Entry.Payload
        switch e.type {
        case .noop: payload = .empty
        case .unspecified: payload = .command(e.data)
        case .configChange:
            guard let change = e.change, change.nodeId != 0 else { throw Invalid(description: "a membership change needs a node id") }
            switch change.type {
            case .addLearner: payload = .configuration(.addLearner(change.nodeId))
            case .addVoter: payload = .configuration(.addVoter(change.nodeId))
            case .remove: payload = .configuration(.remove(change.nodeId))
            default: throw Invalid(description: "unknown membership change type \(change.type.rawValue)")
            }
        default: throw Invalid(description: "unknown entry type \(e.type.rawValue)")
        }
        return Entry(term: e.term, index: e.index, payload: payload)
    }
}
