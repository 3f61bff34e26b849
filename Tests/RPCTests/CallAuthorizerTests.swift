import Logging
import Synchronization
import Testing
@testable import RPC

/// Lets a call in when its `x-key` metadata is "ok" (grant: the path), refuses it otherwise.
private struct KeyAuthorizer: CallAuthorizer {
    func authorize(path: String, metadata: Metadata, peer: PeerCredentials) -> Result<any Sendable, RPCError> {
        metadata["x-key"] == "ok" ? .success("granted \(path)") : .failure(RPCError(.unauthenticated, "no valid x-key"))
    }
}

@Suite("the server's CallAuthorizer runs before any handler")
struct CallAuthorizerTests {
    @Test("a refused call never reaches its handler, inline, unary or streaming; an admitted one sees its grant; the connection serves on")
    func refusedCallsRunNothing() async throws {
        let runs = Atomic<Int>(0)
        var router = RPCRouter()
        router.registerInlineUnary(service: "test.Auth", method: "Inline") { _, context in
            runs.add(1, ordering: .relaxed)
            return .response(Array((context.grant as? String ?? "none").utf8))
        }
        router.register(service: "test.Auth", method: "Stream") { requests, writer, context in
            runs.add(1, ordering: .relaxed)
            for try await message in requests { try await writer.send(message) }
            try await writer.send(Array((context.grant as? String ?? "none").utf8))
        }
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0, eventLoopThreads: 1)
        configuration.authorizer = KeyAuthorizer()
        let server = GRPCServer(configuration: configuration, router: router, logger: Logger(label: "test"))
        try await server.start()
        let channel = try await GRPCChannel.connect(host: "127.0.0.1", port: try #require(server.localPort))
        for path in ["/test.Auth/Inline", "/test.Auth/Stream"] {
            // A refused call with a large request: the body is dropped, the status is the authorizer's.
            let error = await #expect(throws: RPCError.self) {
                _ = try await channel.unary(path, request: [UInt8](repeating: 7, count: 1 << 20), metadata: Metadata([("x-key", "bad")]))
            }
            #expect(error?.code == .unauthenticated && error?.message == "no valid x-key")
        }
        #expect(runs.load(ordering: .relaxed) == 0)
        let (inline, _) = try await channel.unary("/test.Auth/Inline", request: [1], metadata: Metadata([("x-key", "ok")]))
        #expect(String(decoding: inline, as: UTF8.self) == "granted /test.Auth/Inline")
        let call = try await channel.makeCall(path: "/test.Auth/Stream", metadata: Metadata([("x-key", "ok")]))
        try await call.send([42])
        call.closeSend()
        var received: [[UInt8]] = []
        for try await message in call.responses { received.append(message) }
        #expect(received == [[42], Array("granted /test.Auth/Stream".utf8)])
        #expect(runs.load(ordering: .relaxed) == 2)
        await channel.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }
}
