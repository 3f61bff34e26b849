#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RuVectorClient
import Testing

/// Sharded collections through the Swift client against three real cluster nodes: create with
/// sharding options, write through one node and read through the others (from the primaries
/// and from any copy) against a brute-force oracle, read the shard map and each node's copies,
/// a partial search that names the shards whose only copy is down, and reads from any copy
/// while the primaries are down.
@Suite(.serialized) struct ClientShardingTests {
    /// Three nodes founding one cluster on free loopback ports, and a client of each.
    struct ThreeNodes {
        let servers: [TestServer]
        let clients: [RuVectorClient]

        /// Node `id`'s client (ids from 1).
        func client(_ id: UInt64) -> RuVectorClient { clients[Int(id) - 1] }
    }

    /// Runs `body` once the three nodes agree on a leader; then closes the clients, stops the
    /// servers and removes their data, whether `body` threw or not.
    static func withThreeNodes(_ body: (ThreeNodes) async throws -> Void) async throws {
        let ports = try (0..<3).map { _ in try ClientClusterTests.freePort() }
        let map = ports.enumerated().map { "\($0.offset + 1)=127.0.0.1:\($0.element)" }.joined(separator: ",")
        var servers: [TestServer] = []
        var clients: [RuVectorClient] = []
        func shutDown() async {
            for client in clients { await client.close() }
            // SIGTERM to all at once: a primary finishes draining only once its replicas'
            // streams end, so stopping the nodes one by one costs the server's 10 s grace.
            for server in servers where server.process.isRunning { server.process.terminate() }
            for server in servers { server.stop(); server.removeData() }
        }
        do {
            for (index, port) in ports.enumerated() {
                servers.append(try TestServer(arguments: ["--listen", "127.0.0.1:\(port)", "--node-id", "\(index + 1)", "--cluster", map]))
            }
            for server in servers { clients.append(try await RuVectorClient(host: server.host, port: server.port, callTimeout: .seconds(10))) }
            let first = clients[0]
            try await ClientClusterTests.waitFor("a leader") { try await first.clusterState().leaderID != 0 }
            try await body(ThreeNodes(servers: servers, clients: clients))
        } catch {
            await shutDown()
            throw error
        }
        await shutDown()
    }

    static let dimension = 8

    /// The ids of `hits`, and whether their scores are the oracle's (exact search).
    static func expectOracle(_ hits: [Hit], _ expected: [(id: PointID, score: Float)], _ what: String) {
        #expect(hits.map(\.id) == expected.map(\.id), "\(what)")
        #expect(zip(hits, expected).allSatisfy { abs($0.score - $1.score) <= 1e-4 * max(1, abs($1.score)) }, "\(what)")
    }

    @Test func writeAnywhereReadAnyCopyAndTheShardMap() async throws {
        try await Self.withThreeNodes { nodes in try await Self.writeAnywhereReadAnyCopy(nodes) }
    }

