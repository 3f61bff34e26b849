import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing
@testable import RPC

/// Counts handlers that saw their task cancelled.
final class CancelCounter: Sendable {
    private let count = Mutex(0)
    /// Sends completed by the Flood handler.
    let completedSends = Atomic<Int>(0)
    /// Sleep handlers that have begun sleeping (so a cancel from now on finds one to cancel).
    let sleepsStarted = Atomic<Int>(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }

    /// Waits up to 10 s for a Sleep handler to be asleep: with other suites busy on the
    /// cooperative pool, it may start late, and a cancel that comes before it reads its
    /// request ends the call without ever reaching the sleep.
    func untilSleeping() async throws {
        for _ in 0..<500 where sleepsStarted.load(ordering: .acquiring) == 0 { try await Task.sleep(for: .milliseconds(20)) }
    }
}

/// Raw-bytes methods that exercise each call kind; the real services are tested end to end
/// with Python grpcio against the server binary (see Tests/e2e).
private func makeTestRouter(cancelledCalls: CancelCounter) -> RPCRouter {
    var router = RPCRouter()
    router.registerUnary(service: "test.Echo", method: "Unary") { request, context, writer in
        if let value = context.requestMetadata["x-echo-initial"] {
            var initial = Metadata()
            initial.add("x-echo-initial", value)
            writer.setInitialMetadata(initial)
        }
        let trailing = context.requestMetadata.binaryValues(forKey: "x-echo-trailing-bin")
        if let first = trailing.first {
            var metadata = Metadata()
            metadata.add("x-echo-trailing-bin", bytes: first)
            writer.setTrailingMetadata(metadata)
        }
        return request
    }
    router.registerUnary(service: "test.Echo", method: "Fail") { _, _, _ in
        throw RPCError(.notFound, "no such thing ☺\n100%")
    }
    router.registerServerStreaming(service: "test.Echo", method: "Count") { request, writer, _ in
        let count = request.reduce(0) { $0 << 8 | Int($1) }
        for index in 0..<count { try await writer.send([UInt8(truncatingIfNeeded: index)]) }
    }
    router.registerClientStreaming(service: "test.Echo", method: "Sum") { requests, _, _ in
        var total = 0
        for try await message in requests { total += message.count }
        return [UInt8(total >> 24 & 0xFF), UInt8(total >> 16 & 0xFF), UInt8(total >> 8 & 0xFF), UInt8(total & 0xFF)]
    }
    router.register(service: "test.Echo", method: "Bidi") { requests, writer, _ in
        for try await message in requests { try await writer.send(message) }
    }
    // Echoes each message with where the handler ran and where a task it started with the
    // context's executor ran.
    router.register(service: "test.Echo", method: "LoopBidi", placement: .connectionLoop) { requests, writer, context in
        for try await message in requests {
            let started = await Task(executorPreference: context.taskExecutor) { currentThreadKind() }.value
            try await writer.send(message + Array(" \(currentThreadKind()) \(started)".utf8))
        }
    }
    router.registerUnary(service: "test.Echo", method: "Sleep") { _, _, _ in
        do {
            cancelledCalls.sleepsStarted.add(1, ordering: .releasing)
            try await Task.sleep(for: .seconds(30))
        } catch {
            cancelledCalls.increment()
            throw error
        }
        return []
    }
    router.registerServerStreaming(service: "test.Echo", method: "Flood") { request, writer, _ in
        // 400 x 64 KiB; counts sends that completed, so a test can see the handler wait.
        for _ in 0..<400 {
            try await writer.send([UInt8](repeating: 1, count: 64 << 10))
            cancelledCalls.completedSends.add(1, ordering: .relaxed)
        }
    }
    // Inline: answers where it decided and where its answer was made, "loop" or "pool"; a
    // request [1] offloads the answer.
    router.registerInlineUnary(service: "test.Echo", method: "Where") { request, _ in
        let decided = currentThreadKind()
        guard request == [1] else { return .response(Array("\(decided) \(decided)".utf8)) }
        return .offload { Array("\(decided) \(currentThreadKind())".utf8) }
    }
    // Like Where, but slower than a trip through the pool (InlineCost.cheapNanos).
    router.registerInlineUnary(service: "test.Echo", method: "SlowWhere") { _, _ in
        let end = ContinuousClock.now + .microseconds(100)
        while ContinuousClock.now < end {}
        let decided = currentThreadKind()
        return .response(Array("\(decided) \(decided)".utf8))
    }
    router.registerInlineUnary(service: "test.Echo", method: "InlineFail") { request, _ in
        throw RPCError(.failedPrecondition, "refused \(request.count) bytes")
    }
    router.registerUnary(service: "test.Echo", method: "Big") { request, _, _ in
        let size = request.reduce(0) { $0 << 8 | Int($1) }
        return [UInt8](repeating: 0xAB, count: size)
    }
    return router
}

