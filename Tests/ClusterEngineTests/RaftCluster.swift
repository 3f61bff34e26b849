@testable import ClusterEngine

/// What a node has persisted: only this survives a crash.
struct PersistedState {
    var hardState = HardState()
    var snapshot: Snapshot
    var entries: [Entry] = []
}

/// A deterministic in-memory Raft group for scenario tests and the simulator: nodes, their
/// disks, a network queue with partitions, and each node's applied commands. Invariants of
/// the paper are checked on demand; violations are collected as text.
struct RaftCluster {
    var settings: RaftConfiguration
    var nodes: [NodeID: RaftNode] = [:]
    var disks: [NodeID: PersistedState] = [:]
    /// Messages sent and not yet delivered, in send order.
    var network: [Message] = []
    /// Groups that can talk to each other; nil = everyone can.
    var partition: [Set<NodeID>]?
    /// Applied commands per node: index -> entry (state machine input).
    var applied: [NodeID: [UInt64: Entry]] = [:]
    /// Every entry ever applied anywhere, by index (for state machine safety).
    var committed: [UInt64: Entry] = [:]
    /// The leader seen for each term (election safety).
    var leaders: [UInt64: NodeID] = [:]
    var readStates: [NodeID: [ReadState]] = [:]
    var violations: [String] = []
    /// Each node's key-value state machine (commands `id|put|key|value`, `id|append|...`, `id|get|key|`).
    var kv: [NodeID: [String: String]] = [:]
    /// Results of applied commands by command id, as the node that applied them saw them.
    var results: [NodeID: [String: String]] = [:]
    /// Whether senders hear of messages the network could not deliver (a partition, a crashed
    /// receiver) through `reportUnreachable`, as from a connection-based transport. Off, a
    /// partition loses messages silently (the scenario tests). Snapshot transfers always
    /// report their outcome (`reportSnapshot`), as the host's InstallSnapshot stream does.
    var reportsUnreachable = false

    /// The group's founding configuration (what a joining server starts from, before the log).
    let founding: Snapshot

    init(voters: [NodeID], settings: RaftConfiguration = RaftConfiguration()) {
        self.settings = settings
        let initial = Snapshot(index: 0, term: 0, configuration: Configuration(voters: Set(voters)), data: [])
        founding = initial
        for id in voters {
            nodes[id] = RaftNode(id: id, settings: settings, hardState: HardState(), snapshot: initial, entries: [])
            disks[id] = PersistedState(snapshot: initial)
            applied[id] = [:]
        }
    }

    /// Adds a brand new (empty) server that will join through a configuration change. It
    /// starts from the founding configuration; the log (or a snapshot) brings the rest.
    mutating func addServer(_ id: NodeID) {
        nodes[id] = RaftNode(id: id, settings: settings, hardState: HardState(), snapshot: founding, entries: [])
        disks[id] = PersistedState(snapshot: founding)
        applied[id] = [:]
    }

    func canTalk(_ a: NodeID, _ b: NodeID) -> Bool {
        guard let partition else { return true }
        return partition.contains { $0.contains(a) && $0.contains(b) }
    }

    /// Runs every node's Ready: persist, queue messages, apply; returns whether anything happened.
    @discardableResult
    mutating func processReadies() -> Bool {
        var any = false
        for id in nodes.keys.sorted() {
            guard var node = nodes[id] else { continue }
            while node.hasReady {
                any = true
                let ready = node.ready()
                persist(id, ready)
                network += ready.messages
                if let snapshot = ready.snapshot {
                    applied[id] = applied[id]!.filter { $0.key > snapshot.index }
                    kv[id] = Self.decodeState(snapshot.data)
                }
                for entry in ready.committedEntries { apply(id, entry) }
                readStates[id, default: []] += ready.readStates
                node.advance(ready)
            }
            nodes[id] = node
            if node.role == .leader {
                if let other = leaders[node.term], other != id {
                    violations.append("election safety: nodes \(other) and \(id) both led term \(node.term)")
                }
                leaders[node.term] = id
                checkLeaderCompleteness(node)
            }
        }
        return any
    }

    private mutating func persist(_ id: NodeID, _ ready: Ready) {
        var disk = disks[id]!
        if let hard = ready.hardState { disk.hardState = hard }
        if let snapshot = ready.snapshot {
            disk.snapshot = snapshot
            disk.entries = disk.entries.filter { $0.index > snapshot.index }
        }
        if let first = ready.entries.first {
            disk.entries = disk.entries.filter { $0.index < first.index } + ready.entries
        }
        disks[id] = disk
    }

    private mutating func apply(_ id: NodeID, _ entry: Entry) {
        if let known = committed[entry.index], known != entry {
            violations.append("state machine safety: node \(id) applied \(entry) at \(entry.index), another applied \(known)")
        }
        committed[entry.index] = entry
        applied[id]![entry.index] = entry
        guard case .command(let bytes) = entry.payload else { return }
        let parts = String(decoding: bytes, as: UTF8.self).split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4 else { return }
        var state = kv[id] ?? [:]
        switch parts[1] {
        case "put": state[parts[2]] = parts[3]
        case "append": state[parts[2], default: ""] += parts[3]
        default: break
        }
        kv[id] = state
        results[id, default: [:]][parts[0]] = state[parts[2]] ?? ""
    }

    /// The key-value state as snapshot data, and back.
    static func encodeState(_ state: [String: String]) -> [UInt8] {
        Array(state.keys.sorted().map { "\($0)=\(state[$0]!)" }.joined(separator: "\n").utf8)
    }

