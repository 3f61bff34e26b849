internal import SeededRandom

/// A server's id in a Raft group (0 is never used: it means "none").
public typealias NodeID = UInt64

/// A log entry.
public struct Entry: Sendable, Equatable, CustomStringConvertible {
    /// What an entry carries.
    public enum Payload: Sendable, Equatable {
        /// Appended by a new leader to commit entries of earlier terms (Raft §5.4.2, §8).
        case empty
        /// An application command.
        case command([UInt8])
        /// A single-server membership change (Raft thesis §4.1).
        case configuration(ConfigurationChange)
    }

    public var term: UInt64
    public var index: UInt64
    public var payload: Payload

    public init(term: UInt64, index: UInt64, payload: Payload) {
        self.term = term; self.index = index; self.payload = payload
    }

    public var description: String {
        switch payload {
        case .empty: return "\(index)@\(term) -"
        case .command(let bytes): return "\(index)@\(term) \(String(decoding: bytes, as: UTF8.self))"
        case .configuration(let change): return "\(index)@\(term) \(change)"
        }
    }
}

/// One membership change: a learner receives the log but does not vote or count for quorum.
public enum ConfigurationChange: Sendable, Equatable, CustomStringConvertible {
    case addLearner(NodeID)
    /// Makes a caught-up learner (or a new server) a voter.
    case addVoter(NodeID)
    case remove(NodeID)

    public var description: String {
        switch self {
        case .addLearner(let id): return "add-learner \(id)"
        case .addVoter(let id): return "add-voter \(id)"
        case .remove(let id): return "remove \(id)"
        }
    }
}

/// Who votes and who only learns.
public struct Configuration: Sendable, Equatable, CustomStringConvertible {
    public var voters: Set<NodeID>
    public var learners: Set<NodeID>

    public init(voters: Set<NodeID>, learners: Set<NodeID> = []) {
        self.voters = voters; self.learners = learners
    }

    /// Votes needed for a majority of the voters.
    public var quorum: Int { voters.count / 2 + 1 }

    public func applying(_ change: ConfigurationChange) -> Configuration {
        var next = self
        switch change {
        case .addLearner(let id): if !next.voters.contains(id) { next.learners.insert(id) }
        case .addVoter(let id): next.learners.remove(id); next.voters.insert(id)
        case .remove(let id): next.voters.remove(id); next.learners.remove(id)
        }
        return next
    }

    public var description: String {
        "voters=\(voters.sorted())" + (learners.isEmpty ? "" : " learners=\(learners.sorted())")
    }
}

/// What must survive a crash besides the log: the current term, the vote cast in it, and
/// (an optimisation) the commit index.
public struct HardState: Sendable, Equatable {
    public var term: UInt64 = 0
    public var vote: NodeID = 0
    public var commit: UInt64 = 0
    public init(term: UInt64 = 0, vote: NodeID = 0, commit: UInt64 = 0) {
        self.term = term; self.vote = vote; self.commit = commit
    }
}

/// The application's state as of a log index, standing in for the entries up to it.
public struct Snapshot: Sendable, Equatable {
    public var index: UInt64
    public var term: UInt64
    public var configuration: Configuration
    public var data: [UInt8]
    public init(index: UInt64, term: UInt64, configuration: Configuration, data: [UInt8]) {
        self.index = index; self.term = term; self.configuration = configuration; self.data = data
    }
}

/// A Raft message between servers.
public struct Message: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        case preVote = "PreVote", preVoteResponse = "PreVoteResp", vote = "Vote", voteResponse = "VoteResp"
        case append = "App", appendResponse = "AppResp", heartbeat = "Heartbeat", heartbeatResponse = "HeartbeatResp"
        case snapshot = "Snap", timeoutNow = "TimeoutNow"
    }

    public var kind: Kind
    public var from: NodeID
    public var to: NodeID
    public var term: UInt64
    /// Append: index and term of the entry before `entries`. Votes: the candidate's last index and term.
    public var index: UInt64 = 0
    public var logTerm: UInt64 = 0
    public var entries: [Entry] = []
    public var commit: UInt64 = 0
    /// Responses: refused (vote denied, log mismatch).
    public var reject = false
    /// A refused append: the index the leader should try next (fast back-off).
    public var hint: UInt64 = 0
    public var snapshot: Snapshot?
    /// ReadIndex: the request's context, echoed by heartbeat responses.
    public var context: [UInt8] = []
    /// Vote requested on a leader's order (TimeoutNow): ignores leader stickiness.
    public var transfer = false

    public init(kind: Kind, from: NodeID, to: NodeID, term: UInt64) {
        self.kind = kind; self.from = from; self.to = to; self.term = term
    }

    public var description: String {
        var text = "\(from)->\(to) \(kind.rawValue) term=\(term)"
        switch kind {
        case .append: text += " prev=\(index)@\(logTerm) commit=\(commit) entries=[\(entries.map(\.description).joined(separator: ", "))]"
        case .appendResponse: text += reject ? " reject index=\(index) hint=\(hint)" : " index=\(index)"
        case .vote, .preVote: text += " last=\(index)@\(logTerm)" + (transfer ? " transfer" : "")
        case .voteResponse, .preVoteResponse: text += reject ? " rejected" : " granted"
        case .heartbeat: text += " commit=\(commit)"
        case .snapshot: text += " snapshot=\(snapshot.map { "\($0.index)@\($0.term)" } ?? "-")"
        case .heartbeatResponse, .timeoutNow: break
        }
        if !context.isEmpty { text += " ctx=\(String(decoding: context, as: UTF8.self))" }
        return text
    }
}

