import RuVectorClient
import Testing

/// TLS and mutual TLS with the gRPC project's test certificates (Debian's ruby-grpc, which
/// scripts/setup.sh installs; the RPC and e2e tests read the same files).
@Suite struct ClientTLSTests {
    static let certificates = "/usr/lib/x86_64-linux-gnu/rubygems-integration/3.1.0/gems/grpc-1.51.1/src/ruby/spec/testdata"
    static let serverName = "foo.test.google.fr"

    @Test func mutualTLS() async throws {
        let server = try TestServer(arguments: ["--tls-cert", "\(Self.certificates)/server1.pem", "--tls-key", "\(Self.certificates)/server1.key",
                                                "--tls-client-ca", "\(Self.certificates)/ca.pem"])
        defer {
            server.stop()
            server.removeData()
        }
        let tls = RuVectorClient.TLSOptions(caFile: "\(Self.certificates)/ca.pem", certificateFile: "\(Self.certificates)/client.pem",
                                            privateKeyFile: "\(Self.certificates)/client.key", serverName: Self.serverName)
        let db = try await RuVectorClient(host: server.host, port: server.port, tls: tls)
        try await db.createCollection(name: "secure", dimension: 2, metric: .l2)
        try await db.upsert([Point(id: 1, vector: [1, 0]), Point(id: 2, vector: [0, 1])], into: "secure")
        #expect(try await db.search([0.9, 0.1], in: "secure", k: 1).map(\.id) == [1])
        await db.close()

        // Without a client certificate the server refuses the connection.
        var anonymous = tls
        anonymous.certificateFile = nil
        anonymous.privateKeyFile = nil
        await #expect(throws: RuVectorClientError.self) {
            let client = try await RuVectorClient(host: server.host, port: server.port, tls: anonymous)
            defer { Task { await client.close() } }
            _ = try await client.listCollections()
        }
        // Without the test CA the server's certificate is not trusted (the handshake, and so
        // the failure, happens with the first call).
        let untrusted = await #expect(throws: RuVectorClientError.self) {
            let client = try await RuVectorClient(host: server.host, port: server.port, tls: .init(serverName: Self.serverName))
            defer { Task { await client.close() } }
            _ = try await client.listCollections()
        }
        #expect(untrusted?.code == .unavailable)
        // A missing CA file is a local input error, found before connecting.
        let missing = await #expect(throws: RuVectorClientError.self) {
            _ = try await RuVectorClient(host: server.host, port: server.port,
                                         tls: .init(caFile: "/nonexistent/ca.pem", serverName: Self.serverName))
        }
        #expect(missing?.code == .invalidInput && missing?.message.contains("/nonexistent/ca.pem") == true)
        let halfPair = await #expect(throws: RuVectorClientError.self) {
            _ = try await RuVectorClient(host: server.host, port: server.port,
                                         tls: .init(caFile: "\(Self.certificates)/ca.pem", certificateFile: "\(Self.certificates)/client.pem"))
        }
        #expect(halfPair?.code == .invalidInput)
    }
}
