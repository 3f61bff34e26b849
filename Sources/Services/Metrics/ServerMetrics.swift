import ClusterNode
import RPC
import Synchronization
import VectorDatabase
import VectorEngine
import Wire

/// The server's Prometheus metrics: calls by method and status, call latency histograms by
/// method (both fed by `RPC.ServerConfiguration.callObserver`), and, read at scrape time,
/// points per collection and write-ahead log activity. Label values come only from the
/// router's known methods, status codes and collection names, so clients cannot grow them.
public final class ServerMetrics: Sendable {
    /// Upper bounds of the latency histogram buckets, in seconds.
    static let bucketBounds: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    private struct Histogram {
        var buckets = [UInt64](repeating: 0, count: ServerMetrics.bucketBounds.count)
        var count: UInt64 = 0
        var sum: Double = 0

        mutating func record(_ seconds: Double) {
            if let bucket = ServerMetrics.bucketBounds.firstIndex(where: { seconds <= $0 }) { buckets[bucket] += 1 }
            count += 1
            sum += seconds
        }
    }

    /// One method's calls: counts by final status, and their durations.
    private struct MethodCalls {
        var codes: [StatusCode: UInt64] = [:]
        var latency = Histogram()

        mutating func record(_ code: StatusCode, seconds: Double) {
            codes[code, default: 0] += 1
            latency.record(seconds)
        }
    }

    private struct State {
        /// By method path: one lookup per call.
        var methods: [String: MethodCalls] = [:]
    }

    private let state = Mutex(State())
    private let collections: @Sendable () -> [DurableCollection]
    private let connectionCounts = Mutex<(@Sendable () -> ConnectionCounts)?>(nil)
    private let clusterNode = Mutex<ClusterNode?>(nil)
    private let sharding = Mutex<ShardedCollections?>(nil)

    /// Metrics for a server whose collections `collections()` lists at scrape time.
    public init(collections: @escaping @Sendable () -> [DurableCollection]) {
        self.collections = collections
    }

    /// Records one finished call (pass as `ServerConfiguration.callObserver`).
    @Sendable public func record(path: String, code: StatusCode, duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        state.withLock { state in
            // Updated in place: no copy of the per-method dictionary or bucket array per call.
            state.methods[path, default: MethodCalls()].record(code, seconds: seconds)
        }
    }

    /// Reports the server's connections (`GRPCServer.connectionCounts`) from now on.
    public func observeConnections(_ counts: @escaping @Sendable () -> ConnectionCounts) {
        connectionCounts.withLock { $0 = counts }
    }

    /// Reports this server's cluster node from now on.
    public func observeCluster(_ node: ClusterNode) {
        clusterNode.withLock { $0 = node }
    }

    /// Also reports this node's shard copies and, on their primaries, the replicas' lag.
    func observeSharding(_ shards: ShardedCollections) {
        sharding.withLock { $0 = shards }
    }

    /// Shard copies on this node: their log position, and on a primary each replica's lag.
    private func shardExposition(_ node: ClusterNode, _ shards: ShardedCollections) -> String {
        guard let status = try? ShardReplicationMethods.status(RuvectorV1.ShardStatusRequest(), sharding: shards, node: node) else { return "" }
        var out = "# HELP ruvector_shard_last_sequence Sequence of the last record in a shard copy's log on this node.\n"
        out += "# TYPE ruvector_shard_last_sequence gauge\n"
        for copy in status.shards {
            out += "ruvector_shard_last_sequence{collection=\"\(copy.collection)\",shard=\"\(copy.shard)\",role=\"\(copy.primary ? "primary" : "replica")\"} \(copy.lastSequence)\n"
        }
        out += "# HELP ruvector_shard_replica_lag_records Records a replica is behind its primary (reported by the primary).\n"
        out += "# TYPE ruvector_shard_replica_lag_records gauge\n"
        var seconds = "# HELP ruvector_shard_replica_lag_seconds Age of the oldest write a replica does not have yet (0: caught up; reported by the primary).\n"
        seconds += "# TYPE ruvector_shard_replica_lag_seconds gauge\n"
        for copy in status.shards where copy.primary {
            for replica in copy.replicas {
                let labels = "collection=\"\(copy.collection)\",shard=\"\(copy.shard)\",replica=\"\(replica.nodeId)\""
                out += "ruvector_shard_replica_lag_records{\(labels)} \(replica.lagRecords)\n"
                let lag = replica.lagMillis == .max ? "+Inf" : "\(Double(replica.lagMillis) / 1000)"
                seconds += "ruvector_shard_replica_lag_seconds{\(labels)} \(lag)\n"
            }
        }
        return out + seconds
    }