/// A linearizable read the leader confirmed: reads of state applied up to `index` are current.
public struct ReadState: Sendable, Equatable {
    public var index: UInt64
    public var context: [UInt8]
}

/// A condition on a proposal that deposes `member` (replaces it as the holder of a lease that
/// linearizable reads renew): it is appended only if `member` has asked for no read since the
/// proposer looked (`RaftNode.readsRequested(by:)` still equals `readsSeen`), and once appended,
/// every read `member` asks for is answered with an index that includes it. So the deposed
/// member's next lease can only rest on a state in which it is deposed, and a lease it renewed
/// while the proposer was deciding cancels the proposal instead (see docs/cluster.md, Failover).
public struct ReadFence: Sendable, Equatable {
    /// The member being deposed.
    public var member: NodeID
    /// `readsRequested(by: member)` as the proposer saw it when it decided.
    public var readsSeen: UInt64

    public init(member: NodeID, readsSeen: UInt64) {
        self.member = member
        self.readsSeen = readsSeen
    }
}

/// What a node asks its host to do, in order: persist `hardState`, `snapshot` and `entries`
/// (synchronously, before sending), send `messages`, apply `committedEntries` (and install
/// `snapshot` in the state machine), answer `readStates`; then call `advance()`.
public struct Ready: Sendable, Equatable {
    public var hardState: HardState?
    public var entries: [Entry] = []
    public var snapshot: Snapshot?
    public var messages: [Message] = []
    public var committedEntries: [Entry] = []
    public var readStates: [ReadState] = []

    /// Nothing to do yet.
    public init() {}

    public var isEmpty: Bool {
        hardState == nil && entries.isEmpty && snapshot == nil && messages.isEmpty && committedEntries.isEmpty && readStates.isEmpty
    }
}

/// Why a node refused a request.
public struct RaftError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// Only the leader takes proposals and reads; `leader` says who it is (0 = unknown).
        case notLeader(leader: NodeID)
        /// A membership change is still pending, a transfer is running, or the change is not allowed.
        case rejected
    }
    public var code: Code
    public var message: String

    public var description: String { message }
}

/// The tunables, in ticks (one tick = the host's timer period, e.g. 15 ms).
public struct RaftConfiguration: Sendable {
    /// A follower that hears nothing for a random time in [electionTicks, 2 x electionTicks)
    /// starts an election (defaults: 10 ticks = 150-300 ms at 15 ms per tick).
    public var electionTicks = 10
    /// A leader sends heartbeats this often (default 3 ticks = 45 ms).
    public var heartbeatTicks = 3
    /// Ask for votes hypothetically first, so a partitioned server cannot disrupt the group.
    public var preVote = true
    /// A leader that has not heard from a quorum within an election timeout steps down.
    public var checkQuorum = true
    /// Entries per append message.
    public var maxEntriesPerMessage = 64
    /// Append messages a leader keeps unacknowledged per follower while pipelining (at least
    /// 1). A slow or unreachable follower gets no more than this many queued for it, so at
    /// most `maxInflightMessages x maxEntriesPerMessage` entries; the window reopens as it
    /// acknowledges them (etcd-raft's MaxInflightMsgs).
    public var maxInflightMessages = 256
    /// Seed of the randomized election timeouts.
    public var seed: UInt64 = 1

    public init() {}
}

extension SeededGenerator {
    /// A value in 0..<bound, by remainder (slightly uneven for bounds that do not divide 2^64,
    /// which election timeouts do not mind; the Raft simulator's recorded seeds rely on it).
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
