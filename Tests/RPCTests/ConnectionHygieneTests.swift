import Logging
import NIOCore
import NIOPosix
import Testing
@testable import RPC

/// Methods for the hygiene tests: an echo, a flood of responses, a handler that never reads.
private func hygieneRouter() -> RPCRouter {
    var router = RPCRouter()
    router.registerUnary(service: "test.Hygiene", method: "Echo") { request, _, _ in request }
    router.registerServerStreaming(service: "test.Hygiene", method: "Flood") { _, writer, _ in
        for _ in 0..<1000 { try await writer.send([UInt8](repeating: 1, count: 64 << 10)) }
    }
    router.register(service: "test.Hygiene", method: "Hold") { _, _, _ in
        try await Task.sleep(for: .seconds(30))
    }
    router.registerClientStreaming(service: "test.Hygiene", method: "SlowRead") { requests, _, _ in
        var iterator = requests.makeAsyncIterator()
        var count = try await iterator.next() == nil ? 0 : 1
        try await Task.sleep(for: .seconds(1.5))
        while try await iterator.next() != nil { count += 1 }
        return [UInt8(count)]
    }
    return router
}

/// Runs `body` against a fresh one-thread server configured by `configure`.
private func withServer(_ configure: (inout ServerConfiguration) -> Void,
                        _ body: (GRPCServer, Int) async throws -> Void) async throws {
    var configuration = ServerConfiguration(host: "127.0.0.1", port: 0, eventLoopThreads: 1)
    configure(&configuration)
    let server = GRPCServer(configuration: configuration, router: hygieneRouter(), logger: Logger(label: "test"))
    try await server.start()
    let port = try #require(server.localPort)
    do {
        try await body(server, port)
    } catch {
        await server.shutdown(gracePeriod: .seconds(1))
        throw error
    }
    await server.shutdown(gracePeriod: .seconds(1))
}

/// Opens a raw TCP connection, sends `bytes`, and returns how long the server took to close it,
/// counted from before the connect (so never less than the server's own count from accept).
private func secondsUntilClosed(port: Int, sending bytes: [UInt8]) async throws -> Double {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let start = ContinuousClock.now
    let channel = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get()
    // On a loaded machine the server may have closed already: the write then fails, the close stands.
    // The close is timed on the channel's own thread: when the test's task resumes, it may
    // have waited for a free thread of the shared pool behind other tests (98 s once in CI).
    let closedAt = channel.closeFuture.map { ContinuousClock.now }
    if !bytes.isEmpty { try? await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes)) }
    let elapsed = try await closedAt.get() - start
    try await group.shutdownGracefully()
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

private func seconds(_ value: Double) -> Duration { .nanoseconds(Int64(value * 1e9)) }

@Suite("Connection hygiene on a real server over loopback")
struct ConnectionHygieneTests {
    @Test("a connection that sends nothing, or half a preface, is closed at the handshake timeout",
          arguments: [[UInt8](), Array("PRI * HTTP/2.0\r\n".utf8)])
    func handshakeTimeout(sending: [UInt8]) async throws {
        try await withServer({ $0.handshakeTimeout = seconds(0.4) }) { _, port in
            let elapsed = try await secondsUntilClosed(port: port, sending: sending)
            // Never before the timeout; the upper bound leaves room for a loaded machine.
            #expect(elapsed >= 0.35 && elapsed < 6, "closed after \(elapsed) s")
        }
    }

    @Test("an idle connection is closed with GOAWAY and the client reconnects for its next call")
    func idleReconnect() async throws {
        try await withServer({ $0.idleTimeout = seconds(2) }) { server, port in
            let channel = try await GRPCChannel.connect(host: "127.0.0.1", port: port)
            #expect(try await channel.unary("/test.Hygiene/Echo", request: [1]).response == [1])
            for _ in 0..<150 where server.connectionCounts.open > 0 { try await Task.sleep(for: .milliseconds(100)) }
            #expect(server.connectionCounts.open == 0, "the idle connection was not closed")
            // The first connection is gone: this call goes over a new one.
            #expect(try await channel.unary("/test.Hygiene/Echo", request: [2]).response == [2])
            await channel.close()
        }
    }

    @Test("past the connection limit a client is refused with the reason; a freed slot admits the next")
    func connectionLimit() async throws {
        try await withServer({ $0.maxConnections = 2 }) { server, port in
            let first = try await GRPCChannel.connect(host: "127.0.0.1", port: port)
            let second = try await GRPCChannel.connect(host: "127.0.0.1", port: port)
            do {
                let third = try await GRPCChannel.connect(host: "127.0.0.1", port: port)
                await third.close()
                Issue.record("a third connection was accepted past a limit of 2")
            } catch let error as RPCError {
                let failure = try #require(error.cause as? ConnectionFailure)
                #expect(error.code == .unavailable)
                #expect(failure.code == .refused)
                #expect(failure.message.contains("server at its connection limit (2)"), "\(failure.message)")
            }
            #expect(server.connectionCounts == ConnectionCounts(open: 2, refusedTotal: 1))
            // The admitted ones keep working.
            #expect(try await first.unary("/test.Hygiene/Echo", request: [1]).response == [1])
            await second.close()
            try await Task.sleep(for: .milliseconds(200))
            let next = try await GRPCChannel.connect(host: "127.0.0.1", port: port)
            #expect(try await next.unary("/test.Hygiene/Echo", request: [3]).response == [3])
            await next.close()
            await first.close()
        }
    }