    /// The cluster node's families: term, leader, indexes, changes, snapshots, per-peer lag and
    /// drops, and the Raft log's append latency.
    private func clusterExposition(_ node: ClusterNode) -> String {
        let status = node.status
        var out = ""
        let gauges: [(String, String, String, UInt64)] = [
            ("ruvector_raft_term", "gauge", "Current Raft term.", status.term),
            ("ruvector_raft_leader", "gauge", "The leader this node follows (0: none known).", status.leader),
            ("ruvector_raft_is_leader", "gauge", "1 when this node is the leader.", status.role == .leader ? 1 : 0),
            ("ruvector_raft_commit_index", "gauge", "Highest log index known committed.", status.commitIndex),
            ("ruvector_raft_apply_index", "gauge", "Highest log index applied to the metadata here.", status.appliedIndex),
            ("ruvector_raft_leader_changes_total", "counter", "Times the known leader changed since start.", status.leaderChanges),
            ("ruvector_raft_snapshots_sent_total", "counter", "Snapshots this node sent to followers since start.", status.snapshotsSent),
        ]
        for (name, type, help, value) in gauges {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(value)\n"
        }
        out += "# HELP ruvector_raft_peer_lag_entries Entries a member is behind the leader's last index (leader only).\n"
        out += "# TYPE ruvector_raft_peer_lag_entries gauge\n"
        for (peer, match) in status.matchIndex.sorted(by: { $0.key < $1.key }) {
            out += "ruvector_raft_peer_lag_entries{peer=\"\(peer)\"} \(status.lastIndex > match ? status.lastIndex - match : 0)\n"
        }
        out += "# HELP ruvector_raft_dropped_messages_total Raft messages not delivered to a peer (link down, queue full).\n"
        out += "# TYPE ruvector_raft_dropped_messages_total counter\n"
        for (peer, dropped) in node.droppedMessages.sorted(by: { $0.key < $1.key }) {
            out += "ruvector_raft_dropped_messages_total{peer=\"\(peer)\"} \(dropped)\n"
        }
        let latency = node.appendLatency
        out += "# HELP ruvector_raft_append_duration_seconds Time to append (and fsync) a Ready's entries and hard state.\n"
        out += "# TYPE ruvector_raft_append_duration_seconds histogram\n"
        out += Self.histogramLines("ruvector_raft_append_duration_seconds", labels: nil, bounds: ClusterNode.AppendLatency.bounds,
                                   buckets: latency.buckets, count: latency.count, sum: latency.sumSeconds)
        return out
    }

    /// A histogram's sample lines: cumulative buckets, +Inf, sum and count.
    private static func histogramLines(_ name: String, labels: String?, bounds: [Double], buckets: [UInt64],
                                       count: UInt64, sum: Double) -> String {
        let prefix = labels.map { "\($0)," } ?? ""
        let plain = labels.map { "{\($0)}" } ?? ""
        var out = ""
        var cumulative: UInt64 = 0
        for (bound, bucket) in zip(bounds, buckets) {
            cumulative += bucket
            out += "\(name)_bucket{\(prefix)le=\"\(bound)\"} \(cumulative)\n"
        }
        out += "\(name)_bucket{\(prefix)le=\"+Inf\"} \(count)\n"
        out += "\(name)_sum\(plain) \(sum)\n"
        out += "\(name)_count\(plain) \(count)\n"
        return out
    }