    static func writeAnywhereReadAnyCopy(_ nodes: ThreeNodes) async throws {
        let (db1, db2, db3) = (nodes.client(1), nodes.client(2), nodes.client(3))

        let info = try await db2.createCollection(name: "sharded", dimension: Self.dimension, metric: .l2,
                                                  sharding: Sharding(shards: 3, replicationFactor: 2, writeConsistency: .sync))
        #expect((info.shards, info.replicationFactor, info.writeConsistency, info.minReplicas) == (3, 2, .sync, 1))
        try await ClientClusterTests.waitFor("node 3 to have the collection") { try await db3.collection(named: "sharded").shards == 3 }

        // Written through node 3: each point goes to its shard's primary, wherever that is.
        let points = Oracle.points(count: 300, dimension: Self.dimension, seed: 18)
        let written = try await db3.upsert(points, into: "sharded", consistency: .sync)
        #expect(written.pointsAffected == 300)
        #expect(written.replicasAcknowledged == 1, "sync with 2 copies: the one replica of every shard had it")

        // Sync writes are on every copy when acknowledged: any copy answers them all.
        var rng = SplitMix64(seed: 7)
        for _ in 0..<3 {
            let query = (0..<Self.dimension).map { _ in Float.random(in: -1...1, using: &rng) }
            let expected = Oracle.topK(query, points, k: 10, metric: .l2)
            Self.expectOracle(try await db1.search(query, in: "sharded", k: 10, exact: true), expected, "primaries via node 1")
            for db in [db1, db2, db3] {
                Self.expectOracle(try await db.search(query, in: "sharded", k: 10, exact: true, readFrom: .any), expected, "any copy")
            }
            let result = try await db2.searchResult(SearchQuery(vector: query, k: 10, exact: true, readFrom: .any), in: "sharded",
                                                    allowPartial: true)
            #expect(result.isComplete && result.missingShards.isEmpty)
            Self.expectOracle(result.hits, expected, "searchResult")
        }
        for db in [db1, db2, db3] { #expect(try await db.count(in: "sharded", readFrom: .any) == 300) }
        let asked = points.prefix(20).map(\.id)
        let got = try await db1.get(Array(asked), from: "sharded", readFrom: .any)
        #expect(got.map(\.id) == Array(asked))
        #expect(got.map(\.payload) == points.prefix(20).map { Optional($0.payload) })
        var scrolled: [PointID] = []
        for try await point in db2.scroll("sharded", pageSize: 64, withPayload: false, readFrom: .any) { scrolled.append(point.id) }
        #expect(scrolled.count == 300 && Set(scrolled) == Set(points.map(\.id)))

        // The shard map: 3 shards, a primary and one replica each, caught up after sync writes.
        let state = try await db1.clusterState(withShardProgress: true)
        let shards = state.shards.filter { $0.collection == "sharded" }
        #expect(shards.map(\.shard) == [0, 1, 2])
        for shard in shards {
            #expect([1, 2, 3].contains(shard.primary) && shard.replicas.count == 1 && !shard.replicas.contains(shard.primary))
            #expect(shard.epoch == 1 && shard.primarySequence >= 1)
            #expect(shard.replicaLag?.map(\.nodeID) == shard.replicas)
            #expect(shard.replicaLag?.allSatisfy { $0.records == 0 && $0.millis == 0 } == true, "lag after sync writes: \(shard)")
        }
        #expect(try await db3.clusterState(staleOK: true).shards.filter { $0.collection == "sharded" }.allSatisfy { $0.replicaLag == nil },
                "no progress unless asked for")

        // Each node's own copies: the two copies of a shard hold the same points.
        var copies: [Int: [(node: UInt64, copy: ShardStatus.Copy)]] = [:]
        for db in [db1, db2, db3] {
            let status = try await db.shardStatus(collection: "sharded", checksums: true)
            for copy in status.copies { copies[copy.shard, default: []].append((status.nodeID, copy)) }
            // Checksums are read with each copy's apply queue drained: all it logged is indexed.
            #expect(status.copies.allSatisfy { $0.appliedSequence == $0.lastSequence && $0.lastSequence > 0 })
        }
        for shard in shards {
            let held = copies[shard.shard] ?? []
            #expect(Set(held.map(\.node)) == Set([shard.primary] + shard.replicas))
            #expect(held.first { $0.copy.isPrimary }?.node == shard.primary)
            #expect(Set(held.map(\.copy.checksum)).count == 1 && held.allSatisfy { $0.copy.checksum != nil && $0.copy.points > 0 })
            #expect(Set(held.map(\.copy.points)).count == 1)
        }
        #expect(shards.reduce(0) { total, shard in total + (copies[shard.shard]?.first?.copy.points ?? 0) } == 300)
        #expect(try await db1.shardStatus(collection: "sharded").copies.allSatisfy { $0.checksum == nil })

        let deleted = try await db1.delete(ids: Array(asked.prefix(10)), from: "sharded", consistency: .sync)
        #expect((deleted.pointsAffected, deleted.replicasAcknowledged) == (10, 1))
        #expect(try await db3.count(in: "sharded", readFrom: .any) == 290)
    }

    @Test func partialSearchAndReadsFromAnyCopyWithNodesDown() async throws {
        try await Self.withThreeNodes { nodes in try await Self.nodesDown(nodes) }
    }

