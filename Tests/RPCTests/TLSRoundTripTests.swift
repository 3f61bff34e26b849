import Logging
import Testing
@testable import RPC

/// The gRPC project's test certificates, shipped by Debian's ruby-grpc (read in place).
private let certificates = "/usr/lib/x86_64-linux-gnu/rubygems-integration/3.1.0/gems/grpc-1.51.1/src/ruby/spec/testdata"
private let serverName = "foo.test.google.fr"

private func echoRouter() -> RPCRouter {
    var router = RPCRouter()
    router.registerUnary(service: "test.Echo", method: "Unary") { request, _, _ in request }
    return router
}

private func startTLSServer(clientCA: String? = nil) async throws -> GRPCServer {
    let tls = TLSConfiguration(certificateChainPath: "\(certificates)/server1.pem",
                               privateKeyPath: "\(certificates)/server1.key", trustRootsPath: clientCA)
    let server = GRPCServer(configuration: ServerConfiguration(host: "127.0.0.1", port: 0, tls: tls, eventLoopThreads: 1),
                            router: echoRouter(), logger: Logger(label: "test"))
    try await server.start()
    return server
}

/// The reason a connection attempt failed (the test fails if it succeeds).
private func connectionFailure(port: Int, tls: TLSConfiguration?) async throws -> ConnectionFailure {
    do {
        let channel = try await GRPCChannel.connect(host: "127.0.0.1", port: port, tls: tls)
        await channel.close()
    } catch let error as RPCError {
        #expect(error.code == .unavailable)
        return try #require(error.cause as? ConnectionFailure, "no reason given: \(error)")
    }
    throw RPCError(.internal, "the connection succeeded")
}

@Suite("RPC over TLS (OpenSSL, ALPN h2)")
struct TLSRoundTripTests {
    @Test("unary echo over TLS, 2 MiB message, server verified against the test CA")
    func echoOverTLS() async throws {
        let server = try await startTLSServer()
        let channel = try await GRPCChannel.connect(
            host: "127.0.0.1", port: try #require(server.localPort),
            tls: TLSConfiguration(trustRootsPath: "\(certificates)/ca.pem", serverHostname: serverName))
        let request = (0..<(2 << 20)).map { UInt8(truncatingIfNeeded: $0) }
        let (response, result) = try await channel.unary("/test.Echo/Unary", request: request)
        #expect(response == request)
        #expect(result.status.code == .ok)
        await channel.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }

    @Test("a server certificate for another name is refused by the client, which says so")
    func wrongHostname() async throws {
        let server = try await startTLSServer()
        let failure = try await connectionFailure(port: try #require(server.localPort),
            tls: TLSConfiguration(trustRootsPath: "\(certificates)/ca.pem", serverHostname: "wrong.example.com"))
        #expect(failure.code == .certificateNameMismatch)
        #expect(failure.message.contains("wrong.example.com") && failure.message.contains("hostname mismatch"), "\(failure)")
        await server.shutdown(gracePeriod: .seconds(1))
    }

    @Test("a server certificate from a CA the client does not trust: unknown CA")
    func untrustedCertificate() async throws {
        let server = try await startTLSServer()
        // No trust roots: the system CAs, which do not include the gRPC test CA.
        let failure = try await connectionFailure(port: try #require(server.localPort),
                                                  tls: TLSConfiguration(serverHostname: serverName))
        #expect(failure.code == .certificateUntrusted)
        #expect(failure.message.contains("not signed by a CA this client trusts"), "\(failure)")
        await server.shutdown(gracePeriod: .seconds(1))
    }

    @Test("TLS to a plaintext (h2c) server: the client says the server speaks plaintext")
    func tlsToPlaintextServer() async throws {
        let server = GRPCServer(configuration: ServerConfiguration(host: "127.0.0.1", port: 0, eventLoopThreads: 1),
                                router: echoRouter(), logger: Logger(label: "test"))
        try await server.start()
        let failure = try await connectionFailure(port: try #require(server.localPort),
            tls: TLSConfiguration(trustRootsPath: "\(certificates)/ca.pem", serverHostname: serverName))
        #expect(failure.code == .serverSpeaksPlaintext, "\(failure)")
        await server.shutdown(gracePeriod: .seconds(1))
    }

    @Test("plaintext to a TLS server: the server answers with a GOAWAY saying TLS is required")
    func plaintextToTLSServer() async throws {
        let server = try await startTLSServer()
        let failure = try await connectionFailure(port: try #require(server.localPort), tls: nil)
        #expect(failure.code == .serverExpectsTLS, "\(failure)")
        #expect(failure.message.contains("requires TLS"), "\(failure)")
        await server.shutdown(gracePeriod: .seconds(1))
    }

    @Test("mutual TLS without a client certificate: the client says one is required")
    func clientCertificateRequired() async throws {
        let server = try await startTLSServer(clientCA: "\(certificates)/ca.pem")
        let failure = try await connectionFailure(port: try #require(server.localPort),
            tls: TLSConfiguration(trustRootsPath: "\(certificates)/ca.pem", serverHostname: serverName))
        #expect(failure.code == .clientCertificateRequired, "\(failure)")
        await server.shutdown(gracePeriod: .seconds(1))
    }

    @Test("mutual TLS: a client certificate is required and accepted")
    func mutualTLS() async throws {
        let server = try await startTLSServer(clientCA: "\(certificates)/ca.pem")
        let port = try #require(server.localPort)
        let withCertificate = try await GRPCChannel.connect(
            host: "127.0.0.1", port: port,
            tls: TLSConfiguration(certificateChainPath: "\(certificates)/client.pem",
                                  privateKeyPath: "\(certificates)/client.key",
                                  trustRootsPath: "\(certificates)/ca.pem", serverHostname: serverName))
        #expect(try await withCertificate.unary("/test.Echo/Unary", request: [9]).response == [9])
        await withCertificate.close()

        await #expect(throws: RPCError.self) {
            let anonymous = try await GRPCChannel.connect(
                host: "127.0.0.1", port: port,
                tls: TLSConfiguration(trustRootsPath: "\(certificates)/ca.pem", serverHostname: serverName))
            _ = try await anonymous.unary("/test.Echo/Unary", request: [1], timeout: .seconds(5))
        }
        await server.shutdown(gracePeriod: .seconds(1))
    }

    @Test("bad TLS files give a clear error at start")
    func badFiles() async throws {
        #expect(throws: TLSError.self) {
            _ = try OpenSSLContext(TLSConfiguration(certificateChainPath: "/nonexistent.pem", privateKeyPath: "/x.key"),
                                   role: .server)
        }
        #expect(throws: TLSError.self) {
            _ = try OpenSSLContext(TLSConfiguration(certificateChainPath: "\(certificates)/server1.pem",
                                                    privateKeyPath: "\(certificates)/client.key"), role: .server)
        }
    }
}
