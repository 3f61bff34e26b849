import ArgumentParser
import RuVectorClient

/// `ruvector cluster status|shards|shard-status|join|leave|transfer-leader|settings`.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Show a cluster's members, leader and shards; add, remove nodes; move the leadership.",
        subcommands: [Status.self, Shards.self, ShardStatusCommand.self, Join.self, Leave.self, TransferLeader.self, Settings.self])

    static func print(_ state: ClusterState, json: Bool) {
        if json { return Terminal.printJSON(JSONForm.cluster(state)) }
        Terminal.printFields([
            ("leader", state.leaderID == 0 ? "none known" : String(state.leaderID)), ("term", String(state.term)),
            ("commit index", String(state.commitIndex)),
            ("answered by", "node \(state.answeredBy), applied to \(state.appliedIndex)" + (state.stale ? " (local view, not confirmed by the leader)" : "")),
            ("collections", state.collections.isEmpty ? "none" : state.collections.map(\.name).joined(separator: ", ")),
            ("replication", "factor \(state.replicationFactor), mode \(state.replicationMode?.rawValue ?? "default (async)")"),
        ])
        Swift.print("")
        let leaderKnown = state.members.contains { $0.healthy || $0.matchIndex > 0 }
        Terminal.printTable(["NODE", "ADDRESS", "ROLE", "CAPACITY", "HEALTH", "LAST SEEN", "MATCH", "LAG"], state.members.map { m in
            let role = m.id == state.leaderID ? "leader" : m.role == .voter ? "follower" : m.role.rawValue
            let capacity = m.capacityBytes == 0 ? "-" : "\(m.capacityBytes >> 20) MiB"
            guard leaderKnown else { return [String(m.id), m.address, role, capacity, "-", "-", "-", "-"] }
            return [String(m.id), m.address, role, capacity, m.healthy ? "healthy" : "unreachable",
                    m.id == state.leaderID ? "-" : m.lastSeenMillis > 1 << 40 ? "never" : "\(m.lastSeenMillis) ms ago",
                    String(m.matchIndex), String(m.lagEntries)]
        })
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Members, roles, health, leader, term, commit index and lag.")
        @OptionGroup var connection: ConnectionOptions
        @Flag(name: .customLong("stale-ok"), help: "Answer from the called node alone (works without a leader; may lag).")
        var staleOK = false

        func run() async throws {
            let state = try await connection.run { try await $0.clusterState(staleOK: staleOK) }
            ClusterCommand.print(state, json: connection.json)
        }
    }

    struct Join: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a node (started with --node-id and no --cluster): it joins as a learner and becomes a voter once caught up.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The new node's id.") var nodeID: UInt64
        @Argument(help: "The new node's address, HOST:PORT.") var address: String

        func run() async throws {
            let state = try await connection.run { try await $0.joinCluster(nodeID: nodeID, address: address) }
            ClusterCommand.print(state, json: connection.json)
        }
    }

    struct Leave: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a node from the cluster (stop its process afterwards).")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The node's id.") var nodeID: UInt64

        func run() async throws {
            let state = try await connection.run { try await $0.leaveCluster(nodeID: nodeID) }
            ClusterCommand.print(state, json: connection.json)
        }
    }

    struct TransferLeader: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "transfer-leader", abstract: "Move the leadership to another voter.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The voter to lead.") var nodeID: UInt64

        func run() async throws {
            let state = try await connection.run { try await $0.transferLeadership(to: nodeID) }
            ClusterCommand.print(state, json: connection.json)
        }
    }

    struct Settings: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set the cluster-wide replication factor and write mode.")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .customLong("replication-factor"), help: "Replicas per shard, 1-16.") var replicationFactor: Int
        @Option(name: .customLong("replication-mode"), help: "How writes wait for replicas.") var replicationMode: ReplicationMode = .async

        func run() async throws {
            let state = try await connection.run {
                try await $0.updateClusterSettings(replicationFactor: replicationFactor, replicationMode: replicationMode)
            }
            ClusterCommand.print(state, json: connection.json)
        }
    }
}

extension JSONForm {
    static func cluster(_ state: ClusterState) -> PayloadValue {
        .object([
            "leader": .int(Int64(clamping: state.leaderID)), "term": .int(Int64(clamping: state.term)),
            "commit_index": .int(Int64(clamping: state.commitIndex)), "applied_index": .int(Int64(clamping: state.appliedIndex)),
            "answered_by": .int(Int64(clamping: state.answeredBy)), "stale": .bool(state.stale),
            "collections": .list(state.collections.map { .string($0.name) }),
            "replication_factor": .int(Int64(state.replicationFactor)), "replication_mode": .string(state.replicationMode?.rawValue ?? "unspecified"),
            "members": .list(state.members.map { m in
                .object([
                    "id": .int(Int64(clamping: m.id)), "address": .string(m.address), "role": .string(m.role.rawValue),
                    "healthy": .bool(m.healthy), "match_index": .int(Int64(clamping: m.matchIndex)),
                    "last_seen_ms": .int(Int64(clamping: m.lastSeenMillis)), "lag_entries": .int(Int64(clamping: m.lagEntries)),
                    "capacity_bytes": .int(Int64(clamping: m.capacityBytes)),
                ])
            }),
        ])
    }
}
