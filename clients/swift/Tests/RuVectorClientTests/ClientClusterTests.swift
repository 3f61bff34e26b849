#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RuVectorClient
import Testing

/// The cluster calls against real nodes: a one-node cluster grows to two, and a call sent to
/// the follower follows the leader hint by itself.
@Suite struct ClientClusterTests {
    /// A loopback port nothing listens on now (the founding list must name it before the start).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw TestServerError(message: "no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func waitFor(_ what: String, timeoutSeconds: Double = 10, _ check: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if (try? await check()) == true { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestServerError(message: "timed out waiting for \(what)")
    }

    @Test func joinPromoteAndTransferFollowingTheLeaderHint() async throws {
        let port = try Self.freePort()
        let first = try TestServer(arguments: ["--listen", "127.0.0.1:\(port)", "--node-id", "1", "--cluster", "1=127.0.0.1:\(port)"])
        let second = try TestServer(arguments: ["--node-id", "2"])
        defer {
            second.stop(); second.removeData()
            first.stop(); first.removeData()
        }
        let db1 = try await RuVectorClient(host: first.host, port: first.port, callTimeout: .seconds(10))
        let db2 = try await RuVectorClient(host: second.host, port: second.port, callTimeout: .seconds(10))
        try await Self.waitFor("node 1 to lead") { try await db1.clusterState().leaderID == 1 }
        var state = try await db1.clusterState()
        #expect(state.members.map(\.id) == [1] && state.members.first?.role == .voter && !state.stale && state.answeredBy == 1)

        // A node with no cluster yet knows no leader: the linearizable read is UNAVAILABLE, a stale one answers.
        await #expect(throws: RuVectorClientError.self) { _ = try await db2.clusterState() }
        #expect(try await db2.clusterState(staleOK: true).stale)

        state = try await db1.joinCluster(nodeID: 2, address: "\(second.host):\(second.port)")
        #expect(state.members.contains { $0.id == 2 })
        try await Self.waitFor("node 2 to become a voter") {
            try await db1.clusterState().members.first { $0.id == 2 }?.role == .voter
        }
        try await db1.createCollection(name: "everywhere", dimension: 3)
        try await Self.waitFor("node 2 to list the collection") {
            try await db2.clusterState().collections.map(\.name) == ["everywhere"]
        }

        // Sent to the follower: refused with the leader's address, which the client follows.
        state = try await db2.transferLeadership(to: 2)
        try await Self.waitFor("node 2 to lead") { try await db2.clusterState().leaderID == 2 }
        #expect(try await db1.clusterState().leaderID == 2)
        await db1.close()
        await db2.close()
    }
}