/// "loop" on an event-loop thread (the server's: the client's loops are of another group), else "pool".
private func currentThreadKind() -> String {
    MultiThreadedEventLoopGroup.currentEventLoop == nil ? "pool" : "loop"
}

private func sizeBytes(_ value: Int) -> [UInt8] {
    [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
}

/// Runs `body` against a fresh server on a free loopback port.
private func withServer(maxReceiveMessageBytes: Int = 64 << 20,
                        _ body: (GRPCChannel, CancelCounter) async throws -> Void) async throws {
    let cancelled = CancelCounter()
    let configuration = ServerConfiguration(host: "127.0.0.1", port: 0, maxReceiveMessageBytes: maxReceiveMessageBytes,
                                            eventLoopThreads: 1)
    let server = GRPCServer(configuration: configuration, router: makeTestRouter(cancelledCalls: cancelled),
                            logger: Logger(label: "test"))
    try await server.start()
    let port = try #require(server.localPort)
    let channel = try await GRPCChannel.connect(host: "127.0.0.1", port: port)
    do {
        try await body(channel, cancelled)
    } catch {
        await channel.close()
        await server.shutdown(gracePeriod: .seconds(1))
        throw error
    }
    await channel.close()
    await server.shutdown(gracePeriod: .seconds(1))
}

@Suite("RPC server and client over loopback h2c")
struct ServerClientRoundTripTests {
    @Test("unary echo with initial and binary trailing metadata")
    func unaryWithMetadata() async throws {
        try await withServer { channel, _ in
            var metadata = Metadata()
            metadata.add("x-echo-initial", "hello")
            metadata.add("x-echo-trailing-bin", bytes: [0xAB, 0xAB, 0xAB])
            let (response, result) = try await channel.unary("/test.Echo/Unary", request: [1, 2, 3], metadata: metadata)
            #expect(response == [1, 2, 3])
            #expect(result.status.code == .ok)
            #expect(result.initialMetadata["x-echo-initial"] == "hello")
            #expect(result.trailingMetadata.binaryValues(forKey: "x-echo-trailing-bin") == [[0xAB, 0xAB, 0xAB]])
        }
    }

    @Test("a handler's error arrives as its status with the exact message")
    func errorStatus() async throws {
        try await withServer { channel, _ in
            let error = await #expect(throws: RPCError.self) {
                _ = try await channel.unary("/test.Echo/Fail", request: [])
            }
            #expect(error?.code == .notFound)
            #expect(error?.message == "no such thing ☺\n100%")
        }
    }

    @Test("unknown methods and services are UNIMPLEMENTED")
    func unimplemented() async throws {
        try await withServer { channel, _ in
            for path in ["/test.Echo/Nope", "/no.Such/Service"] {
                let error = await #expect(throws: RPCError.self) { _ = try await channel.unary(path, request: []) }
                #expect(error?.code == .unimplemented)
            }
        }
    }

    @Test("server streaming delivers every message in order, past the flow-control window")
    func serverStreaming() async throws {
        try await withServer { channel, _ in
            let call = try await channel.makeCall(path: "/test.Echo/Count")
            try await call.send(sizeBytes(20_000))
            call.closeSend()
            var index = 0
            for try await message in call.responses {
                #expect(message == [UInt8(truncatingIfNeeded: index)])
                index += 1
            }
            #expect(index == 20_000)
            #expect(await call.result().status.code == .ok)
        }
    }

    @Test("a client that stops reading makes the server's send wait (flow control + send buffer)")
    func backpressure() async throws {
        try await withServer { channel, counters in
            let call = try await channel.makeCall(path: "/test.Echo/Flood")
            try await call.send([])
            call.closeSend()
            var iterator = call.responses.makeAsyncIterator()
            _ = try await iterator.next()
            try await Task.sleep(for: .milliseconds(500))
            // In flight at most: the client's read-ahead (4 MiB) + the stream window (1 MiB) +
            // the server's send buffer (1 MiB), about 100 messages of 64 KiB, never all 400.
            let whileStalled = counters.completedSends.load(ordering: .relaxed)
            #expect(whileStalled < 150, "server completed \(whileStalled) of 400 sends while the client was not reading")
            var count = 1
            while try await iterator.next() != nil { count += 1 }
            #expect(count == 400)
        }
    }

    @Test("client streaming sums what was sent")
    func clientStreaming() async throws {
        try await withServer { channel, _ in
            let call = try await channel.makeCall(path: "/test.Echo/Sum")
            var expected = 0
            for size in [27182, 8, 1828, 45904] {
                try await call.send([UInt8](repeating: 1, count: size))
                expected += size
            }
            call.closeSend()
            var responses: [[UInt8]] = []
            for try await message in call.responses { responses.append(message) }
            #expect(responses == [sizeBytes(expected)])
        }
    }

    @Test("bidirectional ping-pong")
    func pingPong() async throws {
        try await withServer { channel, _ in
            let call = try await channel.makeCall(path: "/test.Echo/Bidi")
            var iterator = call.responses.makeAsyncIterator()
            for size in [31415, 9, 2653, 58979] {
                let message = [UInt8](repeating: UInt8(size & 0xFF), count: size)
                try await call.send(message)
                #expect(try await iterator.next() == message)
            }
            call.closeSend()
            #expect(try await iterator.next() == nil)
        }
    }

    @Test("a streaming method placed on the connection's loop runs there, and so do tasks it starts with the context's executor")
    func connectionLoopPlacement() async throws {
        try await withServer { channel, _ in
            let call = try await channel.makeCall(path: "/test.Echo/LoopBidi")
            var replies = call.responses.makeAsyncIterator()
            for round in 0..<3 {
                try await call.send([UInt8(round)])
                #expect(try await replies.next() == [UInt8(round)] + Array(" loop loop".utf8))
            }
            call.closeSend()
            #expect(try await replies.next() == nil)
        }
    }

    @Test("an inline unary handler answers on the connection's loop when alone, on the pool beside another call (unless it is cheaper than the trip), for a while after calls overlapped, or when it offloads")
    func inlineExecution() async throws {
        try await withServer { channel, _ in
            func whereRan(_ request: [UInt8], method: String = "SlowWhere") async throws -> String {
                String(decoding: try await channel.unary("/test.Echo/\(method)", request: request).0, as: UTF8.self)
            }
            #expect(try await whereRan([]) == "loop loop")
            #expect(try await whereRan([], method: "Where") == "loop loop")
            #expect(try await whereRan([1], method: "Where") == "loop pool")
            let open = try await channel.makeCall(path: "/test.Echo/Bidi")
            try await open.send([1])
            var echoes = open.responses.makeAsyncIterator()
            #expect(try await echoes.next() == [1])     // the bidi call is running on the server
            #expect(try await whereRan([]) == "pool pool")
            // Where answers in well under 10 µs: once its average says so, in place beside
            // other calls too (a run the machine slowed down can hold that off for some calls).
            var slowAverage = 0
            while try await whereRan([], method: "Where") != "loop loop", slowAverage < 500 { slowAverage += 1 }
            #expect(slowAverage < 500, "Where never ran in place beside another call")
            #expect(try await whereRan([]) == "pool pool")
            open.closeSend()
            #expect(try await echoes.next() == nil)
            // Its error is the call's status, and the connection serves the next call.
            let error = await #expect(throws: RPCError.self) {
                _ = try await channel.unary("/test.Echo/InlineFail", request: [1, 2, 3])
            }
            #expect(error?.code == .failedPrecondition)
            #expect(error?.message == "refused 3 bytes")
            // Calls were open side by side a moment ago: the next lone calls still run on the
            // pool, then the connection's calls come back to its loop.
            var onPool = 0
            while try await whereRan([]) == "pool pool", onPool <= ServerConnectionHandler.multiplexingMemoryCalls {
                onPool += 1
            }
            #expect(onPool >= 1 && onPool < ServerConnectionHandler.multiplexingMemoryCalls)
            #expect(try await whereRan([]) == "loop loop")
        }
    }

    @Test("an inline unary call with no request message, or with two, ends with INTERNAL")
    func inlineRequestCount() async throws {
        try await withServer { channel, _ in
            for messages in [[[UInt8]](), [[1], [2]]] {
                let call = try await channel.makeCall(path: "/test.Echo/Where")
                for message in messages { try await call.send(message) }
                call.closeSend()
                let status = await call.result().status
                #expect(status.code == .internal)
                #expect(status.message.hasPrefix("expected exactly one request message"))
            }
        }
    }

    @Test("a caller on the channel's executor makes unary calls on the connection's thread")
    func callerOnChannelExecutor() async throws {
        try await withServer { channel, _ in
            try await withTaskExecutorPreference(channel.executor) {
                for round in 0..<50 {
                    let reply = try await channel.unary("/test.Echo/Unary", request: [UInt8(round)])
                    #expect(reply.response == [UInt8(round)])
                    #expect(MultiThreadedEventLoopGroup.currentEventLoop != nil)   // resumed on the client's loop
                }
            }
        }
    }

    @Test("deadline exceeded ends the call and cancels the handler")
    func deadline() async throws {
        try await withServer { channel, cancelled in
            let error = await #expect(throws: RPCError.self) {
                _ = try await channel.unary("/test.Echo/Sleep", request: [], timeout: .milliseconds(100))
            }
            #expect(error?.code == .deadlineExceeded)
            // The server's timer fires too and cancels the sleeping handler.
            // Polls up to 10 s: with other suites busy on the cooperative pool, the handler may start late.
            for _ in 0..<500 where cancelled.value == 0 { try await Task.sleep(for: .milliseconds(20)) }
            #expect(cancelled.value == 1)
        }
    }

    @Test("client cancel reaches the server handler")
    func cancel() async throws {
        try await withServer { channel, cancelled in
            let call = try await channel.makeCall(path: "/test.Echo/Sleep")
            try await call.send([])
            call.closeSend()
            try await cancelled.untilSleeping()
            call.cancel()
            #expect(await call.result().status.code == .cancelled)
            // Polls up to 10 s: with other suites busy on the cooperative pool, the handler may start late.
            for _ in 0..<500 where cancelled.value == 0 { try await Task.sleep(for: .milliseconds(20)) }
            #expect(cancelled.value == 1)
        }
    }

    @Test("cancelling the task of a unary call cancels the call on the server")
    func unaryTaskCancel() async throws {
        try await withServer { channel, cancelled in
            let caller = Task { try await channel.unary("/test.Echo/Sleep", request: []) }
            try await cancelled.untilSleeping()
            caller.cancel()
            let error = await #expect(throws: RPCError.self) { _ = try await caller.value }
            #expect(error?.code == .cancelled)
            // Polls up to 10 s: with other suites busy on the cooperative pool, the handler may start late.
            for _ in 0..<500 where cancelled.value == 0 { try await Task.sleep(for: .milliseconds(20)) }
            #expect(cancelled.value == 1)
        }
    }

    @Test("8 MiB messages both ways")
    func largeMessages() async throws {
        try await withServer { channel, _ in
            let request = [UInt8](repeating: 7, count: 8 << 20)
            let (echo, _) = try await channel.unary("/test.Echo/Unary", request: request)
            #expect(echo == request)
            let (big, _) = try await channel.unary("/test.Echo/Big", request: sizeBytes(8 << 20))
            #expect(big.count == 8 << 20)
        }
    }

    @Test("a request over the server's limit is RESOURCE_EXHAUSTED and the connection survives")
    func oversizeRequest() async throws {
        try await withServer(maxReceiveMessageBytes: 1 << 20) { channel, _ in
            let error = await #expect(throws: RPCError.self) {
                _ = try await channel.unary("/test.Echo/Unary", request: [UInt8](repeating: 0, count: (1 << 20) + 1))
            }
            #expect(error?.code == .resourceExhausted)
            let (echo, _) = try await channel.unary("/test.Echo/Unary", request: [42])
            #expect(echo == [42])
        }
    }

    @Test("200 concurrent calls on one connection")
    func concurrentCalls() async throws {
        try await withServer { channel, _ in
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let request = sizeBytes(index)
                        return try await channel.unary("/test.Echo/Unary", request: request).response == request
                    }
                }
                var successes = 0
                for try await ok in group where ok { successes += 1 }
                #expect(successes == 200)
            }
        }
    }

    @Test("closed connections leave the server's registry: shutdown does not wait out the grace period")
    func shutdownAfterClientsLeave() async throws {
        let server = GRPCServer(configuration: ServerConfiguration(host: "127.0.0.1", port: 0, eventLoopThreads: 1),
                                router: makeTestRouter(cancelledCalls: CancelCounter()), logger: Logger(label: "test"))
        try await server.start()
        let port = try #require(server.localPort)
        for _ in 0..<5 {
            let channel = try await GRPCChannel.connect(host: "127.0.0.1", port: port)
            _ = try await channel.unary("/test.Echo/Unary", request: [1])
            await channel.close()
        }
        // Connections the server closes itself (here: garbage instead of the HTTP/2 preface; not
        // an HTTP/1.1 request line either, which the server would answer as gRPC-Web).
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        for _ in 0..<5 {
            let raw = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get()
            var garbage = raw.allocator.buffer(capacity: 64)
            garbage.writeBytes([0x16, 0x03, 0x01, 0x00, 0x05] + Array(repeating: UInt8(ascii: "z"), count: 40))
            try await raw.writeAndFlush(garbage)
            try await raw.closeFuture.get()
        }
        try await group.shutdownGracefully()
        try await Task.sleep(for: .milliseconds(100))
        let start = ContinuousClock.now
        await server.shutdown(gracePeriod: .seconds(30))
        #expect(ContinuousClock.now - start < .seconds(5))
    }
}