    static func decodeState(_ data: [UInt8]) -> [String: String] {
        var state: [String: String] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let pair = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if pair.count == 2 { state[String(pair[0])] = String(pair[1]) }
        }
        return state
    }

    /// Compacts node `id`'s log up to its applied index, with its state machine as the snapshot.
    mutating func compact(_ id: NodeID) throws {
        guard var node = nodes[id], let index = applied[id]?.keys.max(), index > node.snapshot.index else { return }
        try node.compact(upTo: index, data: Self.encodeState(kv[id] ?? [:]))
        nodes[id] = node
        disks[id]!.snapshot = node.snapshot
        disks[id]!.entries = disks[id]!.entries.filter { $0.index > index }
    }

    private mutating func checkLeaderCompleteness(_ leader: RaftNode) {
        // Every entry committed in an earlier term is in the log of every later leader (§5.4).
        for (index, entry) in committed where index > leader.snapshot.index && entry.term < leader.term {
            let mine = leader.entries.first { $0.index == index }
            if mine != entry {
                violations.append("leader completeness: leader \(leader.id) (term \(leader.term)) lacks committed \(entry)")
            }
        }
    }

    /// Log matching: two logs with the same term at an index agree on everything before it.
    mutating func checkLogMatching() {
        let ids = nodes.keys.sorted()
        for (i, a) in ids.enumerated() {
            for b in ids[(i + 1)...] {
                guard let left = nodes[a], let right = nodes[b] else { continue }
                let byIndex = Dictionary(uniqueKeysWithValues: right.entries.map { ($0.index, $0) })
                var matchedAbove = false
                for entry in left.entries.reversed() {
                    guard let other = byIndex[entry.index] else { continue }
                    if matchedAbove && other != entry {
                        violations.append("log matching: nodes \(a) and \(b) agree after index \(entry.index) but differ at it")
                        return
                    }
                    if other.term == entry.term { matchedAbove = true }
                }
            }
        }
    }

    /// Delivers queued messages (those the partition allows; the rest are lost) once.
    mutating func deliverAll() -> Bool {
        let batch = network
        network = []
        for message in batch {
            if canTalk(message.from, message.to) { deliver(message) } else { lose(message, unreachable: true) }
        }
        return !batch.isEmpty
    }

    /// Steps `message` into its receiver, if that one is up; a snapshot's sender hears that
    /// the transfer is done.
    mutating func deliver(_ message: Message) {
        guard nodes[message.to] != nil else { return lose(message, unreachable: true) }
        nodes[message.to]?.step(message)
        if message.kind == .snapshot { nodes[message.from]?.reportSnapshot(message.to, succeeded: true) }
    }

    /// `message` is lost: a snapshot's sender hears that the transfer failed; with
    /// `reportsUnreachable`, a sender whose receiver is `unreachable` (cut off or down) hears it.
    mutating func lose(_ message: Message, unreachable: Bool) {
        if message.kind == .snapshot {
            nodes[message.from]?.reportSnapshot(message.to, succeeded: false)
        } else if unreachable && reportsUnreachable {
            nodes[message.from]?.reportUnreachable(message.to)
        }
    }

    /// Delivers and processes until nothing moves (bounded).
    mutating func stabilize(maxRounds: Int = 1000) {
        for _ in 0..<maxRounds {
            let processed = processReadies()
            let delivered = deliverAll()
            if !processed && !delivered { return }
        }
        violations.append("stabilize did not converge in \(maxRounds) rounds")
    }

    mutating func tick(_ id: NodeID) { nodes[id]?.tick() }

    /// Crash: the node and its unsent messages are gone; with `loseUnsynced`, so are the
    /// entries its disk had not synced (the node had not acknowledged them... in a correct host).
    mutating func crash(_ id: NodeID) {
        nodes[id] = nil
        for message in network where message.to == id { lose(message, unreachable: true) }
        network.removeAll { $0.from == id || $0.to == id }
    }

    mutating func restart(_ id: NodeID) {
        let disk = disks[id]!
        nodes[id] = RaftNode(id: id, settings: settings, hardState: disk.hardState, snapshot: disk.snapshot, entries: disk.entries)
        applied[id] = [:]
        kv[id] = Self.decodeState(disk.snapshot.data)
    }

    /// A crash in the middle of persisting a Ready: only the first `keptEntries` of its entries
    /// reach the disk, the hard state only if `keepHardState`, and nothing is sent.
    mutating func crashDuringReady(_ id: NodeID, keptEntries: Int, keepHardState: Bool) {
        guard let node = nodes[id] else { return }
        var ready = node.ready()
        // Hosts write entries before the hard state (its commit index refers to them).
        if !keepHardState || keptEntries < ready.entries.count { ready.hardState = nil }
        ready.entries = Array(ready.entries.prefix(keptEntries))
        ready.snapshot = nil
        persist(id, ready)
        crash(id)
    }

    var leader: NodeID? {
        nodes.values.filter { $0.role == .leader }.max(by: { $0.term < $1.term })?.id
    }

    /// One line per node, for scenario transcripts.
    func status() -> [String] {
        nodes.keys.sorted().map { id in
            let n = nodes[id]!
            return "\(id): \(n.role.rawValue) term=\(n.term) leader=\(n.leader) commit=\(n.commitIndex) last=\(n.lastIndex)"
                + (n.snapshot.index > 0 ? " snapshot=\(n.snapshot.index)" : "") + " \(n.configuration)"
        }
    }
}
