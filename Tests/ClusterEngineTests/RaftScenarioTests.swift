#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import ClusterEngine

/// Scripted scenarios in `testdata/*.txt`, in the manner of etcd-io/raft's testdata: blocks of
///
///     command args
///     ----
///     expected output lines
///
/// separated by blank lines (`#` lines are comments). A mismatch fails with both transcripts;
/// `RUVECTOR_REWRITE=1` writes the actual output back (review the diff against the paper
/// before committing it).
struct ScenarioRunner {
    var cluster = RaftCluster(voters: [])

    mutating func run(_ line: String) throws -> [String] {
        let words = line.split(separator: " ").map(String.init)
        guard let command = words.first else { return [] }
        let args = Array(words.dropFirst())
        func node(_ i: Int) throws -> NodeID {
            guard i < args.count, let id = NodeID(args[i]) else { throw ScenarioError("\(command): expected a node id at argument \(i + 1)") }
            return id
        }
        switch command {
        case "cluster":
            var settings = RaftConfiguration()
            var ids: [NodeID] = []
            for arg in args {
                let pair = arg.split(separator: "=").map(String.init)
                if pair.count == 2 {
                    switch pair[0] {
                    case "prevote": settings.preVote = pair[1] == "true"
                    case "checkquorum": settings.checkQuorum = pair[1] == "true"
                    case "max-entries": settings.maxEntriesPerMessage = Int(pair[1]) ?? 64
                    case "max-inflight": settings.maxInflightMessages = Int(pair[1]) ?? 256
                    default: throw ScenarioError("unknown cluster option \(arg)")
                    }
                } else if let id = NodeID(arg) { ids.append(id) }
            }
            cluster = RaftCluster(voters: ids, settings: settings)
            return []
        case "campaign":
            cluster.nodes[try node(0)]?.campaign()
            return process()
        case "tick":
            let id = try node(0)
            for _ in 0..<(args.count > 1 ? Int(args[1]) ?? 1 : 1) { cluster.tick(id) }
            return process()
        case "propose":
            let id = try node(0)
            do {
                try cluster.nodes[id]?.propose(Array(args.dropFirst().joined(separator: " ").utf8))
                return ["ok"] + process()
            } catch { return ["error: \(error)"] }
        case "change":
            let id = try node(0)
            let target = try node(2)
            let change: ConfigurationChange
            switch args.count > 1 ? args[1] : "" {
            case "add-learner": change = .addLearner(target)
            case "add-voter": change = .addVoter(target)
            case "remove": change = .remove(target)
            default: throw ScenarioError("change N add-learner|add-voter|remove M")
            }
            do {
                try cluster.nodes[id]?.proposeConfigurationChange(change)
                return ["ok"] + process()
            } catch { return ["error: \(error)"] }
        case "transfer":
            do {
                try cluster.nodes[try node(0)]?.transferLeadership(to: try node(1))
                return ["ok"] + process()
            } catch { return ["error: \(error)"] }
        case "read-index":
            do {
                try cluster.nodes[try node(0)]?.readIndex(context: Array((args.count > 1 ? args[1] : "").utf8))
                return ["ok"] + process()
            } catch { return ["error: \(error)"] }
        case "read-states":
            let id = try node(0)
            defer { cluster.readStates[id] = [] }
            return (cluster.readStates[id] ?? []).map { "index=\($0.index) ctx=\(String(decoding: $0.context, as: UTF8.self))" }
        case "elapse":
            // N ticks of every live server, messages delivered between ticks (time passing).
            for _ in 0..<(Int(args.first ?? "1") ?? 1) {
                for id in cluster.nodes.keys.sorted() { cluster.tick(id) }
                cluster.stabilize()
            }
            return cluster.violations.map { "VIOLATION \($0)" }
        case "msgs":
            return cluster.network.map(\.description)
        case "deliver":
            // deliver [FROM->TO]: the pending messages (matching), in order; the rest stay queued.
            var filter: (NodeID, NodeID)?
            if let spec = args.first {
                let pair = spec.split(separator: "-").map { $0.trimmingPrefix(">") }.compactMap { NodeID($0) }
                guard pair.count == 2 else { throw ScenarioError("deliver FROM->TO") }
                filter = (pair[0], pair[1])
            }
            let chosen = cluster.network.filter { m in filter.map { m.from == $0.0 && m.to == $0.1 } ?? true }
            cluster.network.removeAll { m in filter.map { m.from == $0.0 && m.to == $0.1 } ?? true }
            for m in chosen {
                if cluster.canTalk(m.from, m.to) { cluster.deliver(m) } else { cluster.lose(m, unreachable: true) }
            }
            return chosen.map { "delivered \($0)" } + process()
        case "drop":
            let count = cluster.network.count
            cluster.network = []
            return ["dropped \(count)"]
        case "progress":
            // The leader's view of each member (etcd-raft's progress tracker).
            let view = try cluster.nodes[try node(0)].unwrap("no node \(args[0])").progressView()
            return view.keys.sorted().map { id in
                let p = view[id]!
                return "\(id): \(p.state.rawValue) match=\(p.match) next=\(p.next) inflight=\(p.inflight)" + (p.recentActive ? "" : " inactive")
            }
        case "report-unreachable":
            cluster.nodes[try node(0)]?.reportUnreachable(try node(1))
            return process()
        case "report-snapshot":
            guard args.count == 3, args[2] == "ok" || args[2] == "failed" else { throw ScenarioError("report-snapshot LEADER PEER ok|failed") }
            cluster.nodes[try node(0)]?.reportSnapshot(try node(1), succeeded: args[2] == "ok")
            return process()
        case "stabilize":
            cluster.stabilize()
            return []
        case "status":
            return cluster.status()
        case "log":
            let n = try cluster.nodes[try node(0)].unwrap("no node \(args[0])")
            return (n.snapshot.index > 0 ? ["snapshot \(n.snapshot.index)@\(n.snapshot.term)"] : []) + n.entries.map(\.description)
        case "applied":
            let id = try node(0)
            return (cluster.applied[id] ?? [:]).keys.sorted().map { cluster.applied[id]![$0]!.description }
        case "kv":
            let state = cluster.kv[try node(0)] ?? [:]
            return state.keys.sorted().map { "\($0)=\(state[$0]!)" }
        case "partition":
            let groups = args.split(separator: "|").map { Set($0.compactMap { NodeID($0) }) }
            cluster.partition = groups
            return []
        case "heal":
            cluster.partition = nil
            return []
        case "crash":
            cluster.crash(try node(0))
            return []
        case "restart":
            cluster.restart(try node(0))
            return process()
        case "add-server":
            cluster.addServer(try node(0))
            return []
        case "compact":
            let id = try node(0)
            try cluster.compact(id)
            return ["snapshot \(cluster.nodes[id]!.snapshot.index)@\(cluster.nodes[id]!.snapshot.term)"]
        default:
            throw ScenarioError("unknown command \(command)")
        }
    }