    /// The metrics in the Prometheus text exposition format (version 0.0.4).
    public func exposition() -> String {
        let snapshot = state.withLock { $0 }
        var out = ""
        if let counts = connectionCounts.withLock({ $0 })?() {
            out += "# HELP ruvector_connections_open Client connections open now.\n"
            out += "# TYPE ruvector_connections_open gauge\nruvector_connections_open \(counts.open)\n"
            out += "# HELP ruvector_connections_refused_total Connections refused at the connection limit since start.\n"
            out += "# TYPE ruvector_connections_refused_total counter\nruvector_connections_refused_total \(counts.refusedTotal)\n"
        }
        if let node = clusterNode.withLock({ $0 }) {
            out += clusterExposition(node)
            if let shards = sharding.withLock({ $0 }) { out += shardExposition(node, shards) }
        }
        out += "# HELP ruvector_rpc_requests_total gRPC calls served, by method and final status.\n"
        out += "# TYPE ruvector_rpc_requests_total counter\n"
        let methods = snapshot.methods.sorted(by: { $0.key < $1.key })
        for (method, calls) in methods {
            for (code, count) in calls.codes.map({ ($0.key.description, $0.value) }).sorted(by: { $0.0 < $1.0 }) {
                out += "ruvector_rpc_requests_total{method=\"\(Self.escaped(method))\",code=\"\(code)\"} \(count)\n"
            }
        }
        out += "# HELP ruvector_rpc_duration_seconds Time from request headers to status, by method.\n"
        out += "# TYPE ruvector_rpc_duration_seconds histogram\n"
        for (method, calls) in methods {
            let histogram = calls.latency
            out += Self.histogramLines("ruvector_rpc_duration_seconds", labels: "method=\"\(Self.escaped(method))\"",
                                       bounds: Self.bucketBounds, buckets: histogram.buckets, count: histogram.count,
                                       sum: histogram.sum)
        }
        let all = collections()
        let families: [(name: String, type: String, help: String, value: (DurableCollection) -> Int)] = [
            ("ruvector_collection_points", "gauge", "Points stored, by collection.", { (try? $0.collection.count()) ?? 0 }),
            ("ruvector_collection_queued_writes", "gauge",
             "Writes acknowledged with WRITE_WAIT_ACCEPTED and not yet indexed, by collection.", { $0.queuedWrites }),
            ("ruvector_wal_appends_total", "counter", "Write-ahead log records appended since start, by collection.", { $0.logStatistics.appends }),
            ("ruvector_wal_bytes_total", "counter", "Write-ahead log bytes appended since start, by collection.", { $0.logStatistics.bytes }),
            ("ruvector_wal_syncs_total", "counter", "Write-ahead log device syncs since start, by collection.", { $0.logStatistics.syncs }),
            ("ruvector_wal_segments", "gauge", "Write-ahead log segment files, by collection.", { $0.logStatistics.segments }),
        ]
        for family in families {
            out += "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) \(family.type)\n"
            for collection in all {
                out += "\(family.name){collection=\"\(Self.escaped(collection.collection.config.name))\"} \(family.value(collection))\n"
            }
        }
        out += "# HELP ruvector_collection_tier_vectors Vectors per compression tier, by tiered collection.\n"
        out += "# TYPE ruvector_collection_tier_vectors gauge\n"
        for collection in all {
            guard let tiers = collection.collection.index.tierStatistics else { continue }
            let name = Self.escaped(collection.collection.config.name)
            for tier in CompressionTier.allCases {
                out += "ruvector_collection_tier_vectors{collection=\"\(name)\",tier=\"\(tier)\"} \(tiers.counts[tier] ?? 0)\n"
            }
        }
        return out
    }

    /// A label value escaped as the exposition format requires.
    static func escaped(_ value: String) -> String {
        var result = ""
        for character in value {
            switch character {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            default: result.append(character)
            }
        }
        return result
    }
}