    static func nodesDown(_ nodes: ThreeNodes) async throws {
        let db1 = nodes.client(1)
        let info = try await db1.createCollection(name: "single-copy", dimension: Self.dimension, metric: .l2,
                                                  sharding: Sharding(shards: 3, replicationFactor: 1))
        #expect((info.shards, info.replicationFactor) == (3, 1))
        try await db1.createCollection(name: "everywhere", dimension: Self.dimension, metric: .l2,
                                       sharding: Sharding(shards: 3, replicationFactor: 3, writeConsistency: .semiSync, minReplicas: 2))
        let points = Oracle.points(count: 300, dimension: Self.dimension, seed: 19)
        try await db1.upsert(points, into: "single-copy")
        #expect(try await db1.upsert(points, into: "everywhere").replicasAcknowledged == 2, "semi-sync with min 2 replicas")
        let single = try await db1.clusterState().shards.filter { $0.collection == "single-copy" }
        #expect(single.count == 3 && single.allSatisfy { $0.replicas.isEmpty && $0.replicaLag == [] })

        // With one copy per shard, the shards led by the killed node have no copy left.
        let victim = single[0].primary
        let survivorID: UInt64 = victim == 1 ? 2 : 1
        let survivor = nodes.client(survivorID)
        nodes.servers[Int(victim) - 1].killNow()
        let missing = single.filter { $0.primary == victim }.map(\.shard)

        // Reads from any copy: a live primary that lost touch with the Raft leader (when the
        // killed node led it) refuses primary reads for a moment, its only copy still answers.
        let query = [Float](repeating: 0.1, count: Self.dimension)
        let partial = SearchQuery(vector: query, k: 10, exact: true, readFrom: .any)
        await #expect(throws: RuVectorClientError.self) { _ = try await survivor.search(query, in: "single-copy", k: 10, exact: true) }
        let result = try await survivor.searchResult(partial, in: "single-copy", allowPartial: true)
        #expect(result.missingShards == missing && !result.isComplete)
        #expect(result.hits.count == 10)

        // The hits are the best of the reachable points: each oracle-ranked point above the
        // last hit is either a hit or on a missing shard (a get of it alone fails).
        let ranked = Oracle.topK(query, points, k: points.count, metric: .l2)
        let hitIDs = result.hits.map(\.id)
        #expect(try await survivor.get(hitIDs, from: "single-copy", readFrom: .any).map(\.id) == hitIDs)
        guard let last = hitIDs.last, let cutoff = ranked.firstIndex(where: { $0.id == last }) else {
            Issue.record("the last hit \(String(describing: hitIDs.last)) is not a point")
            return
        }
        var expected: [(id: PointID, score: Float)] = []
        for candidate in ranked[...cutoff] {
            do {
                _ = try await survivor.get([candidate.id], from: "single-copy", readFrom: .any)
                expected.append(candidate)
            } catch {
                #expect(error.code == .unavailable, "\(error)")
            }
        }
        Self.expectOracle(result.hits, expected, "partial answer")

        // Two of three nodes down: no quorum, so no failover can ever replace a dead primary.
        // The survivor holds a copy of every shard of "everywhere": reads from any copy answer
        // everything, reads from the primaries miss at least the dead primaries' shards.
        let second = (1...3).map(UInt64.init).first { $0 != victim && $0 != survivorID } ?? 0
        nodes.servers[Int(second) - 1].killNow()
        try await ClientClusterTests.waitFor("node \(survivorID) to know no leader") {
            try await survivor.clusterState(staleOK: true).leaderID == 0
        }
        let everywhere = try await survivor.clusterState(staleOK: true).shards.filter { $0.collection == "everywhere" }
        let deadPrimaries = everywhere.filter { $0.primary != survivorID }.map(\.shard)
        #expect(!deadPrimaries.isEmpty, "node \(second) led a shard before it died: \(everywhere)")
        Self.expectOracle(try await survivor.search(query, in: "everywhere", k: 10, exact: true, readFrom: .any),
                          Array(ranked.prefix(10)), "any copy, two nodes down")
        #expect(try await survivor.count(in: "everywhere", readFrom: .any) == 300)
        #expect(try await survivor.get(hitIDs, from: "everywhere", readFrom: .any).map(\.id) == hitIDs)
        await #expect(throws: RuVectorClientError.self) { _ = try await survivor.count(in: "everywhere", readFrom: .primary) }
        let fromPrimaries = try await survivor.searchResult(SearchQuery(vector: query, k: 10, exact: true, readFrom: .primary),
                                                            in: "everywhere", allowPartial: true)
        #expect(Set(deadPrimaries).isSubset(of: Set(fromPrimaries.missingShards)), "\(fromPrimaries.missingShards)")
    }
}

extension TestServer {
    /// SIGKILL: the node dies at once, without draining its streams.
    func killNow() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