    /// Runs the hosts' Ready loops; shows nothing (use `msgs` to see what was sent).
    private mutating func process() -> [String] {
        cluster.processReadies()
        return cluster.violations.isEmpty ? [] : cluster.violations.map { "VIOLATION \($0)" }
    }
}

struct ScenarioError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Optional {
    func unwrap(_ message: String) throws -> Wrapped {
        guard let self else { throw ScenarioError(message) }
        return self
    }
}

@Suite("Raft scenarios (testdata/*.txt), named after the paper's sections")
struct RaftScenarioTests {
    static let directory: String = {
        let path = #filePath
        return String(path[..<path.lastIndex(of: "/")!]) + "/testdata"
    }()

    static let files = ["5.2-election.txt", "5.3-log-replication.txt", "5.4-safety-figure-8.txt",
                        "6-membership.txt", "7-compaction.txt", "thesis-transfer-and-read-index.txt", "flow-control.txt"]

    @Test("scenario", arguments: files)
    func scenario(_ file: String) throws {
        let text = try #require(readText(Self.directory + "/" + file), "missing testdata/\(file)")
        var runner = ScenarioRunner()
        var rewritten: [String] = []
        var mismatches: [String] = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var i = 0
        while i < lines.count {
            let line = lines[i]
            if line.isEmpty || line.hasPrefix("#") { rewritten.append(line); i += 1; continue }
            // A command, "----", expected lines up to a blank line.
            var expected: [String] = []
            var j = i + 1
            if j < lines.count, lines[j] == "----" {
                j += 1
                while j < lines.count, !lines[j].isEmpty { expected.append(lines[j]); j += 1 }
            }
            let actual = try runner.run(line)
            if actual != expected {
                mismatches.append("\(file): `\(line)`\n  expected:\n    \(expected.joined(separator: "\n    "))\n  actual:\n    \(actual.joined(separator: "\n    "))")
            }
            rewritten += [line, "----"] + actual
            i = j
        }
        if getenv("RUVECTOR_REWRITE") != nil, let out = fopen(Self.directory + "/" + file, "w") {
            fputs(rewritten.joined(separator: "\n"), out)
            fclose(out)
        } else {
            #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
        }
    }
}
