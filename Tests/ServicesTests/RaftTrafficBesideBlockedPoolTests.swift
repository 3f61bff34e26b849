import ClusterNode
import Foundation
import Logging
import RPC
import Synchronization
import Testing
import Wire
@testable import Services

/// Tasks that hold a thread of Swift's concurrent pool (sleeping on it) until released, and 10 s
/// after the blockers were made at the latest, whenever each got its thread.
private final class PoolBlockers: Sendable {
    let release = Atomic<Bool>(false)
    /// Blockers holding a thread now.
    let running = Atomic<Int>(0)
    private let end = ContinuousClock.now + .seconds(10)

    func block() {
        running.add(1, ordering: .relaxed)
        while !release.load(ordering: .relaxed), ContinuousClock.now < end { usleep(1_000) }
        running.subtract(1, ordering: .relaxed)
    }
}

@Suite("Raft traffic while client work holds the concurrent pool")
struct RaftTrafficBesideBlockedPoolTests {
    @Test("a node's Raft messages leave, and a peer's are stepped, while every thread of the concurrent pool is blocked")
    func heartbeatsBesideBlockedPool() async throws {
        let logger = Logger(label: "test")
        // Node 2 is this test: a server recording when node 1's batches arrive (on its
        // connection's loop, so that the recording needs no pool thread either).
        let arrivals = Mutex<[ContinuousClock.Instant]>([])
        var peerRouter = RPCRouter()
        peerRouter.registerClientStreaming(service: RaftService.name, method: "Send", placement: .connectionLoop) { requests, _, _ in
            for try await _ in requests { arrivals.withLock { $0.append(.now) } }
            return RuvectorV1.RaftSendSummary().encoded()
        }
        let peer = GRPCServer(configuration: ServerConfiguration(host: "127.0.0.1", port: 0, eventLoopThreads: 1),
                              router: peerRouter, logger: logger)
        try await peer.start()
        let peerPort = try #require(peer.localPort)

        // Node 1: a real node and its RaftService. With two voters it has no quorum alone, so
        // it campaigns (a pre-vote to node 2) every election timeout, 150-300 ms.
        let directory = NSTemporaryDirectory() + "raft-pool-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let node = try ClusterNode(options: ClusterNode.Options(id: 1, founding: [1: "127.0.0.1:1", 2: "127.0.0.1:\(peerPort)"],
                                                                directory: directory),
                                   effects: nil, logger: logger)
        var router = RPCRouter()
        router.register(RaftService(node: node, validate: { _ in }))
        let server = GRPCServer(configuration: ServerConfiguration(host: "127.0.0.1", port: 0, eventLoopThreads: 1),
                                router: router, logger: logger)
        try await server.start()
        let port = try #require(server.localPort)
        node.start(advertisedAddress: "127.0.0.1:\(port)")
        let channel = try await GRPCChannel.connect(host: "127.0.0.1", port: port)

        let pool = PoolBlockers()
        // The test's side runs on the client connection's loop, off the pool it blocks.
        try await withTaskExecutorPreference(channel.executor) {
            #expect(try await eventually { arrivals.withLock { !$0.isEmpty } }, "node 1 never sent node 2 a message")
            let call = try await channel.makeCall(path: "/ruvector.v1.RaftService/Send")

            // More blockers than any machine's pool is wide: those past its width wait for a
            // thread, so while any waits, no pool thread is free (each runs a blocker, or another
            // suite's work that held it first).
            let count = 256
            let blockers = (0..<count).map { _ in Task.detached { pool.block() } }
            var seen = 0, steady = 0
            while steady < 20 {      // until the number of running blockers has not grown for 100 ms
                try await Task.sleep(for: .milliseconds(5))
                let now = pool.running.load(ordering: .relaxed)
                (seen, steady) = now > seen ? (now, 0) : (seen, steady + 1)
            }
            #expect(seen < count, "every blocker ran at once: the pool is wider than \(count) threads")
            let blockedAt = ContinuousClock.now

            // Out: node 1 goes on campaigning, and its messages reach node 2.
            #expect(try await eventually { arrivals.withLock { $0.filter { $0 > blockedAt }.count >= 2 } },
                    "node 1's messages stopped while the pool was blocked")
            // In: a heartbeat from node 2 is read from its stream and stepped into node 1.
            let heartbeat = RuvectorV1.RaftMessage(type: .heartbeat, from: 2, to: 1, term: 1)
            try await call.send(RuvectorV1.RaftBatch(from: 2, messages: [heartbeat]).encoded())
            #expect(try await eventually { node.status.lastHeardMillis[2] != nil }, "node 1 never stepped node 2's heartbeat")
            // Still held: a blocker ends only when released (other suites' work may have freed a
            // thread for one more meanwhile).
            #expect(pool.running.load(ordering: .relaxed) >= seen, "a blocker ended before the messages went through")

            pool.release.store(true, ordering: .relaxed)
            for blocker in blockers { await blocker.value }
            call.cancel()
        }
        await channel.close()
        await node.stop()
        await server.shutdown(gracePeriod: .seconds(1))
        await peer.shutdown(gracePeriod: .seconds(1))
    }
}