    @Test("a stream whose client stops reading is reset after the stall timeout; the connection still serves")
    func stalledReader() async throws {
        try await withServer({ $0.streamStallTimeout = seconds(0.5) }) { _, port in
            let channel = try await GRPCChannel.connect(host: "127.0.0.1", port: port)
            let call = try await channel.makeCall(path: "/test.Hygiene/Flood")
            try await call.send([])
            call.closeSend()
            // Never read: the client's window closes after its read-ahead, the server's stays full.
            let result = try await withTimeout(seconds: 30) { await call.result() }
            #expect(result.status.code == .cancelled, "\(result.status)")
            #expect(try await channel.unary("/test.Hygiene/Echo", request: [5]).response == [5])
            await channel.close()
        }
    }

    @Test("a client left in the middle of a message while the server holds its window (the handler is behind) is not a stall")
    func heldWindowIsNotAStall() async throws {
        try await withServer({ $0.streamStallTimeout = seconds(0.5) }) { _, port in
            let channel = try await GRPCChannel.connect(host: "127.0.0.1", port: port)
            let call = try await channel.makeCall(path: "/test.Hygiene/SlowRead")
            // 7.2 MB: past the server's 4 MiB of unread requests and its 1 MiB stream window, so the
            // client waits mid-message for 1.5 s while the handler sleeps.
            let sender = Task {
                for _ in 0..<24 { try await call.send([UInt8](repeating: 4, count: 300 << 10)) }
                call.closeSend()
            }
            let responses = try await withTimeout(seconds: 30) {
                var all: [[UInt8]] = []
                for try await message in call.responses { all.append(message) }
                return all
            }
            let result = await call.result()
            try? await sender.value
            #expect(result.status.code == .ok, "\(result.status)")
            #expect(responses == [[24]])
            await channel.close()
        }
    }

    @Test("a connection may not buffer more request bytes than its limit: the call that would pass it is RESOURCE_EXHAUSTED")
    func bufferedRequestBytes() async throws {
        try await withServer({
            $0.maxReceiveMessageBytes = 512 << 10
            $0.maxConnectionBufferedRequestBytes = 1 << 20
        }) { _, port in
            let channel = try await GRPCChannel.connect(host: "127.0.0.1", port: port)
            let call = try await channel.makeCall(path: "/test.Hygiene/Hold")
            // The handler reads nothing: every message stays buffered on the server.
            for _ in 0..<5 { try? await call.send([UInt8](repeating: 7, count: 300 << 10)) }
            let result = try await withTimeout(seconds: 10) { await call.result() }
            #expect(result.status.code == .resourceExhausted, "\(result.status)")
            #expect(result.status.message.contains("max_connection_buffered_request_bytes"))
            call.cancel()
            #expect(try await channel.unary("/test.Hygiene/Echo", request: [6]).response == [6])
            await channel.close()
        }
    }

    @Test("a connection flooding its event loop with requests does not starve another connection's calls on that loop")
    func readFairness() async throws {
        try await withServer({ _ in }) { _, port in
            let busy = try await GRPCChannel.connect(host: "127.0.0.1", port: port)
            let quiet = try await GRPCChannel.connect(host: "127.0.0.1", port: port)
            let payload = [UInt8](repeating: 9, count: 256 << 10)
            let flood = Task {
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<32 {
                        group.addTask {
                            while !Task.isCancelled { _ = try? await busy.unary("/test.Hygiene/Echo", request: payload) }
                        }
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            // The flood never ends by itself: a starved connection would never get its 40 calls
            // through. One loop thread serves both, so each quiet call waits for a few of the busy
            // connection's read turns (16 reads each): tens of ms when the machine is otherwise idle.
            let worst = try await withTimeout(seconds: 60) {
                var worst = Duration.zero
                for index in 0..<40 {
                    let start = ContinuousClock.now
                    let response = try await quiet.unary("/test.Hygiene/Echo", request: [UInt8(index)]).response
                    worst = max(worst, ContinuousClock.now - start)
                    #expect(response == [UInt8(index)])
                }
                return worst
            }
            flood.cancel()
            await flood.value
            #expect(worst < .seconds(5), "a call on the quiet connection took \(worst) while another connection flooded the loop")
            await busy.close()
            await quiet.close()
        }
    }
}

/// Runs `body`, failing the test if it takes longer than `seconds`.
func withTimeout<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .nanoseconds(Int64(seconds * 1e9)))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw RPCError(.deadlineExceeded, "the test step took more than \(seconds) s")
        }
        return value
    }
}
